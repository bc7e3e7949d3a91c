"""Store parsed bills: compare content hashes, write inserts/updates in bulk, record what changed.

Called inside one transaction (tracker.db.session_scope): if anything raises, nothing is kept. The
transaction starts by taking the write lock, so concurrent ingests take turns. Unchanged bills (same
content hash as stored for this source) cost one dictionary lookup.

What never happens (issue #9, review rows C1-C4, H4, H6, H8, M3-M5, M9):
* an older copy of a record (an earlier fetch time than the stored copy of the same source) is
  never applied, and no fetch time ever moves backwards;
* a complete history that lacks lines the same source gave before (cut short, an older snapshot)
  is held as stored, with a problem for review;
* a current-only record (WA WSL's one line) adds its line to the stored history and never replaces
  it; a complete history that takes over keeps the lines such feeds added;
* a status is derived from the bill's merged history and merged fields by the same function that
  `tracker reclassify` uses (tracker.normalize.bill.derive_bill), so reclassifying with unchanged
  rules changes nothing;
* each status change records the fetch that produced it (source, URL, fetch time), whether it is a
  first sighting, and a fingerprint that deduplicates alerts.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Text, cast, delete, insert, select, update
from sqlmodel import Session

from tracker.calendar import JURISDICTION_NAMES, session_calendar
from tracker.db import dumps_json
from tracker.merge import CursorUpdate, SourceListing, merge_fields, source_fields, takes_actions
from tracker.models import (
    Action,
    ActionShape,
    Bill,
    BillChange,
    BillSource,
    BillText,
    BillVersion,
    Jurisdiction,
    LegislativeSession,
    SourceCursor,
    Sponsor,
    StatusChange,
    StatusDisagreement,
)
from tracker.normalize.bill import (
    Derived,
    NormalizedBill,
    as_of_date,
    derive_bill,
    label_of,
    normalize_bill,
    status_label,
)
from tracker.normalize.identifiers import IdentifierError, bill_key
from tracker.normalize.status import status_rank
from tracker.rows import (  # shared with tracker.reclassify; re-exported here
    ACTION_COLUMNS,
    CHUNK,  # noqa: F401
    _action_rows,
    _bulk_insert,
    _chunks,
    best_upstream_status,
    fingerprint,  # noqa: F401
    get_cursor,  # noqa: F401
    status_change_row,
    status_values,
    take_write_lock,
    utc,
)
from tracker.scraped import (
    HISTORY_COMPLETE,
    HISTORY_CURRENT_ONLY,
    ItemProblem,
    ParsedItem,
    ScrapedAction,
    ScrapedBill,
    ScrapedInstrument,
)


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


TEXT_LIMIT = 2_000_000  # characters of a bill's text kept; a longer text is cut, with a note for the run


def _insert(model):
    """A Core INSERT on the model's table. The ORM's bulk insert drops None values and then batches
    only rows with the same columns, which turned 3,595 bills into ~1,500 statements; Core sends
    every row of a chunk in one executemany."""
    return insert(model.__table__)


def _day(value: datetime) -> date:
    return utc(value).date()


def ensure_session(db: Session, jurisdiction: str, identifier: str, changed: set[int] | None = None) -> int:
    """The session row, created from the calendar files or brought up to date with them: the files
    are the one source of truth for calendars, the row a copy that follows them (review row M3). A
    session whose calendar changed since its bills were derived is added to `changed`."""
    if db.get(Jurisdiction, jurisdiction) is None:
        db.add(Jurisdiction(id=jurisdiction, name=JURISDICTION_NAMES.get(jurisdiction, jurisdiction.upper()),
                            classification="federal" if jurisdiction == "us" else "state"))
        db.flush()
    calendar = session_calendar(jurisdiction, identifier)
    facts = {"name": calendar.name, "start_date": calendar.start_date,
             "final_action_date": calendar.final_action_date, "carry_over": calendar.carry_over,
             "calendar_version": hashlib.blake2b(repr(calendar).encode(), digest_size=8).hexdigest()}
    found = db.execute(select(LegislativeSession).where(
        LegislativeSession.jurisdiction_id == jurisdiction, LegislativeSession.identifier == identifier)
    ).scalar_one_or_none()
    if found is not None:
        if any(getattr(found, name) != value for name, value in facts.items()):
            if changed is not None and found.calendar_version != facts["calendar_version"]:
                changed.add(found.id)
            for name, value in facts.items():
                setattr(found, name, value)
            db.flush()
        return found.id
    row = LegislativeSession(jurisdiction_id=jurisdiction, identifier=identifier, **facts)
    db.add(row)
    db.flush()
    return row.id


def action_key(when: date | None, raw_date: str, text: str) -> str:
    """A line's identity across fetches: its date and its text (white space collapsed)."""
    stamp = when.isoformat() if when else raw_date
    return hashlib.blake2b(f"{stamp}\x1f{' '.join(text.split())}".encode(), digest_size=8).hexdigest()


