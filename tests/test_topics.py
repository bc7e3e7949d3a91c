"""AI topics (tracker/detect/topics.py, tracker/data/topics.toml): real titles with the topics and obligation
tags we expect, the NCSL crosswalk, the version, the data checks, the literal prefilter, and the topic
agreement with NCSL's categories that benchmarks/relevance.py reports, pinned on the whole file."""

from __future__ import annotations

import csv
import json
import re

import pytest

from tests.conftest import ROOT, session_items, shared_file
from tracker.detect import topics
from tracker.detect.relevance import Evidence
from tracker.detect.topics import (
    CANONICAL_TOPICS,
    OBLIGATIONS,
    TOPICS_VERSION,
    TopicResult,
    TopicRules,
    TopicsDataError,
    classify_topics,
    ncsl_categories,
)

DATA = ROOT / "tracker" / "data" / "topics.toml"

# NCSL's topic names (its 2023-2025 tables; "Energy" appears from 2025, "Deepfake" in a third-party
# copy, DOMAIN.md §4). Every crosswalk entry must be one of them.
NCSL_CATEGORIES = {
    "Appropriations", "Audit", "Child Pornography", "Criminal Use", "Cybersecurity", "Deepfake",
    "Education Use", "Education/Training", "Effect on Labor/Employment", "Elections", "Energy",
    "Government Use", "Health Use", "Housing", "Impact Assessment", "Judicial Use", "Notification",
    "Oversight/Governance", "Personhood", "Private Right of Action", "Private Sector Use", "Provenance",
    "Responsible Use", "Studies", "Taxes",
}

AI_ACT = "An act relating to artificial intelligence"  # a title that names no topic

