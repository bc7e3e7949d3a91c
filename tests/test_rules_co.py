"""Colorado action rules (tracker/normalize/rules/co.toml): real Colorado strings -> our classes, the
whole 2026 regular session measured against Open States' own labels, and the session calendar
(tracker/data/sessions/co.toml)."""

from datetime import UTC, date, datetime

import pytest

from tests.conftest import session_items, session_report
from tracker.calendar import session_calendar
from tracker.normalize.actions import classify
from tracker.normalize.agreement import unclassified_share
from tracker.normalize.bill import normalize_bill
from tracker.scraped import ScrapedBill

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)  # every whole-session figure is judged as of this fetch

# Real strings from co_2026A.jsonl.gz and the classes we expect, written from reading each string.
CO_CASES = [
    # The Governor and outcomes
    ("Governor Signed", ("executive-signature",)),
    ("Governor Vetoed", ("executive-veto",)),
    ("Sent to the Governor", ("executive-receipt",)),
    # Open States: `passage`. The presiding officers sign the enrolled act: no vote.
    ("Signed by the President of the Senate", ("x-procedural",)),
    ("Signed by the Speaker of the House", ("x-procedural",)),
    # Third reading: the chamber's passage or defeat
    ("Senate Third Reading Passed - No Amendments", ("reading-3", "passage")),
    ("House Third Reading Passed with Amendments - Floor", ("reading-3", "passage")),
    ("Senate Third Reading Passed with Amendments - Committee", ("reading-3", "passage")),
    ("House Third Reading Lost - No Amendments", ("reading-3", "failure")),
    ("Senate Third Reading Lost with Amendments - Floor", ("reading-3", "failure")),
    ("Senate Third Reading Lay on the Table-Deemed Lost - No Amendments", ("failure", "x-tabled")),
    ("House Third Reading Laid Over Daily - No Amendments", ("x-procedural",)),
    ("Senate Third Reading Laid Over to 03/02/2026 - No Amendments", ("x-procedural",)),
    ("Senate Third Reading Reconsidered - No Amendments", ("x-procedural",)),
    # Open States: `committee-passage`; the bill only goes back to the Committee of the Whole.
    ("House Third Reading Re-referred to House Committee of the Whole - No Amendments", ("x-procedural",)),
    # Second reading (the Committee of the Whole): not yet the chamber's passage
    ("House Second Reading Special Order - Passed - No Amendments", ("reading-2",)),
    ("Senate Second Reading Passed with Amendments - Committee, Floor", ("reading-2",)),
    ("House Second Reading Special Order - Passed with Amendments - Committee", ("reading-2",)),
    ("Senate Second Reading Lost - No Amendments", ("reading-2", "failure")),
    ("House Second Reading Special Order - Lost with Amendments - Committee", ("reading-2", "failure")),
    ("Senate Second Reading Laid Over to 03/11/2026 - No Amendments", ("x-procedural",)),
    ("House Second Reading Special Order - Laid Over Daily - No Amendments", ("x-procedural",)),
    ("House Committee of the Whole Amendment - Change from Passed to Lost", ("x-procedural",)),
    # Between the chambers (Open States gives these no label)
    ("House Considered Senate Amendments - Result was to Concur - Repass", ("passage",)),
    ("Senate Considered House Amendments - Result was to Concur - Repass", ("passage",)),
    ("Senate Considered House Amendments - Result was to Concur - Not Repassed", ("failure",)),
    ("House Considered Senate Amendments - Result was to Not Concur - Request Conference Committee",
     ("x-procedural",)),
    ("House Considered Senate Amendments - Result was to Laid Over Daily", ("x-procedural",)),
    ("Senate Considered House Amendments - Result was to Laid Over to 03/13/2026", ("x-procedural",)),
    ("House Considered Senate Amendments - Result was to Adhere", ("x-procedural",)),
    ("Senate Considered House Adherence - Result was to Recede", ("x-procedural",)),
    ("Senate Considered House Amendments - Result was to Reconsider", ("x-procedural",)),
    ("House Consideration of First Conference Committee Report result was to Adopt Committee Report - Repass",
     ("passage",)),
    ("Senate Consideration of First Conference Committee Report result was to Adhere - CCR produced",
     ("x-procedural",)),
    ("House Consideration of First Conference Committee Report result was to Recede - CCR not produced",
     ("x-procedural",)),
    ("First Conference Committee Result was to Adopt Rerevised w/ Amendments", ("x-procedural",)),
    # Committees
    ("House Committee on Judiciary Postpone Indefinitely", ("committee-failure",)),
    ("Senate Committee on State, Veterans, & Military Affairs Postpone Indefinitely", ("committee-failure",)),
    # Open States adds `referral-committee`: the Committee of the Whole is the floor.
    ("House Committee on Appropriations Refer Unamended to House Committee of the Whole",
     ("committee-passage-favorable",)),
    ("Senate Committee on Appropriations Refer Unamended - Consent Calendar to Senate Committee of the Whole",
     ("committee-passage-favorable",)),
    ("House Committee on Transportation, Housing & Local Government Refer Amended to House Committee of the Whole",
     ("committee-passage-favorable",)),
    # Open States: `referral-committee` only; the first committee passed the bill.
    ("House Committee on Finance Refer Amended to Appropriations", ("committee-passage-favorable",
                                                                    "referral-committee")),
    ("Senate Committee on Business, Labor, & Technology Refer Unamended to Appropriations",
     ("committee-passage-favorable", "referral-committee")),
    ("House Committee on Health & Human Services Refer Amended to Finance", ("committee-passage-favorable",
                                                                             "referral-committee")),
    ("House Committee on Appropriations Lay Over Unamended - Amendment(s) Failed", ("x-procedural",)),
    ("Senate Committee on Agriculture & Natural Resources Lay Over Amended", ("x-procedural",)),
    ("House Committee on Education Witness Testimony and/or Committee Discussion Only", ("x-procedural",)),
    # Introduction
    ("Introduced In House - Assigned to Appropriations", ("introduction", "referral-committee")),
    ("Introduced In Senate - Assigned to State, Veterans, & Military Affairs", ("introduction", "referral-committee")),
    ("Introduced In House - Assigned to Health & Human Services + Finance", ("introduction", "referral-committee")),
    ("Introduced In Senate - Assigned to", ("introduction",)),  # no committee: resolutions, straight to the floor
]


