"""Connecticut FTP source: the parser on hand-written files in the documented layout (no real
bill_info.csv / bill_history.csv has been recorded), checked against the real CT action text of the
Open States output, and fetching through a fake ftplib.FTP (nothing ever waits or connects)."""

from __future__ import annotations

import ftplib
import json
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scrapers.base import ItemProblem, SourceFormatError
from scrapers.ct_ftp import ConnecticutFTP, decode, infer_actors, parse_ct_files, status_page_url
from tests.conftest import FETCHED, shared_file
from tracker.calendar import session_calendar
from tracker.db import get_engine
from tracker.normalize.bill import normalize_bill
from tracker.runs import run_batch

FIXTURES = Path(__file__).parent / "fixtures" / "ct"
INFO_HEADER = "bill_num,bill_title,sess_year\r\n"
HISTORY_HEADER = "bill_num,act_date,act_desc,qual1,qual2\r\n"
L, U, J, E = "lower", "upper", "legislature", "executive"


def parse(info: str, history: str, year: str | None = "2026") -> list:
    return list(parse_ct_files(info, history, fetched_at=FETCHED, year=year))


def bills_of(items: list) -> dict:
    return {item.identifier: item for item in items if not isinstance(item, ItemProblem)}


@pytest.fixture(scope="module")
def fixture_bills() -> dict:
    batch = ConnecticutFTP().read_path(FIXTURES, fetched_at=FETCHED)
    return bills_of(list(batch.items))


# --- Parsing -------------------------------------------------------------------------------------

def test_fixture_parses_three_bills(fixture_bills):
    assert sorted(fixture_bills) == ["HB 5222", "SB 417", "SB 435"]
    hb = fixture_bills["HB 5222"]
    assert (hb.jurisdiction, hb.session, hb.kind, hb.origin_chamber) == ("ct", "2026", "bill", "lower")
    assert hb.title.startswith("AN ACT CONCERNING CONSUMER PROTECTION, CANNABIS")
    assert hb.source_id == "ct-ftp"
    assert hb.source_url == ("https://www.cga.ct.gov/asp/cgabillstatus/cgabillstatus.asp"
                             "?selBillType=Bill&which_year=2026&bill_num=HB5222")
    assert hb.source_flags == {} and hb.raw["bill_num"] == "HB05222"
    assert normalize_bill(hb).key == "ct-2026-HB5222"
    assert fixture_bills["SB 417"].origin_chamber == "upper"


@pytest.mark.parametrize("bill, json_name", [
    ("HB 5222", "2026__HB05222.json"), ("SB 417", "2026__SB00417.json"), ("SB 435", "2026__SB00435.json")])
def test_actions_equal_the_real_cga_text_in_order(fixture_bills, bill, json_name):
    """The fixture's act_desc + qual1 + qual2 give exactly what the CGA published, in its order."""
    real = json.loads(shared_file(f"fixtures/states/ct/openstates_scrape_json/{json_name}").read_text())
    ours = [(str(a.date), a.text) for a in fixture_bills[bill].actions]
    assert ours == [(a["date"][:10], a["description"]) for a in real["actions"]]


def test_qual_columns_complete_the_text(fixture_bills):
    texts = [a.text for a in fixture_bills["HB 5222"].actions]
    assert "FILE NO. 183" in texts and "PUBLIC HEARING 0223" in texts and "HOUSE CALENDAR NUMBER 149" in texts
    assert fixture_bills["HB 5222"].actions[0].raw_date == "2026-02-18 00:00:00"


