"""California pubinfo: the real 2025-26 mini tables, statuses against the source's own view,
zips, the live fetch through a mock transport, and bad input."""

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

import scrapers
from scrapers.base import ItemProblem, SourceFormatError
from scrapers.ca_pubinfo import (
    COLUMNS,
    CaliforniaPubinfo,
    archive_url,
    daily_archive_name,
    parse_caml,
    parse_tables,
    read_zip,
)
from tests.conftest import shared_file
from tracker.db import get_engine
from tracker.http import Fetcher
from tracker.models import Bill, ScrapeRun
from tracker.normalize.bill import normalize_bill
from tracker.runs import run_source

MINI = "fixtures/states/ca/pubinfo_mini_2025-26"
FETCHED = datetime(2026, 6, 12, tzinfo=UTC)  # the day after the newest trans_update in the mini tables
SATURDAY = date(2026, 6, 13)
SATURDAY_MORNING = datetime(2026, 6, 13, 15, 0, tzinfo=UTC)  # the fetch time of a Saturday run, pinned
DOWNLOADS = "https://downloads.leginfo.legislature.ca.gov/"
SATURDAY_URL = DOWNLOADS + "pubinfo_Sat.zip"


def mini_tables() -> dict[str, str]:
    folder = shared_file(MINI)
    return {p.stem: p.read_text(encoding="utf-8") for p in folder.glob("*.dat")}


def parse(tables: dict[str, str]) -> list:
    return list(parse_tables(tables, fetched_at=FETCHED))


def bills_of(items) -> dict:
    return {item.identifier: item for item in items if not isinstance(item, ItemProblem)}


