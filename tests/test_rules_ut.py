"""Utah action rules (tracker/normalize/rules/ut.toml): real le.utah.gov strings -> our classes (the
acting body's `House/ ` prefix removed by the table's `prefix`), the 2026 General Session and the
2025 Second Special Session measured against Open States' own labels, and the session calendars
(tracker/data/sessions/ut.toml).

A note on Open States' Utah organizations: the organization Open States gives a Utah floor vote is
often not the chamber that voted (in 2026, 430 of 436 "House/ passed 3rd reading" lines on House
bills carry the Senate; "Senate/ passed 3rd reading" on Senate bills mostly carries the House). Our
parser takes the actor from that organization, so the status engine can read a House bill's House
passage as the second chamber's. The final outcomes below do not depend on it (the Governor's
lines, the resolution's filing with the Lieutenant Governor and the failures decide them), but the
intermediate rungs (passed_origin / passed_second) of Utah bills do; the acting body is the
`House/` / `Senate/` prefix of each line.
"""

from datetime import UTC, date, datetime

import pytest

from scrapers.openstates import OpenStatesFiles
from tests.conftest import session_items, session_report, shared_file
from tracker.calendar import session_calendar
from tracker.normalize.actions import classify
from tracker.normalize.agreement import unclassified_share
from tracker.normalize.bill import normalize_bill
from tracker.scraped import ScrapedBill

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)  # every whole-session figure is judged as of this fetch

