"""Florida action rules (tracker/normalize/rules/fl.toml): real flsenate.gov history lines -> our
classes, and the 2026 Regular Session and Special Session F (openstates_sessions/fl_2026*.jsonl.gz)
read with them: coverage, statuses, and agreement with Open States' own labels."""

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
SESSIONS = "fixtures/states/openstates_sessions"

# Real lines of fl_2026 / fl_2026F, with the classes we expect, written from reading each line.
FL_CASES = [
    # Governor and law
    ("Signed by Officers and presented to Governor", ("executive-receipt",)),
    ("Approved by Governor", ("executive-signature",)),
    ("Vetoed by Governor", ("executive-veto",)),
    ("Chapter No. 2026-12", ("became-law",)),
    ("Chapter No. 2026-76, companion bill(s) passed, see CS/HB 559 (Ch. 2026-78)", ("became-law",)),
    ("Signed by Officers and filed with Secretary of State", ("x-procedural",)),  # a joint resolution
    ("Ordered enrolled", ("enrolled",)),
    ("Ordered engrossed, then enrolled", ("enrolled",)),
    # Ends of the road. Open States labels every "Died ..." a `failure` (a defeat).
    ("Died in Rules", ("committee-failure",)),
    ("Died in Health Professions & Programs Subcommittee", ("committee-failure",)),
    ("Died in Messages", ("x-died-adjournment",)),
    ("Died in returning Messages", ("x-died-adjournment",)),
    ("Died on Calendar", ("x-died-adjournment",)),
    ("Died on Second Reading Calendar", ("x-died-adjournment",)),
    ("Died pending reference review under Rule 4.7(2)", ("x-died-adjournment",)),
    ("Died, not introduced", ("x-died-adjournment",)),
    ("Died in Rules, companion bill(s) passed, see CS/HB 925 (Ch. 2026-112)", ("x-incorporated",)),
    ("Laid on Table, companion bill(s) passed, see CS/HB 559 (Ch. 2026-78)", ("x-incorporated",)),
    ("Laid on Table, refer to CS/CS/SB 1134", ("x-incorporated",)),
    ("Laid on Table, refer to CS/SB 4-F", ("x-incorporated",)),
    ("Original bill laid on Table, refer to combined CS/SB 658", ("x-incorporated",)),
    ("Laid on Table", ("deferral", "x-tabled")),
    # House Rule 7.18(a): the committee substitute replaces the original version. Open States: deferral.
    ("Laid on Table under Rule 7.18(a)", ("x-procedural",)),
    ("Withdrawn from further consideration", ("withdrawal",)),
    ("Withdrawn prior to introduction", ("withdrawal",)),
    # A committee discharge (the next line is "Placed on Calendar"). Open States: withdrawal.
    ("Withdrawn from Rules", ("x-procedural",)),
    ("Withdrawn from Appropriations", ("x-procedural",)),
    # Floor
    ("Passed; YEAS 115, NAYS 0", ("passage",)),
    ("CS passed; YEAS 35 NAYS 2", ("passage",)),
    ("CS passed as amended; YEAS 35 NAYS 2", ("passage",)),
    ("Passed as amended; YEAS 38 NAYS 0", ("passage",)),
    ("Adopted", ("passage",)),
    ("Adopted by Publication", ("passage",)),
    ("Adopted, companion bill(s) passed, see HR 8001 (Adopted)", ("passage",)),
    ("Substituted for CS/SB 1134", ("x-procedural",)),
    ("Substituted CS/HB 1245", ("x-procedural",)),
    # The bracket is the companion's fate, not this bill's. Open States: executive-veto.
    ("Substituted HB 893 (Vetoed by Governor)", ("x-procedural",)),
    ("Amendment 274134 adopted", ("amendment-passage",)),
    ("Amendment(s) adopted (274134, 623028)", ("amendment-passage",)),
    ("Amendment 865065 Failed", ("amendment-failure",)),
    ("Amendment(s) failed (102912, 229942, 682580)", ("amendment-failure",)),
    ("Amendment 123456 Concur", ("amendment-passage",)),
    ("Concurred in 1 amendment(s) (123456)", ("amendment-passage",)),  # the "passed" line follows
    ("Refused to concur, requested House to recede", ("x-procedural",)),
    ("Conference Committee appointed", ("x-procedural",)),
    ("Read 2nd time", ("reading-2",)),
    ("Read 3rd time", ("reading-3",)),
    ("1st Reading (Original Filed Version)", ("reading-1",)),
    ("1st Reading (Committee Substitute 1)", ("reading-1",)),
    ("CS by Appropriations read 1st time", ("reading-1",)),
    ("In Messages", ("x-procedural",)),
    ("Received", ("receipt",)),  # in the second chamber; Open States: enrolled
    ("Immediately certified", ("x-procedural",)),
    ("Placed on Calendar, on 2nd reading", ("x-procedural",)),
    ("Placed on Special Order Calendar, 02/25/26", ("x-procedural",)),
    ("Bill added to Special Order Calendar (3/5/2026)", ("x-procedural",)),
    ("Bill released to House Calendar", ("x-procedural",)),
    ("Retained on Special Order Calendar", ("x-procedural",)),
    ("Temporarily postponed, on 2nd Reading", ("x-procedural",)),
    # Committees
    ("Favorable by Commerce and Tourism; YEAS 10 NAYS 0", ("committee-passage-favorable",)),
    ("Favorable by- Rules; YEAS 24 NAYS 0", ("committee-passage-favorable",)),
    ("Favorable with CS by State Affairs Committee", ("committee-passage-favorable",)),
    ("Favorable with 1 amendment(s) by- Appropriations (123456); YEAS 18 NAYS 0",
     ("committee-passage-favorable",)),
    ("CS by- Appropriations; YEAS 18 NAYS 0", ("committee-passage-favorable",)),  # Open States: none
    ("CS/CS by Appropriations Committee on Health and Human Services; YEAS 9 NAYS 0",
     ("committee-passage-favorable",)),
    ("Submitted as Committee Bill and Reported Favorably by Appropriations; YEAS 18 NAYS 0",
     ("committee-passage-favorable",)),
    ("Unfavorable by Fiscal Policy; YEAS 8 NAYS 10", ("committee-passage-unfavorable",)),
    ("Reported out of State Affairs Committee", ("committee-passage",)),
    ("Referred to Commerce and Tourism; Appropriations", ("referral-committee",)),
    ("Referred to State Affairs Committee", ("referral-committee",)),
    ("Remaining references corrected to Rules", ("referral-committee",)),
    ("Now in Industries & Professional Activities Subcommittee", ("x-procedural",)),
    ("Added to Commerce Committee agenda", ("x-procedural",)),
    ("On Committee agenda-- Appropriations, 02/18/26, 1:30 pm, 412 Knott Building", ("x-procedural",)),
    ("Pending reference review under Rule 4.7(2) - (Committee Substitute)", ("x-procedural",)),
    ("Recommendation: Favorable by Special Master on Claim Bills", ("x-procedural",)),
    ("CS Filed", ("x-procedural",)),  # a new version of the same bill; Open States: filing
    # Introduction
    ("Filed", ("filing",)),
    ("Introduced", ("introduction",)),
]