def zip_bytes(tables: dict[str, str], extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table, text in tables.items():
            archive.writestr(f"{table}.dat", text.encode("utf-8"))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def mini() -> dict:
    batch = CaliforniaPubinfo().read_path(shared_file(MINI), fetched_at=FETCHED)
    return {item.identifier: normalize_bill(item) for item in batch.items}


# --- The real tables -----------------------------------------------------------------------------

def test_the_four_bills_are_read(mini):
    assert sorted(mini) == ["AB 1656", "AB 2052", "AB 831", "SB 275"]
    sb275 = mini["SB 275"].scraped
    assert mini["SB 275"].key == "ca-20252026-SB275"
    assert (sb275.jurisdiction, sb275.session, sb275.kind, sb275.origin_chamber) == (
        "ca", "20252026", "bill", "upper")
    assert sb275.title == "Eligible training provider list."
    assert sb275.source_url == (
        "https://leginfo.legislature.ca.gov/faces/billNavClient.xhtml?bill_id=202520260SB275")
    assert [(s.name, s.primary) for s in sb275.sponsors] == [("Smallwood-Cuevas", True), ("Limón", False)]
    assert sb275.raw["bill_id"] == "202520260SB275" and sb275.raw["chapter_num"] == ""
    assert sb275.source_flags["current_status"] == "Vetoed"
    assert sb275.source_flags["veto_date"] == "2025-10-10 00:00:00"
    assert sb275.introduced_on == date(2025, 2, 4)
    assert len(sb275.actions) == 29


def test_title_and_authors_come_from_the_latest_version(mini):
    # AB 831 was gutted and amended: introduced by Ramos on gaming compacts, chaptered as Valencia's.
    ab831 = mini["AB 831"].scraped
    assert ab831.title == "Gambling: operation of a contest or sweepstakes."
    assert [(s.name, s.primary) for s in ab831.sponsors] == [("Valencia", True)]
    assert [(v.note, v.date) for v in ab831.versions] == [
        ("Introduced", date(2025, 2, 19)), ("Amended Senate", date(2025, 6, 23)),
        ("Amended Senate", date(2025, 7, 16)), ("Amended Senate", date(2025, 9, 3)),
        ("Enrolled", date(2025, 9, 16)), ("Chaptered", date(2025, 10, 11))]
    assert ab831.chapter == "623"
    assert ab831.summary is None  # the mini tables carry no .lob files


def test_actions_follow_action_sequence_then_history_id(mini):
    texts = [a.text for a in mini["AB 831"].scraped.actions]
    assert texts.index("Withdrawn from committee.") + 1 == texts.index("Ordered to second reading.")
    assert texts[0] == "Read first time.  To print."  # raw text kept verbatim, double spaces and all
    assert texts[-3:] == ["Enrolled and presented to the Governor at  3 p.m.", "Approved by the Governor.",
                          "Chaptered by Secretary of State - Chapter 623, Statutes of 2025."]
    assert [a.text for a in mini["SB 275"].scraped.actions][-2:] == ["Stricken from file.", "Veto sustained."]


def test_actors_come_from_the_location_and_governor_lines_from_their_text(mini):
    actors = {a.text: a.actor for a in mini["SB 275"].scraped.actions}
    senate_passage = "Read third time. Passed. (Ayes 38. Noes  0. Page 1323.) Ordered to the Assembly."
    assembly_passage = "Read third time. Passed. (Ayes 78. Noes  1. Page 2998.) Ordered to the Senate."
    concurrence = ("Assembly amendments concurred in. (Ayes 40. Noes  0. Page 2741.) Ordered to engrossing "
                   "and enrolling.")
    assert actors[senate_passage] == "upper" and actors[assembly_passage] == "lower"
    assert actors[concurrence] == "upper"  # the origin house concurring: its own final passage
    assert actors["Vetoed by the Governor."] == "executive"  # pubinfo files it under location "Senate"
    assert actors["Enrolled and presented to the Governor at  3 p.m."] == "executive"
    chaptered = mini["AB 831"].scraped.actions[-1]
    assert chaptered.actor == "executive" and chaptered.raw_date == "2025-10-11 00:00:00"


def _source_view(flags: dict, origin: str) -> str:
    """What BILL_TBL itself says about the bill, in our status words."""
    if flags["chapter_num"] or flags["current_status"] == "Chaptered":
        return "enacted"
    if flags["current_status"] == "Vetoed":
        return "vetoed"
    house = {"Assembly": "lower", "Senate": "upper"}.get(flags["current_house"])
    if house and house != origin:
        return "passed_origin"  # in the second house: the origin house passed it
    return "pending"


def test_statuses_agree_with_the_source_flags(mini):
    agree = {key: (_source_view(n.scraped.source_flags, n.scraped.origin_chamber), n.status.status)
             for key, n in mini.items()}
    assert all(view == ours for view, ours in agree.values()), agree
    assert len(agree) == 4


@pytest.mark.parametrize("identifier, expected", [
    ("SB 275", ("vetoed", None, False, None, date(2026, 3, 2))),  # vetoed, then "Veto sustained."
    ("AB 831", ("enacted", "signed", False, "623", date(2025, 10, 11))),
    ("AB 1656", ("passed_origin", None, False, None, date(2026, 3, 12))),
    ("AB 2052", ("passed_origin", None, False, None, date(2026, 4, 23))),
])
def test_each_bill_status(mini, identifier, expected):
    status = mini[identifier].status
    how = status.enacted_how or status.failed_how
    assert (status.status, how, status.override_possible, status.chapter, status.status_date) == expected


def test_every_mini_action_is_classified(mini):
    missed = [a.text for n in mini.values()
              for a, c in zip(n.scraped.actions, n.classifications, strict=True) if c.unclassified]
    assert missed == []


# --- CAML (.lob) --------------------------------------------------------------------------------

def test_caml_digest_is_the_summary():
    info = parse_caml(shared_file("fixtures/states/ca/caml_20250AB76_introduced.xml").read_bytes())
    paragraphs = info.digest.split("\n\n")
    assert len(paragraphs) == 2
    assert paragraphs[0].startswith("Existing law prescribes requirements for the disposal of surplus land")
    assert '"surplus land"' in paragraphs[0]  # curly quotes straightened
    assert "staff of an academic institution" in paragraphs[1] and "\t" not in info.digest
    assert info.history == (("INTRODUCED", "2024-12-16"),)


def test_caml_history_codes_are_read():
    path = shared_file("fixtures/states/ca/caml_20230AB230297CHP_AB2302_chaptered.xml")
    info = parse_caml(path.read_bytes())
    assert [code for code, _ in info.history] == [
        "INTRODUCED", "PASSED_ASSEMBLY", "PASSED_SENATE", "ENROLLED", "CHAPTERED", "APPROVED", "FILED"]
    assert info.digest.startswith("Existing law, the Ralph M. Brown Act")


def test_broken_caml_gives_no_summary():
    assert parse_caml(b"<html><body>oops").digest is None


def test_zip_with_lob_gives_summary_and_caml_history(tmp_path: Path):
    # The real AB 76 CAML stands in for AB 831's chaptered .lob: it checks the wiring, not AB 831's text.
    caml = shared_file("fixtures/states/ca/caml_20250AB76_introduced.xml").read_bytes()
    path = tmp_path / "pubinfo_2025.zip"
    path.write_bytes(zip_bytes(mini_tables(), {"BILL_VERSION_TBL_9506.lob": caml}))
    items = list(CaliforniaPubinfo().read_path(path, fetched_at=FETCHED).items)
    ab831 = bills_of(items)["AB 831"]
    assert ab831.summary.startswith("Existing law prescribes requirements")
    assert ab831.source_flags["caml_history"] == "INTRODUCED 2024-12-16"
    assert bills_of(items)["SB 275"].summary is None
    assert len(items) == 4


# --- Which archive, and the live fetch ------------------------------------------------------------

@pytest.mark.parametrize("day, name", [
    (date(2026, 6, 8), "pubinfo_Mon.zip"), (date(2026, 6, 9), "pubinfo_Tue.zip"),
    (date(2026, 6, 10), "pubinfo_Wed.zip"), (date(2026, 6, 11), "pubinfo_Thu.zip"),
    (date(2026, 6, 12), "pubinfo_Fri.zip"), (date(2026, 6, 13), "pubinfo_Sat.zip"),
    (date(2026, 6, 14), "pubinfo_Sat.zip"),  # no Sunday archive
])
def test_daily_archive_name(day, name):
    assert daily_archive_name(day) == name
    assert archive_url("daily", day) == f"https://downloads.leginfo.legislature.ca.gov/{name}"


def test_explicit_archive_name_and_bad_names():
    assert archive_url("pubinfo_2025.zip", SATURDAY) == DOWNLOADS + "pubinfo_2025.zip"
    for bad in ("../etc/passwd", "https://evil.example/x.zip", "pubinfo_2025", ""):
        with pytest.raises(ValueError, match="TRACKER_CA_PUBINFO_ARCHIVE"):
            archive_url(bad, SATURDAY)


class FakeDownloads:
    """The downloads host: serves one zip with an ETag and answers If-None-Match with 304."""

    def __init__(self, body: bytes, content_type: str = "application/zip"):
        self.body, self.content_type, self.requests = body, content_type, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A copy: the cache layer puts If-None-Match on the request only while it is being sent.
        self.requests.append(httpx.Request(request.method, request.url, headers=request.headers.copy()))
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"etag": '"v1"'})
        return httpx.Response(200, content=self.body,
                              headers={"content-type": self.content_type, "etag": '"v1"',
                                       "cache-control": "no-cache"})


