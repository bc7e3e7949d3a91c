"""Bad input never crashes a run or loses data (review 2026-12, issue #11: H7, M6, M8, L5, L7).

Built from the review's own reproductions (its `make_inputs.py`, run into a temporary folder) and from
small inputs made here: zip and gzip bombs, stray cp1252 bytes, over-long CSV fields, damaged and
encrypted archives, DTDs; then, for every saved-file reader, a truncated file, an HTML error page and
an empty file, each ingested through `tracker ingest` over earlier good data, which must survive.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from scrapers.base import ItemProblem, SourceFormatError
from scrapers.ca_pubinfo import parse_caml, parse_tables, read_folder, read_zip
from scrapers.legiscan import parse_csv_dataset, zip_files
from scrapers.ny import parse_billstat
from scrapers.openstates import OpenStatesFiles
from scrapers.va_lis import VirginiaLIS, parse_csv_files
from scrapers.wa_wsl import parse_legislation_xml
from tests.conftest import SHARED, shared_file
from tracker.archives import ArchiveTooLarge, Limits, SafeZip, XMLRefused, gunzip, parse_xml
from tracker.cli import app
from tracker.textdecode import FIELD_SIZE_LIMIT, DictRecords, decode_text

runner = CliRunner()
FETCHED = datetime(2026, 3, 1, tzinfo=UTC)
VA = "fixtures/states/va"
CA_MINI = "fixtures/states/ca/pubinfo_mini_2025-26"


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    """The review's hand-made inputs ($REPRO_DIR/in), built from ../shared by its own script."""
    script = SHARED / "review-2026-12" / "make_inputs.py"
    if not script.exists():
        pytest.skip("needs ../shared/review-2026-12/make_inputs.py (the review kit beside the checkout)")
    out = tmp_path_factory.mktemp("review-kit")
    subprocess.run([sys.executable, str(script)], env={**os.environ, "REPRO_DIR": str(out)}, check=True,
                   capture_output=True)
    return out / "in"


def cli(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    # A clean exit (0, 1 or 2), never an exception escaping the command: that is a traceback for a user.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def stored(settings) -> list[tuple]:
    """Every stored bill with its status and its actions, to compare before and after a bad ingest."""
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select b.key, b.status, b.fetched_at, group_concat(a.text, '|') from bill b "
            "left join action a on a.bill_id = b.id group by b.id order by b.key")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def zip_of(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ca_tables() -> dict[str, bytes]:
    folder = shared_file(CA_MINI)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- H7: zip and gzip bombs ---------------------------------------------------------------------

def test_the_review_zip_bomb_is_refused_before_it_inflates(kit, settings):
    bomb = kit / "ca_bomb.zip"
    with pytest.raises(ArchiveTooLarge, match=r"member BILL_VERSION_AUTHORS_TBL\.dat is 1,610,612,736 bytes "
                                              r"uncompressed, over the limit of 536,870,912"):
        read_zip(bomb, fetched_at=FETCHED, name=bomb.name)
    result = cli("ingest", "ca-pubinfo", bomb, "--fetched-at", "2026-03-01T00:00:00")
    assert result.exit_code != 0 and "MAX_MEMBER_BYTES" in result.output
    assert len(result.output.strip().splitlines()) == 1  # one line, no traceback


def test_a_member_that_inflates_past_the_ratio_cap_is_refused():
    blob = zip_of({**ca_tables(), "BILL_VERSION_AUTHORS_TBL.dat": b"\n" * (12 * 1024 * 1024)})
    with pytest.raises(ArchiveTooLarge, match=r"BILL_VERSION_AUTHORS_TBL\.dat inflates [\d,]+x .*MAX_RATIO"):
        read_zip(blob, fetched_at=FETCHED, name="pubinfo_Sat.zip")


def test_a_real_archive_passes_every_cap():
    items = list(read_zip(zip_of(ca_tables()), fetched_at=FETCHED, name="pubinfo_2025.zip"))
    assert sorted(i.identifier for i in items if not isinstance(i, ItemProblem)) == [
        "AB 1656", "AB 2052", "AB 831", "SB 275"]


def test_member_count_is_checked_before_the_central_directory_is_read():
    blob = zip_of({f"m{n}.json": b"{}" for n in range(30)})
    with pytest.raises(ArchiveTooLarge, match="declares 30 members, over the limit of 10"):
        SafeZip(blob, "many.zip", Limits(members=10))
    assert len(SafeZip(blob, "many.zip", Limits(members=30)).members) == 30


def test_a_zip64_member_count_is_read_from_its_own_record(monkeypatch):
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 5)  # write the zip64 end record for 30 members
    blob = zip_of({f"m{n}.json": b"{}" for n in range(30)})
    assert blob.count(b"PK\x06\x06") == 1
    with pytest.raises(ArchiveTooLarge, match="declares 30 members"):
        SafeZip(blob, "many.zip", Limits(members=10))


