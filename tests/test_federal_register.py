"""Federal Register source: every real capture in ../shared/fixtures/api/federal_register, bad input,
public inspection reconciled with publication, and the incremental fetch (pagination, dedupe, cursor)."""

import copy
import json
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import select

from scrapers.base import ItemProblem
from scrapers.federal_register import (
    FIELDS,
    FederalRegister,
    documents_url,
    parse_document,
    parse_facets,
    parse_page,
    public_inspection_url,
)
from tests.conftest import shared_file
from tracker import db as database
from tracker.federal import force_label, store_instruments
from tracker.http import Fetcher
from tracker.models import FederalInstrument, SourceCursor
from tracker.runs import run_source
from tracker.scraped import ScrapedInstrument
from tracker.storage import ingest

FETCHED = datetime(2026, 10, 1, tzinfo=UTC)  # after the late-September 2026 captures (PROVENANCE.md)
FR = "fixtures/api/federal_register/"


def page(name: str):
    path = shared_file(FR + name)
    return parse_page(path.read_text(encoding="utf-8"), name=name, fetched_at=FETCHED)


def instruments(result) -> list[ScrapedInstrument]:
    return [i for i in result.items if isinstance(i, ScrapedInstrument)]


def problems(result) -> list[ItemProblem]:
    return [i for i in result.items if isinstance(i, ItemProblem)]


# --- Every real file ------------------------------------------------------------------------------

EXPECTED = {  # file -> (instruments, problems)
    "current-document.json": (1, 0), "executive-order.json": (2, 0), "executive-order-two.json": (2, 0),
    "facets-subtype-year.json": (0, 0), "fields-unknown.json": (0, 1), "historical-document.json": (1, 0),
    "inspection-detail.json": (1, 0), "inspection-search.json": (2, 0), "invalid-cursor.json": (0, 1),
    "presidential-page-one.json": (2, 0), "presidential-page-two.json": (2, 0), "regulatory-document.json": (1, 0),
    "search-newest-page-one.json": (2, 0), "search-terminal.json": (0, 0), "significant-1.json": (0, 2),
}


def test_expected_covers_every_file():
    folder = shared_file(FR + "current-document.json").parent
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_parses(name):
    result = page(name)
    assert (len(instruments(result)), len(problems(result))) == EXPECTED[name], [
        getattr(i, "message", getattr(i, "key", None)) for i in result.items]


def test_executive_order_detail():
    (order,) = instruments(page("current-document.json"))
    assert (order.key, order.kind, order.eo_number, order.fr_citation) == (
        "fr:2026-19417", "executive_order", "14430", "91 FR 60293")
    assert (order.signed_on, order.published_on, order.fr_subtype) == (date(2026, 9, 17), date(2026, 9, 22),
                                                                        "Executive Order")
    assert order.instrument_status == "in_force" and order.stage == "published"
    assert force_label(order.kind, order.instrument_status) == "directed"  # an EO is never "law"
    assert order.source_url.startswith("https://www.federalregister.gov/documents/2026/09/22/2026-19417/")


def test_executive_order_number_is_a_string_and_corrections_have_none():
    listed = instruments(page("executive-order-two.json"))
    assert [(i.eo_number, i.kind) for i in listed] == [("12890", "executive_order"), ("12891", "executive_order")]
    corrections = instruments(page("executive-order.json"))
    assert [(i.key, i.eo_number, i.fr_subtype, i.kind) for i in corrections] == [
        ("fr:C1-2014-25788", None, "Correction", "fr_document"),
        ("fr:C1-2013-20465", None, "Correction", "fr_document")]


def test_zero_hit_search_has_no_results_key_and_is_simply_empty():
    result = page("search-terminal.json")
    assert result.items == [] and result.count == 0 and result.next_url is None


def test_http_400_bodies_are_recorded_errors():
    (cursor,) = problems(page("invalid-cursor.json"))
    assert "HTTP 400" in cursor.message and "Invalid search_after_cursor token" in cursor.message
    (field,) = problems(page("fields-unknown.json"))
    assert "field 'nonexistent_example' not valid" in field.message


