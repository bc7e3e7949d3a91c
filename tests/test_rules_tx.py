"""Texas action rules (tracker/normalize/rules/tx.toml): real TLO strings -> our classes, the whole
89th Legislature 2nd called session measured against Open States' own labels, and the session
calendar (tracker/data/sessions/tx.toml)."""

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

# Real strings from tx_892.jsonl.gz and the classes we expect, written from reading each string.
TX_CASES = [
    # The Governor and outcomes
    ("Signed by the Governor", ("executive-signature",)),
    ("Vetoed by the Governor", ("executive-veto",)),
    ("Sent to the Governor", ("executive-receipt",)),
    # Open States: `became-law`. An effective date is an attribute of the law, not an action.
    ("Effective on . . . . . . . . . . . . . . .", ("x-procedural",)),
    ("Effective immediately", ("x-procedural",)),
    ("Effective on 1/1/26", ("x-procedural",)),
    ("See remarks for effective date", ("x-procedural",)),
    ("Sent to the Comptroller", ("x-procedural",)),
    ("Subject to Art.III Sec.49a Tx. Constitution", ("x-procedural",)),
    # Open States: `passage`. The presiding officers sign the enrolled bill.
    ("Signed in the House", ("x-procedural",)),
    ("Signed in the Senate", ("x-procedural",)),
    ("Signed in Senate-Art III Sec 49a Tx. Const.", ("x-procedural",)),
    ("Reported enrolled", ("enrolled",)),
    ("Reported engrossed", ("x-procedural",)),
    # Messages to the other chamber. Open States labels the first `passage` under the receiving
    # chamber: a second passage by the wrong chamber.
    ("House passage reported", ("x-procedural",)),
    ("Senate passage as amended reported", ("x-procedural",)),
    ("Senate concurs in House amendment(s)-reported", ("x-procedural",)),
    ("House grants request for conf comm-reported", ("x-procedural",)),
    # Concurrence and conference reports (Open States: no label, or `committee-passage-favorable`)
    ("Senate concurs in House amendment(s)", ("passage",)),
    ("House concurs in Senate amendment(s)", ("passage",)),
    ("House adopts conference committee report", ("passage",)),
    ("Senate adopts conference committee report", ("passage",)),
    ("House refuses to adopt conference comm. rept.", ("x-procedural",)),
    ("Senate refuses to concur", ("x-procedural",)),
    ("Senate requests conference committee", ("x-procedural",)),
    ("House appoints conferees", ("x-procedural",)),
    ("Conference committee report filed", ("x-procedural",)),
    # Amendments are not the bill
    ("Amendment(s) offered", ("amendment-introduction",)),
    ("Amended", ("amendment-passage",)),
    ("Amendment adopted as amended", ("amendment-passage",)),
    ("Amendment fails of adoption", ("amendment-failure",)),
    ("Amendment to amendment fails of adoption", ("amendment-failure",)),
    ("Amendment tabled", ("amendment-failure",)),  # Open States: `deferral`, a class of the bill
    ("Amendment withdrawn", ("amendment-withdrawal",)),  # Open States adds `withdrawal`
    ("Amendment amended", ("amendment-amendment",)),
    # Floor
    ("Read 2nd time", ("reading-2",)),
    ("Read 2nd time & passed to engrossment", ("reading-2",)),
    ("Passed to engrossment as amended", ("reading-2",)),
    ("Passed to 3rd reading", ("reading-2",)),
    ("Read 3rd time", ("reading-3",)),
    ("Passed", ("passage",)),
    ("Passed as amended", ("passage",)),
    ("Adopted", ("passage",)),
    ("Read & adopted", ("passage",)),  # Open States adds `introduction`
    ("Failed of adoption", ("failure",)),
    ("Laid before the House", ("x-procedural",)),  # Open States: `receipt`
    ("Laid on the table subject to call", ("x-procedural",)),  # Open States: `deferral`; can be called up
    ("Companion considered in lieu of", ("x-procedural",)),
    ("Postponed", ("x-procedural",)),
    ("Record vote", ("x-procedural",)),
    ("Statement(s) of vote recorded in Journal", ("x-procedural",)),
    ("Point of order sustained (amendment)", ("x-procedural",)),
    ("Motion to table fails", ("x-procedural",)),
    ("Three day rule suspended", ("x-procedural",)),
    # Committees
    ("Reported favorably w/o amendment(s)", ("committee-passage-favorable",)),
    ("Reported favorably w/o amendments", ("committee-passage-favorable",)),
    ("Reported favorably as substituted", ("committee-passage-favorable",)),
    ("Referred to Ways & Means", ("referral-committee",)),
    ("Referred to Local & Consent Calendars", ("referral-committee",)),
    ("Referred to Disaster Preparedness & Flooding, Select", ("referral-committee",)),
    ("Comte report filed with Committee Coordinator", ("x-procedural",)),  # Open States: `filing`
    ("Committee report sent to Calendars", ("x-procedural",)),
    ("Left pending in committee", ("x-procedural",)),
    ("Testimony taken/registration(s) recorded in committee", ("x-procedural",)),
    ("Scheduled for public hearing on . . .", ("x-procedural",)),
    # Introduction (Open States: `filing`, which our engine reads as prefiled)
    ("Filed", ("introduction",)),
    ("Received by the Secretary of the Senate", ("introduction",)),
    ("Read first time", ("reading-1",)),
    ("Received from the House", ("receipt",)),
    ("Placed on Congrat. & Memorial Res. Calendar", ("x-procedural",)),
    ("Co-author authorized", ("x-procedural",)),
]


