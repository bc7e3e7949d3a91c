"""New Jersey action rules (tracker/normalize/rules/nj.toml): real OLS bill-history lines -> our
classes, and the whole 222nd Legislature session (openstates_sessions/nj_222.jsonl.gz) read with them:
coverage, statuses, and agreement with Open States' own labels."""

from datetime import UTC, datetime

import pytest

from tests.conftest import session_items, session_report
from tracker.calendar import session_calendar
from tracker.normalize.actions import classify
from tracker.normalize.agreement import unclassified_share
from tracker.normalize.bill import label_of, normalize_bill

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the snapshots carry no fetch time of their own
SESSION_FILE = "fixtures/states/openstates_sessions/nj_222.jsonl.gz"

# Real lines of nj_222 (digits as written there), with the classes we expect, written from reading each.
NJ_CASES = [
    # Governor and law
    ("Approved P.L.2026, c.43.", ("executive-signature",)),
    ("Approved P.L.2026, c.5.", ("executive-signature",)),
    ("Approved P.L.2026, C.61.", ("executive-signature",)),
    ("Approved P.L.2026, JR-3.", ("executive-signature",)),  # a joint resolution's number
    ("Approved with Line Item Veto P.L.2026, c.27.", ("executive-signature", "executive-veto-line-item")),
    # The previous Legislature's bill became that law; this 2026 copy was withdrawn. Open States: no label.
    ("WITHDRAWN APP P.L.2025, c.244.", ("withdrawal",)),
    ("WITHDRAWN APP P.L.2025, JR-12.", ("withdrawal",)),
    ("WITHDRAWN APP P.L.2025, c304.", ("withdrawal",)),
    ("WITHDRAWN APP P.L.,2025, c.381.", ("withdrawal",)),
    # Ends of the road
    ("Withdrawn from Consideration", ("withdrawal",)),
    ("Substituted by S4514", ("x-incorporated",)),  # Open States: no label
    ("Substituted by S451 (2R)", ("x-incorporated",)),
    ("Substituted by A4085/4086 (ACS/1R)", ("x-incorporated",)),
    ("Substituted by SJR12 (1R)", ("x-incorporated",)),
    ("Combined with A4085 (ACS)", ("x-incorporated",)),
    ("Combined with S1193 (SCS)", ("x-incorporated",)),
    # Floor
    ("Passed Senate (33-4)", ("passage",)),
    ("Passed Assembly (57-22-0)", ("passage",)),
    ("Passed Senate (Passed Both Houses) (33-4)", ("passage",)),
    ("Passed Assembly (Passed Both Houses) (56-18-2)", ("passage",)),
    ("Passed Senate (Voice)", ("passage",)),
    ("Passed Assembly 71-0-0", ("passage",)),
    ("Substituted for S451 (2R)", ("x-procedural",)),
    ("Substituted for A2218 (ACS/2R)", ("x-procedural",)),
    ("Senate Amendment (Voice) (Ruiz)", ("amendment-passage",)),
    ("Senate Amendment (21-13) (Stack)", ("amendment-passage",)),
    ("Assembly Floor Amendment Passed (Voice) (Speight)", ("amendment-passage",)),
    ("Motion To Table (45-22-0) (Greenwald)", ("x-procedural",)),  # tables a motion, not the bill
    ("Motion To Table Sa (25-15) (Ruiz)", ("x-procedural",)),
    ("Motion To Aa (Kanitra)", ("x-procedural",)),
    ("Reconsidered Vote (20-15) (Stack)", ("x-procedural",)),
    ("Received in the Senate, 2nd Reading on Concurrence", ("receipt",)),
    ("Received in the Assembly without Reference, 2nd Reading", ("receipt", "reading-2")),
    # Committees: a report that goes on to another committee is a pass AND a referral
    ("Reported out of Senate Committee, 2nd Reading", ("committee-passage",)),
    ("Reported out of Assembly Committee with Amendments, 2nd Reading", ("committee-passage",)),
    ("Reported and Referred to Assembly Appropriations Committee", ("committee-passage", "referral-committee")),
    ("Reported out of Assembly Committee with Amendments and Referred to Assembly Housing Committee",
     ("committee-passage", "referral-committee")),
    ("Reported from Senate Committee as a Substitute, 2nd Reading", ("committee-passage",)),
    ("Received in the Senate, Referred to Senate Budget and Appropriations Committee",
     ("receipt", "referral-committee")),
    ("Referred to Senate Budget and Appropriations Committee", ("referral-committee",)),
    ("Transferred to Assembly Science, Innovation and Technology Committee", ("referral-committee",)),
    ("Recommitted to Assembly State and Local Government Committee", ("referral-committee",)),
    ("REF SSG", ("referral-committee",)),
    # Introduction
    ("Introduced in the Senate, Referred to Senate Commerce Committee", ("introduction", "referral-committee")),
    ("Introduced in the Assembly, Referred to Assembly Housing Committee",
     ("introduction", "referral-committee")),
    ("Introduced, 1st Reading without Reference, 2nd Reading", ("introduction", "reading-1")),
    # Recognised, no status effect
    ("Filed with Secretary of State", ("x-procedural",)),  # a one-house resolution, already adopted
    ("Placed on Desk in Senate", ("x-procedural",)),
]

