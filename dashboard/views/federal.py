"""Federal: the timeline of federal instruments and federal AI bills with status, stance, carve-outs and
force (law, proposed, directed); low-confidence items are marked [LOW] and flagged."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import data
from dashboard.views import table


def render() -> None:
    st.title("Federal")
    key = data.data_key()
    frame = data.federal(key)
    left, middle, right = st.columns(3)
    kinds = left.multiselect("Kind", sorted(set(frame["kind"])), key="federal_kinds")
    low_only = middle.toggle("Low confidence only", value=False, key="federal_low")
    drafts = right.toggle("Include drafts and withdrawn", value=True, key="federal_drafts")
    if kinds:
        frame = frame[frame["kind"].isin(kinds)]
    if low_only:
        frame = frame[frame["low confidence"]]
    if not drafts:
        frame = frame[~frame["draft"] & (frame["status"] != "withdrawn")]
    low = int(frame["low confidence"].sum())
    st.caption(f"{len(frame)} instrument(s); {low} of low confidence, marked [LOW]. Force is 'law' only for an "
               "enacted bill or a final rule in force; everything else is 'proposed' or 'directed' and does not "
               "displace state law by itself.")
    dated = frame.dropna(subset=["date"])
    if not dated.empty:
        st.altair_chart(alt.Chart(dated).mark_point(filled=True, size=90).encode(
            x=alt.X("date:T"), y=alt.Y("kind:N"), color=alt.Color("low confidence:N"),
            shape="low confidence:N", tooltip=["date:T", "key:N", "title:N", "status:N", "force:N", "confidence:N"]
        ).properties(height=260), width="stretch")
    table(frame, key="federal-table")
