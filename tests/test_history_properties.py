"""Property test over real histories (issue #9): deliver random prefixes of a bill's real history
(each a snapshot fetched the day after its last action), in random order, with duplicates and with
actions reordered within a day. Whatever the delivery:
* the stored status is the status of the newest snapshot delivered (older ones are never applied);
* the recorded status changes are exactly the status transitions along the snapshots that were
  newer than everything before them: never a rollback, never the same change twice;
* delivered in fetch order, every transition of the history is recorded once."""

from __future__ import annotations

import dataclasses
import random
import shutil
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from scrapers.openstates import OpenStatesFiles
from scrapers.va_lis import VirginiaLIS
from tests.conftest import SHARED
from tracker import db as database
from tracker.models import Bill, StatusChange
from tracker.normalize.bill import label_of, normalize_bill
from tracker.scraped import ScrapedBill
from tracker.storage import ingest

FETCHED = datetime(2026, 8, 1, tzinfo=UTC)
# Real histories: VA SB 487 (signed, chapter 678; its last day has the signature and the chapter text),
# VA HB 747 (continued to 2025), CO SB26-189 (the automated-decision law, in Open States' newest-first
# order), FL HB 1395 (died in committee).
HISTORIES = [
    ("fixtures/states/va/AI_SLICE_241_Bills.csv", "va-lis", "SB 487"),
    ("fixtures/states/va/AI_SLICE_241_Bills.csv", "va-lis", "HB 747"),
    ("fixtures/states/co/openstates_scrape_json/2026A__SB189.json", "openstates-json", "SB 189"),
    ("fixtures/states/fl/openstates_scrape_json/2026__HB1395.json", "openstates-json", "HB 1395"),
]


def _history(relative: str, source: str, identifier: str) -> ScrapedBill | None:
    path = SHARED / relative
    if not path.exists():
        return None
    reader = VirginiaLIS() if source == "va-lis" else OpenStatesFiles()
    return next(b for b in reader.read_path(path, fetched_at=FETCHED).items
                if isinstance(b, ScrapedBill) and b.identifier == identifier)


def snapshots(bill: ScrapedBill) -> list[ScrapedBill]:
    """Prefix k of the history (in date order), fetched at noon the day after its last action, plus k
    minutes so that later prefixes are always later fetches."""
    ordered = normalize_bill(bill).actions
    found = []
    for k in range(1, len(ordered) + 1):
        last = max((a.date for a in ordered[:k] if a.date), default=FETCHED.date())
        when = datetime.combine(last + timedelta(days=1), time(12), UTC) + timedelta(minutes=k)
        found.append(dataclasses.replace(bill, actions=list(ordered[:k]), fetched_at=when, source_text=None))
    return found


def shuffled_within_days(bill: ScrapedBill, seed: int) -> ScrapedBill:
    rng = random.Random(seed)
    days: dict = {}
    for action in bill.actions:
        days.setdefault(action.date, []).append(action)
    actions = []
    for day in sorted(days, key=lambda d: (d is None, d)):
        group = list(days[day])
        rng.shuffle(group)
        actions.extend(group)
    return dataclasses.replace(bill, actions=actions, source_text=None)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database.upgrade(f"sqlite:///{path}")
    database.get_engine(f"sqlite:///{path}").dispose()  # closing checkpoints the WAL into the file we copy
    return path


@pytest.fixture(scope="module")
def histories():
    found = [_history(*entry) for entry in HISTORIES]
    if not all(found):
        pytest.skip("needs ../shared fixtures (VA AI slice, CO and FL Open States output)")
    return [snapshots(bill) for bill in found]


def _deliver(template: Path, folder: Path, deliveries: list[ScrapedBill]) -> tuple[Bill, list[tuple]]:
    path = folder / f"db-{random.getrandbits(48):x}.db"
    shutil.copy(template, path)
    engine = database.get_engine(f"sqlite:///{path}")
    for snapshot in deliveries:
        with database.session_scope(engine) as db:
            ingest(db, [dataclasses.replace(snapshot)])
    with database.session_scope(engine) as db:
        stored = db.execute(select(Bill)).scalar_one()
        changes = [(c.old_label, c.new_label) for c in db.execute(select(StatusChange).order_by(StatusChange.id))
                   .scalars()]
    engine.dispose()
    database.get_engine.cache_clear()
    path.unlink()
    return stored, changes


def _expected_transitions(accepted: list[ScrapedBill]) -> list[tuple]:
    labels = [label_of(normalize_bill(s).status) for s in accepted]
    expected, previous = [], None
    for label in labels:
        if label != previous:
            expected.append((previous, label))
            previous = label
    return expected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_random_deliveries_of_a_real_history(data, histories, template_db, tmp_path):
    versions = data.draw(st.sampled_from(histories), label="history")
    picks = data.draw(st.lists(st.integers(0, len(versions) - 1), min_size=1, max_size=12), label="snapshots")
    deliveries = []
    for pick in picks:
        shuffle = data.draw(st.booleans(), label="reorder within a day")
        deliveries.append(shuffled_within_days(versions[pick], pick) if shuffle else versions[pick])
    stored, changes = _deliver(template_db, tmp_path, deliveries)

    newest = versions[max(picks)]
    expected_status = normalize_bill(newest).status
    assert (stored.status, stored.enacted_how or stored.failed_how, stored.carried_over,
            stored.override_possible) == (expected_status.status, expected_status.enacted_how
                                          or expected_status.failed_how, expected_status.carried_over,
                                          expected_status.override_possible)
    # The snapshots that were applied: each newer than everything delivered before it.
    accepted, latest = [], -1
    for pick in picks:
        if pick > latest:
            accepted.append(versions[pick])
            latest = pick
    assert changes == _expected_transitions(accepted)


def test_every_transition_of_a_history_delivered_in_order_is_recorded_once(histories, template_db, tmp_path):
    for versions in histories:
        stored, changes = _deliver(template_db, tmp_path, versions)
        assert changes == _expected_transitions(versions)
        assert stored.status == normalize_bill(versions[-1]).status.status
