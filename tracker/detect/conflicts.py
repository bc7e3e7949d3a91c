"""Conflicts (DOMAIN.md §5): where federal preemption moves reach state AI laws, and where state laws
overlap each other. Pure functions on plain facts; tracker/detect/pipeline.py feeds them the stored
laws, instruments and seed links, stores the findings, and records each new, changed or ended link
once as an event.

Relations:
* from the reviewable seed (`tracker/data/conflict_links.csv`), as sourced: `named_target`,
  `challenged`, `enjoined`, `amended_in_response`, `carved_out`, `in_preemption_scope`;
* derived, for every enacted state AI law and every instrument whose preemption reach is written in
  `tracker/data/preemption_scope.csv` (topics reached, obligations, carve-outs):
  - `carved_out` when every topic of the law is one the instrument exempts;
  (neither for a move that was struck, withdrawn or revoked: it reaches nothing any more)
  - `in_preemption_scope` when a topic of the law falls in the reach and outside the carve-outs:
    a judgement call, so M at most (DOMAIN.md §5) and never above the instrument's own confidence;
* `overlaps`, state against state: two AI bills of different states whose texts are near copies
  (tracker/detect/similar.py) where at least one is law: one state copying another, or model
  legislation, with their statuses and effective dates side by side.
Every finding has a reason in plain words, its evidence, a confidence, the force of the federal move
(law, proposed or directed: an order directs federal actors, it does not displace state law) and a
source URL.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from tracker.federal import confidence_levels, force_label, lowest_level

CONFLICTS_VERSION = "1"
ENDED_STATUSES = frozenset({"struck", "withdrawn", "revoked"})  # moves that no longer reach any law
OVERLAP_MIN_SCORE = 0.6  # a near copy (helper measure: 97% of companions score >= 0.5)
_LEVEL_NAMES = {1: "L", 2: "M", 3: "H"}


@dataclass(frozen=True)
class Law:
    key: str
    state: str
    identifier: str
    title: str
    status: str
    relevance: str | None
    topics: tuple[str, ...]
    obligations: tuple[str, ...]
    source_url: str | None
    effective: tuple[str, ...] = ()  # ISO dates


@dataclass(frozen=True)
class Instrument:
    key: str
    kind: str
    title: str
    status: str | None
    confidence: str
    source_url: str | None
    fr_type: str | None = None

    @property
    def force(self) -> str:
        force = force_label(self.kind, self.status, self.fr_type)
        return f"{force} ({self.status})" if self.status else force


@dataclass(frozen=True)
class Scope:
    instrument_key: str
    provision: str | None
    reaches: frozenset[str]  # topic slugs; "*" is every AI law
    obligations: frozenset[str]
    carve_outs: frozenset[str]
    reason: str


@dataclass(frozen=True)
class SeedLink:
    law_key: str
    instrument_key: str
    relation: str
    provision: str | None
    source_url: str | None
    confidence: str
    note: str | None
    state_law: str


@dataclass(frozen=True)
class Finding:
    law_key: str
    relation: str
    reason: str
    confidence: str
    origin: str  # seed | derived
    instrument_key: str | None = None
    other_key: str | None = None
    provision: str | None = None
    force: str | None = None
    source_url: str | None = None
    evidence: tuple[dict, ...] = field(default=(), compare=False)

    @property
    def link_key(self) -> str:
        text = "|".join(str(x) for x in (self.law_key, self.instrument_key, self.other_key, self.relation,
                                         self.provision, self.origin))
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


@cache
def scopes(path: str | None = None) -> tuple[Scope, ...]:
    text = (open(path, encoding="utf-8").read() if path
            else (resources.files("tracker") / "data" / "preemption_scope.csv").read_text(encoding="utf-8"))
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    split = lambda value: frozenset(v.strip() for v in (value or "").split(";") if v.strip())  # noqa: E731
    return tuple(Scope(r["instrument_key"].strip(), r["provision"].strip() or None, split(r["reaches"]),
                       split(r["obligations"]), split(r["carve_outs"]), r["reason"].strip()) for r in rows)


def capped(confidence: str, cap: str = "M") -> str:
    """The lower of a confidence (its lowest level when qualified, "H (text), M (CA mention)") and `cap`."""
    level = min(lowest_level(confidence) if confidence_levels(confidence) else 1, {"L": 1, "M": 2, "H": 3}[cap])
    return _LEVEL_NAMES[level]


def _label(law: Law) -> str:
    return f"{law.state.upper()} {law.identifier} ({law.title[:70]})"


def federal_findings(laws: Iterable[Law], instruments: dict[str, Instrument], seed: Iterable[SeedLink],
                     scope_rows: Sequence[Scope] | None = None, topic_labels: dict[str, str] | None = None
                     ) -> list[Finding]:
    """Seed links as sourced, then the derived scope links of every enacted AI law."""
    topic_labels = topic_labels or {}
    scope_rows = scopes() if scope_rows is None else scope_rows
    findings: list[Finding] = []
    seeded: set[tuple[str, str]] = set()
    for link in seed:
        instrument = instruments.get(link.instrument_key)
        if instrument is None:
            continue
        seeded.add((link.law_key, link.instrument_key))
        reason = (f"{instrument.title}{' ' + link.provision if link.provision else ''}: "
                  f"{link.relation.replace('_', ' ')} {link.state_law} (reviewed seed link; this move is "
                  f"{instrument.force})" + (f". {link.note}" if link.note else ""))
        findings.append(Finding(link.law_key, link.relation, reason, link.confidence, "seed", instrument.key,
                                provision=link.provision, force=instrument.force,
                                source_url=link.source_url or instrument.source_url,
                                evidence=({"seed": "tracker/data/conflict_links.csv", "state_law": link.state_law},)))
    for law in laws:
        if law.status != "enacted" or law.relevance not in ("core", "adjacent"):
            continue
        topics = set(law.topics)
        for scope in scope_rows:
            instrument = instruments.get(scope.instrument_key)
            if instrument is None or (law.key, instrument.key) in seeded:
                continue  # a sourced link says more than our reading
            if instrument.status in ENDED_STATUSES:
                continue  # struck, withdrawn or revoked: it reaches nothing now (seed links keep the history)
            named = ", ".join(topic_labels.get(t, t) for t in sorted(topics)) or "no recognised topic"
            exempt = topics & scope.carve_outs
            if topics and exempt == topics:
                findings.append(Finding(
                    law.key, "carved_out",
                    f"{instrument.title}{' ' + scope.provision if scope.provision else ''} exempts "
                    f"{', '.join(topic_labels.get(t, t) for t in sorted(exempt))}, which is all {_label(law)} is "
                    f"about ({scope.reason})", capped(instrument.confidence), "derived", instrument.key,
                    provision=scope.provision, force=instrument.force, source_url=instrument.source_url,
                    evidence=({"law_topics": sorted(topics), "carve_outs": sorted(scope.carve_outs)},)))
                continue
            reached = topics - scope.carve_outs if "*" in scope.reaches else (topics & scope.reaches) - scope.carve_outs
            if "*" in scope.reaches and not topics:
                reached = {"(an AI law)"}
            if not reached:
                continue
            if scope.obligations and not set(law.obligations) & scope.obligations:
                continue
            tags = f"; its obligations: {', '.join(sorted(set(law.obligations) & scope.obligations))}" \
                if scope.obligations else ""
            findings.append(Finding(
                law.key, "in_preemption_scope",
                f"{instrument.title}{' ' + scope.provision if scope.provision else ''} reaches "
                f"{'every state AI law' if '*' in scope.reaches else 'laws on ' + ', '.join(sorted(scope.reaches))}; "
                f"{_label(law)} is about {named}{tags}, outside its carve-outs "
                f"({', '.join(sorted(scope.carve_outs)) or 'none'}). A reading of the text, not a named target; "
                f"this move is {instrument.force}", capped(instrument.confidence), "derived", instrument.key,
                provision=scope.provision, force=instrument.force, source_url=instrument.source_url,
                evidence=({"law_topics": sorted(topics), "reaches": sorted(scope.reaches),
                           "carve_outs": sorted(scope.carve_outs), "scope_reason": scope.reason},)))
    return findings


@dataclass(frozen=True)
class SimilarPair:
    a: str
    b: str
    score: float
    shared: tuple[str, ...]


def overlap_findings(laws: dict[str, Law], pairs: Iterable[SimilarPair], min_score: float = OVERLAP_MIN_SCORE
                     ) -> list[Finding]:
    """State against state: near-copy AI bills of different states, at least one of them law."""
    findings: dict[tuple[str, str], Finding] = {}
    for pair in pairs:
        a, b = laws.get(pair.a), laws.get(pair.b)
        if a is None or b is None or a.state == b.state or pair.score < min_score:
            continue
        if "enacted" not in (a.status, b.status) or not {a.relevance, b.relevance} <= {"core", "adjacent"}:
            continue
        first, second = sorted((a, b), key=lambda law: law.key)
        if (first.key, second.key) in findings:
            continue
        dates = ""
        if first.effective or second.effective:
            dates = (f"; effective {', '.join(first.effective) or 'unknown'} and "
                     f"{', '.join(second.effective) or 'unknown'}")
        passage = f": “{pair.shared[0]}”" if pair.shared else ""
        reason = (f"{_label(first)} ({first.status}) and {_label(second)} ({second.status}) share their wording "
                  f"(similarity {pair.score:.2f}){passage}{dates}. One may copy the other, or both a model bill; "
                  "their duties may still differ")
        confidence = "M" if pair.score >= 0.8 else "L"
        for law, other in ((first, second), (second, first)):
            findings[(law.key, other.key)] = Finding(
                law.key, "overlaps", reason, confidence, "derived", other_key=other.key,
                source_url=law.source_url, evidence=({"score": pair.score, "shared": list(pair.shared)},))
    return list(findings.values())