def test_pages_follow_next_page_url_with_search_after_cursor():
    first = page("presidential-page-one.json")
    assert first.count == 8582 and "search_after_cursor=" in first.next_url and "page=2" in first.next_url


def test_fields_limited_page_without_type_is_an_error_per_record():
    errors = problems(page("significant-1.json"))
    assert [e.item_key for e in errors] == ["2026-19946", "2026-19694"]
    assert all("missing field 'type'" in e.message for e in errors)


def test_rule_and_determination_and_facets():
    (rule,) = instruments(page("regulatory-document.json"))
    assert (rule.fr_type, rule.effective_on, rule.fr_citation) == ("Rule", date(2025, 1, 30), "89 FR 107012")
    assert force_label(rule.kind, rule.instrument_status, rule.fr_type) == "law"
    (determination,) = instruments(page("historical-document.json"))
    assert (determination.kind, determination.fr_subtype, determination.eo_number) == (
        "fr_document", "Determination", None)
    text = shared_file(FR + "facets-subtype-year.json").read_text()
    assert parse_facets(text)["executive_order"] == 18


def test_public_inspection_record():
    (filed,) = instruments(page("inspection-detail.json"))
    assert filed.stage == "public_inspection" and filed.published_on is None
    assert filed.public_inspection_at == datetime.fromisoformat("2026-09-28T11:15:00-04:00")
    assert filed.raw["scheduled_publication_date"] == "2026-09-30"


# --- Bad input --------------------------------------------------------------------------------------

def real_record() -> dict:
    return json.loads(shared_file(FR + "current-document.json").read_text())


def test_unknown_document_type_is_a_recorded_error():
    record = real_record() | {"type": "Sunshine Act Document"}
    problem = parse_document(record, fetched_at=FETCHED, where="test")
    assert isinstance(problem, ItemProblem) and "unknown document type 'Sunshine Act Document'" in problem.message
    assert problem.item_key == "2026-19417"


@pytest.mark.parametrize("missing", ["document_number", "title"])
def test_missing_field_is_a_recorded_error(missing):
    record = {k: v for k, v in real_record().items() if k != missing}
    problem = parse_document(record, fetched_at=FETCHED, where="test")
    assert isinstance(problem, ItemProblem) and f"missing field '{missing}'" in problem.message


def test_unreadable_date_is_a_recorded_error():
    problem = parse_document(real_record() | {"signing_date": "2026-02-30"}, fetched_at=FETCHED, where="test")
    assert isinstance(problem, ItemProblem) and "unreadable date" in problem.message


@pytest.mark.parametrize("body, expected", [
    ('{"count": 3, "results": {"0": {}}}', "`results` is a dict"),  # an old/changed shape
    ("<html><body>Service unavailable</body></html>", "HTML/XML"),
    ('{"documents": []}', "not a Federal Register API response"),
    ("[1, 2]", "expected a JSON object"),
])
def test_wrong_shapes_are_recorded_errors_for_that_page(body, expected):
    result = parse_page(body, name="page.json", fetched_at=FETCHED)
    (problem,) = result.items
    assert isinstance(problem, ItemProblem) and expected in problem.message


def test_one_bad_record_does_not_stop_the_page():
    data = json.loads(shared_file(FR + "presidential-page-one.json").read_text())
    data["results"].insert(1, {"title": "no number"})
    data["results"][0]["type"] = "Memo"
    result = parse_page(json.dumps(data), name="p1", fetched_at=FETCHED)
    assert len(problems(result)) == 2 and [i.key for i in instruments(result)] == ["fr:2026-19554"]


# --- Storing ---------------------------------------------------------------------------------------

def test_ingest_whole_folder_twice(db_url):
    folder = shared_file(FR + "current-document.json").parent
    batch = FederalRegister().read_path(folder, fetched_at=FETCHED)
    engine = database.get_engine(db_url)
    with database.session_scope(engine) as db:
        first = ingest(db, batch.items)
    assert (first.inserted, first.updated, first.unchanged, len(first.problems)) == (15, 0, 0, 4)
    with database.session_scope(engine) as db:
        second = ingest(db, FederalRegister().read_path(folder, fetched_at=FETCHED).items)
        order = db.execute(select(FederalInstrument).where(FederalInstrument.key == "fr:2026-19417")).scalar_one()
        assert (order.kind, order.eo_number, order.confidence, order.stance) == ("executive_order", "14430", "H", [])
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 15)


