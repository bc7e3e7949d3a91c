"""Minnesota action rules (tracker/normalize/rules/mn.toml): real MN strings -> our classes, the whole
2025-2026 session measured against Open States' own labels, and the session calendar
(tracker/data/sessions/mn.toml)."""

from datetime import UTC, date, datetime

import pytest

from tests.conftest import session_items, session_report
from tracker.calendar import session_calendar
from tracker.normalize.actions import classify
from tracker.normalize.agreement import unclassified_share
from tracker.normalize.bill import normalize_bill
from tracker.scraped import ScrapedBill

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)  # every whole-session figure is judged as of this fetch

# Real strings from mn_2025-2026.jsonl.gz and the classes we expect, written from reading each string.
MN_CASES = [
    # The Governor and chapters
    ("Governor approval 05/06/2025", ("executive-signature",)),
    ("Governor's action Approval 05/06/25", ("executive-signature",)),
    ("Governor's action Approval Chapter 25 05/19/25", ("executive-signature",)),
    # Assigned to the enrollment, vetoed bills included (Minn. Stat. 4.034): a fact, not an outcome.
    ("Secretary of State Chapter 14 05/06/25", ("x-procedural",)),
    ("Secretary of State, Filed 05/07/2025", ("x-procedural",)),
    ("Presented to Governor 05/06/2025", ("executive-receipt",)),
    ("Presentment date 05/06/25", ("executive-receipt",)),  # Open States: no label
    ("Effective date 08/01/25", ("x-procedural",)),
    # Ends of a bill: the companion substituted, the author taking it back
    ("HF indefinitely postponed", ("x-incorporated",)),
    ("Rule 45-amend, subst. General Orders HF1606, SF indefinitely postponed", ("substitution", "x-incorporated")),
    ("Rule 45; subst. General Orders HF1255, SF indefinitely postponed", ("substitution", "x-incorporated")),
    ("Withdrawn and returned to author", ("withdrawal",)),
    ("Motion to return bill to author, motion prevailed", ("withdrawal",)),
    # "Withdrawn" is NOT a failure in MN: out of one committee and into another, or to second reading.
    ("Withdrawn and re-referred to Judiciary and Public Safety", ("referral-committee",)),
    ("Withdrawn", ("x-procedural",)),
    ("Rule 5.1: withdrawn, placed on General Orders", ("x-procedural",)),
    # Floor
    ("Bill was passed", ("passage",)),
    ("Bill was passed as amended", ("passage",)),
    ("Bill was repassed as amended by the Senate", ("passage",)),
    ("Bill was repassed as amended by Conference", ("passage",)),
    ("Bill was not passed", ("failure",)),
    ("Bill was not passed as amended", ("failure",)),
    ("Third reading Passed", ("reading-3", "passage")),
    ("Third reading Passed as amended", ("reading-3", "passage")),
    ("Third Reading Repassed", ("reading-3", "passage")),  # Open States: no label
    ("Third reading as amended by Conference", ("reading-3",)),
    ("Senate concurred and repassed bill", ("passage",)),
    ("Senate adopted CC report and repassed bill", ("passage",)),
    # The other body's vote as written in this body's history: the acting body's own line counts.
    ("Senate adopted conference committee report, bill repassed", ("x-procedural",)),
    ("House adopted HCC report and repassed bill", ("x-procedural",)),
    ("House adopted conference committee report", ("x-procedural",)),
    ("Resolution was adopted", ("passage",)),
    ("Adopted (voice vote)", ("passage",)),
    ("Adopted", ("passage",)),
    ("Special Order: Amended", ("amendment-passage",)),
    ("Amended", ("amendment-passage",)),
    ("Bills identical, SF substituted on General Register", ("substitution",)),
    ("Bills not identical, SF substituted on General Register", ("substitution",)),
    ("Comm report: Subst. for SF on General Orders SF1758", ("substitution",)),
    ("Comm report: Rule 45-amend, subst. General Orders SF203", ("substitution",)),
    ("House refuses to concur, conference committee of 4 requested", ("x-procedural",)),
    ("Senate accedes, CC of 5 be appointed", ("x-procedural",)),
    ("Conference committee report, delete everything", ("x-procedural",)),
    ("Senate conferees Latz; Gustafson; Limmer", ("x-procedural",)),
    # A calendar step in the Senate, not the end of a bill.
    ("Laid on table", ("x-procedural",)),
    ("Taken from table", ("x-procedural",)),
    # Committees (Open States: committee-passage only, no referral)
    ("Committee report, to adopt", ("committee-passage-favorable",)),
    ("Committee report, to adopt as amended and re-refer to Ways and Means",
     ("committee-passage-favorable", "referral-committee")),
    ("Committee report, without further recommendation re-refer to Capital Investment", ("referral-committee",)),
    ("Comm report: To pass as amended", ("committee-passage-favorable",)),
    ("Comm report: To pass and re-referred to Finance", ("committee-passage-favorable", "referral-committee")),
    ("Comm report: Amended, No recommendation, re-referred to Taxes", ("referral-committee",)),
    ("Comm report: No recommendation", ("x-procedural",)),
    # Deadline referrals are not failures.
    ("Pursuant to Senate Concurrent Resolution No. 6, referred to Rules and Administration", ("referral-committee",)),
    ("Joint rule 2.03, Deadlines, re-referred to Rules and Legislative Administration", ("referral-committee",)),
    ("Senate Concurrent Resolution 6 Suspended adopt previous committee report", ("x-procedural",)),
    ("Referred to Chief Clerk for comparison with SF2200", ("x-procedural",)),
    ("Referred to Rules and Administration for comparison with SF563, now on General Orders",
     ("referral-committee",)),
    ("Motion to recall and re-refer, motion prevailed Taxes", ("referral-committee",)),
    ("Referred to Judiciary and Public Safety", ("referral-committee",)),
    # Introduction and readings
    ("Introduction and first reading", ("introduction", "reading-1")),
    ("Introduction and first reading, referred to Capital Investment",
     ("introduction", "reading-1", "referral-committee")),
    ("Resolution introduced, referred to Rules and Legislative Administration", ("introduction", "referral-committee")),
    ("Introduction", ("introduction",)),
    ("Senate file first reading, referred for comparison HF1531", ("reading-1",)),
    ("Senate file first reading, referred to Ways and Means", ("reading-1", "referral-committee")),
    ("Received from House", ("receipt",)),
    ("Second reading", ("reading-2",)),
    # Names, calendars and motions: where MN's many distinct strings come from
    ("Author added Rehrauer", ("x-procedural",)),
    ("Authors added Johnson, P.; and Virnig", ("x-procedural",)),
    ("Chief author stricken, shown as co-author Klein", ("x-procedural",)),
    ("Author changed Hollins be shown as Chief Author", ("x-procedural",)),
    ("House rule 1.21, placed on Calendar for the Day Thursday, March 13, 2025", ("x-procedural",)),
    ("Special Order", ("x-procedural",)),
    ("Point of order raised, ruled well taken", ("x-procedural",)),
    ("Motion did not prevail 90 votes needed for suspension of rules", ("x-procedural",)),
    ("Returned from Senate with amendment", ("x-procedural",)),
]