def test_actors_inferred_from_text_and_sequence(fixture_bills):
    actors = [(a.text, a.actor) for a in fixture_bills["HB 5222"].actions]
    assert actors == [
        ("REF. TO JOINT COMM. ON General Law", J),  # CT committees are joint: neither chamber
        ("PUBLIC HEARING 0223", J),
        ("Joint Favorable Substitute", J),
        ("FILED WITH LCO", J),
        ("REFERRED TO Office of Legislative Research AND Office of Fiscal Analysis 03/25/26", J),
        ("RPTD. OUT OF LCO", J),
        ("FAV. RPT., TABLED FOR HOUSE CALENDAR", L),
        ("HOUSE CALENDAR NUMBER 149", L),
        ("FILE NO. 183", L),  # names nobody: the chamber holding the bill
        ("REF. BY HOUSE TO COMMITTEE ON Judiciary", L),
        ("Joint Favorable", J),
        ("FILED WITH LCO", J),
        ("RPTD. OUT OF LCO", J),
        ("NO NEW FILE BY COMM. ON Judiciary", J),
        ("TABLED FOR HOUSE CALENDAR", L),
        ("HOUSE ADOPTED HOUSE AMEND. SCH. A", L),
        ("HOUSE PASSED, HOUSE AMEND. SCH. A", L),
        ("TRANSMITTED PURSUANT TO JOINT RULE 17", L),  # the House sends it on
        ("FAV. RPT., TAB. FOR CAL., SEN.", U),
        ("SENATE CALENDAR NUMBER 551", U),
        ("SEN. ADOPTED HO. AMEND. SCH. A", U),
        ("SEN. PASSED, HO. AMEND. SCH. A", U),
        ("IN CONCURRENCE", U),  # the Senate concurred in the House's version
        ("PUBLIC ACT 26-100", None),  # names nobody
        ("TRANSMITTED TO SECRETARY OF THE STATE", None),
        ("TRANSMITTED BY SECRETARY OF THE STATE TO GOVERNOR", E),
        ("SIGNED BY GOVERNOR", E),
    ]
    sb417 = {a.text: a.actor for a in fixture_bills["SB 417"].actions}
    assert sb417["RULES SUSPENDED,TRANS.TO HOUSE"] == U  # the Senate sends it on
    assert sb417["HOUSE PASSED, SEN. AMEND. SCH. A"] == L
    sb435 = {a.text: a.actor for a in fixture_bills["SB 435"].actions}
    assert sb435["REF. BY SEN. TO COMM. ON Judiciary"] == U
    assert sb435["IMMEDIATE TRANSMITTAL TO COMMITTEE"] == U


def test_actor_sequence_after_passage():
    # Unnamed lines after a chamber passed the bill belong to the other chamber, which now holds it;
    # a bill's first unnamed line belongs to its origin chamber.
    assert infer_actors(["SENATE PASSED", "SOMETHING NEW", "IN CONCURRENCE"], "upper") == [U, L, U]
    assert infer_actors(["SOMETHING NEW", "TABLED FOR THE CALENDAR, HOUSE"], "lower") == [L, L]
    assert infer_actors(["ADOPTED, SENATE", "VETOED BY GOVERNOR"], "upper") == [U, E]


def test_statuses_of_the_fixture_bills(fixture_bills):
    hb = normalize_bill(fixture_bills["HB 5222"]).status
    assert (hb.status, hb.enacted_how, hb.chapter, str(hb.status_date)) == ("enacted", "signed", "26-100",
                                                                              "2026-06-02")
    sb417 = normalize_bill(fixture_bills["SB 417"]).status
    assert (sb417.status, sb417.enacted_how, sb417.chapter) == ("enacted", "signed", "SPECIAL ACT 26-23")
    sb435 = normalize_bill(fixture_bills["SB 435"]).status
    # "Joint Favorable", never passed the Senate; dead at sine die once sessions.toml knows CT 2026's end.
    ended = session_calendar("ct", "2026").final_action_date is not None
    assert sb435.status == ("failed" if ended else "passed_committee")


def test_passage_by_each_chamber_is_read_with_the_inferred_actor():
    history = (HISTORY_HEADER
               + "HB05222,2026-02-18 00:00:00,REF. TO JOINT COMM. ON,GL,\r\n"
               + "HB05222,2026-03-11 00:00:00,Joint Favorable,,\r\n"
               + "HB05222,2026-05-05 00:00:00,\"HOUSE PASSED, HOUSE AMEND. SCH. A\",,\r\n")
    (bill,) = parse(INFO_HEADER + "HB05222,AN ACT.,2026\r\n", history)
    assert bill.actions[0].text == "REF. TO JOINT COMM. ON GL"  # the committee code from qual1
    assert normalize_bill(bill).status.status == "passed_origin"
    (bill,) = parse(INFO_HEADER + "HB05222,AN ACT.,2026\r\n",
                    history + "HB05222,2026-05-06 00:00:00,\"SEN. PASSED, HO. AMEND. SCH. A\",,\r\n")
    assert normalize_bill(bill).status.status == "passed_second"


def test_public_act_number_alone_is_before_the_governor_not_law():
    (bill,) = parse(INFO_HEADER + "SB00002,AN ACT.,2026\r\n",
                    HISTORY_HEADER + "SB00002,2026-05-20 00:00:00,PUBLIC ACT,26-7,\r\n")
    status = normalize_bill(bill).status
    assert (status.status, status.chapter) == ("to_governor", "26-7")


