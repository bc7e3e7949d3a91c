"""The dashboard (issue 12): every page through Streamlit's AppTest on a database built with the tracker's
own migrations from real files (VA 2024 AI slice, Georgia's 2026 special session, the federal seed), plus
derived rows inserted the way tracker/detect writes them. "Today" is pinned through the sidebar's "As of"
date, and every stored timestamp is pinned, so neither the wall clock nor --fake-now matters."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
import streamlit as st
from sqlalchemy import select, text, update
from streamlit.testing.v1 import AppTest

from tests.conftest import FETCHED, SESSION_FETCHED, ROOT, shared_file
from tracker import db as database
from tracker.config import get_settings
from tracker.models import (
    Bill,
    BillEvent,
    Conflict,
    FederalInstrument,
    InstrumentChange,
    LawEvent,
    SimilarBill,
    StatusChange,
)

APP = ROOT / "dashboard" / "app.py"
TODAY = date(2026, 8, 2)  # the pinned "As of" day: "since yesterday" is 2026-08-01
CHANGED = datetime(2026, 8, 1, 6, tzinfo=UTC)  # when the VA changes were detected (pinned)
EARLIER = datetime(2026, 7, 20, 9, tzinfo=UTC)  # the federal seed load (pinned)
TIMEOUT = 30  # AppTest's 3-second default is too short for a database page on a shared CI machine
HOSTILE = ("Artificial intelligence <script>alert(1)</script> <img src=x onerror=alert(2)> "
           "[click me](javascript:alert(3)) \x1b[31mred\x1b[0m **bold** act")


def _ingest_va_hostile(engine, folder):
    """A VA file with a hostile title, stored through the real parser and ingest path."""
    from scrapers import get_source
    from tracker.runs import run_batch

    header = ('"Bill_id","Bill_description","Patron_id","Patron_name","Introduction_date","Chapter_id",'
              '"Passed_house","Passed_senate","Passed","Failed","Carried_over","Approved","Vetoed"\n')
    (folder / "h_241_Bills.csv").write_text(
        header + f'"HB1","{HOSTILE}","H1","P","01/04/24","","N","N","N","N","N","N","N"\n', encoding="utf-8")
    (folder / "h_241_History.csv").write_text(
        '"Bill_id","History_date","History_description","History_refid"\n'
        '"HB1","01/04/24","H Prefiled and ordered printed; offered 01/10/24 <b>x</b>",""\n'
        '"HB1","01/10/24","H Referred to Committee on Communications, Technology and Innovation",""\n',
        encoding="utf-8")
    batch = get_source("va-lis").read_path(folder / "h_241_Bills.csv", fetched_at=FETCHED)
    return run_batch(engine, "va-lis", batch, kind="ingest")


@pytest.fixture(scope="session")
def dashboard_db(tmp_path_factory):
    """One migrated SQLite database for both dashboard test files (built once: ~3 s); read-only to them."""
    from scrapers import get_source
    from tracker.detect.relevance import classify_relevance
    from tracker.federal import load_seed
    from tracker.runs import run_batch

    va = shared_file("fixtures/states/va/AI_SLICE_241_Bills.csv")
    ga = shared_file("fixtures/states/openstates_sessions/ga_2026_ss.jsonl.gz")
    folder = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{folder / 'tracker.db'}"
    database.upgrade(url)
    engine = database.get_engine(url)
    assert run_batch(engine, "va-lis", get_source("va-lis").read_path(va, fetched_at=FETCHED), kind="ingest").ok
    assert run_batch(engine, "openstates-json", get_source("openstates-json").read_path(
        ga, fetched_at=SESSION_FETCHED), kind="ingest").ok
    assert _ingest_va_hostile(engine, folder).ok
    with database.session_scope(engine) as db:
        load_seed(db)
    with database.session_scope(engine) as db:
        # AI relevance as tracker/detect computes it, from the stored titles.
        for bill in db.execute(select(Bill)).scalars():
            found = classify_relevance(bill.title, bill.summary)
            bill.ai_relevance, bill.ai_score = found.tier, found.score
        db.execute(update(StatusChange).values(detected_at=CHANGED))
        db.execute(update(BillEvent).values(detected_at=CHANGED))  # what the ingest's own detect step wrote
        db.execute(update(InstrumentChange).values(detected_at=EARLIER))
        bills = {b.key: b for b in db.execute(select(Bill)).scalars()}
        instruments = {i.key: i for i in db.execute(select(FederalInstrument)).scalars()}
        ga_bill = next(b for k, b in bills.items() if k.startswith("ga-"))
        enacted = bills["va-2024-SB487"]
        # A low-information change (calendar placement) of an AI bill: hidden by default.
        db.add(StatusChange(bill_id=bills["va-2024-HB747"].id, old_status="in_committee", new_status="in_committee",
                            old_label="in_committee", new_label="in_committee", action_date=date(2024, 1, 30),
                            cause="Placed on Calendar", basis="state", source_id="va-lis",
                            source_url="https://legacylis.virginia.gov/cal", fetched_at=FETCHED,
                            fingerprint="calendar-1", detected_at=datetime(2026, 8, 1, 7, tzinfo=UTC)))
        # A real move whose wording mentions the calendar: never low-information.
        db.add(StatusChange(bill_id=bills["va-2024-SB385"].id, old_status="in_committee",
                            new_status="passed_committee", old_label="in_committee", new_label="passed_committee",
                            action_date=date(2024, 2, 1), cause="Reported from Education and placed on calendar",
                            basis="state", source_id="va-lis", source_url="https://legacylis.virginia.gov/cal2",
                            fetched_at=FETCHED, fingerprint="calendar-2",
                            detected_at=datetime(2026, 8, 1, 7, 30, tzinfo=UTC)))
        eo = instruments["draft:2025-11-eo-state-ai-laws"]
        db.add(Conflict(link_key="t-federal", bill_id=bills["va-2024-HB747"].id, instrument_id=eo.id,
                        relation="named_target", reason="The draft order names high-risk AI acts like this one.",
                        confidence="L", force="directed", origin="derived", version="t",
                        source_url="https://www.whitehouse.gov/x", first_seen_at=CHANGED, updated_at=CHANGED))
        db.add(Conflict(link_key="t-overlap", bill_id=bills["va-2024-SB487"].id, other_bill_id=ga_bill.id,
                        relation="overlaps", reason="Both set up an AI study commission.", confidence="M",
                        origin="derived", version="t", first_seen_at=CHANGED, updated_at=CHANGED))
        db.add(SimilarBill(bill_id=bills["va-2024-HB747"].id, similar_id=bills["va-2024-SB164"].id, score=0.4321,
                           basis="title", shared=["artificial intelligence developer"], version="t",
                           computed_at=CHANGED))
        db.add(LawEvent(event_key="t-delayed", bill_id=enacted.id, event="delayed", event_date=date(2026, 6, 1),
                        effective_after=date(2027, 1, 1), source_url="https://law.lis.virginia.gov/x",
                        confidence="L", origin="seed", note="Delayed by a later act", created_at=CHANGED))
        hostile = bills["va-2024-HB1"]
        events = [
            BillEvent(bill_id=hostile.id, kind="relevance", old_value=None, new_value="core",
                      reason="a new AI bill: matched artificial intelligence", fingerprint="e1",
                      source_url=hostile.source_url, detected_at=datetime(2026, 8, 1, 8, tzinfo=UTC)),
            BillEvent(bill_id=bills["va-2024-HB747"].id, kind="conflict", old_value=None,
                      new_value="named_target draft:2025-11-eo-state-ai-laws",
                      reason="new conflict: The draft order names high-risk AI acts like this one.",
                      detail={"link_key": "t-federal", "change": "new", "confidence": "L"}, fingerprint="e2",
                      source_url="https://www.whitehouse.gov/x", detected_at=datetime(2026, 8, 1, 9, tzinfo=UTC)),
            BillEvent(bill_id=enacted.id, kind="lifecycle", old_value="pending_effective", new_value="delayed",
                      reason="delayed until 2027-01-01", fingerprint="e3",
                      source_url="https://law.lis.virginia.gov/x", detected_at=datetime(2026, 8, 1, 10, tzinfo=UTC)),
        ]
        db.add_all(events)
    return url


@pytest.fixture
def dash(dashboard_db, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", dashboard_db)
    get_settings.cache_clear()
    st.cache_data.clear()
    yield dashboard_db
    get_settings.cache_clear()


def _page_script(name: str) -> None:
    import importlib

    importlib.import_module(f"dashboard.views.{name}").render()


def page(name: str, **query) -> AppTest:
    at = AppTest.from_function(_page_script, args=(name,), default_timeout=TIMEOUT)
    at.session_state["as_of"] = TODAY
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def frames(at: AppTest) -> list:
    return [element.value for element in at.dataframe]


def frame_with(at: AppTest, column: str):
    return next(frame for frame in frames(at) if column in frame.columns)


def all_text(at: AppTest) -> str:
    """Every string the page sent: markdown, captions, titles, metrics and every table cell."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "text", "info", "warning")
             for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for frame in frames(at):
        parts.append(frame.to_csv(index=False))
    return "\n".join(str(p) for p in parts)


