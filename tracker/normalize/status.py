"""The status engine: classified, dated actions -> canonical status (DOMAIN.md §1.2).

A pure function. The actions are first put in date order (`chronological_order`): a source that
lists newest first is reversed, then a stable sort by date keeps the source's order within a day,
so the same facts give the same status whatever order they arrive in. Rules, in the order they are
applied to each action (oldest first):
* Actions tagged `x-scheduled` (dated after the fetch) are skipped: they never move a status.
* Rungs 1-6 only go up: a referral in the second chamber does not undo `passed_origin`.
  `passage` counts for the chamber that acted: the origin chamber gives `passed_origin`, the
  other `passed_second`. A resolution that needs one chamber is `adopted` on passage; one that
  needs two is `adopted` when the second passes it, unless it is a kind that goes to the executive
  (`executive_resolutions`, e.g. a federal joint resolution): that one climbs like a bill. An
  adopted resolution that is then sent to the Governor moves on (`to_governor`, then the outcome).
* Outcomes: signature / became-law / law without signature -> `enacted`; a veto -> `vetoed` with
  `override_possible` (cleared by a sustained veto, a pocket veto, or the session's end); a veto
  override needs both chambers (one chamber's `veto-override-passage` is a vote, not a law) unless
  the legislature is unicameral or the action says the override is complete
  (`x-override-complete`); failure classes -> `failed` with `failed_how`. A failed bill that
  later passes a chamber or committee is alive again (reconsideration), with that action's date
  and cause; a referral alone does not revive it.
* A signature and a line-item veto on the same bill (one line or two) set `partial_veto`.
* A resolution the Governor signs is a law only with a session-law number (NJ "Approved P.L.2026,
  JR-3"); without one (a TN honorary joint resolution, "Signed by Governor.") it is `adopted`.
  Federal joint resolutions (`executive_resolutions`) go to the President like bills.
* `filing` sets `prefiled` only before the session opens (`session_started`), when that is known.
* A date the action's own text states (fact `on`, OK "Approved by Governor 06/10/2025", entered
  days later) is the status date; the action's date still decides whether it is scheduled.
* A veto's override window closes at `override_until` where a state lets the next session act on it
  (FL art. III §8(b)), otherwise at the session's end.
* `x-carried-over` sets the `carried_over` flag; any later status-moving action clears it.
* If the session is over (`session_ended` is before `as_of`) and the bill is still pending, not
  carried over and not before the Governor, it `failed` / `died_at_adjournment` on the session's
  end date. A carried-over bill dies the same way once its continuation ends
  (`carried_over_until`) with no action after it was continued.
* `x-returned-to-origin` (NY's year-end "died in assembly" then "returned to senate") moves the
  status back to `in_committee`: the origin chamber must pass the bill again. It is not a failure.
* A bill with no status-moving action is `introduced` (it exists): never an empty status.
* `upstream_status` is the status the source itself claims for the whole bill (LegiScan's status
  code and progress, WSL's Status): layer 3 at the bill level. It is taken, marked `upstream`,
  only where it says more than our reading of the actions: a higher rung, or an outcome where our
  status rests on nothing but the calendar or the default. Our own outcome is never replaced.
`basis` says what the status rests on: the layer that classified the deciding action (state or
generic table, upstream labels), the session calendar, or `default` (nothing moved it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from tracker.vocab import LADDER, BillKind, BillStatus, Chamber, EnactedHow, FailedHow, StatusBasis


@dataclass(frozen=True, slots=True)
class StatusAction:
    date: date | None
    classes: tuple[str, ...] | frozenset[str]
    actor: str | None = None
    facts: dict[str, str] = field(default_factory=dict)
    layer: str = StatusBasis.STATE  # the classification layer (tracker.normalize.actions)


@dataclass(frozen=True, slots=True)
class StatusResult:
    status: BillStatus
    status_date: date | None
    enacted_how: EnactedHow | None = None
    failed_how: FailedHow | None = None
    carried_over: bool = False
    override_possible: bool = False
    partial_veto: bool = False
    prefiled: bool = False
    chapter: str | None = None
    incorporated_into: str | None = None
    cause_index: int | None = None  # which action (index in the list given) set the status
    basis: StatusBasis = StatusBasis.DEFAULT


# In order of precedence when one action carries several (VA "Tabled in committee" is a tabling).
_FAILURES = (
    ("x-incorporated", FailedHow.INCORPORATED),
    ("x-tabled", FailedHow.TABLED),
    ("x-died-adjournment", FailedHow.DIED_AT_ADJOURNMENT),
    ("withdrawal", FailedHow.WITHDRAWN),
    ("committee-failure", FailedHow.DIED_IN_COMMITTEE),
    ("failure", FailedHow.DEFEATED),
)
# Classes that prove a failed bill is moving again.
_REVIVING = {"passage", "committee-passage", "committee-passage-favorable", "enrolled", "executive-receipt",
             "x-carried-over"}
_LAYER_BASIS = {"state": StatusBasis.STATE, "generic": StatusBasis.GENERIC, "upstream": StatusBasis.UPSTREAM}


_OUTCOMES = frozenset({BillStatus.ENACTED, BillStatus.VETOED, BillStatus.FAILED, BillStatus.ADOPTED})


def status_rank(status: str | None) -> int:
    """Rungs 0-5 of the ladder, every outcome above them; no status below everything."""
    if status is None:
        return -1
    return len(LADDER) if status in _OUTCOMES else LADDER.index(BillStatus(status))


_rank = status_rank


def _claimed(label: str | None) -> tuple[BillStatus, EnactedHow | FailedHow | None] | None:
    """An upstream status label (`enacted/chaptered`, `passed_origin`) as (status, how)."""
    if not label:
        return None
    name, _, how = label.partition("/")
    try:
        status = BillStatus(name)
        kind = EnactedHow if status == BillStatus.ENACTED else FailedHow if status == BillStatus.FAILED else None
        return status, (kind(how) if kind and how else None)
    except ValueError:
        return None


def _says_more(claimed: BillStatus, ours: BillStatus, basis: StatusBasis) -> bool:
    if ours in _OUTCOMES and basis not in (StatusBasis.CALENDAR, StatusBasis.DEFAULT):
        return False  # our own reading of an outcome is never replaced; a disagreement is recorded
    if claimed in _OUTCOMES:
        return ours not in _OUTCOMES or basis == StatusBasis.CALENDAR
    return _rank(claimed) > _rank(ours)


def _stated_date(action: StatusAction) -> date | None:
    """The date an action's text states for itself (fact `on`: MM/DD/YYYY or M/D/YY), if it reads."""
    raw = action.facts.get("on")
    if not raw:
        return None
    try:
        month, day, year = (int(part) for part in raw.split("/"))
        return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        return None


