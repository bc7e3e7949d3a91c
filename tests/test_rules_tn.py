"""Tennessee action rules (tracker/normalize/rules/tn.toml): real TN strings -> our classes, the whole
114th General Assembly and its First Extraordinary Session measured against Open States' own labels,
and the session calendars (tracker/data/sessions/tn.toml)."""

from datetime import UTC, date, datetime

import pytest

from tests.conftest import session_items, session_report
from tracker.calendar import session_calendar
from tracker.normalize.actions import classify
from tracker.normalize.agreement import unclassified_share
from tracker.normalize.bill import normalize_bill
from tracker.scraped import ScrapedBill
from tracker.vocab import BillKind

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)  # every whole-session figure is judged as of this fetch

# Real strings from tn_114.jsonl.gz / tn_114S1.jsonl.gz and the classes we expect, written from reading
# each string (runs of spaces collapsed, as classify() does).
TN_CASES = [
    # The Governor and chapters
    ("Signed by Governor.", ("executive-signature",)),
    ("Vetoed by Governor.", ("executive-veto",)),
    # Open States: no label. Returned without objections, SB 27 became Pub. Ch. 153.
    ("Returned by Governor without signature.", ("x-law-without-signature", "became-law")),
    ("Pub. Ch. 331", ("became-law",)),
    ("Pr. Ch. 3", ("became-law",)),
    # The COMPANION became law: this bill's text went on in it.
    ("Comp. became Pub. Ch. 225", ("x-incorporated",)),
    ("Comp. became Pr. Ch. 1", ("x-incorporated",)),
    ("Transmitted to Governor for his action.", ("executive-receipt",)),
    ("Transmitted to Governor for action.", ("executive-receipt",)),
    ("Enrolled; ready for sig. of H. Speaker.", ("enrolled",)),
    ("Enrolled and ready for signatures", ("enrolled",)),
    # Open States: `passage`. The Speakers sign the enrolled bill: no vote.
    ("Signed by H. Speaker", ("x-procedural",)),
    ("Signed by Senate Speaker", ("x-procedural",)),
    ("Effective date(s) 05/02/2025", ("x-procedural",)),
    # Companions: the bill that stops ...
    ("Comp. SB subst.", ("substitution", "x-incorporated")),
    ("Companion House Bill substituted", ("substitution", "x-incorporated")),
    ("H. subst. SJR 1", ("substitution", "x-incorporated")),
    ("Companion HJR 172 substituted for SJR", ("substitution", "x-incorporated")),
    # ... and the bill that goes on
    ("Senate substituted House Bill for companion Senate Bill.", ("substitution",)),
    ("Senate substituted HJR for SJR 0106", ("substitution",)),
    ("Subst. for comp. HB.", ("substitution",)),
    ("Subst. for comp. HJR 2", ("substitution",)),
    # Ends of a bill
    ("Withdrawn.", ("withdrawal",)),
    ("Failed in s/c Criminal Justice Subcommittee of Judiciary Committee", ("committee-failure",)),
    ("Failed in Senate Judiciary Committee", ("committee-failure",)),
    ("Failed for lack of second in: Banking & Consumer Affairs Subcommittee", ("committee-failure",)),
    # Every "Failed to adopt" of the session is an amendment (the generic table: a floor failure).
    ("Failed to adopt H. Am No. 3, Ayes 20, Nays 72, PNV 0", ("amendment-failure",)),
    ("Failed to adopt, Ayes 17, Nays 75, PNV 0", ("amendment-failure",)),
    ("Def. to Summer Study in Criminal Justice Subcommittee", ("deferral",)),
    # Floor: amendments are not the bill passing
    ("H. adopted am. (Amendment 1 - HA0049)", ("amendment-passage",)),
    ("Senate adopted Amendment (Amendment 1 - SA0038)", ("amendment-passage",)),  # generic: passage
    ("Am. withdrawn. (Amendment 1 - HA0202)", ("amendment-withdrawal",)),
    ("Amendment withdrawn. (Amendment 1 - SA0189)", ("amendment-withdrawal",)),
    ("Am. tabled. (Amendment 2 - HA0312)", ("amendment-deferral",)),
    ("Passed H., Ayes 93, Nays 0, PNV 2", ("passage",)),
    ("Passed H., as am., Ayes 60, Nays 30, PNV 2", ("passage",)),
    ("Passed Senate, Ayes 31, Nays 0", ("passage",)),
    ("Passed Senate as amended, Ayes 20, Nays 10", ("passage",)),
    # Open States: `passage`. The second consideration comes before committee.
    ("Passed on Second Consideration, refer to Senate Education Committee", ("reading-2", "referral-committee")),
    ("Passed on Second Consideration, held on desk. Local Bill", ("reading-2",)),
    ("Passed 2nd Reading, Senate Reset on calendar for 3/26/2025", ("reading-2",)),
    ("Passed First Reading", ("reading-1",)),
    ("Adopted, Ayes 95, Nays 0, PNV 0", ("passage",)),
    ("Concurred, Ayes 33, Nays 0", ("passage",)),
    ("Concurred, Ayes 26, Nays 6 (Amendment 2 - HA0462)", ("passage",)),
    ("Rules Suspended, Concurred, voice vote", ("passage",)),  # generic: procedural ("Rules suspended")
    ("R/S Intro., adopted v.v.", ("introduction", "passage")),
    ("H. concurred in S. am. no. 1 Ayes 85, Nays 7 PNV 0 HB0056", ("passage",)),
    ("Conference Committee report adopted, Ayes 31, Nays 0", ("passage",)),
    ("H. nonconcurred in S. am. no. 1 HB1133", ("x-procedural",)),
    ("Senate refused to recede from its non-concurrence.", ("x-procedural",)),
    ("Engrossed; ready for transmission to Sen.", ("x-procedural",)),
    # Committees
    # A subcommittee's recommendation only sends the bill to its full committee (Open States:
    # committee-passage-favorable).
    ("Rec. for pass by s/c ref. to Education Committee", ("referral-committee",)),
    ("Rec for pass if am by s/c ref. to Judiciary Committee", ("referral-committee",)),
    ("Rec. for pass; ref to Calendar & Rules Committee", ("committee-passage-favorable", "referral-committee")),
    ("Rec. for pass. if am., ref. to Finance, Ways, and Means Committee",
     ("committee-passage-favorable", "referral-committee")),
    ("Recommended for passage with amendment/s, refer to Senate Calendar Committee Ayes 6, Nays 3 PNV 0",
     ("committee-passage-favorable", "referral-committee")),
    ("Recommended for adoption by Senate Education Committee, refer Senate Calendar Committee",
     ("committee-passage-favorable", "referral-committee")),
    ("Refer to Senate Finance, Ways & Means Committee w/ negative recommendation",
     ("committee-passage-unfavorable", "referral-committee")),
    ("ref to State & Local Government Committee with a Negative Recommendation",
     ("committee-passage-unfavorable", "referral-committee")),
    ("Refer to Senate Finance, Ways & Means Committee w/ recommendation",
     ("committee-passage-favorable", "referral-committee")),
    ("P2C, ref. to Judiciary Committee - Government Operations for Review", ("reading-2", "referral-committee")),
    ("Ref. to Education Committee", ("referral-committee",)),
    ("Assigned to s/c K-12 Subcommittee", ("referral-committee",)),
    ("Assigned to General Subcommittee of Senate Judiciary Committee", ("referral-committee",)),
    ("Re-refer to S. Cal Comm", ("referral-committee",)),
    ("Re-ref. Calendar & Rules Committee", ("referral-committee",)),
    # Introduction and readings
    ("Filed for introduction", ("introduction",)),
    ("Intro., P1C.", ("introduction", "reading-1")),
    ("Introduced, Passed on First Consideration", ("introduction", "reading-1")),
    ("Intro., ref. to Education Committee", ("introduction", "referral-committee")),
    ("Intro., placed on H. consent cal. 1/15/2025", ("introduction",)),
    ("Received from House, Passed on First Consideration", ("receipt", "reading-1")),
    ("Received from House, refer to Senate Calendar Committee", ("receipt", "referral-committee")),
    ("Rcvd. from S., held on H. desk.", ("receipt",)),
    ("P2C held on desk, pending appointment of Standing Committees", ("reading-2",)),
    ("P2C, caption bill, held on desk - pending amdt.", ("reading-2",)),
    # Calendars, agendas, sponsors
    ("Placed on s/c cal Finance, Ways, and Means Subcommittee for 3/19/2025", ("x-procedural",)),
    ("Placed on cal. State & Local Government Committee for 3/5/2025", ("x-procedural",)),
    ("Placed on Senate Consent Calendar for 1/27/2025", ("x-procedural",)),
    ("H. Placed on Regular Calendar for 3/10/2025", ("x-procedural",)),
    ("SJR placed on H. consent cal. for 2/12/2025", ("x-procedural",)),
    ("Action def. in State & Local Government Committee to 3/12/2025", ("x-procedural",)),
    ("Action deferred in Senate Judiciary Committee to 4/1/2025", ("x-procedural",)),
    ("Taken off notice for cal in s/c Criminal Justice Subcommittee of Judiciary Committee", ("x-procedural",)),
    ("Placed behind the budget", ("x-procedural",)),
    ("Rule #83(8) Suspended, to be heard in Senate Finance, Ways & Means Committee on 4/22/25", ("x-procedural",)),
    ("Senate Reset on calendar for 3/20/2025", ("x-procedural",)),
    ("Returned to the Clerk's Desk.", ("x-procedural",)),
    ("Objected to on Consent Calendar.", ("x-procedural",)),
    ("Sponsor(s) Added.", ("x-procedural",)),
    ("Sponsor change.", ("x-procedural",)),
]


