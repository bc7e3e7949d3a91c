"""Row-level helpers that ingest (tracker.storage) and reclassify (tracker.reclassify) share: chunked
bulk inserts, the write lock, the status columns, status-change and action rows, the upstream status
claim, and source cursors. Both modules build on this one, so neither imports the other at module
level, and tracker.federal reads cursors without importing storage (no import circle; issue #11)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from itertools import islice

from sqlalchemy import insert, select, update
from sqlmodel import Session

from tracker.merge import source_rank
from tracker.models import SourceCursor, WriteLock
from tracker.normalize.bill import Derived, label_of
from tracker.normalize.status import StatusResult

CHUNK = 5_000  # keeps IN lists and executemany batches a sensible size on both databases


def _bulk_insert(db: Session, model, rows: list[dict] | list[tuple], columns: tuple[str, ...] | None = None,
                 converters: dict[str, Callable] | None = None) -> None:
    """Insert many rows: dicts, or tuples in `columns` order. On SQLite the rows go straight to the
    driver's executemany, converted by each column type's own SQLAlchemy bind processor (so values
    are stored exactly as the ORM would store them): SQLAlchemy's per-row statement machinery cost
    more than the insert itself (benchmarks/README.md). Other databases take the Core insert,
    which batches rows into multi-VALUES statements."""
    if not rows:
        return
    if columns is None:
        columns = tuple(rows[0])
        rows = [tuple(row[name] for name in columns) for row in rows]  # KeyError if a row differs
    connection = db.connection()
    table = model.__table__
    if connection.dialect.name != "sqlite":
        for chunk in _chunks(rows):
            connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in chunk])
        return
    dialect = connection.dialect
    converters = converters or {}  # our own, for hot columns: same output, without SQLAlchemy's wrapper
    processors = [(i, processor) for i, name in enumerate(columns)
                  if (processor := converters.get(name) or table.c[name].type.dialect_impl(dialect)
                      .bind_processor(dialect))]
    if processors:
        prepared = []
        for row in rows:
            row = list(row)
            for i, processor in processors:
                if row[i] is not None:
                    row[i] = processor(row[i])
            prepared.append(tuple(row))
    else:
        prepared = rows
    names = ", ".join(f'"{name}"' for name in columns)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})',
                               prepared)


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def utc(value: datetime) -> datetime:
    """Every stored time is UTC. SQLite hands back naive datetimes (ours are UTC); an offset given on
    input is converted, never dropped (review row M5)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def take_write_lock(db: Session, holder: str) -> None:
    """The first statement of every writing transaction: writers take turns (SQLite's write lock,
    a PostgreSQL row lock), so what an ingest reads is what it changes (review row H8)."""
    now = datetime.now(UTC)
    if not db.execute(update(WriteLock).where(WriteLock.id == 1).values(holder=holder[:200], acquired_at=now)
                      ).rowcount:
        db.execute(insert(WriteLock).values(id=1, holder=holder[:200], acquired_at=now))


def status_values(status: StatusResult) -> dict:
    """The bill columns the status engine owns (ingest and reclassify write the same ones)."""
    return {
        "status": status.status,
        "status_date": status.status_date,
        "status_basis": status.basis,
        "enacted_how": status.enacted_how,
        "failed_how": status.failed_how,
        "carried_over": status.carried_over,
        "override_possible": status.override_possible,
        "partial_veto": status.partial_veto,
        "prefiled": status.prefiled,
        "incorporated_into": status.incorporated_into,
    }


ACTION_COLUMNS = ("bill_id", "position", "date", "raw_date", "text", "actor", "source_id", "source_classes",
                  "classes", "facts", "classifier_version", "class_layer")


def _action_rows(bill_id: int, derived: Derived, sources: list[str]) -> list[tuple]:
    """Action rows (tuples in ACTION_COLUMNS order; half a million in a big batch, so no dicts),
    in date order: `sources[i]` is the source of the i-th action given to derive_bill."""
    return [
        (bill_id, position, a.date, a.raw_date, a.text, None if a.actor is None else str(a.actor),
         sources[index], tuple(a.source_classes), c.classes, c.facts, c.version, c.layer)
        for position, (index, a, c) in enumerate(zip(derived.order, derived.actions, derived.classifications,
                                                     strict=True))
    ]


def fingerprint(key: str, label: str | None, action_date: date | None, cause: str | None) -> str:
    """The identity of a status change as an alert: bill, new status, and the action that caused it."""
    text = f"{key}\x1f{label}\x1f{action_date}\x1f{' '.join((cause or '').split())}"
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def status_change_row(*, key: str, bill_id: int, run_id: int | None, old_status: str | None,
                      old_label: str | None, status: StatusResult, cause: str | None, source_id: str,
                      source_url: str, fetched_at: datetime, first_sighting: bool, now: datetime) -> dict:
    label = label_of(status)
    return {
        "bill_id": bill_id, "run_id": run_id, "old_status": old_status, "new_status": status.status,
        "old_label": old_label, "new_label": label, "action_date": status.status_date, "cause": cause,
        "basis": status.basis, "source_id": source_id, "source_url": source_url, "fetched_at": utc(fetched_at),
        "first_sighting": first_sighting, "fingerprint": fingerprint(key, label, status.status_date, cause),
        "detected_at": now,
    }


def best_upstream_status(claims: Iterable[tuple[str, str | None]]) -> str | None:
    """The bill-level status claim of the highest-ranked source that makes one."""
    ranked = sorted((source_rank(source), claim) for source, claim in claims if claim)
    return ranked[0][1] if ranked else None


def get_cursor(db: Session, source_id: str, key: str) -> str | None:
    return db.execute(select(SourceCursor.value).where(SourceCursor.source_id == source_id,
                                                       SourceCursor.key == key)).scalar_one_or_none()
