"""Congress.gov API v3 (`api.congress.gov/v3`, api.data.gov key): the AI bills of the current Congress.

Federal bills are ordinary bills with jurisdiction `us` and the Congress as session
(`us-119-HR5388`), stored through the same ingest path as state bills, with statuses on the same
ladder. Each AI bill also gets a `federal_bill` instrument record (tracker.federal), which is what
the preemption review works on.

Statuses come from our classifier (tracker/normalize/rules/us.toml) run on the action *text*.
Why text and not `actionCode`: the codes are not a controlled vocabulary across source systems
(GPO: "a complete, authoritative list of action codes does not exist"; in GPO's own S.J.Res. 8
sample `E30000` labels a veto, in its code table a signature), while the Library of Congress
milestone lines (sourceSystem 9) use fixed wording: "Introduced in House" (1000), "Passed/agreed to
in House: ..." (8000), "Passed/agreed to in Senate: ..." (17000), "Presented to President." (28000),
"Signed by President." (29000), "Vetoed by President." (31000), "Became Public Law No: 119-21."
(36000). Chamber-system duplicates of those milestones are `x-procedural` in us.toml, so each
milestone counts once, from LoC. `type` (IntroReferral, Floor, President, BecameLaw...) and
`actionCode` are kept as upstream hints (`source_classes`), never trusted. `laws[]` on the bill
item proves enactment: if no action says "Became Public Law", one is added from `laws[]`
(hint `laws[]`). Stored text stays what Congress.gov wrote, so `tracker reclassify` reproduces it.

Incremental: the bill list of the Congress sorted by `updateDate` ascending from the stored
cursor (minus one hour of overlap); a listed bill is fetched again (item, actions, titles,
subjects, summaries, text versions, cosponsors) only when it is new or its latest action or title
changed, since `updateDate` churns without real changes. Pagination follows `pagination.next`,
which drops `api_key`: the key is added to each request as a tracker.http `secret_params`, whose
one redaction keeps it out of everything stored, shown, logged or recorded. A run spends at most
TRACKER_CONGRESS_MAX_REQUESTS requests (the key allows 5,000 an hour; the per-host politeness limit
keeps a run near 1,200 an hour).

The API has no keyword search, so AI bills are picked by their titles (tracker.federal.is_ai_text),
plus every bill the instrument table or the database already tracks (H.R. 1 has no AI title).

Shapes read (all of `../shared/fixtures/api/congress_gov/`): the 2025 vcrpy cassettes (YAML,
read without PyYAML: only the request URI, status and the base64 gzip body are taken), the decoded
2025 bodies, and the 2022 beta output (`pagination.total`, `actionByCounts`), whose bill fields
are the same; it is marked `api_shape: 2022-beta` in the raw record. A body this parser cannot
read (XML, a `bills` object instead of a list, an error body) is a recorded error for that page.
Known gaps (DOMAIN.md §6.3): no recorded enacted, vetoed or AI bill, and no current-shape
`/summaries`; the outcome rules come from GPO's documented milestone wording.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker import archives
from tracker.config import Settings
from tracker.federal import is_ai_text, read_cursor
from tracker.http import Fetcher, FetchError, redact
from tracker.merge import CursorUpdate
from tracker.normalize.bill import normalize_bill
from tracker.normalize.identifiers import IdentifierError, bill_key, canonical_identifier
from tracker.scraped import (HISTORY_COMPLETE, HISTORY_CURRENT_ONLY, ScrapedAction, ScrapedBill, ScrapedInstrument,
                             ScrapedSponsor, ScrapedVersion)
from tracker.vocab import BillKind, Chamber

API = "https://api.congress.gov/v3"
SOURCE_ID = "congress"
PAGE_LIMIT = 250  # the API's maximum
OVERLAP = timedelta(hours=1)
BILL_TYPES = {
    "HR": (BillKind.BILL, "house-bill"), "S": (BillKind.BILL, "senate-bill"),
    "HJRES": (BillKind.JOINT_RESOLUTION, "house-joint-resolution"),
    "SJRES": (BillKind.JOINT_RESOLUTION, "senate-joint-resolution"),
    "HCONRES": (BillKind.CONCURRENT_RESOLUTION, "house-concurrent-resolution"),
    "SCONRES": (BillKind.CONCURRENT_RESOLUTION, "senate-concurrent-resolution"),
    "HRES": (BillKind.RESOLUTION, "house-resolution"), "SRES": (BillKind.RESOLUTION, "senate-resolution"),
}
# Sub-resources fetched for a new or changed bill, and the key each response keeps its list under.
SUBRESOURCES = {"actions": "actions", "titles": "titles", "subjects": "subjects", "summaries": "summaries",
                "text": "textVersions", "cosponsors": "cosponsors"}
_BODY_ROLES = {"actions": "actions", "titles": "titles", "subjects": "subjects", "summaries": "summaries",
               "textVersions": "text", "cosponsors": "cosponsors", "committees": "committees",
               "amendments": "amendments", "relatedBills": "relatedbills"}
_TAG = re.compile(r"<[^>]+>")
_BILL_PATH = re.compile(r"/v3/bill/(\d+)/([a-z]+)/(\d+)(?:/([a-zA-Z]+))?")


def json_url(url: str) -> str:
    """`pagination.next` (and sub-resource links) drop `format`, and may carry a stale `api_key`: the
    URL without any key, asking for JSON. The key is added per request (tracker.http secret_params)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("api_key", "format")]
    query += [("format", "json")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def list_url(congress: int, since: datetime, until: datetime | None = None) -> str:
    params = {"fromDateTime": _api_time(since), "sort": "updateDate asc", "limit": str(PAGE_LIMIT), "format": "json"}
    if until:
        params["toDateTime"] = _api_time(until)
    return f"{API}/bill/{congress}?{urlencode(params)}"


def _api_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def web_url(congress: int | str, bill_type: str, number: str) -> str:
    """The bill's congress.gov page, which is what people open (the API URL needs a key)."""
    n = int(congress)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"https://www.congress.gov/bill/{n}{suffix}-congress/{BILL_TYPES[bill_type][1]}/{number}"


# --- Reading saved responses ------------------------------------------------------------------------

@dataclass
class Body:
    """One API response body with where it came from (a file, a cassette interaction, a URL)."""

    name: str
    text: str
    url: str | None = None


def read_cassette(text: str, name: str) -> list[Body]:
    """A vcrpy cassette -> its response bodies. Only what we need is read, line by line (no PyYAML):
    each interaction's `uri:`, `code:` and `string: !!binary |` block (base64 of the gzip body)."""
    bodies: list[Body] = []
    lines = text.splitlines()
    uri = status = None
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if line.startswith("- request:"):
            uri = status = None
        elif stripped.startswith("uri: "):
            uri = stripped[5:].strip()
        elif stripped.startswith("string: !!binary"):
            indent = len(line) - len(line.lstrip())
            block = []
            index += 1
            while index < len(lines) and (len(lines[index]) - len(lines[index].lstrip()) > indent
                                          and lines[index].strip()):
                block.append(lines[index].strip())
                index += 1
            bodies.append(Body(f"{name} #{len(bodies)}", _decode_binary("".join(block), name), redact(uri or "")))
            continue
        elif stripped.startswith("string:"):
            raise SourceFormatError(f"{name}: a cassette body that is not !!binary; this reader only takes the "
                                    "gzip bodies vcrpy writes for Congress.gov")
        elif stripped.startswith("code:") and bodies and status is None:
            status = stripped[5:].strip()
            if status != "200":
                bodies[-1].text = json.dumps({"error": {"code": status, "message": f"HTTP {status} recorded"}})
        index += 1
    if not bodies:
        raise SourceFormatError(f"{name}: no recorded response bodies (is this a vcrpy cassette?)")
    return bodies


def _decode_binary(blob: str, name: str) -> str:
    try:
        data = base64.b64decode(blob, validate=False)
    except ValueError as exc:
        raise SourceFormatError(f"{name}: cassette body does not decode ({exc})") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = archives.gunzip(data, name)  # within the caps of tracker.archives
        except SourceFormatError as exc:
            raise type(exc)(f"{name}: cassette body does not decode ({exc})") from None
    return data.decode("utf-8", errors="replace")


def read_bodies(path: Path) -> list[Body | ItemProblem]:
    files = sorted(p for p in path.rglob("*") if p.suffix in (".json", ".yaml", ".yml")) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"{path}: no .json or .yaml files")
    bodies: list[Body | ItemProblem] = []
    for file in files:
        text = file.read_bytes().decode("utf-8-sig", errors="replace")  # bad bytes: the JSON check says so
        if file.suffix in (".yaml", ".yml"):
            try:
                bodies += read_cassette(text, file.name)
            except SourceFormatError as exc:
                bodies.append(ItemProblem(str(exc), None, file.name))
        else:
            bodies.append(Body(file.name, text))
    return bodies


