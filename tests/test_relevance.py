"""AI relevance (tracker/detect/relevance.py, tracker/data/ai_relevance.toml): real titles with the tier we
expect, every trap and hard negative, the text and override paths, the version, the literal prefilter,
and the figures benchmarks/relevance.py reports, pinned on the whole files."""

from __future__ import annotations

import csv
import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT, SESSION_FETCHED, session_items, shared_file
from tracker.detect import relevance as rel
from tracker.detect.relevance import (
    RELEVANCE_VERSION,
    TIERS,
    Evidence,
    OverridesError,
    Relevance,
    RelevanceDataError,
    RelevanceRules,
    classify_relevance,
    literal_triggers,
    load_overrides,
)

DATA = ROOT / "tracker" / "data" / "ai_relevance.toml"

# Real titles (and, where the source has one, the abstract) from the recorded sessions and the
# borderline list, with the tier we expect, written from reading each.
CASES = [
    # core: AI is the subject
    ("High-risk AI", None, "core"),
    ("AI companion chatbots", "Concerning regulation of artificial intelligence companion chatbots.", "core"),
    ("Artificial Intelligence Developer Act; established, civil penalty.", None, "core"),
    ("Synthetic media; use in furtherance of crimes involving fraud, etc., report.", None, "core"),
    ("AI-generated image; unauthorized creation of image of another, penalties.", None, "core"),
    ("public schools; universities; AI policies", None, "core"),
    ("Use of automated decision systems in employment settings regulated.", None, "core"),
    ("Creates standards for independent bias auditing of automated employment decision tools.", None, "core"),
    ("Prohibits deepfake pornography and imposes criminal and civil penalties for non-consensual disclosure.",
     None, "core"),
    ("Criminal procedure: sentencing guidelines; guidelines for dissemination of deep fake sexual images; "
     "enact.", None, "core"),
    ("sexual material; consent; synthetic depiction", None, "core"),
    ("chatbot regulations; personal data; requirements", None, "core"),
    ("Law-enforcement agencies; use of generative artificial intelligence and machine learning systems.",
     None, "core"),
    ("Trade: business regulation; requirements and safety standards for developers of certain artificial "
     "intelligence models; provide for. Creates new act.", None, "core"),
    ("appropriation; artificial intelligence; border security", None, "core"),  # AI is the title's subject
    # A resolution that "recognizes" a danger is not a commemoration.
    ("Artificial intelligence deepfakes; growing danger to election integrity, public trust, and the people "
     "of Georgia; recognize", "A RESOLUTION recognizing the growing danger that artificial intelligence "
     "deepfakes pose to election integrity, public trust, and the people of Georgia; and for other purposes.",
     "core"),
    # core from the abstract alone
    ("Mandatory Human Reviews of Insurance Claim Denials",
     "Mandatory Human Reviews of Insurance Claim Denials ; Authorizes workers' compensation carriers, "
     "insurers &HMOs to use artificial intelligence systems & machine learning systems to assist in "
     "processing claims",
     "core"),
    # adjacent: AI may be one component (our scope decision)
    ("Autonomous Vehicle Amendments", None, "adjacent"),
    ("Autonomous Systems Amendments", None, "adjacent"),
    ("Automated Driving System Commercial Vehicles", None, "adjacent"),
    ("License Plate Reader Amendments", None, "adjacent"),
    ("automated license plate readers", None, "adjacent"),
    ("drones; entertainment districts; prohibition", None, "adjacent"),
    ("State & Local Unmanned Aircraft Regulation", None, "adjacent"),
    ("rental price fixing; algorithmic pricing", None, "adjacent"),
    ("Prohibit Surveillance Price & Wage Setting", None, "adjacent"),
    ("biometric identifiers; commercial use; prohibitions", None, "adjacent"),
    ("Acquisition and use of facial recognition technology by government entities prohibited.", None,
     "adjacent"),
    ("Prohibiting the knowing distribution of a forged digital likeness.", None, "adjacent"),
    ("Forged digital likenesses", None, "adjacent"),
    ("Real estate: digitally altered images: disclosure.", None, "adjacent"),
    ("Joint Resolution Amending Rules of Evidence to Address Machine-Generated Evidence", None, "adjacent"),
    ("Weapons: robotic devices.", None, "adjacent"),
    ("California Workforce Development Board: port automation.", None, "adjacent"),
    ("A bill for an act relating to the use of automated adjudication systems by health carriers, and "
     "including civil penalties.", None, "adjacent"),
    # incidental: commemorations
    ("FIRST Robotics Day; designating as March 31, 2024, and each succeeding year thereafter.", None,
     "incidental"),
    ("Relative to California STEAM Robotics Day.", None, "incidental"),
    # not_ai: trap words and look-alikes
    ("Artificial Turf Placement Modifications", None, "not_ai"),
    ("Statewide Counterintelligence and Counterterrorism Unit", None, "not_ai"),
    ("Financial Crimes Intelligence Center", None, "not_ai"),
    ("watermark; paper ballots", None, "not_ai"),
    ("Intelligent Speed Assistance Devices", None, "not_ai"),
    ("Vehicles: active intelligent speed assist devices.", None, "not_ai"),
    ("Advanced Practice Registered Nurse Autonomous Practice", None, "not_ai"),
    ("Health Care Autonomy", None, "not_ai"),
    ("automatic voter registration", None, "not_ai"),
    ("Automated traffic enforcement system programs.", None, "not_ai"),
    ("Changes Automated Vehicle Identification System Usage", None, "not_ai"),
    ("High school student-athletes; use of name, image, or likeness.", None, "not_ai"),
    ("Brain-computer interfaces: neural data.", None, "not_ai"),
    ("Washing machine microplastic", None, "not_ai"),
    ("prohibited weapons; machine guns", None, "not_ai"),
    ("Specialty License Plates/Florida Film Legacy License Plate", None, "not_ai"),
    ("science curricula; evolution; intelligent design", None, "not_ai"),
    ("Concerning wildfire risk models and score disclosure.", None, "not_ai"),
]