def test_total_and_per_member_caps_count_what_is_read():
    blob = zip_of({"a.csv": b"x" * 600, "b.csv": b"y" * 600})
    with SafeZip(blob, "t.zip", Limits(total_bytes=1000)) as archive:
        assert archive.read(archive.members[0]) == b"x" * 600
        with pytest.raises(ArchiveTooLarge, match="b.csv: reading its 600 bytes would take the archive past"):
            archive.read(archive.members[1])
    with SafeZip(blob, "t.zip", Limits(member_bytes=500)) as archive, \
            pytest.raises(ArchiveTooLarge, match="a.csv is 600 bytes uncompressed, over the limit of 500"):
        archive.read(archive.members[0])


def test_a_legiscan_dataset_bomb_and_an_open_states_zip_bomb_fail_the_batch(tmp_path):
    bomb = zip_of({"MI/2025-2026_Regular/csv/bills.csv": b"bill_id\n" + b"0" * (12 * 1024 * 1024)})
    with pytest.raises(ArchiveTooLarge, match="bills.csv inflates"):
        zip_files(bomb, "getDataset 2100")
    path = tmp_path / "session.zip"
    path.write_bytes(zip_of({"bills.jsonl": b" " * (12 * 1024 * 1024)}))
    with pytest.raises(ArchiveTooLarge, match="bills.jsonl inflates"):
        list(OpenStatesFiles().read_path(path, fetched_at=FETCHED).items)


def test_a_gzipped_json_lines_bomb_is_refused_while_streaming(tmp_path):
    path = tmp_path / "session.jsonl.gz"
    path.write_bytes(gzip.compress(b" " * (12 * 1024 * 1024)))
    with pytest.raises(ArchiveTooLarge, match="session.jsonl.gz: inflates more than 100x"):
        list(OpenStatesFiles().read_path(path, fetched_at=FETCHED).items)


def test_a_gzip_bomb_is_refused_and_a_real_gzip_reads(tmp_path):
    with pytest.raises(ArchiveTooLarge, match="inflates more than 100x"):
        gunzip(gzip.compress(b"\0" * (8 * 1024 * 1024)), "Bills.csv.gz")
    real = shared_file(f"{VA}/legacylis_241_Bills.csv.gz").read_bytes()
    assert gunzip(real, "Bills.csv.gz") == gzip.decompress(real)
    bills = tmp_path / "x_241_Bills.csv.gz"
    bills.write_bytes(gzip.compress(b"\0" * (8 * 1024 * 1024)))
    (tmp_path / "x_241_History.csv.gz").write_bytes(gzip.compress(b"x"))
    with pytest.raises(ArchiveTooLarge):
        VirginiaLIS().read_path(bills, fetched_at=FETCHED)


# --- L5: damaged and encrypted archives, truncated JSON -----------------------------------------

@pytest.mark.parametrize("name, message", [
    ("ls_corrupt.zip", "member bills.csv is damaged (error: Error -3 while decompressing data"),
    ("ls_encrypted.zip", "member bills.csv is encrypted; password-protected archives are not read"),
])
def test_damaged_and_encrypted_legiscan_zips_are_one_line_errors(kit, settings, name, message):
    for command in ("parse", "ingest"):
        result = cli(command, "legiscan-dataset", kit / name)
        assert result.exit_code == 1 and message in result.output
        assert result.output.count("\n") == 1
    # `ingest` recorded it: a failed run with the message (a damaged download, not a usage error).
    run = _runs(settings)[-1]
    assert (run.source_id, run.kind, run.status) == ("legiscan-dataset", "ingest", "failed") and message in run.message


