"""Closed vocabularies: action classes, canonical statuses and their how-fields (DOMAIN.md §1-2)."""

from __future__ import annotations

from enum import StrEnum

# The 31 Open States / OCD action classes.
OCD_ACTION_CLASSES: frozenset[str] = frozenset(
    """
    filing introduction reading-1 reading-2 reading-3 receipt
    referral referral-committee
    committee-passage committee-passage-favorable committee-passage-unfavorable committee-failure
    passage failure withdrawal substitution deferral enrolled
    amendment-introduction amendment-passage amendment-withdrawal amendment-failure amendment-amendment
    amendment-deferral
    executive-receipt executive-signature executive-veto executive-veto-line-item
    veto-override-passage veto-override-failure
    became-law
    """.split()
)

# Our extensions; the x- prefix keeps them apart from OCD classes.
EXTENSION_CLASSES: frozenset[str] = frozenset(
    {
        "x-carried-over",  # continued to the next session: sets the carried_over flag
        "x-died-adjournment",  # failed at sine die
        "x-incorporated",  # merged into another bill
        "x-law-without-signature",
        "x-veto-pending",  # override still possible / pending
        "x-override-complete",  # the veto override is complete (both chambers, or a whole-legislature statement)
        "x-tabled",  # a state rule says this tabling or deferral ends the bill (VA "Passed by indefinitely")
        "x-returned-to-origin",  # NY two-year session: back to the origin chamber's committee in year 2
        "x-scheduled",  # dated after the fetch: never moves status, never alerts
        "x-procedural",  # recognised, no status effect
    }
)

UNCLASSIFIED = "unclassified"
ACTION_CLASSES: frozenset[str] = OCD_ACTION_CLASSES | EXTENSION_CLASSES | {UNCLASSIFIED}


class BillStatus(StrEnum):
    INTRODUCED = "introduced"
    IN_COMMITTEE = "in_committee"
    PASSED_COMMITTEE = "passed_committee"
    PASSED_ORIGIN = "passed_origin"
    PASSED_SECOND = "passed_second"
    TO_GOVERNOR = "to_governor"
    ENACTED = "enacted"
    VETOED = "vetoed"
    FAILED = "failed"
    ADOPTED = "adopted"  # resolutions only


# Rungs 1-6 of the ladder, in order; the outcomes sit outside this order.
LADDER: tuple[BillStatus, ...] = (
    BillStatus.INTRODUCED,
    BillStatus.IN_COMMITTEE,
    BillStatus.PASSED_COMMITTEE,
    BillStatus.PASSED_ORIGIN,
    BillStatus.PASSED_SECOND,
    BillStatus.TO_GOVERNOR,
)


class StatusBasis(StrEnum):
    """What a derived status rests on (DOMAIN.md §2.2): which layer classified the deciding action."""

    STATE = "state"  # our table for this state
    GENERIC = "generic"  # our generic table (phrasing most legislatures share)
    UPSTREAM = "upstream"  # the source's own labels (Open States classes, LegiScan progress): not our rules
    CALENDAR = "calendar"  # the session calendar: died at adjournment when the session ended
    DEFAULT = "default"  # no action moved the status: a bill that exists is at least introduced


class EnactedHow(StrEnum):
    SIGNED = "signed"
    LAW_WITHOUT_SIGNATURE = "law_without_signature"
    VETO_OVERRIDDEN = "veto_overridden"
    CHAPTERED = "chaptered"


class FailedHow(StrEnum):
    DIED_IN_COMMITTEE = "died_in_committee"
    DEFEATED = "defeated"
    DIED_AT_ADJOURNMENT = "died_at_adjournment"
    TABLED = "tabled"
    WITHDRAWN = "withdrawn"
    INCORPORATED = "incorporated"


class Chamber(StrEnum):
    UPPER = "upper"
    LOWER = "lower"
    LEGISLATURE = "legislature"  # unicameral, or a joint body
    EXECUTIVE = "executive"
    CONFERENCE = "conference"


class BillKind(StrEnum):
    BILL = "bill"
    RESOLUTION = "resolution"  # one chamber
    JOINT_RESOLUTION = "joint_resolution"  # both chambers
    CONCURRENT_RESOLUTION = "concurrent_resolution"  # both chambers
