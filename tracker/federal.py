"""The federal layer (DOMAIN.md §5): federal instruments, their links to state laws, and the queue of
preemption candidates a person confirms or rejects.

* Sources (scrapers/federal_register.py, scrapers/congress_gov.py) hand storage `ScrapedInstrument`
  records; `store_instruments` writes them inside the ingest transaction and scans them for
  preemption language. Source-owned fields (title, identifiers, dates, status) follow the source;
  stance, scope, carve-outs and confidence are judgements and change only through the seed file
  (tracker/data/federal_instruments.csv, conflict_links.csv) or a review.
* A Federal Register document first seen on public inspection and later published keeps one row
  (same document number): publication fills the published fields and never loses the filing time,
  and a late public-inspection record never downgrades a published one.
* Confidence levels (H, M, L, combined as "H/M" or qualified as "H (text), M (CA mention)") are
  copied exactly as sourced, may be lowered, and are never raised by a load or a fetch.
* An executive order or framework directs federal actors; it does not displace state law by itself.
  `force_label` says "law" only for an enacted federal bill or a final rule in force, else
  "proposed" or "directed" (DOMAIN.md §5), and every listing shows it with the confidence.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import Session

from tracker.models import Bill, ConflictLink, FederalInstrument, InstrumentChange, LegislativeSession, PreemptionCandidate
from tracker.normalize.identifiers import IdentifierError, canonical_identifier, canonical_session
from tracker.scraped import ScrapedInstrument

if TYPE_CHECKING:  # kept lazy where used: tracker.scraped is light, but federal is imported early
    from tracker.scraped import ItemProblem

INSTRUMENT_KINDS = ("executive_order", "fr_document", "federal_bill", "doj_action", "agency_proceeding",
                    "wh_letter_or_framework")
# DOMAIN.md §5 statuses, plus "revoked" (ours): an order a later order revoked. DOMAIN's "withdrawn"
# is for a planned instrument dropped before it took effect, which a revoked order is not.
INSTRUMENT_STATUSES = ("leaked_draft", "draft", "introduced", "passed_chamber", "struck", "enacted",
                       "in_force", "enjoined", "withdrawn", "revoked")
STANCES = ("preempts", "conditions_funding", "litigates", "threatens", "neutral")
RELATIONS = ("named_target", "in_preemption_scope", "carved_out", "challenged", "enjoined",
             "amended_in_response", "overlaps")
CANDIDATE_STATUSES = ("pending", "confirmed", "rejected")
LAW_STATUSES = frozenset({"enacted", "in_force", "enjoined"})
PROPOSED_STATUSES = frozenset({"leaked_draft", "draft", "introduced", "passed_chamber", "struck", "withdrawn"})
_LEVELS = {"L": 1, "M": 2, "H": 3}
_LEVEL_TOKEN = re.compile(r"(?<![A-Za-z])([HML])(?![A-Za-z])")


class SeedError(ValueError):
    """The seed CSV has a row we refuse to load (unknown kind, stance, relation or confidence)."""


# --- Vocabulary helpers -----------------------------------------------------------------------------

def fr_key(document_number: str) -> str:
    """The instrument key of a Federal Register document (EOs included): `fr:2025-23092`."""
    return f"fr:{document_number.strip()}"


def confidence_levels(confidence: str) -> list[str]:
    """The levels a confidence string states, in order: "H (text), M (CA mention)" -> ["H", "M"]."""
    return _LEVEL_TOKEN.findall(confidence or "")


def check_confidence(confidence: str) -> str:
    text = (confidence or "").strip()
    if not text or not confidence_levels(text) or not re.match(r"^[HML](/[HML])?\b", text):
        raise ValueError(f"confidence must start with H, M or L (e.g. 'H', 'L/M', 'H (text), M (CA mention)'), "
                         f"not {confidence!r}")
    return text


def lowest_level(confidence: str) -> int:
    levels = confidence_levels(confidence)
    return min(_LEVELS[level] for level in levels) if levels else 0


def is_low_confidence(confidence: str) -> bool:
    return "L" in confidence_levels(confidence)


def confidence_label(confidence: str) -> str:
    """How every listing shows a confidence: low ones are marked, never hidden."""
    return f"{confidence} [LOW]" if is_low_confidence(confidence) else confidence


def force_label(kind: str, status: str | None, fr_type: str | None = None) -> str:
    """'law', 'proposed' or 'directed' (DOMAIN.md §5): only an enacted bill or a final rule in force is law."""
    if status in LAW_STATUSES and (kind == "federal_bill" or (kind == "fr_document" and fr_type == "Rule")):
        return "law"
    if (status in PROPOSED_STATUSES or kind == "federal_bill"
            or (kind == "fr_document" and fr_type == "Proposed Rule")):
        return "proposed"
    return "directed"


def force_text(instrument: FederalInstrument) -> str:
    force = force_label(instrument.kind, instrument.instrument_status, instrument.fr_type)
    return f"{force} ({instrument.instrument_status})" if instrument.instrument_status else force


# --- AI relevance and preemption language -------------------------------------------------------------

# DOMAIN.md §3 vocabulary. "AI" counts only as a whole upper-case word; the trap words (artificial
# turf, counterintelligence, slot machines...) never match because only these phrases do.
_AI_PHRASES = re.compile(
    r"artificial[- ]intelligence|machine[- ]learning|automated decision[- ](?:system|tool|making)s?|"
    r"algorithmic discrimination|generative (?:AI|artificial)|foundation models?|frontier (?:AI )?models?|"
    r"large language models?|deep ?fakes?|digital replicas?|synthetic media|chatbots?|"
    r"machine-based system", re.IGNORECASE)
_AI_WORD = re.compile(r"(?<![A-Za-z0-9-])A\.?I\.?(?![A-Za-z0-9-])")


def is_ai_text(text: str | None) -> bool:
    return bool(text) and bool(_AI_PHRASES.search(text) or _AI_WORD.search(text))


# term shown to the reviewer -> pattern. Case-insensitive, whole words.
PREEMPTION_TERMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (term, re.compile(pattern, re.IGNORECASE)) for term, pattern in (
        ("preempt", r"\bpre-?empt(?:s|ed|ing|ion|ive)?\b"),
        ("moratorium", r"\bmoratori(?:um|a)\b"),
        ("State law", r"\bstate(?:[- ]level)?(?: and local)?(?: AI)? (?:laws?|regulations?)\b"),
        ("national policy framework", r"\bnational (?:policy )?framework\b"),
        ("patchwork", r"\bpatchwork\b"),
        ("litigation task force", r"\blitigation task force\b"),
        ("uniform federal standard", r"\b(?:uniform|single) (?:federal|national) (?:standard|framework)\b"),
        ("onerous state laws", r"\bonerous\b"),
    ))
# Federalism boilerplate in rules ("This rule does not preempt State law") is not a preemption move.
_BOILERPLATE = re.compile(
    r"\b(?:does|do|will|would|shall) not (?:have federalism implications|preempt|supersede)|"
    r"not (?:intended|construed) to preempt|no preemptive effect|federalism implications", re.IGNORECASE)
SNIPPET = 90  # characters of context on each side of a match


def detect_preemption_language(texts: dict[str, str], *, per_term: int = 3) -> list[dict[str, str]]:
    """Each match as {term, field, snippet}; boilerplate sentences are skipped."""
    evidence: list[dict[str, str]] = []
    for field_name, text in texts.items():
        if not text:
            continue
        flat = " ".join(text.split())
        for term, pattern in PREEMPTION_TERMS:
            found = 0
            for match in pattern.finditer(flat):
                start, end = max(0, match.start() - SNIPPET), min(len(flat), match.end() + SNIPPET)
                sentence = _sentence_around(flat, match.start(), match.end())
                if _BOILERPLATE.search(sentence):
                    continue
                snippet = ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
                evidence.append({"term": term, "field": field_name, "snippet": snippet})
                found += 1
                if found >= per_term:
                    break
    return evidence


def _sentence_around(text: str, start: int, end: int) -> str:
    left = max(text.rfind(". ", 0, start), text.rfind("; ", 0, start))
    right_candidates = [i for i in (text.find(". ", end), text.find("; ", end)) if i != -1]
    right = min(right_candidates) if right_candidates else len(text)
    return text[left + 1:right]


def evidence_hash(evidence: list[dict[str, str]]) -> str:
    blob = json.dumps(sorted((e["term"], e["field"], e["snippet"]) for e in evidence), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


# --- Storing what sources found -----------------------------------------------------------------------

SOURCE_FIELDS = ("title", "instrument_status", "stage", "eo_number", "fr_document_number", "fr_citation",
                 "fr_type", "fr_subtype", "correction_of", "bill_key", "signed_on", "published_on",
                 "effective_on", "public_inspection_at", "agencies", "source_url")


@dataclass
class StoreResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    candidates: int = 0
    problems: list[ItemProblem] = field(default_factory=list)  # noqa: F821 - see TYPE_CHECKING


def store_instruments(db: Session, items: Sequence[ScrapedInstrument], result=None, *,
                      run_id: int | None = None) -> StoreResult:
    """Insert or update instruments, queue preemption candidates. Counts are added to `result` (an
    IngestResult) when given, so a run of the federal sources reports them like bills."""
    outcome = StoreResult()
    now = datetime.now(UTC)
    batch = _dedupe(items, outcome)
    existing = {row.key: row for row in db.execute(
        select(FederalInstrument).where(FederalInstrument.key.in_(list(batch)))).scalars()} if batch else {}
    for key, item in batch.items():
        row = existing.get(key)
        if row is None:
            row = _new_row(item, now)
            db.add(row)
            db.flush()
            db.add(InstrumentChange(instrument_id=row.id, run_id=run_id, change="insert", changed_fields=[],
                                    new_status=row.instrument_status, detected_at=now))
            outcome.inserted += 1
            _check_eo_number(db, row, outcome)
        else:
            old_status = row.instrument_status
            changed = _apply_source(row, item, now)
            if not changed:
                outcome.unchanged += 1
                continue
            db.add(InstrumentChange(instrument_id=row.id, run_id=run_id, change="update", changed_fields=changed,
                                    old_status=old_status, new_status=row.instrument_status, detected_at=now))
            outcome.updated += 1
        outcome.candidates += queue_candidate(db, row, _texts(item), run_id=run_id, now=now)
    db.flush()
    if result is not None:
        result.inserted += outcome.inserted
        result.updated += outcome.updated
        result.unchanged += outcome.unchanged
        result.problems.extend(outcome.problems)
    return outcome


def _dedupe(items: Iterable[ScrapedInstrument], outcome: StoreResult) -> dict[str, ScrapedInstrument]:
    """One record per key. A published FR record beats a public-inspection one for the same document."""
    from tracker.scraped import ItemProblem

    batch: dict[str, ScrapedInstrument] = {}
    for item in items:
        seen = batch.get(item.key)
        if seen is None:
            batch[item.key] = item
        elif seen.stage == "public_inspection" and item.stage == "published":
            item.public_inspection_at = item.public_inspection_at or seen.public_inspection_at
            batch[item.key] = item
        elif seen.stage == "published" and item.stage == "public_inspection":
            seen.public_inspection_at = seen.public_inspection_at or item.public_inspection_at
        elif _compatible(seen, item):
            batch[item.key] = max((seen, item), key=_richness)  # a listing and a detail of one document
        elif seen.content_hash() != item.content_hash():
            outcome.problems.append(ItemProblem(f"{item.key} appears twice in one batch with different content; "
                                                "kept the first", item.key, item.source_url))
    return batch


def _compatible(a: ScrapedInstrument, b: ScrapedInstrument) -> bool:
    """Two records of one document that never contradict each other (one just says less)."""
    return all(getattr(a, name) in (None, []) or getattr(b, name) in (None, []) or getattr(a, name) == getattr(b, name)
               for name in SOURCE_FIELDS + ("summary",))


def _richness(item: ScrapedInstrument) -> int:
    return sum(getattr(item, name) not in (None, []) for name in SOURCE_FIELDS + ("summary",)) + (
        item.kind == "executive_order")


def _new_row(item: ScrapedInstrument, now: datetime) -> FederalInstrument:
    values = {name: getattr(item, name) for name in SOURCE_FIELDS}
    return FederalInstrument(
        key=item.key, kind=item.kind, summary=item.summary, source_id=item.source_id,
        fetched_at=item.fetched_at, content_hash=item.content_hash(), raw=item.raw,
        # An official record (the Federal Register, Congress.gov) is H for what it states about itself.
        # Its stance stays empty ("not reviewed") until a person decides.
        confidence="H", stance=[], scope=[], carve_outs=[],
        event_date=item.signed_on or item.published_on, last_verified=item.fetched_at.date(),
        first_seen_at=now, updated_at=now, **values)


def _apply_source(row: FederalInstrument, item: ScrapedInstrument, now: datetime) -> list[str]:
    """Refresh the source-owned fields of a stored instrument; returns the names that changed."""
    if row.content_hash == item.content_hash() and row.source_id == item.source_id:
        return []
    changed = []
    downgrade = row.stage == "published" and item.stage == "public_inspection"
    for name in SOURCE_FIELDS:
        new = getattr(item, name)
        if downgrade and name != "public_inspection_at":
            continue  # a late public-inspection record never overwrites the published one
        if new is None or new == []:
            continue  # a source that does not give a field (a fields[]-limited page) never erases it
        if _plain(getattr(row, name)) != _plain(new):
            setattr(row, name, new)
            changed.append(name)
    if item.kind != row.kind and not downgrade and (item.kind == "executive_order" or item.fr_subtype):
        row.kind = item.kind  # a detail record says what a bare listing could not (an executive order)
        changed.append("kind")
    if item.summary and not row.summary:
        row.summary, changed = item.summary, changed + ["summary"]
    if row.event_date is None and (item.signed_on or item.published_on):
        row.event_date = item.signed_on or item.published_on
    if not downgrade:
        row.raw, row.content_hash = item.raw, item.content_hash()
        row.source_id, row.fetched_at = item.source_id, item.fetched_at
    row.last_verified = item.fetched_at.date()
    if changed:
        row.updated_at = now
    return changed


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return value


def _check_eo_number(db: Session, row: FederalInstrument, outcome: StoreResult) -> None:
    """The seed keys orders by FR document number; an API record of the same EO under another document
    number means one of them is wrong (or this is a correction). Flag it, keep both."""
    from tracker.scraped import ItemProblem

    if not row.eo_number:
        return
    others = db.execute(select(FederalInstrument.key).where(
        FederalInstrument.eo_number == row.eo_number, FederalInstrument.id != row.id)).scalars().all()
    for other in others:
        outcome.problems.append(ItemProblem(
            f"EO {row.eo_number} is stored as {other} and now also as {row.key}; check the FR document number "
            "in tracker/data/federal_instruments.csv", row.key, row.source_url))


def _texts(item: ScrapedInstrument) -> dict[str, str]:
    return {"title": item.title, **({"summary": item.summary} if item.summary else {}), **item.texts}


def queue_candidate(db: Session, row: FederalInstrument, texts: dict[str, str], *, run_id: int | None = None,
                    now: datetime | None = None) -> int:
    """Queue a preemption candidate when the text has preemption language not seen before for this
    instrument (same evidence, reviewed or not, is never queued twice). Returns 1 if queued."""
    evidence = detect_preemption_language(texts)
    if not evidence:
        return 0
    digest = evidence_hash(evidence)
    known = db.execute(select(PreemptionCandidate.id).where(
        PreemptionCandidate.instrument_id == row.id, PreemptionCandidate.evidence_hash == digest)).first()
    if known:
        return 0
    db.add(PreemptionCandidate(instrument_id=row.id, evidence=evidence, evidence_hash=digest, run_id=run_id,
                               detected_at=now or datetime.now(UTC)))
    return 1


# --- Review -----------------------------------------------------------------------------------------

def pending_candidates(db: Session) -> list[tuple[PreemptionCandidate, FederalInstrument]]:
    return [tuple(row) for row in db.execute(
        select(PreemptionCandidate, FederalInstrument).join(FederalInstrument)
        .where(PreemptionCandidate.status == "pending").order_by(PreemptionCandidate.id))]


def decide(db: Session, candidate_id: int, decision: str, *, stance: Sequence[str] = (), reviewer: str | None = None,
           note: str | None = None) -> FederalInstrument:
    """Confirm (with the stance the instrument takes) or reject a candidate. Rejecting marks the
    instrument neutral unless a stance was already recorded."""
    if decision not in ("confirm", "reject"):
        raise ValueError("decision must be 'confirm' or 'reject'")
    candidate = db.get(PreemptionCandidate, candidate_id)
    if candidate is None:
        raise LookupError(f"no preemption candidate #{candidate_id}")
    if candidate.status != "pending":
        raise ValueError(f"candidate #{candidate_id} was already {candidate.status}")
    instrument = db.get(FederalInstrument, candidate.instrument_id)
    stances = _check_stances(stance)
    if decision == "confirm":
        moves = [s for s in stances if s != "neutral"]
        if not moves:
            raise ValueError("confirming needs the stance the instrument takes toward state law: "
                             + ", ".join(s for s in STANCES if s != "neutral"))
        new_stance = [s for s in instrument.stance if s != "neutral"]
        new_stance += [s for s in moves if s not in new_stance]
    else:
        new_stance = instrument.stance or ["neutral"]
    now = datetime.now(UTC)
    changed = ["stance"] if new_stance != instrument.stance else []
    instrument.stance, instrument.updated_at = new_stance, now
    candidate.status = "confirmed" if decision == "confirm" else "rejected"
    candidate.reviewed_at, candidate.reviewer, candidate.decision_note = now, reviewer, note
    db.add(InstrumentChange(instrument_id=instrument.id, change="review", changed_fields=changed,
                            old_status=instrument.instrument_status, new_status=instrument.instrument_status,
                            detected_at=now))
    db.flush()
    return instrument


def _check_stances(values: Iterable[str]) -> list[str]:
    stances = [v.strip().replace(" ", "_").replace("-", "_") for v in values if v and v.strip()]
    unknown = [s for s in stances if s not in STANCES]
    if unknown:
        raise ValueError(f"unknown stance {', '.join(unknown)}; use {', '.join(STANCES)}")
    return stances


# --- The seed files ---------------------------------------------------------------------------------

INSTRUMENT_COLUMNS = ("key", "kind", "title", "eo_number", "fr_document_number", "fr_citation", "bill_key",
                      "section", "docket", "is_draft", "event_date", "date_text", "signed_on", "published_on",
                      "instrument_status", "stance", "scope", "carve_outs", "targets", "summary", "history",
                      "source_url", "source_ref", "confidence", "note")
LINK_COLUMNS = ("state", "state_session", "state_bill", "state_law", "instrument_key", "relation",
                "provision_ref", "source_url", "confidence", "last_verified", "note")


def seed_path(name: str) -> Path:
    return Path(str(resources.files("tracker") / "data" / name))


@dataclass
class SeedResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    links_inserted: int = 0
    links_updated: int = 0
    links_unchanged: int = 0
    warnings: list[str] = field(default_factory=list)


def read_instrument_rows(path: Path | None = None) -> list[dict]:
    """The seed file as typed rows; a bad row raises SeedError naming the line."""
    path = path or seed_path("federal_instruments.csv")
    rows = []
    for line, row in _csv_rows(path, INSTRUMENT_COLUMNS):
        where = f"{path.name} line {line} ({row.get('key') or 'no key'})"
        try:
            rows.append(_instrument_row(row))
        except ValueError as exc:
            raise SeedError(f"{where}: {exc}") from None
    keys = [r["key"] for r in rows]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise SeedError(f"{path.name}: duplicate key(s) {', '.join(duplicates)}")
    return rows


def read_link_rows(path: Path | None = None, instrument_keys: set[str] | None = None) -> list[dict]:
    path = path or seed_path("conflict_links.csv")
    rows = []
    for line, row in _csv_rows(path, LINK_COLUMNS):
        where = f"{path.name} line {line}"
        try:
            typed = _link_row(row)
        except ValueError as exc:
            raise SeedError(f"{where}: {exc}") from None
        if instrument_keys is not None and typed["instrument_key"] not in instrument_keys:
            raise SeedError(f"{where}: unknown instrument_key {typed['instrument_key']!r}")
        rows.append(typed)
    return rows


def _csv_rows(path: Path, columns: tuple[str, ...]):
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise SeedError(f"{path.name}: missing column(s) {', '.join(missing)}")
        for number, row in enumerate(reader, start=2):
            if None in row:
                raise SeedError(f"{path.name} line {number}: more fields than the header")
            yield number, {k: (v or "").strip() for k, v in row.items()}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def _instrument_row(row: dict[str, str]) -> dict:
    if not row["key"] or not row["title"]:
        raise ValueError("key and title are required")
    if row["kind"] not in INSTRUMENT_KINDS:
        raise ValueError(f"unknown kind {row['kind']!r}; use {', '.join(INSTRUMENT_KINDS)}")
    status = row["instrument_status"] or None
    if status is not None and status not in INSTRUMENT_STATUSES:
        raise ValueError(f"unknown instrument_status {status!r}; use {', '.join(INSTRUMENT_STATUSES)}")
    if row["is_draft"] not in ("", "true", "false"):
        raise ValueError(f"is_draft must be true, false or empty, not {row['is_draft']!r}")
    return {
        "key": row["key"], "kind": row["kind"], "title": row["title"], "eo_number": row["eo_number"] or None,
        "fr_document_number": row["fr_document_number"] or None, "fr_citation": row["fr_citation"] or None,
        "bill_key": row["bill_key"] or None, "section": row["section"] or None, "docket": row["docket"] or None,
        "is_draft": row["is_draft"] == "true", "event_date": _date(row["event_date"]),
        "date_text": row["date_text"] or None, "signed_on": _date(row["signed_on"]),
        "published_on": _date(row["published_on"]), "instrument_status": status,
        "stance": _check_stances(_split(row["stance"])), "scope": _split(row["scope"]),
        "carve_outs": _split(row["carve_outs"]), "targets": row["targets"] or None,
        "summary": row["summary"] or None, "history": row["history"] or None,
        "source_url": row["source_url"] or None, "source_ref": row["source_ref"] or None,
        "confidence": check_confidence(row["confidence"]), "note": row["note"] or None,
    }


def _link_row(row: dict[str, str]) -> dict:
    state = row["state"].lower()
    if not re.fullmatch(r"[a-z]{2}", state):
        raise ValueError(f"state must be two letters, not {row['state']!r}")
    if row["relation"] not in RELATIONS:
        raise ValueError(f"unknown relation {row['relation']!r}; use {', '.join(RELATIONS)}")
    if not row["state_law"] or not row["instrument_key"]:
        raise ValueError("state_law and instrument_key are required")
    bill = row["state_bill"] or None
    if bill is not None:
        try:
            bill = canonical_identifier(bill)
        except IdentifierError as exc:
            raise ValueError(str(exc)) from None
    confidence = check_confidence(row["confidence"])
    if row["relation"] == "in_preemption_scope" and lowest_level(confidence) > _LEVELS["M"]:
        raise ValueError("in_preemption_scope is a judgement call: M at most (DOMAIN.md §5)")
    return {
        "state": state, "state_session": row["state_session"] or None, "state_bill": bill,
        "state_law": row["state_law"], "instrument_key": row["instrument_key"], "relation": row["relation"],
        "provision_ref": row["provision_ref"] or None, "source_url": row["source_url"] or None,
        "confidence": confidence, "last_verified": _date(row["last_verified"]), "note": row["note"] or None,
    }


def link_key(row: dict) -> str:
    return "|".join([row["state"], row["state_session"] or "", row["state_bill"] or row["state_law"],
                     row["instrument_key"], row["relation"], row["provision_ref"] or ""])


SEED_CURATED = ("stance", "scope", "carve_outs", "targets", "history", "note", "source_ref", "section", "docket",
                "is_draft", "date_text", "event_date")
SEED_SOURCE = ("title", "eo_number", "fr_document_number", "fr_citation", "bill_key", "signed_on",
               "published_on", "instrument_status", "source_url", "summary")


def load_seed(db: Session, instruments_csv: Path | None = None, links_csv: Path | None = None) -> SeedResult:
    """Load the reviewable seed files. Idempotent. For an instrument a source has since fetched, the
    source's fields win and the seed only fills blanks; a confidence in the file higher than the
    stored one is not applied (never raise a confidence) and is reported."""
    result = SeedResult()
    now = datetime.now(UTC)
    rows = read_instrument_rows(instruments_csv)
    links = read_link_rows(links_csv, {r["key"] for r in rows})
    stored = {row.key: row for row in db.execute(select(FederalInstrument)).scalars()}
    for values in rows:
        row = stored.get(values["key"])
        if row is None:
            row = FederalInstrument(**values, stage="seed", source_id="seed", agencies=[], raw={},
                                    first_seen_at=now, updated_at=now)
            db.add(row)
            db.flush()
            db.add(InstrumentChange(instrument_id=row.id, change="seed", changed_fields=[],
                                    new_status=row.instrument_status, detected_at=now))
            stored[row.key] = row
            result.inserted += 1
            continue
        old_status = row.instrument_status
        changed = _apply_seed(row, values, result)
        if changed:
            row.updated_at = now
            db.add(InstrumentChange(instrument_id=row.id, change="seed", changed_fields=changed,
                                    old_status=old_status, new_status=row.instrument_status, detected_at=now))
            result.updated += 1
        else:
            result.unchanged += 1
    db.flush()
    existing_links = {link.link_key: link for link in db.execute(select(ConflictLink)).scalars()}
    for values in links:
        key = link_key(values)
        instrument_id = stored[values.pop("instrument_key")].id
        link = existing_links.get(key)
        if link is None:
            db.add(ConflictLink(link_key=key, instrument_id=instrument_id, **values))
            result.links_inserted += 1
            continue
        changed = False
        for name, value in values.items():
            if name == "confidence":
                value = _never_raise(link.confidence, value, f"link {key}", result)
            if getattr(link, name) != value:
                setattr(link, name, value)
                changed = True
        result.links_updated += changed
        result.links_unchanged += not changed
    db.flush()
    return result


def _apply_seed(row: FederalInstrument, values: dict, result: SeedResult) -> list[str]:
    changed = []
    from_seed = row.source_id == "seed"
    for name in SEED_CURATED + SEED_SOURCE:
        value = values[name]
        if name in SEED_SOURCE and not from_seed and getattr(row, name) not in (None, "", []):
            continue  # fetched from the official source since: the source wins
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    confidence = _never_raise(row.confidence, values["confidence"], row.key, result)
    if confidence != row.confidence:
        row.confidence = confidence
        changed.append("confidence")
    return changed


def _never_raise(stored: str, wanted: str, what: str, result: SeedResult) -> str:
    if stored and lowest_level(wanted) > lowest_level(stored):
        result.warnings.append(f"{what}: seed says confidence {wanted!r} but {stored!r} is stored; "
                               "not raised (record the new evidence and change it by hand)")
        return stored
    return wanted


# --- Reading for the CLI ------------------------------------------------------------------------------

def list_instruments(db: Session, *, kind: str | None = None, stance: str | None = None,
                     low_only: bool = False) -> list[FederalInstrument]:
    query = select(FederalInstrument).order_by(FederalInstrument.event_date.is_(None), FederalInstrument.event_date,
                                               FederalInstrument.key)
    if kind:
        query = query.where(FederalInstrument.kind == kind)
    rows = list(db.execute(query).scalars())
    if stance:
        rows = [r for r in rows if stance in (r.stance or [])]
    if low_only:
        rows = [r for r in rows if is_low_confidence(r.confidence)]
    return rows


def links_for(db: Session, *, state: str | None = None, instrument_key: str | None = None
              ) -> list[tuple[ConflictLink, FederalInstrument]]:
    query = select(ConflictLink, FederalInstrument).join(FederalInstrument).order_by(
        ConflictLink.state, ConflictLink.state_law, FederalInstrument.key)
    if state:
        query = query.where(ConflictLink.state == state.lower())
    if instrument_key:
        query = query.where(FederalInstrument.key == instrument_key)
    return [tuple(row) for row in db.execute(query)]


def resolve_state_bill(db: Session, link: ConflictLink) -> str | None:
    """The stored bill a link points at, if that state's bill is in the database."""
    return find_state_bill(db, link.state, link.state_session, link.state_bill)


