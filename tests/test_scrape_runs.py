"""End-to-end live-scrape runs of `va-lis` with the network mocked.

Every run goes through the real pipeline: Fetcher (rate limit, retries, RFC 9111 cache) ->
VirginiaLIS.fetch -> parse_csv_files -> ingest -> ScrapeRun / RunProblem rows. Only the transport
is fake (`httpx.MockTransport`, or respx for the CLI). The CSV bodies are small hand-made excerpts
of the real 2024 LIS files (shared/fixtures/states/va/AI_SLICE_241_*.csv), in the real layout
(quoted fields, CRLF line ends).
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import respx
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

import tracker.runs
from scrapers.va_lis import csv_urls
from tracker.cli import app
from tracker.config import get_settings
from tracker.db import get_engine
from tracker.http import Fetcher
from tracker.models import Action, Bill, BillChange, BillSource, RunProblem, ScrapeRun, StatusChange
from tracker.runs import RunSummary, run_source

from tests.conftest import SHARED, shared_file

BILLS_URL, HISTORY_URL = csv_urls("241")
SOURCE = "va-lis"

# --- The LIS files, cut down to four bills ------------------------------------------------------

BILLS_HEADER = (
    '"Bill_id","Bill_description","Patron_id","Patron_name","Last_house_committee_id","Last_house_action",'
    '"Last_house_action_date","Last_senate_committee_id","Last_senate_action","Last_senate_action_date",'
    '"Last_conference_action","Last_conference_action_date","Last_governor_action","Last_governor_action_date",'
    '"Emergency","Passed_house","Passed_senate","Passed","Failed","Carried_over","Approved","Vetoed",'
    '"Full_text_doc1","Full_text_date1","Full_text_doc2","Full_text_date2","Full_text_doc3","Full_text_date3",'
    '"Full_text_doc4","Full_text_date4","Full_text_doc5","Full_text_date5","Full_text_doc6","Full_text_date6",'
    '"Last_house_actid","Last_senate_actid","Last_conference_actid","Last_governor_actid","Chapter_id",'
    '"Introduction_date","Last_actid"'
)
BILL_ROWS = {
    "HB249": (
        '"HB249","Law-enforcement agencies; use of generative artificial intelligence and machine learning '
        'systems.","H349","Glass","H21","Left in Communications, Technology and Innovation","02/13/24","","","",'
        '"","","","","N","N","N","N","Y","N","N","N","HB249","01/04/24","","","","","","","","","","","H2194","",'
        '"","","","01/04/24","H2194"'
    ),
    "SB487": (
        '"SB487","Artificial intelligence by public bodies; Joint Commission on Technology & Science to examine '
        'use.","S115","Aird","H02","Signed by Speaker","03/08/24","S05","Enrolled Bill Communicated to Governor '
        'on March 11, 2024","03/11/24","","","Acts of Assembly Chapter text (CHAP0678)","04/08/24","N","Y","Y",'
        '"Y","N","N","Y","N","SB487","01/09/24","SB487S1","01/31/24","SB487H1","02/28/24","SB487ER","03/08/24",'
        '"CHAP0678","04/08/24","","","H5620","S7010","","G9998","CHAP0678","01/09/24","G9998"'
    ),
    "SB621": (
        '"SB621","Artificial Intelligence, Commission on; established, report, sunset provision.","S111",'
        '"Pillion","","","","S05","Incorporated by Finance and Appropriations (SB487-Aird) (15-Y 0-N)",'
        '"01/31/24","","","","","N","N","N","N","Y","N","N","N","SB621","01/10/24","","","","","","","","","","",'
        '"","S0599","","","","01/10/24","S0599"'
    ),
    "SJ14": (
        '"SJ14","Artificial intelligence; Joint Commission on Technology and Science to study advancements.",'
        '"S128","Subramanyam","","","","S05","Continued to 2025 in Finance and Appropriations (15-Y 0-N)",'
        '"02/07/24","","","","","N","N","N","N","N","Y","N","N","SJ14","01/04/24","","","","","","","","","","",'
        '"","S0540","","","","01/04/24","S0540"'
    ),
}
HISTORY_HEADER = '"Bill_id","History_date","History_description","History_refid"'
HISTORY = [
    ("HB249", "01/04/24", "H Prefiled and ordered printed; offered 01/10/24 24104171D", ""),
    ("HB249", "01/04/24", "H Referred to Committee on Communications, Technology and Innovation", ""),
    ("HB249", "01/31/24", "H Subcommittee recommends continuing to 2025 with amendment(s)", "H2102V0007"),
    ("HB249", "02/13/24", "H Left in Communications, Technology and Innovation", "H21V0017"),
    ("SB487", "01/09/24", "S Prefiled and ordered printed; offered 01/10/24 24103787D", ""),
    ("SB487", "01/09/24", "S Referred to Committee on General Laws and Technology", ""),
    ("SB487", "01/24/24", "S Reported from General Laws and Technology with amendments (15-Y 0-N)", "S12V0043"),
    ("SB487", "01/31/24", "S Reported from Finance and Appropriations with substitute (15-Y 0-N)", "S05V0064"),
    ("SB487", "02/06/24", "S Read third time and passed Senate (39-Y 0-N)", "SV0239"),
    ("SB487", "02/13/24", "H Referred to Committee on Communications, Technology and Innovation", ""),
    ("SB487", "03/04/24", "H Passed House with substitute (89-Y 7-N)", ""),
    ("SB487", "03/05/24", "S House substitute agreed to by Senate (34-Y 5-N)", "SV1025"),
    ("SB487", "03/08/24", "S Enrolled", ""),
    ("SB487", "03/08/24", "H Signed by Speaker", ""),
    ("SB487", "03/09/24", "S Signed by President", ""),
    ("SB487", "03/11/24", "S Enrolled Bill Communicated to Governor on March 11, 2024", ""),
    ("SB487", "03/11/24", "G Governor's Action Deadline 11:59 p.m., April 8, 2024", ""),
    ("SB487", "04/08/24", "G Approved by Governor-Chapter 678 (effective 7/1/24)", ""),
    ("SB621", "01/10/24", "S Prefiled and ordered printed; offered 01/10/24 24105043D", ""),
    ("SB621", "01/10/24", "S Referred to Committee on General Laws and Technology", ""),
    ("SB621", "01/24/24", "S Reported from General Laws and Technology with amendment (15-Y 0-N)", "S12V0036"),
    ("SB621", "01/24/24", "S Rereferred to Finance and Appropriations", ""),
    ("SB621", "01/31/24", "S Incorporated by Finance and Appropriations (SB487-Aird) (15-Y 0-N)", "S05V0097"),
    ("SJ14", "01/04/24", "S Prefiled and ordered printed; offered 01/10/24 24102738D", ""),
    ("SJ14", "01/04/24", "S Referred to Committee on General Laws and Technology", ""),
    ("SJ14", "02/02/24", "S Reported from Rules", "S10V0030"),
    ("SJ14", "02/07/24", "S Continued to 2025 in Finance and Appropriations (15-Y 0-N)", "S05V0170"),
]
APPROVAL = ("SB487", "04/08/24", "G Approved by Governor-Chapter 678 (effective 7/1/24)", "")
ALL_BILLS = tuple(BILL_ROWS)
IDENTIFIERS = {"HB249": "HB 249", "SB487": "SB 487", "SB621": "SB 621", "SJ14": "SJ 14"}


def bills_csv(rows: list[str] | None = None, header: str = BILLS_HEADER) -> str:
    rows = list(BILL_ROWS.values()) if rows is None else rows
    return "".join(line + "\r\n" for line in [header, *rows])


def history_csv(entries: list[tuple[str, str, str, str]] | None = None) -> str:
    entries = HISTORY if entries is None else entries
    lines = [HISTORY_HEADER] + ['"' + '","'.join(entry) + '"' for entry in entries]
    return "".join(line + "\r\n" for line in lines)


def history_without_approval() -> list[tuple[str, str, str, str]]:
    return [entry for entry in HISTORY if entry != APPROVAL]


def drop_column(text: str, column: str) -> str:
    """The same file with one column removed from the header and every row."""
    lines = text.split("\r\n")
    index = lines[0].split(",").index(f'"{column}"')
    out = []
    for line in lines:
        if not line:
            out.append(line)
            continue
        cells = line[1:-1].split('","')  # every cell is quoted; no cell here contains '","'
        del cells[index]
        out.append('"' + '","'.join(cells) + '"')
    return "\r\n".join(out)


# --- A fake legacylis.virginia.gov ---------------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


class FakeLIS:
    """Serves Bills.csv / History.csv; with `etag` it sends ETag + no-cache and answers 304 to a
    matching If-None-Match. `fail[url]` replaces the normal answer for one URL."""

    def __init__(self, bills: str | bytes, history: str | bytes, *, etag: bool = False):
        self.bodies: dict[str, bytes] = {}
        self.set(bills, history)
        self.etag = etag
        self.fail: dict[str, Handler] = {}
        self.requests: list[httpx.Request] = []

    def set(self, bills: str | bytes, history: str | bytes) -> None:
        for url, body in ((BILLS_URL, bills), (HISTORY_URL, history)):
            self.bodies[url] = body.encode("utf-8") if isinstance(body, str) else body

    def tag(self, url: str) -> str:
        return '"' + hashlib.sha256(self.bodies[url]).hexdigest()[:16] + '"'

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A copy: the cache layer puts If-None-Match on the request only while it is being sent.
        self.requests.append(httpx.Request(request.method, request.url, headers=request.headers.copy()))
        url = str(request.url)
        if url in self.fail:
            return self.fail[url](request)
        if url not in self.bodies:
            return httpx.Response(404, text="Not Found")
        headers = {"Content-Type": "text/csv"}
        if self.etag:
            headers |= {"ETag": self.tag(url), "Cache-Control": "no-cache"}
            if request.headers.get("if-none-match") == self.tag(url):
                return httpx.Response(304, headers=headers)
        return httpx.Response(200, content=self.bodies[url], headers=headers)

    def calls(self, url: str) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) == url]


# The status engine judges actions against the fetch date (a 2024 bill fetched in 2026 is past its
# session's end), so every live run here is stamped with a pinned time, never the wall clock: by
# default between the 2024 session's end and the 2025 session, while continued bills are alive.
LIVE_FETCH = datetime(2024, 11, 20, 15, 0, tzinfo=UTC)
_RUNS = itertools.count()  # each run is a minute after the one before, as on a real schedule


# --- Helpers ----------------------------------------------------------------------------------------

@pytest.fixture
def lis_settings(settings):
    return settings.model_copy(update={
        "va_sessions": ["241"],
        "http_cache": False,
        "http_max_retries": 2,
        "http_requests_per_minute": 600.0,
    })


@pytest.fixture
def engine(db_url):
    return get_engine(db_url)


def scrape(engine, settings, server: FakeLIS, *, sleeps: list[float] | None = None,
           fetched_at: datetime | None = None) -> RunSummary:
    """One run_source call through a fresh Fetcher (as `tracker run` does): never really sleeps."""
    sleep = sleeps.append if sleeps is not None else (lambda seconds: None)
    transport = httpx.MockTransport(server)
    stamp = fetched_at or LIVE_FETCH + timedelta(minutes=next(_RUNS))
    fetcher = Fetcher(settings, transport=transport, sleep=sleep, clock=lambda: stamp)
    with fetcher:
        summaries = run_source(engine, settings, SOURCE, fetcher=fetcher)
    assert len(summaries) == 1, summaries  # one session code -> one batch -> one run
    return summaries[0]


def count(engine, model) -> int:
    with Session(engine) as db:
        return db.execute(select(func.count()).select_from(model)).scalar_one()


def scrape_runs(engine) -> list[ScrapeRun]:
    with Session(engine) as db:
        return list(db.execute(select(ScrapeRun).order_by(ScrapeRun.id)).scalars())


def bills_by_identifier(engine) -> dict[str, Bill]:
    with Session(engine) as db:
        return {bill.identifier: bill for bill in db.execute(select(Bill)).scalars()}


def status_changes(engine) -> list[StatusChange]:
    with Session(engine) as db:
        return list(db.execute(select(StatusChange).order_by(StatusChange.id)).scalars())


def snapshot(engine) -> dict:
    """Everything a failed run must leave alone: row counts and each bill's stored content."""
    with Session(engine) as db:
        bills = {b.identifier: (b.status, b.status_date, b.title, b.source_url, _utc(b.fetched_at),
                                _utc(b.updated_at), b.source_flags)
                 for b in db.execute(select(Bill)).scalars()}
        hashes = {row.bill_id: row.content_hash for row in db.execute(select(BillSource)).scalars()}
        actions = [(a.bill_id, a.position, a.date, a.text)
                   for a in db.execute(select(Action).order_by(Action.bill_id, Action.position)).scalars()]
    return {"bills": bills, "hashes": hashes, "actions": actions,
            "status_changes": count(engine, StatusChange), "bill_changes": count(engine, BillChange)}