@pytest.mark.parametrize("text, expected", TN_CASES)
def test_tennessee_rules(text, expected):
    result = classify("tn", text)
    assert result.classes == expected
    assert result.layer == "state"


def test_facts_chapter_and_incorporating_bill():
    assert classify("tn", "Pub. Ch. 331").facts == {"chapter": "331"}
    assert classify("tn", "Pr. Ch. 3").facts == {"chapter": "Pr. Ch. 3"}  # its own number series
    assert classify("tn", "Comp. became Pub. Ch. 225").facts == {}  # the companion's number, not this bill's
    assert classify("tn", "H. subst. & concurred in SJR 95").facts == {"into": "SJR 95"}
    assert classify("tn", "Companion HJR 172 substituted for SJR").facts == {"into": "HJR 172"}


def test_unknown_text_is_unclassified_not_guessed():
    assert classify("tn", "Zorbled by the Sergeant at Arms").unclassified


def test_calendars():
    regular = session_calendar("tn", "114")
    # Upper bound: the 114th General Assembly ends with its Representatives' terms (art. II §3) on
    # the general election day; the 2026 sine die is not in the snapshot.
    assert (regular.start_date, regular.final_action_date, regular.carry_over) == (
        date(2025, 1, 14), date(2026, 11, 3), "none")
    special = session_calendar("tn", "114S1")
    assert (special.start_date, special.final_action_date, special.carry_over) == (
        date(2025, 1, 27), date(2025, 2, 22), "none")