def test_public_act_then_veto_is_vetoed():
    # Wording of the veto line not seen in a recorded CT file (task brief, other readers of the file).
    (bill,) = parse(INFO_HEADER + "SB00002,AN ACT.,2026\r\n",
                    HISTORY_HEADER + "SB00002,2026-05-20 00:00:00,PUBLIC ACT,26-7,\r\n"
                    + "SB00002,2026-06-01 00:00:00,VETOED BY GOVERNOR,,\r\n")
    status = normalize_bill(bill).status
    assert (status.status, status.override_possible) == ("vetoed", True)


def test_same_day_actions_keep_file_order_and_dates_are_sorted():
    history = (HISTORY_HEADER
               + "SB00002,2026-05-05 00:00:00,SEN. PASSED,,\r\n"
               + "SB00002,2026-05-05 00:00:00,RULES SUSPENDED,TRANS.TO HOUSE,\r\n"
               + "SB00002,2026-03-01 00:00:00,REF. TO JOINT COMM. ON,GL,\r\n")
    (bill,) = parse(INFO_HEADER + "SB00002,AN ACT.,2026\r\n", history)
    assert [a.text for a in bill.actions] == ["REF. TO JOINT COMM. ON GL", "SEN. PASSED",
                                              "RULES SUSPENDED TRANS.TO HOUSE"]


def test_kinds_and_identifiers():
    items = parse(INFO_HEADER + "HJ00045,RESOLUTION.,2026\r\nSR00003,RESOLUTION.,2026\r\n"
                  + "XB00001,ODD.,2026\r\n", HISTORY_HEADER)
    bills = bills_of(items)
    assert (bills["HJ 45"].kind, bills["SR 3"].kind) == ("joint_resolution", "resolution")
    problems = [i for i in items if isinstance(i, ItemProblem)]
    assert [p.item_key for p in problems] == ["XB00001"] and "unknown bill type" in problems[0].message


def test_impossible_date_skips_only_that_bill():
    items = parse(INFO_HEADER + "HB05001,AN ACT.,2026\r\nHB05002,AN ACT.,2026\r\n",
                  HISTORY_HEADER + "HB05001,2026-02-30 00:00:00,REF. TO JOINT COMM. ON,GL,\r\n"
                  + "HB05002,2026-02-18 00:00:00,REF. TO JOINT COMM. ON,GL,\r\n")
    problems = [i for i in items if isinstance(i, ItemProblem)]
    assert [p.item_key for p in problems] == ["HB05001"] and "2026-02-30" in problems[0].message
    assert list(bills_of(items)) == ["HB 5002"]


@pytest.mark.parametrize("info, history, missing", [
    ("bill_num,bill_title\r\nHB05001,AN ACT.\r\n", HISTORY_HEADER,
     "bill_info.csv: missing column.*sess_year"),
    (INFO_HEADER, "bill_num,act_date,qual1,qual2\r\n", "bill_history.csv: missing column.*act_desc"),
    (INFO_HEADER, "", "bill_history.csv: missing column.*no header"),
])
def test_missing_column_fails_loudly(info, history, missing):
    with pytest.raises(SourceFormatError, match=missing):
        parse(info, history)


def test_html_instead_of_csv_fails_loudly():
    with pytest.raises(SourceFormatError, match="bill_info.csv: got HTML"):
        parse("\r\n<!DOCTYPE html><html><body>Service unavailable</body></html>", HISTORY_HEADER)


def test_session_filter():
    info = INFO_HEADER + "HB05001,OLD.,2025\r\nHB05001,NEW.,2026\r\n"
    assert [b.title for b in parse(info, HISTORY_HEADER, year="2026")] == ["NEW."]
    with pytest.raises(SourceFormatError, match="no bills of session 2027; sess_year holds 2025, 2026"):
        parse(info, HISTORY_HEADER, year="2027")
    # Without a year each row's own sess_year is its session.
    assert parse(INFO_HEADER + "HB05001,OLD.,2025\r\n", HISTORY_HEADER, year=None)[0].session == "2025"


def test_conflicting_duplicate_rows_are_a_problem():
    rows = "HB05001,A.,2026\r\nHB05001,A.,2026\r\nHB05002,A.,2026\r\nHB05002,B.,2026\r\n"
    items = parse(INFO_HEADER + rows, HISTORY_HEADER)
    assert list(bills_of(items)) == ["HB 5001"]
    assert [i.item_key for i in items if isinstance(i, ItemProblem)] == ["HB05002"]


