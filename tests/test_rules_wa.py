"""Washington action rules (tracker/normalize/rules/wa.toml): real strings -> our classes, the
coverage of the recorded samples, and statuses derived from the full HB 1170 / HB 2225 histories."""

import json
import re
from datetime import UTC, date, datetime

import pytest

from scrapers.openstates import parse_ocd_bill
from tests.conftest import shared_file
from tracker.normalize.actions import classify, classify_dated
from tracker.normalize.bill import normalize_bill

# Real WA history lines (WSL HistoryLine values and the Open States scrape of the bill pages),
# with the classes we expect, written from reading each line. Two are not in the recorded samples
# and are marked: the Governor's veto lines, whose wording the brief and public WA trackers give.
WA_CASES = [
    # Introduction and committees
    ("Prefiled for introduction.", ("filing",)),
    ("First reading, referred to Ways & Means.", ("reading-1", "referral-committee")),
    ("First reading, referred to Housing (Not Officially read and referred until adoption of Introduction "
     "report).", ("reading-1", "referral-committee")),
    ("Referred to Appropriations.", ("referral-committee",)),
    ("And refer to Ways & Means.", ("referral-committee",)),
    ("Public hearing in the House Committee on Appropriations at 4:00 PM.", ("x-procedural",)),
    ("Executive action taken in the Senate Committee on Ways & Means at 10:30 AM.", ("x-procedural",)),
    ("TEDV - Majority; 1st substitute bill be substituted, do pass.", ("committee-passage-favorable",)),
    ("ENET - Majority; do pass with amendment(s).", ("committee-passage-favorable",)),
    ("APP - Majority; do pass 2nd substitute bill proposed by Technology, Economic Development, & Veterans.",
     ("committee-passage-favorable",)),
    ("Minority; do not pass.", ("x-procedural",)),  # Open States: committee-passage-unfavorable
    ("Minority; without recommendation.", ("x-procedural",)),
    ("Passed to Rules Committee for second reading.", ("committee-passage-favorable",)),
    ("Referred to Rules 2 Review.", ("committee-passage", "referral-committee")),
    ("Rules Committee relieved of further consideration.", ("x-procedural",)),
    # Floor
    ("Placed on second reading by Rules Committee.", ("committee-passage", "reading-2")),
    ("Rules Committee relieved of further consideration.  Placed on second reading.",
     ("committee-passage", "reading-2")),
    ("2nd substitute bill substituted (TEDV 26).", ("substitution",)),
    ("Floor amendment(s) adopted.", ("amendment-passage",)),
    ("Committee amendment(s) adopted as amended.", ("amendment-passage",)),
    ("Rules suspended.  Placed on Third Reading.", ("x-procedural",)),
    ("Third reading, passed; yeas, 49; nays, 0; absent, 0; excused, 0.", ("reading-3", "passage")),
    ("House concurred in Senate amendments.", ("amendment-passage", "passage")),  # Open States: none
    ("Passed final passage; yeas, 55; nays, 38; absent, 0; excused, 5.", ("passage",)),
    ("Adopted.", ("passage",)),  # resolutions
    ("Speaker signed.", ("x-procedural",)),  # Open States: passage
    ("President signed.", ("x-procedural",)),
    # Governor and law
    ("Delivered to Governor.", ("executive-receipt",)),
    ("Governor signed.", ("executive-signature",)),
    ("Governor vetoed.", ("executive-veto",)),  # not in the recorded samples
    ("Governor partially vetoed.", ("executive-veto-line-item", "executive-signature")),  # not in the samples
    ("Chapter 167, 2026 Laws.", ("became-law",)),
    ("Filed with Secretary of State.", ("became-law",)),  # Open States: none
    ("Effective date 2/1/2027.", ("x-procedural",)),  # Open States: became-law
    # Second year of the biennium
    ("By resolution, reintroduced and retained in present status.", ("x-carried-over",)),
    ('House Rules "X" file.', ("x-procedural",)),  # seen in WSL data of March 2026 (wa-bill-tracker)
]


@pytest.mark.parametrize("text, expected", WA_CASES)
def test_washington_rules(text, expected):
    assert classify("wa", text).classes == expected


def test_chapter_number_is_a_fact():
    assert classify("wa", "Chapter 168, 2026 Laws.").facts == {"chapter": "168"}


def test_unknown_text_is_unclassified():
    assert classify("wa", "Zorbled by the Sergeant at Arms.").unclassified
    # Near misses of the narrow rules stay unclassified rather than guessed.
    assert classify("wa", "Governor's message read.").unclassified


def test_classifier_version_names_the_table():
    assert re.match(r"wa:[0-9a-f]{10}\+generic:", classify("wa", "Governor signed.").version)


