"""The generic table (tracker/normalize/rules/generic.toml), layer 2: real strings of many states, read
as a state with no table of its own would have them read ("zz" has none). Each row's string is real
(the state that wrote it in the comment); each bug fix adds a row."""

import pytest

from tracker.normalize.actions import classify, generic_table

CASES = [
    # Enactment and the Governor
    ("Governor Signed", ("executive-signature",)),  # CO, UT
    ("Signed by Governor", ("executive-signature",)),  # AZ
    ("Approved by Governor 06/10/2025", ("executive-signature",)),  # OK
    ("Governor approval 5/24/25", ("executive-signature",)),  # MN
    ("Senate Date Signed by Governor", ("executive-signature",)),  # GA
    ("Approved P.L.2026, c.43.", ("executive-signature",)),  # NJ
    ("Approved by Governor-Chapter 678 (effective 7/1/24)", ("executive-signature",)),  # VA
    ("Becomes law without Governor's signature 05/25/2025", ("x-law-without-signature", "became-law")),  # OK
    ("Became Law w/o Governor Signature", ("x-law-without-signature", "became-law")),  # UT
    ("Governor Line Item Veto", ("executive-signature", "executive-veto-line-item")),  # UT: the rest is law
    ("Line item vetoed 06/10/2025", ("executive-signature", "executive-veto-line-item")),  # OK
    ("Vetoed by Governor", ("executive-veto",)),  # AZ, FL, VA
    ("Governor Vetoed", ("executive-veto",)),  # CO, UT
    ("Vetoed 05/28/2025", ("executive-veto",)),  # OK
    ("Pocket veto 06/15/2025", ("executive-veto", "veto-override-failure")),  # OK: no override possible
    ("Veto overridden:  Ayes: 78  Nays: 0", ("veto-override-passage",)),  # OK: one chamber's vote
    ("Veto override message received", ("x-procedural",)),  # OK
    ("Veto override failed:  Ayes: 50 Nays: 40", ("veto-override-failure",)),  # OK
    ("House sustained Governor's veto", ("veto-override-failure",)),  # VA
    ("House Notification that HB1044 is now Act 36", ("became-law",)),  # AR (LegiScan)
    ("Chapter No. 2026-12", ("became-law",)),  # FL
    ("Chapter 167, 2026 Laws.", ("became-law",)),  # WA
    ("Chaptered by Secretary of State - Chapter 623, Statutes of 2025.", ("became-law",)),  # CA
    ("Sent to the Governor", ("executive-receipt",)),  # CO, TX
    ("Transmit to Governor", ("executive-receipt",)),  # AZ
    ("Senate/ to Governor", ("executive-receipt",)),  # UT
    ("Signed by Officers and presented to Governor", ("executive-receipt",)),  # FL
    ("House Correctly enrolled and ordered transmitted to the Governor's Office.", ("executive-receipt",)),  # AR
    ("Transmitted to Governor for his action.", ("executive-receipt",)),  # TN
    ("Ordered enrolled", ("enrolled",)),  # FL
    ("Signed by the Speaker of the House", ("x-procedural",)),  # CO: Open States says passage; it is not
    ("Signed by the President of the Senate", ("x-procedural",)),  # CO
    ("Senate concurred in Governor's recommendation (21-Y 19-N)", ("x-procedural",)),  # VA
    ("Effective date 6/11/2026.", ("x-procedural",)),  # WA: a law's attribute
    ("Continued to 2025 in Finance and Appropriations (13-Y 0-N)", ("x-carried-over",)),  # VA
    # Floor
    ("House/ passed 3rd reading", ("passage",)),  # UT
    ("Senate Third Reading Passed - No Amendments", ("passage",)),  # CO
    ("House Read the third time and passed and ordered transmitted to the Senate.", ("passage",)),  # AR
    ("PASSED Y24 N16", ("passage",)),  # AK (LegiScan)
    ("Passed Senate, Ayes 30, Nays 0", ("passage",)),  # TN
    ("Third Reading, Measure passed:  Ayes: 88 Nays: 0", ("passage",)),  # OK
    ("Fourth Reading, Measure and Emergency Passed:  Ayes: 88  Nays: 0", ("passage",)),  # OK
    ("Concurred, Ayes 91, Nays 0", ("passage",)),  # TN
    ("Rules Suspended, Concurred, voice vote", ("passage",)),  # TN
    ("House Considered Senate Amendments - Result was to Concur - Repass", ("passage",)),  # CO
    ("House Considered Senate Amendments - Result was to Concur - Not Repassed", ("failure",)),  # CO
    ("Third Reading Repassed", ("passage",)),  # MN
    ("Adopted", ("passage",)),  # FL, MI, MN, OK, TX (resolutions)
    ("House Third Reading Lost", ("failure",)),  # GA
    ("FAILED", ("failure",)),  # AZ
    ("Third Reading, Measure failed: Ayes: 40 Nays: 50", ("failure",)),  # OK
    # Readings that look like passage
    ("Passed on Second Consideration, refer to Senate Judiciary Committee", ("reading-2", "referral-committee")),
    ("Senate/ passed 2nd reading", ("reading-2",)),  # UT
    ("Passed First Reading", ("reading-1",)),  # TN
    ("House Third Reading Laid Over Daily - No Amendments", ("x-procedural",)),  # CO
    ("Passed by for the day", ("x-procedural",)),  # VA
    # Amendments are not the bill
    ("Senate adopted Amendment (Amendment 1 - SA0038)", ("amendment-passage",)),  # TN
    ("Failed to adopt H. Am No. 3, Ayes 3, Nays 90", ("amendment-failure",)),  # TN
    ("Amendment fails of adoption", ("amendment-failure",)),  # TX
    ("AM NO 1 FAILED Y10 N24 E5 A1", ("amendment-failure",)),  # AK
    ("Amendment withdrawn. (Amendment 2 - SA0120)", ("amendment-withdrawal",)),  # TN
    # Committees
    ("Failed in Senate Judiciary Committee", ("committee-failure",)),  # TN
    ("Died in Criminal Justice Subcommittee", ("committee-failure",)),  # FL
    ("House Committee on State, Civic, Military, & Veterans Affairs Postpone Indefinitely", ("failure",)),  # CO
    ("House Returned by the Committee Do Pass", ("committee-passage",)),  # AR
    ("Withdrawn and re-referred to Judiciary and Public Safety", ("referral-committee",)),  # MN: not a failure
    ("Withdrawn from Rules Committee", ("x-procedural",)),  # OK: out of one committee, on to the next
    ("Withdrawn from Rules", ("x-procedural",)),  # FL
    ("Second Reading referred to Rules", ("reading-2", "referral-committee")),  # OK
    # Introduction
    ("Introduced In House - Assigned to Appropriations", ("introduction", "reading-1", "referral-committee")),  # CO
    ("Introduced In Senate - Assigned to", ("introduction",)),  # CO, no committee named
    ("READ THE FIRST TIME - REFERRALS", ("introduction", "reading-1", "referral-committee")),  # AK
    ("Prefiled.", ("filing", "introduction")),  # AZ
    ("House First Reading.", ("reading-1",)),  # AZ
    ("Withdrawn prior to introduction", ("withdrawal",)),  # FL
]


