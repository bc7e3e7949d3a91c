"""Open States / OCD bill records: the JSON that Open States scrapers write and its API serves.

`parse_ocd_bill` reads one bill in the OCD shape (identifier, legislative_session, actions with
organization and classification, sponsorships, versions, sources). Open States' action classes
are kept only as hints (`source_classes`); our own rules classify the raw text.
The recorded files are scrape *output* (../shared/fixtures/states/*/openstates_scrape_json); no
real v3 `/bills` API response has been recorded, so the live API shape is unverified here.

The live source `openstates` (API v3, https://v3.openstates.org/bills, key in the X-API-KEY header)
is built from the documented schema (openstates/api-v3: `api/schemas.py` Bill, `api/bills.py`,
`api/pagination.py`) and this OCD shape. UNVERIFIED against a real response: the first live run
must confirm it; the parser fails loudly (SourceFormatError) when `results` / `pagination` are
missing. Per jurisdiction it asks for bills updated since the last watermark, sorted
`updated_asc`, `per_page=20` (the API maximum), with actions, sponsorships, abstracts, versions and
sources included, at most TRACKER_OPENSTATES_REQUESTS_PER_MINUTE (default 10, the key's limit) and
TRACKER_OPENSTATES_DAILY_BUDGET requests a day.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker import archives
from tracker.calendar import local_date
from tracker.config import Settings
from tracker.http import Fetcher, FetchError, OfflineError, redact
from tracker.merge import UpstreamBill
from tracker.normalize.identifiers import canonical_session, kind_from_identifier
from tracker.scraped import ScrapedAction, ScrapedBill, ScrapedSponsor, ScrapedVersion
from tracker.vocab import BillKind, Chamber

_KINDS = {
    "bill": BillKind.BILL,
    "resolution": BillKind.RESOLUTION,
    "joint resolution": BillKind.JOINT_RESOLUTION,
    "concurrent resolution": BillKind.CONCURRENT_RESOLUTION,
    "constitutional amendment": BillKind.JOINT_RESOLUTION,
    # Memorials (petitions to Congress or an agency) are resolutions: one chamber, or both.
    "memorial": BillKind.RESOLUTION,
    "joint memorial": BillKind.JOINT_RESOLUTION,
    "concurrent memorial": BillKind.CONCURRENT_RESOLUTION,
}
_CHAMBERS = {"upper": Chamber.UPPER, "lower": Chamber.LOWER, "legislature": Chamber.LEGISLATURE,
             "executive": Chamber.EXECUTIVE, "joint": Chamber.CONFERENCE}


def _organization(value) -> str | None:
    """Scrape output writes `~{"classification": "upper"}`; the API writes {"classification": ...}."""
    if isinstance(value, dict):
        return _CHAMBERS.get(value.get("classification"))
    if isinstance(value, str) and value.startswith("~"):
        try:
            return _CHAMBERS.get(json.loads(value[1:]).get("classification"))
        except (json.JSONDecodeError, AttributeError):
            return None
    return None


def _date(raw: str, state: str | None = None) -> date | None:
    """An action date. A timestamp with an offset (UT and NJ write `2026-03-07T06:59:55+00:00`) is read
    as the legislature's local date: that Utah line was written at 23:59 on 2026-03-06 in Salt Lake."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if len(raw) > 10 and state:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return local_date(state, moment) if moment.tzinfo else moment.date()
    return date.fromisoformat(raw[:10])


# Some states name the acting chamber before every line (UT `House/ passed 3rd reading`), where Open
# States' organization is often the other chamber (430 of 436 such UT House lines carry `upper`): the
# text's own owner wins.
_OWNER_PREFIX = re.compile(r"^(House|Senate)\s*/")
_OWNERS = {"house": Chamber.LOWER, "senate": Chamber.UPPER}


def _actor(text: str, organization) -> str | None:
    owner = _OWNER_PREFIX.match(text)
    return _OWNERS[owner.group(1).lower()] if owner else _organization(organization)


def _jurisdiction(data: dict) -> str:
    jurisdiction = data.get("jurisdiction") or {}
    ocd_id = jurisdiction.get("id") or jurisdiction.get("division_id") or data.get("jurisdiction_id") or ""
    match = re.search(r"/(?:state|territory|district):([a-z]{2})", ocd_id)
    if not match:
        raise ValueError(f"no state in jurisdiction {ocd_id!r}")
    return match.group(1)


