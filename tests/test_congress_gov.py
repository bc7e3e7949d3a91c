"""Congress.gov source: the 2025 cassettes and decoded bodies, the 2022 beta output, the us.toml action
rules, statuses on the ladder, bad input, and the incremental fetch (key handling, budget, cursor)."""

import json
import logging
from datetime import UTC, date, datetime

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from scrapers.base import ItemProblem
from scrapers.congress_gov import (
    Body,
    CongressGov,
    parse_bodies,
    read_bodies,
    json_url,
    read_cassette,
    web_url,
)
from tests.conftest import shared_file
from tracker import db as database
from tracker.federal import force_label
from tracker.http import Fetcher, redact
from tracker.models import Bill, BillSource, FederalInstrument, PreemptionCandidate, RunProblem, ScrapeRun, SourceCursor
from tracker.normalize.actions import classify
from tracker.normalize.bill import normalize_bill
from tracker.runs import run_source
from tracker.scraped import ScrapedBill, ScrapedInstrument

FETCHED = datetime(2025, 7, 29, tzinfo=UTC)  # the cassettes were recorded on 2025-07-28
CG = "fixtures/api/congress_gov/"
SECRET = "TESTKEY0123456789abcdefTESTKEY0123456789"


def bills(items) -> dict[str, ScrapedBill]:
    return {i.identifier: i for i in items if isinstance(i, ScrapedBill)}


def folder(name: str):
    return shared_file(CG + name + "/")


# --- Reading every real file --------------------------------------------------------------------

def test_cassettes_decode_to_exactly_the_decoded_bodies():
    decoded = {p.name: json.loads(p.read_text()) for p in folder("decoded").glob("*.json")}
    bodies = []
    for cassette in sorted(folder("openbb_cassettes").glob("*.yaml")):
        bodies += read_cassette(cassette.read_text(), cassette.name)
    assert len(bodies) == 8
    assert sorted(json.dumps(json.loads(b.text), sort_keys=True) for b in bodies) == sorted(
        json.dumps(d, sort_keys=True) for d in decoded.values())
    assert all("MOCK_API_KEY" not in b.url and "api_key=***" in b.url for b in bodies)


@pytest.mark.parametrize("name", ["decoded", "openbb_cassettes"])
def test_2025_bodies_give_the_bill_and_the_listed_bills(name):
    items = list(CongressGov().read_path(folder(name), fetched_at=FETCHED).items)
    assert [i for i in items if isinstance(i, ItemProblem)] == []
    found = bills(items)
    assert sorted(found) == ["HR 4779", "HR 8516", "S 1947"]
    s1947 = normalize_bill(found["S 1947"])
    assert s1947.key == "us-119-S1947"
    assert (s1947.scraped.session, s1947.scraped.kind, s1947.scraped.origin_chamber) == ("119", "bill", "upper")
    assert [a.text for a in s1947.scraped.actions] == [  # oldest first; the API lists newest first
        "Introduced in Senate",
        "Read twice and referred to the Committee on Commerce, Science, and Transportation."]
    assert [a.actor for a in s1947.scraped.actions] == ["upper", "upper"]
    assert s1947.scraped.actions[0].source_classes == ("IntroReferral", "code:10000", "source:9")
    assert (s1947.status.status, s1947.status.status_date) == ("in_committee", date(2025, 6, 4))
    assert [s.name for s in s1947.scraped.sponsors] == [
        "Sen. Whitehouse, Sheldon [D-RI]", "Sen. Murkowski, Lisa [R-AK]", "Sen. Merkley, Jeff [D-OR]"]
    assert s1947.scraped.introduced_on == date(2025, 6, 4)
    assert s1947.scraped.source_url == "https://www.congress.gov/bill/119th-congress/senate-bill/1947"
    assert s1947.scraped.raw["record"] == "item" and s1947.scraped.raw["api_shape"] == "v3"
    listed = normalize_bill(found["HR 8516"])  # only in a list page: its latest action is all we know
    assert (listed.key, listed.scraped.raw["record"], listed.status.status) == (
        "us-118-HR8516", "listing", "passed_committee")