# Real titles (with the abstract where the source has one) and the topics and tags we expect,
# written from reading each.
CASES = [
    ("AI companion chatbots", "Concerning regulation of artificial intelligence companion chatbots.",
     {"chatbots"}, set()),
    ("Psychotherapy Artificial Intelligence Restrictions", None, {"health_care"}, set()),
    ("Health insurance; use of artificial intelligence prohibited in the utilization review process.", None,
     {"health_care", "insurance_finance_housing"}, set()),
    ("Use of automated decision systems in employment settings regulated.", None,
     {"comprehensive_high_risk", "employment"}, set()),
    ("Creates standards for independent bias auditing of automated employment decision tools.", None,
     {"employment"}, {"audit", "use_policy"}),
    ("artificial intelligence; statewide education program", None, {"education"}, set()),
    ("Prohibits deepfake pornography and imposes criminal and civil penalties for non-consensual disclosure.",
     None, {"intimate_deepfakes", "criminal_use"}, set()),
    ("sexual material; consent; synthetic depiction", None, {"intimate_deepfakes"}, set()),
    ("Provides civil penalties for campaign advertisements containing \"deepfake\" misrepresentations of "
     "candidates.", None, {"election_deepfakes"}, set()),
    ("Requires disclosure to be made when generative artificial intelligence is used to operate chatbots "
     "that provide election related information.", None,
     {"chatbots", "election_deepfakes", "transparency_disclosure"}, set()),
    ("Requires notification of use of artificial intelligence system in certain communications with "
     "consumers.", None, {"transparency_disclosure"}, {"deployer_duties", "notice"}),
    ("Artificial Intelligence, Commission on; established, report, sunset provision.", None,
     {"task_forces_studies"}, set()),
    ("Office of Artificial Intelligence Policy Amendments", None, {"task_forces_studies"}, set()),
    ("Evidence; artificial intelligence expert testimony; effective date.", None, {"judicial_courts"}, set()),
    ("Requires submission of energy usage plan to BPU for proposed artificial intelligence data centers.",
     None, {"energy_data_centers"}, set()),
    ("Establishes Artificial Intelligence Apprenticeship Program and artificial intelligence apprenticeship "
     "tax credit program.", None, {"employment", "taxes"}, set()),
    ("Prohibits use and sale of algorithmic devices for setting rent price or occupancy of residential "
     "dwelling units.", None, {"insurance_finance_housing"}, set()),
    ("Statutes and Codification - As introduced, defines \"human being,\" \"life,\" and \"natural person\" "
     "for statutory construction purposes", None, {"personhood"}, set()),
    ("appropriation; artificial intelligence; border security", None, {"appropriations"}, set()),
    ("Synthetic media; use in furtherance of crimes involving fraud, etc., report.", None,
     {"criminal_use"}, set()),
    ("Trade: business regulation; requirements and safety standards for developers of certain artificial "
     "intelligence models; provide for. Creates new act.", None,
     {"frontier_models"}, {"deployer_duties", "developer_duties"}),
    ("artificial intelligence; content verification", None, {"provenance"}, set()),
    ("Requires artificial intelligence companion operators to provide notifications that users are not "
     "communicating with human.", None, {"chatbots"}, {"notice"}),
    # Phrases from NCSL's summaries, one for each rule added or narrowed (#10). Words that only look
    # like a sector: a course credit, an industry certification, a state platform, public employees.
    (AI_ACT, "Requires the department to publish specified information relating to "
     "computer science education and certain industry certifications.", {"education"}, set()),
    (AI_ACT, "Orders the Innovation and Technology Service to develop a platform "
     "based on AI and machine learning to tackle government corruption.", set(), set()),
    (AI_ACT, "Creates the Artificial Intelligence Advisory Council to recommend an action "
     "plan for AI in state government that supports public employees in the efficient and effective "
     "delivery of customer service.", {"task_forces_studies", "government_use"}, set()),
    (AI_ACT, "Provides that a computer science course shall fulfill one credit that is "
     "not an English, mathematics, science or social studies credit.", {"education"}, set()),
    (AI_ACT, "Requires the department to administer a revolving loan program for "
     "applicants seeking to implement certain health care innovations, including artificial intelligence.",
     {"health_care"}, set()),
    (AI_ACT, "Relates to the State Fair Employment and Housing Act. Requires a deployer "
     "and a developer of an automated decision tool to perform an impact assessment.",
     {"comprehensive_high_risk"}, {"deployer_duties", "developer_duties", "impact_assessment", "use_policy"}),
    (AI_ACT, "Provides for the plan of operation and financial "
     "oversight of the empire AI consortium.", set(), set()),
    (AI_ACT, "Requires the cabinet to use predictive analytic software in the identification of "
     "fraud in programs administered by the cabinet, including artificial intelligence.",
     {"government_use"}, set()),
    ("Artificial intelligence models: large developers.", "A large frontier developer shall incorporate "
     "national standards, international standards, and industry-consensus best practices into its frontier "
     "AI framework.", {"frontier_models"}, {"developer_duties"}),
    ("Artificial intelligence models: large developers.", "Prohibits retaliation if the activities of the "
     "frontier developer pose a specific and substantial danger to the public health or safety resulting "
     "from a catastrophic risk.", {"frontier_models"}, {"developer_duties"}),
    (AI_ACT, "Establishes a consortium to develop a framework for a public cloud computing cluster that "
     "advances artificial intelligence; makes those provisions operative only upon an appropriation in a "
     "budget act.", set(), set()),
    # Phrases the rules now find.
    (AI_ACT, "Requires that every newspaper or magazine "
     "which contains the use of generative AI shall identify that certain parts of such publication were "
     "composed using AI.", {"provenance"}, {"deployer_duties"}),
    (AI_ACT, "Requires the state Department of Education to "
     "develop and update guidelines on AI for county boards of education.",
     {"education", "government_use"}, {"use_policy"}),
    (AI_ACT, "Requires a health facility that uses generative AI to "
     "generate patient communications to ensure that those communications include both a specified "
     "disclaimer and instructions.", {"health_care"}, {"notice"}),
    (AI_ACT, "Directs the Office of Management and Enterprise Services to conduct "
     "certain inventory; directs certain ongoing assessments be made of AI systems.",
     {"government_use"}, {"impact_assessment"}),
    ("Artificial Intelligence", "Relates to conducting an investigation on the use of automated systems "
     "artificial intelligence that have the potential to significantly impact the rights of the public.",
     {"task_forces_studies"}, set()),
    (AI_ACT, "Provides that the Board of Higher Education shall prepare a report to the "
     "General Assembly on the state of AI education.", {"task_forces_studies"}, set()),
    (AI_ACT, "Prohibits applicants of the empire state film "
     "production credit from using artificial intelligence that would displace any natural person in their "
     "productions.", {"employment", "insurance_finance_housing"}, set()),
    (AI_ACT, "Imposes requirements on the use of an "
     "automatic dialing-announcing device that uses artificial intelligence to generate a prerecorded "
     "message.", set(), {"deployer_duties"}),
    (AI_ACT, "Requires data digesters to register with the California "
     "Privacy Protection Agency and pay a registration fee.", set(), {"deployer_duties"}),
    (AI_ACT, "Establishes a commission on automated decision-making by government in "
     "the commonwealth.", {"comprehensive_high_risk", "task_forces_studies"}, set()),
]


