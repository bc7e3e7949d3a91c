"""The fault-injection matrix (issue #11) over the HTTP source families: CSV (va-lis), zip (ca-pubinfo),
XML (wa-wsl), HTML (ny-lbdc) and a JSON API (federal-register). Each source stores good data first; then
every fault is served for its data URLs: 500, 503 with Retry-After, 429, a timeout, a connection reset,
a body cut off mid-transfer, a malformed body, an HTML error page with 200, an oversized body, a redirect
to another host, and, for XML, an entity bomb. Each ends as a failed run with a clear recorded message,
is retried only where a retry can help (Retry-After honoured), loses nothing stored, and a good poll
after it records no status change twice. FTP (ct-ftp) has its own matrix in tests/test_ct_ftp.py; the
archives' (bombs, damage, encryption) is in tests/test_bad_input.py."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import SHARED, shared_file
from tracker import db as database
from tracker.config import Settings
from tracker.http import Fetcher
from tracker.models import Action, Bill, FederalInstrument, ScrapeRun, StatusChange
from tracker.runs import run_source

RETRIES = 2  # so a retried fault is asked 3 times
HTML_PAGE = (b"<!DOCTYPE html>\r\n<html><head><title>Runtime Error</title></head>"
             b"<body><h1>Server Error in '/' Application.</h1></body></html>")
ENTITY_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
               + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                          for i in range(1, 10))
               + b']><ArrayOfLegislation xmlns="http://WSLWebServices.leg.wa.gov/">&lol9;</ArrayOfLegislation>')


# --- Good data for each family ------------------------------------------------------------------

def _va():
    from tests.test_scrape_runs import bills_csv, history_csv

    files = {"Bills.csv": bills_csv().encode(), "History.csv": history_csv().encode()}
    return {"va_sessions": ["241"]}, lambda request: files[request.url.path.rsplit("/", 1)[1]], "text/csv"


def _ca():
    from tests.test_bad_input import ca_tables, zip_of

    body = zip_of(ca_tables())
    return {}, lambda request: body, "application/zip"


def _wa():
    from tests.test_wa_wsl import get_form, record

    body = get_form(record(), record(bill_id="HB 2225", number="2225")).encode()
    return {"wa_introduced_since": "2026-01-01"}, lambda request: body, "text/xml"


def _ny():
    body = shared_file("fixtures/states/ny/lbdc_2023-S6169B_died-in-assembly.html").read_bytes()
    return {"ny_lbdc_bills": ["2023:S6169"]}, lambda request: body, "text/html"


def _fr():
    folder = shared_file("fixtures/api/federal_register/presidential-page-one.json").parent
    search, inspection = (folder / "presidential-page-one.json").read_bytes(), (folder / "inspection-search.json").read_bytes()

    def good(request):
        if "public-inspection" in request.url.path:
            return inspection
        if request.url.path.endswith(".json"):
            return search
        return b"Executive order full text."  # raw_text_url of a presidential document

    return {}, good, "application/json"


FAMILIES = {"va-lis": _va, "ca-pubinfo": _ca, "wa-wsl": _wa, "ny-lbdc": _ny, "federal-register": _fr}


class _CutStream(httpx.SyncByteStream):
    def __init__(self, body: bytes):
        self.body = body

    def __iter__(self):
        yield self.body[: max(1, len(self.body) // 2)]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def _raise(exc: type[httpx.TransportError], text: str):
    def fault(request, good):
        raise exc(text, request=request)
    return fault


# fault id -> (handler(request, good body), words the run's message must hold, retried?)
FAULTS = {
    "500": (lambda r, good: httpx.Response(500, text="500 error"), ["HTTP 500", "attempts"], True),
    "503-retry-after": (lambda r, good: httpx.Response(503, headers={"Retry-After": "3"}), ["HTTP 503"], True),
    "429": (lambda r, good: httpx.Response(429, headers={"Retry-After": "2"}), ["HTTP 429"], True),
    "timeout": (_raise(httpx.ReadTimeout, "The read operation timed out"), ["timed out"], True),
    "connection-reset": (_raise(httpx.ConnectError, "[Errno 104] Connection reset by peer"),
                         ["network error", "Connection reset"], True),
    "cut-mid-body": (lambda r, good: httpx.Response(200, headers={"Content-Length": str(len(good))},
                                                    stream=_CutStream(good)), ["network error"], True),
    "malformed": (lambda r, good: httpx.Response(200, content=bytes(range(1, 256)) * 4), [], False),
    "html-error-page-200": (lambda r, good: httpx.Response(200, content=HTML_PAGE,
                                                           headers={"Content-Type": "text/html"}), [], False),
    "oversized": (lambda r, good: httpx.Response(200, content=b"x" * 20_000), ["exceeds", "limit"], False),
    "redirect-to-another-host": (lambda r, good: httpx.Response(302, headers={"Location": "https://evil.example.org/x"}),
                                 ["redirected to another site", "evil.example.org"], False),
    "xml-entity-bomb": (lambda r, good: httpx.Response(200, content=ENTITY_BOMB, headers={"Content-Type": "text/xml"}),
                        ["DTD"], False),
}
CASES = [(source, fault) for source in FAMILIES for fault in FAULTS
         if fault != "xml-entity-bomb" or source == "wa-wsl"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """Per source: settings, the good-body function and a database holding one good poll's data."""
    made = {}

    def get(source_id: str):
        if source_id not in made:
            update, good, content_type = FAMILIES[source_id]()
            folder = tmp_path_factory.mktemp(source_id)
            settings = Settings(database_url=f"sqlite:///{folder}/tracker.db", data_dir=folder, http_cache=False,
                                http_requests_per_minute=1e9, http_max_retries=RETRIES, **update)
            database.upgrade(settings.database_url)
            made[source_id] = (settings, good, content_type)
            [summary] = poll(source_id, made[source_id], None)[0]
            assert summary.status in ("ok", "partial") and summary.inserted, summary
        return made[source_id]

    return get


