"""Exports (#13): CSV as exact bytes (CRLF), XLSX read back, formula injection neutralized in both, filters,
every kind, streaming with bounded memory, and a real ingest exported."""

import io
import tracemalloc
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from tests.conftest import shared_file
from tracker import db as database
from tracker.cli import app
from tracker.deliver.exports import KINDS, Filters, cell, export, neutralize, rows_for, write_rows
from tracker.models import (Action, Bill, Conflict, FederalInstrument, Jurisdiction, LegislativeSession,
                            SimilarBill, StatusChange)

runner = CliRunner()
FETCHED = datetime(2026, 8, 1, 12, tzinfo=UTC)
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+2", "-2+3", "@SUM(A1:A2)", "\tTab first",
           "\rCR first", "\nLF first"]
HARMLESS = ["Safe = text", "1-2-3", "a@b", "Über \"quoted\", comma", ""]


def seed(db, state="va", session="2024"):
    """A jurisdiction and session; returns the session id."""
    if db.get(Jurisdiction, state) is None:
        db.add(Jurisdiction(id=state, name=state.upper()))
        db.flush()
    found = db.execute(select(LegislativeSession).where(LegislativeSession.jurisdiction_id == state,
                                                        LegislativeSession.identifier == session)).scalar()
    if found:
        return found.id
    row = LegislativeSession(jurisdiction_id=state, identifier=session, name=session)
    db.add(row)
    db.flush()
    return row.id


def make_bill(db, identifier="SB 1", *, state="va", session="2024", title="Artificial intelligence; high-risk",
              status="introduced", relevance="core", topics=("high-risk",), **extra) -> Bill:
    session_id = seed(db, state, session)
    bill = Bill(key=f"{state}-{session}-{identifier.replace(' ', '')}", jurisdiction_id=state, session_id=session_id,
                identifier=identifier, title=title, status=status, status_basis="state", source_id="va-lis",
                source_url=f"https://lis.example.gov/{state}/{identifier.replace(' ', '')}", fetched_at=FETCHED,
                ai_relevance=relevance, topics=list(topics), updated_at=FETCHED, first_seen_at=FETCHED, **extra)
    db.add(bill)
    db.flush()
    return bill


def test_neutralize_follows_owasp_and_leaves_other_text_alone():
    assert [neutralize(t) for t in HOSTILE] == ["'" + t for t in HOSTILE]
    assert [neutralize(t) for t in HARMLESS] == HARMLESS
    assert cell(-3) == -3 and cell(2.5) == 2.5 and cell(True) == "true" and cell(None) == ""
    assert cell(date(2026, 1, 2)) == "2026-01-02" and cell(datetime(2026, 1, 2, 3)) == "2026-01-02T03:00:00+00:00"
    assert cell(["-a", "b"]) == "'-a; b"


def test_numpy_scalars_are_numbers_not_text():
    """The dashboard hands over DataFrame records: NumPy ints, floats, booleans and NaN."""
    np = pytest.importorskip("numpy")
    assert cell(np.int64(-3)) == -3 and type(cell(np.int64(-3))) is int
    assert cell(np.float64(-0.25)) == -0.25 and cell(np.float64("nan")) == "" and cell(float("nan")) == ""
    assert cell(np.bool_(True)) == "true"
    out = io.StringIO()
    write_rows([{"n": np.int64(-3), "x": np.float64("nan"), "t": "-3"}], ["n", "x", "t"], out, "csv")
    assert out.getvalue() == "n,x,t\r\n-3,,'-3\r\n"


def test_csv_is_exact_bytes_with_crlf():
    out = io.StringIO()
    rows = [("va-2024-SB487", "=1+1", "Line\nbreak", date(2024, 4, 8), 3, None),
            ("co-2026A-SB4", "Ordinary, \"quoted\"", "", datetime(2026, 8, 1, 12, tzinfo=UTC), -1.5, True)]
    assert write_rows(rows, ["key", "title", "note", "date", "n", "flag"], out, "csv") == 2
    assert out.getvalue() == (
        "key,title,note,date,n,flag\r\n"
        "va-2024-SB487,'=1+1,\"Line\nbreak\",2024-04-08,3,\r\n"
        "co-2026A-SB4,\"Ordinary, \"\"quoted\"\"\",,2026-08-01T12:00:00+00:00,-1.5,true\r\n")


def test_csv_bom_and_binary_streams(tmp_path):
    path = tmp_path / "x.csv"
    write_rows([{"a": "é"}], ["a"], path, bom=True)
    assert path.read_bytes() == b"\xef\xbb\xbfa\r\n\xc3\xa9\r\n"
    buffer = io.BytesIO()
    write_rows([["é"]], ["a"], buffer, "csv")
    assert buffer.getvalue() == b"a\r\n\xc3\xa9\r\n" and not buffer.closed


