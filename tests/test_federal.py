"""Federal instruments: the seed files against DOMAIN.md, confidence never raised, low confidence shown
everywhere, law / proposed / directed, preemption detection and the review queue (`tracker federal`)."""

import csv
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from scrapers.federal_register import parse_document
from tests.conftest import shared_file
from tracker import db as database
from tracker.cli import app
from tracker.federal import (
    SeedError,
    check_confidence,
    confidence_label,
    decide,
    detect_preemption_language,
    force_label,
    is_ai_text,
    is_low_confidence,
    load_seed,
    read_instrument_rows,
    read_link_rows,
    resolve_state_bill,
    seed_path,
    store_instruments,
)
from tracker.models import ConflictLink, FederalInstrument, InstrumentChange, PreemptionCandidate
from tracker.scraped import ScrapedAction, ScrapedBill, ScrapedInstrument
from tracker.storage import ingest

runner = CliRunner()
NOW = datetime(2026, 10, 1, tzinfo=UTC)


def seeded(url: str):
    engine = database.get_engine(url)
    with database.session_scope(engine) as db:
        load_seed(db)
    return engine


# --- The seed files -----------------------------------------------------------------------------

def test_seed_files_load_and_validate():
    rows = read_instrument_rows()
    links = read_link_rows(None, {r["key"] for r in rows})
    assert len(rows) == 21 and len(links) == 27
    by_key = {r["key"]: r for r in rows}
    eo = by_key["fr:2025-23092"]
    assert (eo["eo_number"], eo["fr_citation"], eo["published_on"]) == ("14365", "90 FR 58499", date(2025, 12, 16))
    assert eo["carve_outs"] == ["child safety", "data-center / compute infrastructure (generally applicable "
                                "permitting)", "state procurement and state use of AI"]
    assert by_key["fr:2025-02172"]["eo_number"] == "14179"
    assert by_key["us-119-HR5388"]["carve_outs"] == ["criminal laws", "procurement laws"]
    assert by_key["us-119-HR1-s43201c"]["instrument_status"] == "struck"


