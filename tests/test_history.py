"""A status history you can trust (issue #9): one regression test per row of the review of 2026-12-01
(../shared/review-2026-12/README.md), each built from that row's reproduction. The review's own
`make_inputs.py` builds the inputs from the shared fixtures into a temporary folder; every test runs
the commands the review ran (`run_all.sh`) on a database of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from tests.conftest import ROOT, SHARED, shared_file
from tracker.cli import app
from tracker.db import get_engine
from tracker.models import Action, Bill, BillSource, LegislativeSession, RunProblem, StatusChange

VA = "fixtures/states/va"


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    """The review's hand-made inputs, rebuilt from ../shared by its own script."""
    script = shared_file("review-2026-12/make_inputs.py")
    folder = tmp_path_factory.mktemp("repro")
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True,
                   env=dict(os.environ, REPRO_DIR=str(folder)))
    return folder / "in"


def tracker(*args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result.output


def engine_of(settings):
    return get_engine(settings.database_url)


def statuses(settings) -> dict[str, tuple]:
    with Session(engine_of(settings)) as db:
        return {b.key: (b.status, b.enacted_how or b.failed_how, b.carried_over, b.override_possible)
                for b in db.execute(select(Bill)).scalars()}


def changes_of(settings, key: str | None = None) -> list[tuple]:
    with Session(engine_of(settings)) as db:
        query = select(Bill.key, StatusChange.old_label, StatusChange.new_label, StatusChange.first_sighting) \
            .join(Bill, Bill.id == StatusChange.bill_id).order_by(StatusChange.id)
        if key:
            query = query.where(Bill.key == key)
        return [tuple(row) for row in db.execute(query)]


def bill(settings, key: str) -> Bill:
    with Session(engine_of(settings)) as db:
        return db.execute(select(Bill).where(Bill.key == key)).scalar_one()


def action_count(settings, key: str) -> int:
    with Session(engine_of(settings)) as db:
        return db.execute(select(func.count()).select_from(Action).join(Bill, Bill.id == Action.bill_id)
                          .where(Bill.key == key)).scalar_one()


def test_c1_a_history_cut_short_changes_nothing_and_is_held_for_review(settings, kit):
    full = shared_file(f"{VA}/legacylis_241_Bills.csv.gz")
    tracker("ingest", "va-lis", full, "--fetched-at", "2024-06-01T00:00:00")
    before = statuses(settings)
    sb487 = action_count(settings, "va-2024-SB487")
    output = tracker("ingest", "va-lis", kit / "cut/cut_241_Bills.csv", "--fetched-at", "2024-06-02T00:00:00")
    assert "partial" in output and "problems 2165" in output  # every bill whose history shrank, held
    assert statuses(settings) == before  # no status lowered, none emptied
    assert action_count(settings, "va-2024-SB487") == sb487
    with Session(engine_of(settings)) as db:
        assert db.execute(select(func.count()).select_from(Bill).where(Bill.status.is_(None))).scalar_one() == 0
        held = list(db.execute(select(RunProblem.message).where(RunProblem.item_key == "va-2024-SB487")).scalars())
        assert held and "kept as stored, not applied" in held[0]
        assert db.execute(select(func.count()).select_from(StatusChange).where(StatusChange.run_id == 2)
                          ).scalar_one() == 0


def test_c2a_a_current_only_feed_never_reports_a_false_second_change_or_an_empty_status(settings, kit):
    for name, day in (("1_signed", "2026-03-20"), ("2_chapter", "2026-03-21"), ("3_effective", "2026-03-22")):
        tracker("ingest", "wa-wsl", kit / f"wa/{name}.xml", "--fetched-at", f"{day}T20:00:00")
    [(key, old, new, first)] = changes_of(settings)
    assert (old, new, first) == (None, "enacted/signed", True)
    assert action_count(settings, key) == 3  # each line added to the history
    assert "None" not in tracker("changes", "--include-new")


def test_c2b_a_carried_over_bill_keeps_its_rung(settings, kit):
    tracker("ingest", "wa-wsl", kit / "wa/carry_2025.xml", "--fetched-at", "2025-01-21T00:00:00")
    tracker("ingest", "wa-wsl", kit / "wa/carry_2026.xml", "--fetched-at", "2026-01-13T00:00:00")
    [(status, _, carried, _)] = statuses(settings).values()
    assert (status, carried) == ("in_committee", True)
    assert [c[1:3] for c in changes_of(settings)] == [(None, "in_committee"),
                                                        ("in_committee", "in_committee (carried over)")]


def test_c2c_a_current_line_adds_to_a_richer_history_and_never_replaces_it(settings, kit):
    tracker("ingest", "openstates-json", shared_file("fixtures/states/wa/openstates_scrape_json/2025-2026__HB1170.json"),
            "--fetched-at", "2026-07-22T00:00:00")
    key = next(iter(statuses(settings)))
    before, actions = statuses(settings)[key], action_count(settings, key)
    tracker("ingest", "wa-wsl", kit / "wa/hb1170_wsl.xml", "--fetched-at", "2026-07-23T00:00:00")
    assert statuses(settings)[key] == before and before[:2] == ("enacted", "signed")
    assert action_count(settings, key) in (actions, actions + 1)  # its line, unless the history has it
    assert len(changes_of(settings)) == 1


def test_c3_an_older_snapshot_never_rolls_back_nor_realerts(settings, kit):
    tracker("ingest", "va-lis", kit / "new/x_241_Bills.csv", "--fetched-at", "2024-04-09T12:00:00")
    tracker("ingest", "va-lis", kit / "old/x_241_Bills.csv", "--fetched-at", "2024-03-20T12:00:00")
    tracker("ingest", "va-lis", kit / "new/x_241_Bills.csv", "--fetched-at", "2024-04-09T12:00:00")
    assert [c[1:] for c in changes_of(settings, "va-2024-SB487")] == [(None, "enacted/signed", True)]
    assert [c[1:] for c in changes_of(settings, "va-2024-HB697")][-1][1].endswith("(carried over)")
    assert len(changes_of(settings, "va-2024-HB697")) == 1


def test_c3_a_history_that_lost_an_action_at_a_newer_time_is_held(settings, kit):
    tracker("ingest", "va-lis", kit / "new/x_241_Bills.csv", "--fetched-at", "2024-04-09T12:00:00")
    output = tracker("ingest", "va-lis", kit / "old/x_241_Bills.csv", "--fetched-at", "2024-04-10T12:00:00")
    assert "partial" in output
    assert statuses(settings)["va-2024-SB487"][:2] == ("enacted", "signed")
    assert len(changes_of(settings, "va-2024-SB487")) == 1


def test_c4_an_earlier_fetch_time_never_moves_fetched_at_back(settings):
    full = shared_file(f"{VA}/legacylis_241_Bills.csv.gz")
    tracker("ingest", "va-lis", full, "--fetched-at", "2024-06-01T00:00:00")
    first = len(changes_of(settings))
    output = tracker("ingest", "va-lis", full, "--fetched-at", "2024-05-01T00:00:00")
    assert "unchanged 3595" in output and "status changes 0" in output
    with Session(engine_of(settings)) as db:
        assert db.execute(select(func.min(Bill.fetched_at))).scalar_one().date() == date(2024, 6, 1)
        assert db.execute(select(func.min(BillSource.fetched_at))).scalar_one().date() == date(2024, 6, 1)
    assert "0 status changes" in tracker("reclassify")
    assert "status changes 0" in tracker("ingest", "va-lis", full, "--fetched-at", "2024-06-01T00:00:00")
    assert len(changes_of(settings)) == first


def test_h1_the_same_facts_in_either_order_give_the_same_status(settings, kit):
    parsed = [json.loads(tracker("parse", "openstates-json", kit / f"os/{name}.json", "--fetched-at",
                                 "2026-07-01T00:00:00")) for name in ("reverse_order", "forward_order")]
    # One chamber's "Veto overridden" leaves the veto standing; by 2026-07-01 Colorado's session (and so
    # the override window) has ended.
    assert {(p["status"], p["enacted_how"], p["override_possible"]) for p in parsed} == {("vetoed", None, False)}


@pytest.mark.parametrize("file, status, how", [
    ("nj/openstates_scrape_json/222__A3497", "enacted", "signed"),  # "Approved P.L.2026, c.43."
    ("fl/openstates_scrape_json/2026__HB1395", "failed", "died_in_committee"),  # "Died in ... Subcommittee"
    ("ut/openstates_scrape_json/2026__HB276", "enacted", "signed"),  # "Governor Signed"
    ("co/openstates_scrape_json/2026A__HB1139", "enacted", "signed"),
])
def test_h2_outcomes_read_by_our_rules_not_guessed(settings, file, status, how):
    record = json.loads(tracker("parse", "openstates-json", shared_file(f"fixtures/states/{file}.json"),
                                "--fetched-at", "2026-12-01T00:00:00"))
    assert (record["status"], record["enacted_how"] or record["failed_how"]) == (status, how)
    assert record["status_basis"] == "state"


def test_h2_withdrawn_and_rereferred_is_not_a_failure(settings):
    record = json.loads(tracker("parse", "openstates-json",
                                shared_file("fixtures/states/mn/openstates_scrape_json/2025-2026__SF1857.json"),
                                "--fetched-at", "2026-12-01T00:00:00"))
    line = next(a for a in record["actions"] if a["text"].startswith("Withdrawn and re-referred"))
    assert line["classification"] == ["referral-committee"]
    assert record["failed_how"] != "withdrawn"


@pytest.mark.parametrize("folder, expected", [
    ("override_house_only", ("vetoed", None, False, True)),  # one chamber's vote: still vetoed
    ("override_then_sustained", ("vetoed", None, False, False)),
])
def test_h3_one_chambers_override_is_not_enactment(settings, kit, folder, expected):
    [record] = [json.loads(line) for line in tracker("parse", "va-lis", kit / f"{folder}/x_241_Bills.csv",
                                                     "--fetched-at", "2024-04-17T23:00:00").splitlines()]
    assert (record["status"], record["enacted_how"], record["carried_over"], record["override_possible"]) == expected


def test_h4_a_change_from_no_status_is_shown_and_none_never_is(settings, kit):
    tracker("ingest", "wa-wsl", kit / "wa/scr8407_a.xml", "--fetched-at", "2026-01-15T00:00:00")
    tracker("ingest", "wa-wsl", kit / "wa/scr8407_b.xml", "--fetched-at", "2026-03-13T00:00:00")
    shown = tracker("changes", "--include-new")
    assert "None" not in shown and "adopted" in shown
    key = next(iter(statuses(settings)))
    assert bill(settings, key).status == "adopted" and bill(settings, key).status_basis == "state"


def test_h6_open_states_and_legiscan_spellings_of_a_session_are_one_bill(settings, kit):
    tracker("ingest", "openstates-json", shared_file("fixtures/states/co/openstates_scrape_json/2026A__HB1139.json"),
            "--fetched-at", "2026-07-01T00:00:00")
    tracker("ingest", "legiscan", kit / "co_legiscan.json", "--fetched-at", "2026-07-01T00:00:00")
    with Session(engine_of(settings)) as db:
        rows = db.execute(select(Bill.key, Bill.status)).all()
        sources = set(db.execute(select(BillSource.source_id)).scalars())
    assert [r.key for r in rows] == ["co-2026A-HB1139"] and sources == {"openstates-json", "legiscan"}
    assert len(changes_of(settings)) == 1  # one bill, alerted once


RACE = """
import sys, time
from datetime import datetime, UTC
from pathlib import Path
import tracker.storage as st
from tracker import db as database
from tracker.runs import run_batch
from scrapers import get_source
url, source, path, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
original = st._merge_context
def slow(*a, **k):
    found = original(*a, **k); time.sleep(delay); return found
st._merge_context = slow
batch = get_source(source).read_path(Path(path), session="241" if source == "va-lis" else None,
                                     fetched_at=datetime(2024, 4, 9, 12, tzinfo=UTC))
print(run_batch(database.get_engine(url), source, batch, kind="ingest").line(), flush=True)
"""


def test_h8_two_ingests_at_once_take_turns(db_url, kit, tmp_path):
    """The review's race (run_all.sh, H8), on SQLite and PostgreSQL: an Open States ingest paused for 3 s
    after reading the stored state, and a va-lis ingest of the same bill meanwhile. The write lock makes
    the second wait; va-lis (the state's own source) wins with the enacted status."""
    from scrapers import get_source
    from tracker.db import session_scope
    from tracker.runs import run_batch

    engine = get_engine(db_url)
    first = get_source("openstates-json").read_path(kit / "race/os_v1.json",
                                                    fetched_at=datetime(2024, 2, 14, tzinfo=UTC))
    run_batch(engine, "openstates-json", first, kind="ingest")
    script = tmp_path / "race.py"
    script.write_text(RACE)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    slow = subprocess.Popen([sys.executable, str(script), db_url, "openstates-json", str(kit / "race/os_v2.json"),
                             "3"], env=env, stdout=subprocess.PIPE, text=True)
    import time

    time.sleep(1.0)
    fast = subprocess.run([sys.executable, str(script), db_url, "va-lis", str(kit / "race/sb487/x_241_Bills.csv"),
                           "0"], env=env, capture_output=True, text=True, timeout=120)
    slow.wait(timeout=120)
    assert fast.returncode == 0, fast.stderr
    with session_scope(engine) as db:
        final = db.execute(select(Bill.key, Bill.status, Bill.enacted_how, Bill.source_id)).one()
        labels = [row.new_label for row in db.execute(select(StatusChange).order_by(StatusChange.id)).scalars()]
    assert tuple(final) == ("va-2024-SB487", "enacted", "signed", "va-lis")
    assert labels == ["passed_origin", "passed_second", "enacted/signed"]  # each move once, none twice
    _ = SHARED


def test_m1_a_sustained_veto_is_a_recorded_change(settings, kit):
    tracker("ingest", "va-lis", kit / "veto_before/x_241_Bills.csv", "--fetched-at", "2024-04-10T00:00:00")
    tracker("ingest", "va-lis", kit / "veto_sustained/x_241_Bills.csv", "--fetched-at", "2024-04-18T00:00:00")
    assert [c[1:3] for c in changes_of(settings)] == [(None, "vetoed (override possible)"),
                                                        ("vetoed (override possible)", "vetoed")]


def test_m3_the_calendar_files_are_the_one_source_of_truth(settings):
    import tracker.normalize.bill as bill_module
    import tracker.storage as storage_module
    from tracker import calendar

    full = shared_file(f"{VA}/legacylis_241_Bills.csv.gz")
    real = calendar.session_calendar
    va_2024 = real("va", "2024")
    no_end = calendar.SessionCalendar("va", "2024", va_2024.name, va_2024.start_date, None, va_2024.carry_over)
    with pytest.MonkeyPatch.context() as patch:  # the calendar without its end date, as first shipped
        fake = lambda j, i: no_end if (j, i) == ("va", "2024") else real(j, i)  # noqa: E731
        for module in (calendar, bill_module, storage_module):
            patch.setattr(module, "session_calendar", fake)
        tracker("ingest", "va-lis", full, "--fetched-at", "2024-06-01T00:00:00")
    dead_before = sum(s[1] == "died_at_adjournment" for s in statuses(settings).values())
    # The calendar gains its end date: the next (unchanged) fetch re-derives what it now decides.
    tracker("ingest", "va-lis", full, "--fetched-at", "2024-06-02T00:00:00")
    with Session(engine_of(settings)) as db:
        assert db.execute(select(LegislativeSession.final_action_date)).scalar_one() == date(2024, 5, 17)
    dead_after = sum(s[1] == "died_at_adjournment" for s in statuses(settings).values())
    assert dead_before == 0 and dead_after > 0
    assert "0 status changes" in tracker("reclassify")


def test_m4_reclassify_with_unchanged_rules_changes_nothing(settings, kit):
    tracker("ingest", "openstates-json", kit / "wa/sjm_os.json", "--fetched-at", "2026-03-02T00:00:00")
    tracker("ingest", "wa-wsl", kit / "wa/sjm_wsl.xml", "--fetched-at", "2026-03-02T00:00:00")
    [key] = statuses(settings)
    record = bill(settings, key)
    assert record.kind == "joint_resolution" and record.status == "adopted"  # kind and status agree
    assert "0 status changes" in tracker("reclassify")


def test_m5_dates_are_the_legislatures_and_times_are_utc(settings):
    folder = shared_file("fixtures/states/ca/pubinfo_mini_2025-26")
    # 2026-12-01 03:00 UTC is Monday 2026-11-30 19:00 in Sacramento: the session has not ended yet.
    evening = {r["identifier"]: r["status"] for r in map(json.loads, tracker(
        "parse", "ca-pubinfo", folder, "--fetched-at", "2026-12-01T03:00:00").splitlines())}
    assert evening["AB 1656"] == "passed_origin"
    morning = {r["identifier"]: r["status"] for r in map(json.loads, tracker(
        "parse", "ca-pubinfo", folder, "--fetched-at", "2026-12-01T09:00:00").splitlines())}
    assert morning["AB 1656"] == "failed"
    tracker("ingest", "va-lis", shared_file(f"{VA}/AI_SLICE_241_Bills.csv"), "--session", "241",
            "--fetched-at", "2024-06-01T23:30:00-04:00")
    stored = bill(settings, "va-2024-SB487").fetched_at
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == datetime(2024, 6, 2, 3, 30, tzinfo=UTC)


def test_m5_reclassify_changes_nothing_on_postgresql_either(db_url, monkeypatch, settings):
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    from tracker.config import get_settings

    get_settings.cache_clear()
    tracker("ingest", "va-lis", shared_file(f"{VA}/legacylis_241_Bills.csv.gz"), "--fetched-at",
            "2024-05-17T22:00:00-04:00")
    assert "0 status changes" in tracker("reclassify")
    get_settings.cache_clear()


def test_m9_each_change_shows_the_fetch_that_produced_it(settings, kit):
    tracker("ingest", "va-lis", kit / "veto_before/x_241_Bills.csv", "--fetched-at", "2024-04-10T00:00:00")
    tracker("ingest", "va-lis", kit / "veto_sustained/x_241_Bills.csv", "--fetched-at", "2024-04-18T00:00:00")
    lines = tracker("changes", "--include-new").splitlines()
    assert "fetched 2024-04-18 00:00Z" in lines[0] and "fetched 2024-04-10 00:00Z" in lines[1]
    with Session(engine_of(settings)) as db:
        sources = [(c.source_id, c.source_url) for c in db.execute(select(StatusChange)).scalars()]
    assert all(source == "va-lis" and url for source, url in sources)


def test_a_source_that_rewrote_its_history_can_be_applied_on_purpose(settings, kit):
    tracker("ingest", "va-lis", kit / "new/x_241_Bills.csv", "--fetched-at", "2024-04-09T12:00:00")
    output = tracker("ingest", "va-lis", kit / "old/x_241_Bills.csv", "--fetched-at", "2024-04-10T12:00:00",
                     "--allow-history-rewrite")
    assert "ok" in output.split(" - ")[0]
    assert statuses(settings)["va-2024-SB487"][0] == "to_governor"  # as the source now says, on purpose


def test_h2_unreadable_strings_are_a_source_health_note_never_a_status(settings, tmp_path):
    record = {"identifier": "HB 1", "legislative_session": "2026", "title": "AI bill", "classification": ["bill"],
              "jurisdiction": {"id": "ocd-jurisdiction/country:us/state:zz/government"},
              "actions": [{"date": "2026-02-01", "description": "Introduced", "classification": []},
                          {"date": "2026-02-03", "description": "Zorbled by the clerk", "classification": []}]}
    path = tmp_path / "zz.json"
    path.write_text(json.dumps(record))
    output = tracker("ingest", "openstates-json", path, "--fetched-at", "2026-03-01T00:00:00")
    assert "ok - inserted 1" in output and "1 note(s)" in output
    with Session(engine_of(settings)) as db:
        [note] = db.execute(select(RunProblem.message)).scalars()
    assert note.startswith("note: zz: 1 action(s) in 1 distinct string(s) no rule reads") and "Zorbled" in note
    assert statuses(settings)["zz-2026-HB1"][0] == "introduced"


def test_runs_says_which_sessions_have_no_calendar(settings, tmp_path):
    record = {"identifier": "HB 1", "legislative_session": "2031", "title": "AI bill", "classification": ["bill"],
              "jurisdiction": {"id": "ocd-jurisdiction/country:us/state:il/government"}, "actions": []}
    path = tmp_path / "il.json"
    path.write_text(json.dumps(record))
    tracker("ingest", "openstates-json", path, "--fetched-at", "2031-03-01T00:00:00")
    assert "Sessions without a calendar" in tracker("runs") and "il 2031" in tracker("runs")


def test_m7_a_nul_byte_is_removed_not_a_failed_batch(db_url, kit, monkeypatch, settings):
    # Review row M7, on SQLite and PostgreSQL: the good record and the one with a NUL are both stored.
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    from tracker.config import get_settings

    get_settings.cache_clear()
    output = tracker("ingest", "openstates-json", kit / "os/nul_pg.json", "--fetched-at", "2026-03-01T00:00:00")
    assert "ok - inserted 2" in output
    with Session(get_engine(db_url)) as db:
        titles = sorted(db.execute(select(Bill.title)).scalars())
    assert titles == ["A fine AI bill", "AI billwith NUL"]
    get_settings.cache_clear()


def test_a_string_never_seen_in_a_state_is_a_health_note(settings, tmp_path):
    def ingest(name, texts, day):
        record = {"identifier": name, "legislative_session": "2026", "title": "AI bill", "classification": ["bill"],
                  "jurisdiction": {"id": "ocd-jurisdiction/country:us/state:zz/government"},
                  "actions": [{"date": "2026-02-01", "description": t, "classification": []} for t in texts]}
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(record))
        return tracker("ingest", "openstates-json", path, "--fetched-at", f"2026-03-0{day}T00:00:00")
    assert "note" not in ingest("HB 1", ["Introduced", "Referred to Judiciary"], 1)  # first batch: learned
    ingest("HB 2", ["Introduced", "Referred to Finance", "Read third time and passed"], 2)
    with Session(engine_of(settings)) as db:
        notes = [m for m in db.execute(select(RunProblem.message)).scalars() if "never seen before" in m]
    # Shapes fold digits only: "Referred to Finance" is a new string beside "Referred to Judiciary".
    assert len(notes) == 1 and "2 action string(s) never seen before" in notes[0]
    assert "Read third time and passed" in notes[0]
