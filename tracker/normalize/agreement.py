"""How our statuses compare with an upstream's own labels, for a whole saved session.

Open States labels each action with OCD classes. Read on their own, in date order, those labels
name a final outcome: `enacted` (a signature, `became-law`, or an override after a veto) or
`vetoed` (a veto with nothing after it that makes law). Outcomes are compared for bills, the
legislation that can become law: a resolution the Governor signs is `adopted` for us unless it has a
session-law number, and Open States' labels cannot tell the two apart, so resolutions are counted
(`resolutions`) but not compared. `compare_session` derives our status for
every bill of a session and sets it beside that outcome, bill by bill, so a disagreement can be
read and reviewed. It also counts actions and distinct strings left unclassified: by us (after
every layer), by us without the upstream layer, and by Open States itself (no label at all).

Used by `tests/test_session_statuses.py` (the targets) and `benchmarks/status_agreement.py` (the
README table). Runs on parsed bills only: nothing is stored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracker.normalize.bill import NormalizedBill, normalize_bill
from tracker.normalize.status import chronological_order
from tracker.scraped import ScrapedBill

OUTCOMES = ("enacted", "vetoed")


def upstream_outcome(bill: ScrapedBill) -> str | None:
    """The final outcome Open States' own action labels name, or None (still pending, failed...)."""
    outcome = None
    for index in chronological_order([a.date for a in bill.actions]):
        labels = set(bill.actions[index].source_classes)
        if "executive-veto" in labels and outcome != "enacted":
            outcome = "vetoed"
        if labels & {"executive-signature", "became-law"}:
            outcome = "enacted"
        if "veto-override-passage" in labels and outcome == "vetoed":
            outcome = "enacted"
    return outcome


@dataclass
class Disagreement:
    key: str
    upstream: str | None
    ours: str
    basis: str
    decisive: str  # the action text that decided our status, or what the upstream labelled


@dataclass
class SessionReport:
    label: str
    bills: int = 0
    problems: list[str] = field(default_factory=list)
    upstream: Counter = field(default_factory=Counter)  # outcome -> bills
    ours: Counter = field(default_factory=Counter)
    both: Counter = field(default_factory=Counter)
    disagreements: list[Disagreement] = field(default_factory=list)
    without_status: int = 0
    resolutions: int = 0  # not compared (see the module docstring)
    basis: Counter = field(default_factory=Counter)
    actions: int = 0
    unclassified_actions: int = 0  # by us, every layer
    unclassified_by_rules: int = 0  # by our tables alone (before the upstream layer)
    upstream_unlabelled: int = 0  # Open States gave no class at all
    strings: set[str] = field(default_factory=set)
    unclassified_strings: Counter = field(default_factory=Counter)
    unclassified_by_rules_strings: set[str] = field(default_factory=set)
    upstream_unlabelled_strings: set[str] = field(default_factory=set)

    def agreement(self, outcome: str) -> float | None:
        """Bills both call `outcome` / bills either calls `outcome` (None when neither does)."""
        either = self.upstream[outcome] + self.ours[outcome] - self.both[outcome]
        return self.both[outcome] / either if either else None

    def recall(self, outcome: str) -> float | None:
        """Of the bills Open States' labels call `outcome`, the share we call so too."""
        return self.both[outcome] / self.upstream[outcome] if self.upstream[outcome] else None

    def share(self, count: int, of: int) -> float:
        return count / of if of else 0.0


def _shape(text: str) -> str:
    """A string's shape for counting distinct strings: digits folded (`Ayes: 80` ~ `Ayes: 81`)."""
    return re.sub(r"\d+", "#", " ".join(text.split()))


def compare_session(label: str, items: Iterable, *, own_table: bool = True) -> SessionReport:
    """`items` are parsed items (ScrapedBill or problems) of one session."""
    report = SessionReport(label)
    for item in items:
        if not isinstance(item, ScrapedBill):
            report.problems.append(getattr(item, "message", str(item)))
            continue
        norm = normalize_bill(item, own_table=own_table)
        _count(report, norm)
    return report


def _count(report: SessionReport, norm: NormalizedBill) -> None:
    report.bills += 1
    status = norm.status
    if not status.status:
        report.without_status += 1
    report.basis[str(status.basis)] += 1
    _count_actions(report, norm)
    if norm.scraped.kind != "bill":
        report.resolutions += 1
        return
    ours = str(status.status) if str(status.status) in OUTCOMES else None
    theirs = upstream_outcome(norm.scraped)
    for outcome in OUTCOMES:
        report.ours[outcome] += ours == outcome
        report.upstream[outcome] += theirs == outcome
        report.both[outcome] += ours == outcome == theirs
    if (ours or theirs) and ours != theirs and (ours in OUTCOMES or theirs in OUTCOMES):
        decisive = (norm.actions[status.cause_index].text if status.cause_index is not None
                    else f"({status.basis})")
        report.disagreements.append(Disagreement(norm.key, theirs, str(status.status), str(status.basis), decisive))


def _count_actions(report: SessionReport, norm: NormalizedBill) -> None:
    for action, classified in zip(norm.actions, norm.classifications, strict=True):
        shape = _shape(action.text)
        report.actions += 1
        report.strings.add(shape)
        if classified.unclassified:
            report.unclassified_actions += 1
            report.unclassified_strings[shape] += 1
        if classified.layer in ("upstream", "none"):
            report.unclassified_by_rules += 1
            report.unclassified_by_rules_strings.add(shape)
        if not action.source_classes:
            report.upstream_unlabelled += 1
            report.upstream_unlabelled_strings.add(shape)


def unclassified_share(report: SessionReport) -> float:
    return report.share(report.unclassified_actions, report.actions)