# --- Parsing ----------------------------------------------------------------------------------------

@dataclass
class Bundle:
    """Everything read about one bill: the item and its sub-resources, and/or its list entry."""

    congress: str
    bill_type: str
    number: str
    item: dict | None = None
    subs: dict[str, dict] = field(default_factory=dict)
    listing: dict | None = None
    names: list[str] = field(default_factory=list)
    old_shape: bool = False


def classify_body(body: Body) -> tuple[str, dict | None, ItemProblem | None]:
    """(role, data, problem): role is list, item, one of the sub-resource names, or error."""
    stripped = body.text.lstrip()
    if stripped[:1] == "<":
        return "error", None, ItemProblem(f"{body.name}: got XML/HTML, not JSON (Congress.gov answers XML unless "
                                          "format=json is asked)", None, body.url or body.name)
    try:
        data = json.loads(body.text)
    except json.JSONDecodeError as exc:
        return "error", None, ItemProblem(f"{body.name}: not JSON ({exc})", None, body.url or body.name)
    if not isinstance(data, dict):
        return "error", None, ItemProblem(f"{body.name}: expected a JSON object", None, body.url or body.name)
    if "error" in data:
        error = data["error"]
        message = error.get("message") or error.get("code") if isinstance(error, dict) else error
        return "error", None, ItemProblem(f"{body.name}: Congress.gov error: {redact(str(message))}", None,
                                          body.url or body.name)
    if "bills" in data:
        if not isinstance(data["bills"], list):
            return "error", None, ItemProblem(f"{body.name}: `bills` is a {type(data['bills']).__name__}, expected a "
                                              "list (an old or changed API shape); page skipped", None,
                                              body.url or body.name)
        return "list", data, None
    if isinstance(data.get("bill"), dict):
        return "item", data, None
    for key, role in _BODY_ROLES.items():
        if key in data:
            return role, data, None
    keys = ", ".join(sorted(data)[:12]) or "none"
    return "error", None, ItemProblem(f"{body.name}: not a Congress.gov bill response this parser knows "
                                      f"(top-level keys: {keys}); an old or changed API shape?", None,
                                      body.url or body.name)