@pytest.mark.parametrize("title, abstract, expected_topics, expected_tags", CASES)
def test_real_titles(title, abstract, expected_topics, expected_tags):
    result = classify_topics(title, abstract)
    assert set(result.topics) == expected_topics
    assert set(result.obligations) == expected_tags
    assert result.topics == tuple(sorted(result.topics))
    assert result.obligations == tuple(sorted(result.obligations))
    assert {e.term.split(":")[0] for e in result.evidence} == expected_topics | expected_tags


def test_evidence_names_the_phrase_group_field_and_snippet():
    result = classify_topics("Psychotherapy Artificial Intelligence Restrictions")
    # About 80 characters centred on the match, with an ellipsis where the field was cut.
    assert result.evidence == (Evidence("health_care:health", "title",
                                        "Psychotherapy Artificial Intelligence Restrict…"),)


def test_the_canonical_topics_are_the_domain_rows_plus_taxes():
    assert len(CANONICAL_TOPICS) == 22
    assert CANONICAL_TOPICS["frontier_models"] == "Frontier / foundation-model safety"
    assert CANONICAL_TOPICS["taxes"].startswith("Taxes")
    assert "Appropriations / funding" in CANONICAL_TOPICS.values()
    assert set(OBLIGATIONS) >= {"developer_duties", "deployer_duties", "impact_assessment",
                                "incident_reporting", "notice", "enforcement_ag", "private_right_of_action"}


def test_every_crosswalk_entry_is_an_ncsl_category():
    assert set().union(*topics.RULES.crosswalk.values()) <= NCSL_CATEGORIES


# -- the crosswalk ---------------------------------------------------------------------------------------


def test_ncsl_categories_of_a_result_follow_the_groups_that_matched():
    hiring = classify_topics("Creates standards for independent bias auditing of automated employment "
                             "decision tools.")
    assert ncsl_categories(hiring) == {"Private Sector Use", "Responsible Use", "Audit"}
    jobs = classify_topics("Establishes program in DOLWD to address jobs lost due to automation.")
    assert jobs.topics == ("employment",) and ncsl_categories(jobs) == {"Effect on Labor/Employment"}


@pytest.mark.parametrize("title, abstract, expected", [
    # An attorney general enforcing rules on AI models: a rule for the private sector.
    (AI_ACT, "Authorizes the office of attorney general to "
     "promulgate, adopt and enforce rules and regulations concerning generative artificial intelligence "
     "models.", {"Private Sector Use"}),
    # A health insurer's AI is filed under Health Use, not as a private-sector rule as well.
    ("Health insurance; use of artificial intelligence prohibited in the utilization review process.", None,
     {"Health Use"}),
    # A likeness made with AI as an offence is Criminal Use, not a private-sector likeness right.
    (AI_ACT, "Relates to unauthorized creation of image of another; relates to AI-generated "
     "image; relates to penalties; creates a Class 1 misdemeanor.", {"Criminal Use"}),
    # An AI bill of rights (the Blueprint's principles: safe systems, notice and explanation...).
    (AI_ACT, "Expresses the Legislature's commitment to the Blueprint for an AI "
     "Bill of Rights.", {"Responsible Use", "Notification"}),
    (AI_ACT, "Prohibits applicants of the empire state film "
     "production credit from using artificial intelligence that would displace any natural person in their "
     "productions.", {"Effect on Labor/Employment", "Private Sector Use"}),
])
def test_ncsl_categories_of_real_phrases(title, abstract, expected):
    assert ncsl_categories(classify_topics(title, abstract)) == expected