def assert_only_fetch_time_moved(before: dict, after: dict) -> None:
    """The source confirmed the same content again: only each bill's fetch time moves forward."""
    for identifier, row in after["bills"].items():
        assert row[4] > before["bills"][identifier][4]
    strip = lambda snap: {**snap, "bills": {k: v[:4] + v[5:] for k, v in snap["bills"].items()}}  # noqa: E731
    assert strip(after) == strip(before)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; PostgreSQL aware ones."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def assert_failed_run(engine, summary: RunSummary, *keywords: str) -> ScrapeRun:
    assert summary.status == "failed", summary
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, 0)
    run = scrape_runs(engine)[-1]
    assert run.id == summary.run_id
    assert run.source_id == SOURCE and run.kind == "scrape"
    assert run.status == "failed"
    assert run.finished_at is not None
    assert (run.inserted, run.updated, run.unchanged, run.status_changes) == (0, 0, 0, 0)
    for word in keywords:
        assert word in run.message, f"{word!r} not in run message {run.message!r}"
    return run


# --- 1. A good run --------------------------------------------------------------------------------

def test_good_run_stores_bills_actions_and_a_finished_run_record(engine, lis_settings):
    server = FakeLIS(bills_csv(), history_csv())
    summary = scrape(engine, lis_settings, server)

    assert summary.status == "ok", summary
    # Nothing to report but what the detect stage found in the new bills (tests/test_detect.py).
    assert summary.ok and re.fullmatch(r"\d+ new event\(s\) \(AI relevance, lifecycle, conflicts\)", summary.message)
    assert (summary.inserted, summary.updated, summary.unchanged, summary.problems) == (4, 0, 0, 0)
    assert summary.status_changes == 4  # a first sighting is recorded as None -> status
    assert summary.target == f"{BILLS_URL} + {HISTORY_URL}"

    # Exactly the two official files were fetched, once each, with our honest User-Agent.
    assert [str(r.url) for r in server.requests] == [BILLS_URL, HISTORY_URL]
    assert all(r.headers["user-agent"].startswith("StatehouseAITracker/") for r in server.requests)

    [run] = scrape_runs(engine)
    assert run.id == summary.run_id
    assert (run.source_id, run.kind, run.status) == (SOURCE, "scrape", "ok")
    assert run.target == summary.target
    assert run.finished_at is not None and _utc(run.finished_at) >= _utc(run.started_at)
    assert (run.inserted, run.updated, run.unchanged, run.problems, run.status_changes) == (4, 0, 0, 0, 4)
    assert run.traceback is None

    bills = bills_by_identifier(engine)
    assert sorted(bills) == sorted(IDENTIFIERS.values())
    for bill in bills.values():
        assert bill.jurisdiction_id == "va" and bill.source_id == SOURCE
        assert bill.source_url == BILLS_URL
        assert LIVE_FETCH <= _utc(bill.fetched_at) < LIVE_FETCH + timedelta(hours=1)
    assert {bill.key for bill in bills.values()} == {f"va-2024-{bill_id}" for bill_id in ALL_BILLS}
    assert bills["SB 487"].status == "enacted" and bills["SB 487"].enacted_how == "signed"
    assert bills["SB 487"].status_date == date(2024, 4, 8)
    assert bills["SB 487"].title.startswith("Artificial intelligence by public bodies")
    assert bills["SB 487"].source_flags["Approved"] == "Y"
    assert bills["SB 621"].status == "failed" and bills["SB 621"].failed_how == "incorporated"
    assert bills["SJ 14"].carried_over is True

    assert count(engine, Action) == len(HISTORY)
    with Session(engine) as db:
        texts = list(db.execute(select(Action.text).where(Action.bill_id == bills["SB 487"].id)
                                .order_by(Action.position)).scalars())
        problems = count(engine, RunProblem)
    assert texts[0] == "Prefiled and ordered printed; offered 01/10/24 24103787D"  # actor prefix "S " parsed off
    assert texts[-1] == "Approved by Governor-Chapter 678 (effective 7/1/24)"
    assert len(texts) == sum(1 for entry in HISTORY if entry[0] == "SB487")
    assert problems == 0
    changes = status_changes(engine)
    assert len(changes) == 4 and all(c.old_status is None and c.run_id == run.id for c in changes)