def _ref(data: dict, body: Body) -> tuple[str, str, str] | None:
    request = data.get("request") or {}
    if request.get("congress") and request.get("billType") and request.get("billNumber"):
        return str(request["congress"]), str(request["billType"]).upper(), str(request["billNumber"])
    bill = data.get("bill") if isinstance(data.get("bill"), dict) else None
    if bill and bill.get("congress") and bill.get("type") and bill.get("number"):
        return str(bill["congress"]), str(bill["type"]).upper(), str(bill["number"])
    match = _BILL_PATH.search(body.url or "")
    return (match.group(1), match.group(2).upper(), match.group(3)) if match else None


def _is_old_shape(data: dict) -> bool:
    pagination = data.get("pagination") or {}
    return "total" in pagination or "actionByCounts" in data or "actionTypeCounts" in data


def parse_bodies(bodies: list[Body | ItemProblem], *, fetched_at: datetime, instruments: bool | None = None
                 ) -> Iterator[ParsedItem]:
    """Saved bodies -> one ScrapedBill (and instrument) per bill. Bills only seen in a list become
    listing records (title and latest action); a bill with an item and sub-resources is complete."""
    bundles: dict[tuple[str, str, str], Bundle] = {}
    for body in bodies:
        if isinstance(body, ItemProblem):
            yield body
            continue
        role, data, problem = classify_body(body)
        if problem:
            yield problem
            continue
        if role == "list":
            for index, entry in enumerate(data["bills"]):
                ref = _entry_ref(entry)
                if ref is None:
                    yield ItemProblem(f"{body.name} bill {index}: missing field congress, type or number", None,
                                      body.url or body.name)
                    continue
                bundle = bundles.setdefault(ref, Bundle(*ref))
                if bundle.listing is None or str(entry.get("updateDate", "")) > str(bundle.listing.get("updateDate", "")):
                    bundle.listing = entry
                bundle.old_shape |= _is_old_shape(data)
            continue
        ref = _ref(data, body)
        if ref is None:
            yield ItemProblem(f"{body.name}: {role} response without congress, bill type and number", None,
                              body.url or body.name)
            continue
        bundle = bundles.setdefault(ref, Bundle(*ref))
        if role == "item":
            bundle.item = data["bill"]
        else:
            bundle.subs[role] = data
        bundle.names.append(body.name)
        bundle.old_shape |= _is_old_shape(data)
    for bundle in bundles.values():
        if bundle.item is None and bundle.listing is None:
            yield ItemProblem(f"{bundle.bill_type} {bundle.number} ({bundle.congress}th Congress): "
                              f"{', '.join(sorted(bundle.subs))} without the bill item; skipped",
                              f"us-{bundle.congress}-{bundle.bill_type}{bundle.number}", ", ".join(bundle.names))
            continue
        yield from parse_bundle(bundle, fetched_at=fetched_at, instruments=instruments)