def test_cp1252_bytes_are_decoded():
    assert decode("AN ACT \u2013 CAF\u00c9".encode("cp1252")) == "AN ACT \u2013 CAF\u00c9"
    assert decode("\ufeffbill_num".encode()) == "bill_num"


def test_read_path_takes_the_year_from_the_folder_or_the_option(tmp_path: Path):
    folder = tmp_path / "ct_2025"
    folder.mkdir()
    (folder / "bill_info.csv").write_text(INFO_HEADER + "HB05001,OLD.,2025\r\nHB05001,NEW.,2026\r\n")
    (folder / "BILL_HISTORY.CSV").write_text(HISTORY_HEADER)
    assert [b.title for b in ConnecticutFTP().read_path(folder, fetched_at=FETCHED).items] == ["OLD."]
    batch = ConnecticutFTP().read_path(folder / "bill_info.csv", fetched_at=FETCHED, session="2026")
    assert [b.title for b in batch.items] == ["NEW."]
    (folder / "BILL_HISTORY.CSV").unlink()
    with pytest.raises(FileNotFoundError, match="bill_history.csv"):
        ConnecticutFTP().read_path(folder)


def test_status_page_url_is_the_public_page_pattern():
    assert status_page_url("SB00002", "2024") == ("https://www.cga.ct.gov/asp/cgabillstatus/cgabillstatus.asp"
                                                  "?selBillType=Bill&which_year=2024&bill_num=SB2")


# --- Fetching over FTP (fake server) -----------------------------------------------------------

GOOD_FILES = {"/pub/data/bill_info.csv": (FIXTURES / "bill_info.csv").read_bytes(),
              "/pub/data/bill_history.csv": (FIXTURES / "bill_history.csv").read_bytes()}