def test_future_effective_date_never_moves_a_status():
    # Dated the day it was entered (never in the future), and even then it is only procedural.
    line = "Effective date 1/1/2027."
    assert classify_dated("wa", line, date(2026, 3, 24), date(2026, 3, 25)).classes == ("x-procedural",)
    future = classify_dated("wa", line, date(2027, 1, 1), date(2026, 3, 25))
    assert future.classes == ("x-scheduled", "x-procedural")


def _sample_lines(part: int) -> list[str]:
    """The WA section of ACTION_STRINGS_SAMPLE.txt: part 1 raw lines, part 2 '[classes] <- raw'."""
    text = shared_file("fixtures/states/ACTION_STRINGS_SAMPLE.txt").read_text(encoding="utf-8")
    section = text.split("## WA (")[part].split("\n## ", 1)[0].split("\n# ----", 1)[0]
    lines = [line for line in section.splitlines()[1:] if line.strip() and not line.startswith("#")]
    return [line.split("<- ", 1)[1] for line in lines] if part == 2 else lines


def test_part_1_historyline_values_all_classified():
    lines = _sample_lines(1)
    assert len(lines) == 42
    missed = [line for line in lines if classify("wa", line).unclassified]
    # Open States' own WA classifier misses 1 of the 42 ("Filed with Secretary of State.").
    assert len(missed) / len(lines) <= 0.05 and missed == [], missed


def test_part_2_open_states_strings_all_classified():
    lines = _sample_lines(2)
    assert len(lines) == 51
    missed = [line for line in lines if classify("wa", line).unclassified]
    # Open States left 16 of these 51 without a class.
    assert len(missed) / len(lines) <= 0.05 and missed == [], missed


def _history(name: str):
    path = shared_file(f"fixtures/states/wa/openstates_scrape_json/{name}")
    return parse_ocd_bill(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name, chapter", [("2025-2026__HB1170.json", "167"),
                                           ("2025-2026__HB2225.json", "168")])
def test_full_histories_end_signed_with_their_chapter(name, chapter):
    norm = normalize_bill(_history(name))
    status = norm.status
    assert norm.key == f"wa-20252026-{norm.identifier.replace(' ', '')}"
    assert (status.status, status.enacted_how, status.chapter) == ("enacted", "signed", chapter)
    assert status.status_date == date(2026, 3, 24) and not status.carried_over and not status.partial_veto
    assert norm.scraped.actions[status.cause_index].text == "Governor signed."
    assert not any(c.unclassified for c in norm.classifications)


def _status_after(bill, last_text: str, occurrence: int = 1):
    """Status derived from the history cut after the n-th action with this text."""
    seen = 0
    for cut, action in enumerate(bill.actions, start=1):
        seen += action.text == last_text
        if seen == occurrence:
            bill.actions = bill.actions[:cut]
            return normalize_bill(bill).status
    raise AssertionError(f"{last_text!r} not found")


@pytest.mark.parametrize("last, occurrence, expected", [
    ("Prefiled for introduction.", 1, "introduced"),
    ("First reading, referred to Technology, Economic Development, & Veterans.", 1, "in_committee"),
    ("TEDV - Majority; 1st substitute bill be substituted, do pass.", 1, "passed_committee"),
    ("Third reading, passed; yeas, 56; nays, 37; absent, 0; excused, 5.", 1, "passed_origin"),  # House
    ("Third reading, passed; yeas, 46; nays, 3; absent, 0; excused, 0.", 1, "passed_second"),  # Senate
    ("House concurred in Senate amendments.", 1, "passed_second"),
    ("Delivered to Governor.", 1, "to_governor"),
])
def test_hb1170_history_climbs_the_ladder(last, occurrence, expected):
    assert _status_after(_history("2025-2026__HB1170.json"), last, occurrence).status == expected


def test_hb1170_carry_over_into_2026_is_a_flag_until_it_moves_again():
    bill = _history("2025-2026__HB1170.json")
    status = _status_after(bill, "By resolution, reintroduced and retained in present status.")
    assert (status.status, status.carried_over) == ("passed_committee", True)
    # The House passes it in February 2026: no longer dormant.
    moved = _status_after(_history("2025-2026__HB1170.json"),
                          "Third reading, passed; yeas, 56; nays, 37; absent, 0; excused, 5.")
    assert (moved.status, moved.carried_over) == ("passed_origin", False)


def test_open_states_fetch_time_is_used_for_scheduling():
    # Guard: the OCD files carry their own processing time, after every action in them.
    bill = _history("2025-2026__HB2225.json")
    assert bill.fetched_at > datetime(2026, 3, 24, tzinfo=UTC)