def _entry_ref(entry: dict) -> tuple[str, str, str] | None:
    if not isinstance(entry, dict) or not all(entry.get(k) for k in ("congress", "type", "number")):
        return None
    return str(entry["congress"]), str(entry["type"]).upper(), str(entry["number"])


def parse_bundle(bundle: Bundle, *, fetched_at: datetime, instruments: bool | None = None) -> list[ParsedItem]:
    """One bill -> [ScrapedBill, ScrapedInstrument] (instrument when `instruments` is True, or when it is
    None and the bill reads as an AI bill), or [ItemProblem]."""
    item = bundle.item or bundle.listing or {}
    key = f"us-{bundle.congress}-{bundle.bill_type}{bundle.number}"
    url = web_url(bundle.congress, bundle.bill_type, bundle.number) if bundle.bill_type in BILL_TYPES else None
    if bundle.bill_type not in BILL_TYPES:
        return [ItemProblem(f"{key}: unknown bill type {bundle.bill_type!r} (known: {', '.join(BILL_TYPES)})",
                            key, None)]
    try:
        identifier = canonical_identifier(f"{bundle.bill_type} {bundle.number}")
        key = bill_key("us", bundle.congress, identifier)
        origin = _origin(item, bundle.bill_type)
        actions = _actions(bundle, origin)
        bill = ScrapedBill(
            jurisdiction="us", session=bundle.congress, identifier=identifier, title=_title(bundle),
            source_id=SOURCE_ID, source_url=url, fetched_at=fetched_at, kind=BILL_TYPES[bundle.bill_type][0],
            origin_chamber=origin, actions=actions, sponsors=_sponsors(bundle), versions=_versions(bundle),
            chapter=_law_number(item), summary=_summary(bundle), introduced_on=_date(item.get("introducedDate")),
            source_flags={"laws": "; ".join(f"{law.get('type', 'Public Law')} {law.get('number')}"
                                            for law in item.get("laws") or [])} if item.get("laws") else {},
            raw=_raw(bundle),
            # Without an actions response only `latestAction` is known: a line to add, not a history.
            history=HISTORY_COMPLETE if (bundle.subs.get("actions") or {}).get("actions") is not None
            else HISTORY_CURRENT_ONLY,
        )
    except (ValueError, IdentifierError) as exc:
        return [ItemProblem(f"{key}: {exc}", key, url)]
    if not bill.title:
        # Congress.gov lists a bill introduced that day with an empty title until one is assigned.
        return [ItemProblem(f"{key}: missing field 'title' (empty until Congress.gov assigns one); skipped",
                            key, url)]
    texts = _texts(bundle, bill)
    wanted = instruments if instruments is not None else is_ai_text(" ".join(texts.values()))
    if not wanted:
        return [bill]
    status = normalize_bill(bill).status.status
    instrument = ScrapedInstrument(
        key=key, kind="federal_bill", title=bill.title, source_id=SOURCE_ID, source_url=url, fetched_at=fetched_at,
        instrument_status=INSTRUMENT_STATUS.get(str(status)) if status else None,
        stage="listed" if bundle.item is None else None, summary=bill.summary, bill_key=key,
        signed_on=next((a.date for a in actions if a.text.startswith("Signed by President")), None),
        texts=texts, raw={"bill_status": str(status) if status else "", "updateDate": bill.raw.get("updateDate", "")},
    )
    return [bill, instrument]


