"""What changed (the landing page): stored status changes, new AI bills, relevance, conflict and
lifecycle events and federal moves since yesterday or a chosen date, grouped by day and state."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from dashboard import data
from dashboard.views import as_of, md, param, params, table


def render() -> None:
    st.title("What changed")
    key = data.data_key()
    today = as_of()
    try:
        default_since = date.fromisoformat(param("since", "")) if param("since") else today - timedelta(days=1)
    except ValueError:
        default_since = today - timedelta(days=1)
    options = data.filter_options(key)
    left, middle, right, far = st.columns([1, 2, 1, 1])
    since = left.date_input("Since", value=default_since, key="changes_since",
                            help="Detected on or after this day (UTC). Default: yesterday.")
    chosen = [s for s in params("state") if s.lower() in options["states"] + ["us"]]
    states = middle.multiselect("States", ["us", *options["states"]], default=[s.lower() for s in chosen],
                                format_func=str.upper, key="changes_states")
    ai_only = right.toggle("AI bills only", value=True, key="changes_ai_only")
    include_low = far.toggle("Low-information too", value=False, key="changes_low",
                             help="Printing, calendar placement, first sightings of non-AI bills, the same "
                                  "change delivered again: left out by default.")
    frame = data.changes(key, datetime.combine(since, time(), UTC), tuple(states), ai_only, include_low)
    st.caption(f"{len(frame)} change(s) detected since {since:%Y-%m-%d} (UTC), newest day first"
               + ("" if include_low else "; low-information changes left out") + ". Every row links to the "
               "bill's page and to the official source it was read from, with the fetch time.")
    if frame.empty:
        st.info(f"Nothing changed since {since:%Y-%m-%d}. Pick an earlier day above.")
        return
    shown = frame.drop(columns=["low_information"])
    for day, rows in list(shown.groupby("day", sort=False))[:31]:
        states_here = ", ".join(sorted(set(rows["state"])))
        st.subheader(f"{day}", anchor=False)
        st.markdown(md(f"{len(rows)} change(s) in {states_here}"))
        table(rows.drop(columns=["day"]).sort_values("state", kind="stable"), key=f"changes-{day}")