def test_xlsx_keeps_hostile_text_as_text(tmp_path):
    path = tmp_path / "x.xlsx"
    rows = [(text, 7) for text in HOSTILE + HARMLESS]
    write_rows(rows, ["title", "n"], path)
    sheet = openpyxl.load_workbook(path).active
    # XlsxWriter stores a carriage return as the OOXML escape _x000D_ (Excel reads it back; openpyxl doesn't).
    values = [((c[0].value or "").replace("_x000D_", "\r"), c[0].data_type, c[1].value)
              for c in sheet.iter_rows(min_row=2)]
    assert [v[0] for v in values[:len(HOSTILE)]] == ["'" + t for t in HOSTILE]
    assert [v[0] or "" for v in values[len(HOSTILE):]] == HARMLESS
    assert all(v[1] in ("s", "n") and v[1] != "f" for v in values) and all(v[2] == 7 for v in values)
    buffer = io.BytesIO()  # a stream (the dashboard's download button) gets the same workbook
    write_rows(rows, ["title", "n"], buffer, "xlsx")
    assert buffer.getvalue()[:2] == b"PK"


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(ValueError, match=".csv or .xlsx"):
        write_rows([], ["a"], tmp_path / "x.json")


@pytest.fixture
def filled(sqlite_url):
    return fill_exports(database.get_engine(sqlite_url))


def fill_exports(engine):
    with database.session_scope(engine) as db:
        sb1 = make_bill(db, "SB 1", title="=cmd|' /C calc'!A0 artificial intelligence", status="enacted")
        hb2 = make_bill(db, "HB 2", status="in_committee", relevance="adjacent", topics=("biometrics",))
        co = make_bill(db, "SB 4", state="co", session="2026A", status="introduced", topics=("high-risk", "hiring"))
        db.add(Action(bill_id=sb1.id, position=0, date=date(2024, 1, 9), raw_date="01/09/24", text="Prefiled",
                      actor="upper", classes=["filing"], class_layer="state"))
        db.add(Action(bill_id=sb1.id, position=1, date=date(2024, 4, 8), raw_date="04/08/24",
                      text="-Approved by Governor", classes=["executive-signature"], class_layer="state"))
        db.add(StatusChange(bill_id=sb1.id, old_status="to_governor", new_status="enacted", old_label="to_governor",
                            new_label="enacted/signed", action_date=date(2024, 4, 8), cause="Approved by Governor",
                            basis="state", source_id="va-lis", source_url=sb1.source_url, fetched_at=FETCHED,
                            detected_at=FETCHED))
        instrument = FederalInstrument(key="eo:14179", kind="executive_order", title="+Removing barriers",
                                       instrument_status="signed", confidence="H", source_id="seed",
                                       updated_at=FETCHED)
        db.add(instrument)
        db.flush()
        db.add(Conflict(link_key="k1", bill_id=co.id, instrument_id=instrument.id, relation="targets",
                        reason="named", confidence="H", origin="seed", version="1", updated_at=FETCHED))
        db.add(SimilarBill(bill_id=sb1.id, similar_id=co.id, score=0.91234, basis="text", version="1",
                           computed_at=FETCHED))
        db.add(SimilarBill(bill_id=hb2.id, similar_id=sb1.id, score=0.5, basis="title", version="1",
                           computed_at=FETCHED))
    return engine


def test_bills_export_is_exact(filled, tmp_path):
    out = io.StringIO()
    assert export(filled, "bills", out, fmt="csv", filters=Filters(state="co")) == 1
    assert out.getvalue() == (
        ",".join(KINDS["bills"].columns) + "\r\n"
        "co-2026A-SB4,co,2026A,SB 4,bill,Artificial intelligence; high-risk,introduced,,state,,,false,,core,,"
        "high-risk; hiring,,va-lis,https://lis.example.gov/co/SB4,2026-08-01T12:00:00+00:00,"
        "2026-08-01T12:00:00+00:00\r\n")


CASES = [
    ("bills", Filters(), 3),
    ("bills", Filters(topic="high-risk"), 2),
    ("bills", Filters(relevance="adjacent"), 1),
    ("bills", Filters(status="enacted", state="va"), 1),
    ("bills", Filters(since=date(2026, 8, 2)), 0),
    ("actions", Filters(), 2),
    ("actions", Filters(since=date(2024, 2, 1)), 1),
    ("changes", Filters(status="enacted"), 1),
    ("conflicts", Filters(state="co"), 1),
    ("conflicts", Filters(state="va"), 0),
    ("federal", Filters(status="signed"), 1),
    ("similar", Filters(), 2),
    ("similar", Filters(relevance="adjacent"), 1),
    ("similar", Filters(min_score=0.6), 1),  # only pairs above the threshold
    ("similar", Filters(min_score=0.5), 2),
]


@pytest.mark.parametrize("kind, filters, expected", CASES)
def test_every_kind_and_filter(filled, kind, filters, expected):
    rows = list(rows_for(filled, kind, filters))
    assert len(rows) == expected
    assert all(len(row) == len(KINDS[kind].columns) for row in rows)


