"""One bill, many sources: VA SB 487 (2024) from va-lis, LegiScan and Open States is one bill.

va-lis reads the real AI slice of the 2024 LIS files. The LegiScan getBill payload and the Open
States v3 record for the same bill are hand-made here, in each API's documented shape, from the
real LIS history lines (no real LegiScan or Open States record of a Virginia bill is recorded).
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from sqlalchemy import func, select
from typer.testing import CliRunner

from scrapers.base import Batch
from scrapers.legiscan import parse_bill
from scrapers.openstates import parse_v3_bill
from scrapers.va_lis import VirginiaLIS
from tests.conftest import FETCHED, shared_file
from tracker.db import get_engine, session_scope
from tracker.merge import SourceListing, merge_fields, source_rank, takes_actions
from tracker.models import Action, Bill, BillChange, BillSource, RunProblem, StatusChange, StatusDisagreement
from tracker.runs import run_batch
from tracker.scraped import ScrapedBill
from tracker.storage import ingest

KEY = "va-2024-SB487"
TITLE = "Artificial intelligence by public bodies; Joint Commission on Technology & Science to examine use."
DESCRIPTION = ("Artificial intelligence by public bodies; Joint Commission on Technology and Science to examine "
               "use. Directs the Joint Commission on Technology and Science to study the use of artificial "
               "intelligence by public bodies.")
# (date, chamber, text): the real LIS lines for SB 487, without LIS's actor prefix, as LegiScan shows them.
HISTORY = [
    ("2024-01-09", "S", "Prefiled and ordered printed; offered 01/10/24 24103787D"),
    ("2024-01-09", "S", "Referred to Committee on General Laws and Technology"),
    ("2024-01-24", "S", "Reported from General Laws and Technology with amendments (15-Y 0-N)"),
    ("2024-01-24", "S", "Rereferred to Finance and Appropriations"),
    ("2024-01-31", "S", "Reported from Finance and Appropriations with substitute (15-Y 0-N)"),
    ("2024-02-05", "S", "Read second time"),
    ("2024-02-06", "S", "Read third time and passed Senate (39-Y 0-N)"),
    ("2024-02-13", "H", "Read first time"),
    ("2024-02-13", "H", "Referred to Committee on Communications, Technology and Innovation"),
    ("2024-02-26", "H", "Reported from Communications, Technology and Innovation (15-Y 4-N)"),
    ("2024-03-04", "H", "Passed House with substitute (89-Y 7-N)"),
    ("2024-03-05", "S", "House substitute agreed to by Senate (34-Y 5-N)"),
    ("2024-03-08", "S", "Enrolled"),
    ("2024-03-11", "S", "Enrolled Bill Communicated to Governor on March 11, 2024"),
    ("2024-04-08", "G", "Approved by Governor-Chapter 678 (effective 7/1/24)"),
]
TO_GOVERNOR = 14  # history up to "Communicated to Governor"
PASSED_SENATE = 7  # history up to "passed Senate"


def legiscan_payload(steps: int = TO_GOVERNOR, change_hash: str = "a1" * 16, status: int = 3) -> dict:
    """A getBill envelope for VA SB 487 in LegiScan's documented shape (hand-made)."""
    return {"status": "OK", "bill": {
        "bill_id": 1812345, "change_hash": change_hash, "session_id": 2025,
        "session": {"session_id": 2025, "state_id": 46, "year_start": 2024, "year_end": 2024, "prefile": 0,
                    "sine_die": 1, "prior": 0, "special": 0, "session_tag": "Regular Session",
                    "session_title": "2024 Regular Session", "session_name": "2024 Regular Session"},
        "url": "https://legiscan.com/VA/bill/SB487/2024", "state_link": "https://lis.virginia.gov/bill-details/20241/SB487",
        "completed": 0, "status": status, "status_date": HISTORY[steps - 1][0],
        "progress": [{"date": "2024-01-09", "event": 1}, {"date": "2024-01-09", "event": 9},
                     {"date": "2024-02-06", "event": 2}] + ([{"date": "2024-03-08", "event": 3}] if status >= 3 else [])
        + ([{"date": "2024-04-08", "event": 4}] if status == 4 else []),
        "state": "VA", "state_id": 46, "bill_number": "SB487", "bill_type": "B", "bill_type_id": "1",
        "body": "S", "body_id": 51, "current_body": "S", "current_body_id": 51,
        "title": TITLE, "description": DESCRIPTION, "pending_committee_id": 0, "committee": [],
        "history": [{"date": d, "action": text, "chamber": chamber if chamber != "G" else "S",
                     "chamber_id": 0, "importance": 0} for d, chamber, text in HISTORY[:steps]],
        "sponsors": [{"people_id": 11195, "name": "Jennifer Boysko", "sponsor_type_id": 1, "sponsor_order": 1}],
        "texts": [{"doc_id": 1, "date": "2024-01-09", "type": "Introduced", "state_link": None,
                   "url": "https://legiscan.com/VA/text/SB487/id/1"}],
        "votes": [], "amendments": [], "supplements": [], "calendar": [], "sasts": [], "subjects": []}}