def _runs(settings):
    from sqlmodel import Session, select

    from tracker.db import get_engine
    from tracker.models import ScrapeRun

    with Session(get_engine(settings.database_url)) as db:
        return list(db.execute(select(ScrapeRun).order_by(ScrapeRun.id)).scalars())


def test_a_damaged_ca_zip_on_the_command_line_is_a_recorded_failed_run_and_loses_nothing(settings, tmp_path):
    good = tmp_path / "pubinfo_Mon.zip"
    good.write_bytes(zip_of(ca_tables()))
    assert cli("ingest", "ca-pubinfo", good, "--fetched-at", "2026-03-01T00:00:00").exit_code == 0
    before = stored(settings)
    bad = tmp_path / "pubinfo_Tue.zip"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])  # a download cut in half
    result = cli("ingest", "ca-pubinfo", bad, "--fetched-at", "2026-03-02T00:00:00")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith("ca-pubinfo: failed") and "pubinfo_Tue.zip" in result.output
    assert "not a readable zip archive" in result.output
    assert _runs(settings)[-1].status == "failed" and "pubinfo_Tue.zip" in _runs(settings)[-1].message
    assert stored(settings) == before


@pytest.mark.parametrize("source, name, body", [
    ("legiscan-dataset", "bill_1.json", b'{"bill": {"bill_id": 1, "title": "cut'),
    ("legiscan", "bill_1.json", b"<html><body>502 Bad Gateway</body></html>"),
    ("openstates-json", "bill.json", b'{"identifier": "HB 1", "title": "cut'),
])
def test_a_single_bad_file_fails_saying_which_file_and_why(settings, tmp_path, source, name, body):
    path = tmp_path / name
    path.write_bytes(body)
    result = cli("ingest", source, path)
    assert result.exit_code == 1 and result.output.count("\n") == 1
    line = result.output
    assert line.startswith(f"{source}: failed") and "empty" not in line
    assert f"nothing could be read: {name}:" in line
    assert ("HTML where LegiScan JSON was expected" if b"<html" in body else "not valid JSON") in line


def test_an_encrypted_or_damaged_ca_archive_is_a_one_line_error(kit, settings):
    encrypted = bytearray(zip_of(ca_tables()))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # as the review built ls_encrypted
        at = -1
        while (at := encrypted.find(signature, at + 1)) >= 0:
            encrypted[at + offset] |= 1
    with pytest.raises(SourceFormatError, match="is encrypted"):
        read_zip(bytes(encrypted), fetched_at=FETCHED, name="pubinfo_Sat.zip")
    tables = ca_tables()
    damaged = bytearray(zip_of({"BILL_HISTORY_TBL.dat": tables.pop("BILL_HISTORY_TBL.dat"), **tables}))
    start = 30 + len("BILL_HISTORY_TBL.dat") + 40  # inside the first member's deflate data, as the review did
    damaged[start:start + 20] = bytes(b ^ 0xFF for b in damaged[start:start + 20])
    with pytest.raises(SourceFormatError, match=r"member BILL_HISTORY_TBL\.dat is damaged"):
        read_zip(bytes(damaged), fetched_at=FETCHED, name="pubinfo_Sat.zip")


def test_a_truncated_open_states_api_page_is_a_one_line_error(settings, tmp_path):
    page = tmp_path / "page.json"
    page.write_text('{"results": [\n')
    result = cli("parse", "openstates", page)
    assert result.exit_code == 1 and "page.json: not valid JSON, truncated or damaged" in result.output
    result = cli("ingest", "openstates", page, "--fetched-at", "2026-03-01T00:00:00")
    assert result.exit_code == 1 and "failed" in result.output and "SourceFormatError" in result.output


# --- M6: one stray byte garbles only itself ------------------------------------------------------