def test_landing_page_is_what_changed_since_yesterday_grouped_by_day_and_state(dash):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["as_of"] = TODAY
    at.run()
    assert not at.exception
    assert at.title[0].value == "What changed"
    assert at.date_input(key="changes_since").value == date(2026, 8, 1)
    days = [h.value for h in at.subheader]
    assert days == ["2026-08-01"]  # one group per detection day, states within it
    (frame,) = frames(at)
    assert list(frame["state"]) == sorted(frame["state"]) and {"GA", "VA"} <= set(frame["state"])
    rows = {(r["state"], r["bill"], r["what"]) for f in frames(at) for r in f.to_dict("records")}
    assert ("VA", "va-2024-HB249", "new AI bill") in rows  # first sighting of an AI bill: one row, not two
    assert sum(r["bill"] == "va-2024-HB249" for f in frames(at) for r in f.to_dict("records")) == 1
    assert ("VA", "va-2024-HB1", "new AI bill") in rows  # a relevance event
    assert ("VA", "va-2024-HB747", "conflict") in rows and ("VA", "va-2024-SB487", "law lifecycle") in rows
    assert not any(state == "US" for state, _, _ in rows)  # the federal seed was loaded before yesterday
    sample = next(r for f in frames(at) for r in f.to_dict("records")
                  if r["bill"] == "va-2024-HB249" and r["what"] == "new AI bill")
    assert sample["page"] == "/bills?bill=va-2024-HB249"
    assert sample["source"].startswith("https://legacylis.virginia.gov/") and sample["fetched"] == "2026-08-01 00:00Z"
    assert sample["change"].startswith("new: failed/died_in_committee; AI relevance ")
    assert sample["basis / confidence"] == "state (H)"
    assert sample["dated"] == date(2024, 2, 13)  # the deciding action's day
    # The calendar placement is low-information: left out until asked for.
    assert "Placed on Calendar" not in all_text(at)
    assert "Reported from Education and placed on calendar" in all_text(at)
    at.toggle(key="changes_low").set_value(True).run()
    assert "Placed on Calendar" in all_text(at)


