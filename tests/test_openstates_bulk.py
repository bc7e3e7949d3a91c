"""`openstates-json` on whole sessions: JSON Lines (gzipped or not), zips, odd identifiers, and damaged
input: one problem per bad record, the rest stored, nothing stored before lost."""

import gzip
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from scrapers.base import ItemProblem, SourceFormatError
from scrapers.openstates import OpenStatesFiles
from tests.conftest import shared_file
from tracker.cli import app
from tracker.db import get_engine
from tracker.models import Action, Bill, RunProblem
from tracker.normalize.bill import normalize_bill

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)


def ocd(identifier: str, *, state="co", session="2026A", classification=("bill",), actions=None, title="AI bill"):
    return {"identifier": identifier, "legislative_session": session, "title": title,
            "classification": list(classification),
            "jurisdiction": {"id": f"ocd-jurisdiction/country:us/state:{state}/government"},
            "from_organization": '~{"classification": "lower"}',
            "actions": actions if actions is not None else [
                {"date": "2026-02-01", "description": "Introduced In House - Assigned to Judiciary",
                 "organization_id": '~{"classification": "lower"}', "classification": ["introduction"]}],
            "sources": [{"url": f"https://leg.example/{identifier.replace(' ', '')}"}]}


def lines(*records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def read(path):
    return list(OpenStatesFiles().read_path(path, fetched_at=FETCHED).items)


def bills_and_problems(items):
    return ([i for i in items if not isinstance(i, ItemProblem)], [i for i in items if isinstance(i, ItemProblem)])


@pytest.mark.parametrize("name", ["session.jsonl", "session.jsonl.gz", "session.ndjson"])
def test_json_lines_gzipped_or_not(tmp_path, name):
    blob = lines(ocd("HB 1001"), ocd("SB 2"))
    (tmp_path / name).write_bytes(gzip.compress(blob) if name.endswith(".gz") else blob)
    bills, problems = bills_and_problems(read(tmp_path / name))
    assert [b.identifier for b in bills] == ["HB 1001", "SB 2"] and problems == []


def test_a_zip_of_bill_files_and_a_folder_of_mixed_files(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bills/HB1001.json", json.dumps(ocd("HB 1001")))
        archive.writestr("more.jsonl", lines(ocd("SB 2"), ocd("HJR 3")))
        archive.writestr("README.txt", "not a bill")
    (tmp_path / "session.zip").write_bytes(buffer.getvalue())
    (tmp_path / "extra.json").write_text(json.dumps([ocd("HB 1002")]))
    bills, problems = bills_and_problems(read(tmp_path))
    assert sorted(b.identifier for b in bills) == ["HB 1001", "HB 1002", "HJR 3", "SB 2"] and problems == []


def test_one_broken_line_is_one_problem_and_the_rest_is_read(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(lines(ocd("HB 1")) + b'{"identifier": "HB 2", "title": \n' + lines(ocd("HB 3")))
    bills, problems = bills_and_problems(read(path))
    assert [b.identifier for b in bills] == ["HB 1", "HB 3"]
    assert len(problems) == 1 and "s.jsonl line 2: not valid JSON" in problems[0].message and not problems[0].kept


def test_a_truncated_gzip_keeps_what_was_read_and_says_where_it_stopped(tmp_path):
    blob = gzip.compress(lines(*[ocd(f"HB {n}") for n in range(1, 400)]))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    bills, problems = bills_and_problems(read(path))
    assert 0 < len(bills) < 399
    assert len(problems) == 1 and "damaged or truncated after line" in problems[0].message


def test_a_damaged_zip_is_a_clear_error(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SourceFormatError, match="not a readable zip archive"):
        read(tmp_path / "bad.zip")


@pytest.mark.parametrize("record, message", [
    ({"title": "no identifier"}, "no identifier"),
    (ocd("5269XD"), "type letters and a number expected"),  # an Iowa draft number
    (ocd("GM 595", state="hi", session="2026"), "a governor's message, not legislation"),
    (ocd("HB 7", classification=("proclamation",)), "not legislation we track"),
])
def test_identifiers_and_kinds_we_do_not_store_are_one_problem_each(tmp_path, record, message):
    path = tmp_path / "odd.jsonl"
    path.write_bytes(lines(ocd("HB 1"), record))
    bills, problems = bills_and_problems(read(path))
    assert [b.identifier for b in bills] == ["HB 1"]
    assert len(problems) == 1 and message in problems[0].message


@pytest.mark.parametrize("identifier, classification, kind, key", [
    ("SB 0677", ("bill",), "bill", "co-2026A-SB677"),  # TN-style zero padding
    ("HB 3F", ("bill",), "bill", "co-2026A-HB3F"),  # FL special-session suffix
    ("HCM 2001", ("concurrent memorial",), "concurrent_resolution", "co-2026A-HCM2001"),  # AZ memorial
    ("SJM 001", ("bill",), "joint_resolution", "co-2026A-SJM1"),  # CO calls it a bill; the letters tell
    ("HR 1003", ("bill",), "resolution", "co-2026A-HR1003"),
])
def test_identifier_kinds(tmp_path, identifier, classification, kind, key):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(ocd(identifier, classification=classification)))
    [bill] = read(path)
    assert (bill.kind, normalize_bill(bill).key) == (kind, key)


def test_actions_without_dates_are_kept_with_a_note(tmp_path):
    actions = [{"date": "2026-02-01", "description": "Introduced", "classification": []},
               {"date": "", "description": "Printed", "classification": []},
               {"date": "sometime", "description": "Referred to Judiciary", "classification": []}]
    path = tmp_path / "undated.json"
    path.write_text(json.dumps(ocd("HB 9", state="zz", session="2026", actions=actions)))  # no calendar
    bills, problems = bills_and_problems(read(path))
    assert [a.date for a in bills[0].actions] == [datetime(2026, 2, 1).date(), None, None]
    assert len(problems) == 1 and problems[0].kept and "2 action(s) without a readable date" in problems[0].message
    assert normalize_bill(bills[0]).status.status == "in_committee"  # undated actions still count


def test_ingest_of_damaged_input_stores_the_good_records_and_loses_nothing(settings, tmp_path):
    runner = CliRunner()
    first = tmp_path / "first.jsonl"
    first.write_bytes(lines(ocd("HB 1"), ocd("HB 2")))
    assert runner.invoke(app, ["ingest", "openstates-json", str(first), "--fetched-at", "2026-03-01T00:00:00"]
                         ).exit_code == 0
    damaged = tmp_path / "damaged.jsonl"
    # A broken line, a duplicate with different content, a bill with no identifier, and a new bill.
    damaged.write_bytes(lines(ocd("HB 3")) + b"{broken\n" + lines(ocd("HB 3", title="other title"),
                                                                  {"title": "x"}))
    result = runner.invoke(app, ["ingest", "openstates-json", str(damaged), "--fetched-at",
                                 "2026-03-02T00:00:00"])
    assert result.exit_code == 0, result.output
    assert "partial" in result.output and "3 record(s) skipped" in result.output
    engine = get_engine(settings.database_url)
    with Session(engine) as db:
        assert sorted(db.execute(select(Bill.identifier)).scalars()) == ["HB 1", "HB 2", "HB 3"]
        messages = list(db.execute(select(RunProblem.message)).scalars())
    assert any("appears twice in one batch" in m for m in messages)


def test_a_whole_session_of_ten_thousand_bills_ingests_in_one_run_with_progress(settings):
    path = shared_file("fixtures/states/openstates_sessions/nj_222.jsonl.gz")
    result = CliRunner().invoke(app, ["ingest", "openstates-json", str(path), "--fetched-at",
                                      "2026-11-15T12:00:00"])
    assert result.exit_code == 0, result.output
    assert "read 10,000 bills" in result.output and "storing them in one transaction" in result.output
    assert "inserted 10692" in result.output
    with Session(get_engine(settings.database_url)) as db:
        assert db.execute(select(func.count()).select_from(Bill)).scalar_one() == 10692
        assert db.execute(select(func.count()).select_from(Action)).scalar_one() == 13223
        assert db.execute(select(func.count()).select_from(Bill).where(Bill.status.is_(None))).scalar_one() == 0


def test_owner_prefix_names_the_chamber_and_timestamps_are_local_dates(tmp_path):
    # Utah: "House/ ..." is the House's line even where Open States' organization says upper, and a strike
    # written at 23:59:55 Mountain time on 2026-03-06 is dated 2026-03-06, not 2026-03-07 (UTC).
    actions = [{"date": "2026-03-07T06:59:55+00:00", "description": "House/ strike enacting clause",
                "organization_id": '~{"classification": "upper"}', "classification": []},
               {"date": "2026-02-01T17:00:00+00:00", "description": "Senate/ passed 3rd reading",
                "organization_id": '~{"classification": "lower"}', "classification": []}]
    path = tmp_path / "ut.json"
    path.write_text(json.dumps(ocd("HB 276", state="ut", session="2026", actions=actions)))
    [bill] = read(path)
    assert [(a.date.isoformat(), a.actor) for a in bill.actions] == [("2026-03-06", "lower"), ("2026-02-01", "upper")]