def test_valid_utf8_stays_and_only_the_bad_bytes_are_read_as_cp1252():
    mixed = "Act \u2014 \u00a7 59.1; Lim\u00f3n".encode() + b"; media\xae; caf\xe9"
    assert decode_text(b"\xef\xbb\xbf" + mixed) == "Act \u2014 \u00a7 59.1; Lim\u00f3n; media\u00ae; caf\xe9"
    assert decode_text("\u2013 CAF\u00c9".encode("cp1252")) == "\u2013 CAF\u00c9"  # a cp1252 file reads too
    assert decode_text(b"x\x81y") == "x\ufffdy"  # undefined in cp1252


@pytest.mark.parametrize("module", ["va_lis", "ca_pubinfo", "ny", "ct_ftp"])
def test_every_reader_decodes_the_same_way(module):
    import importlib

    decode = importlib.import_module(f"scrapers.{module}").decode
    assert decode("\u2014 \u00a7".encode() + b" \xae") == "\u2014 \u00a7 \u00ae"


def test_the_review_va_title_keeps_its_dash_and_section_sign(kit):
    items = VirginiaLIS().read_path(kit / "mixed_enc" / "x_241_Bills.csv", fetched_at=FETCHED,
                                    session="241").items
    titles = {b.identifier: b.title for b in items}
    assert titles["HB 747"].startswith("Artificial Intelligence Developer Act \u2014 \u00a7 59.1;")
    assert titles["HB 697"].startswith("Synthetic media\u00ae; use")


def test_the_review_ca_curly_quote_outcome_stays_classified(kit):
    from tracker.normalize.bill import normalize_bill

    bills = {b.identifier: normalize_bill(b) for b in read_folder(kit / "ca_mixed", fetched_at=FETCHED)}
    sb275 = bills["SB 275"]
    pairs = zip(sb275.scraped.actions, sb275.classifications, strict=True)
    [pending] = [(a.text, c.classes) for a, c in pairs if "veto pending" in a.text]
    assert pending == ("In Senate. Consideration of Governor's veto pending.", ("x-veto-pending",))


# --- M8: a long CSV field -----------------------------------------------------------------------

@pytest.fixture
def small_field_limit():
    """csv's limit lowered for one test, so a record over it is cheap to build."""
    before = csv.field_size_limit(1000)
    yield 1000
    csv.field_size_limit(before)


def test_the_limit_is_raised_once_for_every_reader():
    assert csv.field_size_limit() >= FIELD_SIZE_LIMIT > 131072


def test_the_review_200_kb_field_is_read_and_stored(kit, settings):
    cli("ingest", "va-lis", shared_file(f"{VA}/AI_SLICE_241_Bills.csv"), "--session", "241",
        "--fetched-at", "2024-06-01T00:00:00")
    result = cli("ingest", "va-lis", kit / "longfield" / "x_241_Bills.csv", "--session", "241",
                 "--fetched-at", "2024-06-02T00:00:00")
    assert result.exit_code == 0 and "ok - inserted 0, updated 1, unchanged 8" in result.output
    hb249 = next(row for row in stored(settings) if row[0] == "va-2024-HB249")
    assert "x" * 200000 in hb249[3]


def test_a_record_over_the_limit_is_one_problem_and_the_bill_keeps_what_was_stored(kit, settings,
                                                                                   small_field_limit):
    slice_ = shared_file(f"{VA}/AI_SLICE_241_Bills.csv")
    cli("ingest", "va-lis", slice_, "--session", "241", "--fetched-at", "2024-06-01T00:00:00")
    before = stored(settings)
    result = cli("ingest", "va-lis", kit / "longfield" / "x_241_Bills.csv", "--session", "241",
                 "--fetched-at", "2024-06-02T00:00:00")
    assert result.exit_code == 0 and "partial - inserted 0, updated 0, unchanged 8" in result.output
    problems = cli("runs", "--problems").output
    assert "History.csv line" in problems and "bill left as stored" in problems
    assert "(HB249): unreadable CSV record (field larger than field limit" in problems
    without_fetch_time = lambda rows: [(key, status, actions) for key, status, _, actions in rows]  # noqa: E731
    assert without_fetch_time(stored(settings)) == without_fetch_time(before)  # HB249's history too


