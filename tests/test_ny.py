"""New York: OpenLeg JSON, LBDC bill pages and BILLSTAT XML parsed from the real recordings, the statuses
they lead to, the OpenLeg fetch (paging, 429, API errors, the key kept secret), the LBDC fetch and
bad input."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from datetime import UTC, date, datetime

import httpx
import pytest
from pydantic import SecretStr

from scrapers.base import ItemProblem, SourceFormatError
from scrapers.ny import (
    NewYorkLBDC,
    NewYorkOpenLeg,
    lbdc_url,
    openleg_status,
    parse_bill_spec,
    parse_billstat,
    parse_lbdc_page,
    parse_openleg_bill,
    read_openleg_page,
    split_print_no,
)
from tests.conftest import shared_file
from tracker.config import Settings
from tracker.http import Fetcher
from tracker.normalize.bill import normalize_bill

FETCHED = datetime(2026, 8, 1, tzinfo=UTC)
KEY = "sekrit-KEY-123"
NY = "fixtures/states/ny/"


def read(name: str) -> str:
    return shared_file(NY + name).read_text(encoding="utf-8")


def s609() -> dict:
    return json.loads(read("openleg_api_v3_bill_S609-2017.json"))


def page(name: str):
    return parse_lbdc_page(read(name), fetched_at=FETCHED)


def billstat(name: str):
    return parse_billstat(read(name), fetched_at=FETCHED)


def status_of(bill):
    return normalize_bill(bill).status


def truncated(bill, upto: int):
    """The bill as it looked after its first `upto` actions."""
    return dataclasses.replace(bill, actions=bill.actions[:upto])


# --- Parsers on the real recordings ----------------------------------------------------------


def test_openleg_bill_s609_2017():
    bill = parse_openleg_bill(s609(), fetched_at=FETCHED)
    norm = normalize_bill(bill)
    assert norm.key == "ny-20172018-S609"
    assert (bill.identifier, bill.session, bill.origin_chamber, bill.kind) == (
        "S 609", "20172018", "upper", "bill")
    # The recorded title starts with "@" (PROVENANCE.md: looks like a test edit upstream); kept verbatim.
    assert bill.title == "@Relates to training requirements for home inspector licensing"
    assert [(a.raw_date, a.actor, a.text) for a in bill.actions] == [
        ("2017-01-04", "upper", "REFERRED TO JUDICIARY"),
        ("2017-01-18", "upper", "AMEND (T) AND RECOMMIT TO JUDICIARY"),
        ("2017-01-18", "upper", "PRINT NUMBER 609A"),
    ]
    assert [(v.note, v.date) for v in bill.versions] == [
        ("S609", date(2017, 1, 4)), ("S609A", date(2017, 1, 18))]
    assert bill.sponsors[0].name == "Phil Boyle" and bill.sponsors[0].source_person_id == "433"
    assert bill.source_url == "https://legislation.nysenate.gov/api/3/bills/2017/S609"
    assert bill.source_flags == {"signed": "false", "vetoed": "false", "adopted": "false",
                                 "statusType": "IN_SENATE_COMM", "statusDesc": "In Senate Committee",
                                 "statusDate": "2017-01-18", "substitutedBy": ""}
    assert bill.raw["printNo"] == "S609A" and bill.raw["session"] == "2017" and "actions" not in bill.raw
    assert bill.introduced_on == date(2017, 1, 4)


def test_lbdc_page_s6169b_2023():
    bill = page("lbdc_2023-S6169B_died-in-assembly.html")
    assert normalize_bill(bill).key == "ny-20232024-S6169"
    assert bill.identifier == "S 6169" and bill.origin_chamber == "upper"
    assert bill.title == "Enacts the voting integrity and verification act of New York (VIVA NY)"
    assert bill.source_url == lbdc_url(2023, "S6169")
    assert [s.name for s in bill.sponsors] == ["CLEARE", "WEBB"] and bill.sponsors[0].primary
    assert [(v.note, v.date) for v in bill.versions] == [
        ("S6169", date(2023, 3, 31)), ("S6169A", date(2023, 4, 24)), ("S6169B", date(2024, 1, 4))]
    assert len(bill.actions) == 13
    # Senate lines are UPPERCASE, Assembly lines lowercase.
    assert [(a.text, a.actor) for a in bill.actions[5:10]] == [
        ("PASSED SENATE", "upper"), ("DELIVERED TO ASSEMBLY", "upper"), ("referred to election law", "lower"),
        ("died in assembly", "lower"), ("returned to senate", "lower")]
    assert bill.summary.startswith('Enacts the "voting integrity and verification act of New York')


def test_lbdc_page_a6361_2017_chapter_348():
    bill = page("lbdc_2017-A6361_chapter348.html")
    assert (bill.identifier, bill.session, bill.origin_chamber, bill.chapter) == (
        "A 6361", "20172018", "lower", "348")
    assert bill.sponsors[0].name == "Thiele"
    assert bill.actions[-1].text == "signed chap.348" and bill.actions[-1].actor == "executive"
    assert bill.summary == ("Relates to the adoption by local governments of higher or more restrictive "
                            "standards for construction.")


def test_lbdc_page_s434_2015():
    bill = page("lbdc_2015-S434.html")
    assert (bill.identifier, bill.session, len(bill.actions)) == ("S 434", "20152016", 16)
    assert bill.title.startswith("Provides that a business entity may not alter caller identification")


def test_billstat_s05795a_2015():
    bill = billstat("lbdc_BILLSTAT_2016-S05795A.xml")
    assert (bill.identifier, bill.session) == ("S 5795", "20152016")
    assert bill.title.startswith("Relates to reporting school finances")
    assert len(bill.actions) == 22 and bill.sponsors[0].name == "MARCELLINO"
    assert [(v.note, v.date) for v in bill.versions] == [
        ("S5795", date(2015, 6, 3)), ("S5795A", date(2016, 5, 16))]
    assert bill.source_url == lbdc_url(2015, "S5795")


@pytest.mark.parametrize("name", ["lbdc_BILLSTAT_2016-S05795A.xml", "lbdc_BILLSTAT_2023-S05186.xml"])
def test_billstat_actionhouse_agrees_with_the_case_rule(name):
    """The structured <action> elements name the house; the UPPER/lower rule must give the same."""
    bill = billstat(name)
    for action in bill.actions:
        if action.actor != "executive":
            assert action.actor == ("upper" if action.text.isupper() else "lower"), action.text


def test_print_numbers_and_bill_specs():
    assert split_print_no("S6169-B").identifier == "S 6169" and split_print_no("S6169-B").version == "B"
    assert split_print_no("S05795").base == "S5795"
    assert split_print_no("A\xa05934-B").base == "A5934"
    year, print_no = parse_bill_spec("2024:s6953a")
    assert (year, print_no.base) == (2023, "S6953")
    with pytest.raises(ValueError, match="unknown New York bill type"):
        split_print_no("X123")
    with pytest.raises(ValueError, match="YEAR:PRINTNO"):
        parse_bill_spec("S6953")


def test_lbdc_url_is_the_one_the_recorded_pages_came_from():
    # The NY Senate's spot-check scraper (nysenate/OpenLegislation BillScraper) recorded the pages in
    # ../shared with navigate.cgi?NVDTO:=&QUERYDATA={printNo}&QUERYTYPE=BILLNO&SESSYR={year}&CBSTATUS=Y...
    assert lbdc_url(2025, "S6953") == ("http://public.leginfo.state.ny.us/navigate.cgi?NVDTO:=&QUERYDATA=S6953"
                                       "&QUERYTYPE=BILLNO&SESSYR=2025&CBSTATUS=Y&CBSUMMARY=Y")


# --- Statuses: what the source says ----------------------------------------------------------


def test_s609_status_agrees_with_openleg_flags():
    bill = parse_openleg_bill(s609(), fetched_at=FETCHED)
    status = status_of(bill)
    assert status.status == "in_committee"
    assert status.status == openleg_status(bill.source_flags, bill.origin_chamber)
    assert bill.source_flags["signed"] == bill.source_flags["vetoed"] == "false"


def test_a6361_enacted_signed_chapter_348():
    status = status_of(page("lbdc_2017-A6361_chapter348.html"))
    assert (status.status, status.enacted_how, status.chapter, status.status_date) == (
        "enacted", "signed", "348", date(2017, 10, 23))


def test_s6169b_back_in_senate_committee_not_failed():
    bill = page("lbdc_2023-S6169B_died-in-assembly.html")
    assert status_of(truncated(bill, 8)).status == "passed_origin"  # passed the Senate, in Assembly committee
    status = status_of(bill)
    assert (status.status, status.failed_how, status.status_date) == ("in_committee", None, date(2024, 1, 3))


def test_s434_passed_senate_again_in_year_two():
    status = status_of(page("lbdc_2015-S434.html"))
    assert (status.status, status.status_date) == ("passed_origin", date(2016, 6, 14))


def test_s05795a_follows_its_lines_to_chapter_514():
    bill = billstat("lbdc_BILLSTAT_2016-S05795A.xml")
    texts = [a.text for a in bill.actions]
    # After "passed assembly" LBDC sends it home ("returned to senate"); that is no step back.
    upto = texts.index("returned to senate", texts.index("passed assembly")) + 1
    assert status_of(truncated(bill, upto)).status == "passed_second"
    assert status_of(truncated(bill, texts.index("DELIVERED TO GOVERNOR") + 1)).status == "to_governor"
    status = status_of(bill)
    assert (status.status, status.enacted_how, status.chapter, status.status_date) == (
        "enacted", "signed", "514", date(2016, 12, 31))


def test_s05186_recalled_from_assembly_goes_back_to_the_senate():
    bill = billstat("lbdc_BILLSTAT_2023-S05186.xml")
    assert status_of(truncated(bill, 7)).status == "passed_origin"
    assert status_of(bill).status == "in_committee"


def test_died_in_assembly_never_produces_failed():
    bills = [page("lbdc_2023-S6169B_died-in-assembly.html"), page("lbdc_2015-S434.html"),
             billstat("lbdc_BILLSTAT_2016-S05795A.xml")]
    for bill in bills:
        texts = [a.text for a in bill.actions]
        assert "died in assembly" in texts
        for upto in range(1, len(bill.actions) + 1):
            assert status_of(truncated(bill, upto)).status != "failed", (bill.identifier, texts[upto - 1])


# --- Bad input -------------------------------------------------------------------------------


def test_html_where_billstat_xml_expected():
    with pytest.raises(SourceFormatError, match="HTML page where BILLSTAT XML"):
        parse_billstat(read("lbdc_2015-S434.html"))


def test_xml_where_lbdc_page_expected():
    with pytest.raises(SourceFormatError, match="not an LBDC bill page"):
        parse_lbdc_page(read("lbdc_BILLSTAT_2023-S05186.xml"))


def test_lbdc_page_without_action_table_fails_loudly():
    html = read("lbdc_2023-S6169B_died-in-assembly.html")
    start, end = html.index('<TR valign="top"> <td>03/31/23'), html.index("</table>")
    with pytest.raises(SourceFormatError, match="no action table"):
        parse_lbdc_page(html[:start] + html[end:])


def test_lbdc_page_with_changed_action_columns_fails_loudly():
    html = read("lbdc_2023-S6169B_died-in-assembly.html").replace(
        "<td> PASSED SENATE</td>", "<td>S</td><td> PASSED SENATE</td>")
    with pytest.raises(SourceFormatError, match="3 cells"):
        parse_lbdc_page(html)


def test_lbdc_outage_page_fails_loudly_missing_bill_is_a_problem(tmp_path):
    with pytest.raises(SourceFormatError, match="outage"):
        parse_lbdc_page("<html><body><h2>404 - Processing Error</h2></body></html>")
    (tmp_path / "missing.html").write_text(
        '<html><body><div id="nv_bot_contents">'
        '<font color="red">Bill Status Information Not Found</font></div></body></html>')
    (items,) = [list(NewYorkLBDC().read_path(tmp_path, fetched_at=FETCHED).items)]
    assert len(items) == 1 and isinstance(items[0], ItemProblem) and "no bill status" in items[0].message


def test_impossible_date_skips_only_that_bill(tmp_path):
    good, bad = read("lbdc_2015-S434.html"), read("lbdc_2023-S6169B_died-in-assembly.html")
    (tmp_path / "a.html").write_text(bad.replace("<td>03/31/23</td>", "<td>13/45/23</td>"), encoding="utf-8")
    (tmp_path / "b.html").write_text(good, encoding="utf-8")
    xml = read("lbdc_BILLSTAT_2023-S05186.xml")
    (tmp_path / "c.xml").write_text(xml.replace("03/15/23 1ST", "02/30/23 1ST"))
    items = list(NewYorkLBDC().read_path(tmp_path, fetched_at=FETCHED).items)
    problems = [i for i in items if isinstance(i, ItemProblem)]
    assert [p.item_key for p in problems] == ["a", "c"]
    assert "13/45/23" in problems[0].message and "02/30/23" in problems[1].message
    assert [i.identifier for i in items if not isinstance(i, ItemProblem)] == ["S 434"]


def test_openleg_truncated_json_fails_loudly(tmp_path):
    path = tmp_path / "S609.json"
    path.write_text(read("openleg_api_v3_bill_S609-2017.json")[:5000])
    with pytest.raises(SourceFormatError, match="S609.json: not valid JSON"):
        list(NewYorkOpenLeg().read_path(path).items)


def test_openleg_record_with_impossible_date_is_a_problem(tmp_path):
    data, other = s609(), other_bill("S610")
    data["result"]["actions"]["items"][1]["date"] = "2017-02-30"
    (tmp_path / "page.json").write_text(json.dumps(list_page([data["result"], other], 1, 2)))
    items = list(NewYorkOpenLeg().read_path(tmp_path, fetched_at=FETCHED).items)
    assert isinstance(items[0], ItemProblem) and items[0].item_key == "S609-2017"
    assert "2017-02-30" in items[0].message
    assert items[1].identifier == "S 610"


def test_openleg_unknown_bill_type_is_a_problem(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"success": True, "result": other_bill("X12")}))
    (item,) = list(NewYorkOpenLeg().read_path(tmp_path / "x.json").items)
    assert isinstance(item, ItemProblem) and "unknown New York bill type" in item.message


def test_openleg_page_shape_is_checked():
    with pytest.raises(SourceFormatError, match="HTML"):
        read_openleg_page("<!DOCTYPE html><html>Service unavailable</html>", name="p")
    with pytest.raises(SourceFormatError, match="no result.items"):
        read_openleg_page('{"success": true, "result": {}}', name="p")
    with pytest.raises(SourceFormatError, match="offsetEnd/total"):
        read_openleg_page('{"success": true, "result": {"items": []}}', name="p")


# --- OpenLeg fetch ---------------------------------------------------------------------------


def list_page(bills: list[dict], start: int, total: int) -> dict:
    return {"success": True, "message": "", "responseType": "bill-info list", "total": total,
            "offsetStart": start, "offsetEnd": start + len(bills) - 1, "limit": 1000,
            "result": {"items": bills, "size": len(bills)}}


def other_bill(base: str) -> dict:
    bill = copy.deepcopy(s609()["result"])
    bill["basePrintNo"], bill["basePrintNoStr"] = base, f"{base}-2017"
    return bill


def openleg_settings(settings: Settings, **update) -> Settings:
    return settings.model_copy(update={"ny_openleg_api_key": SecretStr(KEY), "ny_session_years": ["2017"],
                                       "http_cache": False, "http_requests_per_minute": 1e9, **update})


def run_openleg(settings: Settings, handler) -> list:
    with Fetcher(settings, transport=httpx.MockTransport(handler), sleep=lambda s: None) as fetcher:
        batches = list(NewYorkOpenLeg().fetch(fetcher, settings))
        return [(batch, list(batch.items)) for batch in batches]


def test_openleg_fetch_pages_through_a_session(settings, caplog):
    caplog.set_level(logging.DEBUG)
    offsets = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/3/bills/2017" and request.url.params["key"] == KEY
        assert request.url.params["full"] == "true" and request.url.params["limit"] == "1000"
        offset = int(request.url.params["offset"])
        offsets.append(offset)
        pages = {1: list_page([s609()["result"]], 1, 2), 2: list_page([other_bill("S610")], 2, 2)}
        return httpx.Response(200, json=pages[offset])

    results = run_openleg(openleg_settings(settings), handler)
    assert offsets == [1, 2]
    assert [b.error for b, _ in results] == [None, None]
    bills = [item for _, items in results for item in items]
    assert [b.identifier for b in bills] == ["S 609", "S 610"]
    for batch, items in results:
        assert KEY not in batch.target and "offset=" in batch.target
        assert all(KEY not in item.source_url for item in items)
    assert KEY not in caplog.text


def test_openleg_fetch_retries_429_and_keeps_the_key_out_of_logs(settings, caplog):
    caplog.set_level(logging.DEBUG)
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"}, text="slow down")
        return httpx.Response(200, json=list_page([s609()["result"]], 1, 1))

    results = run_openleg(openleg_settings(settings), handler)
    assert len(calls) == 2
    ((batch, items),) = results
    assert batch.error is None and [i.identifier for i in items] == ["S 609"]
    assert "retry" in caplog.text and "429" in caplog.text  # the retry was logged...
    assert KEY not in caplog.text  # ...without the key


def test_openleg_success_false_fails_the_batch_with_its_message(settings):
    def handler(request):
        return httpx.Response(200, json={"success": False, "message": "Invalid API key",
                                         "responseType": "error"})

    ((batch, items),) = run_openleg(openleg_settings(settings), handler)
    assert "OpenLeg said: Invalid API key" in batch.error and KEY not in batch.error and items == []


def test_openleg_http_error_message_never_shows_the_key(settings):
    def handler(request):
        return httpx.Response(403, text=f"key {KEY} is not allowed")

    ((batch, _),) = run_openleg(openleg_settings(settings), handler)
    assert "HTTP 403" in batch.error and KEY not in batch.error and "***" in batch.error


def test_openleg_truncated_page_fails_the_batch(settings):
    def handler(request):
        return httpx.Response(200, text=json.dumps(list_page([s609()["result"]], 1, 1))[:3000])

    ((batch, _),) = run_openleg(openleg_settings(settings), handler)
    assert "not valid JSON" in batch.error and KEY not in batch.error


def test_openleg_without_key_says_how_to_fix_it(settings):
    def handler(request):
        raise AssertionError("no request without a key")

    ((batch, items),) = run_openleg(openleg_settings(settings, ny_openleg_api_key=None), handler)
    assert "TRACKER_NY_OPENLEG_API_KEY" in batch.error and "ny-lbdc" in batch.error and items == []


def test_openleg_session_year_is_the_odd_start_year(settings):
    years = []

    def handler(request):
        years.append(request.url.path.rsplit("/", 1)[1])
        return httpx.Response(200, json=list_page([], 1, 0))

    results = run_openleg(openleg_settings(settings, ny_session_years=["2024", "twenty"]), handler)
    assert years == ["2023"]
    assert results[1][0].error.startswith("not a New York session year")


# --- LBDC fetch ------------------------------------------------------------------------------


def test_lbdc_fetch_reads_watched_bills(settings):
    html = shared_file(NY + "lbdc_2023-S6169B_died-in-assembly.html").read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "public.leginfo.state.ny.us"
        if request.url.params.get("QUERYDATA") == "S6169" and request.url.params.get("SESSYR") == "2023":
            return httpx.Response(200, content=html, headers={"content-type": "text/html"})
        return httpx.Response(404, text="no such page")

    quiet = settings.model_copy(update={"http_cache": False, "http_requests_per_minute": 1e9})
    with Fetcher(quiet, transport=httpx.MockTransport(handler), sleep=lambda s: None) as fetcher:
        (batch,) = list(NewYorkLBDC().fetch_bills(fetcher, ["2024:S6169B", "2025:A99999", "bogus"]))
        items = list(batch.items)
    assert batch.error is None
    assert [i.identifier for i in items if not isinstance(i, ItemProblem)] == ["S 6169"]
    assert sorted(p.item_key for p in items if isinstance(p, ItemProblem)) == ["2025:A99999", "bogus"]
    bill = next(i for i in items if not isinstance(i, ItemProblem))
    assert bill.source_url == lbdc_url(2023, "S6169") and status_of(bill).status == "in_committee"


def test_lbdc_fetch_obeys_robots_txt(settings):
    asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nDisallow: /navigate.cgi\n")
        return httpx.Response(200, text="<html>should never be fetched</html>")

    quiet = settings.model_copy(update={"http_cache": False, "http_requests_per_minute": 1e9})
    with Fetcher(quiet, transport=httpx.MockTransport(handler), sleep=lambda s: None) as fetcher:
        (batch,) = list(NewYorkLBDC().fetch_bills(fetcher, ["2025:S6953", "2025:A6453"]))
    assert asked == ["/robots.txt"]  # read once, and no page fetched
    assert "robots.txt of public.leginfo.state.ny.us disallows" in batch.error


def test_lbdc_fetch_without_watched_bills_explains_itself(settings):
    with Fetcher(settings.model_copy(update={"http_cache": False}), transport=httpx.MockTransport(
            lambda r: httpx.Response(500)), sleep=lambda s: None) as fetcher:
        (batch,) = list(NewYorkLBDC().fetch(fetcher, settings))
    assert "TRACKER_NY_LBDC_BILLS" in batch.error and "ny-openleg" in batch.error


def test_lbdc_watched_bills_setting_exists(monkeypatch):
    monkeypatch.setenv("TRACKER_NY_LBDC_BILLS", "2025:S6953,2025:A6453")
    assert Settings().ny_lbdc_bills == ["2025:S6953", "2025:A6453"]


def test_read_path_takes_the_recorded_folder():
    folder = shared_file(NY + "lbdc_2015-S434.html").parent
    lbdc = list(NewYorkLBDC().read_path(folder, fetched_at=FETCHED).items)
    assert sorted(b.identifier for b in lbdc) == ["A 6361", "S 434", "S 5186", "S 5795", "S 6169"]
    (openleg,) = list(NewYorkOpenLeg().read_path(folder, fetched_at=FETCHED).items)
    assert openleg.identifier == "S 609" and openleg.source_id == "ny-openleg"
