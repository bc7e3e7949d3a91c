"""One bill, many sources: precedence, per-field provenance, and what sources hand storage besides bills.

The same bill can arrive from the state's own source (va-lis), from LegiScan and from Open States.
It is one `bill` row (one canonical key). Each source keeps its own `bill_source` row: its raw
record, content hash, the mergeable fields it supplied, and the status *we* derive from its actions.

Precedence (documented in the README, "One bill, many sources"):
1. the state's own source (any source that is not an aggregator below),
2. LegiScan (`legiscan`, then `legiscan-dataset`),
3. Open States (`openstates`, then `openstates-json`).
Each scalar field (title, summary, introduced_on, origin_chamber, kind, chapter) comes from the
highest-ranked source that supplies a non-empty value. Actions, sponsors and versions come whole
from one source, the highest-ranked one that has actions; the status is derived from those actions,
so status and actions always share a source. `bill.provenance` names the source of every field.
A source whose own derived status differs from the merged status gets a `status_disagreement` row.
The ranking is static: a source marked stale keeps its rank (its data stays, flagged).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tracker.normalize.bill import NormalizedBill
from tracker.scraped import ScrapedBill

AGGREGATOR_RANKS = {"legiscan": 1, "legiscan-dataset": 1, "openstates": 2, "openstates-json": 2}
MERGED_FIELDS = ("title", "summary", "introduced_on", "origin_chamber", "kind", "chapter")


@dataclass(slots=True)
class UpstreamBill(ScrapedBill):
    """A ScrapedBill that also carries the upstream's own identity. None of these fields is part of
    the content hash: LegiScan's change_hash can change while nothing we store changes."""

    upstream_id: str | None = None  # LegiScan bill_id, Open States ocd-bill id
    upstream_scope: str | None = None  # the list the bill belongs to (LegiScan session_id)
    upstream_hash: str | None = None  # LegiScan change_hash


@dataclass(frozen=True, slots=True)
class SourceListing:
    """What a source currently lists, upstream_id -> hash. With a scope (a LegiScan master list of
    one session) the list is complete: stored bills of that source and scope that are missing get
    marked stale (never deleted). Without one (search results) nothing is inferred from absence.
    Listed bills whose hash matches what is stored count as unchanged."""

    source_id: str
    scope: str | None
    entries: dict[str, str] = field(default_factory=dict)
    label: str = ""  # for messages: "LegiScan session 2148, 2025 Regular Session"


@dataclass(frozen=True, slots=True)
class CursorUpdate:
    """A resume point written in the same transaction as the bills it covers."""

    source_id: str
    key: str
    value: str


def source_rank(source_id: str) -> tuple[int, str]:
    """Lower sorts first. Ties (same rank) are broken by id, so the order is always the same."""
    return AGGREGATOR_RANKS.get(source_id, 0), source_id


def source_fields(norm: NormalizedBill) -> dict:
    """The mergeable fields one source supplied, as stored in bill_source.fields (JSON-safe)."""
    bill = norm.scraped
    return {
        "title": bill.title or None,
        "summary": bill.summary or None,
        "introduced_on": bill.introduced_on.isoformat() if bill.introduced_on else None,
        "origin_chamber": bill.origin_chamber,
        "kind": str(bill.kind) if bill.kind else None,
        "chapter": norm.status.chapter or bill.chapter,
        "actions": len(bill.actions),
        "url": bill.source_url,
    }


def merge_fields(candidates: Iterable[tuple[str, dict]]) -> tuple[dict, dict]:
    """(source_id, fields) pairs -> (merged values, provenance). First non-empty value by rank wins."""
    ordered = sorted(candidates, key=lambda pair: source_rank(pair[0]))
    values: dict = {}
    provenance: dict = {}
    for name in MERGED_FIELDS:
        for source_id, fields in ordered:
            value = (fields or {}).get(name)
            if value not in (None, ""):
                values[name], provenance[name] = value, source_id
                break
        else:
            values[name] = None
    return values, provenance


def takes_actions(new_source: str, new_count: int, current_source: str | None,
                  current_count: int | None) -> bool:
    """Does `new_source` become the source of the bill's actions (and so of its status)?"""
    if current_source is None or new_source == current_source:
        return True
    # None: rows stored before per-source fields existed; assume they had actions and go by rank.
    if current_count is not None and (current_count == 0) != (new_count == 0):
        return new_count > 0  # a source with actions beats one without, whatever the rank
    return source_rank(new_source) < source_rank(current_source)