@pytest.mark.parametrize("title, abstract, tier", CASES)
def test_real_titles(title, abstract, tier):
    result = classify_relevance(title, abstract)
    assert result.tier == tier, result.evidence
    assert result.version == RELEVANCE_VERSION
    assert (result.score > 0) == bool(result.evidence)


@pytest.mark.parametrize("text", [
    "Relating to AIDS prevention and treatment.",  # "AI" only as a whole word
    "Hawaii said the maintenance of the trail is funded.",
    "Ai and ai are not the acronym; only capitals count.",
    "Relating to American Indian and Alaska Native (AI/AN) health programs.",
])
def test_ai_only_as_a_whole_word_in_capitals(text):
    assert classify_relevance(text).tier == "not_ai"


def test_ai_as_a_word_counts():
    result = classify_relevance("Use of AI by state agencies.")
    assert result.tier == "core"
    assert result.evidence == (Evidence("AI", "title", "Use of AI by state agencies."),)


def test_evidence_names_the_term_the_field_and_a_snippet():
    abstract = ("The act requires a person that deploys a high-risk system to use reasonable care; " * 3
                + "and regulates the use of artificial intelligence in consequential decisions.")
    result = classify_relevance("Consumer Protections", abstract)
    assert result.tier == "core"
    [evidence] = result.evidence
    assert (evidence.term, evidence.field) == ("artificial intelligence", "abstract")
    assert "artificial intelligence" in evidence.snippet and len(evidence.snippet) <= 82


# -- the data file's own examples --------------------------------------------------------------------


@pytest.mark.parametrize("term", rel.RULES.terms, ids=lambda t: t.name)
def test_every_term_example_gets_the_terms_tier(term):
    expected = {"core": {"core"}, "adjacent": {"adjacent", "incidental"}, "support": {"not_ai"}}[term.kind]
    for example in term.examples:
        result = classify_relevance(example)
        assert term.name in {e.term for e in result.evidence}, example
        assert result.tier in expected, (example, result.tier)


@pytest.mark.parametrize("example", [e for trap in rel.RULES.traps for e in trap.examples]
                         + list(rel.RULES.unmatched_trap_examples))
def test_every_trap_example_is_not_ai(example):
    assert classify_relevance(example).tier == "not_ai"


def test_every_trap_is_exercised_by_an_example():
    assert rel.RULES.traps and all(trap.examples for trap in rel.RULES.traps)