@pytest.mark.parametrize("text, expected", CO_CASES)
def test_colorado_rules(text, expected):
    result = classify("co", text)
    assert result.classes == expected
    assert result.layer == "state"


# Lines whose effect the text does not tell: left to the later layers, never guessed by our table.
@pytest.mark.parametrize("text", [
    "Senate Considered House Amendments - Result was to Pass",
    "House Consideration of First Conference Committee Report result was to Other",
])
def test_lines_without_a_readable_effect_are_not_in_our_table(text):
    assert classify("co", text).layer != "state"


def test_unknown_text_is_unclassified_not_guessed():
    assert classify("co", "Zorbled by the Joint Budget Committee").unclassified


def test_calendar_2026():
    calendar = session_calendar("co", "2026A")
    assert (calendar.start_date, calendar.final_action_date, calendar.carry_over) == (
        date(2026, 1, 14), date(2026, 6, 12), "none")


@pytest.fixture(scope="module")
def session_2026():
    items = session_items("co_2026A")
    return items, session_report("co_2026A")


def test_whole_session_is_read_by_our_tables(session_2026):
    _, report = session_2026
    assert (report.bills, report.actions, report.problems, report.without_status) == (714, 7690, [], 0)
    assert unclassified_share(report) <= 0.03
    # Only "Result was to Pass" and "result was to Other" (one line each) escape the Colorado table;
    # the generic table reads the first, the second stays unclassified (Open States has no label for it).
    assert report.unclassified_by_rules == 1 and report.unclassified_actions == 1
    # No status rests on Open States' labels: every deciding line is ours.
    assert report.basis["upstream"] == 0
    assert dict(report.basis) == {"state": 673, "calendar": 41}


def test_enacted_and_vetoed_agree_with_open_states(session_2026):
    _, report = session_2026
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (436, 436, 436)  # bills only: resolutions are counted apart (tracker.normalize.agreement)
    assert (report.upstream["vetoed"], report.ours["vetoed"], report.both["vetoed"]) == (12, 12, 12)
    assert report.disagreements == []


def test_seed_bill_sb26_189_is_enacted_by_our_table(session_2026):
    items, _ = session_2026
    bill = next(normalize_bill(i) for i in items if isinstance(i, ScrapedBill) and i.identifier == "SB 189")
    status = bill.status
    assert (bill.key, status.status, status.enacted_how, status.basis) == ("co-2026A-SB189", "enacted", "signed",
                                                                         "state")
    assert bill.actions[status.cause_index].text == "Governor Signed"
    assert status.status_date == date(2026, 5, 14)


def test_presiding_officers_signatures_are_not_passages(session_2026):
    # Open States labels them `passage`; read that way a bill would "pass" a chamber again after enrolment.
    items, _ = session_2026
    bill = next(normalize_bill(i) for i in items if isinstance(i, ScrapedBill) and i.identifier == "SB 189")
    signatures = [c.classes for a, c in zip(bill.actions, bill.classifications, strict=True)
                  if a.text.startswith("Signed by the")]
    assert signatures == [("x-procedural",), ("x-procedural",)]