def openstates_record(steps: int = PASSED_SENATE) -> dict:
    """A v3 /bills result for VA SB 487 in the documented schema (hand-made)."""
    org = {"upper": {"id": "ocd-organization/va-upper", "name": "Senate", "classification": "upper"},
           "lower": {"id": "ocd-organization/va-lower", "name": "House", "classification": "lower"},
           "executive": {"id": "ocd-organization/va-exec", "name": "Governor", "classification": "executive"}}
    actor = {"S": "upper", "H": "lower", "G": "executive"}
    return {
        "id": "ocd-bill/7b1d5f4e-0000-4000-8000-000000000487", "session": "2024",
        "jurisdiction": {"id": "ocd-jurisdiction/country:us/state:va/government", "name": "Virginia",
                         "classification": "state"},
        "from_organization": org["upper"], "identifier": "SB 487", "title": TITLE, "classification": ["bill"],
        "subject": [], "extras": {}, "created_at": "2024-01-10T00:00:00+00:00",
        "updated_at": "2024-03-01T00:00:00+00:00",
        "openstates_url": "https://openstates.org/va/bills/2024/SB487/",
        "abstracts": [{"abstract": "Open States abstract of SB 487.", "note": "summary"}],
        "sponsorships": [{"name": "Aird", "entity_type": "person", "primary": True, "classification": "primary",
                          "person": {"id": "ocd-person/aird", "name": "Aird", "party": "Democratic"}}],
        "actions": [{"organization": org[actor[chamber]], "description": text, "date": d, "classification": [],
                     "order": i} for i, (d, chamber, text) in enumerate(HISTORY[:steps])],
        "sources": [{"url": "https://lis.virginia.gov/bill-details/20241/SB487", "note": ""}],
        "versions": [],
    }


def va_lis_items():
    return VirginiaLIS().read_path(shared_file("fixtures/states/va/AI_SLICE_241_Bills.csv"), fetched_at=FETCHED).items


# When each aggregator copy was fetched: before the session ended (the 2024 calendar's final action
# date is 2024-05-17), so a lagging copy is pending, not dead at adjournment.
LEGISCAN_FETCHED = datetime(2024, 3, 20, tzinfo=UTC)
OPENSTATES_FETCHED = datetime(2024, 3, 1, tzinfo=UTC)


def legiscan(fetched_at: datetime = LEGISCAN_FETCHED, **kwargs) -> list:
    return [parse_bill(legiscan_payload(**kwargs), fetched_at=fetched_at)]


def openstates(**kwargs) -> list:
    return [parse_v3_bill(openstates_record(**kwargs), fetched_at=OPENSTATES_FETCHED)]


def store(engine, items):
    with session_scope(engine) as db:
        return ingest(db, items)


def the_bill(engine) -> Bill:
    with session_scope(engine) as db:
        return db.execute(select(Bill).where(Bill.key == KEY)).scalar_one()


def rows(engine, model, *where) -> list:
    with session_scope(engine) as db:
        return list(db.execute(select(model).join(Bill, Bill.id == model.bill_id).where(Bill.key == KEY, *where)
                               .order_by(model.id)).scalars())


def test_all_three_sources_give_the_same_key():
    va = next(b for b in va_lis_items() if getattr(b, "identifier", "") == "SB 487")
    keys = {(b.jurisdiction, b.session, b.identifier) for b in (va, *legiscan(), *openstates())}
    assert keys == {("va", "2024", "SB 487")}


