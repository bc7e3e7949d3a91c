"""California action rules (tracker/normalize/rules/ca.toml): real strings -> our classes, the
<=5% unclassified measure on both CA sections of ACTION_STRINGS_SAMPLE.txt, and the statuses
they give the five Open States CA bills."""

import json

import pytest

from scrapers.openstates import parse_ocd_bill
from tests.conftest import shared_file
from tracker.normalize.actions import classify
from tracker.normalize.bill import normalize_bill

# Real CA history lines (pubinfo fixtures and the Open States CA JSON) and the classes we expect,
# written from reading each line. classify() collapses the runs of spaces pubinfo leaves.
CA_CASES = [
    # Governor and outcomes
    ("Approved by the Governor.", ("executive-signature",)),
    ("Chaptered by Secretary of State - Chapter 623, Statutes of 2025.", ("became-law",)),
    ("Chaptered by Secretary of State. Chapter 138, Statutes of 2025.", ("became-law",)),
    ("Vetoed by the Governor.", ("executive-veto",)),
    ("Vetoed by Governor.", ("executive-veto",)),
    ("In Senate. Consideration of Governor's veto pending.", ("x-veto-pending",)),
    ("Consideration of Governor's veto pending.", ("x-veto-pending",)),
    ("Veto sustained.", ("veto-override-failure",)),
    ("Stricken from file.", ("veto-override-failure",)),  # Joint Rule 58.5: the veto stands
    ("Enrolled and presented to the Governor at  3 p.m.", ("enrolled", "executive-receipt")),
    ("Enrolled and presented to the Governor at 11 a.m.", ("enrolled", "executive-receipt")),
    # Floor
    ("Read third time. Passed. Ordered to the Senate. (Ayes 77. Noes  0. Page 1420.)",
     ("reading-3", "passage")),
    ("Read third time. Passed. (Ayes 38. Noes  0. Page 1323.) Ordered to the Assembly.",
     ("reading-3", "passage")),
    ("Read third time. Passed. Ordered to the Assembly. (Ayes 36. Noes  0. Page 2622.).",
     ("reading-3", "passage")),
    ("Read third time and amended. Ordered to second reading.", ("reading-3", "amendment-passage")),
    ("Read third time and amended.", ("reading-3", "amendment-passage")),
    ("Assembly amendments concurred in. (Ayes 40. Noes  0. Page 2741.) Ordered to engrossing and enrolling.",
     ("amendment-passage", "passage")),
    ("Senate amendments concurred in. To Engrossing and Enrolling. (Ayes 79. Noes  0. Page 3366.).",
     ("amendment-passage", "passage")),
    ("In Assembly.  Concurrence in Senate amendments pending.", ("x-procedural",)),
    ("Read second time. Ordered to third reading.", ("reading-2",)),
    ("Read second time. Ordered to Consent Calendar.", ("reading-2",)),
    ("Read second time and amended.  Ordered returned to second reading.",
     ("reading-2", "amendment-passage")),
    ("Read second time and amended.  Re-referred to Com. on  APPR.",
     ("reading-2", "amendment-passage", "referral-committee")),
    ("Introduced.  Read first time.  To Com. on RLS. for assignment.  To print.",
     ("introduction", "reading-1")),
    ("Read first time.  To print.", ("introduction", "reading-1")),
    ("In Senate.  Read first time.  To Com. on RLS. for assignment.", ("receipt", "reading-1")),
    ("In Assembly.  Read first time.  Held at Desk.", ("receipt", "reading-1")),
    # Committees
    ("From committee: Do pass. (Ayes  6. Noes  0. Page 1194.) (May  23).", ("committee-passage-favorable",)),
    ("From committee:  Do pass. (Ayes  7. Noes  0.) (August  29).", ("committee-passage-favorable",)),
    ("From committee: Do pass. To Consent Calendar. (Ayes 14. Noes  0.) (June  10).",
     ("committee-passage-favorable",)),
    ("From committee: Do pass and re-refer to Com. on  APPR. with recommendation: To consent calendar. "
     "(Ayes  5. Noes  0. Page 567.) (March  26). Re-referred to Com. on  APPR.",
     ("committee-passage-favorable", "referral-committee")),
    ("From committee: Do pass as amended. (Ayes 11. Noes  0.) (August  29).",
     ("amendment-passage", "committee-passage-favorable")),
    ("From committee: Do pass as amended and re-refer to Com. on JUD. (Ayes 13. Noes 0. Page 530.) "
     "(March 25).",
     ("amendment-passage", "committee-passage-favorable", "referral-committee")),
    ("From committee: Amend, and do pass as amended. (Ayes  9. Noes  0.) (March  3).",
     ("amendment-passage", "committee-passage-favorable")),
    ("From committee: Amend, and do pass as amended and re-refer to Com. on  APPR. (Ayes  6. Noes  0.) "
     "(July  15).",
     ("amendment-passage", "committee-passage-favorable", "referral-committee")),
    ("From committee: That the Senate amendments be concurred in. (Ayes 20. Noes  0.) (September  11).",
     ("committee-passage-favorable",)),
    # Author's amendments taken without a committee vote: no committee passage.
    ("From committee with author's amendments. Read second time and amended. "
     "Re-referred to Com. on  L., P.E. & R.",
     ("amendment-passage", "reading-2", "referral-committee")),
    ("From committee chair, with author's amendments: Amend, and re-refer to Com. on P. & C.P. "
     "Read second time and amended.", ("amendment-passage", "reading-2", "referral-committee")),
    ("Referred to Com. on  L., P.E. & R.", ("referral-committee",)),
    ("Referred to Coms. on L. & E., P. & C.P., and JUD.", ("referral-committee",)),
    ("Re-referred to Com. on  RLS. pursuant to Senate Rule 29.10(c).", ("referral-committee",)),
    ("Re-referred to Coms. on  G.O. and  PUB. S.", ("referral-committee",)),
    # Recognised, no status effect
    ("In committee:  Referred to   suspense file.", ("x-procedural",)),
    ("April  7 hearing: Placed on  APPR. suspense file.", ("x-procedural",)),
    ("July  16 set for first hearing. Placed on  APPR. suspense file.", ("x-procedural",)),
    ("In committee: Set, first hearing. Referred to APPR. suspense file.", ("x-procedural",)),
    ("In committee: Set,  first hearing. Hearing canceled at the request of author.", ("x-procedural",)),
    ("July 8 hearing postponed by committee.", ("x-procedural",)),
    ("Set for hearing March  26.", ("x-procedural",)),
    ("From printer. May be acted upon on or after March  7.", ("x-procedural",)),
    ("From printer.  May be heard in committee  March  22.", ("x-procedural",)),
    ("Joint Rule 62(a), file notice suspended. (Page 3164.)", ("x-procedural",)),
    ("Assembly Rule 63 suspended. (Ayes 51. Noes 16. Page 1644.)", ("x-procedural",)),
    ("Coauthors revised.", ("x-procedural",)),
    ("Ordered to inactive file at the request of Senator Richardson.", ("x-procedural",)),
    ("From inactive file.", ("x-procedural",)),
    ("Ordered to special consent calendar.", ("x-procedural",)),
    ("From Consent Calendar.", ("x-procedural",)),
    ("Ordered to second reading.", ("x-procedural",)),
    # Open States tags this `withdrawal` (which would kill the bill); AB 831 went on to the floor.
    ("Withdrawn from committee.", ("x-procedural",)),
]