def test_changes_since_a_chosen_date_and_per_state(dash):
    at = page("changes")
    at.date_input(key="changes_since").set_value(date(2026, 7, 1)).run()
    rows = [r for f in frames(at) for r in f.to_dict("records")]
    federal = [r for r in rows if r["state"] == "US"]
    assert federal and all(r["page"] == "/federal" for r in federal)
    assert any("[LOW]" in r["basis / confidence"] for r in federal)
    at.multiselect(key="changes_states").set_value(["ga"]).run()
    rows = [r for f in frames(at) for r in f.to_dict("records")]
    assert rows and {r["state"] for r in rows} == {"GA"}
    at.date_input(key="changes_since").set_value(date(2026, 8, 2)).run()
    assert not frames(at) and "Nothing changed since 2026-08-02" in at.info[0].value


def test_overview_figures_map_funnel_and_links(dash):
    engine = database.get_engine(dash)
    with engine.connect() as conn:
        ai = conn.execute(text("select count(*) from bill where ai_relevance in ('core','adjacent')")).scalar()
        enacted = conn.execute(text("select count(*) from bill where ai_relevance in ('core','adjacent') "
                                    "and status = 'enacted'")).scalar()
    at = page("overview")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Enacted"] == f"{enacted:,}" and enacted >= 1
    assert metrics["Open conflicts"] == "2"
    assert metrics["Vetoed"] == "0"
    assert f"{ai:,} in all" in at.caption[0].value
    links = " ".join(m.value for m in at.markdown)
    assert "(/bills?status=enacted)" in links and "(/bills?year=2026)" in links
    assert "(/conflicts)" in links and "(/?since=2026-07-27)" in links
    assert "(/bills?state=va)" in " ".join(c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) >= 2  # the tile-grid map and the funnel, Altair, offline