@pytest.mark.parametrize("text, expected", CASES)
def test_generic_table_reads_real_strings(text, expected):
    result = classify("zz", text)
    assert (result.classes, result.layer) == (expected, "generic")


# Left unmatched on purpose: their effect differs between states (the table's header says why).
AMBIGUOUS = [
    "Withdrawn",  # MN "Withdrawn" (then second reading) vs a real withdrawal
    "Tabled",  # CT: a calendar step; IL: the end
    "House/ strike enacting clause",  # UT: fatal; OK: reversible ("Enacting clause restored")
    "Enacting clause stricken",
    "PUBLIC ACT 26-100",  # CT: assigned before the Governor acts
    "2nd Reading Calendar to Rules",
]


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_ambiguous_phrases_are_left_to_the_state_or_upstream(text):
    assert classify("zz", text).layer in ("none", "upstream")


def test_facts_are_captured():
    assert classify("zz", "Approved P.L.2026, c.43.").facts == {"chapter": "P.L.2026, c.43"}
    assert classify("zz", "Approved P.L.2026, JR-3.").facts == {"chapter": "P.L.2026, JR-3"}
    assert classify("zz", "House Notification that HB1044 is now Act 36").facts == {"chapter": "36"}
    assert classify("zz", "Chapter No. 2026-12").facts == {"chapter": "2026-12"}


def test_the_owner_prefix_is_only_ever_removed_at_the_start():
    # "in Senate" inside a string is not an owner prefix (it used to be stripped anywhere).
    assert generic_table().prefix.match("Failed in Senate Judiciary Committee") is None
    assert classify("zz", "Senate/ passed 3rd reading").classes == ("passage",)
