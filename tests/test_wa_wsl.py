"""Washington WSL web service: the real 2026 GetLegislationIntroducedSince capture (752 records),
both XML forms, statuses against the records' own Status / Veto / PartialVeto, bad input, fetch."""

import gzip
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from scrapers.base import ItemProblem, SourceFormatError
from scrapers.wa_wsl import WashingtonWSL, introduced_since_url, line_actor, parse_legislation_xml
from tests.conftest import shared_file
from tracker.http import Fetcher
from tracker.normalize.bill import normalize_bill
from tracker.normalize.identifiers import canonical_session
from tracker.vocab import Chamber

# The capture was committed on 2026-01-17 (PROVENANCE.md); its last ActionDate is 2026-01-14.
FETCHED = datetime(2026, 1, 17, tzinfo=UTC)
FULL = "fixtures/states/wa/wsl_GetLegislationIntroducedSince_2025-26_FULL.xml.gz"
TRIMMED = "fixtures/states/wa/wsl_GetLegislationIntroducedSince_TRIMMED_AI.xml"
NS = "http://WSLWebServices.leg.wa.gov/"


@pytest.fixture(scope="module")
def full() -> dict:
    batch = WashingtonWSL().read_path(shared_file(FULL), fetched_at=FETCHED)
    items = list(batch.items)
    assert not [i for i in items if isinstance(i, ItemProblem)]
    return {bill.identifier: normalize_bill(bill) for bill in items}


@pytest.fixture(scope="module")
def trimmed() -> dict:
    batch = WashingtonWSL().read_path(shared_file(TRIMMED), fetched_at=FETCHED)
    return {bill.identifier: normalize_bill(bill) for bill in batch.items}


# --- The real capture --------------------------------------------------------------------------

def test_full_capture_gives_752_bills_one_action_each(full):
    assert len(full) == 752
    assert Counter(n.scraped.kind for n in full.values()) == {
        "bill": 734, "joint_resolution": 12, "concurrent_resolution": 4, "resolution": 2}
    assert {n.scraped.session for n in full.values()} == {"20252026"}
    assert all(len(n.scraped.actions) == 1 for n in full.values())
    assert not any(c.unclassified for n in full.values() for c in n.classifications)


def test_hb2225_record(trimmed):
    norm = trimmed["HB 2225"]
    bill = norm.scraped
    assert norm.key == "wa-20252026-HB2225"
    assert (bill.title, bill.kind, bill.origin_chamber) == ("AI companion chatbots", "bill", "lower")
    assert bill.source_url == "https://app.leg.wa.gov/billsummary?BillNumber=2225&Year=2025"
    assert [(s.name, s.primary, s.source_person_id) for s in bill.sponsors] == [("Callan", True, "29092")]
    assert [v.note for v in bill.versions] == ["HB 2225"] and bill.introduced_on == date(2026, 1, 12)
    assert bill.summary.startswith("Concerning regulation of artificial intelligence companion chatbots.")
    assert "AN ACT Relating to" in bill.summary
    (action,) = bill.actions
    assert (action.date, action.actor, action.raw_date) == (date(2026, 1, 12), "lower", "2026-01-12T00:00:00")
    assert action.text == "First reading, referred to Technology, Economic Development, & Veterans."
    assert bill.source_flags == {"Status": "H Tech, Econ Dev", "Veto": "false", "PartialVeto": "false",
                                 "HistoryLine": action.text, "Active": "true"}
    assert bill.raw["Companions"] == "SB 5984" and bill.raw["Request"]
    assert (norm.status.status, norm.status.status_date) == ("in_committee", date(2026, 1, 12))


def test_trimmed_ai_file_keeps_every_record(trimmed):
    assert {"HB 2157", "SB 6120", "HB 2225", "SB 5984", "SB 5870", "SB 5956", "SB 5979"} <= set(trimmed)
    assert len(trimmed) == 17


def test_sb5979_synthetic_opioids_is_an_ordinary_bill(trimmed):
    # The keyword-filter negative: parsed like any bill; AI relevance is decided later, elsewhere.
    norm = trimmed["SB 5979"]
    assert (norm.scraped.title, norm.scraped.kind, norm.status.status) == (
        "Dependency/substance abuse", "bill", "in_committee")
    assert "synthetic opioids" in norm.scraped.summary


def test_senate_intro_report_line_is_a_referral(trimmed):
    # "(Not Officially read and referred until adoption of Introduction report)": the Legislature's
    # own Status already places SB 6120 in the committee, so do we.
    norm = trimmed["SB 6120"]
    assert norm.scraped.source_flags["Status"] == "S Environment, En"
    assert (norm.status.status, norm.scraped.actions[0].actor) == ("in_committee", "upper")


