"""Oklahoma action rules (tracker/normalize/rules/ok.toml): real strings -> our classes, and both
annual sessions of the 60th Legislature (2025, 2026) of Open States output measured against Open
States' own labels, with the session calendars (tracker/data/sessions/ok.toml)."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from tests.conftest import session_items, session_report
from tracker.calendar import session_calendar
from tracker.normalize.actions import classify
from tracker.normalize.agreement import unclassified_share
from tracker.normalize.bill import normalize_bill
from tracker.normalize.identifiers import canonical_session
from tracker.scraped import ScrapedBill

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)
SESSIONS = {"2025": "fixtures/states/openstates_sessions/ok_2025.jsonl.gz",
            "2026": "fixtures/states/openstates_sessions/ok_2026.jsonl.gz"}

# Real OK strings from the two session files, with the classes we expect, written from reading each
# string and the bills it appears on.
OK_CASES = [
    # The Governor, vetoes, overrides
    ("Approved by Governor 05/05/2025", ("executive-signature",)),
    ("Vetoed 05/14/2025", ("executive-veto",)),
    ("Pocket veto 06/15/2025", ("executive-veto", "veto-override-failure")),
    ("Line item vetoed 05/24/2025", ("executive-veto-line-item",)),
    (("(1) the provision in Section 2 that amends 51 OS 2021, 154.B to add a new subsection B.8, and (2) "
      "Section 4."), ("x-procedural",)),
    # Open States: no class in the 2025 file (`became-law` in the 2026 copy of the same bills).
    ("Becomes law without Governor's signature 05/25/2025", ("x-law-without-signature", "became-law")),
    ("Veto overridden:  Ayes: 91  Nays: 1", ("veto-override-passage",)),  # one chamber's vote
    ("Veto override failed:  Ayes: 30  Nays: 15", ("veto-override-failure",)),
    ("Veto override message received", ("x-procedural",)),
    ("Sent to Governor", ("executive-receipt",)),
    # After both chambers' overrides, and for adopted resolutions. Open States: no class.
    ("Filed with Secretary of State", ("became-law",)),
    ("Enrolled, signed, filed with Secretary of State", ("became-law",)),
    ("Enrolled, filed with Secretary of State", ("became-law",)),
    ("Died in conference", ("x-died-adjournment",)),
    # The bill's own floor votes
    ("Third Reading, Measure passed:  Ayes: 76 Nays: 11", ("reading-3", "passage")),
    ("Third Reading, Measure and Emergency passed:  Ayes: 91 Nays: 0", ("reading-3", "passage")),
    ("Third Reading, Measure passed and Emergency failed:  Ayes: 64 Nays: 30; Ayes: 64 Nays: 30",
     ("reading-3", "passage")),
    ("Third Reading, Measure failed:  Ayes: 48 Nays: 47", ("reading-3", "failure")),
    # Open States: `passage` only, never a reading; and no class at all for the Senate's wording.
    ("Measure passed:  Ayes: 38  Nays: 5", ("passage",)),
    ("Measure and Emergency passed, to House:  Ayes: 45  Nays: 2", ("passage",)),
    ("Measure passed, to House:  Ayes: 35  Nays: 12", ("passage",)),
    ("Fourth Reading, Measure passed:  Ayes: 77  Nays: 8", ("passage",)),
    ("Fourth Reading, Measure and Emergency Passed:  Ayes: 88  Nays: 0", ("passage",)),
    ("Measure failed:  Ayes: 17  Nays: 25", ("failure",)),
    ("Fourth Reading, Measure failed:  Ayes: 38  Nays: 48", ("failure",)),
    ("Adopted, referred for enrollment", ("passage",)),
    ("Adopted, returned to House", ("passage",)),
    # The emergency clause's own vote is not the bill's.
    ("Emergency passed:  Ayes: 32 Nays: 12", ("x-procedural",)),
    ("Emergency failed:  Ayes: 31 Nays: 14", ("x-procedural",)),
    ("Emergency passed, to House:  Ayes: 39 Nays: 3", ("x-procedural",)),
    ("Ayes:  47  Nays:  39", ("x-procedural",)),  # a bare tally: the question is not named
    # Amendments of the other chamber and conference
    ("SA's read, adopted", ("amendment-passage",)),
    ("HAs adopted", ("amendment-passage",)),
    ("SA's rejected, conference requested, conferees to be named later", ("amendment-failure",)),
    ("HAs rejected, conference requested", ("amendment-failure",)),
    ("SA's received", ("x-procedural",)),
    ("HAs read", ("x-procedural",)),
    ("CCR adopted", ("x-procedural",)),  # the "Fourth Reading" vote that follows is the passage
    ("JCR adopted", ("x-procedural",)),
    ("CCR read, GCCA", ("x-procedural",)),
    ("Conference granted, SCs named Howard, Frix, Paxton, Daniels, Stewart, Brooks", ("x-procedural",)),
    ("HC's named: Conference Committee on Health and Human Services Oversight", ("x-procedural",)),
    ("Conferees unable to agree", ("x-procedural",)),
    (("Fourth Reading rescinded, adoption of CCR rescinded, CCR rejected, further conference requested, "
      "HC's named: Special Conference Committee on HB 2104"), ("x-procedural",)),
    ("Amended", ("amendment-passage",)),
    ("General Order, Amended by Floor Substitute", ("amendment-passage",)),
    ("Amendment restored bill to engrossed version", ("amendment-passage",)),
    # Committees
    ("CR; Do Pass Judiciary and Public Safety Oversight Committee", ("committee-passage-favorable",)),
    ("CR; Do Pass, amended by committee substitute Appropriations and Budget Committee",
     ("committee-passage-favorable",)),
    ("JCR; Do pass, amended by committee substitute Joint Committee on Appropriations and Budget",
     ("committee-passage-favorable",)),
    ("Reported Do Pass Judiciary committee; CR filed", ("committee-passage-favorable",)),
    ("Reported Do Pass as amended Appropriations committee; CR filed", ("committee-passage-favorable",)),
    ("CR; Do Not Pass Public Safety Committee", ("committee-passage-unfavorable",)),  # not a pass
    ("Failed in Committee - Judiciary", ("committee-failure",)),
    # A step inside the committee (Open States: `committee-passage`); the oversight committee's CR reports.
    ("Policy recommendation to the Judiciary and Public Safety Oversight committee; Do Pass Civil Judiciary",
     ("x-procedural",)),
    ("Recommendation to the full committee; Do Pass Appropriations and Budget Finance Subcommittee",
     ("x-procedural",)),
    ("Second Reading referred to Judiciary and Public Safety Oversight", ("reading-2", "referral-committee")),
    ("Second Reading referred to Revenue and Taxation Committee then to Appropriations Committee",
     ("reading-2", "referral-committee")),
    ("Second Reading, direct to Joint Calendar", ("reading-2",)),
    ("Referred to Civil Judiciary", ("referral-committee",)),
    ("Withdrawn from Calendar; referred to Appropriations and Budget Committee", ("referral-committee",)),
    ("Withdrawn from Rules Committee", ("x-procedural",)),  # the bill goes on elsewhere: not a withdrawal
    ("Withdrawn from Rules, Direct to Calendar", ("x-procedural",)),
    # Introduction, authors
    ("First Reading", ("reading-1",)),
    ("Introduced", ("introduction",)),
    ("Authored by Representative Hilbert", ("x-procedural",)),
    ("Coauthored by Senator(s) Murdock", ("x-procedural",)),
    ("Remove as author Senator Bergstrom; authored by Senator Guthrie", ("x-procedural",)),
    # Engrossing and enrolling (Open States labels the engrossment lines `passage`)
    ("Referred for engrossment", ("x-procedural",)),
    ("Engrossed, signed, to Senate", ("x-procedural",)),
    ("Engrossed to House", ("x-procedural",)),
    ("Engrossed measure signed, returned to House", ("x-procedural",)),
    ("Referred for enrollment", ("x-procedural",)),
    ("Enrolled, signed, to Senate", ("enrolled",)),
    ("Enrolled measure signed, returned to House", ("enrolled",)),
    ("Signed, returned to Senate", ("x-procedural",)),
    # Calendars and other steps; striking the enacting clause or title does not end a bill
    ("Placed on General Order", ("x-procedural",)),
    ("General Order, Considered", ("x-procedural",)),
    ("Direct to Calendar", ("x-procedural",)),
    ("Enacting clause stricken", ("x-procedural",)),
    ("Enacting clause restored", ("x-procedural",)),
    ("Title stricken", ("x-procedural",)),
    ("Emergency added", ("x-procedural",)),
    ("Notice served to reconsider vote by Representative Moore", ("x-procedural",)),
    ("Motion to reconsider adopted: Ayes: 61 Nays: 12", ("x-procedural",)),
    ("Third Reading, advancement rescinded, returned to General Order", ("x-procedural",)),
    ("To Senate", ("x-procedural",)),
    ("Measure sent to House", ("x-procedural",)),
]

NEAR_MISSES = [
    "Withdrawn by author",  # a real withdrawal would need its own rule; not seen in OK
    "Bill dead",
    "Governor's message read",
]


@pytest.mark.parametrize("text, expected", OK_CASES)
def test_oklahoma_rules(text, expected):
    result = classify("ok", text)
    assert result.classes == expected
    assert result.layer == "state"


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_guessed_by_our_table(text):
    assert classify("ok", text).layer != "state"


# --- Both sessions ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bills() -> dict[str, list[ScrapedBill]]:
    parsed = {}
    for session, relative in SESSIONS.items():
        items = session_items(relative.rsplit("/", 1)[1].removesuffix(".jsonl.gz"))
        assert all(isinstance(item, ScrapedBill) for item in items)  # zero parse problems
        parsed[session] = items
    return parsed


@pytest.fixture(scope="module")
def reports(bills):
    return {session: session_report(f"ok_{session}") for session in bills}


@pytest.fixture(scope="module")
def statuses_2025(bills):
    return [(bill, normalize_bill(bill).status) for bill in bills["2025"]]


def _bill(bills, session: str, identifier: str) -> ScrapedBill:
    return next(b for b in bills[session] if b.identifier.replace(" ", "") == identifier)


# Every enacted / vetoed disagreement with Open States' own labels except the laws without
# signature (next test), after reading each bill's actions: key -> (Open States, ours).
# In all three, ONE chamber voted to override the veto and the other never voted before sine die
# (2025-05-29): Open States counts the single "Veto overridden" line as law; the constitution needs
# two-thirds of each chamber (art. VI §11), so the veto stands. We are right.
KNOWN_DISAGREEMENTS = {
    # Vetoed 05/28/2025; House "Veto overridden: Ayes: 78 Nays: 0" 2025-05-29, "To Senate", nothing after.
    "HB1521": ("enacted", "vetoed"),
    # Vetoed 05/10/2025; Senate "Veto overridden: Ayes: 47 Nays: 0" 2025-05-29, "Measure sent to House",
    # "Veto override message received" in the House, nothing after.
    "SB773": ("enacted", "vetoed"),
    # Vetoed 05/27/2025; Senate "Veto overridden: Ayes: 40 Nays: 7" 2025-05-29, message received, nothing after.
    "SB915": ("enacted", "vetoed"),
}
# Oklahoma's "Becomes law without Governor's signature MM/DD/YYYY" has no Open States class in the
# 2025 file, so Open States' labels leave these laws pending; we are right (the 2026 copy of the same
# bills carries `became-law`, and there we agree). 299 bills (and 6 joint resolutions, which the
# comparison of outcomes leaves out: tracker.normalize.agreement).
LAW_WITHOUT_SIGNATURE_2025 = 299


@pytest.mark.parametrize("session, bills_n, actions_n", [("2025", 3257, 30574), ("2026", 3682, 31349)])
def test_session_figures(reports, session, bills_n, actions_n):
    report = reports[session]
    assert (report.bills, report.problems, report.without_status, report.actions) == (bills_n, [], 0, actions_n)
    assert unclassified_share(report) <= 0.03
    assert report.unclassified_actions == 0
    assert report.unclassified_by_rules == 0  # our table reads every action itself
    assert report.basis["upstream"] == 0  # no status rests on Open States' labels


@pytest.mark.parametrize("session", ["2025", "2026"])
def test_every_disagreement_is_known(reports, session):
    report = reports[session]
    listed = {d.key.removeprefix("ok-20252026-"): (d.upstream, d.ours) for d in report.disagreements
              if not (d.upstream is None and d.decisive.startswith("Becomes law without Governor's signature"))}
    assert listed == KNOWN_DISAGREEMENTS
    # Open States' vetoed bills are all ours too; ours add the three it calls law.
    assert (report.upstream["vetoed"], report.ours["vetoed"], report.both["vetoed"]) == (24, 27, 24)


def test_laws_without_signature_open_states_leaves_pending_in_2025(reports):
    report = reports["2025"]
    unlabelled = [d for d in report.disagreements if d.upstream is None]
    assert len(unlabelled) == LAW_WITHOUT_SIGNATURE_2025
    assert all(d.ours == "enacted" and d.decisive.startswith("Becomes law without Governor's signature")
               for d in unlabelled)
    assert (report.upstream["enacted"], report.ours["enacted"], report.both["enacted"]) == (198, 494, 195)  # bills only: resolutions are counted apart
    # In the 2026 file Open States labels the same lines, and only the three single-chamber
    # overrides remain: 500 of 503 agree.
    later = reports["2026"]
    assert (later.upstream["enacted"], later.ours["enacted"], later.both["enacted"]) == (497, 494, 494)  # bills only: resolutions are counted apart


def test_one_chamber_override_is_not_law(bills):
    status = normalize_bill(_bill(bills, "2025", "HB1521")).status
    # Vetoed; the window closed with the 60th Legislature (2026-06-13), so no override is possible.
    assert (status.status, status.status_date, status.override_possible) == ("vetoed", date(2025, 5, 28), False)


def test_two_chamber_override_is_law(bills):
    # HB 1137: vetoed, overridden in the House and then in the Senate (2025-05-29), filed with the
    # Secretary of State.
    norm = normalize_bill(_bill(bills, "2025", "HB1137"))
    texts = [a.text for a in norm.actions]
    assert sum(t.startswith("Veto overridden") for t in texts) == 2
    assert texts[-1] == "Filed with Secretary of State"
    assert (norm.status.status, norm.status.enacted_how) == ("enacted", "veto_overridden")


def test_line_item_veto_with_signature(bills):
    status = normalize_bill(_bill(bills, "2025", "HB2235")).status
    assert (status.status, status.enacted_how, status.partial_veto) == ("enacted", "signed", True)


def test_pocket_veto_cannot_be_overridden(bills):
    status = normalize_bill(_bill(bills, "2025", "HB2513")).status
    assert (status.status, status.override_possible) == ("vetoed", False)


def test_died_in_conference(bills):
    status = normalize_bill(_bill(bills, "2025", "HB1224")).status
    assert (status.status, status.failed_how, status.status_date) == ("failed", "died_at_adjournment",
                                                                      date(2025, 5, 30))


def test_passage_comes_from_the_vote_not_the_engrossment(bills):
    # HB 1001: "Third Reading, Measure passed" then "Engrossed, signed, to Senate" (Open States: passage).
    norm = normalize_bill(_bill(bills, "2025", "HB1001"))
    passages = [a.text for a, c in zip(norm.actions, norm.classifications, strict=True) if "passage" in c.classes]
    assert passages and all("Measure" in text and "passed" in text.lower() for text in passages)


def test_status_counts_2025(statuses_2025):
    statuses = Counter()
    for bill, status in statuses_2025:
        statuses[(str(bill.kind), str(status.status), str(status.enacted_how or status.failed_how or ""))] += 1
    assert statuses == {
        ("bill", "enacted", "signed"): 148,
        ("bill", "enacted", "law_without_signature"): 299,
        ("bill", "enacted", "veto_overridden"): 47,
        ("bill", "vetoed", ""): 27,
        ("bill", "failed", "defeated"): 18,
        ("bill", "failed", "died_in_committee"): 30,
        ("bill", "failed", "died_at_adjournment"): 2549,  # 9 "Died in conference", the rest the calendar
        ("joint_resolution", "enacted", "law_without_signature"): 6,  # rules disapprovals via the Governor
        ("joint_resolution", "failed", "died_at_adjournment"): 51,
        ("concurrent_resolution", "adopted", ""): 19,
        ("concurrent_resolution", "failed", "died_at_adjournment"): 11,
        ("resolution", "adopted", ""): 44,
        ("resolution", "failed", "died_at_adjournment"): 8,
    }


# --- The calendar: the 2025 session carries over into 2026 --------------------------------


def test_every_2025_measure_is_carried_into_the_2026_session(bills):
    first = {b.identifier: [(a.date, a.text) for a in b.actions] for b in bills["2025"]}
    second = {b.identifier: [(a.date, a.text) for a in b.actions] for b in bills["2026"]}
    assert set(first) <= set(second) and len(second) - len(first) == 425
    # Same bill, same history: the 2026 copy adds at most a few lines of 2026-02-02. The one exception
    # is HCR 1004, whose 2025 copy repeats its "Withdrawn from Calendar; referred to Appropriations and
    # Budget Committee" line once more (dated 2025-04-01).
    def in_2025(history):
        return [line for line in history if line[0] < date(2026, 1, 1)]

    differ = [key for key, history in first.items() if in_2025(second[key]) != in_2025(history)]
    assert differ == ["HCR1004"]
    assert max(when for history in second.values() for when, _ in history if when) == date(2026, 2, 2)


def test_calendar_one_legislature_two_annual_sessions(bills):
    # Open States' "2025" and "2026" are the one 60th Legislature: a carried bill is one bill, one key.
    legislature = session_calendar("ok", "20252026")
    assert (legislature.carry_over, legislature.start_date) == ("none", date(2025, 1, 7))
    # A 2025 bill can still move until the 60th Legislature's last day.
    assert legislature.final_action_date == date(2026, 6, 13)
    assert {canonical_session("ok", "2025"), canonical_session("ok", "2026")} == {"20252026"}
    assert {b.session for b in bills["2025"] + bills["2026"]} == {"20252026"}


def test_pending_2025_bills_die_with_the_legislature_not_in_2025(statuses_2025):
    dates = Counter()
    for _, status in statuses_2025:
        if status.basis == "calendar":
            dates[status.status_date] += 1
    assert dates == {date(2026, 6, 13): 2610}