@pytest.mark.parametrize("text, expected", CA_CASES)
def test_california_rules(text, expected):
    assert classify("ca", text).classes == expected


# CA wording for outcomes the fixtures do not show (leginfo histories of other bills): kept apart
# so nobody mistakes them for fixture strings.
LEGINFO_WORDING = [
    ("Read third time. Urgency clause adopted. Passed. Ordered to the Assembly. (Ayes 40. Noes 0.)",
     ("reading-3", "passage")),
    ("Read third time. Refused passage. (Ayes 20. Noes 15.)", ("reading-3", "failure")),
    ("Consideration of Governor's veto stricken from file.", ("veto-override-failure",)),
    ("In committee: Held under submission.", ("committee-failure",)),
    ("Died pursuant to Art. IV, Sec. 10(c) of the Constitution.", ("x-died-adjournment",)),
    ("From committee: Filed with the Chief Clerk pursuant to Joint Rule 56.", ("x-died-adjournment",)),
    ("Chaptered by Secretary of State - Res. Chapter 12, Statutes of 2025.", ("x-procedural",)),
    ("Joint Rule 61(b)(11) suspended.", ("x-procedural",)),  # a waiver, not a death by deadline
]


@pytest.mark.parametrize("text, expected", LEGINFO_WORDING)
def test_california_wording_outside_the_fixtures(text, expected):
    assert classify("ca", text).classes == expected


