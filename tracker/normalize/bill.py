"""ScrapedBill -> NormalizedBill: canonical key, classified actions, derived status.

The one step between parsing and storage; `tracker parse` prints its output and
`tracker ingest` stores it, so both always agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.calendar import UNICAMERAL, session_calendar
from tracker.normalize.actions import Classification, classify_dated
from tracker.normalize.identifiers import bill_key, canonical_identifier
from tracker.normalize.status import StatusAction, StatusResult, derive_status
from tracker.scraped import ScrapedBill


@dataclass(slots=True)
class NormalizedBill:
    scraped: ScrapedBill
    key: str
    identifier: str
    classifications: list[Classification]
    status: StatusResult
    content_hash: str

    @property
    def classifier_version(self) -> str:
        return self.classifications[0].version if self.classifications else ""

    def status_label(self) -> str | None:
        return status_label(self.status.status, self.status.enacted_how or self.status.failed_how,
                            self.status.carried_over)

    def to_json(self) -> dict:
        """The `tracker parse` record (JSON Lines)."""
        bill, status = self.scraped, self.status
        return {
            "key": self.key,
            "jurisdiction": bill.jurisdiction,
            "session": bill.session,
            "identifier": self.identifier,
            "kind": bill.kind,
            "title": bill.title,
            "status": status.status,
            "status_date": _iso(status.status_date),
            "enacted_how": status.enacted_how,
            "failed_how": status.failed_how,
            "carried_over": status.carried_over,
            "override_possible": status.override_possible,
            "chapter": status.chapter or bill.chapter,
            "incorporated_into": status.incorporated_into,
            "sponsors": [s.name for s in bill.sponsors],
            "actions": [
                {"date": _iso(a.date), "raw_date": a.raw_date, "actor": a.actor, "text": a.text,
                 "classification": list(c.classes)}
                for a, c in zip(bill.actions, self.classifications, strict=True)
            ],
            "source_id": bill.source_id,
            "source_url": bill.source_url,
            "fetched_at": bill.fetched_at.isoformat(),
            "source_flags": bill.source_flags,
            "classifier_version": self.classifier_version,
        }


def status_label(status: str | None, how: str | None, carried_over: bool) -> str | None:
    if status is None:
        return None
    label = f"{status}/{how}" if how else str(status)
    return label + " (carried over)" if carried_over else label


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def derive_for(jurisdiction: str, session: str, kind: str, origin_chamber: str | None,
               dated_actors: list[tuple[date | None, str | None]], classifications: list[Classification],
               as_of: date) -> StatusResult:
    """Status from classified actions plus the session calendar; used by ingest and reclassify."""
    calendar = session_calendar(jurisdiction, session)
    return derive_status(
        [StatusAction(when, c.class_set, actor, c.facts)
         for (when, actor), c in zip(dated_actors, classifications, strict=True)],
        kind=kind,
        origin_chamber=origin_chamber,
        unicameral=jurisdiction in UNICAMERAL,
        as_of=as_of,
        session_ended=calendar.final_action_date,
    )


def normalize_bill(scraped: ScrapedBill, content_hash: str | None = None) -> NormalizedBill:
    as_of = scraped.fetched_at.date()  # the fetch date: later-dated actions are only scheduled
    classifications = [classify_dated(scraped.jurisdiction, a.text, a.date, as_of) for a in scraped.actions]
    return NormalizedBill(
        scraped=scraped,
        key=bill_key(scraped.jurisdiction, scraped.session, scraped.identifier),
        identifier=canonical_identifier(scraped.identifier),
        classifications=classifications,
        status=derive_for(scraped.jurisdiction, scraped.session, scraped.kind, scraped.origin_chamber,
                          [(a.date, a.actor) for a in scraped.actions], classifications, as_of),
        content_hash=content_hash or scraped.content_hash(),
    )
