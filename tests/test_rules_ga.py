"""Georgia action rules (tracker/normalize/rules/ga.toml): real status-history lines of the 2026
Special Session -> our classes, and the whole session (openstates_sessions/ga_2026_ss.jsonl.gz) read
with them: coverage, statuses, and agreement with Open States' own labels."""

import json
from datetime import UTC, datetime

import pytest

from scrapers.openstates import parse_ocd_bill
from tests.conftest import session_items, session_report, shared_file
from tracker.calendar import session_calendar
from tracker.normalize.actions import classify
from tracker.normalize.agreement import unclassified_share
from tracker.normalize.bill import label_of, normalize_bill

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the snapshots carry no fetch time of their own
SESSION_FILE = "fixtures/states/openstates_sessions/ga_2026_ss.jsonl.gz"

# Every distinct line of ga_2026_ss, with the classes we expect, written from reading each line.
GA_CASES = [
    # Governor and law. Open States labels "Act 1EX" a signature (one code for signature and veto).
    ("Senate Sent to Governor", ("executive-receipt",)),
    ("Senate Date Signed by Governor", ("executive-signature",)),
    ("Act 1EX", ("became-law",)),
    ("Effective Date", ("x-procedural",)),
    # Floor: defeats, and the second defeat after a reconsideration (Open States: no label)
    ("House Third Reading Lost", ("failure",)),
    ("Senate Local Lost", ("failure",)),
    ("House Lost Reconsidered Bill/Resolution", ("failure",)),
    ("Senate Reconsidered Lost", ("failure",)),
    ("House Notice to Reconsider", ("x-procedural",)),
    ("Senate Notice to Reconsider", ("x-procedural",)),
    ("House Reconsidered", ("x-procedural",)),
    ("Senate Reconsidered", ("x-procedural",)),
    ("Senate Tabled", ("deferral",)),  # reversible: "Taken from Table" follows for SB 5 and SB 6
    ("Senate Taken from Table", ("x-procedural",)),
    # Floor: passage
    ("House Passed/Adopted", ("passage",)),
    ("Senate Passed/Adopted", ("passage",)),
    ("Senate Passed/Adopted As Amended", ("passage",)),
    ("House Passed/Adopted By Substitute", ("passage",)),
    ("House Read and Adopted", ("passage",)),
    ("Senate Read and Adopted", ("passage",)),
    ("Senate Agreed House Amend or Sub", ("amendment-passage", "passage")),  # final passage; Open States: none
    ("Senate Engrossed", ("x-procedural",)),  # no more amendments; Open States: passage
    ("House Immediately Transmitted to Senate", ("x-procedural",)),
    # Committees
    ("House Committee Favorably Reported", ("committee-passage-favorable",)),
    ("Senate Committee Favorably Reported", ("committee-passage-favorable",)),
    ("House Committee Favorably Reported By Substitute", ("committee-passage-favorable",)),
    ("Senate Read and Referred", ("reading-1", "referral-committee")),
    # Introduction and readings
    ("House Hopper", ("introduction",)),
    ("Senate Hopper", ("introduction",)),
    ("House First Readers", ("reading-1",)),
    ("House Second Readers", ("reading-2",)),
    ("Senate Read Second Time", ("reading-2",)),
    ("House Third Readers", ("reading-3",)),
    ("Senate Third Read", ("reading-3",)),
]

# Outcomes the special session does not show; the wording is the Assembly's status names as other
# readers of its service give them. Kept apart so nobody takes them for recorded strings.
UNVERIFIED_WORDING_CASES = [
    ("Veto V1", ("executive-veto",)),
    ("House Vetoed", ("executive-veto",)),
    ("House Veto Overridden", ("veto-override-passage",)),
    ("Act 345", ("became-law",)),
    ("Senate Committee Unfavorably Reported", ("committee-passage-unfavorable",)),
    ("House Withdrawn & Recommitted", ("referral-committee",)),
    ("Senate Disagreed House Amend or Sub", ("x-procedural",)),
]


