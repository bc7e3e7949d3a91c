"""Arizona action rules (tracker/normalize/rules/az.toml): real strings -> our classes, and the whole
57th Legislature 2nd Regular Session (2026) of Open States output measured against Open States' own
labels, with the session calendar (tracker/data/sessions/az.toml)."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from tests.conftest import session_items, session_report
from tracker.calendar import session_calendar
from tracker.normalize.actions import classify
from tracker.normalize.agreement import unclassified_share
from tracker.normalize.bill import normalize_bill
from tracker.scraped import ScrapedBill

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)
SESSION_FILE = "fixtures/states/openstates_sessions/az_57th-2nd-regular.jsonl.gz"

# Every distinct action string of the whole 2026 session (there are only 20), with the classes we
# expect, written from reading each string and the bills it appears on.
AZ_CASES = [
    # The Governor
    ("Signed by Governor", ("executive-signature",)),
    ("Vetoed by Governor", ("executive-veto",)),
    ("Transmit to Governor", ("executive-receipt",)),
    # Memorials and resolutions go to the Secretary of State, not the Governor. Open States:
    # `executive-receipt`, which would leave every adopted memorial "before the Governor".
    ("Transmit to Secretary of State", ("x-procedural",)),
    # Floor (the acting chamber comes from the action's actor)
    ("PASSED", ("passage",)),
    ("FAILED", ("failure",)),
    # Committee and Committee of the Whole reports. Open States labels DPA and DPA/SE
    # `amendment-passage` only, leaving the favourable report unread.
    ("DP", ("committee-passage-favorable",)),
    ("DPA", ("committee-passage-favorable", "amendment-passage")),
    ("DPA/SE", ("committee-passage-favorable", "amendment-passage")),
    # Withdrawn from one committee's assignment, not the bill withdrawn (Open States: `withdrawal`).
    ("W/D", ("x-procedural",)),
    # Introduction and readings
    ("Prefiled.", ("filing", "introduction")),
    ("House First Reading.", ("reading-1",)),
    ("House First Reading Waived", ("reading-1",)),
    ("Senate First Reading", ("reading-1",)),
    ("House Second Reading", ("reading-2",)),
    ("House Second Reading Waived.", ("reading-2",)),
    ("Senate Second Reading", ("reading-2",)),
    # Calendars and transmittals between the chambers
    ("House Placed on Consent Calendar", ("x-procedural",)),
    ("Transmit to House", ("x-procedural",)),
    ("Transmit to Senate", ("x-procedural",)),
]

# Not in the 2026 file: the Senate's form of a House line (the file has only the House's), and
# azleg.gov's "do not pass" code. Kept apart so nobody mistakes them for fixture strings.
AZ_COUNTERPARTS = [
    ("Senate First Reading Waived", ("reading-1",)),
    ("Senate Second Reading Waived.", ("reading-2",)),
    ("Senate Placed on Consent Calendar", ("x-procedural",)),
    ("DNP", ("committee-passage-unfavorable",)),  # an unfavourable report is not a pass
    ("  PASSED ", ("passage",)),  # white space is collapsed before matching
    ("Transmit to governor", ("executive-receipt",)),  # matching ignores case
]

# Near misses our table must not guess at: left to the generic table, the upstream label or
# `unclassified`.
NEAR_MISSES = [
    "HELD",
    "C&P",
    "PASSED ON RECONSIDERATION",
    "DP/PFC",
    "W/D AND REFERRED",
]


@pytest.mark.parametrize("text, expected", AZ_CASES + AZ_COUNTERPARTS)
def test_arizona_rules(text, expected):
    result = classify("az", text)
    assert result.classes == expected
    assert result.layer == "state"


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_guessed_by_our_table(text):
    assert classify("az", text).layer != "state"


# --- The whole session -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bills() -> list[ScrapedBill]:
    items = session_items("az_57th-2nd-regular")
    assert all(isinstance(item, ScrapedBill) for item in items)  # zero parse problems
    return items


@pytest.fixture(scope="module")
def report(bills):
    return session_report("az_57th-2nd-regular")


@pytest.fixture(scope="module")
def by_id(bills):
    return {bill.identifier.replace(" ", ""): bill for bill in bills}


def test_every_distinct_string_of_the_session_is_in_the_table_test(bills):
    strings = {" ".join(a.text.split()) for bill in bills for a in bill.actions}
    assert strings == {text for text, _ in AZ_CASES}


def test_session_figures(report):
    assert (report.bills, report.problems, report.without_status) == (2190, [], 0)
    assert report.actions == 14427
    assert unclassified_share(report) <= 0.03
    assert report.unclassified_actions == 0
    assert report.unclassified_by_rules == 0  # our table reads every action itself
    assert report.basis["upstream"] == 0  # no status rests on Open States' labels
    # Open States left 1,868 actions (DPA/SE, "Transmit to House/Senate", consent calendar) unlabelled.
    assert report.upstream_unlabelled == 1868


def test_enacted_and_vetoed_agree_with_open_states(report):
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (264, 264, 264)
    assert (report.upstream["vetoed"], report.ours["vetoed"], report.both["vetoed"]) == (151, 151, 151)
    assert report.disagreements == []  # KNOWN_DISAGREEMENTS would go here; there are none


def test_status_counts_after_sine_die(bills):
    statuses = Counter()
    for bill in bills:
        status = normalize_bill(bill).status
        statuses[(str(bill.kind), str(status.status), str(status.enacted_how or status.failed_how or ""))] += 1
    assert statuses == {
        ("bill", "enacted", "signed"): 264,
        ("bill", "vetoed", ""): 151,
        ("bill", "failed", "defeated"): 88,
        ("bill", "failed", "died_at_adjournment"): 1527,
        # 31 concurrent and 10 one-chamber memorials/resolutions were adopted, exactly the 41 measures
        # "Transmit to Secretary of State" (none is left "before the Governor").
        ("concurrent_resolution", "adopted", ""): 31,
        ("concurrent_resolution", "failed", "defeated"): 3,
        ("concurrent_resolution", "failed", "died_at_adjournment"): 111,
        ("resolution", "adopted", ""): 10,
        ("resolution", "failed", "defeated"): 1,
        ("resolution", "failed", "died_at_adjournment"): 4,
    }


def test_committee_withdrawal_does_not_end_the_bill(by_id):
    # HB 2013: "W/D" from one committee (2026-02-04), "DP" by another, passed both chambers, vetoed.
    norm = normalize_bill(by_id["HB2013"])
    texts = [a.text for a in norm.actions]
    assert "W/D" in texts and texts[-1] == "Vetoed by Governor"
    assert (norm.status.status, norm.status.basis) == ("vetoed", "state")


def test_memorial_is_adopted_not_before_the_governor(by_id):
    # HCM 2001: PASSED in the House and the Senate, then "Transmit to Secretary of State".
    norm = normalize_bill(by_id["HCM2001"])
    assert norm.actions[-1].text == "Transmit to Secretary of State"
    assert (norm.status.status, norm.status.status_date) == ("adopted", date(2026, 4, 20))


def test_veto_listed_before_its_transmittal_on_the_same_day(by_id):
    # HB 4138 (the general appropriations act vetoed 2026-05-05): Open States lists "Vetoed by
    # Governor" before "Transmit to Governor" on the same day; the transmittal must not undo the veto.
    norm = normalize_bill(by_id["HB4138"])
    assert [a.text for a in norm.actions][-2:] == ["Vetoed by Governor", "Transmit to Governor"]
    assert norm.status.status == "vetoed"


def test_calendar():
    calendar = session_calendar("az", "57th2ndregular")
    assert (calendar.start_date, calendar.final_action_date, calendar.carry_over) == (
        date(2026, 1, 12), date(2026, 6, 25), "none")


def test_no_action_dated_after_the_final_action_date(bills):
    last = max(a.date for bill in bills for a in bill.actions if a.date)
    assert last == date(2026, 6, 22)  # the last Governor lines
    assert last <= session_calendar("az", "57th2ndregular").final_action_date