@dataclass
class FakeServer:
    """Builds FakeFTP connections (the `ftp_factory`) and records what the client did."""

    files: dict[str, bytes]
    failures: list[tuple[str | None, BaseException]] = field(default_factory=list)  # per connection
    connections: list[tuple[str, float]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def __call__(self, host: str, timeout: float) -> FakeFTP:
        self.connections.append((host, timeout))
        number = len(self.connections) - 1
        return FakeFTP(self, self.failures[number] if number < len(self.failures) else None)


class FakeFTP:
    def __init__(self, server: FakeServer, failure: tuple[str | None, BaseException] | None):
        self.server, self.failure = server, failure

    def login(self, user: str, passwd: str) -> str:
        self.server.commands.append(f"USER {user} PASS {passwd}")
        return "230 User logged in."

    def set_pasv(self, value: bool) -> None:
        self.server.commands.append(f"PASV {value}")

    def voidcmd(self, command: str) -> str:
        self.server.commands.append(command)
        return "200 Type set to I."

    def size(self, path: str) -> int:
        if path not in self.server.files:
            raise ftplib.error_perm(f"550 {path}: The system cannot find the file specified.")
        return len(self.server.files[path])

    def retrbinary(self, command: str, callback, blocksize: int = 8192) -> str:
        self.server.commands.append(command)
        path = command.split(" ", 1)[1]
        if self.failure and self.failure[0] in (None, path.rsplit("/", 1)[1]):
            raise self.failure[1]
        if path not in self.server.files:
            raise ftplib.error_perm(f"550 {path}: The system cannot find the file specified.")
        data = self.server.files[path]
        for start in range(0, len(data), blocksize):
            callback(data[start:start + blocksize])
        return "226 Transfer complete."

    def quit(self) -> str:
        self.server.commands.append("QUIT")
        return "221 Goodbye."

    def close(self) -> None:
        pass


@pytest.fixture
def sleeps() -> list[float]:
    return []


def fetch(server: FakeServer, settings, sleeps: list[float]) -> list:
    source = ConnecticutFTP(ftp_factory=server, sleep=sleeps.append)
    return list(source.fetch(None, settings))


def test_good_fetch_uses_one_connection_for_both_files(settings, sleeps):
    server = FakeServer(dict(GOOD_FILES))
    (batch,) = fetch(server, settings, sleeps)
    assert batch.error is None
    assert batch.target == "ftp://ftp.cga.ct.gov/pub/data/bill_info.csv + bill_history.csv"
    assert sorted(bills_of(list(batch.items))) == ["HB 5222", "SB 417", "SB 435"]
    assert server.connections == [("ftp.cga.ct.gov", settings.http_timeout_seconds)]
    assert server.commands == [f"USER anonymous PASS {settings.contact_email}", "PASV True",
                               "TYPE I", "RETR /pub/data/bill_info.csv",
                               "TYPE I", "RETR /pub/data/bill_history.csv", "QUIT"]
    assert sleeps == []


def test_timeout_on_every_attempt_is_an_error_batch(settings, sleeps):
    attempts = settings.http_max_retries + 1
    timeout = ("bill_info.csv", socket.timeout("timed out"))
    server = FakeServer(dict(GOOD_FILES), failures=[timeout] * attempts)
    (batch,) = fetch(server, settings, sleeps)
    assert batch.error == (f"ftp://ftp.cga.ct.gov/pub/data/bill_info.csv: timed out after {attempts} "
                           "attempt(s) (TimeoutError)")
    assert "Traceback" not in batch.error
    assert len(server.connections) == attempts and len(sleeps) == attempts - 1


def test_a_transient_failure_is_retried_with_backoff(settings, sleeps):
    server = FakeServer(dict(GOOD_FILES), failures=[("bill_history.csv", ConnectionResetError("reset"))])
    (batch,) = fetch(server, settings, sleeps)
    assert batch.error is None and len(list(batch.items)) == 3
    assert len(server.connections) == 2 and len(sleeps) == 1 and sleeps[0] > 0


def test_missing_file_550_is_an_error_batch_without_retries(settings, sleeps):
    server = FakeServer({"/pub/data/bill_info.csv": GOOD_FILES["/pub/data/bill_info.csv"]})
    (batch,) = fetch(server, settings, sleeps)
    assert batch.error.startswith("ftp://ftp.cga.ct.gov/pub/data/bill_history.csv: server refused: 550")
    assert len(server.connections) == 1 and sleeps == []


def test_file_over_the_size_cap_is_refused(settings, sleeps):
    small = settings.model_copy(update={"http_max_response_mb": 0.001})  # 1,048 bytes
    (batch,) = fetch(FakeServer(dict(GOOD_FILES)), small, sleeps)
    assert batch.error.startswith("ftp://ftp.cga.ct.gov/pub/data/bill_history.csv: file of ")
    assert "byte limit" in batch.error


@pytest.mark.parametrize("body", [b"<!DOCTYPE html>\r\n<html><body>Login failed</body></html>",
                                  b"PK\x03\x04\x00\x00garbage\xff\xfe"])
def test_html_or_garbage_file_fails_the_run(settings, sleeps, sqlite_url, body):
    server = FakeServer({**GOOD_FILES, "/pub/data/bill_info.csv": body})
    (batch,) = fetch(server, settings, sleeps)
    assert batch.error is None  # the download worked; the content is wrong
    summary = run_batch(get_engine(sqlite_url), "ct-ftp", batch)
    assert summary.status == "failed"
    assert summary.message.startswith("SourceFormatError: bill_info.csv: ")


def test_a_truncated_file_is_a_clear_problem_and_its_last_bill_is_left_as_stored():
    info = (FIXTURES / "bill_info.csv").read_text()
    history = (FIXTURES / "bill_history.csv").read_text()
    last = history.rstrip("\r\n").rsplit("\n", 1)[1]
    cut_history = history[: history.rindex(last) + len(last) // 2]  # the transfer dropped mid-line
    items = list(parse_ct_files(info, cut_history, fetched_at=FETCHED, year=2026))
    problems = [i for i in items if isinstance(i, ItemProblem)]
    cut_bill = last.split(",", 1)[0]
    assert [p.message for p in problems] == [
        f"bill_history.csv ends mid-record (no line break after its last line, {cut_bill[:2]} "
        f"{int(cut_bill[2:])}): a truncated download?; bill left as stored"]
    assert cut_bill[:2] + " " + str(int(cut_bill[2:])) not in bills_of(items)  # never stored half-read
    assert len(bills_of(items)) == 2
    cut_info = info[: info.rindex("SB00435") + 30]
    items = list(parse_ct_files(cut_info, history, fetched_at=FETCHED, year=2026))
    assert any("bill_info.csv ends mid-record" in p.message for p in items if isinstance(p, ItemProblem))
    assert sorted(bills_of(items)) == ["HB 5222", "SB 417"]
    whole = list(parse_ct_files(info, history, fetched_at=FETCHED, year=2026))  # complete files: no problem
    assert not [i for i in whole if isinstance(i, ItemProblem)] and len(bills_of(whole)) == 3
