"""Recompute action classes and statuses from stored raw actions; nothing is fetched.

Run after a rule table changes. Status changes it causes are recorded like any other."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlmodel import Session

from tracker.models import Action, Bill, LegislativeSession, StatusChange
from tracker.normalize.actions import classify_dated
from tracker.normalize.bill import as_of_date, derive_for, label_of, status_label
from tracker.normalize.status import chronological_order
from tracker.storage import CHUNK, _chunks, status_values


@dataclass
class ReclassifyResult:
    bills: int = 0
    actions_changed: int = 0
    status_changes: int = 0


def reclassify(db: Session, *, run_id: int | None = None, jurisdiction: str | None = None,
               bill_ids: list[int] | None = None) -> ReclassifyResult:
    """Each bill is judged as of its `fetched_at` (the last time its source confirmed it)."""
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
        action_updates, bill_updates, status_rows = [], [], []
        for bill, session in chunk:
            as_of = as_of_date(bill.jurisdiction_id, bill.fetched_at)
            listed = actions[bill.id]
            stored = [listed[i] for i in chronological_order([a.date for a in listed])]
            fresh = [classify_dated(bill.jurisdiction_id, a.text, a.date, as_of, tuple(a.source_classes or ()))
                     for a in stored]
            for action, new in zip(stored, fresh, strict=True):
                if list(new.classes) != action.classes or new.facts != action.facts \
                        or new.version != action.classifier_version or new.layer != action.class_layer:
                    action_updates.append({"id": action.id, "classes": list(new.classes), "facts": new.facts,
                                           "classifier_version": new.version, "class_layer": new.layer})
                    result.actions_changed += list(new.classes) != action.classes
            status = derive_for(bill.jurisdiction_id, session, bill.kind, bill.origin_chamber,
                                [(a.date, a.actor) for a in stored], fresh, as_of)
            old_label = status_label(bill.status, bill.enacted_how or bill.failed_how, bill.carried_over,
                                     bill.override_possible)
            new_label = label_of(status)
            bill_updates.append({
                "id": bill.id, **status_values(status), "chapter": status.chapter or bill.chapter,
                "classifier_version": fresh[0].version if fresh else bill.classifier_version,
            })
            if old_label != new_label:
                cause = stored[status.cause_index].text if status.cause_index is not None else None
                status_rows.append({"bill_id": bill.id, "run_id": run_id, "old_status": bill.status,
                                    "new_status": status.status, "old_label": old_label, "new_label": new_label,
                                    "action_date": status.status_date, "cause": cause, "basis": status.basis,
                                    "detected_at": now})
        if action_updates:
            db.execute(update(Action), action_updates)
        db.execute(update(Bill), bill_updates)
        if status_rows:
            db.add_all(StatusChange(**row) for row in status_rows)
        result.bills += len(chunk)
        result.status_changes += len(status_rows)
    return result