def test_2022_beta_output_in_its_older_shape():
    items = list(CongressGov().read_path(folder("loc_java_sample_output_2022"), fetched_at=FETCHED).items)
    problems = [i for i in items if isinstance(i, ItemProblem)]
    # 21 listed bills had no title yet in April 2022 (Congress.gov leaves it empty at first): one
    # recorded error each, and the run goes on.
    assert len(problems) == 21 and all("missing field 'title'" in p.message for p in problems)
    hr21 = normalize_bill(bills(items)["HR 21"])
    assert hr21.scraped.raw["api_shape"] == "2022-beta"
    assert len(hr21.scraped.actions) == 10 and hr21.scraped.actions[0].text == "Introduced in House"
    # Passed the House (LoC 8000), then received and referred in the Senate: second chamber pending.
    assert (hr21.status.status, hr21.status.status_date) == ("passed_origin", date(2021, 1, 5))
    assert hr21.scraped.summary.startswith("Federal Risk and Authorization Management Program Authorization Act")
    assert [v.note for v in hr21.scraped.versions] == ["Introduced in House", "Engrossed in House",
                                                       "Referred in Senate"]
    assert hr21.scraped.versions[0].url == "https://www.congress.gov/117/bills/hr21/BILLS-117hr21ih.htm"
    assert len(hr21.scraped.sponsors) == 3  # sponsor + 2 cosponsors


def test_every_congress_fixture_file_is_read():
    everything = list(CongressGov().read_path(shared_file(CG), fetched_at=FETCHED).items)
    assert sorted(bills(everything)) == ["HR 21", "HR 3617", "HR 4779", "HR 8516", "S 1947"]
    assert len([i for i in everything if isinstance(i, ItemProblem)]) == 21


# --- Action rules: a table of real strings, and the <=5% measure ---------------------------------

ACTION_TABLE = [
    # Library of Congress milestones (fixtures, and GPO's BILLSTATUS samples)
    ("Introduced in House", ["introduction"]),
    ("Introduced in Senate", ["introduction"]),
    ("Passed/agreed to in House: On motion to suspend the rules and pass the bill Agreed to by voice vote.(text: CR "
     "H58-60)", ["passage"]),
    ("Passed/agreed to in Senate: Passed Senate without amendment by Yea-Nay Vote. 53 - 46. Record Vote Number: "
     "67.(text: CR S1274)", ["passage"]),
    ("Presented to President.", ["executive-receipt"]),
    ("Vetoed by President.(text of veto message: CR 4/13/2015 S2094, S2107)", ["executive-veto"]),
    ("Signed by President.", ["executive-signature"]),
    ("Became Public Law No: 119-21.", ["became-law"]),
    # referral and committee
    ("Referred to the House Committee on Oversight and Reform.", ["referral-committee"]),
    ("Read twice and referred to the Committee on Commerce, Science, and Transportation.", ["referral-committee"]),
    ("Received in the Senate and Read twice and referred to the Committee on Homeland Security and Governmental "
     "Affairs.", ["referral-committee"]),
    ("Referred to the Subcommittee on Aviation.", ["referral-committee"]),
    ("Ordered to be Reported by Voice Vote.", ["committee-passage-favorable"]),
    ("Committee on Homeland Security and Governmental Affairs. Ordered to be reported with an amendment in the "
     "nature of a substitute favorably.", ["committee-passage-favorable"]),
    ("Senate Committee on Health, Education, Labor, and Pensions discharged by petition pursuant to 5 U.S.C. "
     "802(c). (consideration: CR S1030; text: CR 2/24/2015 S1072)", ["committee-passage"]),
    # chamber-system duplicates of milestones, and procedure: no status effect
    ("On motion to suspend the rules and pass the bill Agreed to by voice vote. (text: CR H58-60)", ["x-procedural"]),
    ("Passed Senate without amendment by Yea-Nay Vote. 53 - 46. Record Vote Number: 67. (text: CR S1274)",
     ["x-procedural"]),
    ("Motion to reconsider laid on the table Agreed to without objection.", ["x-procedural"]),
    ("DEBATE - The House proceeded with forty minutes of debate on H.R. 21.", ["x-procedural"]),
    ("Mrs. Maloney, Carolyn B. moved to suspend the rules and pass the bill.", ["x-procedural"]),
    ("Considered under suspension of the rules. (consideration: CR H58-62)", ["x-procedural"]),
    ("Placed on the Union Calendar, Calendar No. 177.", ["x-procedural"]),
    ("Motion to table the veto message to accompany S. J. Res. 8 agreed to in Senate by Yea-Nay Vote. 96 - 3. "
     "Record Vote Number: 172. (consideration: CR S2644)", ["x-procedural"]),
    ("Veto message received in Senate. Ordered held at the desk.", ["x-procedural"]),
    ("Received in the House.", ["receipt"]),
    ("Held at the desk.", ["receipt"]),
]