def parse_ocd_bill(data: dict, *, fetched_at: datetime | None = None, source_id: str = "openstates-json"
                   ) -> ScrapedBill:
    """One OCD bill record -> ScrapedBill. Raises ValueError/KeyError on a record we cannot read."""
    if not isinstance(data, dict) or "identifier" not in data:
        raise ValueError("not an OCD bill record (no identifier)")
    state = _jurisdiction(data)
    session = data.get("legislative_session") or data.get("session")  # scrape output / v3 API
    if isinstance(session, dict):  # some API shapes nest it
        session = session.get("identifier")
    actions = []
    for action in data.get("actions") or []:
        raw_date = action.get("date") or ""
        try:
            when = _date(raw_date, state)
        except ValueError:
            when = None  # kept undated, in its place; the reader adds a note (undated_notes)
        text = (action.get("description") or "").strip()
        actions.append(ScrapedAction(when, text, raw_date,
                                     _actor(text, action.get("organization_id") or action.get("organization")),
                                     tuple(action.get("classification") or ())))
    versions = []
    for version in data.get("versions") or []:
        links = version.get("links") or []
        versions.append(ScrapedVersion(version.get("note") or "", _date(version.get("date") or ""),
                                       links[0].get("url") if links else None))
    sources = data.get("sources") or []
    labels = data.get("classification") or ["bill"]
    kinds = [c for c in labels if c in _KINDS]
    if not kinds:
        raise ValueError(f"classification {labels!r} is not legislation we track")
    identifier = data["identifier"]
    # Some scrapers call every item a bill (Colorado's resolutions are ["bill"]): the letters tell.
    kind = _KINDS[kinds[0]] if kinds[0] != "bill" else BillKind(kind_from_identifier(identifier))
    processed = (data.get("_processing") or {}).get("logs_latest_update") or data.get("updated_at")
    fetched = fetched_at or (datetime.fromisoformat(processed.replace("Z", "+00:00")) if processed
                             else datetime.now(UTC))
    abstracts = data.get("abstracts") or []
    return ScrapedBill(
        jurisdiction=state,
        session=canonical_session(state, str(session or "")),
        identifier=data["identifier"],
        title=(data.get("title") or "").strip(),
        source_id=source_id,
        source_url=data.get("openstates_url") or (sources[0]["url"] if sources else ""),
        fetched_at=fetched,
        kind=kind,
        origin_chamber=_organization(data.get("from_organization")),
        actions=actions,
        sponsors=[ScrapedSponsor(s.get("name", ""), bool(s.get("primary")), _person_id(s))
                  for s in data.get("sponsorships") or [] if s.get("name")],
        versions=versions,
        summary=(abstracts[0].get("abstract") or "").strip() or None if abstracts else None,
        raw={"identifier": data["identifier"], "legislative_session": str(session),
             "classification": data.get("classification"), "extras": data.get("extras") or {}},
    )


def _person_id(sponsorship: dict) -> str | None:
    """The v3 API names the person (`{"id": "ocd-person/..."}`); scrape output has only a name."""
    person = sponsorship.get("person")
    return person.get("id") if isinstance(person, dict) else None


def undated_notes(bill: ScrapedBill, where: str) -> list[ItemProblem]:
    """A note (the bill is stored) for actions whose date is missing or unreadable: they keep their
    place after the dated action before them (tracker.normalize.status.chronological_order)."""
    undated = [a for a in bill.actions if a.date is None]
    if not undated:
        return []
    shown = ", ".join(repr(a.raw_date or "no date") for a in undated[:3])
    return [ItemProblem(f"{where}: {len(undated)} action(s) without a readable date ({shown}); kept undated, "
                        "in the source's order", bill.identifier, bill.source_url, kept=True)]


def _parsed(record: object, where: str, url: str, fetched_at: datetime | None) -> Iterator[ParsedItem]:
    try:
        bill = parse_ocd_bill(record, fetched_at=fetched_at)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        key = record.get("identifier") if isinstance(record, dict) else None
        yield ItemProblem(f"{where}: {exc}", key if isinstance(key, str) else None, url)
        return
    yield bill
    yield from undated_notes(bill, where)


def _records_of(data: object) -> list:
    """A saved file holds one bill, a list of bills, or an API page ({"results": [...]})."""
    if isinstance(data, dict):
        return data["results"] if isinstance(data.get("results"), list) else [data]
    return data if isinstance(data, list) else [data]