# --- Statuses against the records' own Status / Veto / PartialVeto -----------------------------

# Every Status value in the capture (after trimming a trailing blank that two values carry). WSL
# writes the chamber where the bill sits, then a committee abbreviation cut at ~16 characters
# (both "H Community Safe" and "H Community Safet" occur), or a step: Adopted, Filed Sec/St,
# Spkr Signed. A new value fails the test below, so the mapping gets reviewed.
STATUS_VALUES_2026 = {
    "H Adopted", "H Ag&Nr", "H Approps", "H Cap Budget", "H Civil R & Judi", "H Community Safe",
    "H Community Safet", "H ConsPro&Bus", "H EL & Human Svc", "H Education", "H Env & Energy",
    "H Filed Sec/St", "H Finance", "H HC/Wellness", "H Housing", "H Labor & Workpl", "H Labor & Workpla",
    "H Local Govt", "H Postsec Ed & W", "H Postsec Ed & Wk", "H Spkr Signed", "H State Govt & T",
    "H State Govt & Tr", "H Tech, Econ Dev", "H Transportation", "S Ag & Natural R", "S Ag & Natural Re",
    "S Business, Trad", "S Business, Trade", "S EL/K-12", "S Environment, E", "S Environment, En",
    "S Health & Long-", "S Health & Long-T", "S Higher Ed & Wo", "S Higher Ed & Wor", "S Housing",
    "S Human Services", "S Labor & Comm", "S Law & Justice", "S Loc Gov", "S State Gov/Trib",
    "S Transportation", "S Ways & Means",
}
STEP_STATUSES = {"Adopted", "Filed Sec/St", "Spkr Signed"}


def wsl_status(flags: dict, kind: str) -> str:
    """The WSL record's own status on our ladder."""
    if flags["Veto"] == "true":
        return "vetoed"
    if flags["PartialVeto"] == "true" or re.fullmatch(r"C \d+ L \d+", flags["Status"]):
        return "enacted"  # a chapter law (a partial veto is signed too)
    step = re.sub(r"^[HS] ", "", flags["Status"])
    if step == "Adopted":
        return "adopted" if kind == "resolution" else "passed_origin"
    if step == "Filed Sec/St":  # a session law; for resolutions and memorials, the end of adoption
        return "enacted" if kind == "bill" else "adopted"
    if step == "Spkr Signed":  # both chambers passed it
        return "passed_second" if kind == "bill" else "adopted"
    return "in_committee"  # every other value is a committee where the bill sits


# Every disagreement, and why: none. SCR 8407's current line "Speaker signed." is procedural; the two
# adoption votes that the WSL Status summarises are only in the full history, which this feed does not
# carry (see the module docstring), so its status rests on WSL's own Status (basis `upstream`).
KNOWN_DISAGREEMENTS: dict = {}
RESTING_ON_WSL_STATUS = {"wa-20252026-SCR8407"}


def test_status_values_are_all_mapped(full):
    values = {n.scraped.source_flags["Status"] for n in full.values()}
    assert values == STATUS_VALUES_2026
    assert {re.sub(r"^[HS] ", "", v) for v in values} & STEP_STATUSES == STEP_STATUSES


def test_statuses_agree_with_wsl_status_for_2026(full):
    pairs = {n.key: (wsl_status(n.scraped.source_flags, n.scraped.kind), n.status.status)
             for n in full.values()}
    disagreements = {key: pair for key, pair in pairs.items() if pair[0] != pair[1]}
    assert disagreements == KNOWN_DISAGREEMENTS
    agreement = 1 - len(disagreements) / len(full)
    assert agreement >= 0.99  # 752 of 752 today
    # Our rules decide every status but the one whose line says nothing; that one is marked.
    assert {n.key for n in full.values() if n.status.basis == "upstream"} == RESTING_ON_WSL_STATUS


def test_filed_concurrent_resolution_is_adopted(full):
    assert full["HCR 4406"].status.status == "adopted"


def test_resolution_outcomes(full):
    assert full["HR 4665"].status.status == "adopted"  # "Adopted." by the House alone
    scr = full["SCR 8407"]
    assert (scr.scraped.actions[0].text, scr.scraped.actions[0].actor) == ("Speaker signed.", "lower")
    assert (scr.status.status, scr.status.basis) == ("adopted", "upstream")  # WSL Status "S Spkr Signed"


# --- Hand-made records (the real record layout, edited values) --------------------------------