# Bill status -> instrument status (DOMAIN.md §5 vocabulary).
INSTRUMENT_STATUS = {"introduced": "introduced", "in_committee": "introduced", "passed_committee": "introduced",
                     "passed_origin": "passed_chamber", "passed_second": "passed_chamber",
                     "to_governor": "passed_chamber", "vetoed": "passed_chamber", "enacted": "enacted",
                     "adopted": "passed_chamber", "failed": "withdrawn"}


def _origin(item: dict, bill_type: str) -> str:
    chamber = (item.get("originChamber") or "").lower()
    if chamber in ("house", "senate"):
        return Chamber.LOWER if chamber == "house" else Chamber.UPPER
    return Chamber.UPPER if bill_type.startswith("S") else Chamber.LOWER


def _title(bundle: Bundle) -> str:
    item = bundle.item or bundle.listing or {}
    title = " ".join(str(item.get("title") or "").split())
    if title:
        return title
    for entry in (bundle.subs.get("titles") or {}).get("titles") or []:
        if entry.get("titleType") == "Display Title" and entry.get("title"):
            return " ".join(entry["title"].split())
    return ""


def _date(value) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


def _actor(action: dict) -> str | None:
    text = action.get("text") or ""
    kind = action.get("type") or ""
    if kind in ("President", "BecameLaw", "Veto") or re.search(r"\b(?:to|by) President\b|Public Law", text):
        return Chamber.EXECUTIVE
    system = action.get("sourceSystem") or {}
    name = str(system.get("name") or "")
    if name.startswith("House") or system.get("code") in (1, 2):
        return Chamber.LOWER
    if name == "Senate" or system.get("code") == 0:
        return Chamber.UPPER
    code = str(action.get("actionCode") or "")
    if code.isdigit():  # Library of Congress milestones: 1000-9999 House, 10000-18999 Senate
        number = int(code)
        if 1000 <= number < 10000:
            return Chamber.LOWER
        if 10000 <= number < 19000:
            return Chamber.UPPER
    if re.search(r"\b(?:in|to) (?:the )?House\b|^House\b", text):
        return Chamber.LOWER
    if re.search(r"\b(?:in|to) (?:the )?Senate\b|^Senate\b", text):
        return Chamber.UPPER
    return None


def _actions(bundle: Bundle, origin: str) -> list[ScrapedAction]:
    listed = (bundle.subs.get("actions") or {}).get("actions")
    source = listed
    if listed is None:  # no actions response: the latest action is all we know
        latest = (bundle.item or bundle.listing or {}).get("latestAction")
        source = [latest] if isinstance(latest, dict) and latest.get("text") else []
    actions = []
    for entry in reversed(source):  # the API lists newest first; the status engine reads oldest first
        text = " ".join(str(entry.get("text") or "").split())
        if not text:
            continue  # the legacy feed has empty placeholder actions
        raw_date = str(entry.get("actionDate") or "")
        try:
            when = date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            raise ValueError(f"unreadable action date {raw_date!r} for {text[:60]!r}") from None
        hints = tuple(h for h in (entry.get("type"), f"code:{entry['actionCode']}" if entry.get("actionCode") else None,
                                  f"source:{(entry.get('sourceSystem') or {}).get('code')}"
                                  if entry.get("sourceSystem") else None) if h)
        actions.append(ScrapedAction(when, text, raw_date, _actor(entry), hints))
    item = bundle.item or {}
    laws = item.get("laws") or []
    if laws and not any(a.text.startswith(("Became Public Law", "Became Private Law")) for a in actions):
        latest = item.get("latestAction") or {}
        when = _date(latest.get("actionDate")) if str(latest.get("text", "")).startswith("Became") else None
        law = laws[0]
        kind = "Private Law" if "private" in str(law.get("type", "")).lower() else "Public Law"
        actions.append(ScrapedAction(when, f"Became {kind} No: {law.get('number')}.", str(when or ""),
                                     Chamber.EXECUTIVE, ("laws[]",)))
    return actions