def test_ncsl_categories_of_slugs():
    assert ncsl_categories(["taxes"]) == {"Taxes"}
    assert ncsl_categories(["employment"]) == {"Private Sector Use", "Responsible Use",
                                               "Effect on Labor/Employment"}  # every group of the topic
    assert ncsl_categories(["employment:workforce", "notice"]) == {"Effect on Labor/Employment",
                                                                   "Notification"}
    assert ncsl_categories([]) == set()
    with pytest.raises(KeyError):
        ncsl_categories(["not_a_topic"])


def test_an_election_disclaimer_is_an_election_law_not_a_notification():
    result = classify_topics("Political Artificial Intelligence Disclaimer Act",
                             "Requires that a political communication which includes synthetic media "
                             "disclose the use of such synthetic media to viewers.")
    assert "notice" in result.obligations  # the tag stays: it is a notice requirement
    assert ncsl_categories(result) == {"Elections"}  # NCSL files it under Elections only
    assert "Notification" in ncsl_categories(["notice"])


# -- the bill text -----------------------------------------------------------------------------------------


def test_a_phrase_in_the_text_counts_at_the_second_mention():
    once = "The board shall meet. A school district may use the tool. The board shall report."
    assert "education" not in classify_topics("An act relating to technology", None, once).topics
    twice = once + " Each school district shall adopt a policy."
    result = classify_topics("An act relating to technology", None, twice)
    assert "education" in result.topics
    assert [e.field for e in result.evidence if e.term.startswith("education")] == ["text"]


def test_title_only_groups_ignore_the_abstract():
    assert "appropriations" in classify_topics("Supplemental budget bill").topics
    abstract = "requires a report on the budget of the office"
    assert "appropriations" not in classify_topics("Grants", abstract).topics


# -- long abstracts: a legislative counsel's digest ---------------------------------------------------------


def ca_digest(name: str) -> tuple[str, str]:
    record = json.loads(shared_file(f"fixtures/states/ca/openstates_scrape_json/{name}").read_text())
    return record["title"], record["abstracts"][0]["abstract"].strip()  # the summary Open States gives


def without_abstract_rules() -> TopicRules:
    """The topics file without its [abstract] table: every sentence of an abstract counts."""
    text = DATA.read_text(encoding="utf-8")
    return TopicRules(re.sub(r"(?ms)^\[abstract\]\n.*?(?=^\[vocab\])", "", text))


def test_a_long_digest_is_not_a_topic_soup():
    """CA SB 53 (2025), the frontier-model transparency act: its 6,300-character digest recounts
    existing law (training-data documentation, the state's inventory of high-risk automated decision
    systems, whistleblower law, the Public Records Act) and mentions "public health or safety", a
    budget act, employees and public officials in passing."""
    title, abstract = ca_digest("20252026__SB53.json")
    assert len(abstract) > topics.RULES.long_abstract_chars
    # Read whole, existing law and all (before #10 it also had appropriations and health_care, from
    # "operative only upon an appropriation in a budget act" and "the public health or safety").
    before = without_abstract_rules().classify(title, abstract)
    assert before.topics == ("comprehensive_high_risk", "election_deepfakes", "employment", "frontier_models",
                             "government_use", "training_data", "transparency_disclosure")
    result = classify_topics(title, abstract)
    assert result.topics == ("frontier_models", "transparency_disclosure")
    assert {"developer_duties", "incident_reporting", "enforcement_ag"} <= set(result.obligations)


@pytest.mark.parametrize("name, expected", [
    ("20252026__SB7.json", ("comprehensive_high_risk", "employment")),  # Employment: automated decisions
    ("20252026__SB243.json", ("chatbots",)),  # Companion chatbots
    ("20252026__AB853.json", ("provenance", "transparency_disclosure")),  # California AI Transparency Act
])
def test_other_california_digests(name, expected):
    assert classify_topics(*ca_digest(name)).topics == expected


def test_existing_law_is_context_up_to_the_bill():
    bill = "This bill would require a developer to publish a framework. It would take effect at once."
    abstract = ("Existing law requires the Department of Technology to conduct an inventory. The act also "
                "establishes a registry.\n" + bill)
    cleaned, lead = topics.RULES.abstract_parts(abstract)
    assert cleaned == lead == bill
    # A digest that opens on the law as it stands, without saying "Existing law": the paragraph before
    # the first one about the bill says nothing the bill would do.
    opening = ("The California AI Transparency Act requires a provider to offer a detection tool.\n"
               "This bill would ...")
    assert topics.RULES.abstract_parts(opening)[0] == "This bill would ..."
    only_law = "Existing law is amended to require a disclosure when artificial intelligence is used."
    assert topics.RULES.abstract_parts(only_law) == (only_law, only_law)
    # NCSL's one-paragraph summaries are read whole.
    summary = "Provides that existing law prohibits the production of matter; includes AI-generated matter."
    assert topics.RULES.abstract_parts(summary) == (summary, summary)