@pytest.mark.parametrize("text, expected", MN_CASES)
def test_minnesota_rules(text, expected):
    result = classify("mn", text)
    assert result.classes == expected
    assert result.layer == "state"


# No 2025-2026 bill was vetoed, so these MN wordings are not in the fixtures: they pin the table's
# intent until a real veto line confirms the spelling.
@pytest.mark.parametrize("text, expected", [
    ("Governor's action Veto 05/20/26", ("executive-veto",)),
    ("Governor's action Line item veto 05/20/26", ("executive-signature", "executive-veto-line-item")),
    ("Governor's action Pocket veto 06/01/26", ("executive-veto", "veto-override-failure")),
])
def test_minnesota_veto_wording_not_yet_recorded(text, expected):
    assert classify("mn", text).classes == expected


def test_facts_chapter_and_incorporating_bill():
    assert classify("mn", "Secretary of State Chapter 14 05/06/25").facts == {"chapter": "14"}
    assert classify("mn", "Governor's action Approval Chapter 25 05/19/25").facts == {"chapter": "25"}
    assert classify("mn", "Rule 45-amend, subst. General Orders HF1606, SF indefinitely postponed").facts == {
        "into": "HF1606"}


def test_unknown_text_is_unclassified_not_guessed():
    assert classify("mn", "Zorbled by the Sergeant at Arms").unclassified