def _read(name):
    items = session_items(name)
    return {i.identifier: i for i in items if isinstance(i, ScrapedBill)}, session_report(name)


@pytest.fixture(scope="module")
def session_114():
    return _read("tn_114")


@pytest.fixture(scope="module")
def session_114s1():
    return _read("tn_114S1")


# Every bill where our enacted/vetoed outcome differs from the one Open States' labels name:
# key -> (Open States, ours), after reading the bill's actions.
KNOWN_DISAGREEMENTS = {
    # WE ARE RIGHT. "Transmitted to Governor for action." (2025-03-26), "Returned by Governor without
    # signature." (2025-04-03), then "Pub. Ch. 153" (2025-06-04): a law without the Governor's signature
    # (Tenn. Const. art. III §18). Open States gives the return line no label, so its labels never
    # reach an outcome.
    "tn-114-SB27": (None, "enacted"),
}


def test_whole_session_114_is_read_by_our_tables(session_114):
    _, report = session_114
    assert (report.bills, report.actions, report.problems, report.without_status) == (6098, 59521, [], 0)
    assert unclassified_share(report) <= 0.03
    # Every action is read by the Tennessee table; Open States leaves 29.4% of them without a label.
    assert (report.unclassified_actions, report.unclassified_by_rules) == (0, 0)
    assert report.basis["upstream"] == 0
    assert dict(report.basis) == {"state": 3061, "calendar": 3037}