def test_public_inspection_then_publication_is_one_record(db_url):
    filed = real_record() | {"filed_at": "2026-09-19T08:45:00.000-04:00", "filing_type": "regular"}
    filed.pop("citation")
    published = real_record()
    engine = database.get_engine(db_url)
    with database.session_scope(engine) as db:
        store_instruments(db, [parse_document(filed, fetched_at=FETCHED, where="pi")])
        row = db.execute(select(FederalInstrument)).scalar_one()
        assert (row.stage, row.published_on, row.fr_citation) == ("public_inspection", None, None)
    with database.session_scope(engine) as db:
        outcome = store_instruments(db, [parse_document(published, fetched_at=FETCHED, where="doc")])
        row = db.execute(select(FederalInstrument)).scalar_one()
        assert outcome.updated == 1
        assert (row.stage, row.published_on, row.fr_citation) == ("published", date(2026, 9, 22), "91 FR 60293")
        assert row.public_inspection_at is not None  # publication keeps when it was filed
    with database.session_scope(engine) as db:  # a late public-inspection record never downgrades it
        store_instruments(db, [parse_document(filed, fetched_at=FETCHED, where="pi")])
        row = db.execute(select(FederalInstrument)).scalar_one()
        assert (row.stage, row.fr_citation) == ("published", "91 FR 60293")


def test_public_inspection_and_publication_in_one_batch(sqlite_url):
    filed = real_record() | {"filed_at": "2026-09-19T08:45:00-04:00"}
    items = [parse_document(filed, fetched_at=FETCHED, where="pi"),
             parse_document(real_record(), fetched_at=FETCHED, where="doc")]
    with database.session_scope(database.get_engine(sqlite_url)) as db:
        outcome = store_instruments(db, items)
        row = db.execute(select(FederalInstrument)).scalar_one()
    assert outcome.inserted == 1 and outcome.problems == []
    assert row.stage == "published" and row.public_inspection_at is not None


# --- Fetching -------------------------------------------------------------------------------------

def fr_transport(bodies: dict[str, tuple[int, str]], seen: list[str]) -> httpx.MockTransport:
    """Serve recorded bodies by a marker found in the request URL (first match wins)."""

    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        seen.append(url)
        for marker, (status, body) in bodies.items():
            if marker in url:
                return httpx.Response(status, text=body, headers={"content-type": "application/json"})
        return httpx.Response(404, text="not recorded")

    return httpx.MockTransport(handler)


def fixture_text(name: str) -> str:
    return shared_file(FR + name).read_text()


@pytest.fixture
def fr_settings(settings, monkeypatch):
    settings.http_cache = False
    settings.federal_register_terms = ['"artificial intelligence"', "AI"]
    return settings


def test_fetch_pages_dedupes_records_errors_and_moves_the_cursor(fr_settings, sqlite_url, monkeypatch):
    monkeypatch.setattr(fr_settings, "database_url", sqlite_url)
    seen: list[str] = []
    bodies = {
        "page=3": (400, fixture_text("invalid-cursor.json")),  # a broken cursor on page 3
        "page=2": (200, fixture_text("presidential-page-two.json")),
        "public-inspection-documents/current.json": (200, fixture_text("inspection-search.json")),
        "documents.json": (200, fixture_text("presidential-page-one.json")),
    }
    fetcher = Fetcher(fr_settings, transport=fr_transport(bodies, seen), sleep=lambda s: None)
    summaries = run_source(database.get_engine(sqlite_url), fr_settings, "federal-register", fetcher=fetcher)
    (summary,) = summaries
    # Two terms return the same four documents: stored once each. The 400 is recorded, the run goes on.
    assert (summary.status, summary.inserted, summary.problems) == ("partial", 4, 2)
    assert sum("documents.json" in u for u in seen) == 2 and sum("&page=2&" in u for u in seen) == 2
    assert any("public-inspection-documents/current.json?_=" in u for u in seen)  # cache-buster
    with database.session_scope(database.get_engine(sqlite_url)) as db:
        cursor = db.execute(select(SourceCursor.value).where(SourceCursor.source_id == "federal-register")).scalar()
        keys = set(db.execute(select(FederalInstrument.key)).scalars())
    assert cursor == "2026-09-23"
    assert keys == {"fr:2026-19555", "fr:2026-19554", "fr:2026-19417", "fr:2026-19416"}  # no AI PI record
    # The next run starts one day before the newest publication date it stored.
    seen.clear()
    run_source(database.get_engine(sqlite_url), fr_settings, "federal-register",
               fetcher=Fetcher(fr_settings, transport=fr_transport(bodies, seen), sleep=lambda s: None))
    assert "conditions%5Bpublication_date%5D%5Bgte%5D=2026-09-22" in seen[0]


