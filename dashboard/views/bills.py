"""Bills: a searchable, filterable table (AI bills by default) and, with `?bill=<key>`, one bill's page:
the action timeline with the layer that classified each line, the status with its basis and confidence,
sources with fetch times, versions, similar bills, conflicts and lifecycle events."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.views import md, param, params, table

FILTERS = "bills_filters"  # the current view, which the Export page downloads


def render() -> None:
    bill_key = param("bill")
    if bill_key:
        render_bill(bill_key)
        return
    st.title("Bills")
    key = data.data_key()
    options = data.filter_options(key)
    top = st.columns([3, 1])
    search = top[0].text_input("Search title or number", value=param("q", ""), key="bills_search")
    all_bills = top[1].toggle("All bills, not only AI bills", value=param("all") == "1", key="bills_all")
    row = st.columns(5)
    states = row[0].multiselect("State", options["states"], format_func=str.upper, key="bills_states",
                                default=[s.lower() for s in params("state") if s.lower() in options["states"]])
    sessions = row[1].multiselect("Session", options["sessions"], key="bills_sessions",
                                  default=[s for s in params("session") if s in options["sessions"]])
    statuses = row[2].multiselect("Status", options["statuses"], key="bills_statuses",
                                  default=[s for s in params("status") if s in options["statuses"]])
    relevance = row[3].multiselect("AI relevance", ["core", "adjacent", "incidental", "not_ai"],
                                   key="bills_relevance", default=[r for r in params("relevance")
                                                                   if r in ("core", "adjacent", "incidental", "not_ai")])
    topic = row[4].selectbox("Topic", ["", *options["topics"]], key="bills_topic",
                             index=([""] + options["topics"]).index(param("topic", "")) if param("topic", "")
                             in options["topics"] else 0)
    year = param("year")
    filters = {"states": tuple(states), "sessions": tuple(sessions), "statuses": tuple(statuses),
               "relevance": tuple(relevance), "topic": topic or None, "search": search or None,
               "ai_only": not all_bills, "year": int(year) if year and year.isdigit() else None}
    st.session_state[FILTERS] = filters
    frame, total = data.bills(key, **filters)
    scope = "bills" if all_bills else "AI bills (relevance core or adjacent)"
    st.caption(f"{total:,} {scope} match" + (f" (introduced or moved since {year})" if filters["year"] else "")
               + (f"; showing the {len(frame)} with the latest status" if total > len(frame) else "")
               + ". Statuses resting on the source's own labels say [upstream labels]; basis confidence L is "
               "marked [LOW].")
    table(frame, key="bills-table")


def _section(title: str, frame, empty: str, key: str) -> None:
    st.subheader(title, anchor=False)
    if frame.empty:
        st.caption(empty)
    else:
        table(frame, key=key)


def render_bill(bill_key: str) -> None:
    key = data.data_key()
    view = data.bill(key, bill_key)
    st.markdown("[All bills](/bills)")
    if view is None:
        st.title("Bill not found")
        st.text(f"No stored bill has the key {data.text(bill_key)[:200]}.")
        return
    b = view["bill"]
    st.title(f"{b['state']} {b['identifier']} ({b['session']})", anchor=False)
    st.markdown(md(b["title"]))
    if b["summary"]:
        st.caption(md(b["summary"][:1500]))
    status, basis, relevance = st.columns(3)
    status.metric("Status", b["status"], help=f"since {b['status_date']}" if b["status_date"] else None)
    basis.metric("Basis (confidence)", f"{b['basis'] or 'none'} ({b['confidence']})", help=b["basis_text"])
    relevance.metric("AI relevance", b["ai_relevance"] or "not assessed",
                     help=f"score {b['ai_score']:.2f}" if b["ai_score"] is not None else None)
    if b["basis"] == "upstream":
        st.warning("This status rests on the source's own labels, not on our rules.")
    if b["low_confidence"]:
        st.warning("Low confidence [LOW]: no action decided this status.")
    facts = [f"Status date: {b['status_date'] or 'unknown'}", f"Law status: {b['law_status'] or '-'}",
             f"Chapter: {b['chapter'] or '-'}", f"Topics: {', '.join(b['topics']) or '-'}",
             f"AI evidence: {'; '.join(b['ai_evidence'][:5]) or '-'}",
             f"Source: {b['source_id']}, fetched {b['fetched']}"]
    st.markdown("  \n".join(md(fact) for fact in facts))
    if b["source_url"]:
        st.link_button("Official source", b["source_url"])
    _section("Action timeline", view["actions"], "No actions stored.", "bill-actions")
    _section("Status history", view["history"], "No status changes recorded.", "bill-history")
    _section("Sources", view["sources"], "No per-source records.", "bill-sources")
    _section("Versions and text", view["versions"], "No text versions stored.", "bill-versions")
    _section("Similar bills", view["similar"], "No similar bills computed yet.", "bill-similar")
    _section("Conflicts", view["conflicts"], "No conflicts recorded.", "bill-conflicts")
    _section("Law lifecycle", view["lifecycle"], "No lifecycle events.", "bill-lifecycle")
    _section("Events", view["events"], "No relevance, conflict or lifecycle events.", "bill-events")