def test_bills_table_ai_only_by_default_with_filters_and_switch(dash):
    at = page("bills")
    (frame,) = frames(at)
    assert set(frame["AI relevance"].str.split(" ").str[0]) <= {"core", "adjacent"}
    assert "va-2024-HB747" in set(frame["bill"]) and frame["source"].notna().all()
    ai_total = len(frame)
    at.toggle(key="bills_all").set_value(True).run()
    (everything,) = frames(at)
    assert len(everything) > ai_total and any(b.startswith("ga-") for b in everything["bill"])
    at.multiselect(key="bills_states").set_value(["va"]).run()
    assert set(frames(at)[0]["state"]) == {"VA"}
    at.text_input(key="bills_search").set_value("synthetic media").run()
    assert set(frames(at)[0]["bill"]) == {"va-2024-HB697", "va-2024-SB571"}
    filtered = page("bills", status="enacted", state="va")
    assert list(frames(filtered)[0]["bill"]) == ["va-2024-SB487"]
    assert "status basis" in frame.columns and frame["status basis"].str.match(r"\w+ \((H|M|L \[LOW\])\)").all()


def test_bill_page_timeline_status_basis_sources_and_links(dash):
    at = page("bills", bill="va-2024-HB747")
    assert not at.exception
    assert at.title[0].value == "VA HB 747 (2024)"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Basis (confidence)"].endswith("(H)") or metrics["Basis (confidence)"].endswith("(M)")
    sections = [s.value for s in at.subheader]
    assert sections[:3] == ["Action timeline", "Status history", "Sources"]
    actions, history, sources, similar, conflicts = (
        frame_with(at, column) for column in ("classified by", "from", "its status", "shared passages", "force"))
    engine = database.get_engine(dash)
    with engine.connect() as conn:
        stored = conn.execute(text("select text, class_layer from action join bill on bill.id = action.bill_id "
                                   "where bill.key = 'va-2024-HB747' order by position")).all()
    assert list(actions["text"]) == [t for t, _ in stored]
    assert list(actions["classified by"]) == [layer for _, layer in stored]
    assert history["source"].str.startswith("https://").all() and (history["fetched"] == "2026-08-01 00:00Z").all()
    assert list(sources["source"]) == ["va-lis"]
    assert similar.iloc[0]["bill"] == "va-2024-SB164" and similar.iloc[0]["score"] == 0.432
    assert "artificial intelligence developer" in similar.iloc[0]["shared passages"]
    assert conflicts.iloc[0]["confidence"] == "L [LOW]" and conflicts.iloc[0]["force"] == "directed"
    law = page("bills", bill="va-2024-SB487")
    lifecycle = frame_with(law, "review")
    assert lifecycle.iloc[0]["event"] == "delayed" and lifecycle.iloc[0]["confidence"] == "L [LOW]"
    missing = page("bills", bill="va-2024-HB999999")
    assert missing.title[0].value == "Bill not found"


def test_conflicts_matrix_list_overlaps_and_seeded_links(dash):
    at = page("conflicts")
    assert not at.exception
    matrix, federal, overlaps, seeded = frames(at)
    assert matrix.loc["VA", "draft:2025-11-eo-state-ai-laws"] == 1
    row = federal.iloc[0]
    assert (row["bill"], row["relation"], row["confidence"], row["force"]) == (
        "va-2024-HB747", "named_target", "L [LOW]", "directed")
    assert row["page"] == "/bills?bill=va-2024-HB747" and row["source"] == "https://www.whitehouse.gov/x"
    assert overlaps.iloc[0]["against"].startswith("ga-") and overlaps.iloc[0]["confidence"] == "M"
    assert len(seeded) == 27 and seeded["confidence"].str.contains(r"\[LOW\]").any()


