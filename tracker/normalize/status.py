"""The status engine: classified, dated actions -> canonical status (DOMAIN.md §1.2).

A pure function. Rules, in the order they are applied to each action (oldest first):
* Actions tagged `x-scheduled` (dated after the fetch) are skipped: they never move a status.
* Rungs 1-6 only go up: a referral in the second chamber does not undo `passed_origin`.
  `passage` counts for the chamber that acted: the origin chamber gives `passed_origin`, the
  other `passed_second`. A resolution that needs one chamber is `adopted` on passage; one
  that needs two is `adopted` when the second passes it (unless a governor then acts on it).
* Outcomes: signature / became-law / law without signature / override -> `enacted`; a veto ->
  `vetoed` with `override_possible` (cleared by a sustained veto); failure classes -> `failed`
  with `failed_how`. A failed bill that later passes a chamber or committee is alive again
  (reconsideration); a referral alone does not revive it.
* `x-carried-over` sets the `carried_over` flag; any later status-moving action clears it.
* If the session is over (`session_ended` is before `as_of`) and the bill is still pending,
  not carried over and not before the Governor, it `failed` / `died_at_adjournment` on the
  session's end date.
* `x-returned-to-origin` (NY's year-end "died in assembly" then "returned to senate") moves the
  status back to `in_committee`: the origin chamber must pass the bill again. It is not a failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from tracker.vocab import LADDER, BillKind, BillStatus, Chamber, EnactedHow, FailedHow


@dataclass(frozen=True, slots=True)
class StatusAction:
    date: date | None
    classes: tuple[str, ...]
    actor: str | None = None
    facts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StatusResult:
    status: BillStatus | None
    status_date: date | None
    enacted_how: EnactedHow | None = None
    failed_how: FailedHow | None = None
    carried_over: bool = False
    override_possible: bool = False
    partial_veto: bool = False
    prefiled: bool = False
    chapter: str | None = None
    incorporated_into: str | None = None
    cause_index: int | None = None  # which action set the status


_FAILURES = {
    "committee-failure": FailedHow.DIED_IN_COMMITTEE,
    "failure": FailedHow.DEFEATED,
    "withdrawal": FailedHow.WITHDRAWN,
    "x-incorporated": FailedHow.INCORPORATED,
    "x-tabled": FailedHow.TABLED,
    "x-died-adjournment": FailedHow.DIED_AT_ADJOURNMENT,
}
# Classes that prove a failed bill is moving again.
_REVIVING = {"passage", "committee-passage", "committee-passage-favorable", "enrolled", "executive-receipt",
             "x-carried-over"}


def derive_status(
    actions: Iterable[StatusAction],
    *,
    kind: str = BillKind.BILL,
    origin_chamber: str | None = None,
    unicameral: bool = False,
    as_of: date,
    session_ended: date | None = None,
) -> StatusResult:
    rung = -1  # index into LADDER
    outcome: BillStatus | None = None
    status_date: date | None = None
    enacted_how = failed_how = None
    carried = override = partial = prefiled = False
    chapter = into = None
    cause = None
    passed_by: set[str] = set()
    is_resolution = kind != BillKind.BILL

    def climb(target: BillStatus) -> bool:
        nonlocal rung
        index = LADDER.index(target)
        if index > rung:
            rung = index
            return True
        return False

    for index, action in enumerate(actions):
        classes = action.classes if isinstance(action.classes, frozenset) else frozenset(action.classes)
        if "x-scheduled" in classes:
            continue
        moved = False
        chapter = action.facts.get("chapter", chapter)
        if "filing" in classes:
            prefiled = True

        if outcome == BillStatus.FAILED and classes & _REVIVING:
            outcome, failed_how = None, None

        if "x-returned-to-origin" in classes and outcome is None:
            # The status moves backwards on purpose: the origin chamber must pass it again.
            rung, moved = LADDER.index(BillStatus.IN_COMMITTEE), True
            passed_by.clear()
        if classes & {"filing", "introduction", "reading-1"}:
            moved |= climb(BillStatus.INTRODUCED)
        if classes & {"referral-committee", "referral"}:
            moved |= climb(BillStatus.IN_COMMITTEE)
        if classes & {"committee-passage", "committee-passage-favorable"}:
            moved |= climb(BillStatus.PASSED_COMMITTEE)
        if "passage" in classes and outcome is None:
            actor = action.actor or origin_chamber
            passed_by.add(actor or "?")
            if unicameral or actor == Chamber.LEGISLATURE:
                moved |= climb(BillStatus.PASSED_SECOND)
            elif actor == origin_chamber or origin_chamber is None and len(passed_by) == 1:
                moved |= climb(BillStatus.PASSED_ORIGIN)
            else:
                moved |= climb(BillStatus.PASSED_SECOND)
            needed = 1 if unicameral or kind == BillKind.RESOLUTION else 2
            if is_resolution and len(passed_by) >= needed:
                outcome, moved = BillStatus.ADOPTED, True
        if classes & {"enrolled", "executive-receipt"} and not (is_resolution and outcome is not None):
            if not is_resolution or "executive-receipt" in classes:
                moved |= climb(BillStatus.TO_GOVERNOR)

        # Outcomes, strongest evidence last so it wins within one action.
        if "executive-veto" in classes:
            outcome, override, moved = BillStatus.VETOED, True, True
        if "x-veto-pending" in classes:
            outcome, override, moved = BillStatus.VETOED, True, True
        if "veto-override-failure" in classes and (outcome == BillStatus.VETOED or rung == len(LADDER) - 1):
            # Only a bill that was vetoed (or is before the Governor, its veto line unseen) can have
            # its veto sustained; CA's "Stricken from file." must never veto anything else.
            outcome, override, moved = BillStatus.VETOED, False, True
        if "executive-veto-line-item" in classes and "executive-signature" in classes:
            partial = True
        if "executive-signature" in classes:
            outcome, enacted_how, override, moved = BillStatus.ENACTED, EnactedHow.SIGNED, False, True
        if "veto-override-passage" in classes and outcome == BillStatus.VETOED:
            outcome, enacted_how, override, moved = BillStatus.ENACTED, EnactedHow.VETO_OVERRIDDEN, False, True
        if "x-law-without-signature" in classes:
            outcome, enacted_how, moved = BillStatus.ENACTED, EnactedHow.LAW_WITHOUT_SIGNATURE, True
        if "became-law" in classes and outcome != BillStatus.ENACTED:
            if is_resolution and not action.facts.get("chapter") and outcome != BillStatus.VETOED:
                # A resolution filed without a chapter number (WA "Filed with Secretary of State.")
                # has finished its course: adopted, not a law.
                outcome, moved = BillStatus.ADOPTED, True
            else:
                # A chapter number after a veto is an override we did not see spelled out.
                how = EnactedHow.VETO_OVERRIDDEN if outcome == BillStatus.VETOED else EnactedHow.CHAPTERED
                outcome, enacted_how, override, moved = BillStatus.ENACTED, how, False, True
        if outcome not in (BillStatus.ENACTED, BillStatus.VETOED, BillStatus.ADOPTED):
            for cls, how in _FAILURES.items():
                if cls in classes:
                    outcome, failed_how, moved = BillStatus.FAILED, how, True
                    if cls == "x-incorporated":
                        into = action.facts.get("into")
                    break

        if "x-carried-over" in classes and outcome is None:
            carried, moved = True, True
        elif moved and carried and "x-carried-over" not in classes:
            carried = False
        if moved:
            status_date, cause = action.date, index

    status = outcome or (LADDER[rung] if rung >= 0 else None)
    pending = outcome is None or (outcome == BillStatus.VETOED and override)
    # A bill before the Governor at sine die is not dead: depending on the state, inaction makes it
    # law or a pocket veto. We never guess that; the source's next action will say.
    if (session_ended and session_ended < as_of and outcome is None and not carried
            and status not in (None, BillStatus.TO_GOVERNOR)):
        status, failed_how, status_date, cause = BillStatus.FAILED, FailedHow.DIED_AT_ADJOURNMENT, session_ended, None
    elif session_ended and session_ended < as_of and outcome == BillStatus.VETOED and pending:
        override = False  # the override window closed with the session
    return StatusResult(
        status=status,
        status_date=status_date,
        enacted_how=enacted_how if status == BillStatus.ENACTED else None,
        failed_how=failed_how if status == BillStatus.FAILED else None,
        carried_over=carried,
        override_possible=override if status == BillStatus.VETOED else False,
        partial_veto=partial,
        prefiled=prefiled,
        chapter=chapter,
        incorporated_into=into,
        cause_index=cause,
    )