def fetch(settings, server: FakeDownloads, archive: str = "daily"):
    settings = settings.model_copy(update={"ca_pubinfo_archive": archive})
    source = CaliforniaPubinfo(today=lambda: SATURDAY)
    with Fetcher(settings, transport=httpx.MockTransport(server), sleep=lambda s: None) as fetcher:
        return [(batch, list(batch.items)) for batch in source.fetch(fetcher, settings)]


def test_fetch_reads_todays_daily_archive(settings):
    server = FakeDownloads(zip_bytes(mini_tables()))
    [(batch, items)] = fetch(settings, server)
    assert str(server.requests[0].url) == "https://downloads.leginfo.legislature.ca.gov/pubinfo_Sat.zip"
    assert server.requests[0].headers["user-agent"].startswith("StatehouseAITracker/")
    assert batch.target == SATURDAY_URL and batch.error is None
    assert sorted(bills_of(items)) == ["AB 1656", "AB 2052", "AB 831", "SB 275"]


def test_fetch_of_an_unchanged_archive_is_not_modified(settings):
    server = FakeDownloads(zip_bytes(mini_tables()))
    fetch(settings, server, "pubinfo_2025.zip")
    [(batch, items)] = fetch(settings, server, "pubinfo_2025.zip")
    assert [r.headers.get("if-none-match") for r in server.requests] == [None, '"v1"']
    assert batch.not_modified and batch.error is None
    assert len(bills_of(items)) == 4  # the cached archive still parses, should the last ingest have failed