# --- 2. The same bodies again ---------------------------------------------------------------------

def test_second_run_with_same_bodies_is_all_unchanged_and_reports_no_change_twice(engine, lis_settings):
    server = FakeLIS(bills_csv(), history_csv())
    first = scrape(engine, lis_settings, server)
    assert first.status == "ok" and first.inserted == 4
    before = snapshot(engine)

    second = scrape(engine, lis_settings, server)

    assert second.status == "ok", second
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, len(ALL_BILLS))
    assert second.status_changes == 0
    assert count(engine, StatusChange) == before["status_changes"] == 4
    assert_only_fetch_time_moved(before, snapshot(engine))  # not even updated_at
    run = scrape_runs(engine)[-1]
    assert (run.status, run.unchanged, run.status_changes) == ("ok", 4, 0)
    assert len(server.requests) == 4  # no cache here: both files fetched again


# --- 3. Conditional requests --------------------------------------------------------------------

def test_conditional_request_304_makes_an_unchanged_run(engine, lis_settings):
    settings = lis_settings.model_copy(update={"http_cache": True})
    server = FakeLIS(bills_csv(), history_csv(), etag=True)
    first = scrape(engine, settings, server)
    assert first.status == "ok" and first.inserted == 4
    assert all("if-none-match" not in r.headers for r in server.requests)
    before = snapshot(engine)

    second = scrape(engine, settings, server)

    revalidations = server.requests[2:]
    assert [str(r.url) for r in revalidations] == [BILLS_URL, HISTORY_URL]
    assert [r.headers.get("if-none-match") for r in revalidations] == [server.tag(BILLS_URL),
                                                                        server.tag(HISTORY_URL)]
    assert second.status == "unchanged", second
    assert second.ok
    # The cached files are still parsed (a failed ingest must not hide behind a 304), all unchanged.
    assert (second.inserted, second.updated, second.unchanged, second.status_changes) == (0, 0, 4, 0)
    assert "not modified" in second.message
    run = scrape_runs(engine)[-1]
    assert run.status == "unchanged" and run.finished_at is not None
    assert_only_fetch_time_moved(before, snapshot(engine))  # no BillChange / StatusChange rows