def test_session_114_agrees_with_open_states_but_for_the_known_disagreements(session_114):
    _, report = session_114
    assert {d.key: (d.upstream, d.ours) for d in report.disagreements} == KNOWN_DISAGREEMENTS
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (560, 561, 560)  # bills only: resolutions are counted apart (tracker.normalize.agreement)
    assert (report.upstream["vetoed"], report.ours["vetoed"], report.both["vetoed"]) == (1, 1, 1)


def test_whole_special_session_114s1(session_114s1):
    _, report = session_114s1
    assert (report.bills, report.actions, report.problems, report.without_status) == (19, 342, [], 0)
    assert (report.unclassified_actions, report.unclassified_by_rules, report.basis["upstream"]) == (0, 0, 0)
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (6, 6, 6)  # bills only: resolutions are counted apart (tracker.normalize.agreement)
    assert report.disagreements == []


def test_signed_joint_resolutions_are_real_signatures_but_not_laws(session_114):
    # 1,132 joint resolutions (memorials, honours, confirmations) that art. III §18 sends to the Governor:
    # signed, but no chapter follows, so they are adopted, not laws (tracker.normalize.status). Only the
    # bills carry a public or private chapter.
    bills, _ = session_114
    enacted = [normalize_bill(b) for b in bills.values() if b.kind == BillKind.JOINT_RESOLUTION
               and any(a.text == "Signed by Governor." for a in b.actions)]
    assert len(enacted) == 1132
    assert all(n.status.status == "adopted" and n.status.chapter is None for n in enacted)
    # Proposed constitutional amendments are not presented to the Governor: adopted by both chambers.
    sjr1 = normalize_bill(bills["SJR 0001"]).status
    assert (sjr1.status, sjr1.basis) == ("adopted", "state")


@pytest.mark.parametrize("identifier, expected, cause", [
    ("SB 0007", ("enacted", "signed", None, "301", None), "Signed by Governor."),
    ("SB 0027", ("enacted", "law_without_signature", None, "153", None), "Returned by Governor without signature."),
    ("SB 0455", ("vetoed", None, None, None, None), "Vetoed by Governor."),
    # Replaced by its Senate companion, which became Pub. Ch. 225: not a law of its own.
    ("HB 0006", ("failed", None, "incorporated", None, None), "Comp. SB subst."),
    ("SB 0008", ("failed", None, "incorporated", None, None), "Companion House Bill substituted"),
    ("HJR 0002", ("failed", None, "incorporated", None, "SJR 1"), "H. subst. SJR 1"),
    ("HB 0010", ("failed", None, "died_in_committee", None, None),
     "Failed in s/c Departments & Agencies Subcommittee of State & Local Government Committee"),
    # Still in a Senate committee when the snapshot ends: dead when the General Assembly ends.
    ("SB 0677", ("failed", None, "died_at_adjournment", None, None), None),
])
def test_bill_outcomes(session_114, identifier, expected, cause):
    bills, _ = session_114
    norm = normalize_bill(bills[identifier])
    s = norm.status
    assert (s.status, s.enacted_how, s.failed_how, s.chapter, s.incorporated_into) == expected
    decisive = " ".join(norm.actions[s.cause_index].text.split()) if s.cause_index is not None else None
    assert decisive == cause
    assert s.basis == ("calendar" if cause is None else "state")


def test_special_session_law(session_114s1):
    bills, _ = session_114s1
    s = normalize_bill(bills["HB 6004"]).status
    assert (s.status, s.enacted_how, s.chapter, s.status_date) == ("enacted", "signed", "7", date(2025, 2, 12))