@pytest.mark.parametrize("text, expected", TX_CASES)
def test_texas_rules(text, expected):
    result = classify("tx", text)
    assert result.classes == expected
    assert result.layer == "state"


# Governor lines DOMAIN.md §1.5 names that the recorded session does not contain.
@pytest.mark.parametrize("text, expected", [
    # Open States has tagged the presentment as a signature.
    ("Transmitted to the Governor", ("executive-receipt",)),
    # Law without signature; Open States leaves it without a class.
    ("Filed without the Governor's signature", ("x-law-without-signature", "became-law")),
])
def test_texas_governor_lines_not_in_the_recorded_session(text, expected):
    result = classify("tx", text)
    assert (result.classes, result.layer) == (expected, "state")


def test_unknown_text_is_unclassified_not_guessed():
    assert classify("tx", "Zorbled by the Lieutenant Governor").unclassified


def test_calendar_892():
    calendar = session_calendar("tx", "892")
    assert (calendar.start_date, calendar.final_action_date, calendar.carry_over) == (
        date(2025, 8, 15), date(2025, 9, 24), "none")


@pytest.fixture(scope="module")
def session_892():
    items = session_items("tx_892")
    return items, session_report("tx_892")


def test_whole_session_is_read_by_our_table(session_892):
    _, report = session_892
    assert (report.bills, report.actions, report.problems, report.without_status) == (692, 4562, [], 0)
    assert unclassified_share(report) <= 0.03
    assert report.unclassified_by_rules == report.unclassified_actions == 0
    # No status rests on Open States' labels (124 did before this table: "Received by the Secretary of
    # the Senate", "Laid before the House", "Read & adopted" were read through their labels).
    assert report.basis["upstream"] == 0
    # Everything still pending when the Governor's deadline passed (2025-09-24) died with the session.
    assert dict(report.basis) == {"state": 285, "calendar": 407}


def test_enacted_and_vetoed_agree_with_open_states(session_892):
    _, report = session_892
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (20, 20, 20)  # bills only: resolutions are counted apart (tracker.normalize.agreement)
    assert (report.upstream["vetoed"], report.ours["vetoed"], report.both["vetoed"]) == (1, 1, 1)
    assert report.disagreements == []


def _bill(items, identifier):
    return next(normalize_bill(i) for i in items if isinstance(i, ScrapedBill) and i.identifier == identifier)


def test_vetoed_bill(session_892):
    bill = _bill(session_892[0], "SB 18")
    # "Sent to the Governor" (08-28), "Vetoed by the Governor" (09-17); the override window closed with
    # the session.
    assert (bill.status.status, bill.status.override_possible, bill.status.status_date) == (
        "vetoed", False, date(2025, 9, 17))


def test_house_passage_reported_is_not_a_senate_passage(session_892):
    # SB 18 passed the Senate, then the House; the Senate's "House passage reported" is a message.
    bill = _bill(session_892[0], "SB 18")
    passages = [(a.text, a.actor) for a, c in zip(bill.actions, bill.classifications, strict=True)
                if "passage" in c.classes]
    assert passages == [("Passed", "upper"), ("Passed", "lower")]


def test_single_recorded_bill_died_with_the_session():
    path = shared_file("fixtures/states/tx/openstates_scrape_json/892__HB148.json")
    (item,) = OpenStatesFiles().read_path(path, fetched_at=FETCHED).items
    status = normalize_bill(item).status
    # Filed 2025-08-15 and never acted on: dead when the session's last deadline passed.
    assert (status.status, status.failed_how, status.status_date, status.basis) == (
        "failed", "died_at_adjournment", date(2025, 9, 24), "calendar")