def test_in_a_long_abstract_a_sector_topic_counts_only_in_the_lead():
    filler = " The developer shall publish a frontier AI framework and update it each year." * 30
    lead = "This bill would regulate frontier artificial intelligence models."
    late = " The bill would protect employees of a developer who report a danger to the public."
    assert "employment" not in classify_topics("Frontier models", lead + filler + late).topics
    assert "employment" in classify_topics("Frontier models", lead + late).topics  # short: read whole
    assert "employment" in classify_topics("Frontier models: protections for employees",
                                           lead + filler + late).topics


# -- version and data validation -------------------------------------------------------------------------


def test_the_version_changes_with_the_data():
    text = DATA.read_text(encoding="utf-8")
    assert TopicRules(text).version == TOPICS_VERSION
    changed = TopicRules(text.replace("text_min_mentions = 2", "text_min_mentions = 3"))
    assert changed.version != TOPICS_VERSION and changed.text_min_mentions == 3


@pytest.mark.parametrize("edit, message", [
    (('slug = "taxes"', 'slug = "personhood"'), "a slug is used twice"),
    (('unless = ["election_deepfakes"]', 'unless = ["elections"]'), "names unknown topics"),
    (("requires = '''{ai}|{content}|\\bmedia\\b", "requires = '''{nothing}|\\bmedia\\b"),
     "unknown placeholder"),
    (('slug = "taxes"', 'slug = "Taxes"'), "lower-case slug"),
    (('slug = "taxes"\nlabel = "Taxes / tax credits and exemptions"\nlong_abstract = "lead"',
      'slug = "taxes"\nlabel = "Taxes / tax credits and exemptions"\nlong_abstract = "first"'),
     "long_abstract must be"),
])
def test_a_malformed_topics_file_is_refused(edit, message):
    text = DATA.read_text(encoding="utf-8")
    assert edit[0] in text
    with pytest.raises(TopicsDataError, match=message):
        TopicRules(text.replace(*edit, 1))


# -- the literal prefilter and whole files --------------------------------------------------------------


def ncsl_rows() -> list[dict[str, str]]:
    with shared_file("groundtruth/ncsl_ai_bills_2023_2024.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_prefilter_changes_no_result():
    inputs = [(r["title"], r["summary_ncsl"]) for r in ncsl_rows()]
    inputs += [(b.title, b.summary) for b in session_items("co_2026A")[:300]]
    differing = [pair for pair in inputs
                 if topics.RULES.classify(*pair) != topics.RULES.classify(*pair, prefilter=False)]
    assert differing == []


def test_topic_agreement_with_ncsl_is_pinned():
    """Micro-averaged over NCSL's categorised rows, categories NCSL's 2023-2024 tables use
    (benchmarks/relevance.py, table 3). The 0.75 target is not met; README "Topics" says why."""
    rows = ncsl_rows()
    categories = [{c.strip() for c in r["ncsl_categories"].split(";") if c.strip()} for r in rows]
    vocabulary = set().union(*categories)
    tp = fp = fn = scored = 0
    for row in rows:
        gold = {c.strip() for c in row["ncsl_categories"].split(";") if c.strip()}
        if not gold:
            continue
        scored += 1
        predicted = ncsl_categories(classify_topics(row["title"], row["summary_ncsl"])) & vocabulary
        tp, fp, fn = tp + len(predicted & gold), fp + len(predicted - gold), fn + len(gold - predicted)
    assert scored == 605
    assert (tp, fp, fn) == (PINNED_TP, PINNED_FP, PINNED_FN)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert round(2 * precision * recall / (precision + recall), 3) == PINNED_F1


PINNED_TP, PINNED_FP, PINNED_FN, PINNED_F1 = 860, 395, 326, 0.705


def test_topic_result_is_a_plain_value():
    result = classify_topics("High-risk AI")
    assert isinstance(result, TopicResult) and result == classify_topics("High-risk AI")