def test_calendar_2025_2026():
    calendar = session_calendar("mn", "20252026")
    # Art. IV §12: last day 2026-05-18; art. IV §23: 14 days for the Governor after adjournment.
    assert (calendar.start_date, calendar.final_action_date, calendar.carry_over) == (
        date(2025, 1, 14), date(2026, 6, 1), "none")


@pytest.fixture(scope="module")
def session():
    items = session_items("mn_2025-2026")
    return {i.identifier: i for i in items if isinstance(i, ScrapedBill)}, session_report("mn_2025-2026")


def test_whole_session_is_read_by_our_tables(session):
    _, report = session
    assert (report.bills, report.actions, report.problems, report.without_status) == (10588, 29333, [], 0)
    assert unclassified_share(report) <= 0.03
    # Every action is read by the Minnesota table; Open States leaves 31.5% of them without a label.
    assert (report.unclassified_actions, report.unclassified_by_rules) == (0, 0)
    # No status rests on Open States' labels. After the biennium's end (2026-06-01) everything still
    # pending is failed/died_at_adjournment (the calendar basis).
    assert report.basis["upstream"] == 0
    assert dict(report.basis) == {"state": 295, "calendar": 10293}


def test_enacted_and_vetoed_agree_with_open_states(session):
    _, report = session
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (131, 131, 131)
    assert (report.upstream["vetoed"], report.ours["vetoed"]) == (0, 0)
    assert report.disagreements == []


@pytest.mark.parametrize("identifier, expected, cause", [
    # Signed; the chapter comes from the Senate history's "Secretary of State Chapter 14 05/06/25".
    ("HF 1014", ("enacted", "signed", None, "14", None), "Governor approval 05/06/2025"),
    # Conference committee, both repassages, signed as chapter 38.
    ("HF 2115", ("enacted", "signed", None, "38", None), "Governor approval 05/23/2025"),
    # Replaced by its Senate companion SF 2200: "Bills not identical, SF substituted on General
    # Register", then "HF indefinitely postponed".
    ("HF 104", ("failed", None, "incorporated", None, None), "HF indefinitely postponed"),
    ("SF 1119", ("failed", None, "incorporated", None, "HF1606"),
     "Rule 45-amend, subst. General Orders HF1606, SF indefinitely postponed"),
    ("SF 1140", ("failed", None, "withdrawn", None, None), "Withdrawn and returned to author"),
    ("HF 12", ("failed", None, "defeated", None, None), "Bill was not passed"),
    # Withdrawn from committee to second reading, never voted on: alive until the biennium ended.
    ("SF 2062", ("failed", None, "died_at_adjournment", None, None), None),
    # A concurrent resolution adopted by both bodies: no Governor step.
    ("HC 2", ("adopted", None, None, None, None), "Adopted (voice vote)"),
])
def test_bill_outcomes(session, identifier, expected, cause):
    bills, _ = session
    norm = normalize_bill(bills[identifier])
    s = norm.status
    assert (s.status, s.enacted_how, s.failed_how, s.chapter, s.incorporated_into) == expected
    assert (norm.actions[s.cause_index].text if s.cause_index is not None else None) == cause
    assert s.basis == ("calendar" if cause is None else "state")