def test_federal_timeline_marks_low_confidence_and_keeps_the_withdrawn_order(dash):
    at = page("federal")
    assert not at.exception
    (frame,) = frames(at)
    order = frame[frame["key"] == "draft:2026-05-frontier-review-eo"].iloc[0]
    assert order["status"] == "withdrawn" and "pre-release security review" in order["title"]
    low = frame[frame["low confidence"]]
    assert len(low) and low["confidence"].str.endswith("[LOW]").all()
    assert set(frame["force"].str.split(" ").str[0]) <= {"law", "proposed", "directed"}
    assert "of low confidence, marked [LOW]" in at.caption[0].value
    at.toggle(key="federal_low").set_value(True).run()
    assert frames(at)[0]["low confidence"].all()


def test_sources_page_shows_health_notes_and_unclassified_share(dash):
    at = page("sources")
    assert not at.exception
    health, notes, usage, unclassified = frames(at)
    va = health[health["source"] == "va-lis"].iloc[0]
    assert va["outcome"] == "ok" and va["kind"] == "ingest" and va["inserted"] == 1
    assert set(unclassified["state"]) >= {"VA", "GA"} and unclassified["share"].between(0, 1).all()
    assert list(usage.columns) == ["source", "period", "queries", "refused", "blocked"]
    assert list(notes.columns)[:3] == ["source", "run", "kind"]


def test_subscriptions_are_managed_from_the_dashboard_and_failed_digests_shown_on_sources(dash):
    from tracker.deliver.subscriptions import find_subscriber
    from tracker.models import DigestOutbox

    at = page("subscriptions")
    assert not at.exception and frames(at)[0].empty
    at.text_input(key="sub_email").input("Policy@Example.org")
    at.multiselect(key="sub_states").select("va")
    at.selectbox(key="sub_frequency").select("weekly")
    at.text_input(key="sub_timezone").input("America/New_York")
    at.button[0].click().run()
    assert not at.exception
    assert "added Policy@Example.org" in " ".join(e.value for e in at.success).replace("\\", "")  # md-escaped
    (row,) = frames(at)[0].to_dict("records")
    assert (row["email"], row["frequency"], row["time zone"], row["state"]) == (
        "Policy@Example.org", "weekly", "America/New_York", "active")
    assert "token" not in " ".join(frames(at)[0].columns) and "states va" in row["filters"]
    at.button(key="subscriber_pause").click().run()
    assert frames(at)[0].iloc[0]["state"] == "paused"
    with database.session_scope(database.get_engine(dash)) as db:
        subscriber = find_subscriber(db, "policy@example.org")
        assert subscriber.paused and subscriber.timezone == "America/New_York"
        db.add(DigestOutbox(subscriber_id=subscriber.id, window="daily:2026-08-02", message_id="<m@x>",
                            subject="s", cursor_from={}, cursor_to={}, items=0, message="", status="failed",
                            attempts=2, last_error="SMTP refused: 554 <script>no</script>"))
    sources = page("sources")
    failed = frame_with(sources, "attempts")
    assert list(failed["attempts"]) == [2] and "<script>" in failed.iloc[0]["last error"]  # a grid cell: text
    # A refused change (header injection) is shown and changes nothing.
    at = page("subscriptions")
    at.text_input(key="sub_email").input("a@b.org\r\nBcc: victim@example.org")
    at.button[0].click().run()
    assert "not an email" in " ".join(e.value for e in at.error).replace("\\", "") and len(frames(at)[0]) == 1
    at.button(key="subscriber_remove").click().run()
    assert frames(at)[0].empty


