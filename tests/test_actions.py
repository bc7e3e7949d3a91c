"""Action classification: real Virginia strings -> our classes, and the rule-table machinery."""

import csv
import gzip
import re

import pytest

from tests.conftest import shared_file
from tracker.normalize.actions import RuleTableError, _parse_table, classify, classify_dated

# Real LIS History.csv strings (actor prefix removed, as the parser does) and the classes we expect.
VA_CASES = [
    ("Prefiled and ordered printed; offered 01/10/24 24104171D", ("filing", "introduction")),
    ("Presented and ordered printed 24105496D", ("introduction",)),
    ("Referred to Committee on Communications, Technology and Innovation", ("referral-committee",)),
    ("Rereferred to Finance and Appropriations", ("referral-committee",)),
    ("Rereferred from General Laws and Technology (15-Y 0-N)", ("committee-passage-favorable", "referral-committee")),
    ("Reported from Courts of Justice with substitute (21-Y 0-N)", ("committee-passage-favorable",)),
    ("Reported from Rules", ("committee-passage-favorable",)),
    ("Subcommittee recommends reporting with substitute (8-Y 0-N)", ("x-procedural",)),
    ("Subcommittee recommends continuing to 2025 with amendment(s)", ("x-procedural",)),
    ("Read first time", ("reading-1",)),
    ("Read third time and passed Senate (39-Y 0-N)", ("reading-3", "passage")),
    ("Read third time and passed House BLOCK VOTE (98-Y 0-N)", ("reading-3", "passage")),
    ("Read third time and agreed to by Senate by voice vote", ("reading-3", "passage")),
    ("Passed House with substitute (89-Y 7-N)", ("passage",)),
    ("Agreed to by House BLOCK VOTE (99-Y 0-N)", ("passage",)),
    ("House substitute agreed to by Senate (34-Y 5-N)", ("amendment-passage",)),
    ("Conference report agreed to by Senate (36-Y 4-N)", ("passage",)),
    ("Enrolled", ("enrolled",)),
    ("Enrolled Bill Communicated to Governor on March 11, 2024", ("executive-receipt",)),
    ("Signed by Speaker", ("x-procedural",)),
    ("Approved by Governor-Chapter 678 (effective 7/1/24)", ("executive-signature", "became-law")),
    ("Acts of Assembly Chapter text (CHAP0678)", ("became-law",)),
    ("Governor's Action Deadline 11:59 p.m., April 8, 2024", ("x-procedural",)),
    ("Vetoed by Governor", ("executive-veto",)),
    ("House sustained Governor's veto", ("veto-override-failure",)),
    ("Governor's recommendation received by House", ("executive-veto-line-item",)),
    ("Senate concurred in Governor's recommendation (24-Y 16-N)", ("amendment-passage",)),
    ("Continued to 2025 in Courts of Justice (11-Y 2-N)", ("x-carried-over",)),
    ("Continued to 2025 with substitute in Communications, Technology and Innovation", ("x-carried-over",)),
    ("Left in Communications, Technology and Innovation", ("committee-failure",)),
    ("Passed by indefinitely in Finance and Appropriations (15-Y 0-N)", ("deferral", "x-tabled")),
    ("Passed by for the day", ("x-procedural",)),  # DOMAIN.md: no effect
    ("Stricken at request of Patron in Finance and Appropriations (15-Y 0-N)", ("withdrawal",)),
    ("Incorporated by Finance and Appropriations (SB487-Aird) (15-Y 0-N)", ("x-incorporated",)),
    ("Tabled in Appropriations (12-Y 9-N)", ("committee-failure", "x-tabled")),
    ("Stricken from docket by General Laws (21-Y 0-N)", ("committee-failure",)),
    ("Failed to pass in House", ("failure",)),
    ("Defeated by Senate (18-Y 22-N)", ("failure",)),
    ("Impact statement from DPB (HB249)", ("x-procedural",)),
    ("Committee substitute printed 24106253D-H1", ("x-procedural",)),
    ("House subcommittee amendments and substitutes offered", ("x-procedural",)),
]


@pytest.mark.parametrize("text, expected", VA_CASES)
def test_virginia_rules(text, expected):
    assert classify("va", text).classes == expected


def test_facts_are_captured():
    assert classify("va", "Approved by Governor-Chapter 678 (effective 7/1/24)").facts == {"chapter": "678"}
    assert classify("va", "Incorporated by Finance and Appropriations (SB487-Aird) (15-Y 0-N)").facts == {
        "into": "SB487"}


def test_unknown_text_is_unclassified_not_guessed():
    result = classify("va", "Something LIS has never written before")
    assert result.unclassified and result.classes == ("unclassified",)


def test_classifier_version_names_every_layer_it_went_through():
    assert re.fullmatch(r"va:[0-9a-f]{10}\+generic:[0-9a-f]{10}\+upstream:[0-9a-f]{6}",
                        classify("va", "Read first time").version)
    assert re.fullmatch(r"generic:[0-9a-f]{10}\+upstream:[0-9a-f]{6}", classify("zz", "Read first time").version)


def test_state_without_table_uses_the_generic_rules_and_says_so():
    assert classify("zz", "Signed by Governor").classes == ("executive-signature",)
    assert classify("zz", "Signed by Governor").layer == "generic"
    assert classify("zz", "Filed without the Governor's signature").classes == (
        "x-law-without-signature", "became-law")
    assert classify("va", "Read first time").layer == "state"


def test_future_dated_action_is_scheduled():
    from datetime import date

    result = classify_dated("va", "Approved by Governor-Chapter 1", date(2030, 1, 1), date(2026, 1, 1))
    assert result.classes[0] == "x-scheduled"


def test_rule_table_rejects_unknown_classes_and_semantics():
    with pytest.raises(RuleTableError, match="unknown"):
        _parse_table("t", 'semantics = "first-match"\n[[rule]]\nmatch = "x"\nclasses = ["signed"]\n')
    with pytest.raises(RuleTableError, match="semantics"):
        _parse_table("t", 'semantics = "whatever"\n')
    with pytest.raises(RuleTableError, match="bad pattern"):
        _parse_table("t", 'semantics = "union"\n[[rule]]\nmatch = "(x"\nclasses = ["passage"]\n')


def test_union_semantics_adds_every_match_until_stop():
    table = _parse_table("t", '''semantics = "union"
[[rule]]
match = "read"
classes = ["reading-1"]
[[rule]]
match = "read and passed"
classes = ["passage"]
stop = true
[[rule]]
match = "read"
classes = ["reading-2"]
''')
    hits = [r.classes for r in table.rules if r.pattern.match("read and passed")]
    assert hits[:2] == [("reading-1",), ("passage",)]


def _sample_section(state: str) -> list[str]:
    text = shared_file("fixtures/states/ACTION_STRINGS_SAMPLE.txt").read_text(encoding="utf-8")
    section = text.split(f"## {state} (", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines()[1:] if line.strip() and not line.startswith("#")]


def test_virginia_sample_strings_at_most_5_percent_unclassified():
    lines = _sample_section("VA")
    assert len(lines) == 80
    missed = [line for line in lines if classify("va", line[2:]).unclassified]
    assert len(missed) / len(lines) <= 0.05, missed


def test_virginia_full_2024_history_is_almost_all_classified():
    path = shared_file("fixtures/states/va/legacylis_241_History.csv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        texts = {row["History_description"][2:] for row in csv.DictReader(handle)}
    missed = sorted(t for t in texts if classify("va", t).unclassified)
    # 18,309 unique strings; the handful left are rulings of the chair and odd typos.
    assert len(missed) / len(texts) < 0.005, missed[:20]
