"""Sources: health of every source from its run records (last run, outcome, counts, errors, next
scheduled run), query budgets, never-seen action strings, the unclassified share, and email digests the
mail server has not accepted."""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from dashboard import data
from dashboard.views import as_of, table


def render() -> None:
    st.title("Sources")
    key = data.data_key()
    now = datetime.combine(as_of(), time(23, 59), UTC)
    view = data.sources(key, now)
    health = view["health"]
    bad = health[(health["overdue"]) | (health["failures in a row"] > 0)] if len(health) else health
    st.caption(f"{len(health)} source(s); {len(bad)} failing or overdue (no success for three of its cadences).")
    table(health, key="sources-health")
    st.subheader("Notes from each source's latest run", anchor=False)
    st.caption("Action strings never seen before in a state (new-strings), actions no rule reads "
               "(unclassified) and records a run could not take. None of them is ever a status alert.")
    table(view["notes"], key="sources-notes")
    left, right = st.columns(2)
    with left:
        st.subheader("Query budgets", anchor=False)
        table(view["usage"], key="sources-usage")
    with right:
        st.subheader("Unclassified share", anchor=False)
        st.caption(f"Over the newest {data.UNCLASSIFIED_WINDOW:,} stored actions.")
        table(view["unclassified"], key="sources-unclassified")
    st.subheader("Email digests not delivered", anchor=False)
    failed = data.digest_failures(key)
    st.caption("Digests the mail server refused or could not be reached for; each is retried first on the "
               "next send, and no newer digest is built over it." if len(failed) else
               "Every digest built so far was accepted by the mail server.")
    if len(failed):
        table(failed, key="sources-digests")