# Outcomes no 2026 line shows, kept apart so nobody takes them for recorded strings.
UNVERIFIED_WORDING_CASES = [
    ("Became Law without Governor's Signature", ("x-law-without-signature", "became-law")),
]


@pytest.mark.parametrize("text, expected", FL_CASES)
def test_florida_rules(text, expected):
    found = classify("fl", text)
    assert (found.classes, found.layer) == (expected, "state")


@pytest.mark.parametrize("text, expected", UNVERIFIED_WORDING_CASES)
def test_florida_rules_for_outcomes_not_yet_recorded(text, expected):
    found = classify("fl", text)
    assert (found.classes, found.layer) == (expected, "state")


def test_facts_name_this_bills_chapter_and_the_companion_that_carried_it():
    assert classify("fl", "Chapter No. 2026-12").facts == {"chapter": "2026-12"}
    # This bill's own number, not the companion's in brackets.
    assert classify("fl", "Chapter No. 2026-76, companion bill(s) passed, see CS/HB 559 (Ch. 2026-78)").facts == \
        {"chapter": "2026-76"}
    assert classify("fl", "Laid on Table, companion bill(s) passed, see CS/HB 559 (Ch. 2026-78)").facts == \
        {"into": "CS/HB 559"}  # never the companion's chapter
    assert classify("fl", "Laid on Table, refer to CS/SB 4-F").facts == {"into": "CS/SB 4-F"}


def test_unknown_text_is_unclassified_not_guessed():
    assert classify("fl", "Something the Clerk has never written").unclassified


# ---- whole sessions -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def regular():
    return session_items("fl_2026"), session_report("fl_2026")


@pytest.fixture(scope="module")
def special():
    return session_items("fl_2026F"), session_report("fl_2026F")


def test_regular_session_is_read_whole_and_classified_by_our_table(regular):
    _, report = regular
    assert (report.bills, report.actions) == (1897, 26432)
    assert report.problems == [] and report.without_status == 0
    assert unclassified_share(report) <= 0.03
    assert report.unclassified_actions == 0 and report.unclassified_by_rules == 0
    assert report.upstream_unlabelled == 10629  # Open States leaves 40% of the actions without a label


def test_special_session_is_read_whole_and_classified_by_our_table(special):
    _, report = special
    assert (report.bills, report.actions) == (5, 94)
    assert report.problems == [] and report.without_status == 0
    assert report.unclassified_actions == 0 and report.unclassified_by_rules == 0


def test_no_status_rests_on_upstream_labels(regular, special):
    assert regular[1].basis["upstream"] == 0 and special[1].basis["upstream"] == 0
    # One proposed Senate committee bill (SPB 7042) was submitted to a committee and never voted on:
    # the calendar says it died at sine die.
    assert regular[1].basis["calendar"] == 1


