"""Storage on SQLite and PostgreSQL: hashes, change rows, status history, atomic runs, reclassify."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from scrapers.base import Batch, SourceFormatError
from scrapers.va_lis import parse_csv_files
from tests.conftest import FETCHED, shared_file
from tracker import storage
from tracker.db import get_engine, session_scope
from tracker.models import Action, Bill, BillChange, BillSource, RunProblem, ScrapeRun, StatusChange
from tracker.reclassify import reclassify
from tracker.runs import run_batch
from tracker.storage import ingest

BILLS = ('"Bill_id","Bill_description","Patron_id","Patron_name","Introduction_date","Chapter_id",'
         '"Passed_house","Passed_senate","Passed","Failed","Carried_over","Approved","Vetoed"\n'
         '"SB487","Artificial intelligence by public bodies; prohibitions.","S1","Aird","01/09/24","",'
         '"Y","Y","Y","N","N","N","N"\n'
         '"HB249","Law-enforcement agencies; generative artificial intelligence.","H2","Glass","01/04/24","",'
         '"N","N","N","N","N","N","N"\n')
HISTORY = ('"Bill_id","History_date","History_description","History_refid"\n'
           '"SB487","01/09/24","S Prefiled and ordered printed; offered 01/10/24 24104171D",""\n'
           '"SB487","01/09/24","S Referred to Committee on General Laws and Technology",""\n'
           '"SB487","02/12/24","S Read third time and passed Senate (39-Y 0-N)",""\n'
           '"SB487","03/01/24","H Passed House with substitute (89-Y 7-N)",""\n'
           '"SB487","03/11/24","S Enrolled Bill Communicated to Governor on March 11, 2024",""\n'
           '"HB249","01/04/24","H Prefiled and ordered printed; offered 01/10/24 24104171D",""\n'
           '"HB249","01/04/24","H Referred to Committee on Communications, Technology and Innovation",""\n')
SIGNED = '"SB487","04/08/24","G Approved by Governor-Chapter 678 (effective 7/1/24)",""\n'


def items(history: str = HISTORY, fetched_at: datetime = FETCHED, bills: str = BILLS):
    return parse_csv_files(bills, history, session_code="241", fetched_at=fetched_at)


def counts(engine) -> dict:
    with session_scope(engine) as db:
        return {table.__name__: db.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (Bill, Action, BillSource, StatusChange, BillChange)}


def bill(engine, key: str) -> Bill:
    with session_scope(engine) as db:
        return db.execute(select(Bill).where(Bill.key == key)).scalar_one()


def test_first_ingest_inserts_and_records_history(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as db:
        result = ingest(db, items())
    assert (result.inserted, result.updated, result.unchanged, result.status_changes) == (2, 0, 0, 2)
    assert counts(engine) == {"Bill": 2, "Action": 7, "BillSource": 2, "StatusChange": 2, "BillChange": 2}
    sb487 = bill(engine, "va-2024-SB487")
    assert (sb487.identifier, sb487.status, str(sb487.status_date)) == ("SB 487", "to_governor", "2024-03-11")
    assert sb487.source_url.endswith("/241/Bills.csv") and sb487.fetched_at is not None
    assert sb487.source_flags["Passed"] == "Y"
    with session_scope(engine) as db:
        first = db.execute(select(Action).where(Action.bill_id == sb487.id, Action.position == 0)).scalar_one()
        assert first.text.startswith("Prefiled") and first.classes == ["filing", "introduction"]
        assert first.actor == "upper" and first.raw_date == "01/09/24"
        raw = db.execute(select(BillSource.raw).where(BillSource.bill_id == sb487.id)).scalar_one()
        assert raw["Bill_description"].startswith("Artificial intelligence")


def test_same_data_twice_creates_no_rows_and_no_events(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as db:
        ingest(db, items())
    before = counts(engine)
    with session_scope(engine) as db:
        result = ingest(db, items(fetched_at=datetime(2026, 9, 1, tzinfo=UTC)))
    assert (result.inserted, result.updated, result.unchanged, result.status_changes) == (0, 0, 2, 0)
    assert counts(engine) == before


def test_new_action_updates_once_and_records_one_status_change(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as db:
        ingest(db, items())
    with session_scope(engine) as db:
        result = ingest(db, items(HISTORY + SIGNED))
    assert (result.inserted, result.updated, result.unchanged, result.status_changes) == (0, 1, 1, 1)
    sb487 = bill(engine, "va-2024-SB487")
    assert (sb487.status, sb487.enacted_how, sb487.chapter) == ("enacted", "signed", "678")
    with session_scope(engine) as db:
        change = db.execute(select(StatusChange).where(StatusChange.old_status.is_not(None))).scalar_one()
        assert (change.old_status, change.new_status, str(change.action_date)) == (
            "to_governor", "enacted", "2024-04-08")
        assert change.new_label == "enacted/signed" and change.cause.startswith("Approved by Governor")
        update_row = db.execute(select(BillChange).where(BillChange.change == "update")).scalar_one()
        assert update_row.changed_fields == ["actions", "status"]
        assert db.execute(select(func.count()).select_from(Action).where(Action.bill_id == sb487.id)
                          ).scalar_one() == 6
    with session_scope(engine) as db:  # the same news again is not news
        again = ingest(db, items(HISTORY + SIGNED))
    assert (again.updated, again.status_changes) == (0, 0)


def test_future_dated_action_is_stored_but_never_changes_status(db_url):
    engine = get_engine(db_url)
    fetched = datetime(2024, 3, 20, tzinfo=UTC)  # before the Governor acted
    with session_scope(engine) as db:
        ingest(db, items(HISTORY + SIGNED, fetched_at=fetched))
    sb487 = bill(engine, "va-2024-SB487")
    assert sb487.status == "to_governor"
    with session_scope(engine) as db:
        last = db.execute(select(Action).where(Action.bill_id == sb487.id).order_by(Action.position.desc())
                          ).scalars().first()
        assert last.classes[0] == "x-scheduled"
        assert db.execute(select(func.count()).select_from(StatusChange)
                          .where(StatusChange.new_status == "enacted")).scalar_one() == 0


def test_a_failure_mid_ingest_leaves_the_database_exactly_as_before(db_url, monkeypatch):
    engine = get_engine(db_url)
    with session_scope(engine) as db:
        ingest(db, items())
    before = counts(engine)

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(storage, "_source_row", explode)  # fails after bills were updated and actions deleted
    summary = run_batch(engine, "va-lis", Batch(target="test", items=items(HISTORY + SIGNED)))
    assert summary.status == "failed" and "disk on fire" in summary.message
    assert counts(engine) == before
    assert bill(engine, "va-2024-SB487").status == "to_governor"
    with session_scope(engine) as db:
        run = db.get(ScrapeRun, summary.run_id)
        assert run.status == "failed" and "RuntimeError" in run.traceback and run.finished_at


def test_a_parser_error_halfway_records_a_failed_run_and_keeps_data(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as db:
        ingest(db, items())
    before = counts(engine)

    def broken():
        yield from items(HISTORY + SIGNED)
        raise SourceFormatError("History.csv: missing column(s) History_date")

    summary = run_batch(engine, "va-lis", Batch(target="test", items=broken()))
    assert summary.status == "failed" and "missing column" in summary.message
    assert counts(engine) == before


def test_problems_are_recorded_with_the_run(db_url):
    engine = get_engine(db_url)
    bad = HISTORY + '"HB249","99/99/24","H Read first time",""\n'
    summary = run_batch(engine, "va-lis", Batch(target="test", items=items(bad)))
    assert (summary.status, summary.inserted, summary.problems) == ("partial", 1, 1)
    with session_scope(engine) as db:
        problem = db.execute(select(RunProblem)).scalar_one()
        assert problem.item_key == "HB249" and "99/99/24" in problem.message


def test_empty_source_is_an_empty_run_not_a_deletion(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as db:
        ingest(db, items())
    header_only = BILLS.splitlines(keepends=True)[0]
    summary = run_batch(engine, "va-lis", Batch(target="test", items=items(bills=header_only)))
    assert summary.status == "empty"
    assert counts(engine)["Bill"] == 2


def test_reclassify_repairs_statuses_from_stored_actions_without_fetching(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as db:
        ingest(db, items(HISTORY + SIGNED))
    with session_scope(engine) as db:  # simulate statuses written by an older, wrong rule table
        db.execute(update(Bill).where(Bill.key == "va-2024-SB487").values(status="vetoed", enacted_how=None))
        db.execute(update(Action).values(classes=["unclassified"], classifier_version="old"))
    with session_scope(engine) as db:
        result = reclassify(db)
    assert (result.bills, result.actions_changed, result.status_changes) == (2, 8, 1)
    assert bill(engine, "va-2024-SB487").status == "enacted"
    with session_scope(engine) as db:
        change = db.execute(select(StatusChange).where(StatusChange.old_status == "vetoed")).scalar_one()
        assert change.new_label == "enacted/signed"
    with session_scope(engine) as db:
        assert reclassify(db).status_changes == 0


def test_full_virginia_2024_session(db_url):
    from scrapers.va_lis import VirginiaLIS

    path = shared_file("fixtures/states/va/legacylis_241_Bills.csv.gz")
    engine = get_engine(db_url)
    with session_scope(engine) as db:
        result = ingest(db, VirginiaLIS().read_path(path, fetched_at=FETCHED).items)
    assert (result.inserted, result.status_changes) == (3595, 3595)
    assert counts(engine)["Action"] == 55237
    with session_scope(engine) as db:
        by_status = dict(db.execute(select(Bill.status, func.count()).group_by(Bill.status)).all())
    assert by_status["enacted"] == 845 and by_status["vetoed"] == 201
    with session_scope(engine) as db:
        assert ingest(db, VirginiaLIS().read_path(path, fetched_at=FETCHED).items).unchanged == 3595


@pytest.mark.parametrize("title", ['=cmd|" /C calc"!A0', "<img src=x onerror=alert(1)>", "Robert'); DROP TABLE bill;--"])
def test_hostile_titles_are_stored_verbatim(db_url, title):
    engine = get_engine(db_url)
    bills = BILLS.replace("Artificial intelligence by public bodies; prohibitions.", title.replace('"', '""'))
    with session_scope(engine) as db:
        ingest(db, items(bills=bills))
    assert bill(engine, "va-2024-SB487").title == title


def test_same_content_fetched_later_updates_fetch_time_and_time_dependent_statuses(db_url):
    """A scheduled action that falls due, or a session that ends, changes a status without any
    change in the source's content; the refetch must catch it, once."""
    engine = get_engine(db_url)
    during = datetime(2024, 3, 20, tzinfo=UTC)  # SIGNED (04/08/24) is still in the future
    with session_scope(engine) as db:
        ingest(db, items(HISTORY + SIGNED, fetched_at=during))
    assert (bill(engine, "va-2024-SB487").status, bill(engine, "va-2024-HB249").status) == (
        "to_governor", "in_committee")
    with session_scope(engine) as db:
        result = ingest(db, items(HISTORY + SIGNED, fetched_at=FETCHED))  # 2026: same bytes
    assert (result.unchanged, result.updated, result.status_changes) == (2, 0, 2)
    sb487, hb249 = bill(engine, "va-2024-SB487"), bill(engine, "va-2024-HB249")
    assert (sb487.status, sb487.enacted_how, str(sb487.status_date)) == ("enacted", "signed", "2024-04-08")
    assert (hb249.status, hb249.failed_how) == ("failed", "died_at_adjournment")
    assert sb487.fetched_at.replace(tzinfo=UTC) == FETCHED  # provenance: the latest confirmation
    with session_scope(engine) as db:
        labels = sorted(db.execute(select(StatusChange.new_label).where(StatusChange.old_status.is_not(None)))
                        .scalars())
        assert labels == ["enacted/signed", "failed/died_at_adjournment"]
    with session_scope(engine) as db:  # and never again
        assert ingest(db, items(HISTORY + SIGNED, fetched_at=FETCHED)).status_changes == 0


def test_source_text_changed_only_where_we_store_nothing_is_not_an_update(db_url):
    """VA's History_refid (a vote id) is not stored: a new one is not news, but is remembered."""
    engine = get_engine(db_url)
    with session_scope(engine) as db:
        ingest(db, items())
    before = counts(engine)
    with_vote_id = HISTORY.replace('"SB487","02/12/24","S Read third time and passed Senate (39-Y 0-N)",""',
                                   '"SB487","02/12/24","S Read third time and passed Senate (39-Y 0-N)","S05V0123"')
    assert with_vote_id != HISTORY
    with session_scope(engine) as db:
        result = ingest(db, items(with_vote_id))
    assert (result.updated, result.unchanged, result.status_changes) == (0, 2, 0)
    assert counts(engine) == before
    with session_scope(engine) as db:
        stored = db.execute(select(BillSource.content_hash).join(Bill).where(Bill.key == "va-2024-SB487")).scalar_one()
    assert stored == next(b for b in items(with_vote_id) if b.identifier == "SB 487").content_hash()
