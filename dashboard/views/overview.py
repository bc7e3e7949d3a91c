"""Overview: key figures, AI bills by state on a tile-grid map, the status funnel and a weekly trend.
Each figure links to the filtered bill list."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import streamlit as st

from dashboard import data
from dashboard.views import as_of


def render() -> None:
    st.title("Overview")
    key = data.data_key()
    today = as_of()
    view = data.overview(key, today)
    figures = view["figures"]
    week = (today - timedelta(days=6)).isoformat()
    cells = [
        ("AI bills this year", figures["ai_bills_this_year"], f"/bills?year={today.year}"),
        ("Enacted", figures["enacted"], "/bills?status=enacted"),
        ("Vetoed", figures["vetoed"], "/bills?status=vetoed"),
        ("Moved this week", figures["moved_this_week"], f"/?since={week}"),
        ("Open conflicts", figures["open_conflicts"], "/conflicts"),
    ]
    for column, (label, value, link) in zip(st.columns(len(cells)), cells, strict=True):
        column.metric(label, f"{value:,}")
        column.markdown(f"[show]({link})")
    st.caption(f"As of {today:%Y-%m-%d}. AI bills: relevance core or adjacent; {figures['ai_bills']:,} in all.")

    left, right = st.columns([3, 2])
    with left:
        st.subheader("AI bills by state", anchor=False)
        measure = st.radio("Show", ["AI bills", "Enacted AI laws"], horizontal=True, key="map_measure")
        field = "ai_bills" if measure == "AI bills" else "enacted"
        grid = view["states"].dropna(subset=["col"])
        pick = alt.selection_point(fields=["state"], name="pick")
        base = alt.Chart(grid).encode(x=alt.X("col:O", axis=None), y=alt.Y("row:O", axis=None))
        tiles = base.mark_rect(stroke="white", strokeWidth=2).encode(
            color=alt.Color(f"{field}:Q", scale=alt.Scale(scheme="blues"), title=measure),
            tooltip=["state:N", "ai_bills:Q", "enacted:Q"]).add_params(pick)
        labels = base.mark_text(fontSize=11).encode(text="state:N")
        event = st.altair_chart((tiles + labels).properties(height=330), key="state_map", width="stretch",
                                on_select="rerun", selection_mode="pick")
        chosen = [p.get("state") for p in (event.selection.get("pick") or []) if isinstance(p, dict)] \
            if event and getattr(event, "selection", None) else []
        if chosen and chosen[0]:
            state = str(chosen[0]).lower()
            st.markdown(f"[Show the AI bills of {state.upper()}](/bills?state={state})")
        st.caption("Click a state for its bills, or: " + " ".join(
            f"[{s}](/bills?state={s.lower()})" for s in grid.sort_values("state")["state"]
            if grid.loc[grid["state"] == s, field].sum() > 0) if (grid[field] > 0).any() else "No AI bills stored yet.")
    with right:
        st.subheader("Status funnel", anchor=False)
        funnel = view["funnel"]
        st.altair_chart(alt.Chart(funnel).mark_bar().encode(
            x=alt.X("bills:Q"), y=alt.Y("status:N", sort=list(funnel["status"])), tooltip=["status", "bills"]
        ).properties(height=330), width="stretch")
    st.subheader("Status changes per week (AI bills, last 12 weeks)", anchor=False)
    trend = view["trend"]
    if trend.empty:
        st.info("No status changes of AI bills in the last 12 weeks.")
    else:
        st.altair_chart(alt.Chart(trend).mark_bar().encode(x=alt.X("week:T"), y="status changes:Q",
                                                           tooltip=["week:T", "status changes:Q"]),
                        width="stretch")
