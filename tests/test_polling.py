"""Polling (issue #11): run records opened before the fetch and carrying its cost, a listing that
shrinks fails without touching what is stored, one poller per source across processes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, func, select

import scrapers
from scrapers.base import Batch, Source
from scrapers.openstates import parse_ocd_bill
from tracker.db import get_engine
from tracker.http import Fetcher
from tracker.locks import acquire, held_by, release, source_lock
from tracker.models import Bill, ScrapeRun
from tracker.runs import run_source

FETCHED = datetime(2026, 3, 1, 12, tzinfo=UTC)
LISTING = "https://listing.example/bills.json"


def bill(number: int) -> dict:
    return {"identifier": f"HB {number}", "legislative_session": "2026", "title": f"AI bill {number}",
            "classification": ["bill"], "jurisdiction": {"id": "ocd-jurisdiction/country:us/state:zz/government"},
            "actions": [{"date": "2026-02-01", "description": "Introduced", "classification": []}]}


class ListingSource(Source):
    """A live source of one JSON listing, as the real ones are built: fetch through the Fetcher, parse."""

    id = "test-listing"
    title = "test listing"
    jurisdiction = "zz"

    def read_path(self, path, *, fetched_at=None, session=None):
        raise NotImplementedError

    def fetch(self, fetcher, settings):
        fetched = fetcher.get_text(LISTING, lambda body: body.decode())
        yield Batch(target=LISTING, items=[parse_ocd_bill(r, fetched_at=fetched.fetched_at, source_id=self.id)
                                           for r in json.loads(fetched.text)])


@pytest.fixture
def listing(monkeypatch, settings):
    monkeypatch.setitem(scrapers.REGISTRY, ListingSource.id, ListingSource())
    served = {"bills": [bill(n) for n in range(1, 11)]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=served["bills"]))
    engine = get_engine(settings.database_url)
    from tracker import db as database

    database.upgrade(settings.database_url)

    def poll(when=FETCHED):
        with Fetcher(settings.model_copy(update={"http_cache": False, "http_requests_per_minute": 1e9}),
                     transport=transport, sleep=lambda s: None, clock=lambda: when) as fetcher:
            return run_source(engine, settings, ListingSource.id, fetcher=fetcher)
    return poll, served, engine


def test_a_run_record_opens_before_the_fetch_and_records_its_cost(listing):
    poll, _, engine = listing
    [summary] = poll()
    assert summary.status == "ok" and summary.inserted == 10
    with Session(engine) as db:
        run = db.get(ScrapeRun, summary.run_id)
    assert (run.requests, run.cache_hits, run.not_modified) == (1, 0, 0) and run.bytes > 500
    assert run.target == LISTING and run.finished_at >= run.started_at


def test_a_listing_that_shrinks_fails_and_stores_nothing(listing):
    poll, served, engine = listing
    poll()
    served["bills"] = [dict(bill(1), title="changed title")] + [bill(n) for n in range(2, 4)]  # 3 of 10
    [summary] = poll(FETCHED + timedelta(hours=4))
    assert summary.status == "failed" and "fewer than half of the 10" in summary.message
    with Session(engine) as db:
        assert db.execute(select(func.count()).select_from(Bill)).scalar_one() == 10
        assert db.execute(select(Bill.title).where(Bill.identifier == "HB 1")).scalar_one() == "AI bill 1"


def test_one_poller_per_source_and_a_stale_lock_expires(listing):
    poll, _, engine = listing
    with source_lock(engine, ListingSource.id):
        [summary] = poll()  # a second poller (a schedule and a manual scrape) is turned away
    assert summary.status == "skipped" and "is being polled by" in summary.message
    assert held_by(engine, ListingSource.id) is None  # released
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert acquire(engine, "x", "killed-process", ttl=timedelta(hours=2), now=now)
    assert not acquire(engine, "x", "another", now=now + timedelta(hours=1))  # still held
    assert acquire(engine, "x", "another", now=now + timedelta(hours=3))  # expired: taken over
    release(engine, "x", "killed-process")  # only the holder's own row is released
    assert held_by(engine, "x").holder == "another"


def test_source_locks_work_on_sqlite_and_postgresql(db_url):
    engine = get_engine(db_url)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert acquire(engine, "va-lis", "scheduler-1", now=now)
    assert not acquire(engine, "va-lis", "scheduler-2", now=now + timedelta(minutes=5))
    release(engine, "va-lis", "scheduler-1")
    assert acquire(engine, "va-lis", "scheduler-2", now=now + timedelta(minutes=6))


class BrokenPagesSource(ListingSource):
    id = "test-broken-pages"

    def fetch(self, fetcher, settings):
        from scrapers.base import ItemProblem

        yield Batch(target=LISTING, items=[ItemProblem(f"{LISTING}: HTML where JSON was expected", None, LISTING),
                                           ItemProblem("page 2: not valid JSON", None, LISTING)])


def test_a_poll_that_reads_nothing_but_problems_fails_saying_which_and_why(listing, monkeypatch, settings):
    poll, _, engine = listing
    poll()  # ten bills stored
    monkeypatch.setitem(scrapers.REGISTRY, BrokenPagesSource.id, BrokenPagesSource())
    [summary] = run_source(engine, settings, BrokenPagesSource.id,
                           fetcher=Fetcher(settings.model_copy(update={"http_cache": False})))
    assert summary.status == "failed"
    assert summary.message == (f"SourceFormatError: nothing could be read: {LISTING}: HTML where JSON was "
                               "expected (and 1 more unreadable record(s))")
    with Session(engine) as db:
        assert db.execute(select(func.count()).select_from(Bill)).scalar_one() == 10