# NJ outcomes no 2026 line shows (no veto by the fetch): OLS action-code wording, kept apart.
UNVERIFIED_WORDING_CASES = [
    ("Absolute Veto, Received in the Assembly", ("executive-veto",)),
    ("Conditional Veto, Received in the Senate", ("executive-veto",)),
    ("Pocket Veto - Bill not acted upon by Governor", ("executive-veto", "veto-override-failure")),
    ("APP W/LIV P.L.2027, c.10.", ("executive-signature", "executive-veto-line-item")),
    ("Veto Override Passed Senate (27-13)", ("veto-override-passage",)),
    ("Veto Override Failed Assembly (50-30-0)", ("veto-override-failure",)),
]


@pytest.mark.parametrize("text, expected", NJ_CASES)
def test_new_jersey_rules(text, expected):
    found = classify("nj", text)
    assert (found.classes, found.layer) == (expected, "state")


@pytest.mark.parametrize("text, expected", UNVERIFIED_WORDING_CASES)
def test_new_jersey_rules_for_outcomes_not_yet_recorded(text, expected):
    found = classify("nj", text)
    assert (found.classes, found.layer) == (expected, "state")


def test_the_law_number_is_this_bills_chapter_only_when_this_bill_was_approved():
    assert classify("nj", "Approved P.L.2026, c.43.").facts == {"chapter": "P.L.2026, c.43"}
    assert classify("nj", "Approved P.L.2026, JR-3.").facts == {"chapter": "P.L.2026, JR-3"}
    assert classify("nj", "Approved with Line Item Veto P.L.2026, c.27.").facts == {"chapter": "P.L.2026, c.27"}
    assert classify("nj", "WITHDRAWN APP P.L.2025, c.244.").facts == {}  # another bill's law


def test_substitution_and_combination_name_the_surviving_bill():
    assert classify("nj", "Substituted by S451 (2R)").facts == {"into": "S451"}
    assert classify("nj", "Combined with A4085 (ACS)").facts == {"into": "A4085"}


def test_unknown_text_is_unclassified_not_guessed():
    assert classify("nj", "Something OLS has never written").unclassified


# ---- the whole 2026-2027 session ------------------------------------------------------------------

@pytest.fixture(scope="module")
def session():
    return session_items("nj_222"), session_report("nj_222")


def test_session_is_read_whole(session):
    _, report = session
    assert report.bills == 10692 and report.problems == [] and report.without_status == 0
    assert report.actions == 13223


def test_session_actions_are_classified_by_our_table(session):
    _, report = session
    assert unclassified_share(report) <= 0.03
    assert report.unclassified_actions == 0 and report.unclassified_by_rules == 0
    # Open States leaves 685 of the same actions (68 distinct shapes) without a label.
    assert report.upstream_unlabelled == 685


def test_no_status_rests_on_upstream_labels(session):
    _, report = session
    assert report.basis["upstream"] == 0
    # 164 bills have no action at all: they exist, so they are `introduced` by default.
    assert report.basis["default"] == 164


# After reading every disagreeing bill's actions: none today (77 laws, no veto by the fetch).
KNOWN_DISAGREEMENTS: dict[str, tuple[str | None, str]] = {}


def test_enacted_and_vetoed_agree_with_open_states(session):
    _, report = session
    assert {d.key: (d.upstream, d.ours) for d in report.disagreements} == KNOWN_DISAGREEMENTS
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (74, 74, 74)  # bills only: resolutions are counted apart (tracker.normalize.agreement)
    assert report.upstream["vetoed"] == report.ours["vetoed"] == 0


def _status(items, identifier):
    [bill] = [b for b in items if getattr(b, "identifier", None) == identifier]
    return normalize_bill(bill).status


@pytest.mark.parametrize("identifier, label, chapter, into", [
    ("A3497", "enacted/signed", "P.L.2026, c.43", None),
    ("AJR119", "enacted/signed", "P.L.2026, JR-3", None),  # adopted by both houses, then approved
    ("A1052", "failed/withdrawn", None, None),  # WITHDRAWN APP P.L.2025, c.244.: not its own law
    ("A132", "failed/withdrawn", None, None),  # Withdrawn from Consideration
    ("A5347", "failed/incorporated", None, "S4514"),  # Substituted by S4514
    ("A4523", "failed/incorporated", None, "A4085"),  # Combined with A4085 (ACS)
])
def test_outcomes_of_single_bills(session, identifier, label, chapter, into):
    items, _ = session
    status = _status(items, identifier)
    assert (label_of(status), status.chapter, status.incorporated_into) == (label, chapter, into)
    assert status.basis == "state"


def test_budget_with_line_item_vetoes_is_law_with_a_partial_veto(session):
    items, _ = session
    status = _status(items, "A5327")  # Approved with Line Item Veto P.L.2026, c.27.
    assert (status.status, status.enacted_how, status.partial_veto) == ("enacted", "signed", True)


def test_withdrawn_copies_of_last_sessions_laws_are_never_laws(session):
    items, _ = session
    copies = [b for b in items if any(a.text.startswith("WITHDRAWN APP") for a in getattr(b, "actions", []))]
    assert len(copies) == 275
    assert {str(normalize_bill(b).status.status) for b in copies} == {"failed"}


def test_calendar_keeps_pending_bills_alive_until_the_two_year_session_ends():
    calendar = session_calendar("nj", "222")
    assert (calendar.start_date.isoformat(), calendar.final_action_date.isoformat(), calendar.carry_over) == \
        ("2026-01-13", "2028-01-18", "none")