def test_conditional_request_still_sees_a_changed_file(engine, lis_settings):
    settings = lis_settings.model_copy(update={"http_cache": True})
    server = FakeLIS(bills_csv(), history_csv(history_without_approval()), etag=True)
    assert scrape(engine, settings, server).status == "ok"

    server.set(bills_csv(), history_csv())  # History changes, so its ETag does too; Bills answers 304
    summary = scrape(engine, settings, server)

    assert server.requests[2].headers.get("if-none-match") == server.tag(BILLS_URL)
    assert summary.status == "ok", summary
    assert (summary.updated, summary.unchanged) == (1, 3)


def test_a_failed_ingest_is_not_hidden_by_the_next_304(engine, lis_settings, monkeypatch):
    settings = lis_settings.model_copy(update={"http_cache": True})
    server = FakeLIS(bills_csv(), history_csv(), etag=True)

    def broken_ingest(*args, **kwargs):
        raise RuntimeError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(tracker.runs, "ingest", broken_ingest)
        failed = scrape(engine, settings, server)
    assert failed.status == "failed" and "database is locked" in failed.message
    assert count(engine, Bill) == 0

    retry = scrape(engine, settings, server)  # the server's files did not change: 304s

    assert count(engine, Bill) == len(ALL_BILLS), f"nothing stored; the retry said {retry.status!r}"
    assert retry.status == "ok" and retry.inserted == len(ALL_BILLS)


