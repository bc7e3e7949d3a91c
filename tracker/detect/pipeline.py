"""The detect stage: derive the intelligence layer from stored rows and record each change once.

Runs after every ingest (tracker/runs.py), after `tracker reclassify` and after `tracker federal seed` /
`tracker lifecycle seed`; nothing is fetched. In order:

1. relevance and topics (tracker/detect/relevance.py, topics.py) for the bills this run touched and
   every bill classified under another version of the rules or overrides;
2. similar bills (similar.py): an index over every AI bill (core, adjacent, incidental), each core or
   adjacent bill's best matches in other states and in its own, when an indexed bill changed;
3. law lifecycle (lifecycle.py): effective dates from the stored actions and the seed, seed events,
   events proposed by later bills, and each enacted AI law's `law_status` on the day;
4. conflicts (conflicts.py): seed links, derived scope links and state-against-state overlaps, kept
   in the `conflict` table (a link that stops holding is kept inactive).

Each real change becomes one `bill_event` row (kind relevance, lifecycle or conflict) with a reason in
plain words and its source URL: the dashboard and digests read those rows. A change that is already the
latest recorded value is never recorded again, so running this twice records nothing the second time.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from tracker.calendar import local_date
from tracker.detect import conflicts as conflict_rules
from tracker.detect import lifecycle
from tracker.detect.relevance import RELEVANCE_VERSION, classify_relevance, default_overrides_path, load_overrides
from tracker.detect.similar import SIMILARITY_VERSION, Document, SimilarityIndex, document_text
from tracker.detect.topics import CANONICAL_TOPICS, TOPICS_VERSION, classify_topics
from tracker.models import (
    Action,
    Bill,
    BillChange,
    BillEvent,
    BillText,
    Conflict,
    FederalInstrument,
    LawEvent,
    LegislativeSession,
    SimilarBill,
)
from tracker.rows import CHUNK, _chunks, take_write_lock

AI_TIERS = ("core", "adjacent")  # an "AI bill" for events, conflicts and similar-bill queries
INDEXED_TIERS = ("core", "adjacent", "incidental")  # what the similarity index holds
SIMILAR_K = 5  # best matches kept per bill, in other states and in its own
SIMILAR_MIN_SCORE = 0.2  # below this a "match" shares little more than the words "artificial intelligence"
_TEXT_FIELDS = {"title", "summary", "text", "new_source"}  # bill_change fields that can change what is compared
TEXT_CHUNK = 500  # bills whose stored texts are loaded at once (a text may be up to 2 MB)
BOILERPLATE_BILLS = 6  # a passage shared among more bills than this is the source's boilerplate


@dataclass
class DetectResult:
    classified: int = 0
    relevance_events: int = 0
    similar_bills: int = 0  # bills whose stored matches changed
    law_events: int = 0  # seed or detected law events inserted or changed
    proposals: int = 0  # detected lifecycle events waiting for review
    lifecycle_events: int = 0
    conflicts_new: int = 0
    conflicts_changed: int = 0
    conflicts_ended: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def events(self) -> int:
        return (self.relevance_events + self.lifecycle_events + self.conflicts_new + self.conflicts_changed
                + self.conflicts_ended)

    def summary(self) -> str:
        return (f"detect: {self.classified} classified, {self.relevance_events} relevance event(s), "
                f"{self.similar_bills} bill(s) with new similar bills, {self.lifecycle_events} lifecycle "
                f"event(s), {self.proposals} proposal(s) to review, conflicts {self.conflicts_new} new / "
                f"{self.conflicts_changed} changed / {self.conflicts_ended} ended")


def intel_version(overrides_path: Path | None = None) -> str:
    """The version a bill's relevance and topics were computed under: the rule files' versions and the
    overrides file's content, so editing any of them reclassifies every bill at the next detect."""
    path = overrides_path or default_overrides_path()
    digest = hashlib.blake2b(path.read_bytes(), digest_size=4).hexdigest()
    return f"{RELEVANCE_VERSION}+{TOPICS_VERSION}+ov-{digest}"


def _fingerprint(*parts) -> str:
    return hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=12).hexdigest()