def test_chapter_number_is_captured():
    assert classify("ca", "Chaptered by Secretary of State - Chapter 623, Statutes of 2025.").facts == {
        "chapter": "623"}
    assert classify("ca", "Chaptered by Secretary of State. Chapter 138, Statutes of 2025.").facts == {
        "chapter": "138"}


def test_smart_apostrophe_still_matches():
    text = "In Senate. Consideration of Governor\u2019s veto pending."
    assert classify("ca", text).classes == ("x-veto-pending",)


def test_unknown_text_stays_unclassified():
    assert classify("ca", "Zorbled by the Sergeant at Arms.").unclassified


def _section(header: str) -> list[str]:
    """Raw strings of one section of ACTION_STRINGS_SAMPLE.txt (part 2 lines lose their OS label)."""
    text = shared_file("fixtures/states/ACTION_STRINGS_SAMPLE.txt").read_text(encoding="utf-8")
    section = text.split(header, 1)[1].split("\n## ", 1)[0].split("\n# ", 1)[0]
    lines = [line for line in section.splitlines()[1:] if line.strip() and not line.startswith("#")]
    return [line.split("<- ", 1)[1] if "<- " in line else line for line in lines]


@pytest.mark.parametrize("header, size", [("## CA (pubinfo", 69), ("## CA (Open States", 119)])
def test_sample_strings_at_most_5_percent_unclassified(header, size):
    lines = _section(header)
    assert len(lines) == size
    missed = [line for line in lines if classify("ca", line).unclassified]
    assert len(missed) / len(lines) <= 0.05, missed
    assert missed == []  # today every sampled CA string is recognised


def test_we_classify_every_string_open_states_missed():
    text = shared_file("fixtures/states/OPENSTATES_CLASSIFIER_ON_FIXTURES.txt").read_text(encoding="utf-8")
    section = text.split("==== CA", 1)[1].split("====", 1)[0]
    their_misses = [line.split("<- ", 1)[1] for line in section.splitlines() if line.startswith("[]")]
    assert len(their_misses) == 21
    assert [line for line in their_misses if classify("ca", line).unclassified] == []


# The five Open States CA bills and the outcome their own actions spell out.
OPEN_STATES_OUTCOMES = {
    "SB53": ("enacted", "signed", "138", False),
    "AB853": ("enacted", "signed", "674", False),
    "SB243": ("enacted", "signed", "677", False),
    "SB7": ("vetoed", None, None, True),  # "Consideration of Governor's veto pending." is its last line
    "AB1064": ("vetoed", None, None, False),  # then "Stricken from file." (2026-01-22): the veto stands
}


@pytest.mark.parametrize("identifier", sorted(OPEN_STATES_OUTCOMES))
def test_open_states_ca_bills_get_the_outcome_their_actions_show(identifier):
    path = shared_file(f"fixtures/states/ca/openstates_scrape_json/20252026__{identifier}.json")
    norm = normalize_bill(parse_ocd_bill(json.loads(path.read_text(encoding="utf-8"))))
    status = norm.status
    assert norm.key == f"ca-20252026-{identifier}"
    assert (status.status, status.enacted_how, status.chapter, status.override_possible) == \
        OPEN_STATES_OUTCOMES[identifier]
    assert not [a.text for a, c in zip(norm.scraped.actions, norm.classifications) if c.unclassified]