def test_every_kind_on_sqlite_and_postgresql(db_url, tmp_path):
    engine = fill_exports(database.get_engine(db_url))
    assert [len(list(rows_for(engine, kind, filters))) for kind, filters, _ in CASES] == [n for *_, n in CASES]
    out = io.StringIO()
    export(engine, "bills", out, fmt="csv", filters=Filters(state="co"))
    assert "co-2026A-SB4,co,2026A,SB 4,bill,Artificial intelligence; high-risk,introduced," in out.getvalue()
    assert export(engine, "changes", tmp_path / "changes.xlsx") == 1


def test_filters_a_kind_does_not_take_are_refused(filled):
    with pytest.raises(ValueError, match="--state"):
        list(rows_for(filled, "federal", Filters(state="va")))


def test_cli_export_csv_and_xlsx_neutralized(filled, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", str(filled.url))
    from tracker.config import get_settings
    get_settings.cache_clear()
    csv_path, xlsx_path = tmp_path / "bills.csv", tmp_path / "similar.xlsx"
    result = runner.invoke(app, ["export", "bills", "--state", "va", "-o", str(csv_path)])
    assert result.exit_code == 0, result.output
    assert "bills: 2 rows written" in result.output
    text = csv_path.read_bytes().decode("utf-8")
    assert "'=cmd|' /C calc'!A0 artificial intelligence" in text and "\r\n" in text
    result = runner.invoke(app, ["export", "similar", "-o", str(xlsx_path)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(xlsx_path).active
    header, first = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    assert header == list(KINDS["similar"].columns)
    assert first[:4] == ["va-2024-HB2", "va-2024-SB1", 0.5, "title"]
    assert runner.invoke(app, ["export", "federal", "-o", str(tmp_path / "f.txt")]).exit_code == 2
    federal = tmp_path / "federal.csv"
    assert runner.invoke(app, ["export", "federal", "-o", str(federal)]).exit_code == 0
    assert "'+Removing barriers" in federal.read_text(encoding="utf-8")


def test_real_ingest_exports(settings, tmp_path):
    path = shared_file("fixtures/states/va/AI_SLICE_241_Bills.csv")
    assert runner.invoke(app, ["ingest", "va-lis", str(path), "--fetched-at", "2026-08-01"]).exit_code == 0
    out = tmp_path / "va.csv"
    result = runner.invoke(app, ["export", "bills", "--state", "va", "-o", str(out)])
    assert "bills: 9 rows written" in result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    sb487 = next(line for line in lines if line.startswith("va-2024-SB487,"))
    assert ",enacted," in sb487 and ",state," in sb487 and "2026-08-01T00:00:00+00:00" in sb487
    actions = tmp_path / "actions.xlsx"
    assert runner.invoke(app, ["export", "actions", "-o", str(actions)]).exit_code == 0
    assert openpyxl.load_workbook(actions).active.max_row > 9


def _peak(rows: int, fmt: str, tmp_path) -> int:
    generated = ((f"key-{i}", f"=title {i}" if i % 7 == 0 else f"title {i}", i, 0.5) for i in range(rows))
    tracemalloc.start()
    try:
        write_rows(generated, ["key", "title", "n", "score"], tmp_path / f"big-{rows}.{fmt}")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_csv_and_xlsx_memory_stays_flat(tmp_path):
    """Ten times the rows, about the same peak: nothing is held per row."""
    small, large = _peak(2_000, "csv", tmp_path), _peak(40_000, "csv", tmp_path)
    assert large < small * 2 + 200_000, (small, large)
    small, large = _peak(1_000, "xlsx", tmp_path), _peak(10_000, "xlsx", tmp_path)
    assert large < small * 2 + 500_000, (small, large)


def test_database_export_streams(sqlite_url, tmp_path):
    engine = database.get_engine(sqlite_url)
    with database.session_scope(engine) as db:
        session_id = seed(db)
    rows = [{"key": f"va-2024-HB{i}", "jurisdiction_id": "va", "session_id": session_id, "identifier": f"HB {i}",
             "kind": "bill", "title": f"Bill {i} on artificial intelligence", "source_id": "va-lis",
             "source_url": "https://lis.example.gov", "fetched_at": FETCHED, "source_flags": {}, "provenance": {},
             "ai_evidence": [], "topics": [], "obligations": [], "effective_dates": [], "carried_over": False,
             "override_possible": False, "partial_veto": False, "prefiled": False, "first_seen_at": FETCHED,
             "updated_at": FETCHED} for i in range(10_000)]
    with engine.begin() as connection:
        connection.execute(insert(Bill), rows)
    tracemalloc.start()
    try:
        count = export(engine, "bills", tmp_path / "all.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 10_000
    assert peak < 30_000_000, peak  # the 10,000 rows as objects would be several times this