@pytest.mark.parametrize("text, expected", GA_CASES)
def test_georgia_rules(text, expected):
    found = classify("ga", text)
    assert (found.classes, found.layer) == (expected, "state")


@pytest.mark.parametrize("text, expected", UNVERIFIED_WORDING_CASES)
def test_georgia_rules_for_outcomes_not_yet_recorded(text, expected):
    found = classify("ga", text)
    assert (found.classes, found.layer) == (expected, "state")


def test_act_number_is_the_chapter():
    assert classify("ga", "Act 1EX").facts == {"chapter": "1EX"}


def test_unknown_text_is_unclassified_not_guessed():
    assert classify("ga", "House Something Never Written").unclassified


# ---- the whole special session --------------------------------------------------------------------

@pytest.fixture(scope="module")
def session():
    return session_items("ga_2026_ss"), session_report("ga_2026_ss")


def test_session_is_read_whole_and_classified_by_our_table(session):
    _, report = session
    assert (report.bills, report.actions) == (176, 1046)
    assert report.problems == [] and report.without_status == 0
    assert unclassified_share(report) <= 0.03
    assert report.unclassified_actions == 0 and report.unclassified_by_rules == 0
    assert report.upstream_unlabelled == 273  # 26% of the actions Open States leaves without a label
    # Every distinct line of the session is in GA_CASES.
    assert {" ".join(a.text.split()) for b in session[0] for a in b.actions} <= {t for t, _ in GA_CASES}


def test_no_status_rests_on_upstream_labels(session):
    _, report = session
    assert report.basis["upstream"] == 0
    # 16 bills never left the first chamber's committee stage; the calendar says they died at sine die.
    assert report.basis["calendar"] == 16


# After reading every bill's actions: no disagreement (one law, SB 3; no veto).
KNOWN_DISAGREEMENTS: dict[str, tuple[str | None, str]] = {}


def test_enacted_and_vetoed_agree_with_open_states(session):
    _, report = session
    assert {d.key: (d.upstream, d.ours) for d in report.disagreements} == KNOWN_DISAGREEMENTS
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (1, 1, 1)
    assert report.upstream["vetoed"] == report.ours["vetoed"] == 0


def _status(items, identifier):
    [bill] = [b for b in items if b.identifier == identifier]
    return normalize_bill(bill)


def test_the_one_law(session):
    norm = _status(session[0], "SB 3")
    assert norm.key == "ga-2026ss-SB3"
    assert (label_of(norm.status), norm.status.chapter) == ("enacted/signed", "1EX")
    assert norm.actions[norm.status.cause_index].text == "Senate Date Signed by Governor"


@pytest.mark.parametrize("identifier, label, last_cause", [
    # "Third Reading Lost", reconsidered, lost again: defeated.
    ("HB 1", "failed/defeated", "House Third Reading Lost"),
    # "Local Lost", reconsidered, "Reconsidered Lost".
    ("SB 1", "failed/defeated", "Senate Local Lost"),
    # "Local Lost", reconsidered, tabled and never taken up again: the defeat stands.
    ("SB 7", "failed/defeated", "Senate Local Lost"),
    ("HR 3", "adopted", "House Passed/Adopted"),
])
def test_outcomes_of_single_bills(session, identifier, label, last_cause):
    norm = _status(session[0], identifier)
    assert label_of(norm.status) == label
    assert norm.actions[norm.status.cause_index].text == last_cause


def test_single_bill_file():
    path = shared_file("fixtures/states/ga/openstates_scrape_json/2026_ss__HR43.json")
    norm = normalize_bill(parse_ocd_bill(json.loads(path.read_text(encoding="utf-8")), fetched_at=FETCHED))
    assert (norm.key, label_of(norm.status)) == ("ga-2026ss-HR43", "adopted")
    assert all(c.layer == "state" for c in norm.classifications)


def test_calendar():
    calendar = session_calendar("ga", "2026ss")
    assert (calendar.start_date.isoformat(), calendar.final_action_date.isoformat(), calendar.carry_over) == \
        ("2026-06-17", "2026-08-02", "none")