def test_three_sources_one_bill_with_provenance_and_one_status_change_per_move(db_url):
    engine = get_engine(db_url)
    store(engine, openstates())  # Open States first: the only source, so it supplies everything
    assert (the_bill(engine).status, the_bill(engine).source_id) == ("passed_origin", "openstates")
    store(engine, legiscan())  # LegiScan outranks Open States: its actions and status take over
    bill = the_bill(engine)
    assert (bill.status, bill.source_id, bill.provenance["status"]) == ("to_governor", "legiscan", "legiscan")
    store(engine, va_lis_items())  # the state's own source outranks both
    bill = the_bill(engine)
    assert (bill.status, bill.enacted_how, bill.chapter) == ("enacted", "signed", "678")
    assert bill.source_id == "va-lis" and bill.source_url.endswith("/241/Bills.csv")
    assert bill.provenance == {"title": "va-lis", "summary": "legiscan", "introduced_on": "va-lis",
                               "origin_chamber": "va-lis", "kind": "va-lis", "chapter": "va-lis",
                               "actions": "va-lis", "status": "va-lis"}
    assert bill.title == TITLE and bill.summary == DESCRIPTION  # va-lis has no summary; LegiScan's is next
    with session_scope(engine) as db:
        assert db.execute(select(func.count()).select_from(Bill).where(Bill.key == KEY)).scalar_one() == 1
        assert db.execute(select(func.count()).select_from(Action).where(Action.bill_id == bill.id)).scalar_one() == 45
    sources = {s.source_id: s for s in rows(engine, BillSource)}
    assert set(sources) == {"va-lis", "legiscan", "openstates"}
    assert (sources["legiscan"].status, sources["legiscan"].upstream_status) == ("to_governor", "to_governor")
    assert sources["legiscan"].upstream_id == "1812345" and sources["openstates"].upstream_id.startswith("ocd-bill/")
    assert sources["openstates"].status == "passed_origin"
    changes = [(c.old_label, c.new_label) for c in rows(engine, StatusChange)]
    assert changes == [(None, "passed_origin"), ("passed_origin", "to_governor"), ("to_governor", "enacted/signed")]


def test_status_disagreements_are_recorded_once_and_resolved_when_sources_agree(db_url):
    engine = get_engine(db_url)
    store(engine, va_lis_items())
    store(engine, legiscan())
    store(engine, openstates())
    open_rows = {d.source_id: d for d in rows(engine, StatusDisagreement, StatusDisagreement.resolved_at.is_(None))}
    assert set(open_rows) == {"legiscan", "openstates"}
    assert (open_rows["legiscan"].source_status, open_rows["legiscan"].merged_status,
            open_rows["legiscan"].merged_source_id) == ("to_governor", "enacted", "va-lis")
    assert open_rows["openstates"].source_label == "passed_origin"
    store(engine, legiscan())  # the same news again is not news
    store(engine, openstates())
    assert len(rows(engine, StatusDisagreement)) == 2
    result = store(engine, legiscan(datetime(2024, 4, 10, tzinfo=UTC), steps=len(HISTORY), status=4,
                                    change_hash="b2" * 16))  # LegiScan catches up
    assert (result.updated, result.status_changes) == (1, 0)
    settled = {d.source_id: d.resolved_at for d in rows(engine, StatusDisagreement)}
    assert settled["legiscan"] is not None and settled["openstates"] is None


def test_a_lower_ranked_source_never_moves_the_status_or_replaces_actions(db_url):
    engine = get_engine(db_url)
    store(engine, va_lis_items())
    before = the_bill(engine)
    result = store(engine, openstates(steps=3))  # lagging far behind
    assert (result.updated, result.status_changes) == (1, 0)
    bill = the_bill(engine)
    assert (bill.status, bill.source_id, bill.status_date) == ("enacted", "va-lis", before.status_date)
    assert bill.summary == "Open States abstract of SB 487." and bill.provenance["summary"] == "openstates"
    with session_scope(engine) as db:
        assert db.execute(select(func.count()).select_from(Action).where(Action.bill_id == bill.id)).scalar_one() == 45
    change = rows(engine, BillChange)[-1]
    assert (change.change, change.changed_fields) == ("update", ["new_source"])
    store(engine, openstates(steps=5))
    change = rows(engine, BillChange)[-1]
    assert change.changed_fields == ["actions"]  # what this source changed; the bill itself did not move
    assert [c.new_label for c in rows(engine, StatusChange)] == ["enacted/signed"]


def test_a_change_hash_that_moves_without_content_is_not_an_update(db_url):
    engine = get_engine(db_url)
    store(engine, legiscan(change_hash="c3" * 16))
    counts = (len(rows(engine, BillChange)), len(rows(engine, StatusChange)))
    result = store(engine, legiscan(change_hash="d4" * 16))
    assert (result.inserted, result.updated, result.unchanged, result.status_changes) == (0, 0, 1, 0)
    assert (len(rows(engine, BillChange)), len(rows(engine, StatusChange))) == counts
    assert rows(engine, BillSource)[0].upstream_hash == "d4" * 16  # the next poll will not fetch it again


