"""Conflicts: federal instruments against state bills as a matrix and a list (relation, reason,
confidence, force, links to both sides), state-against-state overlaps, and the seeded links."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.views import param, table


def render() -> None:
    st.title("Conflicts")
    key = data.data_key()
    options = data.filter_options(key)
    left, right = st.columns([3, 1])
    default = [s for s in [param("state", "")] if s and s.lower() in options["states"]]
    states = left.multiselect("States", options["states"], default=default, format_func=str.upper,
                              key="conflict_states")
    inactive = right.toggle("Include links that no longer hold", value=False, key="conflict_inactive")
    view = data.conflicts(key, tuple(states), inactive)
    federal, overlaps, seeded, matrix = view["federal"], view["overlaps"], view["seeded"], view["matrix"]
    st.caption(f"{len(federal)} state-federal conflict(s), {len(overlaps)} state-state overlap(s), "
               f"{len(seeded)} seeded link(s). Low-confidence rows are marked [LOW].")
    tab_matrix, tab_list, tab_overlaps, tab_seeded = st.tabs(
        ["Matrix", "Federal vs state", "State vs state", "Seeded links"])
    with tab_matrix:
        if matrix.empty:
            st.info("No derived conflicts stored yet (the detect step fills them after each ingest).")
        else:
            st.caption("Bills per state (rows) and federal instrument (columns).")
            st.dataframe(matrix)
    with tab_list:
        table(federal, key="conflicts-federal")
    with tab_overlaps:
        table(overlaps, key="conflicts-overlaps")
    with tab_seeded:
        st.caption("State laws tied to federal instruments in the reviewed seed file (DOMAIN.md §5).")
        table(seeded, key="conflicts-seeded")