def _not_json(name: str, blob: bytes, exc: Exception) -> str:
    """What a file that should be JSON is instead: empty, an HTML page, or cut short."""
    start = blob[:80].decode("utf-8", "replace").strip()
    if not start:
        return f"{name}: empty file where JSON was expected"
    if start.startswith("<"):
        return f"{name}: HTML where JSON was expected (an error page?); starts {start[:40]!r}"
    return f"{name}: not valid JSON, truncated or damaged ({exc})"


def _json_document(name: str, blob: bytes, url: str, fetched_at: datetime | None) -> Iterator[ParsedItem]:
    try:
        data = json.loads(blob.decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        yield ItemProblem(_not_json(name, blob, exc), Path(name).stem, url)
        return
    for number, record in enumerate(_records_of(data), start=1):
        yield from _parsed(record, f"{name} record {number}", url, fetched_at)


def _json_lines(name: str, lines: Iterable[bytes], url: str, fetched_at: datetime | None) -> Iterator[ParsedItem]:
    """One bill per line. A broken line is one problem; the lines around it are still read."""
    number = 0
    try:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8-sig") if number == 1 else line.decode("utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield ItemProblem(f"{name} line {number}: not valid JSON ({exc})", None, url)
                continue
            yield from _parsed(record, f"{name} line {number}", url, fetched_at)
    except (EOFError, OSError, zlib.error, zipfile.BadZipFile) as exc:
        # A truncated or damaged archive: what was read before the damage is kept; the rest is lost
        # from this file only, and the run says so (stored bills are never touched by absence).
        yield ItemProblem(f"{name}: damaged or truncated after line {number} ({type(exc).__name__}: {exc}); "
                          "the records before it were read", None, url)


def _zip_members(path: Path, fetched_at: datetime | None) -> Iterator[ParsedItem]:
    """Every .json / .jsonl member of a zip, read through tracker.archives: an archive over its caps
    (a zip bomb) fails the batch; a damaged or encrypted member is one problem, the others are read."""
    with archives.SafeZip(path, str(path)) as archive:
        for info in archive.members:
            where, url = f"{path.name}/{info.filename}", str(path)
            try:
                if info.filename.endswith((".jsonl", ".ndjson")):
                    with archive.open(info) as handle:
                        yield from _json_lines(where, handle, url, fetched_at)
                elif info.filename.endswith(".json"):
                    yield from _json_document(where, archive.read(info), url, fetched_at)
            except archives.ArchiveTooLarge:
                raise
            except SourceFormatError as exc:
                yield ItemProblem(f"{where}: unreadable zip member ({exc})", None, url)


def read_ocd_path(path: Path, fetched_at: datetime | None) -> Iterator[ParsedItem]:
    """Every bill in a saved file: `.json` (one bill, a list, or an API page), JSON Lines (`.jsonl`,
    `.ndjson`, gzipped or not: a whole session as Open States bulk output), or a `.zip` of either."""
    name = path.name
    if name.endswith(".zip"):
        yield from _zip_members(path, fetched_at)
    elif name.endswith(".json.gz"):
        yield from _json_document(name, archives.gunzip(path.read_bytes(), str(path)), str(path), fetched_at)
    elif name.endswith((".jsonl.gz", ".ndjson.gz")):
        with archives.open_gzip(path) as handle:  # inflated within the caps of tracker.archives
            yield from _json_lines(name, handle, str(path), fetched_at)
    elif name.endswith((".jsonl", ".ndjson")):
        with path.open("rb") as handle:
            yield from _json_lines(name, handle, str(path), fetched_at)
    else:
        yield from _json_document(name, path.read_bytes(), str(path), fetched_at)


def read_ocd_files(paths: list[Path], fetched_at: datetime | None) -> Iterator[ParsedItem]:
    for path in paths:
        yield from read_ocd_path(path, fetched_at)


SAVED_PATTERNS = ("*.json", "*.jsonl", "*.ndjson", "*.jsonl.gz", "*.ndjson.gz", "*.json.gz", "*.zip")


class OpenStatesFiles(Source):
    """Saved OCD bill JSON (Open States scraper output or API pages); file input only: single bill
    files, folders of them, whole sessions as JSON Lines (gzipped or not), and zips of either."""

    id = "openstates-json"
    title = "Open States / OCD bill JSON files (saved scrape output, bulk JSON Lines, API pages)"
    jurisdiction = "*"
    live = False

    def read_path(self, path: Path, *, fetched_at: datetime | None = None, session: str | None = None) -> Batch:
        paths = sorted({p for pattern in SAVED_PATTERNS for p in path.glob(pattern)}) if path.is_dir() else [path]
        if not paths:
            raise FileNotFoundError(f"{path}: no .json, .jsonl(.gz) or .zip files")
        return Batch(target=str(path), items=read_ocd_files(paths, fetched_at))

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        raise SourceFormatError(f"{self.id} reads saved files only; use `tracker ingest {self.id} PATH`")


# --- Open States API v3 (live) -----------------------------------------------------------------

API_URL = "https://v3.openstates.org/bills"
API_SOURCE_ID = "openstates"
INCLUDES = ("actions", "sponsorships", "abstracts", "versions", "sources")
PER_PAGE = 20  # the API's maximum for /bills


def ocd_jurisdiction(state: str) -> str:
    """`va` -> `ocd-jurisdiction/country:us/state:va/government` (DC is a district, PR a territory)."""
    state = state.strip().lower()
    if not re.fullmatch(r"[a-z]{2}", state):
        raise ValueError(f"not a two-letter state: {state!r}")
    division = {"dc": "district", "pr": "territory"}.get(state, "state")
    return f"ocd-jurisdiction/country:us/{division}:{state}/government"


def bills_url(state: str, updated_since: str, page: int, query: str = "") -> str:
    params = [("jurisdiction", ocd_jurisdiction(state)), ("updated_since", updated_since),
              ("sort", "updated_asc"), ("per_page", str(PER_PAGE)), ("page", str(page))]
    params += [("include", name) for name in INCLUDES]
    if query:
        params.append(("q", query))
    return f"{API_URL}?{urlencode(params)}"


@dataclass(frozen=True)
class BillsPage:
    items: list  # UpstreamBill | ItemProblem
    page: int
    max_page: int
    total_items: int
    latest_update: str | None  # the largest updated_at on the page (ISO), for the watermark


def parse_v3_bill(data: dict, *, fetched_at: datetime) -> UpstreamBill:
    """One v3 /bills result -> UpstreamBill (the OCD parse plus the Open States bill id)."""
    bill = parse_ocd_bill(data, fetched_at=fetched_at, source_id=API_SOURCE_ID)
    values = {f.name: getattr(bill, f.name) for f in fields(ScrapedBill)}
    return UpstreamBill(**values, upstream_id=data.get("id"),
                        upstream_scope=f"{bill.jurisdiction}-{bill.session}")


def parse_bills_page(data: object, *, fetched_at: datetime, url: str = "") -> BillsPage:
    """A v3 /bills response: {"results": [...], "pagination": {per_page, page, max_page, total_items}}."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), list) \
            or not isinstance(data.get("pagination"), dict):
        found = ", ".join(sorted(data)) if isinstance(data, dict) else type(data).__name__
        raise SourceFormatError(f"{url or 'Open States /bills'}: expected 'results' and 'pagination', "
                                f"found {found}")
    items: list = []
    latest = None
    for record in data["results"]:
        key = record.get("identifier") if isinstance(record, dict) else None
        try:
            bill = parse_v3_bill(record, fetched_at=fetched_at)
            items.append(bill)
            items.extend(undated_notes(bill, f"Open States bill {bill.upstream_id}"))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            bill_id = record.get("id") if isinstance(record, dict) else "?"
            message = f"Open States bill {bill_id}: {type(exc).__name__}: {exc}"
            items.append(ItemProblem(message, key, url or None))
        updated = record.get("updated_at") if isinstance(record, dict) else None
        if isinstance(updated, str) and (latest is None or updated > latest):
            latest = updated
    pagination = data["pagination"]
    try:
        page, max_page = int(pagination["page"]), int(pagination["max_page"])
        total = int(pagination.get("total_items") or 0)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceFormatError(f"{url or 'Open States /bills'}: unreadable pagination ({exc})") from None
    return BillsPage(items, page, max_page, total, latest)


class OpenStatesAPI(Source):
    """Open States API v3, incremental by `updated_since` per jurisdiction. Live shape unverified."""

    id = API_SOURCE_ID
    title = "Open States API v3 /bills (alternative multi-state source; live shape unverified)"
    jurisdiction = "*"

    def __init__(self, transport: httpx.BaseTransport | None = None, clock=lambda: datetime.now(UTC)):
        self.transport, self.clock = transport, clock  # tests hand in a mock transport and a clock

    def read_path(self, path: Path, *, fetched_at: datetime | None = None, session: str | None = None) -> Batch:
        """Saved /bills pages (or single bills) as JSON."""
        paths = sorted(path.glob("*.json")) if path.is_dir() else [path]
        if not paths:
            raise FileNotFoundError(f"{path}: no .json files")
        fetched = fetched_at or datetime.fromtimestamp(paths[0].stat().st_mtime, UTC)

        def items():
            for file in paths:
                blob = file.read_bytes()
                try:
                    data = json.loads(blob.decode("utf-8-sig"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    # A saved page that is not JSON is a broken download: the batch fails, nothing stored
                    # changes (a page of bills cannot be told apart from a bill that fails alone).
                    raise SourceFormatError(_not_json(str(file), blob, exc)) from None
                if isinstance(data, dict) and "pagination" in data:
                    yield from parse_bills_page(data, fetched_at=fetched, url=str(file)).items
                    continue
                try:
                    yield parse_v3_bill(data, fetched_at=fetched)
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    key = data.get("identifier") if isinstance(data, dict) else None
                    yield ItemProblem(f"{file.name}: {type(exc).__name__}: {exc}",
                                      key if isinstance(key, str) else None, str(file))
        return Batch(target=str(path), items=items())

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        if settings.openstates_api_key is None:
            yield Batch(target=API_URL, error="TRACKER_OPENSTATES_API_KEY is not set (free key: "
                                              "https://open.pluralpolicy.com); no request sent")
            return
        if not settings.openstates_jurisdictions:
            yield Batch(target=API_URL,
                        error="TRACKER_OPENSTATES_JURISDICTIONS is empty: name the states to poll")
            return
        from tracker.budget import QueryBudget
        from tracker.db import get_engine

        key = settings.openstates_api_key.get_secret_value()
        engine = get_engine(settings.database_url)
        budget = QueryBudget(engine, self.id, settings.openstates_daily_budget, per="day", clock=self.clock)
        # A Fetcher of its own: no HTTP cache (it would keep the key header) and its own rate limit; the
        # key is a secret header, which tracker.http keeps out of errors, logs and recordings.
        own = fetcher.keyed(transport=self.transport, secret_headers={"X-API-KEY": key},
                            requests_per_minute=settings.openstates_requests_per_minute)
        with own:
            for state in settings.openstates_jurisdictions:
                batches, stop = self._poll(own, budget, engine, settings, state.strip().lower(), key)
                yield from batches
                if stop:  # budget spent or key refused: the other jurisdictions wait for tomorrow
                    return

    def _poll(self, fetcher: Fetcher, budget, engine, settings: Settings, state: str, key: str
              ) -> tuple[list[Batch], bool]:
        from tracker.budget import BudgetExhausted
        from tracker.db import session_scope
        from tracker.merge import CursorUpdate
        from tracker.storage import get_cursor

        cursor_key = f"updated_since:{state}"
        with session_scope(engine) as db:
            since = get_cursor(db, self.id, cursor_key) or settings.openstates_updated_since.isoformat()
        items: list = []
        latest, page, max_page, error, stop = None, 1, 1, None, False
        first_url = bills_url(state, since, 1, settings.openstates_query)
        while page <= max_page:
            url = bills_url(state, since, page, settings.openstates_query)
            try:
                budget.spend(1)
                body, _ = fetcher.get_bytes(url)
                result = parse_bills_page(_json(body, url), fetched_at=self.clock(), url=url)
            except (BudgetExhausted, FetchError, SourceFormatError) as exc:
                error = f"{state}: {redact(str(exc))}"
                stop = isinstance(exc, (BudgetExhausted, OfflineError))  # offline: the other states too
                if isinstance(exc, FetchError) and re.search(r"HTTP (401|403|429)\b", str(exc)):
                    # Still refused after the retries (Retry-After honoured): the key is spent or
                    # refused for today; later runs today send nothing.
                    budget.block(error)
                    stop = True
                break
            items.extend(result.items)
            latest = max(filter(None, (latest, result.latest_update)), default=None)
            max_page = result.max_page
            page += 1
        if latest:
            # The API compares updated_since as text against updated_at: a date keeps the whole
            # day (a later page or an update mid-run is fetched again and found unchanged).
            items.append(CursorUpdate(self.id, cursor_key, latest[:10]))
        target = f"{first_url} ({page - 1} page(s))"
        batches = []
        if items:
            batches.append(Batch(target=target, items=items))
        elif error is None:
            batches.append(Batch(target=target, items=[], not_modified=True))  # nothing updated since
        if error:
            batches.append(Batch(target=target, error=error))
        return batches, stop


def _json(body: bytes, url: str):
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        start = body[:80].decode("utf-8", "replace").strip()
        raise SourceFormatError(f"{url}: not JSON ({exc}); starts {start!r}") from None
