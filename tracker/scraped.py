"""What parsers return: plain data, no database. Every source produces these."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True)
class ScrapedAction:
    date: date | None  # None when the source date could not be read (raw_date keeps it)
    text: str
    raw_date: str = ""
    actor: str | None = None  # a tracker.vocab.Chamber value, resolved by the parser
    source_classes: tuple[str, ...] = ()  # upstream labels: hints only, never trusted


@dataclass(slots=True)
class ScrapedSponsor:
    name: str
    primary: bool = True
    source_person_id: str | None = None


@dataclass(slots=True)
class ScrapedVersion:
    note: str
    date: date | None = None
    url: str | None = None


HISTORY_COMPLETE = "complete"  # the record lists every action the source knows of for the bill
HISTORY_CURRENT_ONLY = "current_only"  # only the latest line (WA WSL, a Congress.gov listing's latestAction)


@dataclass(slots=True)
class ScrapedBill:
    jurisdiction: str  # two-letter lowercase state, "us" for federal
    session: str
    identifier: str  # as the source wrote it; normalized by tracker.normalize.identifiers
    title: str
    source_id: str
    source_url: str
    fetched_at: datetime
    kind: str = "bill"  # a tracker.vocab.BillKind value
    origin_chamber: str | None = None
    actions: list[ScrapedAction] = field(default_factory=list)
    sponsors: list[ScrapedSponsor] = field(default_factory=list)
    versions: list[ScrapedVersion] = field(default_factory=list)
    chapter: str | None = None
    summary: str | None = None  # the source's abstract or digest
    introduced_on: date | None = None
    # The source's own final flags (VA Passed/Failed/Approved...). Stored to cross-check, never trusted.
    source_flags: dict[str, str] = field(default_factory=dict)
    # The status the source itself claims for the bill (LegiScan's status code, WSL's Status), mapped
    # onto our ladder as a label ("enacted/chaptered"): layer 3 of the status, marked `upstream` when used.
    upstream_status: str | None = None
    # What the actions are: the whole history, or only the current line. A current-only record adds its
    # line to the stored history; it never replaces it (review row C2). Not part of the content hash.
    history: str = HISTORY_COMPLETE
    raw: dict[str, str] = field(default_factory=dict)  # the source record as read
    # The record's text exactly as the source sent it (all of its rows), when the parser has it:
    # equal text means nothing changed, found far more cheaply than by hashing every parsed field.
    source_text: str | None = None
    # The bill's own text (the latest version's), where the source gives it (CA pubinfo's CAML), and the
    # version it is of. None means "not given here", never "no text": a stored text is kept (tracker.storage).
    # Hashed as the "text" group only when given, so records without text hash as they always did.
    text: str | None = None
    text_label: str | None = None

    def _field_groups(self) -> dict[str, object]:
        """Every field we store, as plain str/date/None tuples (their repr is stable and far cheaper
        than JSON); dicts as sorted item lists."""
        groups = self._record_groups()
        if self.text is not None:
            groups["text"] = (self.text_label, self.text)
        return groups

    def _record_groups(self) -> dict[str, object]:
        return {
            "title": self.title,
            "summary": self.summary,
            "bill": (self.jurisdiction, self.session, self.identifier, str(self.kind), _plain(self.origin_chamber),
                     self.chapter, self.introduced_on, self.source_url),
            "actions": [(a.raw_date, a.date, a.text, _plain(a.actor), tuple(map(str, a.source_classes)))
                        for a in self.actions],
            "sponsors": [(s.name, s.primary, s.source_person_id) for s in self.sponsors],
            "versions": [(v.note, v.date, v.url) for v in self.versions],
            "source_flags": sorted(self.source_flags.items()),  # upstream_status derives from raw/flags
            "raw": sorted(self.raw.items()),
        }

    def field_hashes(self) -> dict[str, str]:
        """A short hash per field group, so an update can name what changed (fetched_at left out)."""
        return self._rendered_hashes()[0]

    def content_hash(self) -> str:
        """Equal hash, nothing the source said has changed."""
        return self.hashes()[1]

    def hashes(self) -> tuple[dict[str, str] | None, str]:
        """(field hashes, content hash), each group rendered once. When the parser kept the
        source's own text, that text decides and the field hashes (None) wait until needed."""
        if self.source_text is not None:
            whole = hashlib.sha256(self.source_text.encode("utf-8"))
            if self.text is not None:  # the record's text alone would miss a new version of the bill's text
                whole.update(b"\x1e" + repr((self.text_label, self.text)).encode("utf-8"))
            return None, "t:" + whole.hexdigest()
        return self._rendered_hashes()

    def _rendered_hashes(self) -> tuple[dict[str, str], str]:
        rendered = {name: repr(value).encode("utf-8") for name, value in self._field_groups().items()}
        fields = {name: hashlib.sha256(text).hexdigest()[:16] for name, text in rendered.items()}
        whole = hashlib.sha256()
        for name, text in rendered.items():
            whole.update(name.encode() + b"\x1f" + text + b"\x1e")
        return fields, whole.hexdigest()


def _plain(value: str | None) -> str | None:
    return None if value is None else str(value)  # a StrEnum member hashes as its value