# Read from each bill's actions: on five Senate bills the Senate took up the House companion instead
# ("Substituted HB 893 (Vetoed by Governor)") and laid its own bill on the table the same day. The
# bracket reports the COMPANION's later fate (the House bills were vetoed 2026-06-25..30, months after
# the Senate bills' last line); Open States labels the line executive-veto, so it calls the Senate
# bills vetoed. They never reached the Governor: failed/tabled is right, Open States is wrong.
KNOWN_DISAGREEMENTS = {
    "fl-2026-SB1000": ("vetoed", "failed"),  # companion HB 893
    "fl-2026-SB1294": ("vetoed", "failed"),  # companion CS/CS/HB 1245
    "fl-2026-SB1300": ("vetoed", "failed"),  # companion CS/CS/HB 325
    "fl-2026-SB1366": ("vetoed", "failed"),  # companion HB 145
    "fl-2026-SB564": ("vetoed", "failed"),  # companion CS/HB 461
}


def test_enacted_and_vetoed_agree_with_open_states_but_for_the_known_disagreements(regular, special):
    _, report = regular
    assert {d.key: (d.upstream, d.ours) for d in report.disagreements} == KNOWN_DISAGREEMENTS
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (228, 228, 228)
    assert (report.upstream["vetoed"], report.ours["vetoed"], report.both["vetoed"]) == (13, 8, 8)
    assert all(d.decisive == "Laid on Table" for d in report.disagreements)
    _, report = special
    assert report.disagreements == []
    assert (report.upstream["enacted"], report.ours["enacted"]) == (1, 1)


def _norm(items, identifier):
    [bill] = [b for b in items if getattr(b, "identifier", None) == identifier]
    return normalize_bill(bill)


@pytest.mark.parametrize("identifier, label, chapter, into", [
    ("SB 1000", "failed/tabled", None, None),  # KNOWN_DISAGREEMENTS
    ("HB 893", "vetoed (override possible)", None, None),  # vetoed after sine die: the 2027 session may override it
    ("HB 1001", "failed/incorporated", None, "CS/CS/SB 1134"),  # "Laid on Table, refer to CS/CS/SB 1134"
    ("SB 1004", "enacted/signed", "2026-76", None),  # its own chapter, not the companion's 2026-78
    ("HB 1009", "failed/incorporated", None, "CS/HB 925"),  # "Died in Rules, companion bill(s) passed"
    ("SPB 7042", "failed/died_at_adjournment", None, None),  # by the calendar
])
def test_outcomes_of_single_bills(regular, identifier, label, chapter, into):
    items, _ = regular
    status = _norm(items, identifier).status
    assert (label_of(status), status.chapter, status.incorporated_into) == (label, chapter, into)
    assert status.basis == ("calendar" if identifier == "SPB 7042" else "state")


def test_special_session_bills(special):
    items, _ = special
    assert _norm(items, "SB 4F").key == "fl-2026F-SB4F"
    outcomes = {b.identifier: _norm(items, b.identifier).status for b in items}
    assert (outcomes["SB 4F"].status, outcomes["SB 4F"].chapter) == ("enacted", "2026-240")
    assert (outcomes["HB 3F"].status, outcomes["HB 3F"].failed_how, outcomes["HB 3F"].incorporated_into) == \
        ("failed", "incorporated", "CS/SB 4-F")
    assert str(outcomes["HJR 1F"].status) == "adopted"  # joint resolution: filed with the Secretary of State
    assert (outcomes["HJR 11F"].status, outcomes["HJR 11F"].failed_how) == ("failed", "died_in_committee")


@pytest.mark.parametrize("name, last_line, label", [
    ("2026__HB1395.json", "Died in Information Technology Budget & Policy Subcommittee",
     "failed/died_in_committee"),
    ("2026__SB146.json", "Died in Governmental Oversight and Accountability", "failed/died_in_committee"),
    # Passed the Senate, never taken up by the House. Open States: failure (a defeat); ours: adjournment.
    ("2026__SB482.json", "Died in Messages", "failed/died_at_adjournment"),
])
def test_single_bill_files(name, last_line, label):
    path = shared_file(f"fixtures/states/fl/openstates_scrape_json/{name}")
    norm = normalize_bill(parse_ocd_bill(json.loads(path.read_text(encoding="utf-8")), fetched_at=FETCHED))
    status = norm.status
    assert norm.actions[status.cause_index].text == last_line
    assert label_of(status) == label
    assert all(c.layer == "state" for c in norm.classifications)


def test_calendars():
    regular, special = session_calendar("fl", "2026"), session_calendar("fl", "2026F")
    assert (regular.start_date.isoformat(), regular.final_action_date.isoformat()) == ("2026-01-13", "2026-07-08")
    assert (special.start_date.isoformat(), special.final_action_date.isoformat()) == ("2026-06-01", "2026-07-08")
    assert regular.carry_over == special.carry_over == "none"