def _law_number(item: dict) -> str | None:
    laws = item.get("laws") or []
    return str(laws[0].get("number")) if laws and laws[0].get("number") else None


def _sponsors(bundle: Bundle) -> list[ScrapedSponsor]:
    item = bundle.item or {}
    sponsors = [ScrapedSponsor(s.get("fullName") or s.get("lastName") or "?", True, s.get("bioguideId"))
                for s in item.get("sponsors") or []]
    for cosponsor in (bundle.subs.get("cosponsors") or {}).get("cosponsors") or []:
        if cosponsor.get("sponsorshipWithdrawnDate"):
            continue
        sponsors.append(ScrapedSponsor(cosponsor.get("fullName") or "?", False, cosponsor.get("bioguideId")))
    return sponsors


def _versions(bundle: Bundle) -> list[ScrapedVersion]:
    versions = []
    for entry in reversed((bundle.subs.get("text") or {}).get("textVersions") or []):
        formats = {f.get("type"): f.get("url") for f in entry.get("formats") or []}
        url = formats.get("Formatted Text") or formats.get("PDF") or next(iter(formats.values()), None)
        versions.append(ScrapedVersion(entry.get("type") or "text", _date(entry.get("date")), url))
    return versions


def _summary(bundle: Bundle) -> str | None:
    summaries = (bundle.subs.get("summaries") or {}).get("summaries") or []
    if not summaries:
        return None
    latest = max(summaries, key=lambda s: (str(s.get("actionDate") or ""), str(s.get("updateDate") or "")))
    text = " ".join(_TAG.sub(" ", str(latest.get("text") or "")).split())
    return text or None


def _subjects(bundle: Bundle) -> list[str]:
    subjects = (bundle.subs.get("subjects") or {}).get("subjects") or {}
    names = [s.get("name") for s in subjects.get("legislativeSubjects") or [] if s.get("name")]
    area = (subjects.get("policyArea") or (bundle.item or {}).get("policyArea") or {}).get("name")
    return names + ([area] if area else [])


def _counts(item: dict) -> dict[str, int]:
    return {name: value["count"] for name, value in item.items() if isinstance(value, dict) and "count" in value}


def _raw(bundle: Bundle) -> dict[str, str]:
    item = bundle.item or bundle.listing or {}
    latest = item.get("latestAction") or {}
    raw = {
        "congress": bundle.congress, "type": bundle.bill_type, "number": bundle.number,
        "updateDate": str(item.get("updateDate") or ""),
        "updateDateIncludingText": str(item.get("updateDateIncludingText") or ""),
        "latestAction": json.dumps({"actionDate": latest.get("actionDate"), "text": latest.get("text")}),
        "counts": json.dumps(_counts(item), sort_keys=True),
        "subjects": json.dumps(_subjects(bundle)),
        "record": "item" if bundle.item is not None else "listing",
        "api_shape": "2022-beta" if bundle.old_shape else "v3",
    }
    if item.get("laws"):
        raw["laws"] = json.dumps(item["laws"])
    return raw


def _texts(bundle: Bundle, bill: ScrapedBill) -> dict[str, str]:
    titles = [t.get("title") for t in (bundle.subs.get("titles") or {}).get("titles") or [] if t.get("title")]
    texts = {"title": bill.title, "titles": " | ".join(dict.fromkeys(titles)), "summary": bill.summary or "",
             "subjects": "; ".join(_subjects(bundle))}
    return {k: v for k, v in texts.items() if v}


