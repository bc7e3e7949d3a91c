"""Law lifecycle rules (tracker/detect/lifecycle.py): effective dates from real action lines and
abstracts, the law status on a given day, the seed file, and proposals from later bills. The stored
path (events recorded once, review) is in tests/test_detect.py."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.conftest import shared_file
from tracker.detect.lifecycle import (
    KnownLaw,
    LifecycleEvent,
    detect_changes,
    effective_dates,
    law_status,
    seed_rows,
    stated_effective_dates,
)


@pytest.mark.parametrize("text, when, expected", [
    ("Effective date(s) 07/01/2025", date(2025, 4, 1), [date(2025, 7, 1)]),  # TN
    ("Effective date 08/01/25", date(2025, 5, 1), [date(2025, 8, 1)]),  # OK
    ("Approved by Governor-Chapter 678 (effective 7/1/24)", date(2024, 4, 8), [date(2024, 7, 1)]),  # VA
    ("Effective on 1/1/26", date(2025, 6, 20), [date(2026, 1, 1)]),  # TX
    ("Effective immediately", date(2025, 6, 20), [date(2025, 6, 20)]),  # TX: the day of the action
    ("Effective on . . . . . . . . . . . . . . .", date(2025, 6, 20), []),  # TX placeholder, no date
    ("See remarks for effective date", date(2025, 6, 20), []),
    ("Effective date(s) 7/1/25, 1/1/26", date(2025, 4, 1), [date(2025, 7, 1), date(2026, 1, 1)]),  # several
    ("Referred to Committee on Commerce", date(2025, 2, 1), []),
])
def test_effective_dates_from_real_action_lines(text, when, expected):
    assert effective_dates([(when, text)]) == expected


def test_effective_dates_from_the_acts_own_abstract_not_existing_law():
    record = json.loads(shared_file("fixtures/states/co/openstates_scrape_json/2026A__HB1263.json").read_text())
    assert stated_effective_dates(record["abstracts"][0]["abstract"]) == [date(2027, 1, 1)]
    # CA AB 853's digest: "Existing law makes the ... Act operative on January 1, 2026" is another law's
    # date and "This bill would, beginning January 1, 2027, ..." one provision's: neither is read.
    digest = json.loads(shared_file("fixtures/states/ca/openstates_scrape_json/20252026__AB853.json").read_text())
    assert stated_effective_dates(digest["abstracts"][0]["abstract"]) == []
    assert stated_effective_dates("Effective July 1, 2028, the act repeals the program.") == [date(2028, 7, 1)]


def _event(kind, when, **kw):
    return LifecycleEvent(kind, when, **kw)


@pytest.mark.parametrize("effective, events, today, expected", [
    ([date(2026, 1, 1)], [], date(2025, 12, 31), "pending_effective"),
    ([date(2026, 1, 1)], [], date(2026, 1, 1), "effective"),
    ([], [], date(2026, 1, 1), None),  # nothing says when: unknown, never guessed
    ([date(2026, 2, 1)], [_event("delayed", date(2025, 8, 28), effective_after=date(2026, 6, 30))],
     date(2026, 3, 1), "delayed"),
    ([date(2026, 2, 1)], [_event("delayed", date(2025, 8, 28), effective_after=date(2026, 6, 30))],
     date(2026, 7, 1), "effective"),
    ([date(2026, 2, 1)], [_event("enjoined", date(2026, 4, 27))], date(2026, 5, 1), "enjoined"),
    ([date(2026, 2, 1)], [_event("enjoined", date(2026, 4, 27)), _event("superseded", date(2026, 5, 14))],
     date(2026, 6, 1), "superseded"),
    ([date(2024, 5, 1)], [_event("amended", date(2025, 3, 1))], date(2025, 6, 1), "amended"),
    ([date(2024, 5, 1)], [_event("repealed", date(2027, 1, 1))], date(2026, 6, 1), "effective"),  # not yet
    ([date(2024, 5, 1)], [_event("repealed", date(2025, 1, 1), review_status="proposed")], date(2026, 6, 1),
     "effective"),  # a proposal changes nothing
])
def test_law_status_on_a_day(effective, events, today, expected):
    assert law_status(effective, events, today) == expected


def test_the_shipped_seed_file_loads_and_bad_rows_are_refused(tmp_path):
    rows = seed_rows()
    assert any(r.bill == "SB 205" and r.event.event == "superseded" for r in rows)
    assert all(r.event.confidence for r in rows)
    header = "state,session,bill,law,event,event_date,by,mechanism,effective_after,source_url,confidence,note\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "co,2024,SB 205,X,postponed,2026-01-01,,,,,M,\n")
    with pytest.raises(ValueError, match="row 2: event 'postponed'"):
        seed_rows(str(bad))
    undated = tmp_path / "undated.csv"
    undated.write_text(header + "co,2024,SB 205,X,effective,,,,,,M,\n")
    with pytest.raises(ValueError, match="an effective row needs event_date"):
        seed_rows(str(undated))


def test_a_later_bill_that_repeals_and_reenacts_an_act_proposes_superseded():
    record = json.loads(shared_file("fixtures/states/co/openstates_scrape_json/2026A__SB189.json").read_text())
    text = f"{record['title']} {record['abstracts'][0]['abstract']}"
    law = KnownLaw("co-2024-SB205", "SB 205", 2024, "Consumer Protections for Artificial Intelligence")
    (proposal,) = detect_changes("co-2026A-SB189", text, date(2026, 5, 14), [law])
    assert proposal.law_key == "co-2024-SB205"
    assert (proposal.event.event, proposal.event.review_status, proposal.event.confidence) == (
        "superseded", "proposed", "L")
    # Same number, another year ("Senate Bill 24-205" is not SB 205 of 2023): no proposal.
    assert detect_changes("co-2026A-SB189", text, None, [KnownLaw("co-2023-SB205", "SB 205", 2023, "x")]) == []


def test_a_delay_by_short_title_reads_the_new_date():
    digest = json.loads(shared_file("fixtures/states/ca/openstates_scrape_json/20252026__AB853.json").read_text())
    law = KnownLaw("ca-20232024-SB942", "SB 942", 2023, "California AI Transparency Act.")
    (proposal,) = detect_changes("ca-20252026-AB853", digest["abstracts"][0]["abstract"], date(2025, 10, 13), [law])
    assert proposal.event.event == "delayed" and proposal.event.effective_after == date(2026, 8, 2)
