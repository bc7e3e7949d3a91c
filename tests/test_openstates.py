"""Open States: the recorded scrape JSON (OCD shape) and the live API v3 source against a mock.

No real v3 `/bills` response is recorded (../shared/DOMAIN.md §6.3). The v3 pages here are built
by `as_v3` from the real scrape records, following the documented v3 schema (openstates/api-v3
`api/schemas.py` Bill, `api/pagination.py`): `session` instead of `legislative_session`,
organizations as objects, an `ocd-bill/` id, `updated_at`, `openstates_url`, and a
`{"results": [...], "pagination": {...}}` envelope. The live shape stays unverified.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

import scrapers
from scrapers.base import SourceFormatError
from scrapers.openstates import (
    OpenStatesAPI,
    OpenStatesFiles,
    bills_url,
    ocd_jurisdiction,
    parse_bills_page,
    parse_ocd_bill,
    parse_v3_bill,
)
from tests.conftest import SHARED, shared_file
from tracker import db as database
from tracker.budget import QueryBudget
from tracker.db import get_engine, session_scope
from tracker.http import Fetcher
from tracker.models import Bill, BillSource, ScrapeRun, SourceCursor
from tracker.normalize.bill import normalize_bill
from tracker.runs import run_source

FETCHED = datetime(2026, 2, 1, tzinfo=UTC)
SECRET = "os-key-0123456789abcdef0123456789"
CA = "fixtures/states/ca/openstates_scrape_json"


def _org(value) -> dict:
    """Scrape output writes `~{"classification": "upper"}`; v3 serves an Organization object."""
    classification = json.loads(value[1:]).get("classification") if isinstance(value, str) else "legislature"
    return {"id": f"ocd-organization/{classification}", "name": classification.title(),
            "classification": classification}


def as_v3(record: dict, number: int, updated_at: str = "2026-01-23T13:02:14.000000+00:00") -> dict:
    """A recorded scrape record, re-dressed in the documented v3 /bills shape."""
    state = record["jurisdiction"]["id"].split("state:")[1][:2]
    return {
        "id": f"ocd-bill/00000000-0000-4000-8000-{number:012d}",
        "session": record["legislative_session"],
        "jurisdiction": {k: record["jurisdiction"][k] for k in ("id", "name", "classification")},
        "from_organization": _org(record["from_organization"]),
        "identifier": record["identifier"], "title": record["title"],
        "classification": record["classification"], "subject": record.get("subject", []), "extras": record["extras"],
        "created_at": "2025-02-20T00:00:00+00:00", "updated_at": updated_at,
        "openstates_url": f"https://openstates.org/{state}/bills/{record['legislative_session']}/"
                          f"{record['identifier'].replace(' ', '')}/",
        "abstracts": record.get("abstracts", []),
        "sponsorships": [{"name": s["name"], "entity_type": s["entity_type"], "primary": s["primary"],
                          "classification": s["classification"], "organization": None,
                          "person": {"id": f"ocd-person/{s['name'].lower()}", "name": s["name"], "party": ""}}
                         for s in record.get("sponsorships", [])],
        "actions": [{"organization": _org(a["organization_id"]), "description": a["description"], "date": a["date"],
                     "classification": a["classification"], "order": i}
                    for i, a in enumerate(record.get("actions", []))],
        "sources": record.get("sources", []),
        "versions": [{"note": v["note"], "date": v["date"], "links": v["links"]} for v in record.get("versions", [])],
    }


def ca_records() -> list[dict]:
    folder = shared_file(CA)
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]


def page(records: list[dict], number: int, max_page: int, total: int) -> dict:
    return {"results": records, "pagination": {"per_page": 20, "page": number, "max_page": max_page,
                                               "total_items": total}}


# --- The recorded scrape output (OCD shape) -------------------------------------------------------

def test_every_recorded_scrape_file_parses():
    paths = sorted((SHARED / "fixtures/states").glob("*/openstates_scrape_json/*.json"))
    if not paths:
        pytest.skip("needs ../shared/fixtures/states/*/openstates_scrape_json")
    bills = [normalize_bill(item) for path in paths for item in OpenStatesFiles().read_path(path, fetched_at=FETCHED).items]
    assert len(bills) == 40 and {b.scraped.source_id for b in bills} == {"openstates-json"}
    keys = {b.key for b in bills}
    assert {"ca-20252026-SB53", "co-2026A-HB1139", "ct-2026-HB5222", "mn-20252026-HF2500", "nj-222-A2767",
            "tx-892-HB148", "wa-20252026-HB1170"} <= keys


# --- The v3 shape --------------------------------------------------------------------------------

def test_v3_record_parses_like_the_scrape_record_it_came_from():
    for number, record in enumerate(ca_records()):
        scraped = parse_ocd_bill(record, fetched_at=FETCHED)
        live = parse_v3_bill(as_v3(record, number), fetched_at=FETCHED)
        assert (live.jurisdiction, live.session, live.identifier, live.title) == \
               (scraped.jurisdiction, scraped.session, scraped.identifier, scraped.title)
        assert [(a.date, a.text, a.actor, a.source_classes) for a in live.actions] == \
               [(a.date, a.text, a.actor, a.source_classes) for a in scraped.actions]
        assert normalize_bill(live).status == normalize_bill(scraped).status
        assert live.source_id == "openstates" and live.upstream_id.startswith("ocd-bill/")
        assert live.source_url.startswith("https://openstates.org/ca/bills/20252026/")
        assert live.sponsors[0].source_person_id.startswith("ocd-person/")


def test_bills_page_and_its_damage():
    records = [as_v3(r, n) for n, r in enumerate(ca_records())]
    result = parse_bills_page(page(records, 1, 1, 5), fetched_at=FETCHED)
    assert (len(result.items), result.page, result.max_page, result.total_items) == (5, 1, 1, 5)
    assert result.latest_update == "2026-01-23T13:02:14.000000+00:00"
    with pytest.raises(SourceFormatError, match="expected 'results' and 'pagination'"):
        parse_bills_page({"detail": "Not Found"}, fetched_at=FETCHED, url="https://v3.openstates.org/bills")
    broken = dict(records[0], actions=[{"organization": {}, "description": "x", "date": "2025-13-45"}])
    # An unreadable action date does not lose the bill: it is stored, the action kept undated, and a
    # note (a kept problem) names the date.
    bill, note = parse_bills_page(page([broken], 1, 1, 1), fetched_at=FETCHED).items
    assert bill.actions[0].date is None and bill.actions[0].raw_date == "2025-13-45"
    assert note.kept and "2025-13-45" in note.message and note.item_key == records[0]["identifier"]


def test_request_shape():
    assert ocd_jurisdiction("VA") == "ocd-jurisdiction/country:us/state:va/government"
    assert ocd_jurisdiction("dc") == "ocd-jurisdiction/country:us/district:dc/government"
    assert ocd_jurisdiction("pr") == "ocd-jurisdiction/country:us/territory:pr/government"
    query = parse_qs(urlsplit(bills_url("ca", "2026-01-23", 2, "deepfake")).query)
    assert query["include"] == ["actions", "sponsorships", "abstracts", "versions", "sources"]
    assert (query["per_page"], query["page"], query["sort"], query["updated_since"], query["q"]) == (
        ["20"], ["2"], ["updated_asc"], ["2026-01-23"], ["deepfake"])


# --- The live source against a mocked v3 API -----------------------------------------------------

class FakeOpenStates:
    def __init__(self, records: list[dict]):
        self.records = records
        self.requests: list[httpx.Request] = []
        self.status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["X-API-KEY"] == SECRET and SECRET not in str(request.url)
        if self.status != 200:
            return httpx.Response(self.status, json={"detail": "rate limit exceeded"})
        query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        chosen = [r for r in self.records if r["updated_at"][:10] >= query["updated_since"]]
        number, per = int(query["page"]), int(query["per_page"])
        pages = max(1, -(-len(chosen) // per))
        return httpx.Response(200, json=page(chosen[(number - 1) * per: number * per], number, pages, len(chosen)))


@pytest.fixture
def live(settings, monkeypatch):
    settings = settings.model_copy(update={"openstates_api_key": SecretStr(SECRET), "http_cache": False,
                                           "openstates_jurisdictions": ["ca"]})
    database.upgrade(settings.database_url)
    engine = get_engine(settings.database_url)
    clock = lambda: datetime(2026, 2, 1, 12, tzinfo=UTC)  # noqa: E731

    def run(fake, sleeps=None, **update):
        local = settings.model_copy(update=update)
        monkeypatch.setitem(scrapers.REGISTRY, "openstates", OpenStatesAPI(transport=httpx.MockTransport(fake),
                                                                          clock=clock))
        sleep = (lambda s: sleeps.append(s)) if sleeps is not None else (lambda s: None)
        with Fetcher(local, transport=httpx.MockTransport(fake), sleep=sleep) as fetcher:
            return run_source(engine, local, "openstates", fetcher=fetcher)
    run.engine, run.clock = engine, clock
    return run


@pytest.fixture
def fake() -> FakeOpenStates:
    base = ca_records()
    # 25 results: two pages of 20. The five real CA records, and 20 copies renumbered AB 9001...
    records = [as_v3(r, n, f"2026-01-{10 + n:02d}T08:00:00+00:00") for n, r in enumerate(base)]
    for n in range(20):
        copy = as_v3(dict(base[0], identifier=f"AB{9001 + n}"), 100 + n, "2026-01-20T09:00:00+00:00")
        records.append(copy)
    return FakeOpenStates(sorted(records, key=lambda r: r["updated_at"]))


def test_incremental_poll_pages_paces_and_resumes(live, fake):
    sleeps: list[float] = []
    summaries = live(fake, sleeps)
    assert [(s.status, s.inserted) for s in summaries] == [("ok", 25)]
    # 10/min: the second request waits out the rest of its 6 s slot (less the real time spent
    # ingesting page one, so the exact figure depends on the machine's load).
    waits = [s for s in sleeps if s > 0]
    assert len(fake.requests) == 2 and len(waits) == 1 and 3.0 < waits[0] <= 6.0
    first = parse_qs(urlsplit(str(fake.requests[0].url)).query)
    assert first["updated_since"] == ["2025-01-01"] and first["q"][0].startswith('"artificial intelligence"')
    assert first["jurisdiction"] == ["ocd-jurisdiction/country:us/state:ca/government"]
    with session_scope(live.engine) as db:
        cursor = db.execute(select(SourceCursor.value).where(SourceCursor.key == "updated_since:ca")).scalar_one()
        assert cursor == "2026-01-20"
        assert db.execute(select(Bill.source_id).where(Bill.key == "ca-20252026-SB53")).scalar_one() == "openstates"
        target = db.execute(select(ScrapeRun.target)).scalar_one()
        assert target.startswith("https://v3.openstates.org/bills?jurisdiction=") and SECRET not in target
    fake.requests.clear()
    again = live(fake)  # resumes from the watermark: the last day again, found unchanged
    assert parse_qs(urlsplit(str(fake.requests[0].url)).query)["updated_since"] == ["2026-01-20"]
    assert [(s.status, s.unchanged, s.inserted) for s in again] == [("ok", 20, 0)]


def test_daily_budget_stops_the_poll_and_keeps_what_was_read(live, fake):
    summaries = live(fake, openstates_daily_budget=1)
    assert [s.status for s in summaries] == ["ok", "failed"]
    assert summaries[0].inserted == 20 and "budget spent: 1 of 1 used in 2026-02-01" in summaries[1].message
    assert len(fake.requests) == 1
    with session_scope(live.engine) as db:
        # Sorted updated_asc: what was read is safe to resume after.
        assert db.execute(select(SourceCursor.value)).scalar_one() == "2026-01-20"
    usage = QueryBudget(live.engine, "openstates", 1, per="day", clock=live.clock).usage()
    assert (usage.queries, usage.refused) == (1, 1)


def test_an_exhausted_key_is_a_recorded_failure(live, fake, caplog):
    fake.status = 429
    with caplog.at_level(logging.WARNING):
        summaries = live(fake, http_max_retries=1)
    assert [s.status for s in summaries] == ["failed"] and "HTTP 429" in summaries[0].message
    assert SECRET not in caplog.text and SECRET not in summaries[0].message


def test_wrong_layout_fails_loudly(live):
    def not_a_bills_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"detail": "Not Found"})

    summaries = live(not_a_bills_page)
    assert [s.status for s in summaries] == ["failed"] and "expected 'results' and 'pagination'" in summaries[0].message


def test_nothing_updated_is_an_unchanged_run(live):
    summaries = live(FakeOpenStates([]))
    assert [s.status for s in summaries] == ["unchanged"]


def test_missing_key_or_jurisdictions_is_a_clear_failure(live, fake):
    assert "TRACKER_OPENSTATES_API_KEY is not set" in live(fake, openstates_api_key=None)[0].message
    assert "TRACKER_OPENSTATES_JURISDICTIONS is empty" in live(fake, openstates_jurisdictions=[])[0].message
    assert fake.requests == []


def test_saved_pages_can_be_ingested_as_the_live_source(tmp_path):
    records = [as_v3(r, n) for n, r in enumerate(ca_records())]
    (tmp_path / "page1.json").write_text(json.dumps(page(records, 1, 1, 5)))
    items = list(OpenStatesAPI().read_path(tmp_path, fetched_at=FETCHED).items)
    assert len(items) == 5 and {i.source_id for i in items} == {"openstates"}
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError):
        OpenStatesAPI().read_path(tmp_path / "empty")


def test_stored_source_row_keeps_the_open_states_id(live, fake):
    live(fake)
    with session_scope(live.engine) as db:
        row = db.execute(select(BillSource).join(Bill).where(Bill.key == "ca-20252026-SB53")).scalar_one()
        assert row.upstream_id.startswith("ocd-bill/") and row.upstream_scope == "ca-20252026"
        assert row.status == "enacted" and row.fields["title"]


def test_a_refused_key_blocks_the_rest_of_the_day(live, fake):
    fake.status = 429
    live(fake, http_max_retries=0, openstates_jurisdictions=["ca", "wa"])
    assert len(fake.requests) == 1  # wa is not tried once ca's key was refused
    fake.requests.clear()
    summaries = live(fake)
    assert fake.requests == [] and "refused the key" in summaries[0].message
    assert QueryBudget(live.engine, "openstates", 250, per="day", clock=live.clock).usage().blocked