def record(bill_id="HB 2087", number="2087", agency="House", short_type="B", sub="0", eng="0",
           active="true", line="First reading, referred to Consumer Protection &amp; Business.",
           action_date="2026-01-12T00:00:00", status="H ConsPro&amp;Bus", veto="false", partial="false",
           sponsor="(Ryu)", omit=()) -> str:
    fields = {
        "Biennium": "2025-26", "BillId": bill_id, "BillNumber": number, "SubstituteVersion": sub,
        "EngrossedVersion": eng,
        "ShortLegislationType": f"<ShortLegislationType>{short_type}</ShortLegislationType>"
                                "<LongLegislationType>Bill</LongLegislationType>",
        "OriginalAgency": agency, "Active": active, "ShortDescription": "Travel insurance",
        "IntroducedDate": "2026-01-12T00:00:00",
        "CurrentStatus": f"<BillId>{bill_id}</BillId><HistoryLine>{line}</HistoryLine>"
                         f"<ActionDate>{action_date}</ActionDate>"
                         "<AmendedByOppositeBody>false</AmendedByOppositeBody>"
                         f"<PartialVeto>{partial}</PartialVeto><Veto>{veto}</Veto>"
                         f"<AmendmentsExist>false</AmendmentsExist><Status>{status}</Status>",
        "Sponsor": sponsor, "PrimeSponsorID": "15736", "LongDescription": "Addressing travel insurance.",
        "LegalTitle": "AN ACT Relating to travel insurance;", "Companions": "",
    }
    body = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items() if k not in omit)
    return f"<Legislation>{body}</Legislation>"


def get_form(*records: str) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><ArrayOfLegislation xmlns="{NS}">'
            f'{"".join(records)}</ArrayOfLegislation>')


def parse(text: str) -> list:
    # Hand-made records carry dates up to March 2026; read them as fetched after that.
    return parse_legislation_xml(text, fetched_at=datetime(2026, 9, 2, tzinfo=UTC), origin="test.xml")


def bills(items: list) -> dict:
    return {i.identifier: i for i in items if not isinstance(i, ItemProblem)}


def test_get_form_and_soap_form_read_the_same():
    soap = shared_file(TRIMMED).read_text(encoding="utf-8")
    result = "GetLegislationIntroducedSinceResult"
    inner = re.search(rf"<{result}>(.*)</{result}>", soap, re.S)
    from_get, from_soap = parse(get_form(inner.group(1))), parse(soap)
    assert len(from_get) == 17
    assert [b.content_hash() for b in from_get] == [b.content_hash() for b in from_soap]


def test_substitute_versions_merge_into_one_bill():
    # GetLegislation lists HB 2402 and SHB 2402 separately; the substitute carries the later line.
    original = record("HB 2402", "2402", active="false", status="H HC/Wellness",
                      line="First reading, referred to Health Care &amp; Wellness.")
    substitute = record("SHB 2402", "2402", sub="1", line="Referred to Rules 2 Review.",
                        action_date="2026-02-04T00:00:00", status="H Rules R", sponsor="HCW(Stonier)")
    items = parse(get_form(substitute, original))
    (bill,) = items
    assert bill.identifier == "HB 2402" and [v.note for v in bill.versions] == ["HB 2402", "SHB 2402"]
    assert [a.text for a in bill.actions] == ["Referred to Rules 2 Review."]
    assert [s.name for s in bill.sponsors] == ["Stonier"]
    assert normalize_bill(bill).status.status == "passed_committee"


def test_engrossed_senate_bill_keeps_its_base_number():
    (bill,) = parse(get_form(record("ESSB 5001", "5001", agency="Senate", sub="1", eng="1",
                                    line="Third reading, passed; yeas, 49; nays, 0; absent, 0; excused, 0.",
                                    status="S Passed 3rd")))
    norm = normalize_bill(bill)
    assert (norm.key, norm.status.status) == ("wa-20252026-SB5001", "passed_origin")
    assert bill.actions[0].actor == "upper"


def test_governor_outcomes_and_the_source_flags_agree():
    items = bills(parse(get_form(
        record("SB 5984", "5984", agency="Senate", line="Governor vetoed.", status="S Gov vetoed",
               veto="true"),
        record("ESSB 5002", "5002", agency="Senate", sub="1", eng="1", line="Governor partially vetoed.",
               status="C 297 L 26", partial="true"),
        record("E2SHB 1170", "1170", sub="2", eng="1", line="Governor signed.", status="C 167 L 26"),
    )))
    for identifier, (status, how, partial) in {"SB 5984": ("vetoed", None, False),
                                                "SB 5002": ("enacted", "signed", True),
                                                "HB 1170": ("enacted", "signed", False)}.items():
        norm = normalize_bill(items[identifier])
        result = norm.status
        assert (result.status, result.enacted_how, result.partial_veto) == (status, how, partial)
        assert norm.status.status == wsl_status(norm.scraped.source_flags, "bill")
        assert norm.scraped.actions[0].actor == "executive"
    assert items["HB 1170"].chapter == "167" and normalize_bill(items["SB 5984"]).status.override_possible


