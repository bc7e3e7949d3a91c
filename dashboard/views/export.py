"""Export: download the current view as CSV (the bills view of the Bills page, or what changed, the
conflicts or the federal list). Cells that a spreadsheet would run as a formula are neutralised."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.views import as_of, table
from dashboard.views.bills import FILTERS

DEFAULT_FILTERS = {"states": (), "sessions": (), "statuses": (), "relevance": (), "topic": None, "search": None,
                   "ai_only": True, "year": None}


def spreadsheet_safe(frame):
    """A cell starting with = + - @ (or a tab / CR) would be a formula in Excel: prefix it with '."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(
                lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v)
    return out


def render() -> None:
    st.title("Export")
    key = data.data_key()
    what = st.radio("What", ["Bills (current view)", "What changed (since yesterday)", "Conflicts", "Federal"],
                    key="export_what", horizontal=True)
    if what.startswith("Bills"):
        filters = st.session_state.get(FILTERS, DEFAULT_FILTERS)
        frame, total = data.bills(key, **filters, limit=5_000)
        st.caption(f"{len(frame):,} of {total:,} bills in the Bills page's current view (at most 5,000).")
        name = "bills"
    elif what.startswith("What"):
        since = datetime.combine(as_of() - timedelta(days=1), time(), UTC)
        frame, name = data.changes(key, since), "changes"
    elif what == "Conflicts":
        frame, name = data.conflicts(key)["federal"], "conflicts"
    else:
        frame, name = data.federal(key), "federal"
    safe = spreadsheet_safe(frame)
    st.download_button("Download CSV", safe.to_csv(index=False).encode("utf-8"), file_name=f"{name}.csv",
                       mime="text/csv", key="export_csv")
    st.caption("CSV for now; the XLSX exporter of the digests work (tracker/deliver) will replace it.")
    table(frame.head(50), key="export-preview")