def test_a_bill_missing_from_a_listing_is_marked_stale_never_deleted(db_url):
    engine = get_engine(db_url)
    path = shared_file("fixtures/api/legiscan/jkropko_al2025/getBill_AL_2025_71bills_reserialized.json")
    from scrapers.legiscan import LegiScanAPI

    bills = [b for b in LegiScanAPI().read_path(path, fetched_at=FETCHED).items][:3]
    store(engine, bills)
    listed = {b.upstream_id: b.upstream_hash for b in bills[:2]}
    summary = run_batch(engine, "legiscan", Batch("master list", [SourceListing("legiscan", "2148", listed,
                                                                                  "LegiScan session 2148")]))
    assert (summary.status, summary.unchanged, summary.problems) == ("partial", 2, 1)
    with session_scope(engine) as db:
        assert db.execute(select(func.count()).select_from(Bill)).scalar_one() == 3
        gone = db.execute(select(BillSource).where(BillSource.upstream_id == bills[2].upstream_id)).scalar_one()
        assert gone.stale and gone.stale_since is not None
        problem = db.execute(select(RunProblem)).scalar_one()
        key = f"al-2025-{bills[2].identifier.replace(' ', '')}"
        assert problem.item_key == key and problem.url == bills[2].source_url
        assert problem.message == f"{key}: no longer listed by legiscan (LegiScan session 2148); marked stale, not deleted"
        assert db.execute(select(BillChange.change).where(BillChange.change == "stale")).scalar_one() == "stale"
    again = run_batch(engine, "legiscan", Batch("master list", [SourceListing("legiscan", "2148", listed)]))
    assert again.problems == 0  # already stale: recorded once
    back = run_batch(engine, "legiscan", Batch("master list", [SourceListing(
        "legiscan", "2148", {b.upstream_id: b.upstream_hash for b in bills})]))
    assert back.unchanged == 3
    with session_scope(engine) as db:
        assert not any(db.execute(select(BillSource.stale)).scalars())  # listed again: no longer stale


def test_disagreements_cli_lists_them(db_url, settings, monkeypatch):
    from tracker.cli import app

    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    from tracker.config import get_settings

    get_settings.cache_clear()
    engine = get_engine(db_url)
    store(engine, va_lis_items())
    store(engine, legiscan())
    result = CliRunner().invoke(app, ["disagreements", "--jurisdiction", "va"])
    assert result.exit_code == 0, result.output
    assert KEY in result.output and "legiscan says to_governor" in result.output
    assert "merged enacted/signed from va-lis" in result.output and "open" in result.output
    get_settings.cache_clear()


def test_merge_rules():
    assert [s for s, _ in sorted([("openstates", 0), ("legiscan", 0), ("va-lis", 0), ("legiscan-dataset", 0),
                                   ("openstates-json", 0)], key=lambda p: source_rank(p[0]))] == \
        ["va-lis", "legiscan", "legiscan-dataset", "openstates", "openstates-json"]
    values, provenance = merge_fields([("openstates", {"title": "OS title", "summary": "OS abstract"}),
                                       ("va-lis", {"title": "LIS title", "summary": None})])
    assert (values["title"], values["summary"]) == ("LIS title", "OS abstract")
    assert provenance == {"title": "va-lis", "summary": "openstates"}
    assert takes_actions("va-lis", 5, "legiscan", 9)  # rank wins
    assert not takes_actions("openstates", 9, "legiscan", 5)
    assert takes_actions("openstates", 3, "va-lis", 0)  # a source with actions beats one without
    assert not takes_actions("openstates", 3, "va-lis", None)  # unknown count (old rows): rank decides
    assert takes_actions("legiscan", 0, None, None)


def test_scraped_bill_copy_is_untouched():
    bill = legiscan()[0]
    assert isinstance(bill, ScrapedBill) and bill.content_hash() == copy.deepcopy(bill).content_hash()
    other = legiscan(change_hash="ff" * 16)[0]
    assert bill.content_hash() == other.content_hash()  # change_hash is not content


def test_rows_stored_before_per_source_fields_keep_their_precedence(db_url):
    engine = get_engine(db_url)
    store(engine, va_lis_items())
    with session_scope(engine) as db:  # as a database migrated from 0001 holds them
        from sqlalchemy import update

        db.execute(update(BillSource).values(fields={}))
    store(engine, [parse_v3_bill(dict(openstates_record(), title="Open States' own title"),
                                 fetched_at=OPENSTATES_FETCHED)])
    bill = the_bill(engine)
    assert (bill.title, bill.provenance["title"], bill.status) == (TITLE, "va-lis", "enacted")
    assert bill.summary == "Open States abstract of SB 487." and bill.provenance["summary"] == "openstates"
