"""ScrapedBill -> NormalizedBill: canonical key, actions in date order, classified, derived status.

The one step between parsing and storage; `tracker parse` prints its output and `tracker ingest`
stores it, and `tracker reclassify` re-derives stored bills through `derive_for`, so all three
always agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tracker.calendar import EXECUTIVE_JOINT_RESOLUTIONS, UNICAMERAL, local_date, session_calendar
from tracker.normalize.actions import Classification, classify_dated
from tracker.normalize.identifiers import bill_key, canonical_identifier
from tracker.normalize.status import StatusAction, StatusResult, chronological_order, derive_status
from tracker.scraped import ScrapedAction, ScrapedBill
from tracker.vocab import BillStatus


@dataclass(slots=True)
class NormalizedBill:
    scraped: ScrapedBill
    key: str
    identifier: str
    actions: list[ScrapedAction]  # the scraped actions in date order (what storage keeps, by position)
    classifications: list[Classification]  # one per action, same order
    status: StatusResult
    content_hash: str

    @property
    def classifier_version(self) -> str:
        return self.classifications[0].version if self.classifications else ""

    def status_label(self) -> str:
        return label_of(self.status)

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
            "status_basis": status.basis,
            "enacted_how": status.enacted_how,
            "failed_how": status.failed_how,
            "carried_over": status.carried_over,
            "override_possible": status.override_possible,
            "partial_veto": status.partial_veto,
            "chapter": status.chapter or bill.chapter,
            "incorporated_into": status.incorporated_into,
            "sponsors": [s.name for s in bill.sponsors],
            "actions": [
                {"date": _iso(a.date), "raw_date": a.raw_date, "actor": a.actor, "text": a.text,
                 "classification": list(c.classes), "layer": c.layer,
                 **({"source_classes": list(a.source_classes)} if a.source_classes else {})}
                for a, c in zip(self.actions, self.classifications, strict=True)
            ],
            "source_id": bill.source_id,
            "source_url": bill.source_url,
            "fetched_at": bill.fetched_at.isoformat(),
            "source_flags": bill.source_flags,
            "classifier_version": self.classifier_version,
        }


def status_label(status: str | None, how: str | None, carried_over: bool, override_possible: bool = False
                 ) -> str | None:
    """`enacted/signed`, `failed/died_in_committee (carried over)`, `vetoed (override possible)`.
    A sustained veto reads `vetoed`, so the end of the override window is a change of label."""
    if status is None:
        return None
    label = f"{status}/{how}" if how else str(status)
    if override_possible and status == BillStatus.VETOED:
        label += " (override possible)"
    return label + " (carried over)" if carried_over else label


def label_of(status: StatusResult) -> str:
    return status_label(status.status, status.enacted_how or status.failed_how, status.carried_over,
                        status.override_possible)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def as_of_date(jurisdiction: str, fetched_at: datetime) -> date:
    """The day a status is judged on: the fetch time's date where the legislature sits."""
    return local_date(jurisdiction, fetched_at)


def derive_for(jurisdiction: str, session: str, kind: str, origin_chamber: str | None,
               dated_actors: Sequence[tuple[date | None, str | None]], classifications: Sequence[Classification],
               as_of: date, upstream_status: str | None = None) -> StatusResult:
    """Status from classified actions plus the session calendar; used by ingest and reclassify."""
    calendar = session_calendar(jurisdiction, session)
    return derive_status(
        [StatusAction(when, c.class_set, actor, c.facts, c.layer)
         for (when, actor), c in zip(dated_actors, classifications, strict=True)],
        kind=kind,
        origin_chamber=origin_chamber,
        unicameral=jurisdiction in UNICAMERAL,
        as_of=as_of,
        session_ended=calendar.final_action_date,
        carried_over_until=calendar.carried_over_until,
        executive_resolutions=jurisdiction in EXECUTIVE_JOINT_RESOLUTIONS,
        upstream_status=upstream_status,
        session_started=calendar.start_date,
        override_until=calendar.override_until,
    )


def classify_actions(jurisdiction: str, actions: Sequence[ScrapedAction], as_of: date, *,
                     own_table: bool = True) -> list[Classification]:
    return [classify_dated(jurisdiction, a.text, a.date, as_of, tuple(a.source_classes), own_table=own_table)
            for a in actions]


@dataclass(slots=True)
class Derived:
    """A bill's actions in date order, their classes, and the status they give."""

    order: list[int]  # indices into the actions given, in date order
    actions: list[ScrapedAction]
    classifications: list[Classification]
    status: StatusResult


def derive_bill(jurisdiction: str, session: str, kind: str, origin_chamber: str | None,
                actions: Sequence[ScrapedAction], fetched_at: datetime, upstream_status: str | None = None,
                *, own_table: bool = True) -> Derived:
    """The one derivation: `tracker parse` (one source's record), ingest (the bill's merged history
    and fields) and `tracker reclassify` (stored rows) all call this, so the same facts give the same
    status through any path (review rows H1, M4). Judged on the fetch date where the legislature
    sits: actions dated later are only scheduled."""
    as_of = as_of_date(jurisdiction, fetched_at)
    order = chronological_order([a.date for a in actions])
    ordered = [actions[i] for i in order]
    classifications = classify_actions(jurisdiction, ordered, as_of, own_table=own_table)
    status = derive_for(jurisdiction, session, kind, origin_chamber, [(a.date, a.actor) for a in ordered],
                        classifications, as_of, upstream_status)
    return Derived(order, ordered, classifications, status)


def normalize_bill(scraped: ScrapedBill, content_hash: str | None = None, *, own_table: bool = True
                   ) -> NormalizedBill:
    derived = derive_bill(scraped.jurisdiction, scraped.session, scraped.kind, scraped.origin_chamber,
                          scraped.actions, scraped.fetched_at, scraped.upstream_status, own_table=own_table)
    return NormalizedBill(
        scraped=scraped,
        key=bill_key(scraped.jurisdiction, scraped.session, scraped.identifier),
        identifier=canonical_identifier(scraped.identifier),
        actions=derived.actions,
        classifications=derived.classifications,
        status=derived.status,
        content_hash=content_hash or scraped.content_hash(),
    )