def test_an_unclosed_quote_over_the_limit_names_file_line_and_bill(small_field_limit):
    header = '"Bill_id","History_date","History_description","History_refid"\r\n'
    history = header + '"HB1","01/08/24","H Prefiled",""\r\n"HB2","01/09/24","' + "x" * 2000 + "\r\n"
    bills = shared_file(f"{VA}/AI_SLICE_241_Bills.csv").read_text()
    with pytest.raises(SourceFormatError, match=r"History.csv line 3 \(HB2\): unreadable CSV record .*field "
                                                r"limit.*unclosed quote runs to the end of the file"):
        list(parse_csv_files(bills, history, session_code="241", fetched_at=FETCHED))


def test_a_record_whose_bill_cannot_be_told_fails_the_file(small_field_limit):
    header = '"Bill_id","History_date","History_description","History_refid"\r\n'
    history = header + '"' + "H" * 2000 + '","01/09/24","x",""\r\n'
    bills = shared_file(f"{VA}/AI_SLICE_241_Bills.csv").read_text()
    with pytest.raises(SourceFormatError, match="History.csv line 2: .*cannot tell which bill"):
        list(parse_csv_files(bills, history, session_code="241", fetched_at=FETCHED))


def test_a_multi_line_field_over_the_limit_is_skipped_to_its_end(small_field_limit):
    text = 'id,a\r\nX1,ok\r\n"X2","' + "y" * 600 + "\r\n" + "y" * 600 + '"\r\nX3,fine\r\n'
    rows = list(DictRecords(text, "t.csv", key="id"))
    assert rows[0] == {"id": "X1", "a": "ok"} and rows[2] == {"id": "X3", "a": "fine"}
    assert rows[1].message == ("t.csv line 3 (X2): unreadable CSV record "
                               "(field larger than field limit (1000))")


def test_legiscan_ca_and_ct_isolate_a_record_over_the_limit(small_field_limit):
    from scrapers.ct_ftp import parse_ct_files

    mi = "fixtures/api/legiscan/dataset_csv_MI_2025-2026"
    bills = shared_file(f"{mi}/subset_bills.csv").read_text(encoding="utf-8")
    history = shared_file(f"{mi}/subset_history.csv").read_text(encoding="utf-8")
    first = history.splitlines(True)[1]
    long_line = first.rstrip("\r\n")[:-1] + "z" * 2000 + first.rstrip("\r\n")[-1] + "\r\n"
    items = list(parse_csv_dataset({"bills.csv": bills, "history.csv": history + long_line},
                                   fetched_at=FETCHED))
    problems = [i for i in items if isinstance(i, ItemProblem)]
    bill_id = first.split(",")[0]
    assert len(problems) == 1 and f"({bill_id}): unreadable CSV record" in problems[0].message
    assert len(items) == 7

    tables = {p.name[:-4]: p.read_text(encoding="utf-8") for p in shared_file(CA_MINI).iterdir()}
    row = tables["BILL_HISTORY_TBL"].splitlines(True)[0]
    fields = row.rstrip("\r\n").split("\t")
    fields[3] = "`" + "q" * 2000 + fields[3][1:]  # the action text, wrapped in backticks
    tables["BILL_HISTORY_TBL"] += "\t".join(fields) + "\n"
    items = list(parse_tables(tables, fetched_at=FETCHED))
    problems = [i for i in items if isinstance(i, ItemProblem)]
    assert len(problems) == 1 and problems[0].item_key == row.split("\t")[0].strip("`")
    assert "BILL_HISTORY_TBL.dat line" in problems[0].message and len(items) == 4

    info = "bill_num,bill_title,sess_year\r\nHB05001,AN ACT ONE.,2026\r\nHB05002,AN ACT TWO.,2026\r\n"
    history = ("bill_num,act_date,act_desc,qual1,qual2\r\n"
               "HB05001,2026-02-01 00:00:00,REF. TO JOINT COMM. ON,GL,\r\n"
               f'HB05002,2026-02-02 00:00:00,"{"w" * 2000}",,\r\n')
    items = list(parse_ct_files(info, history, fetched_at=FETCHED, year=2026))
    assert [i.identifier for i in items if not isinstance(i, ItemProblem)] == ["HB 5001"]
    assert [i.item_key for i in items if isinstance(i, ItemProblem)] == ["HB 5002"]