def test_effective_date_line_is_not_an_action_that_alerts():
    # A law whose latest line is its (future) effective date: the line is procedural, so the status
    # comes from WSL's own Status "C 168 L 26" (chapter 168), marked as resting on it.
    (bill,) = parse(get_form(record("ESHB 2225", "2225", sub="1", eng="1", line="Effective date 1/1/2027.",
                                    action_date="2026-03-24T00:00:00", status="C 168 L 26")))
    norm = normalize_bill(bill)
    assert norm.classifications[0].classes == ("x-procedural",)
    assert (norm.status.status, norm.status.basis, bill.chapter) == ("enacted", "upstream", "168")


def test_concurrence_line_names_its_chamber():
    (bill,) = parse(get_form(record("ESHB 2225", "2225", sub="1", eng="1",
                                    line="House concurred in Senate amendments.", status="H Passed 3rd")))
    assert bill.actions[0].actor == "lower"


@pytest.mark.parametrize("text, status, origin, expected", [
    ("House concurred in Senate amendments.", "", Chamber.UPPER, Chamber.LOWER),
    ("Senate Rules \"X\" file.", "H Rules R", Chamber.LOWER, Chamber.UPPER),
    ("Governor signed.", "C 167 L 26", Chamber.LOWER, Chamber.EXECUTIVE),
    ("Delivered to Governor.", "", Chamber.LOWER, Chamber.EXECUTIVE),
    ("Chapter 167, 2026 Laws.", "", Chamber.LOWER, Chamber.EXECUTIVE),
    ("Speaker signed.", "H Spkr Signed", Chamber.UPPER, Chamber.LOWER),
    ("President signed.", "", Chamber.LOWER, Chamber.UPPER),
    ("First reading, referred to Ways & Means.", "S Ways & Means", Chamber.LOWER, Chamber.UPPER),
    # Status spellings from the WSL data dictionary: "SRules G", "H3rd Reading".
    ("Third reading, passed; yeas, 46; nays, 3; absent, 0; excused, 0.", "SRules G", Chamber.LOWER,
     Chamber.UPPER),
    ("Third reading, passed; yeas, 46; nays, 3; absent, 0; excused, 0.", "H3rd Reading", Chamber.LOWER,
     Chamber.LOWER),
    ("Adopted.", "", Chamber.LOWER, Chamber.LOWER),  # no chamber anywhere: the origin
])
def test_line_actor(text, status, origin, expected):
    assert line_actor(text, status, origin) == expected


def test_empty_history_line_is_a_bill_without_actions():
    (bill,) = parse(get_form(record(line="", status="")))
    status = normalize_bill(bill).status
    assert bill.actions == [] and (status.status, status.basis) == ("introduced", "default")  # it exists


# --- Bad input ------------------------------------------------------------------------------------

def test_impossible_date_skips_only_that_record():
    items = parse(get_form(record("HB 2087", "2087", action_date="2026-02-30T00:00:00"),
                           record("HB 2088", "2088")))
    problems = [i for i in items if isinstance(i, ItemProblem)]
    assert [p.item_key for p in problems] == ["HB 2087"] and "2026-02-30" in problems[0].message
    assert list(bills(items)) == ["HB 2088"]


def test_missing_required_element_skips_only_that_record():
    items = parse(get_form(record("HB 2087", "2087", omit=("OriginalAgency",)), record("HB 2088", "2088")))
    (problem,) = [i for i in items if isinstance(i, ItemProblem)]
    assert problem.item_key == "HB 2087" and "OriginalAgency" in problem.message
    assert list(bills(items)) == ["HB 2088"]


def test_untracked_type_and_mismatched_bill_id_are_problems():
    items = parse(get_form(record("SGA 9001", "9001", agency="Senate", short_type="GA"),
                           record("SB 2087", "2087"), record("HB 2088", "2088")))
    messages = {i.item_key: i.message for i in items if isinstance(i, ItemProblem)}
    assert "not tracked" in messages["SGA 9001"] and "does not match" in messages["SB 2087"]
    assert list(bills(items)) == ["HB 2088"]


