"""Whole sessions and states with no table of their own (issue #8): the generic table and the
upstream's labels must carry them. Each session of ../shared/fixtures/states/openstates_sessions is
run with its state's own table switched off; VA, MI and the LegiScan payloads too."""

from datetime import UTC, datetime

import pytest

from scrapers.legiscan import LegiScanAPI, LegiScanDataset, legiscan_agrees
from scrapers.openstates import OpenStatesFiles
from scrapers.va_lis import VirginiaLIS
from tests.conftest import SHARED, shared_file
from tracker.normalize.agreement import compare_session
from tracker.normalize.bill import normalize_bill

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)  # the snapshots carry no fetch time of their own
SESSIONS = sorted(p.name for p in (SHARED / "fixtures/states/openstates_sessions").glob("*.jsonl.gz"))

# Without Oklahoma's own table, the generic layer still reads every OK outcome but these three, where
# Open States' labels call a bill enacted on ONE chamber's "Veto overridden" vote (the other chamber
# never voted before sine die). One chamber cannot override a veto (Okla. Const. art. VI §11 needs
# both): the bills stayed vetoed, and we say so.
ONE_CHAMBER_OVERRIDES = {"ok-20252026-HB1521", "ok-20252026-SB773", "ok-20252026-SB915"}


@pytest.fixture(scope="module", params=SESSIONS or ["(none)"])
def generic_only(request):
    path = shared_file(f"fixtures/states/openstates_sessions/{request.param}")
    items = OpenStatesFiles().read_path(path, fetched_at=FETCHED).items
    return compare_session(request.param, items, own_table=False)


def test_generic_and_upstream_layers_carry_a_state_with_no_table(generic_only):
    report = generic_only
    assert report.bills > 0 and report.problems == [] and report.without_status == 0
    for outcome in ("enacted", "vetoed"):
        missed = {d.key for d in report.disagreements if d.upstream == outcome and d.ours != outcome}
        assert missed <= ONE_CHAMBER_OVERRIDES, (outcome, sorted(missed)[:10])
        if report.upstream[outcome]:
            assert (report.both[outcome] + len(missed)) / report.upstream[outcome] >= 0.995
    # Where we find more law than Open States' labels, the reason is a string they leave unlabelled: OK
    # "Becomes law without Governor's signature", UT HB 3 "Governor Line Item Veto" (Utah Const. art. VII
    # §8: the Governor strikes items and signs the rest; the bill is law with a partial veto).
    extra = [d for d in report.disagreements if d.ours == "enacted" and d.upstream != "enacted"]
    assert all(d.decisive.startswith(("Becomes law without Governor's signature", "Governor Line Item Veto"))
               for d in extra), extra[:5]


def test_oklahoma_laws_without_signature_are_laws():
    # 299 Oklahoma bills of 2025 "Becomes law without Governor's signature" (Okla. Const. art. VI §11);
    # Open States gives the line no class, so its labels never call them enacted. We do.
    path = shared_file("fixtures/states/openstates_sessions/ok_2025.jsonl.gz")
    report = compare_session("ok_2025", OpenStatesFiles().read_path(path, fetched_at=FETCHED).items)
    extra = [d for d in report.disagreements if d.ours == "enacted" and d.upstream is None]
    assert len(extra) == 299


def test_virginia_with_the_generic_table_alone_agrees_with_lis():
    path = shared_file("fixtures/states/va/legacylis_241_Bills.csv.gz")
    bills = list(VirginiaLIS().read_path(path, fetched_at=datetime(2024, 11, 20, tzinfo=UTC)).items)
    wrong = []
    for bill in bills:
        status, flags = normalize_bill(bill, own_table=False).status, bill.source_flags
        expected = ("enacted" if flags["Approved"] == "Y" else "vetoed" if flags["Vetoed"] == "Y"
                    else "failed" if flags["Failed"] == "Y" else "carried" if flags["Carried_over"] == "Y" else None)
        ours = "carried" if status.carried_over and status.status not in ("enacted", "vetoed", "failed") \
            else str(status.status)
        if expected and expected != ours:
            wrong.append((bill.identifier, expected, ours))
    assert len(bills) == 3595 and wrong == []


def test_michigan_with_the_generic_table_alone_agrees_with_legiscan():
    folder = shared_file("fixtures/api/legiscan/dataset_csv_MI_2025-2026/raw_full")
    bills = [b for b in LegiScanDataset().read_path(folder, fetched_at=FETCHED).items if hasattr(b, "actions")]
    wrong = {b.identifier for b in bills
             if not legiscan_agrees(int(b.source_flags["legiscan_status"]), normalize_bill(b, own_table=False)
                                    .status.status, b.kind)}
    assert wrong == {"HB 4195", "HB 4214"}  # the two defeated bills LegiScan keeps at 1 (test_legiscan.py)


@pytest.mark.parametrize("file, key, status, basis", [
    # LegiScan status 4 Passed, progress 8 Chaptered: "House Notification that HB1044 is now Act 36".
    ("bill_HB1044.json", "ar-2012-HB1044", "enacted", "generic"),
    # Status 2 Engrossed: "PASSED Y24 N16" in the House, then referred in the Senate.
    ("bill_HB1.json", "ak-20112012-HB1", "passed_origin", "generic"),
])
def test_legiscan_states_without_a_table(file, key, status, basis):
    path = shared_file(f"fixtures/api/legiscan/legiscanrr_dataset/{file}")
    [bill] = [b for b in LegiScanAPI().read_path(path, fetched_at=FETCHED).items if hasattr(b, "actions")]
    norm = normalize_bill(bill)
    assert (norm.key, norm.status.status, norm.status.basis) == (key, status, basis)
    # LegiScan's progress events ride on the history lines of their day, for layer 3.
    assert any(a.source_classes for a in bill.actions)


def test_every_fixture_state_and_seed_state_has_a_session_calendar():
    from tracker.calendar import session_calendar

    for name in SESSIONS:
        path = SHARED / "fixtures/states/openstates_sessions" / name
        first = next(b for b in OpenStatesFiles().read_path(path, fetched_at=FETCHED).items if hasattr(b, "actions"))
        calendar = session_calendar(first.jurisdiction, first.session)
        assert calendar.source, f"{first.jurisdiction} {first.session} ({name}) has no calendar entry"
    if not SESSIONS:
        pytest.skip("needs ../shared/fixtures/states/openstates_sessions")