def poll(source_id, context, fault, **settings_update):
    settings, good, content_type = context
    settings = settings.model_copy(update=settings_update)
    seen: list[str] = []
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        seen.append(str(request.url.copy_with(query=None)))
        body = good(request)
        if fault is not None:
            return fault(request, body)
        return httpx.Response(200, content=body, headers={"Content-Type": content_type})

    with Fetcher(settings, transport=httpx.MockTransport(handler), sleep=sleeps.append) as fetcher:
        summaries = run_source(database.get_engine(settings.database_url), settings, source_id, fetcher=fetcher)
    return summaries, seen, sleeps


def snapshot(settings) -> dict:
    with database.session_scope(database.get_engine(settings.database_url)) as db:
        return {"bills": sorted(db.execute(select(Bill.key, Bill.status, Bill.title)).all()),
                "actions": db.execute(select(func.count()).select_from(Action)).scalar_one(),
                "status_changes": db.execute(select(func.count()).select_from(StatusChange)).scalar_one(),
                "instruments": sorted(db.execute(select(FederalInstrument.key, FederalInstrument.title)).all())}


@pytest.mark.parametrize("source_id, fault_id", CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_each_fault_is_a_clear_failed_run_retried_only_where_it_helps_and_loses_nothing(stored, source_id,
                                                                                         fault_id):
    context = stored(source_id)
    settings = context[0]
    fault, words, retried = FAULTS[fault_id]
    before = snapshot(settings)
    summaries, seen, sleeps = poll(source_id, context, fault,
                                   **({"http_max_response_mb": 0.01} if fault_id == "oversized" else {}))
    assert [s.status for s in summaries] == ["failed"], [s.line() for s in summaries]
    message = summaries[0].message
    assert message and "Traceback" not in message and all(word in message for word in words), message
    with database.session_scope(database.get_engine(settings.database_url)) as db:
        run = db.get(ScrapeRun, summaries[0].run_id)
        assert (run.status, run.message) == ("failed", message) and run.finished_at is not None
    first = seen[0]
    assert seen.count(first) == (RETRIES + 1 if retried else 1), seen  # a bad body is never asked again
    if fault_id == "503-retry-after":
        assert sleeps.count(3.0) >= RETRIES  # Retry-After, not the backoff
    assert snapshot(settings) == before  # nothing stored was lost or changed
    # The source recovers: the next good poll stores no status change a second time.
    [again] = poll(source_id, context, None)[0]
    assert again.status in ("ok", "partial", "unchanged") and again.status_changes == 0, again.line()
    assert snapshot(settings)["status_changes"] == before["status_changes"]


def test_the_matrix_covers_every_http_family():
    assert {"va-lis", "ca-pubinfo", "wa-wsl", "ny-lbdc", "federal-register"} <= set(FAMILIES)
    assert len(CASES) == 5 * 10 + 1 and SHARED  # ten faults each, and the entity bomb for XML