def detect(db: Session, *, run_id: int | None = None, bill_ids: Iterable[int] | None = None, full: bool = False,
           today: date | None = None, overrides_path: Path | None = None, lifecycle_seed: Path | None = None,
           lock: bool = True) -> DetectResult:
    """Bring the derived tables up to date. `run_id`: the run whose changed bills to redo (their events
    carry it); `full`: redo every bill; `today`: the day law statuses are judged on (default: each
    legislature's own date now); `overrides_path`, `lifecycle_seed`: other review files than the shipped ones."""
    if lock:
        take_write_lock(db, f"detect run {run_id}")
    result = DetectResult()
    now = datetime.now(UTC)
    touched = _classify(db, run_id, bill_ids, full, overrides_path, result, now)
    _similar(db, touched, full, result, now)
    _lifecycle(db, run_id, touched, full, today, lifecycle_seed, result, now)
    _conflicts(db, run_id, result, now)
    return result


# --- 1. relevance and topics -------------------------------------------------------------------------

def _classify(db: Session, run_id: int | None, bill_ids: Iterable[int] | None, full: bool,
              overrides_path: Path | None, result: DetectResult, now: datetime) -> set[int]:
    """Classify what needs it; return the ids of bills whose tier, topics or compared text changed (an
    action added to an AI bill changes neither: its similar bills stand)."""
    version = intel_version(overrides_path)
    overrides = load_overrides(overrides_path)
    wanted: set[int] = set(bill_ids or ())
    retexted: set[int] = set(wanted)  # bills whose compared text (title, abstract, text) may have changed
    if run_id is not None:
        for bill_id, change, fields in db.execute(select(BillChange.bill_id, BillChange.change,
                                                         BillChange.changed_fields).where(BillChange.run_id == run_id)):
            wanted.add(bill_id)
            if change == "insert" or set(fields or ()) & _TEXT_FIELDS:
                retexted.add(bill_id)
    columns = (Bill.id, Bill.key, Bill.title, Bill.summary, Bill.ai_relevance, Bill.ai_score, Bill.ai_evidence,
               Bill.ai_override, Bill.topics, Bill.obligations, Bill.source_url)
    query = select(*columns).order_by(Bill.id)
    if not full:
        stale = (Bill.intel_version.is_(None)) | (Bill.intel_version != version)
        query = query.where(stale | Bill.id.in_(wanted)) if wanted else query.where(stale)
    rows = db.execute(query).all()
    if not rows:
        return set()
    latest = _latest_events(db, "relevance", [r.id for r in rows])
    touched: set[int] = set(retexted)
    updates, events = [], []
    for row, text in _with_texts(db, rows):
        relevance = classify_relevance(row.title, row.summary, text, key=row.key, overrides=overrides)
        topics = (classify_topics(row.title, row.summary, text) if relevance.tier != "not_ai" else None)
        values = {
            "ai_relevance": relevance.tier, "ai_score": round(relevance.score, 4),
            "ai_evidence": [{"term": e.term, "field": e.field, "snippet": e.snippet} for e in relevance.evidence],
            "ai_override": relevance.override,
            "topics": list(topics.topics) if topics else [],
            "obligations": list(topics.obligations) if topics else [],
        }
        if any(getattr(row, name) != value for name, value in values.items()):
            touched.add(row.id)
        updates.append({"b_id": row.id, "intel_version": version, **values})
        result.classified += 1
        old = row.ai_relevance
        new = relevance.tier
        if old == new or (old not in AI_TIERS and new not in AI_TIERS):
            continue  # only becoming, ceasing to be, or changing tier as an AI bill is news
        if latest.get(row.id) == new:
            continue  # already recorded
        if new in AI_TIERS and old not in AI_TIERS:
            why = "now an AI bill" if old else "a new AI bill"
        elif new not in AI_TIERS:
            why = "no longer an AI bill"
        else:
            why = f"AI relevance {old} → {new}"
        terms = ", ".join(dict.fromkeys(e.term for e in relevance.evidence)) or "no AI terms"
        reason = f"{why}: {relevance.override or 'matched ' + terms}"
        events.append(BillEvent(
            bill_id=row.id, run_id=run_id, kind="relevance", old_value=old, new_value=new, reason=reason,
            detail={"score": round(relevance.score, 4), "version": version, "override": relevance.override,
                    "first_classification": old is None,
                    "evidence": values["ai_evidence"][:5], "topics": values["topics"]},
            source_url=row.source_url, fingerprint=_fingerprint(row.key, "relevance", old, new, now.isoformat()),
            detected_at=now))
    statement = update(Bill).where(Bill.id == bindparam("b_id"))
    for chunk in _chunks(updates, CHUNK):
        db.connection().execute(statement, chunk)
    db.add_all(events)
    result.relevance_events += len(events)
    db.flush()
    return touched


