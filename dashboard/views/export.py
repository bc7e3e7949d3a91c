"""Export: download the current view (the Bills page's filters, what changed since yesterday, the
conflicts or the federal list) as CSV or XLSX, written by the project's exporter
(tracker/deliver/exports.py: formula injection neutralised, UTC times, stable columns)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.views import as_of, table
from dashboard.views.bills import FILTERS
from tracker.deliver.exports import write_rows

DEFAULT_FILTERS = {"states": (), "sessions": (), "statuses": (), "relevance": (), "topic": None, "search": None,
                   "ai_only": True, "year": None}
EXPORT_LIMIT = 5_000


def export_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The rows as shown, as CSV or XLSX bytes (empty cells for missing values)."""
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    out = io.BytesIO()
    write_rows(records, list(frame.columns), out, fmt, sheet="dashboard")
    return out.getvalue()


def render() -> None:
    st.title("Export")
    key = data.data_key()
    what = st.radio("What", ["Bills (current view)", "What changed (since yesterday)", "Conflicts", "Federal"],
                    key="export_what", horizontal=True)
    if what.startswith("Bills"):
        filters = st.session_state.get(FILTERS, DEFAULT_FILTERS)
        frame, total = data.bills(key, **filters, limit=EXPORT_LIMIT)
        st.caption(f"{len(frame):,} of {total:,} bills in the Bills page's current view (at most {EXPORT_LIMIT:,}).")
        name = "bills"
    elif what.startswith("What"):
        since = datetime.combine(as_of() - timedelta(days=1), time(), UTC)
        frame, name = data.changes(key, since).drop(columns=["low_information"]), "changes"
        st.caption(f"{len(frame):,} change(s) since {since:%Y-%m-%d}.")
    elif what == "Conflicts":
        frame, name = data.conflicts(key)["federal"], "conflicts"
    else:
        frame, name = data.federal(key), "federal"
    csv_column, xlsx_column = st.columns(2)
    # Written when clicked (a callable), not on every rerun.
    csv_column.download_button("Download CSV", lambda: export_bytes(frame, "csv"), file_name=f"{name}.csv",
                               mime="text/csv", key="export_csv")
    xlsx_column.download_button("Download XLSX", lambda: export_bytes(frame, "xlsx"), file_name=f"{name}.xlsx",
                                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                key="export_xlsx")
    st.caption("Cells a spreadsheet would run as a formula (starting with = + - @, tab, CR or LF) get a leading '.")
    table(frame.head(50), key="export-preview")
