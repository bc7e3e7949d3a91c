"""What parsers return: plain data, no database. Every source produces these."""

from __future__ import annotations

import hashlib
import json
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
    raw: dict[str, str] = field(default_factory=dict)  # the source record as read

    def field_hashes(self) -> dict[str, str]:
        """A short hash per field group, so an update can name what changed (fetched_at excluded)."""
        groups = {
            "title": self.title,
            "summary": self.summary,
            "bill": [self.jurisdiction, self.session, self.identifier, self.kind, self.origin_chamber,
                     self.chapter, self.introduced_on, self.source_url],
            "actions": [[a.raw_date, a.date, a.text, a.actor, a.source_classes] for a in self.actions],
            "sponsors": [[s.name, s.primary, s.source_person_id] for s in self.sponsors],
            "versions": [[v.note, v.date, v.url] for v in self.versions],
            "source_flags": self.source_flags,
            "raw": self.raw,
        }
        return {name: _digest(value)[:16] for name, value in groups.items()}

    def content_hash(self) -> str:
        """Equal hash, nothing the source said has changed."""
        return content_hash_of(self.field_hashes())


def content_hash_of(field_hashes: dict[str, str]) -> str:
    return _digest(field_hashes)


def _digest(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