def test_fetch_of_a_truncated_zip_is_a_failed_batch(settings):
    body = zip_bytes(mini_tables())
    [(batch, items)] = fetch(settings, FakeDownloads(body[: len(body) // 2]))
    assert batch.error.startswith(f"SourceFormatError: {SATURDAY_URL}:")
    assert "not a readable zip archive" in batch.error and items == []


def test_fetch_of_an_html_error_page_is_a_failed_batch(settings):
    page = b"<!DOCTYPE html><html><body>Service Unavailable</body></html>"
    [(batch, _)] = fetch(settings, FakeDownloads(page, "text/html"))
    assert "got HTML/XML where a pubinfo zip archive was expected" in batch.error


def test_fetch_with_a_bad_archive_setting_fails_cleanly(settings):
    [(batch, _)] = fetch(settings, FakeDownloads(b""), "../../secret")
    assert "TRACKER_CA_PUBINFO_ARCHIVE" in batch.error


@pytest.fixture
def ca_run(settings, sqlite_url, monkeypatch):
    """run_source as `tracker run` calls it, with this source registered and a fake downloads host."""
    monkeypatch.setitem(scrapers.REGISTRY, "ca-pubinfo",
                        CaliforniaPubinfo(today=lambda: SATURDAY, clock=lambda: SATURDAY_MORNING))
    engine = get_engine(sqlite_url)

    def run(server: FakeDownloads):
        with Fetcher(settings, transport=httpx.MockTransport(server), sleep=lambda s: None) as fetcher:
            [summary] = run_source(engine, settings, "ca-pubinfo", fetcher=fetcher)
        return summary, engine
    return run


def test_a_good_daily_archive_is_an_ok_run(ca_run):
    summary, engine = ca_run(FakeDownloads(zip_bytes(mini_tables())))
    assert (summary.status, summary.inserted, summary.problems) == ("ok", 4, 0), summary
    with Session(engine) as db:
        statuses = {b.identifier: b.status for b in db.execute(select(Bill)).scalars()}
    assert statuses == {"SB 275": "vetoed", "AB 831": "enacted", "AB 1656": "passed_origin",
                        "AB 2052": "passed_origin"}


def test_a_truncated_archive_is_a_failed_run_with_a_clear_message(ca_run):
    body = zip_bytes(mini_tables())
    summary, engine = ca_run(FakeDownloads(body[:-200]))
    assert summary.status == "failed" and "not a readable zip archive" in summary.message
    with Session(engine) as db:
        run = db.execute(select(ScrapeRun)).scalars().one()
        assert (run.status, run.target) == ("failed", SATURDAY_URL)
        assert db.execute(select(Bill)).first() is None


# --- Bad input ------------------------------------------------------------------------------------

def test_truncated_zip_file_fails_loudly(tmp_path: Path):
    path = tmp_path / "pubinfo_Mon.zip"
    path.write_bytes(zip_bytes(mini_tables())[:300])
    with pytest.raises(SourceFormatError, match="pubinfo_Mon.zip: not a readable zip archive"):
        CaliforniaPubinfo().read_path(path, fetched_at=FETCHED)


def test_damaged_member_fails_loudly():
    body = bytearray(zip_bytes(mini_tables()))
    with zipfile.ZipFile(io.BytesIO(bytes(body))) as archive:
        info = archive.getinfo("BILL_HISTORY_TBL.dat")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    body[start + 10: start + 40] = bytes(30)  # scribble over the deflated data
    with pytest.raises(SourceFormatError, match="BILL_HISTORY_TBL.dat is damaged"):
        read_zip(bytes(body), fetched_at=FETCHED, name="pubinfo_Tue.zip")


def test_row_with_a_missing_column_fails_loudly():
    tables = mini_tables()
    first, rest = tables["BILL_TBL"].split("\n", 1)
    tables["BILL_TBL"] = first.rsplit("\t", 1)[0] + "\n" + rest  # days_31st_in_print dropped
    with pytest.raises(SourceFormatError, match=r"BILL_TBL.dat line 1: 18 fields where the .* layout has 19"):
        parse(tables)


def test_row_with_an_extra_column_fails_loudly():
    tables = mini_tables()
    tables["BILL_HISTORY_TBL"] = tables["BILL_HISTORY_TBL"].replace("`In Committee Process`\n",
                                                                    "`In Committee Process`\t`new`\n", 1)
    with pytest.raises(SourceFormatError, match=r"BILL_HISTORY_TBL.dat line 1: 14 fields .* has 13"):
        parse(tables)


def test_html_instead_of_a_table_fails_loudly():
    tables = mini_tables()
    tables["BILL_HISTORY_TBL"] = "<!DOCTYPE html><html><head><title>Error</title></head></html>\n"
    with pytest.raises(SourceFormatError, match="BILL_HISTORY_TBL.dat: got HTML"):
        parse(tables)


def test_missing_table_fails_loudly():
    tables = mini_tables()
    del tables["BILL_HISTORY_TBL"]
    with pytest.raises(SourceFormatError, match="no BILL_HISTORY_TBL.dat"):
        parse(tables)


def test_impossible_date_skips_only_that_bill():
    tables = mini_tables()
    tables["BILL_HISTORY_TBL"] = tables["BILL_HISTORY_TBL"].replace(
        "2025-02-04 00:00:00\t`Introduced.", "2025-02-30 00:00:00\t`Introduced.")
    items = parse(tables)
    [problem] = [i for i in items if isinstance(i, ItemProblem)]
    assert problem.item_key == "202520260SB275" and "2025-02-30" in problem.message
    assert problem.url.endswith("bill_id=202520260SB275")
    assert sorted(bills_of(items)) == ["AB 1656", "AB 2052", "AB 831"]


def test_unknown_measure_type_is_a_problem_for_that_bill():
    tables = mini_tables()
    tables["BILL_TBL"] += tables["BILL_TBL"].split("\n")[0].replace("202520260SB275", "202520260XB275") \
        .replace("`SB`", "`XB`") + "\n"
    items = parse(tables)
    problems = [p for p in items if isinstance(p, ItemProblem)]
    assert [p.item_key for p in problems] == ["202520260XB275"]
    assert "unknown measure type 'XB'" in problems[0].message


def test_partial_history_is_left_as_stored():
    # A daily delta that carried only a bill's newest history rows must not replace its stored history.
    tables = mini_tables()
    tables["BILL_HISTORY_TBL"] = "\n".join(
        line for line in tables["BILL_HISTORY_TBL"].split("\n")
        if not (line.startswith("`202520260AB2052`") and "\t1\t`1`\t" in line))
    items = parse(tables)
    [problem] = [i for i in items if isinstance(i, ItemProblem)]
    assert problem.item_key == "202520260AB2052" and "starts at action_sequence 2" in problem.message


def test_bill_without_versions_is_left_as_stored():
    tables = mini_tables()
    tables["BILL_VERSION_TBL"] = "\n".join(
        line for line in tables["BILL_VERSION_TBL"].split("\n") if "`202520260AB1656`" not in line)
    [problem] = [i for i in parse(tables) if isinstance(i, ItemProblem)]
    assert problem.item_key == "202520260AB1656" and "no BILL_VERSION_TBL row" in problem.message


def _row(table: str, **values) -> str:
    """One hand-made .dat row: text in backticks, NULL for what is not given."""
    fields = []
    for column in COLUMNS[table]:
        value = values.get(column)
        fields.append("NULL" if value is None else value if isinstance(value, int) else f"`{value}`")
    return "\t".join(str(f) for f in fields) + "\n"


def _measure(bill_id: str, measure_type: str, number: int, session_num: str = "0",
             action: str = "Read first time. To print.") -> dict[str, str]:
    version = f"2025{session_num}{measure_type}{number}99INT"
    return {
        "BILL_TBL": _row("BILL_TBL", bill_id=bill_id, session_year="20252026", session_num=session_num,
                         measure_type=measure_type, measure_num=number, measure_state="Introduced",
                         latest_bill_version_id=version),
        "BILL_HISTORY_TBL": _row("BILL_HISTORY_TBL", bill_id=bill_id, bill_history_id=1,
                                 action_date="2025-03-02 00:00:00", action=action, action_sequence=1,
                                 primary_location="Assembly" if measure_type[0] in "AH" else "Senate"),
        "BILL_VERSION_TBL": _row("BILL_VERSION_TBL", bill_id=bill_id, bill_version_id=version, version_num=99,
                                 bill_version_action_date="2025-03-02 00:00:00",
                                 bill_version_action="Introduced", subject="Artificial intelligence."),
    }


def _tables(*measures: dict[str, str]) -> dict[str, str]:
    return {table: "".join(m[table] for m in measures)
            for table in ("BILL_TBL", "BILL_HISTORY_TBL", "BILL_VERSION_TBL")}


@pytest.mark.parametrize("measure_type, kind, origin", [
    ("AB", "bill", "lower"), ("SB", "bill", "upper"),
    ("ACR", "concurrent_resolution", "lower"), ("SCR", "concurrent_resolution", "upper"),
    ("AJR", "joint_resolution", "lower"), ("SJR", "joint_resolution", "upper"),
    ("HR", "resolution", "lower"), ("SR", "resolution", "upper"),
    ("ACA", "joint_resolution", "lower"), ("SCA", "joint_resolution", "upper"),
])
def test_measure_types(measure_type, kind, origin):
    [bill] = parse(_tables(_measure(f"202520260{measure_type}7", measure_type, 7)))
    assert (bill.identifier, bill.kind, bill.origin_chamber) == (f"{measure_type} 7", kind, origin)
    assert bill.title == "Artificial intelligence."


def test_extraordinary_session_is_its_own_session():
    regular, special = parse(_tables(_measure("202520260AB1", "AB", 1),
                                     _measure("202520261AB1", "AB", 1, "1")))
    assert (regular.session, special.session) == ("20252026", "20252026S1")
    assert normalize_bill(regular).key != normalize_bill(special).key


def test_smart_quotes_and_stray_characters_are_cleaned():
    text = "In Senate. Consideration of Governor\u2019s veto pending.\u200b\x07"
    [bill] = parse(_tables(_measure("202520260SB9", "SB", 9, action=text)))
    assert bill.actions[0].text == "In Senate. Consideration of Governor's veto pending."
    assert normalize_bill(bill).classifications[0].classes == ("x-veto-pending",)


def test_unknown_action_is_kept_unclassified():
    [bill] = parse(_tables(_measure("202520260AB5", "AB", 5, action="Zorbled by the Sergeant at Arms.")))
    assert normalize_bill(bill).classifications[0].classes == ("unclassified",)


def test_folder_without_bill_tbl(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no BILL_TBL.dat"):
        CaliforniaPubinfo().read_path(tmp_path)


def test_row_without_a_bill_id_is_a_problem_not_a_crash():
    tables = _tables(_measure("202520260AB5", "AB", 5))
    tables["BILL_TBL"] += "NULL\t" + tables["BILL_TBL"].split("\t", 1)[1]
    items = parse(tables)
    assert [i.identifier for i in items if not isinstance(i, ItemProblem)] == ["AB 5"]
    [problem] = [i for i in items if isinstance(i, ItemProblem)]
    assert problem.item_key is None and "not a pubinfo bill_id" in problem.message