# --- 4. A new action ---------------------------------------------------------------------------------

DURING_SESSION = datetime(2024, 4, 10, 12, 0, tzinfo=UTC)  # after the 04/08/24 approval, before 2024-05-17


def test_new_history_action_reports_one_status_change_once(engine, lis_settings):
    server = FakeLIS(bills_csv(), history_csv(history_without_approval()))
    first = scrape(engine, lis_settings, server, fetched_at=DURING_SESSION)
    assert first.status == "ok" and first.inserted == 4
    assert bills_by_identifier(engine)["SB 487"].status == "to_governor"
    changes_before = len(status_changes(engine))

    server.set(bills_csv(), history_csv())  # + "G Approved by Governor-Chapter 678 (effective 7/1/24)"
    second = scrape(engine, lis_settings, server, fetched_at=DURING_SESSION)

    assert second.status == "ok", second
    assert (second.inserted, second.updated, second.unchanged, second.status_changes) == (0, 1, 3, 1)
    new = status_changes(engine)[changes_before:]
    assert len(new) == 1
    [change] = new
    sb487 = bills_by_identifier(engine)["SB 487"]
    assert change.bill_id == sb487.id and change.run_id == second.run_id
    assert (change.old_status, change.new_status) == ("to_governor", "enacted")
    assert (change.old_label, change.new_label) == ("to_governor", "enacted/signed")
    assert change.action_date == date(2024, 4, 8)
    assert change.cause == "Approved by Governor-Chapter 678 (effective 7/1/24)"
    assert (sb487.status, sb487.status_date) == ("enacted", date(2024, 4, 8))
    with Session(engine) as db:
        n_actions = db.execute(select(func.count()).select_from(Action).where(Action.bill_id == sb487.id)
                               ).scalar_one()
        [bill_change] = db.execute(select(BillChange).where(BillChange.run_id == second.run_id)).scalars()
    assert n_actions == sum(1 for entry in HISTORY if entry[0] == "SB487")
    assert bill_change.bill_id == sb487.id and bill_change.change == "update"
    assert "actions" in bill_change.changed_fields and "status" in bill_change.changed_fields

    third = scrape(engine, lis_settings, server, fetched_at=DURING_SESSION)

    assert third.status == "ok", third
    assert (third.inserted, third.updated, third.unchanged, third.status_changes) == (0, 0, 4, 0)
    assert len(status_changes(engine)) == changes_before + 1