def find_state_bill(db: Session, state: str, session: str | None, identifier: str | None) -> str | None:
    """The key of the stored bill a seed row names (state, session as the seed spells it, canonical
    identifier): same state and identifier, in that session (matched by its canonical spelling or its
    year); with no session, the only stored bill of that identifier. None when absent or ambiguous."""
    if not identifier:
        return None
    rows = db.execute(select(Bill.key, LegislativeSession.identifier).join(LegislativeSession).where(
        Bill.jurisdiction_id == state, Bill.identifier == identifier)).all()
    if not session:
        return rows[0].key if len(rows) == 1 else None
    wanted = {session, canonical_session(state, session)}
    matches = [r.key for r in rows if r.identifier in wanted or r.identifier.startswith(session)]
    return matches[0] if len(matches) == 1 else None


# --- What a fetch needs to know about the database ----------------------------------------------------

def read_cursor(settings, source_id: str, key: str) -> str | None:
    """A source's stored resume point; None on a fresh or not yet migrated database."""
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.db import get_engine, session_scope
    from tracker.rows import get_cursor  # not tracker.storage, which imports this module

    try:
        with session_scope(get_engine(settings.database_url)) as db:
            return get_cursor(db, source_id, key)
    except SQLAlchemyError:
        return None


def stored_instrument_keys(settings, keys: list[str]) -> set[str]:
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.db import get_engine, session_scope

    if not keys:
        return set()
    try:
        with session_scope(get_engine(settings.database_url)) as db:
            return set(db.execute(select(FederalInstrument.key).where(FederalInstrument.key.in_(keys))).scalars())
    except SQLAlchemyError:
        return set()