def test_export_downloads_the_current_view_as_csv_and_xlsx_without_formulas(dash):
    import openpyxl
    import pandas as pd

    from dashboard import data
    from dashboard.views.export import export_bytes

    at = page("export")
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download XLSX"]
    frame, total = data.q_bills(database.get_engine(dash))
    rows = list(csv.DictReader(io.StringIO(export_bytes(frame, "csv").decode("utf-8"))))
    assert len(rows) == total and all(row["source"].startswith("http") for row in rows)
    hostile = pd.DataFrame({"title": ['=HYPERLINK("http://x")', "+1", "ok"], "n": [1, None, 3]})
    assert [r["title"] for r in csv.DictReader(io.StringIO(export_bytes(hostile, "csv").decode()))] == [
        "'=HYPERLINK(\"http://x\")", "'+1", "ok"]
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(hostile, "xlsx"))).active
    assert [c.value for c in sheet["A"]] == ["title", "'=HYPERLINK(\"http://x\")", "'+1", "ok"]


def test_hostile_titles_stay_text_on_every_page(dash):
    pages = [page("changes"), page("bills", bill="va-2024-HB1"), page("bills", q="onerror")]
    for at in pages:
        assert not at.exception
        assert not at.get("html")  # nothing is ever sent as raw HTML
        for element in at.markdown:
            value = element.value
            assert not re.search(r"(?<!\\)[<>\[\]]", value.replace("](/bills", "")) or "[All bills]" in value
            assert "](javascript:" not in value
            assert "\x1b" not in value
        for frame in frames(at):
            cells = frame.astype(str).to_csv(index=False)
            assert "\x1b" not in cells
    bill = pages[1]
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in bill.markdown[1].value  # shown, escaped, not run
    assert "\\[click me\\]\\(javascript\\:alert\\(3\\)\\)" in bill.markdown[1].value
    assert "\\\\x1b\\[31mred" in bill.markdown[1].value and "\\*\\*bold\\*\\*" in bill.markdown[1].value
    listed = frames(pages[2])[0]
    assert list(listed["bill"]) == ["va-2024-HB1"] and "<script>alert(1)</script>" in listed.iloc[0]["title"]
    assert "\\x1b[31mred" in listed.iloc[0]["title"]  # the escape is visible, never acts
    timeline = frames(bill)[0]
    assert "<b>x</b>" in timeline.iloc[0]["text"]  # raw action text, kept verbatim as text


def test_escaping_helpers():
    from dashboard.data import md, safe_url

    assert md("[x](javascript:alert(1))") == "\\[x\\]\\(javascript\\:alert\\(1\\)\\)"
    assert md("<img src=x onerror=alert(1)>") == "\\<img src\\=x onerror\\=alert\\(1\\)\\>"
    assert md("a\nb\u202e") == "a b\\\\u202e"
    assert safe_url("javascript:alert(1)") is None and safe_url("data:text/html,x") is None
    assert safe_url("https://lis.virginia.gov/a b") is None
    assert safe_url("https://lis.virginia.gov/bill/HB1") == "https://lis.virginia.gov/bill/HB1"


def test_login_is_off_by_default_and_asks_for_the_password_when_set(dash):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["as_of"] = TODAY
    at.secrets["dashboard_password"] = "s3cret"
    at.run()
    assert [t.value for t in at.title] == ["Statehouse AI Tracker"] and not at.dataframe
    at.text_input(key="login_password").set_value("wrong").run()
    assert at.error[0].value == "Wrong password." and not at.dataframe
    at.text_input(key="login_password").set_value("s3cret").run()
    assert at.title[0].value == "What changed"


BIG_TABLES = ("bill", "action", "status_change", "bill_event", "bill_source")