# Real strings from ut_2026.jsonl.gz / ut_2025S2.jsonl.gz and the classes we expect, written from
# reading each string and the lines around it.
UT_CASES = [
    # The Governor and outcomes
    ("Governor Signed", ("executive-signature",)),
    # Approved with items of appropriation struck (Utah Const. art. VII §8); Open States labels only the veto.
    ("Governor Line Item Veto", ("executive-signature", "executive-veto-line-item")),
    ("Governor Vetoed", ("executive-veto",)),
    ("Became Law w/o Governor Signature", ("x-law-without-signature", "became-law")),
    ("House/ to Governor", ("executive-receipt",)),
    ("Senate/ to Governor", ("executive-receipt",)),
    # Joint and simple resolutions filed with the Lieutenant Governor: adopted (Open States: `executive-receipt`).
    ("House/ to Lieutenant Governor", ("became-law",)),
    ("Senate/ to Lieutenant Governor", ("became-law",)),
    # The enacting clause struck: the bill is dead (also the end-of-session closing of every pending bill).
    ("House/ strike enacting clause", ("failure",)),
    ("Senate/ strike enacting clause", ("failure",)),
    ("House/ filed", ("failure",)),  # Open States: `filing`
    ("Senate/ filed", ("failure",)),
    # Floor
    ("House/ passed 3rd reading", ("reading-3", "passage")),
    ("Senate/ passed 3rd reading", ("reading-3", "passage")),
    ("Senate/ passed 2nd & 3rd readings/ suspension", ("reading-2", "reading-3", "passage")),
    ("Senate/ passed 2nd reading", ("reading-2",)),  # the generic table reads it as a passage
    ("Senate/ 2nd & 3rd readings/ suspension", ("reading-2", "reading-3")),
    ("House/ failed", ("failure",)),
    ("Senate/ failed", ("failure",)),
    ("House/ concurs with Senate amendment", ("amendment-passage", "passage")),  # Open States: amendment only
    ("Senate/ concurs with House amendment", ("amendment-passage", "passage")),
    ("House Conference Committee - Final Passage [Senate President]", ("passage",)),
    ("Senate Conference Committee - Final Passage [Conference Committee]", ("passage",)),
    ("House Conference Committee Appointed [Conference Committee]", ("x-procedural",)),
    ("House Motion to Adopt Joint Conference Comm Rpt [Conference Committee]", ("x-procedural",)),
    ("House/ refuse to concur with Senate amendment", ("x-procedural",)),
    ("Senate/ refused to recede from Senate amendments", ("x-procedural",)),
    ("House/ floor amendment", ("amendment-passage",)),
    ("Senate/ floor amendment failed", ("amendment-failure",)),
    ("House/ substitute adoption failed", ("amendment-failure",)),  # Open States: `failure` (of the bill)
    ("Senate/ substituted", ("substitution",)),
    ("House/ 1st reading (Introduced)", ("introduction", "reading-1")),
    ("Senate/ 1st reading (Introduced)", ("introduction", "reading-1")),
    ("House/ 2nd reading", ("reading-2",)),
    ("Senate/ 3rd reading", ("reading-3",)),
    ("Senate/ received from House", ("receipt",)),
    ("House/ to Senate", ("x-procedural",)),
    ("Senate/ to House with amendments", ("x-procedural",)),
    ("Senate/ circled", ("x-procedural",)),
    ("House/ uncircled", ("x-procedural",)),
    ("House/ Rules to 3rd Reading Calendar", ("x-procedural",)),
    # The generic table reads these two as readings; they are moves to and from the Rules committee.
    ("Senate/ 2nd Reading Calendar to Rules [Senate Rules Committee]", ("x-procedural",)),
    ("House/ 3rd Reading Calendar to Rules [House Rules Committee]", ("x-procedural",)),
    ("Senate/ 3nd Reading Calendar to Rules [Senate Rules Committee]", ("x-procedural",)),  # sic
    ("House/ return to Rules due to fiscal impact [House Rules Committee]", ("x-procedural",)),
    ("Senate/ placed on 3rd Reading Calendar table", ("x-procedural",)),  # a part of the calendar
    ("House/ motion to reconsider", ("x-procedural",)),
    # Committees
    ("House/ to standing committee [House Education Committee]", ("referral-committee",)),
    ("House/ lifted from calendar sent to standing comm [House Political Subdivisions Committee]",
     ("referral-committee",)),
    ("House Comm - Favorable Recommendation [House Education Committee]", ("committee-passage-favorable",)),
    ("Senate Comm - Consent Calendar Recommendation [Senate Education Committee]",
     ("committee-passage-favorable",)),
    ("House Comm - Substitute Recommendation [House Judiciary Committee]", ("substitution",)),
    ("Senate Comm - Amendment Recommendation [Senate Business and Labor Committee]", ("amendment-passage",)),
    # Open States: `failure`; three 2026 bills got a favourable recommendation after it.
    ("Senate Comm - Motion to Recommend Failed [Senate Revenue and Taxation Committee]", ("x-procedural",)),
    ("House Comm - Held [House Education Committee]", ("x-procedural",)),
    ("Senate Comm - Not Considered [Senate Judiciary, Law Enforcement, and Criminal Justice Committee]",
     ("x-procedural",)),
    ("House Comm - Tabled [House Education Committee]", ("x-procedural",)),  # Open States: `deferral`
    ("House Comm - Recommends Returned to Rules [House Judiciary Committee]", ("x-procedural",)),
    ("House/ comm rpt/ sent to Rules [House Rules Committee]", ("x-procedural",)),
    ("Senate/ comm rpt/ sent to Rules/ substituted [Senate Rules Committee]", ("x-procedural",)),
    ("Senate/ committee report favorable [Senate Education Committee]", ("committee-passage-favorable",)),
    ("House/ comm rpt/ substituted [House Judiciary Committee]", ("committee-passage-favorable",)),
    ("Senate/ comm rpt/ amended/ placed on Consent Cal [Senate Health and Human Services Committee]",
     ("committee-passage-favorable",)),
    ("House/ lifted from standing committee [House Health and Human Services Committee]", ("x-procedural",)),
    # Drafting, fiscal notes, enrolment (Open States: `receipt` or `passage` for several)
    ("Bill Numbered but not Distributed", ("x-procedural",)),
    ("Numbered Bill Publicly Distributed", ("x-procedural",)),
    ("LFA/ fiscal note sent to sponsor for HB0100S01", ("x-procedural",)),
    ("LFA/ bill assigned to staff for fiscal analysis for SB0001", ("x-procedural",)),
    ("House/ received bill from Legislative Research", ("x-procedural",)),
    ("Senate/ received fiscal note from Fiscal Analyst", ("x-procedural",)),
    ("House/ signed by Speaker/ sent for enrolling", ("x-procedural",)),
    ("Senate/ signed by President/ returned to House", ("x-procedural",)),
    ("Bill Received from House for Enrolling", ("x-procedural",)),
    ("Draft of Enrolled Bill Prepared", ("x-procedural",)),
    ("Enrolled Bill Returned to House or Senate", ("enrolled",)),
    ("House/ enrolled bill to Printing", ("x-procedural",)),
    ("Senate/ received enrolled bill from Printing", ("x-procedural",)),
]


@pytest.mark.parametrize("text, expected", UT_CASES)
def test_utah_rules(text, expected):
    result = classify("ut", text)
    assert result.classes == expected
    assert result.layer == "state"


def test_the_prefix_is_what_lets_one_rule_read_both_chambers():
    assert classify("ut", "House/ passed 3rd reading").classes == classify("ut", "passed 3rd reading").classes
    assert classify("ut", "LFA/ fiscal note publicly available for HJR001").layer == "state"


def test_unknown_text_is_unclassified_not_guessed():
    assert classify("ut", "House/ zorbled by the Sergeant at Arms").unclassified


