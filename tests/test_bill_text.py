"""Stored bill text (issue #10): California pubinfo's CAML gives each bill's own text; ingest stores it
(one row a bill), a record without text keeps it, a changed text is an update naming "text"; detect
reads it for relevance, topics and similar bills. Real CAML files; every fetch time is pinned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from scrapers.ca_pubinfo import parse_caml, parse_tables
from tests.conftest import shared_file
from tracker import db as database
from tracker import storage
from tracker.detect.pipeline import detect
from tracker.models import Bill, BillChange, BillText, ScrapeRun, SimilarBill
from tracker.scraped import ItemProblem, ScrapedBill
from tracker.storage import ingest

MINI = "fixtures/states/ca/pubinfo_mini_2025-26"
AB76 = "fixtures/states/ca/caml_20250AB76_introduced.xml"
AB2302 = "fixtures/states/ca/caml_20230AB230297CHP_AB2302_chaptered.xml"
FETCHED = datetime(2026, 6, 12, tzinfo=UTC)
AB831_LOB, SB275_LOB = "BILL_VERSION_TBL_9506.lob", "BILL_VERSION_TBL_8685.lob"  # their latest versions
AI_PARAGRAPH = ("<p>(h)<span class=\"EnSpace\"/>\u201cArtificial intelligence\u201d means an engineered or machine-based "
                "system that infers from the input it receives how to generate outputs. A local agency that uses "
                "artificial intelligence to decide whether land is surplus shall disclose that use of artificial "
                "intelligence in the notice.</p>")


def tables() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in shared_file(MINI).glob("*.dat")}


def caml(path: str = AB76, *, ai: bool = False) -> bytes:
    data = shared_file(path).read_bytes()
    if ai:  # DERIVED from the real AB 76 CAML: one paragraph defining AI added to its amended section
        data = data.replace(b"</caml:Content></caml:LawSectionVersion>", AI_PARAGRAPH.encode()
                            + b"</caml:Content></caml:LawSectionVersion>", 1)
    return data


def parsed(lobs: dict[str, bytes] | None = None, fetched_at: datetime = FETCHED) -> list:
    lobs = lobs or {}
    return list(parse_tables(tables(), fetched_at=fetched_at, lobs=lobs.get))


def bills(items) -> dict[str, ScrapedBill]:
    return {item.identifier: item for item in items if not isinstance(item, ItemProblem)}


def stored_text(url: str, key: str) -> BillText | None:
    with database.session_scope(database.get_engine(url)) as db:
        row = db.execute(select(BillText).join(Bill, Bill.id == BillText.bill_id).where(Bill.key == key)
                         ).scalar_one_or_none()
        if row is not None:
            db.expunge(row)
        return row


def store(url: str, items: list):
    with database.session_scope(database.get_engine(url)) as db:
        return ingest(db, items)


def changes(url: str) -> list[tuple[str, list]]:
    with database.session_scope(database.get_engine(url)) as db:
        return [(c, f) for c, f in db.execute(select(BillChange.change, BillChange.changed_fields)
                                               .order_by(BillChange.id))]


# --- parse ------------------------------------------------------------------------------------------

def test_caml_text_is_the_bills_own_text_as_plain_text():
    ab76 = parse_caml(shared_file(AB76).read_bytes()).text
    assert ab76.startswith("An act to amend Section 54221 of the Government Code, relating to land use.\n"
                           "The people of the State of California do enact as follows:\nSECTION 1.\n")
    assert '(a) (1) "Local agency" means every city' in ab76  # EnSpace spans become spaces; quotes plain
    assert "<" not in ab76 and "EnSpace" not in ab76 and "Existing law" not in ab76  # no markup, no digest
    assert ab76.endswith("Section 50093 of the Health and Safety Code.")
    ab2302 = parse_caml(shared_file(AB2302).read_bytes()).text
    assert ab2302.startswith("An act to amend Section 54953 of the Government Code, relating to local government.")
    assert "(A) All votes taken during a teleconferenced meeting shall be by rollcall." in ab2302
    assert parse_caml(b"<html><body>oops").text is None


def test_the_latest_versions_caml_gives_the_scraped_text():
    found = bills(parsed({AB831_LOB: caml()}))
    ab831 = found["AB 831"]
    assert ab831.text == parse_caml(caml()).text
    assert ab831.text_label == "Chaptered 2025-10-11"  # the version's action and its date
    assert found["SB 275"].text is None and found["SB 275"].text_label is None  # its .lob is not there
    # A record without text hashes as it always did: no "text" group, so nothing stored looks changed.
    assert "text" not in found["SB 275"].field_hashes() and "text" in ab831.field_hashes()


def test_a_text_change_moves_the_fast_path_hash():
    base = dict(jurisdiction="va", session="2024", identifier="HB 1", title="t", source_id="x",
                source_url="u", fetched_at=FETCHED, source_text="row")
    plain, one, other = (ScrapedBill(**base), ScrapedBill(**base, text="a"), ScrapedBill(**base, text="b"))
    assert len({plain.content_hash(), one.content_hash(), other.content_hash()}) == 3


# --- ingest -----------------------------------------------------------------------------------------

def test_ingest_stores_text_keeps_it_without_text_and_updates_on_a_new_text(db_url):
    key = "ca-20252026-AB831"
    first = store(db_url, parsed({AB831_LOB: caml()}))
    assert first.inserted == 4
    row = stored_text(db_url, key)
    assert row.text == parse_caml(caml()).text and row.version.startswith("Chaptered")
    assert (row.source_id, row.fetched_at.replace(tzinfo=UTC)) == ("ca-pubinfo", FETCHED)
    assert row.source_url.endswith("bill_id=202520260AB831") and len(row.content_hash) == 64
    assert stored_text(db_url, "ca-20252026-SB275") is None

    later = FETCHED + timedelta(days=1)
    again = store(db_url, parsed({AB831_LOB: caml()}, later))
    assert (again.updated, again.unchanged) == (0, 4)

    # A record without text (a source or a parse that gives none): not a change; the stored text stays.
    textless = parsed({AB831_LOB: caml()}, later + timedelta(days=1))
    for item in bills(textless).values():
        item.text = item.text_label = None
    missing = store(db_url, textless)
    assert (missing.updated, missing.unchanged) == (0, 4)
    assert stored_text(db_url, key).text == row.text
    back = store(db_url, parsed({AB831_LOB: caml()}, later + timedelta(days=2)))
    assert (back.updated, back.unchanged) == (0, 4)
    # The .lob missing from an archive loses the digest (summary) too: an update, but never of "text".
    no_lob = store(db_url, parsed({}, later + timedelta(days=2, hours=1)))
    assert no_lob.updated == 1 and changes(db_url)[-1] == ("update", ["source_flags", "summary"])
    assert stored_text(db_url, key).text == row.text
    assert store(db_url, parsed({AB831_LOB: caml()}, later + timedelta(days=2, hours=2))).updated == 1
    assert changes(db_url)[-1] == ("update", ["source_flags", "summary"])

    # A new text is an update that names "text"; the stored text is replaced.
    newer = later + timedelta(days=3)
    changed = store(db_url, parsed({AB831_LOB: caml(AB2302)}, newer))
    assert (changed.updated, changed.unchanged) == (1, 3)
    assert changes(db_url)[-1] == ("update", ["source_flags", "summary", "text"])  # its own digest, too
    assert stored_text(db_url, key).text == parse_caml(caml(AB2302)).text
    assert stored_text(db_url, key).fetched_at.replace(tzinfo=UTC) == newer
    with database.session_scope(database.get_engine(db_url)) as db:
        assert db.execute(select(BillText)).scalars().all().__len__() == 1  # one row a bill


def test_an_older_copy_never_replaces_a_newer_text(sqlite_url):
    store(sqlite_url, parsed({AB831_LOB: caml(AB2302)}, FETCHED + timedelta(days=5)))
    result = store(sqlite_url, parsed({AB831_LOB: caml()}, FETCHED))
    assert result.updated == 0
    assert stored_text(sqlite_url, "ca-20252026-AB831").text == parse_caml(caml(AB2302)).text


def test_an_overlong_text_is_cut_with_a_note(sqlite_url, monkeypatch):
    monkeypatch.setattr(storage, "TEXT_LIMIT", 1000)
    result = store(sqlite_url, parsed({AB831_LOB: caml()}))
    assert len(stored_text(sqlite_url, "ca-20252026-AB831").text) == 1000
    [note] = [p for p in result.problems if "bill text" in p.message]
    assert note.kept and "cut to the first 1,000" in note.message


# --- detect -----------------------------------------------------------------------------------------

def test_detect_reads_the_stored_text(sqlite_url):
    """AB 831's title and digest say nothing of AI; its text (the real AB 76 CAML with one paragraph
    defining AI) does. SB 275 gets the same text, so the two are similar on their texts."""
    store(sqlite_url, parsed({AB831_LOB: caml()}))
    with database.session_scope(database.get_engine(sqlite_url)) as db:
        detect(db, today=FETCHED.date())
    assert _bill(sqlite_url, "ca-20252026-AB831").ai_relevance == "not_ai"

    later = FETCHED + timedelta(days=1)
    with database.session_scope(database.get_engine(sqlite_url)) as db:
        run = ScrapeRun(source_id="ca-pubinfo", kind="ingest", started_at=later)
        db.add(run)
        db.flush()
        result = ingest(db, parsed({AB831_LOB: caml(ai=True), SB275_LOB: caml(ai=True)}, later), run_id=run.id)
        assert result.updated == 2  # the run's bill_change rows name "text": detect redoes both bills
        assert {(c, "text" in f) for c, f in db.execute(select(BillChange.change, BillChange.changed_fields)
                                                        .where(BillChange.run_id == run.id))} == {("update", True)}
        detect(db, run_id=run.id, today=later.date())
    ab831 = _bill(sqlite_url, "ca-20252026-AB831")
    assert ab831.ai_relevance == "core"
    assert {e["field"] for e in ab831.ai_evidence} == {"text"}
    assert any("artificial intelligence" in e["term"].lower() for e in ab831.ai_evidence)
    with database.session_scope(database.get_engine(sqlite_url)) as db:
        pairs = db.execute(select(SimilarBill.basis, SimilarBill.score)).all()
    assert pairs and {basis for basis, _ in pairs} == {"text"}


def _bill(url: str, key: str) -> Bill:
    with database.session_scope(database.get_engine(url)) as db:
        bill = db.execute(select(Bill).where(Bill.key == key)).scalar_one()
        db.expunge(bill)
        return bill


# --- New York LBDC pages ----------------------------------------------------------------------------

def test_lbdc_page_gives_the_bills_text_without_struck_matter_or_the_memo(sqlite_url):
    from scrapers.ny import decode, parse_lbdc_page

    def page(name: str) -> ScrapedBill:
        html = decode(shared_file(f"fixtures/states/ny/{name}").read_bytes())
        return parse_lbdc_page(html, fetched_at=FETCHED)

    a6361 = page("lbdc_2017-A6361_chapter348.html")
    assert a6361.text.startswith("STATE OF NEW YORK\n6361\n2017-2018 Regular Sessions\nIN ASSEMBLY")
    assert "AN ACT to amend the executive law, in relation to the adoption by local" in a6361.text
    assert "During the period in which the council is considering" not in a6361.text  # struck (<s>)
    assert a6361.text.endswith("LBD00979-01-7")  # the memo after it (BILL NUMBER:, PURPOSE) is not text
    assert "BILL NUMBER" not in a6361.text and a6361.text_label == "A6361"
    s6169 = page("lbdc_2023-S6169B_died-in-assembly.html")
    assert s6169.text_label == "S6169B"
    assert "committee discharged, bill amended" in s6169.text  # "commit-" / "tee" joined; no line numbers
    assert "\n1 Section 1." not in s6169.text and "Section 1. This act shall be known" in s6169.text
    assert s6169.text.endswith("§ 5. This act shall take effect immediately.")
    store(sqlite_url, [a6361])
    assert stored_text(sqlite_url, "ny-20172018-A6361").text == a6361.text