def _with_texts(db: Session, rows: list) -> Iterable[tuple]:
    """Each row with its bill's stored text (None where there is none), loaded TEXT_CHUNK bills at a time
    so a full run never holds every text at once."""
    for chunk in _chunks(rows, TEXT_CHUNK):
        texts = dict(db.execute(select(BillText.bill_id, BillText.text)
                                .where(BillText.bill_id.in_([row.id for row in chunk]))).all())
        for row in chunk:
            yield row, texts.get(row.id)


def _latest_events(db: Session, kind: str, bill_ids: list[int], *, skip_prefix: str | None = None
                   ) -> dict[int, str | None]:
    """The new_value of each bill's latest event of `kind` (leaving out values starting `skip_prefix`)."""
    latest: dict[int, str | None] = {}
    for chunk in _chunks(bill_ids, CHUNK):
        where = [BillEvent.kind == kind, BillEvent.bill_id.in_(chunk)]
        if skip_prefix:
            where.append(func.coalesce(BillEvent.new_value, "").not_like(f"{skip_prefix}%"))
        newest = (select(BillEvent.bill_id, func.max(BillEvent.id).label("id"))
                  .where(*where).group_by(BillEvent.bill_id).subquery())
        for bill_id, value in db.execute(select(BillEvent.bill_id, BillEvent.new_value)
                                         .join(newest, BillEvent.id == newest.c.id)):
            latest[bill_id] = value
    return latest


# --- 2. similar bills --------------------------------------------------------------------------------

INDEX_COLUMNS = (Bill.id, Bill.key, Bill.jurisdiction_id, Bill.title, Bill.summary, Bill.ai_relevance)


def similarity_index(db: Session, rows: list) -> tuple[SimilarityIndex, dict]:
    """The index over these bill rows (INDEX_COLUMNS), each compared on its stored text where there is one,
    else its title and abstract; and the rows by key."""
    documents, by_key = [], {}
    for row, stored_text in _with_texts(db, rows):
        text, basis = document_text(row.title, row.summary, stored_text)
        if text:
            documents.append(Document(row.key, row.jurisdiction_id, text, basis))
            by_key[row.key] = row
    return SimilarityIndex.build(documents), by_key


def _similar(db: Session, touched: set[int], full: bool, result: DetectResult, now: datetime) -> None:
    rows = db.execute(select(*INDEX_COLUMNS).where(Bill.ai_relevance.in_(INDEXED_TIERS)).order_by(Bill.key)).all()
    stale = db.execute(select(func.count()).select_from(SimilarBill)
                       .where(SimilarBill.version != SIMILARITY_VERSION)).scalar_one()
    indexed = {r.id for r in rows}
    stored_ids = set(db.execute(select(SimilarBill.bill_id).distinct()).scalars())
    if not (full or stale or touched & (indexed | stored_ids)):
        return  # no indexed bill changed: the stored matches stand
    index, by_key = similarity_index(db, rows)
    wanted: dict[int, dict[int, tuple[float, str, list[str]]]] = defaultdict(dict)
    for row in rows:
        if row.ai_relevance not in AI_TIERS or row.key not in by_key:
            continue
        for same_state in (False, True):
            for match in index.similar(row.key, SIMILAR_K, same_state=same_state, min_score=SIMILAR_MIN_SCORE):
                wanted[row.id][by_key[match.key].id] = (match.score, match.basis, list(match.shared))
    _drop_boilerplate(wanted)
    stored: dict[int, dict[int, SimilarBill]] = defaultdict(dict)
    for item in db.execute(select(SimilarBill)).scalars():
        stored[item.bill_id][item.similar_id] = item
    for bill_id in set(stored) | set(wanted):
        old, new = stored.get(bill_id, {}), wanted.get(bill_id, {})
        changed = False
        for similar_id, item in old.items():
            if similar_id not in new:
                db.delete(item)
                changed = True
        for similar_id, (score, basis, shared) in new.items():
            item = old.get(similar_id)
            if item is None:
                db.add(SimilarBill(bill_id=bill_id, similar_id=similar_id, score=score, basis=basis, shared=shared,
                                   version=SIMILARITY_VERSION, computed_at=now))
                changed = True
            elif (item.score, item.basis, item.shared, item.version) != (score, basis, shared, SIMILARITY_VERSION):
                item.score, item.basis, item.shared = score, basis, shared
                item.version, item.computed_at = SIMILARITY_VERSION, now
                changed = True
        result.similar_bills += changed
    db.flush()