# --- L7: no DTD in any XML -----------------------------------------------------------------------

LOL = ('<!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)) + "]>")


@pytest.mark.parametrize("document", [
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
    LOL + "<x>&lol9;</x>",  # billion laughs
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',  # an external entity
    '<!DOCTYPE x SYSTEM "http://example.org/x.dtd"><x/>',  # an external DTD
    "<!--" + "x" * 6000 + "-->" + '<!DOCTYPE x [<!ENTITY a "b">]><x/>',  # behind a long comment
])
def test_any_dtd_is_refused(document):
    with pytest.raises(XMLRefused, match="DTD"):
        parse_xml(document, "doc.xml")


def test_xml_without_a_dtd_parses_and_broken_xml_says_so():
    assert parse_xml("<a><b>1</b></a>", "doc.xml").findtext("b") == "1"
    with pytest.raises(SourceFormatError, match="doc.xml: not well-formed XML") as caught:
        parse_xml("<a><b>", "doc.xml")
    assert not isinstance(caught.value, XMLRefused)


def test_the_review_padded_billion_laughs_is_refused_by_wa(kit, settings):
    result = cli("parse", "wa-wsl", kit / "wa_lol_padded.xml")
    assert result.exit_code == 1 and "wa_lol_padded.xml: the XML carries a DTD" in result.output
    with pytest.raises(XMLRefused):
        parse_legislation_xml((kit / "wa_lol_padded.xml").read_text(), fetched_at=FETCHED, origin="wa")


def test_ny_billstat_and_ca_caml_refuse_a_dtd(kit):
    billstat = shared_file("fixtures/states/ny/lbdc_BILLSTAT_2023-S05186.xml").read_text()
    assert parse_billstat(billstat, fetched_at=FETCHED).identifier == "S 5186"
    with pytest.raises(XMLRefused):
        parse_billstat('<!DOCTYPE billstatus [<!ENTITY a "b">]>' + billstat, fetched_at=FETCHED)
    caml = shared_file("fixtures/states/ca/caml_20250AB76_introduced.xml").read_bytes()
    assert parse_caml(caml).digest
    hostile = caml.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
    with pytest.raises(XMLRefused):
        parse_caml(hostile, "BILL_VERSION_TBL_1.lob")
    # In an archive, that bill is a problem and the others are read.
    tables = ca_tables()
    lob = next(line.split(b"\t")[14] for line in tables["BILL_VERSION_TBL.dat"].splitlines()
               if line.split(b"\t")[0] == tables["BILL_TBL.dat"].splitlines()[0].split(b"\t")[10])
    items = list(read_zip(zip_of({**tables, lob.decode(): hostile}), fetched_at=FETCHED, name="pubinfo.zip"))
    problems = [i for i in items if isinstance(i, ItemProblem)]
    assert len(items) == 4 and len(problems) == 1 and "carries a DTD" in problems[0].message


# --- Truncated, HTML, empty: every saved-file reader, over stored good data ----------------------

HTML = b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>Later</body></html>\n"


def _ocd_record() -> dict:
    return json.loads(shared_file("fixtures/states/co/openstates_scrape_json/2026A__HB1139.json").read_text())


def _good(source: str, folder: Path) -> tuple[Path, list[str]]:
    """A good input for `source` in `folder`, and extra ingest arguments."""
    folder.mkdir(parents=True, exist_ok=True)
    if source == "va-lis":
        for kind in ("Bills", "History"):
            real = shared_file(f"{VA}/AI_SLICE_241_{kind}.csv")
            (folder / f"x_241_{kind}.csv").write_bytes(real.read_bytes())
        return folder / "x_241_Bills.csv", ["--session", "241"]
    if source == "ca-pubinfo":
        (folder / "pubinfo_Sat.zip").write_bytes(zip_of(ca_tables()))
        return folder / "pubinfo_Sat.zip", []
    if source == "legiscan-dataset":
        mi = "fixtures/api/legiscan/dataset_csv_MI_2025-2026"
        files = {f"MI/2025-2026_103rd_Legislature/csv/{n}.csv": shared_file(f"{mi}/subset_{n}.csv")
                 .read_bytes() for n in ("bills", "history", "sponsors", "documents")}
        (folder / "MI_2025-2026.zip").write_bytes(zip_of(files))
        return folder / "MI_2025-2026.zip", []
    if source == "legiscan":
        path = folder / "getBill.json"
        path.write_bytes(shared_file("fixtures/api/legiscan/jkropko_al2025/getBill_AL_HB1_2025_reserialized.json")
                         .read_bytes())
        return path, []
    if source == "openstates-json":
        (folder / "HB1139.json").write_text(json.dumps(_ocd_record()))
        return folder / "HB1139.json", []
    if source == "openstates":
        page = {"results": [{**_ocd_record(), "id": "ocd-bill/1139"}],
                "pagination": {"per_page": 20, "page": 1, "max_page": 1, "total_items": 1}}
        (folder / "page.json").write_text(json.dumps(page))
        return folder / "page.json", []
    if source == "wa-wsl":
        path = folder / "answer.xml"
        path.write_bytes(shared_file("fixtures/states/wa/wsl_GetLegislationIntroducedSince_TRIMMED_AI.xml")
                         .read_bytes())
        return path, []
    if source == "ny-lbdc":
        path = folder / "S05186.xml"
        path.write_bytes(shared_file("fixtures/states/ny/lbdc_BILLSTAT_2023-S05186.xml").read_bytes())
        return path, []
    if source == "ny-openleg":
        path = folder / "S609.json"
        path.write_bytes(shared_file("fixtures/states/ny/openleg_api_v3_bill_S609-2017.json").read_bytes())
        return path, []
    assert source == "ct-ftp"
    (folder / "bill_info.csv").write_text("bill_num,bill_title,sess_year\r\nHB05001,AN ACT ONE.,2026\r\n")
    (folder / "bill_history.csv").write_text("bill_num,act_date,act_desc,qual1,qual2\r\n"
                                             "HB05001,2026-02-01 00:00:00,REF. TO JOINT COMM. ON,GL,\r\n")
    return folder / "bill_info.csv", []


SOURCES = ["va-lis", "ca-pubinfo", "legiscan-dataset", "legiscan", "openstates-json", "openstates", "wa-wsl",
           "ny-lbdc", "ny-openleg", "ct-ftp"]


@pytest.mark.parametrize("damage", ["truncated", "html", "empty"])
@pytest.mark.parametrize("source", SOURCES)
def test_a_damaged_file_is_a_clear_error_and_stored_data_survives(settings, tmp_path, source, damage):
    good, extra = _good(source, tmp_path / "good")
    first = cli("ingest", source, good, *extra, "--fetched-at", "2026-03-01T00:00:00")
    assert first.exit_code == 0 and "inserted 0" not in first.output, first.output
    before = stored(settings)
    assert before

    bad, _ = _good(source, tmp_path / "bad")
    data = bad.read_bytes()
    bad.write_bytes({"truncated": data[: len(data) // 2], "html": HTML, "empty": b""}[damage])
    result = cli("ingest", source, bad, *extra, "--fetched-at", "2026-03-02T00:00:00")
    assert result.exit_code in (1, 2), result.output
    # One clear line (the run summary or the read error): what went wrong, and nothing updated.
    assert len(result.output.strip().splitlines()) == 1, result.output
    line = result.output.lower()
    assert any(word in line for word in ("error", "failed", "empty", "no bills")), result.output
    assert "updated 0" in line or "error:" in line, result.output
    if damage == "html":
        assert "html" in line or "not well-formed" in line or "no bills" in line, result.output
    assert stored(settings) == before  # nothing stored was lost or changed
