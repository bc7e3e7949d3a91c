"""Layered classification (DOMAIN.md §2.2): the state's table, the generic table, the upstream's own
labels, then `unclassified`; each action says which layer decided, each status what it rests on."""

from datetime import UTC, date, datetime

import pytest

from scrapers.openstates import parse_ocd_bill
from tracker.display import shown_status
from tracker.normalize.actions import classify, classify_dated, states_with_tables
from tracker.normalize.bill import normalize_bill
from tracker.normalize.status import StatusAction, chronological_order, derive_status
from tracker.normalize.upstream import legiscan_progress_label, upstream_classes
from tracker.vocab import BillStatus, Chamber, StatusBasis

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)


def test_layer_order_state_then_generic_then_upstream_then_none():
    assert classify("va", "Read first time").layer == "state"
    assert classify("zz", "Signed by Governor").layer == "generic"
    assert classify("zz", "Zorbled by the clerk", ("executive-signature",)).layer == "upstream"
    assert classify("zz", "Zorbled by the clerk", ("executive-signature",)).classes == ("executive-signature",)
    unknown = classify("zz", "Zorbled by the clerk")
    assert (unknown.layer, unknown.classes) == ("none", ("unclassified",))


def test_our_reading_wins_over_a_misleading_upstream_label():
    # Open States labels Colorado's enrolment signatures `passage` (DOMAIN.md §1.5); we know the string.
    text = "Signed by the Speaker of the House"
    result = classify("zz", text, ("passage",))
    assert (result.classes, result.layer) == (("x-procedural",), "generic")
    # TX "Transmitted to the Governor" labelled as a signature upstream: it is a receipt.
    result = classify("zz", "Transmitted to the Governor", ("executive-signature",))
    assert result.classes == ("executive-receipt",)


def test_own_table_can_be_switched_off_to_measure_the_other_layers():
    assert classify("va", "Read first time", own_table=False).layer == "generic"
    assert classify("va", "Read first time").version != classify("va", "Read first time", own_table=False).version


def test_upstream_labels_only_known_vocabularies():
    assert upstream_classes(("executive-signature", "informal-passage")) == ("executive-signature",)
    assert upstream_classes((legiscan_progress_label(8),)) == ("became-law",)
    assert upstream_classes((legiscan_progress_label(2),)) == ("passage",)
    assert upstream_classes((legiscan_progress_label(11),)) == ("committee-passage-unfavorable",)
    assert upstream_classes(("code:8000", "IntroReferral", "legiscan-progress:x")) == ()


def test_scheduled_actions_keep_their_layer():
    result = classify_dated("zz", "Signed by Governor", date(2030, 1, 1), date(2026, 1, 1))
    assert result.classes[0] == "x-scheduled" and result.layer == "generic"


def _ocd(actions, identifier="HB 9001", state="zz", classification=("bill",)):
    return parse_ocd_bill({
        "identifier": identifier, "legislative_session": "2026", "title": "A test bill",
        "classification": list(classification),
        "jurisdiction": {"id": f"ocd-jurisdiction/country:us/state:{state}/government"},
        "from_organization": '~{"classification": "lower"}',
        "actions": [{"date": d, "description": t, "classification": list(c),
                     "organization_id": '~{"classification": "lower"}'} for d, t, c in actions],
        "sources": [{"url": "https://example.org/hb9001"}]}, fetched_at=FETCHED)


def test_a_status_resting_on_upstream_labels_is_marked_and_shown_so():
    bill = _ocd([("2026-01-10", "Introduced", ()), ("2026-03-01", "Zorbled by the clerk", ("executive-signature",))])
    status = normalize_bill(bill).status
    assert (status.status, status.basis) == (BillStatus.ENACTED, StatusBasis.UPSTREAM)
    assert shown_status("enacted/signed", status.basis) == "enacted/signed [upstream labels]"
    ours = normalize_bill(_ocd([("2026-01-10", "Introduced", ()), ("2026-03-01", "Signed by Governor", ())])).status
    assert (ours.status, ours.basis) == (BillStatus.ENACTED, StatusBasis.GENERIC)
    assert shown_status("enacted/signed", ours.basis) == "enacted/signed"


def test_never_an_empty_status():
    nothing = normalize_bill(_ocd([])).status
    assert (nothing.status, nothing.basis) == (BillStatus.INTRODUCED, StatusBasis.DEFAULT)
    unknown = normalize_bill(_ocd([("2026-01-10", "Zorbled by the clerk", ())])).status
    assert (unknown.status, unknown.basis) == (BillStatus.INTRODUCED, StatusBasis.DEFAULT)
    assert shown_status(None) == "introduced"


def test_bill_level_upstream_status_fills_only_what_our_reading_lacks():
    actions = [StatusAction(date(2026, 2, 1), ("introduction",), Chamber.LOWER, {}, "generic")]
    raised = derive_status(actions, origin_chamber=Chamber.LOWER, as_of=date(2026, 6, 1),
                           upstream_status="enacted/chaptered")
    assert (raised.status, raised.enacted_how, raised.basis) == ("enacted", "chaptered", StatusBasis.UPSTREAM)
    # Our own outcome is never replaced by the upstream's claim (a disagreement is recorded instead).
    ours = [*actions, StatusAction(date(2026, 3, 1), ("executive-veto",), Chamber.EXECUTIVE, {}, "generic")]
    kept = derive_status(ours, origin_chamber=Chamber.LOWER, as_of=date(2026, 6, 1), upstream_status="enacted")
    assert (kept.status, kept.basis) == ("vetoed", StatusBasis.GENERIC)
    # A lower claim never lowers ours.
    assert derive_status(ours, origin_chamber=Chamber.LOWER, as_of=date(2026, 6, 1),
                         upstream_status="introduced").status == "vetoed"


@pytest.mark.parametrize("dates, expected", [
    ([date(2026, 3, 1), date(2026, 2, 1), date(2026, 1, 1)], [2, 1, 0]),  # newest first: read backwards
    ([date(2026, 1, 1), date(2026, 3, 1), date(2026, 2, 1)], [0, 2, 1]),  # one out of place: sorted
    ([date(2026, 1, 1), None, date(2026, 1, 1), date(2026, 2, 1)], [0, 1, 2, 3]),  # undated keeps its place
    ([date(2026, 5, 1), date(2026, 5, 1)], [0, 1]),  # same day: the source's order
])
def test_chronological_order(dates, expected):
    assert chronological_order(dates) == expected


def test_same_facts_in_any_order_give_the_same_status():
    # Review row H1: Open States' Colorado output lists actions newest first.
    forward = [("2026-02-01", "Introduced", ()), ("2026-05-20", "Sent to the Governor", ()),
               ("2026-06-01", "Vetoed by Governor", ()), ("2026-06-10", "Veto overridden", ())]
    statuses = {normalize_bill(_ocd(order)).status for order in (forward, forward[::-1])}
    assert len(statuses) == 1
    assert next(iter(statuses)).status == BillStatus.VETOED  # one chamber's override vote


def test_every_rule_table_loads_and_names_only_known_classes():
    assert {"va", "ca", "ny", "wa", "ct", "mi", "al", "us"} <= set(states_with_tables())
    for state in states_with_tables():
        assert classify(state, "x").version.startswith(f"{state}:")