def test_queries_use_indexes(dash):
    """Every statement the default pages send, through SQLite's query planner: the big tables (bill,
    action, status_change, bill_event) are only ever searched by an index or a primary-key range."""
    from sqlalchemy import event

    from dashboard import data

    engine = database.get_engine(dash)
    seen: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        data.q_changes(engine, datetime(2026, 8, 1, tzinfo=UTC))
        data.q_overview(engine, TODAY)
        data.q_bills(engine)
        data.q_bills(engine, states=("va",), statuses=("enacted",))
        data.q_bills(engine, sessions=("va 2024",), search="synthetic")
        data.q_filter_options(engine)
        data.q_bill(engine, "va-2024-HB747")
        data.q_sources(engine, get_settings(), datetime(2026, 8, 2, tzinfo=UTC))
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    scans = []
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in seen:
            for row in raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall():
                detail = row[-1]
                # SEARCH is an index lookup; a SCAN of a big table is allowed only over a covering index
                # (a grouped count of one indexed column: no row is read).
                if any(re.search(rf"SCAN {table}\b", detail) for table in BIG_TABLES) \
                        and "COVERING INDEX" not in detail:
                    scans.append((detail, statement[:120]))
    assert not scans, scans


def test_dashboard_command_passes_the_database_through_the_environment(settings):
    from typer.testing import CliRunner

    from tracker.cli import app
    from tracker.cli_dashboard import APP as app_path, dashboard_command

    command, env = dashboard_command(settings, port=8765)
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4] == str(app_path) == str(APP)
    assert command[command.index("--server.port") + 1] == "8765"
    assert env["TRACKER_DATABASE_URL"] == settings.database_url and settings.database_url not in " ".join(command)
    result = CliRunner().invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


def test_pages_write_nothing(dash):
    """Every page rendered: the schema and every table's row count are as before (no job table created,
    no run recorded, nothing cached in the database)."""
    engine = database.get_engine(dash)

    def snapshot():
        with engine.connect() as conn:
            tables = [t for (t,) in conn.execute(text("select name from sqlite_master where type = 'table'"))]
            return {t: conn.execute(text(f'select count(*) from "{t}"')).scalar() for t in tables}

    before = snapshot()
    for name in ("changes", "overview", "bills", "conflicts", "federal", "sources", "export", "subscriptions"):
        assert not page(name).exception, name  # rendering Subscriptions writes nothing either; its buttons do
    assert not page("bills", bill="va-2024-HB747").exception
    assert snapshot() == before


@pytest.mark.postgres
def test_every_query_runs_on_postgresql(postgres_server):
    """The same queries on PostgreSQL (team installs): the VA slice and the federal seed, every page's data."""
    from scrapers import get_source
    from tests.conftest import _fresh_postgres
    from tracker.config import Settings
    from tracker.federal import load_seed
    from tracker.runs import run_batch

    from dashboard import data

    va = shared_file("fixtures/states/va/AI_SLICE_241_Bills.csv")
    url = _fresh_postgres(postgres_server)
    database.upgrade(url)
    engine = database.get_engine(url)
    assert run_batch(engine, "va-lis", get_source("va-lis").read_path(va, fetched_at=FETCHED), kind="ingest").ok
    with database.session_scope(engine) as db:
        load_seed(db)
        db.execute(update(StatusChange).values(detected_at=CHANGED))
        db.execute(update(InstrumentChange).values(detected_at=EARLIER))
        db.execute(update(BillEvent).values(detected_at=CHANGED))
    changes = data.q_changes(engine, datetime(2026, 7, 1, tzinfo=UTC), ai_only=False, include_low=True)
    assert {"VA", "US"} <= set(changes["state"])
    with engine.connect() as conn:
        ai = conn.execute(text("select count(*) from bill where ai_relevance in ('core', 'adjacent')")).scalar()
    assert data.q_overview(engine, TODAY)["figures"]["ai_bills"] == ai
    assert data.q_bills(engine, ai_only=False, sessions=("va 2024",), search="synthetic")[1] == 2
    assert data.q_bills(engine, ai_only=False, topic="no-such-topic")[1] == 0
    assert len(data.q_bill(engine, "va-2024-HB747")["actions"]) > 0
    assert len(data.q_conflicts(engine)["seeded"]) == 27 and len(data.q_federal(engine)) >= 21
    sources = data.q_sources(engine, Settings(database_url=url), datetime(2026, 8, 2, tzinfo=UTC))
    assert "va-lis" in set(sources["health"]["source"]) and list(sources["unclassified"]["state"]) == ["VA"]
    assert data.q_data_key(engine)[0] is not None
    assert data.q_subscribers(engine).empty and data.q_digest_failures(engine).empty
