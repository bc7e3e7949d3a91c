"""Subscriptions: the email digest's subscribers, managed here as with `tracker subscribe` (add or change
filters, pause, resume, remove), through tracker.deliver.subscriptions: the same validation (no header
injection, real time zones, known statuses), the same opaque token, never shown."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.views import md, table
from tracker import db as database
from tracker.deliver.subscriptions import (SubscriptionError, add_subscriber, remove_subscriber, set_paused)
from tracker.vocab import BillStatus

RELEVANCE = ["core", "adjacent", "incidental", "not_ai"]
NOTICE = "subscriptions_notice"


def _write(action) -> None:
    """Run one change in its own transaction; a refused one is shown, escaped, and changes nothing."""
    engine = data.engine(data.database_url())
    try:
        with database.session_scope(engine) as db:
            st.session_state[NOTICE] = ("success", action(db))
    except SubscriptionError as exc:
        st.session_state[NOTICE] = ("error", str(exc))


def render() -> None:
    st.title("Subscriptions")
    st.caption("Who gets the email digest and what it covers. Empty filters match everything, except AI "
               "relevance (default core). A new subscriber starts after the events already stored.")
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        (st.success if notice[0] == "success" else st.error)(md(notice[1]))
    key = data.data_key()
    frame = data.subscribers(key)
    table(frame, key="subscribers-table")
    options = data.filter_options(key)
    with st.form("subscribe_add", clear_on_submit=True):
        st.subheader("Add a subscriber, or change one's filters", anchor=False)
        email = st.text_input("Email", key="sub_email")
        left, right = st.columns(2)
        states = left.multiselect("States", options["states"], format_func=str.upper, key="sub_states")
        topics = right.multiselect("Topics", options["topics"])
        statuses = left.multiselect("Statuses", [s.value for s in BillStatus])
        relevance = right.multiselect("AI relevance", RELEVANCE, default=["core"])
        bills = st.text_input("Follow these bills on every change (keys, comma-separated)", key="sub_bills")
        frequency = left.selectbox("Frequency", ["daily", "weekly"], key="sub_frequency")
        timezone = right.text_input("Time zone (IANA)", value="UTC", key="sub_timezone")
        federal = st.checkbox("Also federal instruments")
        if st.form_submit_button("Save"):
            def add(db):
                subscriber, created = add_subscriber(
                    db, email=email, states=states, topics=topics, statuses=statuses, relevance=relevance,
                    bills=[b for b in bills.split(",") if b.strip()], federal=federal, frequency=frequency,
                    timezone=timezone)
                return f"{'added' if created else 'updated'} {subscriber.email}"
            _write(add)
            st.rerun()
    if frame.empty:
        return
    st.subheader("Pause, resume or remove", anchor=False)
    labels = {int(row.id): f"#{row.id} {row.email} ({row.state})" for row in frame.itertuples()}
    chosen = st.selectbox("Subscriber", list(labels), format_func=labels.get, key="subscriber_chosen")
    pause, resume, remove = st.columns(3)
    if pause.button("Pause", key="subscriber_pause"):
        _write(lambda db: f"paused #{set_paused(db, chosen, True).id}")
        st.rerun()
    if resume.button("Resume", key="subscriber_resume"):
        _write(lambda db: f"resumed #{set_paused(db, chosen, False).id}")
        st.rerun()
    if remove.button("Remove", key="subscriber_remove"):
        _write(lambda db: f"removed #{chosen}" if remove_subscriber(db, chosen) else f"no subscriber #{chosen}")
        st.rerun()