def domain_confidences() -> dict[str, str]:
    """DOMAIN.md §5 timeline: the date cell -> the confidence cell, as written (bold markers removed)."""
    text = shared_file("DOMAIN.md").read_text(encoding="utf-8")
    table = text.split("**Federal preemption timeline", 1)[1].split("**Seed links", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip().replace("**", "") for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.search(r"\d{4}", cells[0]):
            rows[cells[0]] = cells[5]
    return rows


def test_every_seed_confidence_is_exactly_as_sourced():
    sourced = domain_confidences()
    assert len(sourced) >= 20
    checked = 0
    for row in read_instrument_rows():
        ref = row["source_ref"] or ""
        if "timeline" not in ref:
            continue  # derived rows (the FCC proceeding from EO 14365 §6) say where they come from
        cited = [cell for cell in sourced if re.search(rf"(?:row|rows|;) {re.escape(cell)}(?![\d–])", ref)]
        assert cited, row["key"]
        for cell in cited:
            assert row["confidence"] == sourced[cell], (row["key"], cell)
            checked += 1
    assert checked >= 24


def test_seed_links_are_the_domain_seed_links():
    links = read_link_rows(None, {r["key"] for r in read_instrument_rows()})
    named = {(l["state"], l["state_bill"], l["relation"]) for l in links}
    assert {("co", "SB 205", "named_target"), ("co", "SB 205", "challenged"), ("co", "SB 205", "enjoined"),
            ("ca", "SB 53", "named_target"), ("ca", "AB 2013", "named_target"), ("ny", "S 6953", "named_target"),
            ("il", "SB 315", "named_target"), ("ut", "HB 286", "named_target"),
            ("tx", "HB 149", "in_preemption_scope")} <= named
    assert all(l["confidence"] in ("M", "L") for l in links if l["relation"] == "in_preemption_scope")


@pytest.mark.parametrize("column, value, message", [
    ("kind", "memo", "unknown kind"), ("stance", "preempts;hates", "unknown stance"),
    ("confidence", "high", "confidence must start"), ("instrument_status", "signed", "unknown instrument_status"),
])
def test_bad_seed_rows_are_refused(tmp_path, column, value, message):
    rows = list(csv.DictReader(seed_path("federal_instruments.csv").open(encoding="utf-8")))
    rows[3][column] = value
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(SeedError, match=message):
        read_instrument_rows(path)


def test_scope_judgement_above_m_is_refused(tmp_path):
    text = seed_path("conflict_links.csv").read_text(encoding="utf-8")
    path = tmp_path / "links.csv"
    path.write_text(text.replace("in_preemption_scope,,,M,", "in_preemption_scope,,,H,", 1), encoding="utf-8")
    with pytest.raises(SeedError, match="M at most"):
        read_link_rows(path)


def test_seed_is_idempotent_and_never_raises_a_confidence(db_url, tmp_path):
    engine = seeded(db_url)
    with database.session_scope(engine) as db:
        again = load_seed(db)
        assert (again.inserted, again.updated, again.unchanged, again.links_unchanged) == (0, 0, 21, 27)
        row = db.execute(select(FederalInstrument).where(FederalInstrument.key == "us-119-HR5388")).scalar_one()
        row.confidence = "M"  # lowered by someone with new evidence
    with database.session_scope(engine) as db:
        result = load_seed(db)
        row = db.execute(select(FederalInstrument).where(FederalInstrument.key == "us-119-HR5388")).scalar_one()
        assert row.confidence == "M" and any("not raised" in w for w in result.warnings)
    # Lowering through the file is applied.
    text = seed_path("federal_instruments.csv").read_text(encoding="utf-8")
    lowered = tmp_path / "instruments.csv"
    lowered.write_text(text.replace('"DOMAIN.md §5 timeline, row Sep 16, 2025; URL built from the bill number",H,',
                                    '"DOMAIN.md §5 timeline, row Sep 16, 2025; URL built from the bill number",L,'),
                       encoding="utf-8")
    with database.session_scope(engine) as db:
        load_seed(db, lowered)
        row = db.execute(select(FederalInstrument).where(FederalInstrument.key == "us-119-HR5388")).scalar_one()
        assert row.confidence == "L"
        assert db.execute(select(InstrumentChange.change).where(InstrumentChange.instrument_id == row.id)
                          ).scalars().all() == ["seed", "seed"]


def test_confidence_helpers():
    assert is_low_confidence("L/M") and is_low_confidence("L (list), H (deadlines)")
    assert not is_low_confidence("H (text), M (CA mention)") and not is_low_confidence("H/M")
    assert confidence_label("L (single tracker)") == "L (single tracker) [LOW]"
    with pytest.raises(ValueError):
        check_confidence("likely")


@pytest.mark.parametrize("kind, status, fr_type, expected", [
    ("executive_order", "in_force", "Presidential Document", "directed"),
    ("executive_order", "leaked_draft", None, "proposed"),
    ("federal_bill", "introduced", None, "proposed"),
    ("federal_bill", "struck", None, "proposed"),
    ("federal_bill", "enacted", None, "law"),
    ("fr_document", "in_force", "Rule", "law"),
    ("fr_document", "draft", "Proposed Rule", "proposed"),
    ("fr_document", "in_force", "Notice", "directed"),
    ("wh_letter_or_framework", "in_force", None, "directed"),
    ("doj_action", "in_force", None, "directed"),
    ("agency_proceeding", None, None, "directed"),
])
def test_force_label_says_law_only_for_law(kind, status, fr_type, expected):
    assert force_label(kind, status, fr_type) == expected


# --- Detection ---------------------------------------------------------------------------------------

def test_preemption_language_is_found_with_its_evidence():
    texts = {"title": "Ensuring a National Policy Framework for Artificial Intelligence",
             "summary": "10-year bar on enforcing state/local laws regulating AI models. The framework opposes a "
                        "state patchwork. §3 DOJ AI Litigation Task Force."}
    evidence = detect_preemption_language(texts)
    assert {(e["term"], e["field"]) for e in evidence} == {
        ("national policy framework", "title"), ("patchwork", "summary"), ("litigation task force", "summary")}
    assert all(e["snippet"] for e in evidence)
    assert [e["term"] for e in detect_preemption_language({"s": "A 10-year moratorium on State AI laws."})] == [
        "moratorium", "State law"]


def test_federalism_boilerplate_is_not_a_preemption_move():
    text = ("This action does not have federalism implications. This rule does not preempt State law. "
            "It has no preemptive effect.")
    assert detect_preemption_language({"abstract": text}) == []


def test_ai_relevance_skips_trap_words():
    assert is_ai_text("Artificial Intelligence Uniformity Act") and is_ai_text("AI LEAD Act")
    assert is_ai_text("Protecting Americans from deepfakes")
    assert not is_ai_text("Artificial turf safety") and not is_ai_text("Counterintelligence reform")
    assert not is_ai_text("Slot machines; automated speed enforcement") and not is_ai_text("MAINE act")


# --- Storing, reconciling, reviewing --------------------------------------------------------------

def synthetic_order(number: str = "2025-23092", **changes) -> ScrapedInstrument:
    """The shape the FR parser returns; values synthetic (no real capture of EO 14365 exists)."""
    values = dict(key=f"fr:{number}", kind="executive_order", title="SYNTHETIC order title from the API",
                  source_id="federal-register", source_url=f"https://www.federalregister.gov/d/{number}",
                  fetched_at=NOW, instrument_status="in_force", stage="published", eo_number="14365",
                  fr_document_number=number, fr_type="Presidential Document", fr_subtype="Executive Order",
                  published_on=date(2025, 12, 16), signed_on=date(2025, 12, 11),
                  texts={"full_text": "Sec. 8. ... a uniform Federal policy framework that preempts State AI laws "
                                      "that conflict with the policy set forth in this order."})
    return ScrapedInstrument(**(values | changes))


def test_api_record_refreshes_a_seeded_order_but_keeps_the_judgement(db_url):
    engine = seeded(db_url)
    with database.session_scope(engine) as db:
        outcome = store_instruments(db, [synthetic_order()])
        row = db.execute(select(FederalInstrument).where(FederalInstrument.key == "fr:2025-23092")).scalar_one()
        assert outcome.updated == 1 and outcome.problems == []
        assert (row.title, row.source_id, row.last_verified) == (
            "SYNTHETIC order title from the API", "federal-register", date(2026, 10, 1))
        assert row.stance == ["litigates", "conditions_funding", "threatens"]
        assert row.confidence == "H (text), M (CA mention)" and row.note.startswith("90 FR 58499")
        (candidate,) = db.execute(select(PreemptionCandidate)).scalars()
        assert candidate.status == "pending" and {e["term"] for e in candidate.evidence} >= {"preempt", "State law"}
    with database.session_scope(engine) as db:  # a second document carrying the same EO number is flagged
        outcome = store_instruments(db, [synthetic_order("2025-99999", title="SYNTHETIC duplicate")])
        assert "EO 14365 is stored as fr:2025-23092" in outcome.problems[0].message


def test_review_confirm_and_reject(db_url):
    engine = seeded(db_url)
    with database.session_scope(engine) as db:
        store_instruments(db, [synthetic_order(), synthetic_order(
            "2099-00002", eo_number=None, kind="fr_document", title="SYNTHETIC notice on AI",
            texts={"abstract": "Comments on a moratorium."})])
        first, second = [c.id for c in db.execute(select(PreemptionCandidate).order_by(PreemptionCandidate.id)
                                                  ).scalars()]
        with pytest.raises(ValueError, match="needs the stance"):
            decide(db, first, "confirm", stance=[])
        instrument = decide(db, first, "confirm", stance=["preempts"], reviewer="analyst", note="§8")
        assert instrument.stance == ["litigates", "conditions_funding", "threatens", "preempts"]
        rejected = decide(db, second, "reject", reviewer="analyst")
        assert rejected.stance == ["neutral"]
        with pytest.raises(ValueError, match="already confirmed"):
            decide(db, first, "reject")
        reviews = db.execute(select(InstrumentChange).where(InstrumentChange.change == "review")).scalars().all()
        assert len(reviews) == 2


def test_links_resolve_to_stored_state_bills(sqlite_url):
    engine = seeded(sqlite_url)
    bill = ScrapedBill(jurisdiction="ut", session="2026", identifier="HB 286", title="AI Transparency Amendments",
                       source_id="test", source_url="https://le.utah.gov/~2026/bills/static/HB0286.html",
                       fetched_at=NOW, actions=[ScrapedAction(date(2026, 1, 20), "House/ received bill")])
    with database.session_scope(engine) as db:
        ingest(db, [bill])
        link = db.execute(select(ConflictLink).where(ConflictLink.state == "ut")).scalar_one()
        assert resolve_state_bill(db, link) == "ut-2026-HB286"
        co = db.execute(select(ConflictLink).where(ConflictLink.state == "co")).scalars().first()
        assert resolve_state_bill(db, co) is None  # not stored yet


# --- The CLI ---------------------------------------------------------------------------------------

def low_keys() -> set[str]:
    return {r["key"] for r in read_instrument_rows() if is_low_confidence(r["confidence"])}


def test_cli_seed_list_show_links_mark_low_confidence_everywhere(settings):
    result = runner.invoke(app, ["federal", "seed"])
    assert result.exit_code == 0, result.output
    assert "instruments: inserted 21" in result.output and "links: inserted 27" in result.output
    listing = runner.invoke(app, ["federal", "list"]).output.splitlines()
    assert len(listing) == 21 and all("confidence " in line for line in listing)
    for line in listing:
        assert ("[LOW]" in line) == (line.split("\t")[0] in low_keys()), line
    lines = {line.split("\t")[0]: line for line in listing}
    assert "\tdirected (in_force)\t" in lines["fr:2025-23092"]
    assert "\tproposed (struck)\t" in lines["us-119-HR1-s43201c"]
    assert "\tproposed (introduced)\tconfidence L (single tracker) [LOW]\t" in lines["us-119-HR9925"]
    low = runner.invoke(app, ["federal", "list", "--low"]).output.splitlines()
    assert {line.split("\t")[0] for line in low} == low_keys()
    links = runner.invoke(app, ["federal", "links", "--state", "ca"]).output.splitlines()
    assert links and all("confidence " in line for line in links)
    assert all("[LOW]" in line for line in links if "\tconfidence L" in line)
    show = runner.invoke(app, ["federal", "show", "us-119-HR9925"]).output
    assert "confidence L (single tracker) [LOW]" in show and "link: CA SB 53 (TFAIA) named_target §9" in show
    assert runner.invoke(app, ["federal", "show", "nope"]).exit_code == 1


def test_cli_review_queue(settings):
    runner.invoke(app, ["federal", "seed"])
    engine = database.get_engine(settings.database_url)
    with database.session_scope(engine) as db:
        store_instruments(db, [synthetic_order(), synthetic_order(
            "2099-00003", eo_number="99998", title="SYNTHETIC second order",
            texts={"full_text": "Agencies shall address the patchwork of State laws."})])
    listed = runner.invoke(app, ["federal", "review", "--list"])
    assert listed.output.count("\n#") + listed.output.startswith("#") == 2
    assert "[preempt] in full_text:" in listed.output and "confidence H (text), M (CA mention)" in listed.output
    refused = runner.invoke(app, ["federal", "review", "--confirm", "1"])
    assert refused.exit_code == 2 and "needs the stance" in refused.output
    done = runner.invoke(app, ["federal", "review", "--confirm", "1", "--stance", "preempts", "--reviewer", "a"])
    assert done.exit_code == 0 and "candidate #1 confirmed" in done.output
    interactive = runner.invoke(app, ["federal", "review"], input="r\nnot a move\n")
    assert "rejected #2" in interactive.output
    assert runner.invoke(app, ["federal", "review"]).output.strip() == "no pending preemption candidates"
    with database.session_scope(engine) as db:
        statuses = db.execute(select(PreemptionCandidate.status, PreemptionCandidate.reviewer,
                                     PreemptionCandidate.decision_note).order_by(PreemptionCandidate.id)).all()
    assert [tuple(s) for s in statuses] == [("confirmed", "a", None), ("rejected", statuses[1][1], "not a move")]


def test_cli_parse_prints_instruments_as_json_lines(settings):
    path = shared_file("fixtures/api/federal_register/current-document.json")
    result = runner.invoke(app, ["parse", "federal-register", str(path), "--fetched-at", "2026-10-01"])
    assert result.exit_code == 0, result.output
    assert '"key": "fr:2026-19417"' in result.stdout and '"eo_number": "14430"' in result.stdout


def test_parse_document_and_store_share_keys_with_the_seed(sqlite_url):
    """An order seeded from DOMAIN.md is found again by FR document number when the API returns it."""
    record = {"document_number": "2025-02172", "title": "SYNTHETIC", "type": "Presidential Document",
              "subtype": "Executive Order", "executive_order_number": "14179", "publication_date": "2025-01-31"}
    item = parse_document(record, fetched_at=NOW, where="test")
    engine = seeded(sqlite_url)
    with database.session_scope(engine) as db:
        assert store_instruments(db, [item]).updated == 1
        assert len(db.execute(select(FederalInstrument).where(FederalInstrument.eo_number == "14179")).all()) == 1