@pytest.mark.parametrize("text, expected", ACTION_TABLE)
def test_action_rules(text, expected):
    assert list(classify("us", text).classes) == expected


def test_public_law_number_is_captured():
    assert classify("us", "Became Public Law No: 119-21.").facts == {"chapter": "119-21"}


def fixture_action_strings() -> set[str]:
    texts = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("latestAction"), dict) and node["latestAction"].get("text"):
                texts.add(node["latestAction"]["text"])
            for action in node.get("actions") if isinstance(node.get("actions"), list) else []:
                texts.add(action["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in shared_file(CG).rglob("*.json"):
        walk(json.loads(path.read_text()))
    return texts


def test_at_most_five_percent_of_real_strings_unclassified():
    texts = fixture_action_strings()
    unclassified = sorted(t for t in texts if classify("us", t).unclassified)
    assert len(texts) == 27
    assert len(unclassified) <= 0.05 * len(texts), unclassified
    assert unclassified == []


# --- Statuses on the ladder (real milestone wording; synthetic bills) --------------------------------

def action(text: str, day: str, code: str | None = None, kind: str = "Floor", source: int = 9) -> dict:
    entry = {"actionDate": day, "text": text, "type": kind, "sourceSystem": {"code": source}}
    return entry | ({"actionCode": code} if code else {})


def bundle(number: str, actions: list[dict], *, bill_type: str = "HR", laws: list | None = None,
           title: str = "SYNTHETIC test bill", summary: str | None = None) -> list[Body]:
    """Bodies in the current API shape (as the real S.1947 ones) for a synthetic bill."""
    request = {"congress": "119", "billType": bill_type.lower(), "billNumber": number, "format": "json"}
    item = {"bill": {"congress": 119, "type": bill_type, "number": number, "title": title,
                     "introducedDate": actions[-1]["actionDate"], "originChamber": "House" if bill_type.startswith(
                         "H") else "Senate", "latestAction": {"actionDate": actions[0]["actionDate"],
                                                             "text": actions[0]["text"]},
                     "sponsors": [{"fullName": "Rep. Test [X-XX-1]", "bioguideId": "T000001"}],
                     "updateDate": "2025-07-28T10:00:00Z", "laws": laws or [],
                     "actions": {"count": len(actions), "url": "x"}}, "request": request}
    bodies = [Body("item", json.dumps(item)), Body("actions", json.dumps({"actions": actions, "request": request}))]
    if summary:
        bodies.append(Body("summaries", json.dumps({"summaries": [
            {"actionDate": "2025-06-01", "actionDesc": "Introduced in House", "text": f"<p>{summary}</p>",
             "updateDate": "2025-06-02T00:00:00Z", "versionCode": "00"}], "request": request})))
    return bodies


ENACTED_ACTIONS = [  # newest first, as the API lists them
    action("Became Public Law No: 119-99.", "2025-07-20", "36000", "BecameLaw"),
    action("Signed by President.", "2025-07-20", "29000", "President"),
    action("Presented to President.", "2025-07-18", "28000", "President"),
    action("Passed/agreed to in Senate: Passed Senate without amendment by Unanimous Consent.", "2025-07-17",
           "17000"),
    action("Passed Senate without amendment by Unanimous Consent.", "2025-07-17", None, "Floor", 0),
    action("Passed/agreed to in House: On passage Passed by the Yeas and Nays: 232 - 186 (Roll no. 128).",
           "2025-07-01", "8000"),
    action("Referred to the House Committee on Energy and Commerce.", "2025-06-01", "H11100", "IntroReferral", 2),
    action("Introduced in House", "2025-06-01", "1000", "IntroReferral"),
]


def normalized(bodies):
    items = list(parse_bodies(bodies, fetched_at=FETCHED))
    (bill,) = [i for i in items if isinstance(i, ScrapedBill)]
    return normalize_bill(bill), items


def test_signed_bill_is_enacted_with_its_public_law():
    norm, _ = normalized(bundle("9001", ENACTED_ACTIONS, laws=[{"number": "119-99", "type": "Public Law"}]))
    assert (norm.status.status, norm.status.enacted_how, norm.status.status_date) == (
        "enacted", "signed", date(2025, 7, 20))
    assert norm.status.chapter == "119-99" and norm.scraped.source_flags == {"laws": "Public Law 119-99"}


def test_laws_on_the_item_prove_enactment_when_no_action_says_so():
    actions = ENACTED_ACTIONS[2:]  # up to "Presented to President."
    norm, _ = normalized(bundle("9002", actions, laws=[{"number": "119-98", "type": "Public Law"}]))
    assert norm.scraped.actions[-1].text == "Became Public Law No: 119-98."
    assert norm.scraped.actions[-1].source_classes == ("laws[]",)
    assert (norm.status.status, norm.status.enacted_how) == ("enacted", "chaptered")


def test_each_chamber_and_the_president_on_the_ladder():
    stages = {3: "to_governor", 4: "passed_second", 6: "passed_origin", 7: "in_committee"}
    for start, expected in stages.items():
        norm, _ = normalized(bundle(f"90{start}0", ENACTED_ACTIONS[start - 1:]))
        assert norm.status.status == expected, (start, [a.text for a in norm.scraped.actions])


def test_vetoed_joint_resolution():
    actions = [  # GPO's S.J.Res. 8 (114th) sample, real strings
        action("Vetoed by President.(text of veto message: CR 4/13/2015 S2094, S2107)", "2015-03-31", "31000", "Veto"),
        action("Presented to President.", "2015-03-27", "28000", "President"),
        action("Passed/agreed to in House: On passage Passed by the Yeas and Nays: 232 - 186 (Roll no. 128).(text: "
               "CR H1782)", "2015-03-19", "8000"),
        action("Passed/agreed to in Senate: Passed Senate without amendment by Yea-Nay Vote. 53 - 46. Record Vote "
               "Number: 67.(text: CR S1274)", "2015-03-04", "17000"),
        action("Introduced in Senate", "2015-02-09", "10000", "IntroReferral"),
    ]
    norm, _ = normalized(bundle("8", actions, bill_type="SJRES"))
    assert norm.scraped.kind == "joint_resolution"
    assert (norm.status.status, norm.status.override_possible) == ("vetoed", True)


def test_house_resolution_adopted():
    actions = [action("Passed/agreed to in House: On agreeing to the resolution Agreed to by voice vote.",
                      "2025-05-01", "8000"),
               action("Submitted in House", "2025-04-30", "1025", "IntroReferral")]
    norm, _ = normalized(bundle("100", actions, bill_type="HRES"))
    assert (norm.identifier, norm.status.status) == ("HRES 100", "adopted")


# --- Instruments and preemption candidates from AI bills -------------------------------------------------

AI_SUMMARY = ("This bill establishes a moratorium on the enforcement of State laws regulating artificial "
              "intelligence models, and preempts such laws to avoid a patchwork of requirements.")


def test_ai_bill_becomes_a_federal_bill_instrument_and_a_candidate(db_url):
    bodies = bundle("9003", ENACTED_ACTIONS, laws=[{"number": "119-99", "type": "Public Law"}],
                    title="SYNTHETIC Artificial Intelligence Uniformity Act", summary=AI_SUMMARY)
    items = list(parse_bodies(bodies, fetched_at=FETCHED))
    (instrument,) = [i for i in items if isinstance(i, ScrapedInstrument)]
    assert (instrument.key, instrument.kind, instrument.instrument_status) == (
        "us-119-HR9003", "federal_bill", "enacted")
    assert force_label(instrument.kind, instrument.instrument_status) == "law"
    engine = database.get_engine(db_url)
    from tracker.storage import ingest

    with database.session_scope(engine) as db:
        result = ingest(db, items)
        assert (result.inserted, result.problems) == (2, [])  # the bill and its instrument
        (candidate,) = db.execute(select(PreemptionCandidate)).scalars()
        assert {e["term"] for e in candidate.evidence} == {"preempt", "moratorium", "State law", "patchwork"}
        assert all(e["field"] == "summary" for e in candidate.evidence)
        assert db.execute(select(Bill.status)).scalar() == "enacted"
    with database.session_scope(engine) as db:  # same evidence again: not queued twice
        again = ingest(db, list(parse_bodies(bodies, fetched_at=FETCHED)))
        assert again.unchanged == 2 and len(db.execute(select(PreemptionCandidate)).all()) == 1


def test_non_ai_bills_get_no_instrument_when_read_from_files():
    items = list(CongressGov().read_path(folder("decoded"), fetched_at=FETCHED).items)
    assert not any(isinstance(i, ScrapedInstrument) for i in items)


# --- Bad input -----------------------------------------------------------------------------------

def good_bodies():
    return [Body(p.name, p.read_text()) for p in sorted(folder("decoded").glob("*.json"))]


@pytest.mark.parametrize("body, expected", [
    ('<?xml version="1.0"?><api-root><bills/></api-root>', "got XML/HTML"),
    ('{"bills": {"bill": [{"number": "1"}]}, "pagination": {"count": 1}}', "`bills` is a dict"),
    ('{"error": {"code": "API_KEY_INVALID", "message": "An invalid api_key=abc was supplied."}}',
     "Congress.gov error"),
    ('{"laws": []}', "not a Congress.gov bill response"),
])
def test_a_bad_page_is_a_recorded_error_and_the_rest_is_read(body, expected):
    items = list(parse_bodies([Body("bad.json", body), *good_bodies()], fetched_at=FETCHED))
    problems = [i for i in items if isinstance(i, ItemProblem)]
    assert len(problems) == 1 and expected in problems[0].message
    assert "abc" not in problems[0].message  # a key quoted back by the API is removed
    assert sorted(bills(items)) == ["HR 4779", "HR 8516", "S 1947"]


def test_unknown_bill_type_and_missing_fields():
    page = {"bills": [{"congress": 119, "type": "HAMDT", "number": "5", "title": "An amendment",
                       "latestAction": {"actionDate": "2025-01-01", "text": "Introduced in House"}},
                      {"congress": 119, "type": "HR", "title": "No number"}],
            "pagination": {"count": 2}}
    items = list(parse_bodies([Body("page.json", json.dumps(page)), *good_bodies()], fetched_at=FETCHED))
    messages = [i.message for i in items if isinstance(i, ItemProblem)]
    assert any("unknown bill type 'HAMDT'" in m for m in messages)
    assert any("missing field congress, type or number" in m for m in messages)
    assert sorted(bills(items)) == ["HR 4779", "HR 8516", "S 1947"]


def test_unreadable_action_date_is_a_problem_for_that_bill():
    bodies = bundle("9004", [action("Introduced in House", "2025-02-30", "1000")])
    (problem,) = list(parse_bodies(bodies, fetched_at=FETCHED))
    assert isinstance(problem, ItemProblem) and problem.item_key == "us-119-HR9004"


def test_cassette_without_binary_bodies_is_a_clear_error(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text("interactions:\n- request:\n    uri: https://api.congress.gov/v3/bill?api_key=K\n"
                    "  response:\n    body:\n      string: '{}'\n")
    (problem,) = read_bodies(path)
    assert isinstance(problem, ItemProblem) and "not !!binary" in problem.message


# --- Keys, URLs and the fetch -------------------------------------------------------------------------

def test_json_url_asks_for_json_once_and_carries_no_key():
    next_url = "https://api.congress.gov/v3/bill?sort=updateDate desc&offset=1&limit=1&format=json&api_key=K"
    url = json_url(next_url)
    assert url.count("format=json") == 1 and "api_key" not in url and "offset=1" in url
    assert redact(next_url) == next_url.replace("api_key=K", "api_key=***")  # tracker.http's one redaction
    assert web_url(101, "SJRES", "8") == "https://www.congress.gov/bill/101st-congress/senate-joint-resolution/8"
    assert web_url(112, "HR", "1") == "https://www.congress.gov/bill/112th-congress/house-bill/1"


AI_ENTRY = {"congress": 119, "type": "HR", "number": "9005", "originChamber": "House", "originChamberCode": "H",
            "title": "SYNTHETIC Artificial Intelligence Uniformity Act", "updateDate": "2025-07-28",
            "latestAction": {"actionDate": "2025-07-20", "text": "Became Public Law No: 119-99."},
            "url": "https://api.congress.gov/v3/bill/119/hr/9005?format=json"}


def congress_handler(seen: list[str], *, fail_first: bool = False):
    real_list = json.loads(folder("decoded").joinpath("openbb_bills_v2_0_v3_bill.json").read_text())
    page_one = {"bills": [real_list["bills"][0], AI_ENTRY],  # the real HR 4779 entry, then the AI bill
                "pagination": {"count": 2, "next": "https://api.congress.gov/v3/bill/119?offset=250&limit=250"
                                                   "&sort=updateDate asc&format=json"}}
    page_two = {"bills": [], "pagination": {"count": 2}}
    details = {b.name: b.text for b in bundle("9005", ENACTED_ACTIONS, laws=[{"number": "119-99", "type": "Public Law"}],
                                              title=AI_ENTRY["title"], summary=AI_SUMMARY)}
    failures = [fail_first]

    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        seen.append(url)
        if failures[0]:
            failures[0] = False
            return httpx.Response(503, text="busy")
        path = request.url.path
        if path == "/v3/bill/119":
            return httpx.Response(200, json=page_two if request.url.params.get("offset") == "250" else page_one)
        if path == "/v3/bill/119/hr/9005":
            return httpx.Response(200, text=details["item"])
        if path.endswith("/actions"):
            return httpx.Response(200, text=details["actions"])
        if path.endswith("/summaries"):
            return httpx.Response(200, text=details["summaries"])
        name = path.rsplit("/", 1)[-1]
        key = {"text": "textVersions"}.get(name, name)
        return httpx.Response(200, json={key: {} if name == "subjects" else [], "request": {
            "congress": "119", "billType": "hr", "billNumber": "9005"}})

    return handler


@pytest.fixture
def congress_settings(settings, sqlite_url, monkeypatch):
    monkeypatch.setattr(settings, "database_url", sqlite_url)
    settings.http_cache = False
    settings.congress_api_key = SecretStr(SECRET)
    settings.http_max_retries = 1
    return settings


def run(settings, seen, **kwargs):
    fetcher = Fetcher(settings, transport=httpx.MockTransport(congress_handler(seen, **kwargs)), sleep=lambda s: None)
    return run_source(database.get_engine(settings.database_url), settings, "congress", fetcher=fetcher)


def test_fetch_lists_then_pulls_ai_bills_with_the_key_and_stores_none_of_it(congress_settings, caplog):
    seen: list[str] = []
    with caplog.at_level(logging.INFO):
        summaries = run(congress_settings, seen, fail_first=True)
    assert [s.status for s in summaries] == ["ok", "unchanged"]
    assert (summaries[0].inserted, summaries[0].problems) == (2, 0)  # the AI bill and its instrument
    # 1 list + item + 6 sub-resources + page 2 (+1 retried 503); the key is on every request, including
    # page 2, whose pagination.next came without it.
    assert len(seen) == 10 and all(f"api_key={SECRET}" in u and u.count("format=json") == 1 for u in seen)
    assert "fromDateTime=2025-01-01T00%3A00%3A00Z" in seen[0] and "sort=updateDate+asc" in seen[0]
    assert not any("/hr/4779" in u for u in seen)  # not an AI title: never pulled
    engine = database.get_engine(congress_settings.database_url)
    with database.session_scope(engine) as db:
        bill = db.execute(select(Bill)).scalar_one()
        assert (bill.key, bill.status, bill.enacted_how) == ("us-119-HR9005", "enacted", "signed")
        instrument = db.execute(select(FederalInstrument)).scalar_one()
        assert (instrument.kind, instrument.instrument_status, instrument.bill_key) == (
            "federal_bill", "enacted", "us-119-HR9005")
        cursor = db.execute(select(SourceCursor.value).where(SourceCursor.source_id == "congress")).scalar()
        assert cursor == "2025-07-28"
        stored = json.dumps([bill.source_url, instrument.source_url, *db.execute(select(BillSource.raw)).scalars(),
                             *db.execute(select(ScrapeRun.target, ScrapeRun.message)).all(),
                             *db.execute(select(RunProblem.message, RunProblem.url)).all()], default=str)
    assert SECRET not in stored and SECRET not in caplog.text
    assert any("api_key=***" in r.getMessage() for r in caplog.records if "api.congress.gov" in r.getMessage())
    # Next run: from the cursor minus an hour; the AI bill's latest action is unchanged, so no details.
    seen.clear()
    summaries = run(congress_settings, seen)
    assert [s.status for s in summaries] == ["unchanged", "unchanged"] and len(seen) == 2
    assert "fromDateTime=2025-07-27T23%3A00%3A00Z" in seen[0]


def test_fetch_stops_at_the_request_budget_and_keeps_the_cursor_honest(congress_settings):
    congress_settings.congress_max_requests = 4  # the list, the item and two sub-resources
    seen: list[str] = []
    (summary,) = run(congress_settings, seen)
    # Nothing could be stored before the budget ran out: a failed run that says why, cursor untouched.
    assert summary.status == "failed" and len(seen) == 4
    assert "request budget of 4 spent" in summary.message and "us-119-HR9005" in summary.message
    with database.session_scope(database.get_engine(congress_settings.database_url)) as db:
        assert db.execute(select(SourceCursor.value)).scalar() is None
    # With room for one bill, it is stored; the budget stops the run on the next page, the cursor
    # covers the first page only.
    congress_settings.congress_max_requests = 8
    seen.clear()
    summaries = run(congress_settings, seen)
    assert [s.status for s in summaries] == ["ok", "failed"] and summaries[0].inserted == 2
    with database.session_scope(database.get_engine(congress_settings.database_url)) as db:
        assert db.execute(select(SourceCursor.value)).scalar() == "2025-07-28"


def test_fetch_without_a_key_fails_with_a_clear_message(settings):
    (batch,) = CongressGov().fetch(Fetcher(settings, transport=httpx.MockTransport(lambda r: httpx.Response(500))),
                                   settings)
    assert "CONGRESS_API_KEY" in batch.error


def test_congress_api_key_is_read_from_congress_api_key(settings, monkeypatch):
    from tracker.config import Settings

    monkeypatch.setenv("CONGRESS_API_KEY", SECRET)
    loaded = Settings()
    assert loaded.congress_api_key.get_secret_value() == SECRET and SECRET not in repr(loaded)


def test_long_sub_resources_are_followed_page_by_page(congress_settings):
    """Actions beyond one page (limit 250) are fetched through pagination.next, key re-added."""
    seen: list[str] = []
    inner = congress_handler(seen)
    newest, older = ENACTED_ACTIONS[:3], ENACTED_ACTIONS[3:]
    request = {"congress": "119", "billType": "hr", "billNumber": "9005"}

    def handler(request_: httpx.Request) -> httpx.Response:
        if request_.url.path.endswith("/actions"):
            seen.append(str(request_.url))
            if request_.url.params.get("offset") == "250":
                return httpx.Response(200, json={"actions": older, "pagination": {"count": 8}, "request": request})
            return httpx.Response(200, json={"actions": newest, "request": request, "pagination": {
                "count": 8, "next": "https://api.congress.gov/v3/bill/119/hr/9005/actions?offset=250&limit=250"}})
        return inner(request_)

    fetcher = Fetcher(congress_settings, transport=httpx.MockTransport(handler), sleep=lambda s: None)
    summaries = run_source(database.get_engine(congress_settings.database_url), congress_settings, "congress",
                           fetcher=fetcher)
    assert summaries[0].inserted == 2
    action_urls = [u for u in seen if "/actions" in u]
    assert len(action_urls) == 2 and all(f"api_key={SECRET}" in u for u in action_urls)
    with database.session_scope(database.get_engine(congress_settings.database_url)) as db:
        assert db.execute(select(Bill.status)).scalar() == "enacted"


def test_a_cached_fetcher_is_not_used_for_keyed_requests(congress_settings, monkeypatch, tmp_path):
    """The HTTP cache stores URLs; with the key in the query string, Congress.gov gets its own uncached client."""
    congress_settings.http_cache = True
    seen: list[str] = []
    monkeypatch.setattr(CongressGov, "transport", httpx.MockTransport(congress_handler(seen)))
    cached = Fetcher(congress_settings, transport=httpx.MockTransport(lambda r: httpx.Response(500)),
                     sleep=lambda s: None)
    summaries = run_source(database.get_engine(congress_settings.database_url), congress_settings, "congress",
                           fetcher=cached)
    assert summaries[0].inserted == 2 and seen
    cache_file = congress_settings.data_dir / "http-cache.db"
    assert not cache_file.exists() or SECRET.encode() not in cache_file.read_bytes()
