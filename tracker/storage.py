"""Store parsed bills: compare content hashes, write inserts/updates in bulk, record what changed.

Called inside one transaction (tracker.db.session_scope): if anything raises, nothing is kept.
Unchanged bills (same content hash as stored for this source) cost one dictionary lookup.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy import Text, cast, delete, insert, select, update
from sqlmodel import Session

from scrapers.base import ItemProblem, ParsedItem
from tracker.calendar import JURISDICTION_NAMES, session_calendar
from tracker.db import dumps_json
from tracker.merge import CursorUpdate, SourceListing, merge_fields, source_fields, takes_actions
from tracker.models import (
    Action,
    Bill,
    BillChange,
    BillSource,
    BillVersion,
    Jurisdiction,
    LegislativeSession,
    SourceCursor,
    Sponsor,
    StatusChange,
    StatusDisagreement,
)
from tracker.normalize.bill import NormalizedBill, label_of, normalize_bill, status_label
from tracker.normalize.status import StatusResult
from tracker.normalize.identifiers import IdentifierError, bill_key
from tracker.scraped import ScrapedBill, ScrapedInstrument

CHUNK = 5_000  # keeps IN lists and executemany batches a sensible size on both databases


@dataclass
class IngestResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    problems: list[ItemProblem] = field(default_factory=list)
    disagreements: int = 0  # new status disagreements between sources (tracker.merge)
    stale: int = 0  # bills a source stopped listing: marked stale, never deleted

    @property
    def bills_seen(self) -> int:
        return self.inserted + self.updated + self.unchanged


def _insert(model):
    """A Core INSERT on the model's table. The ORM's bulk insert drops None values and then batches
    only rows with the same columns, which turned 3,595 bills into ~1,500 statements; Core sends
    every row of a chunk in one executemany."""
    return insert(model.__table__)


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
        **status_values(norm.status),
    }


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


ACTION_COLUMNS = ("bill_id", "position", "date", "raw_date", "text", "actor", "source_classes", "classes", "facts",
                  "classifier_version", "class_layer")


def _children(norm: NormalizedBill, bill_id: int) -> tuple[list[tuple], list[dict], list[dict]]:
    """Action rows are tuples in ACTION_COLUMNS order (half a million in a big batch, so no dicts);
    sponsors and versions are few and stay dicts."""
    bill = norm.scraped
    actions = [
        (bill_id, i, a.date, a.raw_date, a.text, None if a.actor is None else str(a.actor),
         tuple(a.source_classes), c.classes, c.facts, c.version, c.layer)
        for i, (a, c) in enumerate(zip(norm.actions, norm.classifications, strict=True))
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
        "old_label": old_label, "new_label": label_of(norm.status), "action_date": norm.status.status_date,
        "cause": norm.actions[cause].text if cause is not None else None, "basis": norm.status.basis,
        "detected_at": now,
    }


def _collect(items: Iterable[ParsedItem], result: IngestResult, side: _SideItems | None = None
             ) -> list[tuple[str, ScrapedBill, dict[str, str] | None, str]]:
    """Valid bills with key and hashes; problems and in-batch duplicates go to `result.problems`,
    listings and cursors (tracker.merge) to `side`."""
    seen: dict[str, str] = {}
    bills = []
    for item in items:
        if isinstance(item, ItemProblem):
            result.problems.append(item)
            continue
        if isinstance(item, (SourceListing, CursorUpdate)):
            if side is not None:
                (side.listings if isinstance(item, SourceListing) else side.cursors).append(item)
            continue
        if isinstance(item, ScrapedInstrument):  # federal instruments: tracker.federal stores them
            if side is not None:
                side.instruments.append(item)
            continue
        try:
            key = bill_key(item.jurisdiction, item.session, item.identifier)
        except IdentifierError as exc:
            result.problems.append(ItemProblem(str(exc), item.identifier, item.source_url))
            continue
        hashes, content_hash = item.hashes()
        if key in seen:
            if seen[key] != content_hash:
                result.problems.append(ItemProblem(f"{key} appears twice in one batch with different "
                                                   "content; kept the first", key, item.source_url))
            continue
        seen[key] = content_hash
        bills.append((key, item, hashes, content_hash))
    return bills


@dataclass
class _SideItems:
    listings: list[SourceListing] = field(default_factory=list)
    cursors: list[CursorUpdate] = field(default_factory=list)
    instruments: list[ScrapedInstrument] = field(default_factory=list)


def ingest(db: Session, items: Iterable[ParsedItem], *, run_id: int | None = None) -> IngestResult:
    result = IngestResult()
    now = datetime.now(UTC)
    side = _SideItems()
    collected = _collect(items, result, side)
    seen_upstream: set[tuple[str, str]] = set()
    if collected:
        _store_bills(db, collected, result, run_id, now, seen_upstream)
    for listing in side.listings:
        _apply_listing(db, listing, result, run_id, now, seen_upstream)
    for cursor in side.cursors:
        _set_cursor(db, cursor, now)
    if side.instruments:
        from tracker.federal import store_instruments  # counts add to result

        store_instruments(db, side.instruments, result, run_id=run_id)
    return result


def _store_bills(db: Session, collected: list[tuple[str, ScrapedBill, dict[str, str] | None, str]], result: IngestResult,
                 run_id: int | None, now: datetime, seen_upstream: set[tuple[str, str]]) -> None:
    sessions: dict[tuple[str, str], int] = {}
    for _, bill, _, _ in collected:
        scope = (bill.jurisdiction, bill.session)
        if scope not in sessions:
            sessions[scope] = ensure_session(db, *scope)

    # One query: every stored bill of these sessions, with this batch's source rows where they exist.
    source_ids = {bill.source_id for _, bill, _, _ in collected}
    bills_by_key: dict[str, Any] = {}
    sources_by_key: dict[tuple[str, str], Any] = {}
    for row in db.execute(
        select(Bill.key, Bill.id, Bill.status, Bill.enacted_how, Bill.failed_how, Bill.carried_over,
               Bill.override_possible, Bill.fetched_at, Bill.source_id.label("primary_source"), BillSource.id.label("source_row_id"),
               BillSource.source_id, BillSource.content_hash, BillSource.field_hashes,
               BillSource.upstream_hash, BillSource.stale)
        .outerjoin(BillSource, (BillSource.bill_id == Bill.id) & BillSource.source_id.in_(source_ids))
        .where(Bill.session_id.in_(list(sessions.values())))
    ):
        bills_by_key[row.key] = row
        if row.source_row_id is not None:
            sources_by_key[(row.key, row.source_id)] = row

    new, changed, touched, rehashed = [], [], [], []
    confirmed: list[tuple[int, int | None, datetime, bool]] = []  # (source row, bill if primary, fetched, new day)
    for key, bill, hashes, content_hash in collected:
        upstream_id = getattr(bill, "upstream_id", None)
        if upstream_id:
            seen_upstream.add((bill.source_id, upstream_id))
        stored = sources_by_key.get((key, bill.source_id))
        if stored is not None and stored.content_hash == content_hash:
            result.unchanged += 1
            confirmed.append(_confirmation(stored, bill))
            # Same content. A new upstream hash (LegiScan's change_hash moves for things we do not
            # store) is remembered so the next poll skips the bill; it is not an update.
            upstream_hash = getattr(bill, "upstream_hash", None)
            if stored.stale or (upstream_hash and upstream_hash != stored.upstream_hash):
                touched.append({"id": stored.source_row_id, "stale": False, "stale_since": None,
                                "upstream_hash": upstream_hash or stored.upstream_hash, "last_seen_at": now})
            continue
        hashes = hashes or bill.field_hashes()
        if stored is not None and stored.field_hashes == hashes:
            # The source's text changed only in parts we do not store (a vote id, a column we
            # ignore): nothing to report; remember the new text hash.
            result.unchanged += 1
            rehashed.append({"id": stored.source_row_id, "content_hash": content_hash})
            confirmed.append(_confirmation(stored, bill))
            continue
        norm = normalize_bill(bill, content_hash)
        old = bills_by_key.get(key)
        if old is None:
            new.append((norm, hashes))
        else:
            changed.append((norm, hashes, old, stored))

    status_rows, change_rows, source_rows = [], [], []
    child_rows: tuple[list, list, list] = ([], [], [])
    if new:
        values = [bill_values(norm, sessions[(norm.scraped.jurisdiction, norm.scraped.session)])
                  | {"first_seen_at": now, "updated_at": now, "provenance": _sole_provenance(norm)}
                  for norm, _ in new]
        ids: dict[str, int] = {}
        for chunk in _chunks(values):
            for bill_id, key in db.execute(_insert(Bill).returning(Bill.__table__.c.id, Bill.__table__.c.key,
                                                                   sort_by_parameter_order=True), chunk):
                ids[key] = bill_id
        for norm, hashes in new:
            bill_id = ids[norm.key]
            for bucket, rows in zip(child_rows, _children(norm, bill_id), strict=True):
                bucket.extend(rows)
            source_rows.append(_source_row(norm, bill_id, hashes) | _source_extras(norm, now))
            status_rows.append(status_change_row(norm, bill_id, run_id, None, None, now))
            change_rows.append({"bill_id": bill_id, "run_id": run_id, "change": "insert",
                                "changed_fields": [], "detected_at": now})
        result.inserted = len(new)

    disagreement_rows: list[dict] = []
    if changed:
        others, open_rows = _merge_context(db, [old.id for _, _, old, _ in changed])
        taking = []  # bills whose actions (and so status) now come from this batch's source
        updates, replaced_sources = [], []
        for norm, hashes, old, stored in changed:
            source_id = norm.scraped.source_id
            rivals = [o for o in others.get(old.id, []) if o.source_id != source_id]
            primary_fields = next((o.fields for o in rivals if o.source_id == old.primary_source), None)
            take = takes_actions(source_id, len(norm.scraped.actions), old.primary_source,
                                 None if primary_fields is None else primary_fields.get("actions"))
            fields = source_fields(norm)
            candidates = [(source_id, fields)] + [(o.source_id, o.fields) for o in rivals]
            merged, merged_from = merge_fields(candidates)
            row = {"id": old.id, **_typed(merged), "updated_at": now}
            primary = source_id if take else old.primary_source
            row["provenance"] = merged_from | {"actions": primary, "status": primary}
            changed_fields = (sorted(k for k, v in hashes.items() if (stored.field_hashes or {}).get(k) != v)
                              if stored is not None else ["new_source"])
            old_label = status_label(old.status, old.enacted_how or old.failed_how, old.carried_over,
                                     old.override_possible)
            if take:
                row |= {k: v for k, v in bill_values(norm, 0).items() if k not in _MERGED_COLUMNS}
                row["chapter"] = merged["chapter"]
                row["session_id"] = sessions[(norm.scraped.jurisdiction, norm.scraped.session)]
                taking.append((norm, old.id))
                merged_status, merged_label = norm.status.status, norm.status_label()
                if old_label != merged_label:
                    status_rows.append(status_change_row(norm, old.id, run_id, old.status, old_label, now))
                    changed_fields.append("status")
            else:
                merged_status, merged_label = old.status, old_label
            updates.append(row)
            if stored is not None:
                replaced_sources.append(stored.source_row_id)
            source_rows.append(_source_row(norm, old.id, hashes) | _source_extras(norm, now))
            change_rows.append({"bill_id": old.id, "run_id": run_id, "change": "update",
                                "changed_fields": changed_fields, "detected_at": now})
            verdicts = {o.source_id: (o.status, o.status_label, o.upstream_status) for o in rivals}
            verdicts[source_id] = (norm.status.status, norm.status_label(),
                                   getattr(norm.scraped, "upstream_status", None))
            disagreement_rows += _disagreements(old.id, run_id, primary, merged_status, merged_label,
                                                verdicts, open_rows.get(old.id, {}), now, db)
        for chunk in _chunks([bill_id for _, bill_id in taking]):
            for table in (Action, Sponsor, BillVersion):
                db.execute(delete(table).where(table.bill_id.in_(chunk)))
        for chunk in _chunks(replaced_sources):  # only this source's row; other sources' rows stay
            db.execute(delete(BillSource).where(BillSource.id.in_(chunk)))
        for norm, bill_id in taking:
            for bucket, rows in zip(child_rows, _children(norm, bill_id), strict=True):
                bucket.extend(rows)
        for chunk in _chunks(updates):
            db.execute(update(Bill), chunk)
        result.updated = len(changed)

    _bulk_insert(db, Action, child_rows[0], ACTION_COLUMNS,
                 {"classes": dumps_json, "facts": dumps_json, "source_classes": dumps_json})
    for table, rows in ((Sponsor, child_rows[1]), (BillVersion, child_rows[2]), (BillSource, source_rows),
                        (StatusChange, status_rows), (BillChange, change_rows),
                        (StatusDisagreement, disagreement_rows)):
        _bulk_insert(db, table, rows)
    for rows in (touched, rehashed):
        for chunk in _chunks(rows):
            db.execute(update(BillSource), chunk)
    result.status_changes = len(status_rows)
    result.disagreements += len(disagreement_rows)
    if confirmed:
        result.status_changes += _confirm_unchanged(db, confirmed, run_id)


def _confirmation(stored, bill: ScrapedBill) -> tuple[int, int | None, datetime, bool]:
    """(source row, bill id if this source is the bill's primary, fetched at, is it a new day).
    Only a new day can make a scheduled action due or end a session."""
    primary = stored.primary_source == bill.source_id
    new_day = primary and _day(stored.fetched_at) < bill.fetched_at.date()
    return stored.source_row_id, stored.id if primary else None, bill.fetched_at, new_day


def _confirm_unchanged(db: Session, confirmed: list[tuple[int, int | None, datetime, bool]],
                       run_id: int | None) -> int:
    """The source fetched the same content again: record the newer fetch time (provenance), and
    re-derive the few bills whose status depends on the date rather than the content: a scheduled
    action now due, or a session that has ended since. Returns the status changes recorded."""
    by_time: dict[datetime, tuple[list[int], list[int], list[int]]] = defaultdict(lambda: ([], [], []))
    for source_row_id, bill_id, fetched_at, new_day in confirmed:
        rows, bills, recheck = by_time[fetched_at]
        rows.append(source_row_id)
        if bill_id is not None:
            bills.append(bill_id)
            if new_day:
                recheck.append(bill_id)
    due: list[int] = []
    for fetched_at, (rows, bills, recheck) in by_time.items():
        for chunk in _chunks(recheck):
            due += _time_sensitive(db, chunk, fetched_at.date())
        for chunk in _chunks(bills):
            db.execute(update(Bill).where(Bill.id.in_(chunk)).values(fetched_at=fetched_at))
        for chunk in _chunks(rows):
            db.execute(update(BillSource).where(BillSource.id.in_(chunk)).values(fetched_at=fetched_at))
    if not due:
        return 0
    from tracker.reclassify import reclassify  # reclassify builds on this module

    return reclassify(db, run_id=run_id, bill_ids=due).status_changes


def _day(value: datetime) -> date:
    # SQLite hands back naive datetimes for timezone-aware columns; all of ours are UTC.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()


def _time_sensitive(db: Session, bill_ids: list[int], as_of: date) -> list[int]:
    """Bills (stored as of an earlier fetch) whose derived status may differ on `as_of`."""
    scheduled = {bill_id for bill_id, when in db.execute(
        select(Action.bill_id, Action.date).where(Action.bill_id.in_(bill_ids),
                                                  cast(Action.classes, Text).like('%"x-scheduled"%')))
        if when is not None and when <= as_of}
    ended = {row.id for row in db.execute(
        select(Bill.id, Bill.fetched_at, Bill.status, LegislativeSession.final_action_date)
        .join(LegislativeSession, LegislativeSession.id == Bill.session_id)
        .where(Bill.id.in_(bill_ids), LegislativeSession.final_action_date.is_not(None),
               Bill.status.not_in(("enacted", "vetoed", "failed", "adopted"))))
        if _day(row.fetched_at) <= row.final_action_date < as_of}
    return sorted(scheduled | ended)


class _Rival(NamedTuple):
    """Another source's stored row for a bill about to change."""

    bill_id: int
    source_id: str
    fields: dict
    status: str | None
    status_label: str | None
    upstream_status: str | None


# Bill columns the merge fills from every source by precedence (tracker/merge.py).
_MERGED_COLUMNS = frozenset({"title", "summary", "introduced_on", "origin_chamber", "kind", "chapter"})


def _typed(merged: dict) -> dict:
    """Merged field values (JSON-safe, from bill_source.fields) -> bill column values."""
    values = dict(merged)
    if isinstance(values.get("introduced_on"), str):
        values["introduced_on"] = date.fromisoformat(values["introduced_on"])
    values["title"] = values.get("title") or ""
    values["kind"] = values.get("kind") or "bill"
    return values


def _sole_provenance(norm: NormalizedBill) -> dict:
    source_id = norm.scraped.source_id
    _, provenance = merge_fields([(source_id, source_fields(norm))])
    return provenance | {"actions": source_id, "status": source_id}


def _merge_context(db: Session, bill_ids: list[int]) -> tuple[dict, dict]:
    """For bills about to change: every stored source row and the open disagreements."""
    others: dict[int, list] = defaultdict(list)
    open_rows: dict[int, dict[str, StatusDisagreement]] = defaultdict(dict)
    for chunk in _chunks(bill_ids):
        legacy = set()
        for row in db.execute(select(BillSource.bill_id, BillSource.source_id, BillSource.fields,
                                     BillSource.status, BillSource.status_label, BillSource.upstream_status)
                              .where(BillSource.bill_id.in_(chunk))):
            others[row.bill_id].append(_Rival(*row))
            if not row.fields:
                legacy.add(row.bill_id)
        if legacy:
            # Rows stored before per-source fields existed: the bill row holds what its source said.
            for bill in db.execute(select(Bill.id, Bill.source_id, Bill.title, Bill.summary,
                                          Bill.introduced_on, Bill.origin_chamber, Bill.kind, Bill.chapter)
                                   .where(Bill.id.in_(list(legacy)))):
                fields = {"title": bill.title, "summary": bill.summary, "origin_chamber": bill.origin_chamber,
                          "introduced_on": bill.introduced_on.isoformat() if bill.introduced_on else None,
                          "kind": bill.kind, "chapter": bill.chapter}
                others[bill.id] = [rival._replace(fields=fields) if rival.source_id == bill.source_id
                                   and not rival.fields else rival for rival in others[bill.id]]
        for disagreement in db.execute(select(StatusDisagreement).where(
                StatusDisagreement.bill_id.in_(chunk), StatusDisagreement.resolved_at.is_(None))).scalars():
            open_rows[disagreement.bill_id][disagreement.source_id] = disagreement
    return others, open_rows


def _disagreements(bill_id: int, run_id: int | None, primary: str, merged_status: str | None,
                   merged_label: str | None, verdicts: dict[str, tuple], open_rows: dict, now: datetime,
                   db: Session) -> list[dict]:
    """New disagreement rows; open ones that no longer hold are closed. One open row per source and
    (its status, merged status): the same disagreement seen again is not recorded again."""
    rows = []
    for source_id, (status, label, upstream) in sorted(verdicts.items()):
        current = open_rows.get(source_id)
        differs = source_id != primary and status is not None and status != merged_status
        if current is not None and (not differs or (current.source_status, current.merged_status)
                                    != (status, merged_status)):
            db.execute(update(StatusDisagreement).where(StatusDisagreement.id == current.id)
                       .values(resolved_at=now))
            current = None
        if differs and current is None:
            rows.append({"bill_id": bill_id, "run_id": run_id, "source_id": source_id,
                         "source_status": status, "source_label": label, "upstream_status": upstream,
                         "merged_status": merged_status, "merged_label": merged_label,
                         "merged_source_id": primary, "detected_at": now, "resolved_at": None})
    return rows


def _apply_listing(db: Session, listing: SourceListing, result: IngestResult, run_id: int | None,
                   now: datetime, seen_upstream: set[tuple[str, str]]) -> None:
    """An upstream list: listed bills are seen, listed bills whose hash matches count as unchanged
    (once per batch). A complete list (a LegiScan master list, `scope` set) also marks the stored
    bills of that scope it no longer shows as stale; they are never deleted."""
    query = (select(BillSource.id, BillSource.bill_id, BillSource.upstream_id, BillSource.upstream_hash,
                    BillSource.stale, Bill.key, BillSource.url)
             .join(Bill, Bill.id == BillSource.bill_id).where(BillSource.source_id == listing.source_id))
    if listing.scope is not None:
        query = query.where(BillSource.upstream_scope == listing.scope)
        stored = db.execute(query).all()
    else:
        stored = [row for chunk in _chunks(list(listing.entries))
                  for row in db.execute(query.where(BillSource.upstream_id.in_(chunk)))]
    seen, gone = [], []
    for row in stored:
        if row.upstream_id in listing.entries:
            seen.append(row.id)
            counted = (listing.source_id, row.upstream_id)
            if counted not in seen_upstream and listing.entries[row.upstream_id] == row.upstream_hash:
                result.unchanged += 1
                seen_upstream.add(counted)
        elif listing.scope is not None and not row.stale:
            gone.append(row)
    for chunk in _chunks(seen):
        db.execute(update(BillSource).where(BillSource.id.in_(chunk))
                   .values(last_seen_at=now, stale=False, stale_since=None))
    for chunk in _chunks([row.id for row in gone]):
        db.execute(update(BillSource).where(BillSource.id.in_(chunk)).values(stale=True, stale_since=now))
    where = listing.label or f"scope {listing.scope}"
    for row in gone:
        result.stale += 1
        result.problems.append(ItemProblem(
            f"{row.key}: no longer listed by {listing.source_id} ({where}); marked stale, not deleted",
            row.key, row.url))
    if gone:
        db.execute(insert(BillChange), [{"bill_id": row.bill_id, "run_id": run_id, "change": "stale",
                                         "changed_fields": [listing.source_id], "detected_at": now}
                                        for row in gone])


def _set_cursor(db: Session, cursor: CursorUpdate, now: datetime) -> None:
    updated = db.execute(update(SourceCursor).where(SourceCursor.source_id == cursor.source_id,
                                                    SourceCursor.key == cursor.key)
                         .values(value=cursor.value, updated_at=now))
    if not updated.rowcount:
        db.execute(insert(SourceCursor).values(source_id=cursor.source_id, key=cursor.key, value=cursor.value,
                                               updated_at=now))


def get_cursor(db: Session, source_id: str, key: str) -> str | None:
    return db.execute(select(SourceCursor.value).where(SourceCursor.source_id == source_id,
                                                       SourceCursor.key == key)).scalar_one_or_none()


def _source_row(norm: NormalizedBill, bill_id: int, hashes: dict[str, str]) -> dict:
    bill = norm.scraped
    return {"bill_id": bill_id, "source_id": bill.source_id, "url": bill.source_url,
            "fetched_at": bill.fetched_at, "content_hash": norm.content_hash,
            "raw": bill.raw, "field_hashes": hashes}


def _source_extras(norm: NormalizedBill, now: datetime) -> dict:
    """The merge columns of a bill_source row: upstream identity, fields, this source's own status."""
    bill = norm.scraped
    return {"upstream_id": getattr(bill, "upstream_id", None),
            "upstream_scope": getattr(bill, "upstream_scope", None),
            "upstream_hash": getattr(bill, "upstream_hash", None), "fields": source_fields(norm),
            "status": norm.status.status, "status_label": norm.status_label(),
            "upstream_status": getattr(bill, "upstream_status", None), "last_seen_at": now,
            "stale": False, "stale_since": None}


def list_disagreements(db: Session, *, jurisdiction: str | None = None, include_resolved: bool = False,
                       limit: int = 100) -> list[tuple[StatusDisagreement, Bill]]:
    """Status disagreements between sources, newest first (open ones only unless asked)."""
    query = (select(StatusDisagreement, Bill).join(Bill, Bill.id == StatusDisagreement.bill_id)
             .order_by(StatusDisagreement.id.desc()).limit(limit))
    if jurisdiction:
        query = query.where(Bill.jurisdiction_id == jurisdiction.lower())
    if not include_resolved:
        query = query.where(StatusDisagreement.resolved_at.is_(None))
    return [(row, bill) for row, bill in db.execute(query)]
