"""Recompute action classes and statuses from stored raw actions; nothing is fetched.

Run after a rule table or a calendar changes. It derives each bill through the same function ingest
uses (tracker.normalize.bill.derive_bill) with the same inputs: the stored history in date order,
the bill's merged kind and origin chamber, the best-ranked source's own status claim, and the
bill's fetch time. So with unchanged rules it changes nothing (review row M4); status changes it
does cause are recorded like any other, with the stored fetch they rest on as provenance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session

from tracker.db import dumps_json
from tracker.models import Action, Bill, BillSource, LegislativeSession, StatusChange
from tracker.normalize.bill import derive_bill, label_of, status_label
from tracker.scraped import ScrapedAction
from tracker.rows import (
    ACTION_COLUMNS,
    CHUNK,
    _action_rows,
    _bulk_insert,
    _chunks,
    best_upstream_status,
    status_change_row,
    status_values,
    take_write_lock,
    utc,
)


@dataclass
class ReclassifyResult:
    bills: int = 0
    actions_changed: int = 0
    status_changes: int = 0


def reclassify(db: Session, *, run_id: int | None = None, jurisdiction: str | None = None,
               bill_ids: list[int] | None = None, lock: bool = True) -> ReclassifyResult:
    """Each bill is judged as of its `fetched_at` (the last time its sources confirmed it). `lock=False`
    when the caller's transaction already holds the write lock (an ingest)."""
    if lock:
        take_write_lock(db, f"reclassify run {run_id}")
    result = ReclassifyResult()
    now = datetime.now(UTC)
    query = select(Bill, LegislativeSession.identifier).join(LegislativeSession).order_by(Bill.id)
    if jurisdiction:
        query = query.where(Bill.jurisdiction_id == jurisdiction)
    if bill_ids is not None:
        query = query.where(Bill.id.in_(bill_ids))
    bills = db.execute(query).all()
    for chunk in _chunks(bills, CHUNK // 5):
        ids = [bill.id for bill, _ in chunk]
        actions = defaultdict(list)
        for action in db.execute(select(Action).where(Action.bill_id.in_(ids))
                                 .order_by(Action.bill_id, Action.position)).scalars():
            actions[action.bill_id].append(action)
        claims = defaultdict(list)
        for bill_id, source_id, claim in db.execute(select(BillSource.bill_id, BillSource.source_id,
                                                           BillSource.upstream_status)
                                                    .where(BillSource.bill_id.in_(ids))):
            claims[bill_id].append((source_id, claim))
        action_updates, bill_updates, status_rows, reordered, rows = [], [], [], [], []
        for bill, session in chunk:
            stored = actions[bill.id]
            derived = derive_bill(bill.jurisdiction_id, session, bill.kind, bill.origin_chamber,
                                  [ScrapedAction(a.date, a.text, a.raw_date, a.actor, tuple(a.source_classes or ()))
                                   for a in stored],
                                  utc(bill.fetched_at), best_upstream_status(claims[bill.id]))
            if derived.order != list(range(len(stored))):
                # Stored before histories were kept in date order: rewrite them in order.
                reordered.append(bill.id)
                rows.extend(_action_rows(bill.id, derived, [a.source_id for a in stored]))
            for position, new in zip(derived.order, derived.classifications, strict=True):
                action = stored[position]
                if list(new.classes) != action.classes or new.facts != action.facts \
                        or new.version != action.classifier_version or new.layer != action.class_layer:
                    action_updates.append({"id": action.id, "classes": list(new.classes), "facts": new.facts,
                                           "classifier_version": new.version, "class_layer": new.layer})
                    result.actions_changed += list(new.classes) != action.classes
            status = derived.status
            old_label = status_label(bill.status, bill.enacted_how or bill.failed_how, bill.carried_over,
                                     bill.override_possible)
            bill_updates.append({
                "id": bill.id, **status_values(status), "chapter": status.chapter or bill.chapter,
                "classifier_version": derived.classifications[0].version if stored else bill.classifier_version,
            })
            if old_label != label_of(status) or bill.status is None:
                cause = derived.actions[status.cause_index].text if status.cause_index is not None else None
                status_rows.append(status_change_row(
                    key=bill.key, bill_id=bill.id, run_id=run_id, old_status=bill.status, old_label=old_label,
                    status=status, cause=cause, source_id=bill.source_id, source_url=bill.source_url,
                    fetched_at=utc(bill.fetched_at), first_sighting=False, now=now))
        rewritten = {a.id for bill_id in reordered for a in actions[bill_id]}  # reinserted whole below
        updates = [u for u in action_updates if u["id"] not in rewritten]
        if updates:
            db.execute(update(Action), updates)
        for part in _chunks(reordered):
            db.execute(delete(Action).where(Action.bill_id.in_(part)))
        _bulk_insert(db, Action, rows, ACTION_COLUMNS,
                     {"classes": dumps_json, "facts": dumps_json, "source_classes": dumps_json})
        db.execute(update(Bill), bill_updates)
        if status_rows:
            db.add_all(StatusChange(**row) for row in status_rows)
        result.bills += len(chunk)
        result.status_changes += len(status_rows)
    return result
