"""The detect stage on real stored bills (tracker/detect/pipeline.py): relevance events, similar bills,
law lifecycle, conflicts; each change recorded once, a second run records nothing, a failure keeps the
ingest. "Today" is always given: law statuses never read the wall clock here."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import shared_file
from tracker import db as database
from tracker.cli import app
from tracker.detect.pipeline import detect
from tracker.federal import load_seed
from tracker.models import Bill, BillEvent, Conflict, LawEvent, SimilarBill
from tracker.storage import ingest

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)
runner = CliRunner()


def _items(path: Path) -> list:
    from scrapers.openstates import OpenStatesFiles

    return list(OpenStatesFiles().read_path(path, fetched_at=FETCHED).items)


def _store(url: str, *paths: Path) -> None:
    with database.session_scope(database.get_engine(url)) as db:
        for path in paths:
            ingest(db, _items(path))


def _detect(url: str, **options):
    with database.session_scope(database.get_engine(url)) as db:
        return detect(db, **options)


def _rows(url: str, query):
    with database.session_scope(database.get_engine(url)) as db:
        return db.execute(query).all()


def _bill(url: str, key: str) -> Bill:
    with database.session_scope(database.get_engine(url)) as db:
        bill = db.execute(select(Bill).where(Bill.key == key)).scalar_one()
        db.expunge(bill)
        return bill


def _co_2024_sb205(tmp_path: Path) -> Path:
    """The Colorado AI Act as enacted in 2024 (not among the recorded files): the real SB26-189 record
    reshaped into SB24-205, signed 2024-05-17."""
    record = json.loads(shared_file("fixtures/states/co/openstates_scrape_json/2026A__SB189.json").read_text())
    record.update(legislative_session="2024", identifier="SB 205",
                  title="Consumer Protections for Artificial Intelligence",
                  abstracts=[{"note": "summary", "abstract": "The act requires a developer of a high-risk artificial "
                              "intelligence system to use reasonable care to avoid algorithmic discrimination."}],
                  sources=[{"url": "https://leg.colorado.gov/bills/sb24-205", "note": ""}])
    record["actions"] = [{"description": "Governor Signed", "date": "2024-05-17", "classification": ["executive-signature"],
                          "organization_id": "~{\"classification\": \"executive\"}"},
                         {"description": "Introduced In Senate - Assigned to Judiciary", "date": "2024-04-10",
                          "classification": ["introduction"], "organization_id": "~{\"classification\": \"upper\"}"}]
    folder = tmp_path / "co2024"
    folder.mkdir()
    path = folder / "2024__SB205.json"
    path.write_text(json.dumps(record))
    return path


@pytest.fixture
def ca_and_co(db_url):
    """The recorded CA and CO AI bills (SB 53, AB 853, SB 243, SB 7, AB 1064; SB26-189, HB26-1139, ...),
    with the federal seed loaded."""
    with database.session_scope(database.get_engine(db_url)) as db:
        load_seed(db)
    _store(db_url, shared_file("fixtures/states/ca/openstates_scrape_json"),
           shared_file("fixtures/states/co/openstates_scrape_json"))
    return db_url


def test_relevance_topics_and_one_event_per_new_ai_bill(ca_and_co):
    first = _detect(ca_and_co, today=date(2026, 12, 1))
    sb53 = _bill(ca_and_co, "ca-20252026-SB53")
    assert sb53.ai_relevance == "core" and "frontier_models" in sb53.topics
    assert {e["field"] for e in sb53.ai_evidence} >= {"title"}
    events = _rows(ca_and_co, select(Bill.key, BillEvent.old_value, BillEvent.new_value, BillEvent.reason,
                                     BillEvent.source_url).join(Bill).where(BillEvent.kind == "relevance"))
    ai_bills = _rows(ca_and_co, select(Bill.key).where(Bill.ai_relevance.in_(("core", "adjacent"))))
    assert sorted(e.key for e in events) == sorted(k for (k,) in ai_bills)  # each AI bill once
    assert first.relevance_events == len(events) == 9
    assert all(e.old_value is None and e.reason.startswith("a new AI bill") and e.source_url for e in events)
    again = _detect(ca_and_co, today=date(2026, 12, 1))
    assert again.events == 0 and again.classified == 0  # nothing stale, nothing new


def test_a_reviewer_override_ends_an_ai_bill_and_its_conflicts_once(ca_and_co, tmp_path):
    _detect(ca_and_co, today=date(2026, 12, 1))
    before = _rows(ca_and_co, select(Conflict.link_key).join(Bill, Bill.id == Conflict.bill_id)
                   .where(Bill.key == "co-2026A-HB1139", Conflict.active.is_(True)))
    assert before, "an enacted AI law in every federal move's scope"
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("bill_key,decision,reason\nco-2026A-HB1139,not_ai,reviewed: health coverage rules only\n")
    result = _detect(ca_and_co, today=date(2026, 12, 1), overrides_path=overrides)
    assert result.relevance_events == 1 and result.conflicts_ended == len(before)
    hb1139 = _bill(ca_and_co, "co-2026A-HB1139")
    assert hb1139.ai_relevance == "not_ai" and hb1139.ai_override == "reviewed: health coverage rules only"
    event = _rows(ca_and_co, select(BillEvent).where(BillEvent.kind == "relevance", BillEvent.bill_id == hb1139.id)
                  .order_by(BillEvent.id.desc()).limit(1))[0][0]
    assert (event.old_value, event.new_value) == ("core", "not_ai") and "reviewed" in event.reason
    assert _detect(ca_and_co, today=date(2026, 12, 1), overrides_path=overrides).events == 0


def test_the_seed_story_which_federal_moves_reach_each_law_and_how_strongly(ca_and_co):
    _detect(ca_and_co, today=date(2026, 12, 1))
    rows = _rows(ca_and_co, select(Bill.key, Conflict.relation, Conflict.origin, Conflict.confidence, Conflict.force,
                                   Conflict.reason).join(Bill, Bill.id == Conflict.bill_id)
                 .where(Conflict.active.is_(True)))
    sb53 = {(r.relation, r.origin) for r in rows if r.key == "ca-20252026-SB53"}
    assert ("named_target", "seed") in sb53  # the seed's own links, as sourced
    derived = [r for r in rows if r.origin == "derived" and r.relation == "in_preemption_scope"]
    assert derived and all(r.confidence in ("M", "L") for r in derived)  # a scope reading is M at most
    # No federal move in the seed is a preemption law: each says it is proposed or directed.
    assert rows and all(r.force.split()[0] in ("proposed", "directed") for r in rows if r.force), \
        {r.force for r in rows}
    assert all("(an AI law)" not in r.reason for r in rows)
    cli = runner.invoke(app, ["conflicts", "--state", "ca", "--relation", "named_target"],
                        env={"TRACKER_DATABASE_URL": ca_and_co})
    assert cli.exit_code == 0 and "ca-20252026-SB53\t" in cli.output and "named_target" in cli.output


def test_law_lifecycle_of_the_colorado_ai_act_from_the_seed(db_url, tmp_path):
    _store(db_url, _co_2024_sb205(tmp_path).parent, shared_file("fixtures/states/co/openstates_scrape_json"))
    states = {}
    for day in (date(2025, 12, 1), date(2026, 5, 1), date(2026, 6, 1)):
        _detect(db_url, today=day)
        states[day] = _bill(db_url, "co-2024-SB205").law_status
    assert states == {date(2025, 12, 1): "delayed", date(2026, 5, 1): "enjoined", date(2026, 6, 1): "superseded"}
    law = _bill(db_url, "co-2024-SB205")
    assert law.effective_dates == ["2026-02-01"]
    events = _rows(db_url, select(LawEvent.event, LawEvent.origin, LawEvent.review_status, LawEvent.by_bill_id)
                   .where(LawEvent.bill_id == law.id).order_by(LawEvent.event_date))
    assert [(e.event, e.origin) for e in events] == [("delayed", "seed"), ("enjoined", "seed"), ("superseded", "seed")]
    assert events[-1].by_bill_id == _bill(db_url, "co-2026A-SB189").id  # linked to the bill that caused it
    # SB26-189 says it repeals and reenacts SB 24-205: the seed says so already, so nothing is proposed twice.
    assert not _rows(db_url, select(LawEvent).where(LawEvent.origin == "detected"))
    history = _rows(db_url, select(BillEvent.old_value, BillEvent.new_value).where(
        BillEvent.bill_id == law.id, BillEvent.kind == "lifecycle").order_by(BillEvent.id))
    assert [tuple(h) for h in history] == [(None, "delayed"), ("delayed", "enjoined"), ("enjoined", "superseded")]
    assert _detect(db_url, today=date(2026, 6, 1)).events == 0


def test_a_later_bill_proposes_a_lifecycle_event_that_a_person_confirms(db_url, tmp_path, monkeypatch):
    empty_seed = tmp_path / "lifecycle.csv"
    empty_seed.write_text("state,session,bill,law,event,event_date,by,mechanism,effective_after,source_url,"
                          "confidence,note\n")
    _store(db_url, _co_2024_sb205(tmp_path).parent, shared_file("fixtures/states/co/openstates_scrape_json"))
    first = _detect(db_url, today=date(2026, 6, 1), lifecycle_seed=empty_seed)
    assert first.proposals == 1
    (proposal,) = _rows(db_url, select(LawEvent).where(LawEvent.origin == "detected"))
    proposal = proposal[0]
    assert (proposal.event, proposal.review_status, proposal.by_reference) == ("superseded", "proposed",
                                                                               "co-2026A-SB189")
    assert "repeals and reenacts" in proposal.evidence[0]["snippet"]
    assert _bill(db_url, "co-2024-SB205").law_status is None  # a proposal changes nothing until confirmed
    assert _detect(db_url, today=date(2026, 6, 1), lifecycle_seed=empty_seed).proposals == 0  # proposed once
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    from tracker.config import get_settings

    get_settings.cache_clear()
    listed = runner.invoke(app, ["lifecycle", "review"])
    assert listed.exit_code == 0 and "superseded" in listed.output and "co-2026A-SB189" in listed.output
    import tracker.detect.lifecycle as lifecycle_rules

    shipped = lifecycle_rules.seed_rows
    monkeypatch.setattr(lifecycle_rules, "seed_rows", lambda path=None: shipped(str(empty_seed)))  # for the CLI too
    confirmed = runner.invoke(app, ["lifecycle", "review", "--confirm", str(proposal.id), "--note", "read the act"])
    assert confirmed.exit_code == 0 and f"lifecycle event #{proposal.id} confirmed" in confirmed.output
    assert _bill(db_url, "co-2024-SB205").law_status == "superseded"  # the event dates 2026-05-14: any later day
    (event,) = _rows(db_url, select(BillEvent).where(BillEvent.kind == "lifecycle", BillEvent.new_value == "superseded"))
    assert "law superseded by co-2026A-SB189" in event[0].reason
    again = runner.invoke(app, ["lifecycle", "review", "--confirm", str(proposal.id)])
    assert again.exit_code == 2 and "no proposed lifecycle event" in again.output
    get_settings.cache_clear()


def test_similar_bills_are_stored_for_ai_bills_and_listed(ca_and_co, monkeypatch):
    _detect(ca_and_co, today=date(2026, 12, 1))
    stored = _rows(ca_and_co, select(func.count()).select_from(SimilarBill))[0][0]
    assert stored > 0
    monkeypatch.setenv("TRACKER_DATABASE_URL", ca_and_co)
    from tracker.config import get_settings

    get_settings.cache_clear()
    shown = runner.invoke(app, ["similar", "co-2026A-SB189"])
    assert shown.exit_code == 0 and "(stored;" in shown.output and "other state" in shown.output
    with database.session_scope(database.get_engine(ca_and_co)) as db:  # no stored matches: computed live
        sb189 = db.execute(select(Bill.id).where(Bill.key == "co-2026A-SB189")).scalar_one()
        db.execute(SimilarBill.__table__.delete().where(SimilarBill.bill_id == sb189))
    live = runner.invoke(app, ["similar", "co-2026A-SB189"])
    assert live.exit_code == 0 and "(computed now;" in live.output
    assert [line.split("\t")[3] for line in live.output.splitlines() if line.startswith("  0.")][:1] == \
        [line.split("\t")[3] for line in shown.output.splitlines() if line.startswith("  0.")][:1]  # same best
    missing = runner.invoke(app, ["similar", "xx-2026-HB1"])
    assert missing.exit_code == 2 and "no stored bill" in missing.output
    get_settings.cache_clear()


def test_an_ingest_run_detects_and_a_detect_failure_keeps_the_ingest(settings, monkeypatch):
    folder = shared_file("fixtures/states/ca/openstates_scrape_json")
    import tracker.detect.pipeline as pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("rules file unreadable")

    monkeypatch.setattr(pipeline, "detect", broken)
    failed = runner.invoke(app, ["ingest", "openstates-json", str(folder)])
    assert failed.exit_code == 0, failed.output
    assert "detect failed (RuntimeError: rules file unreadable); stored data kept" in failed.output
    monkeypatch.undo()
    with database.session_scope(database.get_engine(settings.database_url)) as db:
        assert db.execute(select(func.count()).select_from(Bill)).scalar_one() == 5
        assert db.execute(select(func.count()).select_from(Bill).where(Bill.ai_relevance.is_not(None))
                          ).scalar_one() == 0
    again = runner.invoke(app, ["ingest", "openstates-json", str(folder)])
    assert "new event(s)" in again.output  # the stale bills are classified on the next run
    with database.session_scope(database.get_engine(settings.database_url)) as db:
        assert db.execute(select(func.count()).select_from(Bill).where(Bill.ai_relevance.is_(None))).scalar_one() == 0


def test_classify_a_csv_for_triage(tmp_path):
    source = tmp_path / "list.csv"
    source.write_text("id,title,description\n"
                      "1,=HYPERLINK(\"http://x\") Artificial intelligence; election deepfakes,\n"
                      "2,Highway funds; appropriations,\n"
                      "3,Artificial Intelligence Transparency Amendments,\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["classify", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "classified 3 row(s)" in result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,title,description,ai_relevance,ai_score,topics,evidence"
    assert lines[1].startswith("1,\"'=HYPERLINK(") and ",core," in lines[1]  # never a live formula
    assert ",not_ai,0.000,," in lines[2]
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nfoo\n")
    refused = runner.invoke(app, ["classify", str(bad)])
    assert refused.exit_code == 2 and "`title` column" in refused.output


def test_an_effective_date_the_abstract_states_makes_a_law_pending(ca_and_co):
    _detect(ca_and_co, today=date(2026, 12, 1))
    law = _bill(ca_and_co, "co-2026A-HB1263")  # "Effective January 1, 2027, the act creates requirements ..."
    assert (law.status, law.effective_dates, law.law_status) == ("enacted", ["2027-01-01"], "pending_effective")
    assert _bill(ca_and_co, "ca-20252026-AB853").law_status is None  # nothing says when: unknown, not guessed
    _detect(ca_and_co, today=date(2027, 1, 1))
    assert _bill(ca_and_co, "co-2026A-HB1263").law_status == "effective"
    (event,) = _rows(ca_and_co, select(BillEvent).where(BillEvent.bill_id == law.id, BillEvent.kind == "lifecycle",
                                                        BillEvent.new_value == "effective"))
    assert event[0].old_value == "pending_effective" and "in effect since 2027-01-01" in event[0].reason