def chronological_order(dates: Sequence[date | None]) -> list[int]:
    """Indices of actions in date order. A list whose first dated action is later than its last is
    newest first (Open States' Colorado output) and is read backwards; then a stable sort by date
    keeps the source's order within a day. An undated action keeps its place after the dated
    action before it."""
    indices = list(range(len(dates)))
    dated = [d for d in dates if d is not None]
    if len(dated) >= 2 and dated[0] > dated[-1]:
        indices.reverse()
    keys: list[tuple[date, int]] = []
    last = date.min
    for position, index in enumerate(indices):
        when = dates[index]
        last = when if when is not None else last
        keys.append((last, position))
    return [indices[position] for _, position in sorted(keys)]


def derive_status(
    actions: Sequence[StatusAction],
    *,
    kind: str = BillKind.BILL,
    origin_chamber: str | None = None,
    unicameral: bool = False,
    as_of: date,
    session_ended: date | None = None,
    carried_over_until: date | None = None,
    executive_resolutions: bool = False,
    upstream_status: str | None = None,
    session_started: date | None = None,
    override_until: date | None = None,
) -> StatusResult:
    rung = -1  # index into LADDER
    outcome: BillStatus | None = None
    status_date: date | None = None
    enacted_how = failed_how = None
    carried = override = partial = prefiled = signed = line_vetoed = False
    carried_since: date | None = None
    chapter = into = None
    cause: int | None = None
    basis = StatusBasis.DEFAULT
    passed_by: set[str] = set()
    overridden_by: list[str] = []
    climbs_like_bill = kind == BillKind.BILL or (executive_resolutions and kind == BillKind.JOINT_RESOLUTION)
    is_resolution = not climbs_like_bill

    def climb(target: BillStatus) -> bool:
        nonlocal rung
        index = LADDER.index(target)
        if index > rung:
            rung = index
            return True
        return False

    for index in chronological_order([a.date for a in actions]):
        action = actions[index]
        classes = action.classes if isinstance(action.classes, frozenset) else frozenset(action.classes)
        if "x-scheduled" in classes:
            continue
        moved = False
        chapter = action.facts.get("chapter", chapter)
        if "filing" in classes and (session_started is None or action.date is None or action.date < session_started):
            prefiled = True

        if outcome == BillStatus.FAILED and classes & _REVIVING:
            outcome, failed_how, into, moved = None, None, None, True

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
        if classes & {"enrolled", "executive-receipt"}:
            if outcome == BillStatus.ADOPTED and "executive-receipt" in classes and not signed:
                outcome = None  # an adopted resolution sent to the Governor awaits the Governor
            if outcome is None and (not is_resolution or "executive-receipt" in classes):
                moved |= climb(BillStatus.TO_GOVERNOR)

        # Outcomes, strongest evidence last so it wins within one action.
        if classes & {"executive-veto", "x-veto-pending"} and outcome != BillStatus.ENACTED:
            # A veto after a signature is the line-item kind (NY "LINE VETO" beside "SIGNED"); a
            # veto of a bill already law would need a text we have not seen.
            outcome, override, moved = BillStatus.VETOED, True, True
            overridden_by.clear()
        if "veto-override-failure" in classes and (outcome == BillStatus.VETOED or rung == len(LADDER) - 1):
            # Only a bill that was vetoed (or is before the Governor, its veto line unseen) can have
            # its veto sustained; CA's "Stricken from file." must never veto anything else. A pocket
            # veto (a veto that cannot be overridden) carries this class too.
            outcome, override, moved = BillStatus.VETOED, False, True
        if "executive-veto-line-item" in classes:
            line_vetoed = True
        if "executive-signature" in classes:
            signed = True
            if is_resolution and not chapter:
                if outcome not in (BillStatus.ENACTED, BillStatus.ADOPTED):
                    outcome, override, moved = BillStatus.ADOPTED, False, True  # signed, but no law
            elif outcome != BillStatus.ENACTED or enacted_how == EnactedHow.CHAPTERED:
                # A signature says more than a chapter number, whichever of the two lines comes first
                # on the day (VA "Approved by Governor-Chapter 678" and "Acts of Assembly Chapter text").
                outcome, enacted_how, override, moved = BillStatus.ENACTED, EnactedHow.SIGNED, False, True
        if "veto-override-passage" in classes and outcome == BillStatus.VETOED:
            overridden_by.append(action.actor or "?")
            chambers = set(overridden_by)
            if (unicameral or "x-override-complete" in classes or Chamber.LEGISLATURE in chambers
                    or {Chamber.UPPER, Chamber.LOWER} <= chambers or overridden_by.count("?") >= 2):
                outcome, enacted_how, override, moved = (BillStatus.ENACTED, EnactedHow.VETO_OVERRIDDEN,
                                                         False, True)
        if "x-law-without-signature" in classes and outcome != BillStatus.ENACTED:
            outcome, enacted_how, moved = BillStatus.ENACTED, EnactedHow.LAW_WITHOUT_SIGNATURE, True
        if "became-law" in classes and outcome != BillStatus.ENACTED:
            if is_resolution and not action.facts.get("chapter") and outcome != BillStatus.VETOED:
                # A resolution filed without a chapter number (WA "Filed with Secretary of State.")
                # has finished its course: adopted, not a law.
                if outcome != BillStatus.ADOPTED:
                    outcome, moved = BillStatus.ADOPTED, True
            else:
                # A chapter number after a veto is an override we did not see spelled out.
                how = EnactedHow.VETO_OVERRIDDEN if outcome == BillStatus.VETOED else EnactedHow.CHAPTERED
                outcome, enacted_how, override, moved = BillStatus.ENACTED, how, False, True
        if outcome not in (BillStatus.ENACTED, BillStatus.VETOED, BillStatus.ADOPTED):
            for cls, how in _FAILURES:
                if cls in classes:
                    if (outcome, failed_how) != (BillStatus.FAILED, how):
                        outcome, failed_how, moved = BillStatus.FAILED, how, True
                    into = action.facts.get("into") if cls == "x-incorporated" else None
                    break

        if "x-carried-over" in classes and outcome is None:
            carried, carried_since, moved = True, action.date or carried_since, True
        elif moved and carried and "x-carried-over" not in classes:
            carried = False
        if moved:
            status_date, cause = _stated_date(action) or action.date, index
            basis = _LAYER_BASIS.get(action.layer, StatusBasis.STATE)

    status = outcome or (LADDER[rung] if rung >= 0 else BillStatus.INTRODUCED)
    if rung < 0 and outcome is None:
        basis = StatusBasis.DEFAULT  # it exists, so it was introduced; no action says more
    partial = signed and line_vetoed and status == BillStatus.ENACTED
    pending = outcome is None and status != BillStatus.TO_GOVERNOR
    # A bill before the Governor at sine die is not dead: depending on the state, inaction makes it
    # law or a pocket veto. We never guess that; the source's next action will say.
    if pending and not carried and session_ended and session_ended < as_of:
        status, failed_how, status_date, cause, basis = (BillStatus.FAILED, FailedHow.DIED_AT_ADJOURNMENT,
                                                         session_ended, None, StatusBasis.CALENDAR)
    elif (pending and carried and carried_over_until and carried_over_until < as_of
          and (carried_since is None or carried_since <= carried_over_until)):
        status, failed_how, status_date, cause, basis = (BillStatus.FAILED, FailedHow.DIED_AT_ADJOURNMENT,
                                                         carried_over_until, None, StatusBasis.CALENDAR)
        carried = False
    elif outcome == BillStatus.VETOED and override and (override_until or session_ended) \
            and (override_until or session_ended) < as_of:
        override = False  # the override window closed with the session (or the state's later limit)
    claimed = _claimed(upstream_status)
    if claimed is not None and _says_more(claimed[0], status, basis):
        status, basis, cause = claimed[0], StatusBasis.UPSTREAM, None
        enacted_how = claimed[1] if status == BillStatus.ENACTED else None
        failed_how = claimed[1] if status == BillStatus.FAILED else None
        window = override_until or session_ended
        override = status == BillStatus.VETOED and not (window and window < as_of)
        carried = False
        status_date = max((a.date for a in actions if a.date is not None and a.date <= as_of), default=None)
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
        basis=basis,
    )