def _keys(actions: Iterable[ScrapedAction]) -> list[str]:
    return [action_key(a.date, a.raw_date, a.text) for a in actions]


def _missing(stored_keys: list[str], new_keys: list[str]) -> int:
    """How many lines a source gave before are missing from what it gives now."""
    return sum((Counter(stored_keys) - Counter(new_keys)).values())


def _people_rows(bill: ScrapedBill, bill_id: int) -> tuple[list[dict], list[dict]]:
    sponsors = [{"bill_id": bill_id, "position": i, "name": s.name, "primary": s.primary,
                 "source_person_id": s.source_person_id} for i, s in enumerate(bill.sponsors)]
    versions = [{"bill_id": bill_id, "position": i, "note": v.note, "date": v.date, "url": v.url}
                for i, v in enumerate(bill.versions)]
    return sponsors, versions


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
        item.fetched_at = utc(item.fetched_at)
        if _strip_nul(item):
            result.problems.append(ItemProblem(f"{key}: NUL bytes removed from its text (PostgreSQL refuses them)",
                                               key, item.source_url, kept=True))
        if item.text is not None and len(item.text) > TEXT_LIMIT:
            result.problems.append(ItemProblem(
                f"{key}: bill text of {len(item.text):,} characters cut to the first {TEXT_LIMIT:,}",
                key, item.source_url, kept=True))
            item.text = item.text[:TEXT_LIMIT]
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


def ingest(db: Session, items: Iterable[ParsedItem], *, run_id: int | None = None,
           allow_history_rewrite: bool = False) -> IngestResult:
    """Store one batch. `allow_history_rewrite` applies a complete history even where it lost lines
    stored from the same source (a source known to have corrected itself); otherwise such a bill is
    held, as stored, with a problem for review."""
    result = IngestResult()
    now = datetime.now(UTC)
    take_write_lock(db, f"ingest run {run_id}")
    side = _SideItems()
    collected = _collect(items, result, side)
    seen_upstream: set[tuple[str, str]] = set()
    if collected:
        _store_bills(db, collected, result, run_id, now, seen_upstream, allow_history_rewrite)
    for listing in side.listings:
        _apply_listing(db, listing, result, run_id, now, seen_upstream)
    for cursor in side.cursors:
        _set_cursor(db, cursor, now)
    if side.instruments:
        from tracker.federal import store_instruments  # counts add to result

        store_instruments(db, side.instruments, result, run_id=run_id)
    return result