def _drop_boilerplate(wanted: dict[int, dict[int, tuple[float, str, list[str]]]]) -> None:
    """A passage that many bills share with their matches is the source's boilerplate ("Note: This
    summary applies to this bill as enacted"), not a copied provision: it is not shown as shared."""
    holders: dict[str, set[int]] = defaultdict(set)
    for bill_id, matches in wanted.items():
        for similar_id, (_, _, shared) in matches.items():
            for passage in shared:
                holders[passage].update((bill_id, similar_id))
    common = {passage for passage, bills in holders.items() if len(bills) > BOILERPLATE_BILLS}
    if not common:
        return
    for matches in wanted.values():
        for similar_id, (score, basis, shared) in list(matches.items()):
            matches[similar_id] = (score, basis, [p for p in shared if p not in common])


# --- 3. law lifecycle --------------------------------------------------------------------------------

def _session_year(identifier: str) -> int | None:
    digits = identifier[:4]
    return int(digits) if digits.isdigit() else None


def _lifecycle(db: Session, run_id: int | None, touched: set[int], full: bool, today: date | None,
               seed_path: Path | None, result: DetectResult, now: datetime) -> None:
    from tracker.federal import find_state_bill

    laws = {row.id: row for row in db.execute(
        select(Bill.id, Bill.key, Bill.jurisdiction_id, Bill.identifier, Bill.title, Bill.summary, Bill.status,
               Bill.law_status, Bill.effective_dates, Bill.source_url, LegislativeSession.identifier.label("session"))
        .join(LegislativeSession).where(Bill.status == "enacted", Bill.ai_relevance.in_(AI_TIERS)))}
    keys = {row.key: row.id for row in laws.values()}
    # Seed rows: the landmark laws' effective dates and events as sourced.
    seed_effective: dict[int, set[date]] = defaultdict(set)
    wanted_events: dict[str, dict] = {}
    for row in lifecycle.seed_rows(str(seed_path) if seed_path else None):
        if not row.session:
            continue  # a bill number alone may name another session's bill: never applied to a law
        key = find_state_bill(db, row.state, row.session, row.bill)
        if key is None:
            continue
        bill_id = keys.get(key) or db.execute(select(Bill.id).where(Bill.key == key)).scalar_one()
        if row.effective_dates:
            seed_effective[bill_id].update(row.effective_dates)
            continue
        event = row.event
        by_id = db.execute(select(Bill.id).where(Bill.key == event.by_reference)).scalar_one_or_none() \
            if event.by_reference else None
        wanted_events[f"{key}:{event.key}"] = dict(
            bill_id=bill_id, event=event.event, event_date=event.event_date, by_bill_id=by_id,
            by_reference=event.by_reference, mechanism=event.mechanism, effective_after=event.effective_after,
            source_url=event.source_url, confidence=event.confidence, origin="seed", review_status="confirmed",
            evidence=[{"seed": "tracker/data/law_lifecycle.csv", "law": row.law}], note=event.note)
    stored = {e.event_key: e for e in db.execute(select(LawEvent)).scalars()}
    for event_key, values in wanted_events.items():
        item = stored.get(event_key)
        if item is None:
            item = LawEvent(event_key=event_key, created_at=now, **values)
            db.add(item)
            stored[event_key] = item
            result.law_events += 1
        elif any(getattr(item, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(item, name, value)
            result.law_events += 1
    for event_key, item in list(stored.items()):
        if item.origin == "seed" and event_key not in wanted_events:
            db.delete(item)  # taken out of the seed file: it no longer bears on the law
            del stored[event_key]
            result.law_events += 1
    # Proposals: a later bill of the same state that says it delays, amends or repeals an AI law.
    known: dict[str, list[lifecycle.KnownLaw]] = defaultdict(list)
    for row in laws.values():
        known[row.jurisdiction_id].append(lifecycle.KnownLaw(row.key, row.identifier, _session_year(row.session),
                                                             row.title))
    candidates = select(Bill.id, Bill.key, Bill.jurisdiction_id, Bill.title, Bill.summary, Bill.status_date,
                        Bill.introduced_on, Bill.source_url, LegislativeSession.identifier.label("session")
                        ).join(LegislativeSession).where(Bill.jurisdiction_id.in_(list(known)))
    if not full:
        candidates = candidates.where(Bill.id.in_(list(touched) or [-1]))
    for later in db.execute(candidates):
        year = _session_year(later.session)
        earlier = [law for law in known[later.jurisdiction_id]
                   if law.year is None or year is None or law.year <= year]
        text = " ".join(filter(None, (later.title, later.summary)))
        for proposal in lifecycle.detect_changes(later.key, text, later.status_date or later.introduced_on, earlier,
                                                 later.source_url):
            event = proposal.event
            event_key = f"{proposal.law_key}:{event.key}"
            if event_key in stored or any(
                    e.bill_id == keys[proposal.law_key] and e.event == event.event and e.by_reference == later.key
                    for e in stored.values() if e.origin == "seed"):
                continue  # proposed before (kept as reviewed, or still waiting), or the seed already says so
            item = LawEvent(event_key=event_key, bill_id=keys[proposal.law_key], event=event.event,
                            event_date=event.event_date, by_bill_id=later.id, by_reference=later.key,
                            effective_after=event.effective_after, source_url=event.source_url,
                            confidence=event.confidence, origin="detected", review_status="proposed",
                            evidence=list(event.evidence), note=event.note, created_at=now)
            db.add(item)
            stored[event_key] = item
            result.proposals += 1
            db.add(BillEvent(bill_id=item.bill_id, run_id=run_id, kind="lifecycle", old_value=None,
                             new_value=f"proposed:{event.event}",
                             reason=f"{later.key} may {_VERB[event.event]} this law ({event.evidence[0]['term']}); "
                                    "waiting for review",
                             detail={"event_key": event_key, "by": later.key, "evidence": list(event.evidence)},
                             source_url=later.source_url, fingerprint=_fingerprint(event_key, "proposed"),
                             detected_at=now))
            result.lifecycle_events += 1
    db.flush()
    # Effective dates and the law status on the day.
    events_by_bill: dict[int, list[lifecycle.LifecycleEvent]] = defaultdict(list)
    for item in stored.values():
        events_by_bill[item.bill_id].append(lifecycle.LifecycleEvent(
            item.event, item.event_date, item.by_reference, item.mechanism, item.effective_after, item.confidence,
            item.source_url, review_status=item.review_status))
    sourced: dict[int, list] = defaultdict(list)
    for chunk in _chunks(list(laws), CHUNK):
        for bill_id, when, text in db.execute(select(Action.bill_id, Action.date, Action.text)
                                              .where(Action.bill_id.in_(chunk)).order_by(Action.bill_id,
                                                                                         Action.position)):
            sourced[bill_id].append((when, text))
    latest = _latest_events(db, "lifecycle", list(laws), skip_prefix="proposed:")
    for bill_id, row in laws.items():
        dates = sorted(set(lifecycle.effective_dates(sourced[bill_id])) | seed_effective[bill_id]
                       | set(lifecycle.stated_effective_dates(row.summary)))
        day = today or local_date(row.jurisdiction_id, now)
        status = lifecycle.law_status(dates, events_by_bill[bill_id], day)
        iso = [d.isoformat() for d in dates]
        if iso != list(row.effective_dates or []) or status != row.law_status:
            db.execute(update(Bill).where(Bill.id == bill_id).values(effective_dates=iso, law_status=status))
        if status != row.law_status and latest.get(bill_id, row.law_status) != status and status is not None:
            cause = _status_cause(status, events_by_bill[bill_id], dates, day)
            db.add(BillEvent(bill_id=bill_id, run_id=run_id, kind="lifecycle", old_value=row.law_status,
                             new_value=status, reason=cause, detail={"effective_dates": iso, "as_of": day.isoformat()},
                             source_url=row.source_url,
                             fingerprint=_fingerprint(row.key, "law_status", row.law_status, status, day),
                             detected_at=now))
            result.lifecycle_events += 1
    # Laws no longer enacted AI laws (reclassified) keep no law status.
    db.execute(update(Bill).where(Bill.law_status.is_not(None), Bill.id.not_in(list(laws) or [-1]))
               .values(law_status=None))
    db.flush()


_VERB = {"delayed": "delay", "amended": "amend", "repealed": "repeal", "superseded": "repeal and replace",
         "enjoined": "enjoin", "expired": "end"}


def _status_cause(status: str, events: list[lifecycle.LifecycleEvent], dates: list[date], day: date) -> str:
    confirmed = [e for e in events if e.review_status == "confirmed" and (e.event_date or date.min) <= day]
    matching = [e for e in confirmed if e.event == status]
    if matching:
        event = max(matching, key=lambda e: e.event_date or date.min)
        by = f" by {event.by_reference}" if event.by_reference else ""
        until = f" until {event.effective_after}" if event.effective_after else ""
        return f"law {status}{by}{until} ({event.event_date or 'date unknown'}, confidence {event.confidence})"
    if status == "pending_effective":
        return f"enacted; takes effect {dates[0]}" if dates else "enacted; effective date not stated"
    if status == "effective":
        return f"in effect since {dates[0]}" if dates else "in effect"
    return f"law status {status}"


# --- 4. conflicts ------------------------------------------------------------------------------------

_LAW_COLUMNS = (Bill.id, Bill.key, Bill.jurisdiction_id, Bill.identifier, Bill.title, Bill.status, Bill.ai_relevance,
                Bill.topics, Bill.obligations, Bill.source_url, Bill.effective_dates)  # what _law() reads


def _conflicts(db: Session, run_id: int | None, result: DetectResult, now: datetime) -> None:
    from tracker.federal import links_for, resolve_state_bill

    instruments = {row.key: row for row in db.execute(select(FederalInstrument)).scalars()}
    stored = {c.link_key: c for c in db.execute(select(Conflict)).scalars()}
    if not instruments and not stored:
        return
    law_rows = {row.key: row for row in db.execute(
        select(*_LAW_COLUMNS).where(Bill.status == "enacted", Bill.ai_relevance.in_(AI_TIERS)))}
    seed = []
    for link, instrument in links_for(db):
        key = resolve_state_bill(db, link)
        if key is None:
            continue
        if key not in law_rows:
            law_rows[key] = db.execute(select(*_LAW_COLUMNS).where(Bill.key == key)).one()
        seed.append(conflict_rules.SeedLink(key, instrument.key, link.relation, link.provision_ref, link.source_url,
                                            link.confidence, link.note, link.state_law))
    # The other side of each overlap: bills similar to an enacted AI law.
    law_ids = {row.id: row.key for row in law_rows.values() if row.status == "enacted"}
    pairs, others = [], set()
    for chunk in _chunks(list(law_ids), CHUNK):
        for bill_id, similar_id, score, shared in db.execute(
                select(SimilarBill.bill_id, SimilarBill.similar_id, SimilarBill.score, SimilarBill.shared)
                .where(SimilarBill.bill_id.in_(chunk), SimilarBill.score >= conflict_rules.OVERLAP_MIN_SCORE)):
            pairs.append((bill_id, similar_id, score, tuple(shared or ())))
            others.add(similar_id)
    other_rows = {}
    for chunk in _chunks(sorted(others), CHUNK):
        for row in db.execute(select(*_LAW_COLUMNS).where(Bill.id.in_(chunk))):
            other_rows[row.id] = row
    laws = {key: _law(row) for key, row in law_rows.items()}
    laws.update({row.key: _law(row) for row in other_rows.values()})
    ids = {row.key: row.id for row in [*law_rows.values(), *other_rows.values()]}
    findings = conflict_rules.federal_findings(
        laws.values(), {k: _instrument(v) for k, v in instruments.items()}, seed, topic_labels=CANONICAL_TOPICS)
    findings += conflict_rules.overlap_findings(
        laws, [conflict_rules.SimilarPair(law_ids[a], other_rows[b].key, score, shared)
               for a, b, score, shared in pairs])
    wanted = {}
    for finding in findings:
        wanted[finding.link_key] = finding
    for link_key, finding in wanted.items():
        instrument = instruments.get(finding.instrument_key) if finding.instrument_key else None
        values = dict(bill_id=ids[finding.law_key], instrument_id=instrument.id if instrument else None,
                      other_bill_id=ids.get(finding.other_key) if finding.other_key else None,
                      relation=finding.relation, provision_ref=finding.provision, reason=finding.reason,
                      evidence=[dict(e) for e in finding.evidence], confidence=finding.confidence,
                      force=finding.force, source_url=finding.source_url, origin=finding.origin,
                      version=conflict_rules.CONFLICTS_VERSION)
        item = stored.get(link_key)
        if item is None or not item.active:
            change = "new"
            if item is None:
                item = Conflict(link_key=link_key, first_seen_at=now, **values)
                db.add(item)
            else:
                for name, value in values.items():
                    setattr(item, name, value)
            item.active, item.updated_at = True, now
            result.conflicts_new += 1
        else:
            differs = [name for name in ("relation", "reason", "confidence", "force", "source_url", "provision_ref")
                       if getattr(item, name) != values[name]]
            if not differs and item.evidence == values["evidence"] and item.version == values["version"]:
                continue
            for name, value in values.items():
                setattr(item, name, value)
            item.updated_at = now
            if not differs:
                continue  # only the evidence or version moved: nothing a reader would call a change
            change = "changed"
            result.conflicts_changed += 1
        _conflict_event(db, run_id, item, change, finding.instrument_key or finding.other_key, now)
    for link_key, item in stored.items():
        if item.active and link_key not in wanted:
            item.active, item.updated_at = False, now
            result.conflicts_ended += 1
            _conflict_event(db, run_id, item, "ended", None, now)
    db.flush()


def _conflict_event(db: Session, run_id: int | None, item: Conflict, change: str, other: str | None,
                    now: datetime) -> None:
    label = f"{item.relation} {other}" if other else item.relation
    db.add(BillEvent(
        bill_id=item.bill_id, run_id=run_id, kind="conflict",
        old_value=None if change == "new" else item.relation, new_value=None if change == "ended" else label,
        reason=(f"{'new' if change == 'new' else change} conflict: " if change != "ended" else
                "conflict no longer holds: ") + item.reason,
        detail={"link_key": item.link_key, "change": change, "relation": item.relation,
                "confidence": item.confidence, "force": item.force, "origin": item.origin},
        source_url=item.source_url,
        fingerprint=_fingerprint(item.link_key, change, item.reason, item.confidence, now.isoformat()),
        detected_at=now))


def _law(row) -> conflict_rules.Law:
    return conflict_rules.Law(row.key, row.jurisdiction_id, row.identifier, row.title, row.status or "",
                              row.ai_relevance, tuple(row.topics or ()), tuple(row.obligations or ()),
                              row.source_url, tuple(row.effective_dates or ()))


def _instrument(row: FederalInstrument) -> conflict_rules.Instrument:
    return conflict_rules.Instrument(row.key, row.kind, row.title, row.instrument_status, row.confidence,
                                     row.source_url, row.fr_type)