# --- The source -------------------------------------------------------------------------------------

class BudgetSpent(RuntimeError):
    pass


class _Client:
    """Adds the key to every request, counts requests against the run's budget, and keeps the key out
    of every error message."""

    def __init__(self, fetcher: Fetcher, api_key: str, budget: int):
        self.fetcher, self.api_key, self.budget, self.used = fetcher, api_key, budget, 0

    def get(self, url: str) -> Body:
        if self.used >= self.budget:
            raise BudgetSpent(f"request budget of {self.budget} spent (TRACKER_CONGRESS_MAX_REQUESTS)")
        self.used += 1
        shown = json_url(url)
        response = self.fetcher.get_text(shown, lambda b: b.decode("utf-8", "replace"),
                                         secret_params={"api_key": self.api_key})
        return Body(shown, response.text, shown)


class CongressGov(Source):
    id = SOURCE_ID
    title = "Congress.gov API v3 (federal AI bills)"
    jurisdiction = "us"
    transport: httpx.BaseTransport | None = None  # tests replace the network here

    def read_path(self, path: Path, *, fetched_at: datetime | None = None, session: str | None = None) -> Batch:
        """PATH is a saved response (.json), a vcrpy cassette (.yaml) or a folder of them."""
        when = fetched_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return Batch(target=str(path), items=parse_bodies(read_bodies(path), fetched_at=when))

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        congress = settings.congress_number
        if settings.congress_api_key is None:
            yield Batch(target=f"{API}/bill/{congress}", error="no Congress.gov API key: set CONGRESS_API_KEY "
                        "(or TRACKER_CONGRESS_API_KEY); a free key comes from https://api.congress.gov/sign-up/")
            return
        if fetcher.settings.http_cache or self.transport is not None:
            # A Fetcher of our own without the HTTP cache (tracker.http sends keyed requests uncached anyway).
            with fetcher.keyed(transport=self.transport) as own:
                yield from self._fetch(own, settings)
            return
        yield from self._fetch(fetcher, settings)

    def _fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        congress = settings.congress_number
        client = _Client(fetcher, settings.congress_api_key.get_secret_value(), settings.congress_max_requests)
        cursor_key = f"bills-{congress}-updated"
        stored_cursor = read_cursor(settings, SOURCE_ID, cursor_key)
        start = (_parse_time(stored_cursor) - OVERLAP) if stored_cursor else datetime.combine(
            settings.federal_start_date, datetime.min.time(), UTC)
        watched, stored_raw = _tracked_bills(settings, congress)
        url: str | None = list_url(congress, start)
        while url:
            items: list[ParsedItem] = []
            try:
                page = client.get(url)
            except (FetchError, BudgetSpent) as exc:
                yield Batch(target=redact(url), error=str(exc))
                return
            role, data, problem = classify_body(page)
            if problem or role != "list":
                yield Batch(target=redact(url), items=[problem or ItemProblem(f"{page.name}: not a bill list", None,
                                                                              redact(url))])
                return
            done_until, stop = None, False
            for entry in data["bills"]:
                ref = _entry_ref(entry)
                if ref is None:
                    items.append(ItemProblem("list entry without congress, type or number", None, redact(url)))
                    continue
                key = f"us-{ref[0]}-{ref[1]}{ref[2]}"
                if (is_ai_text(entry.get("title")) or key in watched) and _changed(entry, stored_raw.get(key)):
                    try:
                        items += self._bill(client, entry, ref)
                    except BudgetSpent as exc:
                        items.append(ItemProblem(f"{exc}; {key} and later bills wait for the next run", key,
                                                 web_url(*ref) if ref[1] in BILL_TYPES else None))
                        stop = True
                        break
                done_until = max(done_until or "", str(entry.get("updateDate") or ""))
            if done_until and (not stored_cursor or done_until > stored_cursor):
                items.append(CursorUpdate(SOURCE_ID, cursor_key, done_until))
                stored_cursor = done_until
            changed = any(isinstance(i, (ScrapedBill, ScrapedInstrument)) for i in items)
            if stop and not changed:  # nothing stored before the budget ran out: a failed run, said plainly
                yield Batch(target=redact(url), error=next(i.message for i in reversed(items)
                                                           if isinstance(i, ItemProblem)))
                return
            yield Batch(target=redact(url), items=items, not_modified=not changed)
            next_url = (data.get("pagination") or {}).get("next")
            url = None if stop or not data["bills"] else next_url

    def _bill(self, client: _Client, entry: dict, ref: tuple[str, str, str]) -> list[ParsedItem]:
        """Item plus sub-resources of one listed bill. A failed request is a problem for this bill only."""
        congress, bill_type, number = ref
        base = f"{API}/bill/{congress}/{bill_type.lower()}/{number}"
        try:
            bodies = [client.get(base)]
            for name, list_key in SUBRESOURCES.items():
                bodies.append(_all_pages(client, f"{base}/{name}?limit={PAGE_LIMIT}", list_key))
        except FetchError as exc:
            return [ItemProblem(str(exc), f"us-{congress}-{bill_type}{number}", web_url(*ref))]
        return list(parse_bodies(bodies, fetched_at=datetime.now(UTC), instruments=True))


