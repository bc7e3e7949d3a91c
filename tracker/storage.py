"""Store parsed bills: compare content hashes, write inserts/updates in bulk, record what changed.

Called inside one transaction (tracker.db.session_scope): if anything raises, nothing is kept.
Unchanged bills (same content hash as stored for this source) cost one dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session

from scrapers.base import ItemProblem, ParsedItem
from tracker.calendar import JURISDICTION_NAMES, session_calendar
from tracker.models import (
    Action,
    Bill,
    BillChange,
    BillSource,
    BillVersion,
    Jurisdiction,
    LegislativeSession,
    Sponsor,
    StatusChange,
)
from tracker.normalize.bill import NormalizedBill, normalize_bill, status_label
from tracker.normalize.identifiers import IdentifierError, bill_key
from tracker.scraped import ScrapedBill, content_hash_of

CHUNK = 5_000  # keeps IN lists and executemany batches a sensible size on both databases


@dataclass
class IngestResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    problems: list[ItemProblem] = field(default_factory=list)

    @property
    def bills_seen(self) -> int:
        return self.inserted + self.updated + self.unchanged


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def ensure_session(db: Session, jurisdiction: str, identifier: str) -> int:
    if db.get(Jurisdiction, jurisdiction) is None:
        db.add(Jurisdiction(id=jurisdiction, name=JURISDICTION_NAMES.get(jurisdiction, jurisdiction.upper()),
                            classification="federal" if jurisdiction == "us" else "state"))
        db.flush()
    found = db.execute(select(LegislativeSession.id).where(
        LegislativeSession.jurisdiction_id == jurisdiction, LegislativeSession.identifier == identifier)
    ).scalar_one_or_none()
    if found is not None:
        return found
    calendar = session_calendar(jurisdiction, identifier)
    row = LegislativeSession(jurisdiction_id=jurisdiction, identifier=identifier, name=calendar.name,
                             start_date=calendar.start_date, final_action_date=calendar.final_action_date,
                             carry_over=calendar.carry_over)
    db.add(row)
    db.flush()
    return row.id


def bill_values(norm: NormalizedBill, session_id: int) -> dict:
    bill, status = norm.scraped, norm.status
    return {
        "key": norm.key,
        "jurisdiction_id": bill.jurisdiction,
        "session_id": session_id,
        "identifier": norm.identifier,
        "kind": str(bill.kind),
        "origin_chamber": bill.origin_chamber,
        "title": bill.title,
        "summary": bill.summary,
        "introduced_on": bill.introduced_on,
        "chapter": status.chapter or bill.chapter,
        "source_id": bill.source_id,
        "source_url": bill.source_url,
        "fetched_at": bill.fetched_at,
        "source_flags": bill.source_flags,
        "classifier_version": norm.classifier_version,
        **status_values(norm),
    }


def status_values(norm: NormalizedBill) -> dict:
    status = norm.status
    return {
        "status": status.status,
        "status_date": status.status_date,
        "enacted_how": status.enacted_how,
        "failed_how": status.failed_how,
        "carried_over": status.carried_over,
        "override_possible": status.override_possible,
        "partial_veto": status.partial_veto,
        "prefiled": status.prefiled,
        "incorporated_into": status.incorporated_into,
    }


def _children(norm: NormalizedBill, bill_id: int) -> tuple[list[dict], list[dict], list[dict]]:
    bill = norm.scraped
    actions = [
        {"bill_id": bill_id, "position": i, "date": a.date, "raw_date": a.raw_date, "text": a.text,
         "actor": a.actor, "classes": list(c.classes), "facts": c.facts, "classifier_version": c.version}
        for i, (a, c) in enumerate(zip(bill.actions, norm.classifications, strict=True))
    ]
    sponsors = [{"bill_id": bill_id, "position": i, "name": s.name, "primary": s.primary,
                 "source_person_id": s.source_person_id} for i, s in enumerate(bill.sponsors)]
    versions = [{"bill_id": bill_id, "position": i, "note": v.note, "date": v.date, "url": v.url}
                for i, v in enumerate(bill.versions)]
    return actions, sponsors, versions


def status_change_row(norm: NormalizedBill, bill_id: int, run_id: int | None, old_status: str | None,
                      old_label: str | None, now: datetime) -> dict:
    cause = norm.status.cause_index
    return {
        "bill_id": bill_id, "run_id": run_id, "old_status": old_status, "new_status": norm.status.status,
        "old_label": old_label, "new_label": norm.status_label(), "action_date": norm.status.status_date,
        "cause": norm.scraped.actions[cause].text if cause is not None else None, "detected_at": now,
    }


def _collect(items: Iterable[ParsedItem], result: IngestResult) -> list[tuple[str, ScrapedBill, dict, str]]:
    """Valid bills with key and hashes; problems and in-batch duplicates go to `result.problems`."""
    seen: dict[str, str] = {}
    bills = []
    for item in items:
        if isinstance(item, ItemProblem):
            result.problems.append(item)
            continue
        try:
            key = bill_key(item.jurisdiction, item.session, item.identifier)
        except IdentifierError as exc:
            result.problems.append(ItemProblem(str(exc), item.identifier, item.source_url))
            continue
        hashes = item.field_hashes()
        content_hash = content_hash_of(hashes)
        if key in seen:
            if seen[key] != content_hash:
                result.problems.append(ItemProblem(f"{key} appears twice in one batch with different "
                                                   "content; kept the first", key, item.source_url))
            continue
        seen[key] = content_hash
        bills.append((key, item, hashes, content_hash))
    return bills


def ingest(db: Session, items: Iterable[ParsedItem], *, run_id: int | None = None) -> IngestResult:
    result = IngestResult()
    now = datetime.now(UTC)
    collected = _collect(items, result)
    if not collected:
        return result
    sessions: dict[tuple[str, str], int] = {}
    for _, bill, _, _ in collected:
        scope = (bill.jurisdiction, bill.session)
        if scope not in sessions:
            sessions[scope] = ensure_session(db, *scope)

    source_ids = {bill.source_id for _, bill, _, _ in collected}
    existing: dict[str, tuple] = {}
    for row in db.execute(
        select(Bill.key, Bill.id, Bill.status, Bill.enacted_how, Bill.failed_how, Bill.carried_over,
               BillSource.content_hash, BillSource.field_hashes)
        .outerjoin(BillSource, (BillSource.bill_id == Bill.id) & BillSource.source_id.in_(source_ids))
        .where(Bill.session_id.in_(list(sessions.values())))
    ):
        existing[row.key] = row

    new, changed = [], []
    for key, bill, hashes, content_hash in collected:
        old = existing.get(key)
        if old is not None and old.content_hash == content_hash:
            result.unchanged += 1
            continue
        norm = normalize_bill(bill, content_hash)
        (new if old is None else changed).append((norm, hashes, old))

    status_rows, change_rows, source_rows = [], [], []
    child_rows: tuple[list, list, list] = ([], [], [])
    if new:
        values = [bill_values(norm, sessions[(norm.scraped.jurisdiction, norm.scraped.session)])
                  | {"first_seen_at": now, "updated_at": now} for norm, _, _ in new]
        ids: dict[str, int] = {}
        for chunk in _chunks(values):
            for bill_id, key in db.execute(insert(Bill).returning(Bill.id, Bill.key, sort_by_parameter_order=True),
                                           chunk):
                ids[key] = bill_id
        for norm, hashes, _ in new:
            bill_id = ids[norm.key]
            for bucket, rows in zip(child_rows, _children(norm, bill_id), strict=True):
                bucket.extend(rows)
            source_rows.append(_source_row(norm, bill_id, hashes))
            status_rows.append(status_change_row(norm, bill_id, run_id, None, None, now))
            change_rows.append({"bill_id": bill_id, "run_id": run_id, "change": "insert",
                                "changed_fields": [], "detected_at": now})
        result.inserted = len(new)

    if changed:
        changed_ids = [old.id for _, _, old in changed]
        for chunk in _chunks(changed_ids):
            for table in (Action, Sponsor, BillVersion, BillSource):
                db.execute(delete(table).where(table.bill_id.in_(chunk)))
        updates = []
        for norm, hashes, old in changed:
            session_id = sessions[(norm.scraped.jurisdiction, norm.scraped.session)]
            updates.append({"id": old.id, **bill_values(norm, session_id), "updated_at": now})
            for bucket, rows in zip(child_rows, _children(norm, old.id), strict=True):
                bucket.extend(rows)
            source_rows.append(_source_row(norm, old.id, hashes))
            old_label = status_label(old.status, old.enacted_how or old.failed_how, old.carried_over)
            fields = sorted(k for k, v in hashes.items() if (old.field_hashes or {}).get(k) != v)
            if old_label != norm.status_label():
                status_rows.append(status_change_row(norm, old.id, run_id, old.status, old_label, now))
                fields.append("status")
            change_rows.append({"bill_id": old.id, "run_id": run_id, "change": "update",
                                "changed_fields": fields, "detected_at": now})
        for chunk in _chunks(updates):
            db.execute(update(Bill), chunk)
        result.updated = len(changed)

    for table, rows in zip((Action, Sponsor, BillVersion), child_rows, strict=True):
        for chunk in _chunks(rows):
            db.execute(insert(table), chunk)
    for table, rows in ((BillSource, source_rows), (StatusChange, status_rows), (BillChange, change_rows)):
        for chunk in _chunks(rows):
            db.execute(insert(table), chunk)
    result.status_changes = len(status_rows)
    return result


def _source_row(norm: NormalizedBill, bill_id: int, hashes: dict[str, str]) -> dict:
    bill = norm.scraped
    return {"bill_id": bill_id, "source_id": bill.source_id, "url": bill.source_url,
            "fetched_at": bill.fetched_at, "content_hash": norm.content_hash,
            "raw": bill.raw, "field_hashes": hashes}