@dataclass(slots=True)
class ScrapedInstrument:
    """A federal instrument as one source saw it (DOMAIN.md §5): an executive order, a Federal Register
    document, or the instrument record of a federal bill. Not a bill: tracker.federal stores it.
    Stance, scope, carve-outs and confidence are a reviewer's judgement, so no parser sets them."""

    key: str  # "fr:<document number>" for FR documents, the bill key for a federal bill
    kind: str  # a tracker.federal.INSTRUMENT_KINDS value
    title: str
    source_id: str
    source_url: str
    fetched_at: datetime
    instrument_status: str | None = None  # a tracker.federal.INSTRUMENT_STATUSES value
    stage: str | None = None  # FR: "public_inspection" or "published"; "listed" for a list entry only
    summary: str | None = None
    eo_number: str | None = None  # always a string, as the FR API writes it
    fr_document_number: str | None = None
    fr_citation: str | None = None
    fr_type: str | None = None  # Presidential Document, Rule, Proposed Rule, Notice
    fr_subtype: str | None = None  # Executive Order, Memorandum, Proclamation, Correction...
    correction_of: str | None = None
    bill_key: str | None = None
    signed_on: date | None = None
    published_on: date | None = None
    effective_on: date | None = None
    public_inspection_at: datetime | None = None  # when the document was filed for public inspection
    agencies: list[str] = field(default_factory=list)
    # Text scanned for preemption language (title, abstract, summary, full text...), by field name.
    texts: dict[str, str] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)

    def field_hashes(self) -> dict[str, str]:
        """Hash per field group; `texts` is left out so a missing full-text fetch is not a change."""
        groups = {
            "title": self.title,
            "summary": self.summary,
            "instrument": [self.key, self.kind, self.instrument_status, self.stage, self.eo_number,
                           self.fr_document_number, self.fr_citation, self.fr_type, self.fr_subtype,
                           self.correction_of, self.bill_key, self.source_url],
            "dates": [self.signed_on, self.published_on, self.effective_on, self.public_inspection_at],
            "agencies": self.agencies,
            "raw": self.raw,
        }
        return {name: _digest(value)[:16] for name, value in groups.items()}

    def content_hash(self) -> str:
        return content_hash_of(self.field_hashes())

    def to_json(self) -> dict:
        """The `tracker parse` record (JSON Lines)."""
        iso = lambda value: value.isoformat() if value else None  # noqa: E731
        return {
            "key": self.key, "kind": self.kind, "title": self.title, "instrument_status": self.instrument_status,
            "stage": self.stage, "summary": self.summary, "eo_number": self.eo_number,
            "fr_document_number": self.fr_document_number, "fr_citation": self.fr_citation,
            "fr_type": self.fr_type, "fr_subtype": self.fr_subtype, "correction_of": self.correction_of,
            "bill_key": self.bill_key, "signed_on": iso(self.signed_on), "published_on": iso(self.published_on),
            "effective_on": iso(self.effective_on), "public_inspection_at": iso(self.public_inspection_at),
            "agencies": self.agencies, "source_id": self.source_id, "source_url": self.source_url,
            "fetched_at": self.fetched_at.isoformat(),
        }


def content_hash_of(field_hashes: dict[str, str]) -> str:
    return _digest(field_hashes)


def _digest(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --- What a parse hands the core besides bills ----------------------------------------------------------

class SourceFormatError(ValueError):
    """The input is not what this parser reads (missing columns, HTML instead of CSV...).
    Fails the whole batch loudly: a layout change must never look like 'no bills'."""


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """One record the parser could not read (skipped), or, with `kept`, a note about a record that was
    stored anyway (an action date it could not read, a session with no calendar). The run records it
    and goes on; only skipped records make a run `partial`."""

    message: str
    item_key: str | None = None
    url: str | None = None
    kept: bool = False


ParsedItem = ScrapedBill | ItemProblem


@dataclass(slots=True)
class Batch:
    """One unit of work that becomes one run record (a session's files, one API page set)."""

    target: str  # URLs or file path, recorded in the run
    items: Iterable[object] = field(default_factory=list)  # ParsedItem, listings, cursors, instruments
    not_modified: bool = False  # every response was a 304 / cache revalidation: nothing to do
    error: str | None = None  # fetching failed; the run is recorded as failed with this message


def fail_if_nothing_read(items: Iterable[object]) -> Iterator[object]:
    """Pass a batch's items through. If they end with records that could not be read and nothing that
    could (a single broken file, every page damaged), raise SourceFormatError naming the first problem:
    the run fails saying which file or record failed and why, instead of reading `empty ... problems 1`.
    Raised at the end, inside the ingest's transaction, so nothing stored changes."""
    read = skipped = 0
    first: ItemProblem | None = None
    for item in items:
        if isinstance(item, ItemProblem):
            if not item.kept:
                skipped += 1
                first = first or item
        else:
            read += 1
        yield item
    if not read and first is not None:
        more = f" (and {skipped - 1} more unreadable record(s))" if skipped > 1 else ""
        raise SourceFormatError(f"nothing could be read: {first.message}{more}")