def _all_pages(client: _Client, url: str, list_key: str) -> Body:
    """A sub-resource longer than one page (H.R. 1 has hundreds of actions): follow `pagination.next`
    and hand the parser one body holding the whole list."""
    first = client.get(url)
    try:
        data = json.loads(first.text)
    except json.JSONDecodeError:
        return first  # the parser records what is wrong with it
    pages = 1
    while isinstance(data, dict) and isinstance(data.get(list_key), list) and pages < 40:
        next_url = (data.get("pagination") or {}).get("next")
        if not next_url:
            break
        following_body = client.get(next_url)
        try:
            following = json.loads(following_body.text)
        except json.JSONDecodeError as exc:
            following = exc
        if not isinstance(following, dict):
            # A later page that is not JSON (cut short, an HTML error page): the list would be partial,
            # and a partial history must never replace a whole one, so the bill waits for the next run.
            shown = following if isinstance(following, Exception) else type(following).__name__
            raise FetchError(f"{redact(next_url)}: page {pages + 1} of {list_key} is not a JSON object "
                             f"({shown}); bill left as stored")
        data[list_key] += following.get(list_key) or []
        data["pagination"] = following.get("pagination") or {}
        pages += 1
    return Body(first.name, json.dumps(data), first.url)


def _changed(entry: dict, raw: dict | None) -> bool:
    """Re-pull a bill only when it is new or its latest action or title moved (updateDate churns)."""
    if not raw:
        return True
    latest = entry.get("latestAction") or {}
    stored = json.loads(raw.get("latestAction") or "{}")
    return (stored.get("actionDate"), stored.get("text")) != (latest.get("actionDate"), latest.get("text"))


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else datetime.combine(
        date.fromisoformat(value), datetime.min.time())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _tracked_bills(settings: Settings, congress: int) -> tuple[set[str], dict[str, dict]]:
    """Bills of this Congress we follow whatever their title: the instrument table's federal bills and
    every bill of ours already stored; with the raw record we stored for each (for change checks)."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.db import get_engine, session_scope
    from tracker.models import Bill, BillSource, FederalInstrument

    prefix = f"us-{congress}-"
    try:
        with session_scope(get_engine(settings.database_url)) as db:
            watched = {k for k in db.execute(select(FederalInstrument.bill_key).where(
                FederalInstrument.bill_key.like(prefix + "%"))).scalars() if k}
            stored = {key: raw for key, raw in db.execute(
                select(Bill.key, BillSource.raw).join(BillSource, BillSource.bill_id == Bill.id)
                .where(Bill.key.like(prefix + "%"), BillSource.source_id == SOURCE_ID))}
    except SQLAlchemyError:
        return set(), {}
    stored = {k: v for k, v in stored.items() if v.get("record") == "item"}
    return watched | set(stored), stored