def test_every_record_missing_a_field_is_a_layout_change():
    with pytest.raises(SourceFormatError, match="CurrentStatus"):
        parse(get_form(record("HB 1", "1", omit=("CurrentStatus",)),
                       record("HB 2", "2", omit=("CurrentStatus",))))


@pytest.mark.parametrize("text, message", [
    ("<!DOCTYPE html><html><body>Service unavailable</body></html>", "HTML"),
    ("<html><head><title>Runtime Error</title></head></html>", "HTML"),
    ("Missing parameter: sinceDate.", "not well-formed"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', "DTD"),
    (f'<ArrayOfBill xmlns="{NS}"><Bill/></ArrayOfBill>', "root element <ArrayOfBill>"),
    (f'<ArrayOfLegislation xmlns="{NS}"><LegislationInfo/></ArrayOfLegislation>', "unexpected element"),
    ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
     "<faultcode>soap:Server</faultcode><faultstring>Server was unable to process request.</faultstring>"
     "</soap:Fault></soap:Body></soap:Envelope>", "SOAP fault: Server was unable"),
])
def test_wrong_layouts_fail_loudly(text, message):
    with pytest.raises(SourceFormatError, match=message):
        parse(text)


def test_empty_answer_is_no_bills():
    assert parse(get_form()) == []


# --- Source class: files and fetch ------------------------------------------------------------------

def test_read_path_reads_xml_and_gz(tmp_path: Path):
    (tmp_path / "answer.xml.gz").write_bytes(gzip.compress(get_form(record()).encode()))
    batch = WashingtonWSL().read_path(tmp_path, fetched_at=FETCHED)
    assert [b.identifier for b in batch.items] == ["HB 2087"]
    (tmp_path / "html.xml").write_text("<html></html>")
    with pytest.raises(FileNotFoundError, match="exactly one"):
        WashingtonWSL().read_path(tmp_path)
    with pytest.raises(SourceFormatError, match="html.xml: got an HTML page"):
        list(WashingtonWSL().read_path(tmp_path / "html.xml").items)


def _fetcher(settings, handler) -> Fetcher:
    return Fetcher(settings.model_copy(update={"http_cache": False}), transport=httpx.MockTransport(handler),
                   sleep=lambda seconds: None)


def test_fetch_reads_the_get_form(settings):
    body = shared_file(TRIMMED).read_bytes()
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, content=body, headers={"content-type": "text/xml; charset=utf-8"})

    with _fetcher(settings, handler) as fetcher:
        (batch,) = WashingtonWSL().fetch(fetcher, settings)
        items = list(batch.items)
    assert batch.target == introduced_since_url(settings.wa_introduced_since) == (
        "https://wslwebservices.leg.wa.gov/LegislationService.asmx/GetLegislationIntroducedSince"
        "?sinceDate=2025-01-01")
    assert [str(u) for u in seen] == [batch.target]
    assert len(items) == 17 and {i.source_id for i in items} == {"wa-wsl"}


def test_fetch_server_error_is_a_failed_batch(settings):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500, text="Missing parameter: sinceDate.")

    with _fetcher(settings, handler) as fetcher:
        (batch,) = WashingtonWSL().fetch(fetcher, settings)
    assert batch.error and "HTTP 500" in batch.error and list(batch.items) == []
    assert len(calls) == settings.http_max_retries + 1


def test_fetch_html_with_200_fails_the_run(settings):
    def handler(request):
        return httpx.Response(200, text="<!DOCTYPE html><html><body>Maintenance</body></html>",
                              headers={"content-type": "text/html"})

    with _fetcher(settings, handler) as fetcher:
        (batch,) = WashingtonWSL().fetch(fetcher, settings)
        assert batch.error is None
        with pytest.raises(SourceFormatError, match="GetLegislationIntroducedSince.*HTML"):
            list(batch.items)


def test_canonical_session_reads_the_wsl_biennium():
    assert canonical_session("wa", "2025-26") == "20252026"


def test_truncated_gzip_is_a_format_error(tmp_path: Path):
    path = tmp_path / "answer.xml.gz"
    path.write_bytes(gzip.compress(get_form(record()).encode())[:40])
    with pytest.raises(SourceFormatError, match="answer.xml.gz: unreadable"):
        list(WashingtonWSL().read_path(path, fetched_at=FETCHED).items)


def test_actors_in_the_capture(full):
    # Every line is by the chamber of origin, except the Speaker's signature on a Senate resolution.
    others = {n.identifier: n.scraped.actions[0].actor for n in full.values()
              if n.scraped.actions[0].actor != n.scraped.origin_chamber}
    assert others == {"SCR 8407": "lower"}