def test_hard_negatives_are_all_not_ai():
    path = shared_file("groundtruth/hard_negatives.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 50
    wrong = [(r["state"], r["bill_id"], r["title"], classify_relevance(r["title"], r["note"]).tier)
             for r in rows if classify_relevance(r["title"], r["note"]).tier != "not_ai"]
    assert wrong == []


# -- the bill text -------------------------------------------------------------------------------------


def test_a_real_bill_text_without_ai_is_not_ai():
    text = shared_file("fixtures/states/ca/caml_20250AB76_introduced.xml").read_text(encoding="utf-8")
    title = "Surplus land: exempt surplus land: sectional planning area."
    assert classify_relevance(title, None, text).tier == "not_ai"


# The rule for texts (tier rules 2, 4, 5): constructed texts, since no recorded bill text names AI.
PASSING = "The department may purchase software, including artificial intelligence tools, for the office. "
FILLER = "The commission shall meet quarterly and report to the legislature. " * 20


@pytest.mark.parametrize("title, text, tier", [
    ("An act relating to state government operations", FILLER + PASSING + FILLER, "incidental"),
    ("An act relating to state government operations", (FILLER + PASSING) * 3, "core"),
    ("An act relating to consumer protection",
     FILLER + '"Artificial intelligence system" means a machine-based system that infers outputs. ' + FILLER,
     "core"),
    ("An act relating to unmanned aircraft", FILLER + PASSING, "adjacent"),  # the title decides, not the text
    ("An act relating to roads", FILLER + "a drone may be used. " + FILLER, "not_ai"),
    ("An act relating to roads", ("a drone may be used. " + FILLER) * 3, "adjacent"),
])
def test_text_rules(title, text, tier):
    result = classify_relevance(title, None, text)
    assert result.tier == tier
    assert any(e.field == "text" for e in result.evidence)


def test_funding_vehicle_with_ai_in_the_abstract_is_incidental():
    result = classify_relevance("General appropriations act",
                                "Makes appropriations for the fiscal year, including an artificial "
                                "intelligence pilot in the department of revenue.")
    assert result.tier == "incidental"
    assert rel.RULES.funding_vehicle_title("General appropriations act")
    assert not rel.RULES.funding_vehicle_title("Appropriate use of technology")


# -- overrides ---------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overrides.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_override_beats_the_classifier_and_says_why(tmp_path):
    overrides = load_overrides(write(tmp_path, "bill_key,decision,reason\n"
                                               "va-2024-SB0999,not_ai,reviewer: the AI line is a typo\n"
                                               "va-2024-HB2,core,reviewer: the text regulates deployers\n"))
    title = "Artificial intelligence by public bodies; study."
    assert classify_relevance(title).override is None
    excluded = classify_relevance(title, key="va-2024-SB999", overrides=overrides)
    assert (excluded.tier, excluded.override) == ("not_ai", "reviewer: the AI line is a typo")
    assert excluded.evidence == classify_relevance(title).evidence  # the classifier's reading is kept
    included = classify_relevance("Budget bill", key="va-2024-HB2", overrides=overrides)
    assert (included.tier, included.override) == ("core", "reviewer: the text regulates deployers")
    other = classify_relevance(title, key="va-2024-HB3", overrides=overrides)
    assert (other.tier, other.override) == ("core", None)
    assert classify_relevance(title, overrides=overrides).override is None  # no key, no override
    assert len(overrides) == 2 and "va-2024-HB0002" in overrides


@pytest.mark.parametrize("text, message", [
    ("key,decision,reason\n", "header"),
    ("bill_key,decision,reason\nva-2024-SB1,incidental,why\n", ":2: decision must be one of"),
    ("bill_key,decision,reason\nva-2024-SB1,core,\n", ":2: every override needs a reason"),
    ("bill_key,decision,reason\nva-2024-SB1,core,a\nva-2024-SB01,adjacent,b\n",
     ":3: va-2024-SB1 is listed twice"),
    ("bill_key,decision,reason\nnot a key,core,a\n", ":2:"),
    ("bill_key,decision,reason\nva-2024-SB1,core\n", ":2: expected 3 columns"),
])
def test_a_malformed_override_file_is_refused(tmp_path, text, message):
    with pytest.raises(OverridesError, match=message):
        load_overrides(write(tmp_path, text))


def test_the_shipped_overrides_file_is_only_its_header():
    path = ROOT / "tracker" / "data" / "relevance_overrides.csv"
    assert path.read_text(encoding="utf-8") == "bill_key,decision,reason\n"
    assert len(load_overrides()) == 0


# -- version and data validation -----------------------------------------------------------------------


def test_the_version_changes_with_the_data():
    text = DATA.read_text(encoding="utf-8")
    assert RelevanceRules(text).version == RELEVANCE_VERSION
    changed = RelevanceRules(text.replace("text_core_mentions = 3", "text_core_mentions = 4"))
    assert changed.version != RELEVANCE_VERSION and changed.version.startswith("relevance-")
    assert changed.text_core_mentions == 4


@pytest.mark.parametrize("edit, message", [
    (('kind = "support"', 'kind = "maybe"'), "kind must be one of"),
    (("examples = [\"watermark; paper ballots\"]", "examples = [\"a paper ballot\"]"), "does not match it"),
    (("pattern = '''\\bwatermark\\w*'''", "pattern = '''(watermark'''"), "bad pattern"),
])
def test_a_malformed_vocabulary_is_refused(edit, message):
    text = DATA.read_text(encoding="utf-8")
    assert edit[0] in text
    with pytest.raises(RelevanceDataError, match=message):
        RelevanceRules(text.replace(*edit))


# -- the literal prefilter ----------------------------------------------------------------------------


def test_literal_triggers_read_off_a_pattern():
    import re

    assert literal_triggers(re.compile(r"\bdeep[\s-]?fakes?\b", re.I)) == (("deep", False),)
    assert literal_triggers(re.compile(r"(?-i:\bAI\b)|\bchat\s?bots?", re.I)) == (("AI", True),
                                                                               ("chat", False))
    assert literal_triggers(re.compile(r"\b\w+ing\b|\bfoo", re.I)) == (("foo", False), ("ing", False))
    assert literal_triggers(re.compile(r"\b\w+\b|\bfoo", re.I)) is None  # an alternative with no literal
    assert all(term.triggers for term in rel.RULES.terms)


def test_the_prefilter_changes_no_result():
    rows = list(csv.DictReader(shared_file("groundtruth/ncsl_ai_bills_2023_2024.csv").open(encoding="utf-8")))
    inputs = [(r["title"], r["summary_ncsl"]) for r in rows]
    inputs += [(b.title, b.summary) for b in session_items("co_2026A") + session_items("fl_2026")]
    differing = [pair for pair in inputs
                 if rel.RULES.classify(*pair) != rel.RULES.classify(*pair, prefilter=False)]
    assert differing == []


# -- whole files: the figures benchmarks/relevance.py reports, pinned ----------------------------------


def benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_relevance", ROOT / "benchmarks" / "relevance.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_ncsl_recall_is_pinned():
    shared_file("groundtruth/ncsl_ai_bills_2023_2024.csv")
    bench = benchmark()
    recall = bench.measure_ncsl(bench.read_csv("ncsl_ai_bills_2023_2024.csv"))
    assert recall.rows == 615
    assert (recall.found, recall.strict, recall.stored) == (480, 456, 480)
    assert (recall.subset_rows, recall.subset_found, recall.subset_strict) == (429, 429, 405)
    assert recall.subset_found / recall.subset_rows >= 0.98
    assert dict(recall.tiers) == {"core": 414, "adjacent": 42, "incidental": 24, "not_ai": 135}
    assert {reason: len(rows) for reason, rows in recall.misses.items()} == {
        "not_ai: NCSL's title and summary name no AI term (NCSL read the bill text)": 134,
        "not_ai: 'AI' glued to another word in NCSL's text (throughAI)": 1,
    }


def test_names_ai_technology_is_the_domain_vocabulary():
    bench = benchmark()
    assert bench.names_ai_technology("Deepfake Disclosure")
    assert bench.names_ai_technology("Relates to AI.")
    assert not bench.names_ai_technology("Relates to AIDS and to drones.")


# Tiers of whole recorded sessions from title + abstract (benchmarks/relevance.py, table 4).
SESSION_TIERS = {
    "az_57th-2nd-regular": (13, 9, 0, 2168), "co_2026A": (6, 7, 0, 701), "fl_2026": (17, 12, 0, 1868),
    "fl_2026F": (0, 0, 0, 5), "ga_2026_ss": (1, 0, 0, 175), "mn_2025-2026": (33, 43, 0, 10512),
    "nj_222": (68, 52, 0, 10572), "ok_2025": (7, 5, 0, 3245), "ok_2026": (7, 7, 0, 3668),
    "tn_114": (32, 16, 0, 6050), "tn_114S1": (0, 0, 0, 19), "tx_892": (1, 0, 0, 691),
    "ut_2025S2": (0, 0, 0, 5), "ut_2026": (5, 4, 0, 1007),
}


def tiers_of(bills) -> tuple[int, ...]:
    found = [classify_relevance(b.title, b.summary).tier for b in bills if hasattr(b, "title")]
    return tuple(found.count(tier) for tier in TIERS)


@pytest.mark.parametrize("name", sorted(SESSION_TIERS))
def test_session_tiers_are_pinned(name):
    assert tiers_of(session_items(name)) == SESSION_TIERS[name]


def test_state_feed_tiers_are_pinned():
    from scrapers.legiscan import LegiScanDataset
    from scrapers.va_lis import VirginiaLIS
    from scrapers.wa_wsl import WashingtonWSL

    va = shared_file("fixtures/states/va/legacylis_241_Bills.csv.gz")
    wa = shared_file("fixtures/states/wa/wsl_GetLegislationIntroducedSince_2025-26_FULL.xml.gz")
    mi = shared_file("fixtures/api/legiscan/dataset_csv_MI_2025-2026/raw_full")
    fetched = datetime(2026, 8, 1, tzinfo=UTC)
    assert tiers_of(VirginiaLIS().read_path(va, fetched_at=fetched).items) == (10, 5, 2, 3578)
    assert tiers_of(WashingtonWSL().read_path(wa, fetched_at=SESSION_FETCHED).items) == (6, 3, 0, 743)
    assert tiers_of(LegiScanDataset().read_path(mi, fetched_at=SESSION_FETCHED).items) == (5, 1, 0, 1380)


def test_relevance_is_a_plain_value():
    result = classify_relevance("High-risk AI")
    assert isinstance(result, Relevance) and hash(result) == hash(classify_relevance("High-risk AI"))