def test_fetch_drops_a_field_the_api_no_longer_accepts(fr_settings, sqlite_url, monkeypatch):
    monkeypatch.setattr(fr_settings, "database_url", sqlite_url)
    fr_settings.federal_register_terms = ["AI"]
    refused = json.loads(fixture_text("fields-unknown.json")) | {"message": "field 'significant' not valid"}
    seen: list[str] = []
    answers = iter([(400, json.dumps(refused)), (200, fixture_text("search-terminal.json"))])

    def handler(request):
        seen.append(str(request.url))
        if "public-inspection" in str(request.url):
            return httpx.Response(200, text=fixture_text("search-terminal.json"))
        status, body = next(answers)
        return httpx.Response(status, text=body)

    fetcher = Fetcher(fr_settings, transport=httpx.MockTransport(handler), sleep=lambda s: None)
    (batch,) = FederalRegister().fetch(fetcher, fr_settings)
    items = list(batch.items)
    assert any("no longer accepts field 'significant'" in p.message for p in items)
    assert "significant" in seen[0] and "fields%5B%5D=significant" not in seen[1]


def test_documents_url_asks_for_subtype_not_presidential_document_type():
    url = documents_url('"artificial intelligence"', date(2025, 1, 1))
    assert "fields%5B%5D=subtype" in url and "presidential_document_type" not in url
    assert "conditions%5Bterm%5D=%22artificial+intelligence%22" in url and "order=oldest" in url
    assert set(FIELDS) >= {"executive_order_number", "signing_date", "raw_text_url"}
    assert public_inspection_url(120.0) == public_inspection_url(179.0) != public_inspection_url(180.0)


def test_fetch_scans_full_text_of_new_presidential_documents(fr_settings, sqlite_url, monkeypatch):
    """A synthetic search result in the real shape, whose full text holds preemption language."""
    monkeypatch.setattr(fr_settings, "database_url", sqlite_url)
    fr_settings.federal_register_terms = ["AI"]
    record = copy.deepcopy(real_record())
    record |= {"document_number": "2099-00001", "title": "SYNTHETIC test order on artificial intelligence",
               "executive_order_number": "99999",
               "raw_text_url": "https://www.federalregister.gov/documents/full_text/text/2099/01/01/2099-00001.txt"}
    search = {"description": "SYNTHETIC", "count": 1, "total_pages": 1, "results": [record]}
    text = "Sec. 3. The Attorney General shall establish an AI Litigation Task Force to challenge State AI laws."
    bodies = {"full_text/text": (200, text), "public-inspection": (200, fixture_text("search-terminal.json")),
              "documents.json": (200, json.dumps(search))}
    fetcher = Fetcher(fr_settings, transport=fr_transport(bodies, []), sleep=lambda s: None)
    (summary,) = run_source(database.get_engine(sqlite_url), fr_settings, "federal-register", fetcher=fetcher)
    assert summary.status == "ok" and summary.inserted == 1
    from tracker.models import PreemptionCandidate

    with database.session_scope(database.get_engine(sqlite_url)) as db:
        (candidate,) = db.execute(select(PreemptionCandidate)).scalars()
        assert {e["term"] for e in candidate.evidence} >= {"litigation task force", "State law"}
        assert all(e["field"] == "full_text" for e in candidate.evidence)
