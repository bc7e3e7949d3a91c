"""The dashboard: `tracker dashboard` (or `streamlit run dashboard/app.py`). Reads the database named by
TRACKER_DATABASE_URL; every page but Subscriptions only reads it; see docs/dashboard.md."""

from __future__ import annotations

import hmac
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # `streamlit run dashboard/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.views import (  # noqa: E402
    AS_OF, bills, changes, conflicts, export, federal, overview, sources, subscriptions)

PAGES = {
    "Today": [st.Page(changes.render, title="What changed", url_path="changes", default=True),
              st.Page(overview.render, title="Overview", url_path="overview")],
    "Legislation": [st.Page(bills.render, title="Bills", url_path="bills"),
                    st.Page(conflicts.render, title="Conflicts", url_path="conflicts"),
                    st.Page(federal.render, title="Federal", url_path="federal")],
    "Data": [st.Page(sources.render, title="Sources", url_path="sources"),
             st.Page(export.render, title="Export", url_path="export"),
             st.Page(subscriptions.render, title="Subscriptions", url_path="subscriptions")],
}


def password() -> str | None:
    """The optional login: `dashboard_password` in .streamlit/secrets.toml. Absent: no login."""
    try:
        value = st.secrets.get("dashboard_password")
    except Exception:  # no secrets file at all
        return None
    return str(value) if value else None


def logged_in() -> bool:
    expected = password()
    if expected is None or st.session_state.get("logged_in"):
        return True
    st.title("Statehouse AI Tracker")
    given = st.text_input("Password", type="password", key="login_password")
    if given:
        if hmac.compare_digest(given.encode(), expected.encode()):
            st.session_state["logged_in"] = True
            st.rerun()
        st.error("Wrong password.")
    return False


def main() -> None:
    st.set_page_config(page_title="Statehouse AI Tracker", layout="wide")
    if not logged_in():
        st.stop()
    if AS_OF not in st.session_state:  # `?as_of=2026-08-02` pins the day (shared links, the browser test)
        try:
            st.session_state[AS_OF] = date.fromisoformat(st.query_params.get(AS_OF, ""))
        except ValueError:
            st.session_state[AS_OF] = datetime.now(UTC).date()
    st.sidebar.date_input("As of", key=AS_OF, help="The day 'yesterday', 'this week' and 'this year' count from.")
    st.navigation(PAGES).run()


main()