def test_calendars():
    special = session_calendar("ut", "2025S2")
    general = session_calendar("ut", "2026")
    assert (special.start_date, special.final_action_date, special.carry_over) == (
        date(2025, 12, 9), date(2025, 12, 29), "none")
    assert (general.start_date, general.final_action_date, general.carry_over) == (
        date(2026, 1, 20), date(2026, 3, 26), "none")


def _read(stem: str):
    """(normalized bills by identifier, the comparison with Open States), once per module."""
    items = session_items(stem)
    bills = {i.identifier: normalize_bill(i) for i in items if isinstance(i, ScrapedBill)}
    return bills, session_report(stem)


@pytest.fixture(scope="module")
def session_2026():
    return _read("ut_2026")


@pytest.fixture(scope="module")
def session_2025s2():
    return _read("ut_2025S2")


# Every bill where our outcome differs from the one Open States' own labels name, after reading its
# actions: key -> (Open States, ours).
KNOWN_DISAGREEMENTS = {
    # "House/ to Governor" (03-16), then only "Governor Line Item Veto" (03-26). The Governor strikes
    # items of appropriation "at the time of signing" (Utah Const. art. VII §8) and the rest is law:
    # we are right (enacted, partial veto). Open States labels the line `executive-veto-line-item`
    # alone, so its labels name no outcome.
    "ut-2026-HB3": (None, "enacted"),
}


def test_2026_is_read_by_our_table(session_2026):
    _, report = session_2026
    assert (report.bills, report.actions, report.problems, report.without_status) == (1016, 37214, [], 0)
    assert unclassified_share(report) <= 0.03
    assert report.unclassified_by_rules == report.unclassified_actions == 0
    # No status rests on Open States' labels (195 did before this table). No calendar deaths either:
    # the end-of-session "strike enacting clause" line closes every bill left pending.
    assert report.basis["upstream"] == 0
    assert dict(report.basis) == {"state": 1016}


def test_2026_enacted_and_vetoed_against_open_states(session_2026):
    _, report = session_2026
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (492, 493, 492)  # bills only: resolutions are counted apart (tracker.normalize.agreement)
    assert (report.upstream["vetoed"], report.ours["vetoed"], report.both["vetoed"]) == (2, 2, 2)
    assert {d.key: (d.upstream, d.ours) for d in report.disagreements} == KNOWN_DISAGREEMENTS


def test_line_item_veto_is_a_signed_law_with_a_partial_veto(session_2026):
    status = session_2026[0]["HB 3"].status
    assert (status.status, status.enacted_how, status.partial_veto, status.status_date) == (
        "enacted", "signed", True, date(2026, 3, 26))


def test_law_without_signature(session_2026):
    lws = [key for key, bill in session_2026[0].items() if bill.status.enacted_how == "law_without_signature"]
    assert lws == ["HB 195"]  # "House/ to Governor" (03-12), "Became Law w/o Governor Signature" (03-26)


def test_resolutions_filed_with_the_lieutenant_governor_are_adopted(session_2026, session_2025s2):
    filed = [bill for bills, _ in (session_2026, session_2025s2) for bill in bills.values()
             if any(a.text.endswith("to Lieutenant Governor") for a in bill.actions)]
    assert len(filed) == 29  # 27 joint and simple resolutions in 2026, two joint resolutions in 2025S2
    assert {bill.key: bill.status.status for bill in filed if bill.status.status != "adopted"} == {}


def test_2025s2_is_read_by_our_table(session_2025s2):
    _, report = session_2025s2
    assert (report.bills, report.actions, report.problems, report.without_status) == (5, 126, [], 0)
    assert report.unclassified_actions == 0 and report.basis["upstream"] == 0
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (3, 3, 3)
    assert report.disagreements == []


@pytest.mark.parametrize("name, expected, deciding", [
    ("2026__HB276.json", ("enacted", "signed"), "Governor Signed"),
    ("2026__HB320.json", ("enacted", "signed"), "Governor Signed"),
    # Passed nowhere in time: closed by the end-of-session strike.
    ("2026__HB286.json", ("failed", "defeated"), "House/ strike enacting clause"),
    ("2026__SB205.json", ("failed", "defeated"), "House/ strike enacting clause"),
    ("2026__HB438.json", ("failed", "defeated"), "Senate/ failed"),
])
def test_single_recorded_bills(name, expected, deciding):
    path = shared_file(f"fixtures/states/ut/openstates_scrape_json/{name}")
    (item,) = OpenStatesFiles().read_path(path, fetched_at=FETCHED).items
    bill = normalize_bill(item)
    assert (bill.status.status, bill.status.enacted_how or bill.status.failed_how) == expected
    assert bill.actions[bill.status.cause_index].text == deciding
    assert all(c.layer == "state" for c in bill.classifications)