# --- 5. Failures that leave stored data untouched ------------------------------------------------

def _status(code: int, **headers: str) -> Handler:
    return lambda request: httpx.Response(code, headers=headers, text=f"{code} error")


def _raise(exc_type: type[httpx.TransportError], text: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(text, request=request)
    return handler


class _CutStream(httpx.SyncByteStream):
    """A body that stops half way: the server closed the connection mid-transfer."""

    def __init__(self, body: bytes):
        self.body = body

    def __iter__(self):
        yield self.body[: len(self.body) // 2]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def _cut_connection(request: httpx.Request) -> httpx.Response:
    body = bills_csv().encode()
    return httpx.Response(200, headers={"Content-Length": str(len(body))}, stream=_CutStream(body))


def _body(content: bytes, content_type: str = "text/csv", **headers: str) -> Handler:
    return lambda request: httpx.Response(200, content=content, headers={"Content-Type": content_type, **headers})


HTML_PAGE = (b"<!DOCTYPE html>\r\n<html><head><title>Runtime Error</title></head>"
             b"<body><h1>Server Error in '/' Application.</h1></body></html>")
GARBLED = bytes(range(1, 256)) * 4  # binary junk (NUL bytes have a test of their own below)
TRUNCATED_GZIP = gzip.compress(bills_csv().encode())[:200]
# The last bill row cut off in the middle: the quoted description never ends.
TRUNCATED_BILLS = bills_csv()[: bills_csv().rindex("nology and Science to study")].encode()
assert TRUNCATED_BILLS.endswith(b'"SJ14","Artificial intelligence; Joint Commission on Tech')

FAILURES = [
    pytest.param(BILLS_URL, _status(500), ["HTTP 500", BILLS_URL, "after 3 attempts"], 3, None,
                 id="http-500-bills"),
    pytest.param(HISTORY_URL, _status(500), ["HTTP 500", HISTORY_URL, "after 3 attempts"], 3, None,
                 id="http-500-history"),
    pytest.param(BILLS_URL, _status(429, **{"Retry-After": "7"}), ["HTTP 429", BILLS_URL], 3, [7.0, 7.0],
                 id="http-429-retry-after"),
    pytest.param(BILLS_URL, _raise(httpx.ReadTimeout, "The read operation timed out"),
                 ["timed out", BILLS_URL, "ReadTimeout"], 3, None, id="read-timeout"),
    pytest.param(BILLS_URL, _cut_connection, [BILLS_URL, "network error"], 3, None,
                 id="connection-cut-mid-body"),
    pytest.param(BILLS_URL, _body(HTML_PAGE, "text/html"), ["Bills.csv", "HTML"], 1, None,
                 id="html-error-page-with-200"),
    pytest.param(BILLS_URL, _body(drop_column(bills_csv(), "Passed").encode()),
                 ["Bills.csv", "missing column", "Passed"], 1, None, id="bills-missing-passed-column"),
    pytest.param(HISTORY_URL, _body(b'"Bill_id","History_date"\r\n"HB249","01/04/24"\r\n'),
                 ["History.csv", "missing column", "History_description"], 1, None,
                 id="history-missing-column"),
    pytest.param(BILLS_URL, _body(GARBLED), ["Bills.csv", "missing column"], 1, None, id="garbled-body"),
    pytest.param(BILLS_URL, _body(TRUNCATED_BILLS), ["Bills.csv"], 1, None, id="truncated-mid-row"),
    pytest.param(BILLS_URL, _body(TRUNCATED_GZIP), [BILLS_URL], 1, None,
                 id="truncated-gzip-file"),
]


@pytest.mark.parametrize(("url", "handler", "words", "attempts", "slept"), FAILURES)
def test_failure_leaves_stored_data_untouched(engine, lis_settings, url, handler, words, attempts, slept):
    # Ingest good data first: the failure must not touch it.
    server = FakeLIS(bills_csv(), history_csv())
    assert scrape(engine, lis_settings, server).status == "ok"
    before = snapshot(engine)
    assert before["bills"]["SB 487"][0] == "enacted"
    runs_before = len(scrape_runs(engine))

    # The failing run also carries a real change (SB487 loses its approval) that must NOT be stored.
    server.set(bills_csv(), history_csv(history_without_approval()))
    server.fail[url] = handler
    server.requests.clear()
    sleeps: list[float] = []
    summary = scrape(engine, lis_settings, server, sleeps=sleeps)  # no exception may escape

    run = assert_failed_run(engine, summary, *words)
    assert len(scrape_runs(engine)) == runs_before + 1
    assert run.problems == 0
    assert BILLS_URL in run.target and HISTORY_URL in run.target
    assert len(server.calls(url)) == attempts  # transport trouble is retried, a bad body is not
    if slept is not None:
        assert [s for s in sleeps if s >= 1] == slept  # Retry-After honoured instead of the backoff
    assert snapshot(engine) == before
    assert bills_by_identifier(engine)["SB 487"].status == "enacted"


def test_garbled_body_with_nul_bytes_still_finishes_its_run_record(engine, lis_settings, request):
    server = FakeLIS(bills_csv(), history_csv())
    assert scrape(engine, lis_settings, server).status == "ok"
    before = snapshot(engine)

    server.fail[BILLS_URL] = _body(b"\x00\x01\x02garbage\x00\r\n\x00\x00\x00\r\n")
    summary = scrape(engine, lis_settings, server)

    runs = scrape_runs(engine)
    assert [run.status for run in runs] == ["ok", "failed"]  # no run left 'running', no extra run
    assert runs[-1].id == summary.run_id and runs[-1].finished_at is not None
    assert BILLS_URL in runs[-1].target
    assert "Bills.csv" in runs[-1].message and "missing column" in runs[-1].message
    assert snapshot(engine) == before


# --- 6. Bad records ------------------------------------------------------------------------------------

def _bad_records_bodies() -> tuple[str, str]:
    history = [(b, "13/45/24", t, r) if (b, t) == ("HB249", "H Left in Communications, Technology and Innovation")
               else (b, d, t, r) for b, d, t, r in HISTORY]
    conflicting = BILL_ROWS["SJ14"].replace("to study advancements", "to study advances")
    rows = [BILL_ROWS["HB249"], BILL_ROWS["SB487"], BILL_ROWS["SJ14"], BILL_ROWS["SB621"], conflicting]
    return bills_csv(rows), history_csv(history)


def test_bad_records_make_a_partial_run_naming_them(engine, lis_settings):
    bad_bills, bad_history = _bad_records_bodies()
    server = FakeLIS(bad_bills, bad_history)

    summary = scrape(engine, lis_settings, server)

    assert summary.status == "partial", summary
    assert not summary.ok
    assert (summary.inserted, summary.updated, summary.unchanged, summary.problems) == (2, 0, 0, 2)
    assert "2 record(s) skipped" in summary.message
    run = scrape_runs(engine)[-1]
    assert (run.status, run.inserted, run.problems) == ("partial", 2, 2)
    assert run.finished_at is not None
    with Session(engine) as db:
        problems = {p.item_key: p for p in db.execute(select(RunProblem).where(RunProblem.run_id == run.id)).scalars()}
    assert set(problems) == {"HB249", "SJ14"}
    assert "13/45/24" in problems["HB249"].message and "HB249" in problems["HB249"].message
    assert "conflicting rows" in problems["SJ14"].message and "SJ14" in problems["SJ14"].message
    assert all(p.url == BILLS_URL for p in problems.values())
    bills = bills_by_identifier(engine)
    assert sorted(bills) == ["SB 487", "SB 621"]  # the good ones are stored in full
    assert bills["SB 487"].status == "enacted"
    assert count(engine, Action) == sum(1 for e in HISTORY if e[0] in ("SB487", "SB621"))

    # Once good, both bills arrive; a later bad file leaves them exactly as stored.
    server.set(bills_csv(), history_csv())
    good = scrape(engine, lis_settings, server)
    assert (good.status, good.inserted, good.unchanged) == ("ok", 2, 2)
    before = snapshot(engine)

    server.set(bad_bills, bad_history)
    again = scrape(engine, lis_settings, server)

    assert (again.status, again.inserted, again.updated, again.unchanged, again.problems) == ("partial", 0, 0, 2, 2)
    after = snapshot(engine)
    assert {k: after["bills"][k] for k in ("HB 249", "SJ 14")} == {k: before["bills"][k] for k in ("HB 249", "SJ 14")}
    for identifier in ("SB 487", "SB 621"):  # re-confirmed by the good part of the file
        assert after["bills"][identifier][4] > before["bills"][identifier][4]
    strip = lambda snap: {**snap, "bills": {k: v[:4] + v[5:] for k, v in snap["bills"].items()}}  # noqa: E731
    assert strip(after) == strip(before)


# --- 7. An empty file ----------------------------------------------------------------------------------

def test_header_only_bills_file_is_an_empty_run_and_deletes_nothing(engine, lis_settings):
    server = FakeLIS(bills_csv(), history_csv())
    assert scrape(engine, lis_settings, server).status == "ok"
    before = snapshot(engine)

    server.set(bills_csv([]), history_csv())
    summary = scrape(engine, lis_settings, server)

    assert summary.status == "empty", summary
    assert not summary.ok
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, 0)
    assert "no bills found" in summary.message
    run = scrape_runs(engine)[-1]
    assert run.status == "empty" and run.finished_at is not None and "no bills" in run.message
    assert snapshot(engine) == before
    assert count(engine, Bill) == len(ALL_BILLS)


# --- 8. `tracker run` with the network down -----------------------------------------------------------

def test_cli_run_without_network_fails_cleanly(db_url, settings, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    monkeypatch.setenv("TRACKER_VA_SESSIONS", "241")
    monkeypatch.setenv("TRACKER_SOURCES", "va-lis")
    monkeypatch.setenv("TRACKER_HTTP_MAX_RETRIES", "2")
    get_settings.cache_clear()
    # The CLI builds its own Fetcher; keep it from really sleeping between retries.
    sleeps: list[float] = []
    monkeypatch.setattr(tracker.runs, "Fetcher",
                        lambda settings: Fetcher(settings, sleep=sleeps.append))

    with respx.mock(assert_all_mocked=True) as network:
        route = network.get(url__startswith="https://legacylis.virginia.gov/").mock(
            side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
        result = CliRunner().invoke(app, ["run", "--once"])

    output = result.output
    assert result.exit_code == 1, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    assert "va-lis: failed" in output
    assert "network error" in output and BILLS_URL in output
    assert "1 run(s) failed" in output and "tracker run --replay ../shared" in output
    assert route.call_count == 3  # first try + 2 retries, then it gave up
    assert get_settings().database_url == db_url
    engine = get_engine(db_url)
    [run] = scrape_runs(engine)
    assert (run.source_id, run.status) == ("va-lis", "failed")
    assert "network error" in run.message and run.finished_at is not None
    assert count(engine, Bill) == 0


# --- 9. Offline replay of the real 2024 files ----------------------------------------------------------

@pytest.mark.shared
def test_replay_of_the_real_2024_files_inserts_every_bill(engine, lis_settings):
    shared_file("fixtures/states/va/legacylis_241_Bills.csv.gz")
    shared_file("fixtures/states/va/legacylis_241_History.csv.gz")
    settings = lis_settings.model_copy(update={"replay_dir": SHARED})

    with Fetcher(settings, sleep=lambda seconds: None) as fetcher:  # ReplayTransport: no network
        [summary] = run_source(engine, settings, SOURCE, fetcher=fetcher)

    assert summary.status == "ok", summary
    assert summary.inserted == 3595
    assert (summary.updated, summary.problems) == (0, 0)
    assert count(engine, Bill) == 3595
    assert count(engine, Action) == 55237
    run = scrape_runs(engine)[-1]
    assert (run.status, run.inserted) == ("ok", 3595)
    bills = bills_by_identifier(engine)
    assert bills["SB 487"].status == "enacted" and bills["SB 487"].source_url == BILLS_URL