def _store_bills(db: Session, collected: list[tuple[str, ScrapedBill, dict[str, str] | None, str]],
                 result: IngestResult, run_id: int | None, now: datetime, seen_upstream: set[tuple[str, str]],
                 allow_history_rewrite: bool) -> None:
    sessions: dict[tuple[str, str], int] = {}
    recalendared: set[int] = set()
    for _, bill, _, _ in collected:
        scope = (bill.jurisdiction, bill.session)
        if scope not in sessions:
            sessions[scope] = ensure_session(db, *scope, changed=recalendared)

    # One query: every stored bill of these sessions, with this batch's source rows where they exist.
    source_ids = {bill.source_id for _, bill, _, _ in collected}
    bills_by_key: dict[str, Any] = {}
    sources_by_key: dict[tuple[str, str], Any] = {}
    for row in db.execute(
        select(Bill.key, Bill.id, Bill.status, Bill.enacted_how, Bill.failed_how, Bill.carried_over,
               Bill.override_possible, Bill.status_basis, Bill.fetched_at.label("bill_fetched_at"),
               Bill.source_id.label("primary_source"), BillSource.id.label("source_row_id"),
               BillSource.source_id, BillSource.content_hash, BillSource.field_hashes, BillSource.upstream_hash,
               BillSource.stale, BillSource.fetched_at, BillSource.action_keys)
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
        if stored is not None and bill.fetched_at < utc(stored.fetched_at):
            # An older copy than the one stored (an archived file, a late retry): never applied, and
            # the fetch time never moves backwards (review rows C3, C4).
            result.unchanged += 1
            if stored.content_hash != content_hash:
                result.problems.append(ItemProblem(
                    f"{key}: this {bill.source_id} copy (fetched {bill.fetched_at:%Y-%m-%d %H:%M}Z) is older than the "
                    f"stored one ({utc(stored.fetched_at):%Y-%m-%d %H:%M}Z) and differs from it; not applied",
                    key, bill.source_url, kept=True))
            continue
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
        if bill.text is None and stored is not None and "text" in (stored.field_hashes or {}):
            # No text in this record (a missing .lob, a source that gives none): not a change, and the
            # stored text stays (a partial input never loses data).
            hashes = {**hashes, "text": stored.field_hashes["text"]}
        if stored is not None and stored.field_hashes == hashes:
            # The source's text changed only in parts we do not store (a vote id, a column we
            # ignore): nothing to report; remember the new text hash.
            result.unchanged += 1
            rehashed.append({"id": stored.source_row_id, "content_hash": content_hash})
            confirmed.append(_confirmation(stored, bill))
            continue
        norm = normalize_bill(bill, content_hash)  # this source's own reading of its record
        keys = _keys(bill.actions)
        if stored is not None and bill.history == HISTORY_COMPLETE and not allow_history_rewrite:
            held = _shrunk(key, bill, stored.action_keys or [], keys)
            if held is not None:
                # A history cut short, an older snapshot, a record that lost its lines: held as stored
                # for a person to look at, never applied (review rows C1, C3).
                result.unchanged += 1
                result.problems.append(held)
                continue
        old = bills_by_key.get(key)
        if old is None:
            new.append((norm, hashes, keys))
        else:
            changed.append((norm, hashes, keys, old, stored))

    _note_unclassified([n for n, *_ in new] + [n for n, *_ in changed], result)
    _note_new_shapes(db, [n for n, *_ in new] + [n for n, *_ in changed], result, run_id, now)
    rows = _Rows()
    if new:
        _insert_new(db, new, sessions, rows, run_id, now)
        result.inserted = len(new)
    if changed:
        _update_changed(db, changed, sessions, rows, run_id, now)
        result.updated = len(changed)
    rows.write(db)
    _store_texts(db, rows.texts)
    for batch_rows in (touched, rehashed):
        for chunk in _chunks(batch_rows):
            db.execute(update(BillSource), chunk)
    result.status_changes = len(rows.status)
    result.disagreements += len(rows.disagreements)
    if confirmed:
        result.status_changes += _confirm_unchanged(db, confirmed, run_id)
    if recalendared:
        # The calendar files changed since these sessions' bills were derived: derive them again now.
        from tracker.reclassify import reclassify

        ids = list(db.execute(select(Bill.id).where(Bill.session_id.in_(recalendared))).scalars())
        result.status_changes += reclassify(db, run_id=run_id, bill_ids=ids, lock=False).status_changes


_DIGITS = re.compile(r"\d+")


def _note_new_shapes(db: Session, norms: list[NormalizedBill], result: IngestResult, run_id: int | None,
                     now: datetime) -> None:
    """Remember every action-string shape (digits folded) per state; a shape never seen before in a state
    whose strings we already know is a source-health note (DOMAIN.md §2.2: a new phrasing may need a
    rule), never a status alert. The first batch of a state only teaches its shapes."""
    shapes: dict[str, dict[str, str]] = defaultdict(dict)
    for norm in norms:
        for action in norm.actions:
            shape = _DIGITS.sub("#", " ".join(action.text.split()))
            digest = hashlib.blake2b(shape.encode(), digest_size=8).hexdigest()
            shapes[norm.scraped.jurisdiction].setdefault(digest, action.text[:300])
    rows = []
    for state, found in shapes.items():
        known = set(db.execute(select(ActionShape.shape_hash).where(ActionShape.jurisdiction_id == state)).scalars())
        fresh = {h: example for h, example in found.items() if h not in known}
        rows += [{"jurisdiction_id": state, "shape_hash": h, "example": example, "first_seen_at": now,
                  "run_id": run_id} for h, example in fresh.items()]
        if known and fresh:
            shown = "; ".join(repr(example[:80]) for example in list(fresh.values())[:5])
            result.problems.append(ItemProblem(
                f"{state}: {len(fresh)} action string(s) never seen before in this state (check the rules read "
                f"them): {shown}", f"new-strings:{state}", None, kept=True))
    _bulk_insert(db, ActionShape, rows)


def _note_unclassified(norms: list[NormalizedBill], result: IngestResult) -> None:
    """A source-health note per state: actions no layer could read (DOMAIN.md §2.2). Kept, shown by
    `tracker runs --problems`, never a status change."""
    found: dict[str, Counter] = defaultdict(Counter)
    for norm in norms:
        for action, classified in zip(norm.actions, norm.classifications, strict=True):
            if classified.unclassified:
                found[norm.scraped.jurisdiction][" ".join(action.text.split())[:120]] += 1
    for state, strings in sorted(found.items()):
        shown = "; ".join(f"{text!r} x{count}" for text, count in strings.most_common(5))
        result.problems.append(ItemProblem(
            f"{state}: {sum(strings.values())} action(s) in {len(strings)} distinct string(s) no rule reads "
            f"(kept as unclassified; never a status change): {shown}", f"unclassified:{state}", None, kept=True))


def _strip_nul(bill: ScrapedBill) -> bool:
    """Remove NUL characters from every text of a record, in place (review row M7: one NUL in one record
    failed a whole PostgreSQL batch). True when there were any."""
    found = False

    def clean(value):
        nonlocal found
        if isinstance(value, str):
            if "\x00" in value:
                found = True
                return value.replace("\x00", "")
            return value
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(clean(v) for v in value)
        return value

    for name in ("title", "summary", "identifier", "source_url", "chapter", "source_text", "text", "text_label"):
        setattr(bill, name, clean(getattr(bill, name)))
    bill.raw, bill.source_flags = clean(bill.raw), clean(bill.source_flags)
    for action in bill.actions:
        action.text, action.raw_date = clean(action.text), clean(action.raw_date)
    for sponsor in bill.sponsors:
        sponsor.name = clean(sponsor.name)
    for version in bill.versions:
        version.note, version.url = clean(version.note), clean(version.url)
    return found


def _evidence(status: str | None, basis: str | None) -> int:
    """How far a status's own actions take a bill: a status inferred from the calendar or the default
    proves nothing beyond the bill's existence."""
    return -1 if basis in ("calendar", "default") else status_rank(status)


def _shrunk(key: str, bill: ScrapedBill, stored_keys: list[str], new_keys: list[str]) -> ItemProblem | None:
    """A problem when this complete history has fewer lines than the same source gave before and lacks
    some of them. As many lines or more, with some reworded, is a source correcting itself."""
    missing = _missing(stored_keys, new_keys)
    if not missing or len(new_keys) >= len(stored_keys):
        return None
    return ItemProblem(
        f"{key}: {bill.source_id} now lists {len(new_keys)} action(s), {missing} of the {len(stored_keys)} "
        "stored from it missing (a history cut short or an older snapshot?); kept as stored, not applied. "
        "Review it; if the source really rewrote its history, ingest again with --allow-history-rewrite",
        key, bill.source_url)


@dataclass
class _Rows:
    """Everything one batch writes, gathered so each table gets one bulk insert."""

    actions: list[tuple] = field(default_factory=list)
    sponsors: list[dict] = field(default_factory=list)
    versions: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    status: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    disagreements: list[dict] = field(default_factory=list)
    texts: list[dict] = field(default_factory=list)  # bill_text rows, written by _store_texts

    def write(self, db: Session) -> None:
        _bulk_insert(db, Action, self.actions, ACTION_COLUMNS,
                     {"classes": dumps_json, "facts": dumps_json, "source_classes": dumps_json})
        for table, rows in ((Sponsor, self.sponsors), (BillVersion, self.versions), (BillSource, self.sources),
                            (StatusChange, self.status), (BillChange, self.changes),
                            (StatusDisagreement, self.disagreements)):
            _bulk_insert(db, table, rows)


def new_bill_values(norm: NormalizedBill, session_id: int, now: datetime) -> dict:
    """The bill row of a bill seen for the first time (also what benchmarks/ingest.py writes raw)."""
    bill, status = norm.scraped, norm.status
    return {
        "key": norm.key, "jurisdiction_id": bill.jurisdiction, "session_id": session_id,
        "identifier": norm.identifier, "kind": str(bill.kind), "origin_chamber": bill.origin_chamber,
        "title": bill.title, "summary": bill.summary, "introduced_on": bill.introduced_on,
        "chapter": status.chapter or bill.chapter, "source_id": bill.source_id, "source_url": bill.source_url,
        "fetched_at": bill.fetched_at, "source_flags": bill.source_flags,
        "classifier_version": norm.classifier_version, **status_values(status), "first_seen_at": now,
        "updated_at": now, "provenance": _sole_provenance(norm),
    }


def new_action_rows(norm: NormalizedBill, bill_id: int) -> list[tuple]:
    """The action rows of a bill seen for the first time, in ACTION_COLUMNS order."""
    derived = Derived(list(range(len(norm.actions))), norm.actions, norm.classifications, norm.status)
    return _action_rows(bill_id, derived, [norm.scraped.source_id] * len(norm.actions))


def _insert_new(db: Session, new: list, sessions: dict, rows: _Rows, run_id: int | None, now: datetime) -> None:
    values = [new_bill_values(norm, sessions[(norm.scraped.jurisdiction, norm.scraped.session)], now)
              for norm, _, _ in new]
    ids: dict[str, int] = {}
    for chunk in _chunks(values):
        for bill_id, key in db.execute(_insert(Bill).returning(Bill.__table__.c.id, Bill.__table__.c.key,
                                                               sort_by_parameter_order=True), chunk):
            ids[key] = bill_id
    for norm, hashes, keys in new:
        bill_id, bill = ids[norm.key], norm.scraped
        rows.actions.extend(new_action_rows(norm, bill_id))
        sponsors, versions = _people_rows(bill, bill_id)
        rows.sponsors.extend(sponsors)
        rows.versions.extend(versions)
        rows.sources.append(_source_row(norm, bill_id, hashes, keys, now))
        _add_text(rows, bill_id, bill)
        cause = norm.actions[norm.status.cause_index].text if norm.status.cause_index is not None else None
        rows.status.append(status_change_row(
            key=norm.key, bill_id=bill_id, run_id=run_id, old_status=None, old_label=None, status=norm.status,
            cause=cause, source_id=bill.source_id, source_url=bill.source_url, fetched_at=bill.fetched_at,
            first_sighting=True, now=now))
        rows.changes.append({"bill_id": bill_id, "run_id": run_id, "change": "insert", "changed_fields": [],
                             "detected_at": now})


def _stored_actions(db: Session, bill_ids: list[int]) -> dict[int, list[tuple[ScrapedAction, str]]]:
    """The stored history of each bill, in stored (date) order, with the source of each line."""
    found: dict[int, list[tuple[ScrapedAction, str]]] = defaultdict(list)
    for chunk in _chunks(bill_ids):
        for row in db.execute(select(Action.bill_id, Action.date, Action.raw_date, Action.text, Action.actor,
                                     Action.source_classes, Action.source_id)
                              .where(Action.bill_id.in_(chunk)).order_by(Action.bill_id, Action.position)):
            found[row.bill_id].append((ScrapedAction(row.date, row.text, row.raw_date, row.actor,
                                                     tuple(row.source_classes or ())), row.source_id or ""))
    return found


def _merged_history(bill: ScrapedBill, stored: list[tuple[ScrapedAction, str]], owner: str | None, take: bool,
                    partial_sources: set[str]) -> tuple[list[ScrapedAction], list[str]]:
    """The bill's history after this record: (actions, source of each).
    * a current-only record adds its line(s) not already there; nothing stored is removed;
    * a complete record that owns the history replaces the owner's lines, keeping the lines that
      current-only feeds added and that it does not list itself;
    * a complete record that does not own the history leaves it as it is."""
    if bill.history != HISTORY_COMPLETE:
        present = {action_key(a.date, a.raw_date, a.text) for a, _ in stored}
        added = [a for a in bill.actions if action_key(a.date, a.raw_date, a.text) not in present]
        return [a for a, _ in stored] + added, [s for _, s in stored] + [bill.source_id] * len(added)
    if not take:
        return [a for a, _ in stored], [s for _, s in stored]
    listed = {action_key(a.date, a.raw_date, a.text) for a in bill.actions}
    kept = [(a, s) for a, s in stored if s in partial_sources and s != owner
            and action_key(a.date, a.raw_date, a.text) not in listed]
    return list(bill.actions) + [a for a, _ in kept], [bill.source_id] * len(bill.actions) + [s for _, s in kept]


def _update_changed(db: Session, changed: list, sessions: dict, rows: _Rows, run_id: int | None,
                    now: datetime) -> None:
    bill_ids = [old.id for _, _, _, old, _ in changed]
    others, open_rows = _merge_context(db, bill_ids)
    histories = _stored_actions(db, bill_ids)
    updates, replaced_sources, rewritten = [], [], []
    for norm, hashes, keys, old, stored in changed:
        bill, source_id = norm.scraped, norm.scraped.source_id
        rivals = [o for o in others.get(old.id, []) if o.source_id != source_id]
        partial_sources = {o.source_id for o in rivals if o.history == HISTORY_CURRENT_ONLY}
        primary_fields = next((o.fields for o in rivals if o.source_id == old.primary_source), None)
        history = histories.get(old.id, [])
        if bill.history == HISTORY_COMPLETE:
            owner_count = None if primary_fields is None else primary_fields.get("actions")
            take = takes_actions(source_id, len(bill.actions), old.primary_source, owner_count)
            if (take and source_id != old.primary_source and owner_count and len(bill.actions) < owner_count
                    and _evidence(norm.status.status, norm.status.basis) < _evidence(old.status, old.status_basis)):
                # A better-ranked source whose history is shorter and reads less than the stored one
                # (it lags, or gives only part): it never rolls the status back. Its reading is kept
                # beside the bill as a disagreement; the richer history stays.
                take = False
        else:
            take = not history  # a current-only feed owns a history only where there is none
        actions, action_sources = _merged_history(bill, history, old.primary_source, take, partial_sources)
        owner = source_id if take else old.primary_source
        contributed = take or len(actions) > len(history)
        fields = source_fields(norm)
        merged, merged_from = merge_fields([(source_id, fields)] + [(o.source_id, o.fields) for o in rivals])
        typed = _typed(merged)
        fetched = max(utc(old.bill_fetched_at), bill.fetched_at) if contributed else utc(old.bill_fetched_at)
        upstream = best_upstream_status([(source_id, bill.upstream_status)]
                                        + [(o.source_id, o.upstream_status) for o in rivals])
        derived = derive_bill(bill.jurisdiction, bill.session, typed["kind"], typed["origin_chamber"], actions,
                              fetched, upstream)
        status = derived.status
        cause_source = (action_sources[derived.order[status.cause_index]] if status.cause_index is not None
                        else owner)
        row = {"id": old.id, **typed, "chapter": status.chapter or merged["chapter"], **status_values(status),
               "updated_at": now, "fetched_at": fetched,
               "classifier_version": derived.classifications[0].version if derived.classifications else "",
               "provenance": merged_from | {"actions": owner, "status": cause_source}}
        if take:
            row |= {"source_id": source_id, "source_url": bill.source_url, "source_flags": bill.source_flags,
                    "session_id": sessions[(bill.jurisdiction, bill.session)]}
        changed_fields = (sorted(k for k, v in hashes.items() if (stored.field_hashes or {}).get(k) != v)
                          if stored is not None else ["new_source"])
        old_label = status_label(old.status, old.enacted_how or old.failed_how, old.carried_over,
                                 old.override_possible)
        new_label = label_of(status)
        if old_label != new_label:
            cause = derived.actions[status.cause_index].text if status.cause_index is not None else None
            rows.status.append(status_change_row(
                key=norm.key, bill_id=old.id, run_id=run_id, old_status=old.status, old_label=old_label,
                status=status, cause=cause, source_id=source_id, source_url=bill.source_url,
                fetched_at=bill.fetched_at, first_sighting=False, now=now))
            changed_fields.append("status")
        if actions != [a for a, _ in history] or action_sources != [s for _, s in history]:
            rewritten.append(old.id)
            rows.actions.extend(_action_rows(old.id, derived, action_sources))
        if take and bill.history == HISTORY_COMPLETE:
            sponsors, versions = _people_rows(bill, old.id)
            rows.sponsors.extend(sponsors)
            rows.versions.extend(versions)
            rewritten_people = True
        else:
            rewritten_people = False
        updates.append((row, rewritten_people))
        if stored is not None:
            replaced_sources.append(stored.source_row_id)
        rows.sources.append(_source_row(norm, old.id, hashes, keys, now))
        _add_text(rows, old.id, bill)
        rows.changes.append({"bill_id": old.id, "run_id": run_id, "change": "update",
                             "changed_fields": changed_fields, "detected_at": now})
        verdicts = {o.source_id: (o.status, o.status_label, o.upstream_status) for o in rivals}
        verdicts[source_id] = (norm.status.status, norm.status_label(), bill.upstream_status)
        rows.disagreements += _disagreements(old.id, run_id, owner, status.status, new_label, verdicts,
                                             open_rows.get(old.id, {}), now, db)
    for chunk in _chunks(rewritten):
        db.execute(delete(Action).where(Action.bill_id.in_(chunk)))
    people = [row["id"] for row, rewritten_people in updates if rewritten_people]
    for chunk in _chunks(people):
        for table in (Sponsor, BillVersion):
            db.execute(delete(table).where(table.bill_id.in_(chunk)))
    for chunk in _chunks(replaced_sources):  # only this source's row; other sources' rows stay
        db.execute(delete(BillSource).where(BillSource.id.in_(chunk)))
    for chunk in _chunks([row for row, _ in updates]):
        db.execute(update(Bill), chunk)


def _add_text(rows: _Rows, bill_id: int, bill: ScrapedBill) -> None:
    if bill.text is not None:
        rows.texts.append({"bill_id": bill_id, "text": bill.text, "version": bill.text_label,
                           "source_id": bill.source_id, "source_url": bill.source_url,
                           "fetched_at": bill.fetched_at,
                           "content_hash": hashlib.sha256(bill.text.encode("utf-8")).hexdigest()})


def _store_texts(db: Session, texts: list[dict]) -> None:
    """One text a bill: the given text replaces the stored one unless that was fetched later (an older
    copy never wins) or is the same text. Records without text never reach here: nothing is deleted
    for want of a text."""
    if not texts:
        return
    stored: dict[int, tuple[str, str | None, datetime]] = {}
    for chunk in _chunks([row["bill_id"] for row in texts]):
        for bill_id, content_hash, version, fetched_at in db.execute(
                select(BillText.bill_id, BillText.content_hash, BillText.version, BillText.fetched_at)
                .where(BillText.bill_id.in_(chunk))):
            stored[bill_id] = (content_hash, version, utc(fetched_at))
    replaced, new = [], []
    for row in texts:
        old = stored.get(row["bill_id"])
        if old is not None and (old[:2] == (row["content_hash"], row["version"]) or old[2] > row["fetched_at"]):
            continue
        if old is not None:
            replaced.append(row["bill_id"])
        new.append(row)
    for chunk in _chunks(replaced):
        db.execute(delete(BillText).where(BillText.bill_id.in_(chunk)))
    _bulk_insert(db, BillText, new)


def _confirmation(stored, bill: ScrapedBill) -> tuple[int, int | None, datetime, bool]:
    """(source row, bill id if this source is the bill's primary, fetched at, is it a new day).
    Only a new day can make a scheduled action due or end a session."""
    primary = stored.primary_source == bill.source_id
    new_day = primary and _day(stored.bill_fetched_at) < bill.fetched_at.date()
    return stored.source_row_id, stored.id if primary else None, bill.fetched_at, new_day


def _confirm_unchanged(db: Session, confirmed: list[tuple[int, int | None, datetime, bool]],
                       run_id: int | None) -> int:
    """The source fetched the same content again: record the newer fetch time (provenance; never an
    older one), and re-derive the few bills whose status depends on the date rather than the
    content: a scheduled action now due, or a session or carry-over that has ended since. Returns the
    status changes recorded."""
    by_time: dict[datetime, tuple[list[int], list[int], list[int]]] = defaultdict(lambda: ([], [], []))
    for source_row_id, bill_id, fetched_at, new_day in confirmed:
        source_rows, bills, recheck = by_time[fetched_at]
        source_rows.append(source_row_id)
        if bill_id is not None:
            bills.append(bill_id)
            if new_day:
                recheck.append(bill_id)
    due: list[int] = []
    for fetched_at, (source_rows, bills, recheck) in by_time.items():
        for chunk in _chunks(recheck):
            due += _time_sensitive(db, chunk, fetched_at)
        for chunk in _chunks(bills):
            db.execute(update(Bill).where(Bill.id.in_(chunk), Bill.fetched_at < fetched_at)
                       .values(fetched_at=fetched_at))
        for chunk in _chunks(source_rows):
            db.execute(update(BillSource).where(BillSource.id.in_(chunk), BillSource.fetched_at < fetched_at)
                       .values(fetched_at=fetched_at))
    if not due:
        return 0
    from tracker.reclassify import reclassify  # reclassify builds on this module

    return reclassify(db, run_id=run_id, bill_ids=due, lock=False).status_changes


def _time_sensitive(db: Session, bill_ids: list[int], fetched_at: datetime) -> list[int]:
    """Bills (stored as of an earlier fetch) whose derived status may differ when judged at `fetched_at`:
    a scheduled action now due, or a calendar date (a session's end, a carry-over's end) passed since.
    Dates are the legislature's; the calendar is read from the calendar files, the one source of truth
    (review row M3)."""
    scheduled: dict[int, list[date]] = defaultdict(list)
    for bill_id, when in db.execute(select(Action.bill_id, Action.date).where(
            Action.bill_id.in_(bill_ids), cast(Action.classes, Text).like('%"x-scheduled"%'))):
        if when is not None:
            scheduled[bill_id].append(when)
    due = []
    for row in db.execute(select(Bill.id, Bill.jurisdiction_id, Bill.fetched_at, Bill.status,
                                 Bill.override_possible, LegislativeSession.identifier)
                          .join(LegislativeSession, LegislativeSession.id == Bill.session_id)
                          .where(Bill.id.in_(bill_ids))):
        before = as_of_date(row.jurisdiction_id, utc(row.fetched_at))
        after = as_of_date(row.jurisdiction_id, fetched_at)
        if any(before < when <= after for when in scheduled.get(row.id, ())):
            due.append(row.id)
            continue
        if row.status in ("enacted", "failed", "adopted") or (row.status == "vetoed" and not row.override_possible):
            continue  # no calendar date moves these
        calendar = session_calendar(row.jurisdiction_id, row.identifier)
        if any(boundary is not None and before <= boundary < after
               for boundary in (calendar.final_action_date, calendar.carried_over_until)):
            due.append(row.id)
    return sorted(due)


class _Rival(NamedTuple):
    """Another source's stored row for a bill about to change."""

    bill_id: int
    source_id: str
    fields: dict
    status: str | None
    status_label: str | None
    upstream_status: str | None
    history: str


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
                                     BillSource.status, BillSource.status_label, BillSource.upstream_status,
                                     BillSource.history)
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


def _source_row(norm: NormalizedBill, bill_id: int, hashes: dict[str, str], keys: list[str],
                now: datetime) -> dict:
    """This source's row for the bill: its record as read, its hashes and history keys, the merge
    fields it supplied, and the status derived from its own actions alone."""
    bill = norm.scraped
    return {"bill_id": bill_id, "source_id": bill.source_id, "url": bill.source_url,
            "fetched_at": bill.fetched_at, "content_hash": norm.content_hash,
            "raw": bill.raw, "field_hashes": hashes, "action_keys": keys, "history": bill.history,
            "upstream_id": getattr(bill, "upstream_id", None),
            "upstream_scope": getattr(bill, "upstream_scope", None),
            "upstream_hash": getattr(bill, "upstream_hash", None), "fields": source_fields(norm),
            "status": norm.status.status, "status_label": norm.status_label(),
            "upstream_status": bill.upstream_status, "last_seen_at": now,
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
