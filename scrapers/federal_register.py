"""Federal Register API v1 (no key): presidential documents (executive orders, memoranda,
proclamations...), rules, proposed rules and notices about AI, and the public-inspection desk.

Every response shape of `../shared/fixtures/api/federal_register/` is read:
* search pages `{description, count, total_pages, next_page_url, results: [...]}`; a zero-hit
  search has **no** `results` key (`search-terminal.json`) and is simply empty;
* pages asked with `fields[]`: the EO listing (`executive-order*.json`) carries no `type`, which is
  inferred from `executive_order_number`; a page that leaves `type` out otherwise
  (`significant-1.json`) cannot tell a rule from a notice, so each record is a recorded error;
* single documents (`current-document.json`, `historical-document.json`, `regulatory-document.json`);
* public-inspection documents, single and search (`filed_at`, `filing_type`);
* HTTP 400 bodies `{status, message}` (`invalid-cursor.json`, `fields-unknown.json`): a recorded error;
* facet counts (`facets-subtype-year.json`): no instruments; `parse_facets` reads them.
`executive_order_number` is a string (or null, as on correction documents "C1-..."), and stays one.

Incremental: `conditions[publication_date][gte]` = the last publication date stored (a source
cursor) minus one day of overlap; documents are keyed on `document_number`, so the overlap only
costs "unchanged" rows. `page` stops at 50, so pagination always follows `next_page_url`
(which carries `search_after_cursor`). Public inspection shows an order 1-3 business days before
publication under the same document number; tracker.federal keeps one row and reconciles the two.

Known gap: no real Federal Register capture of an AI executive order exists (EO 14179,
EO 14365; DOMAIN.md §6.3). The parser is built from the 15 real non-AI captures; the two AI orders
are seeded from DOMAIN.md (tracker/data/federal_instruments.csv) until a live run fetches them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker.config import Settings
from tracker.federal import fr_key, is_ai_text, read_cursor, stored_instrument_keys
from tracker.http import Fetcher, FetchError, OfflineError
from tracker.merge import CursorUpdate
from tracker.scraped import ScrapedInstrument

API = "https://www.federalregister.gov/api/v1"
SOURCE_ID = "federal-register"
CURSOR_KEY = "documents-published-on"
# The four document types the API returns, with the codes its `conditions[type][]` filter takes.
DOCUMENT_TYPES = {"Presidential Document": "PRESDOCU", "Rule": "RULE", "Proposed Rule": "PRORULE", "Notice": "NOTICE"}
# Requested explicitly: the default field set leaves out subtype, EO number, signing date and more.
# `subtype`, not `presidential_document_type`, is the field name (DOMAIN.md §6.1).
FIELDS = ("document_number", "type", "subtype", "title", "abstract", "action", "agencies", "citation",
          "publication_date", "signing_date", "effective_on", "executive_order_number",
          "presidential_document_number", "proclamation_number", "disposition_notes", "executive_order_notes",
          "correction_of", "html_url", "json_url", "pdf_url", "raw_text_url", "toc_subject", "toc_doc",
          "excerpts", "docket_ids", "significant")
PER_PAGE = 100
MAX_PAGES = 200  # per search term: 20,000 documents, far above a year of AI documents
MAX_FULL_TEXTS = 25  # full texts of new presidential documents fetched per run, scanned for preemption
OVERLAP = timedelta(days=1)
_TAG = re.compile(r"<[^>]+>")
_CORRECTION_NUMBER = re.compile(r"^C\d+-")


@dataclass
class Page:
    """One parsed response: its instruments and problems, and where the next page is."""

    items: list[ParsedItem] = field(default_factory=list)
    next_url: str | None = None
    count: int | None = None
    shape: str = ""  # search | document | public_inspection | error | facets


def decode(data: bytes) -> str:
    return data.decode("utf-8-sig", errors="replace")


def load_json(text: str, name: str):
    stripped = text.lstrip()
    if stripped[:1] == "<":
        raise SourceFormatError(f"{name}: got HTML/XML where Federal Register JSON was expected")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceFormatError(f"{name}: not JSON ({exc})") from None


def parse_page(text: str, *, name: str, fetched_at: datetime) -> Page:
    """One response body -> Page. A wrong shape is a recorded error for this page, never a crash."""
    try:
        data = load_json(text, name)
    except SourceFormatError as exc:
        return Page([ItemProblem(str(exc), None, name)], shape="error")
    if not isinstance(data, dict):
        return Page([ItemProblem(f"{name}: expected a JSON object, got {type(data).__name__}", None, name)],
                    shape="error")
    if isinstance(data.get("status"), int) and data["status"] >= 400:
        message = data.get("message") or data.get("errors") or "no message"
        return Page([ItemProblem(f"{name}: HTTP {data['status']} from the Federal Register API: {message}",
                                 None, name)], shape="error")
    if "results" in data or ("count" in data and "description" in data):
        return _search_page(data, name, fetched_at)
    if "document_number" in data:
        item = parse_document(data, fetched_at=fetched_at, where=name)
        return Page([item], shape="public_inspection" if "filed_at" in data else "document")
    if data and all(isinstance(v, dict) and "count" in v for v in data.values()):
        return Page(shape="facets")
    keys = ", ".join(sorted(data)[:12]) or "none"
    return Page([ItemProblem(f"{name}: not a Federal Register API response this parser knows "
                             f"(top-level keys: {keys}); an old or changed API shape?", None, name)], shape="error")


def _search_page(data: dict, name: str, fetched_at: datetime) -> Page:
    count = data.get("count")
    results = data.get("results")
    page = Page(next_url=data.get("next_page_url") or None, count=count if isinstance(count, int) else None,
                shape="search")
    if results is None:
        if count not in (0, None):
            page.items.append(ItemProblem(f"{name}: says count {count} but has no results", None, name))
        return page  # zero hits: the API leaves `results` out
    if not isinstance(results, list):
        page.items.append(ItemProblem(f"{name}: `results` is a {type(results).__name__}, expected a list "
                                      "(an old or changed API shape?)", None, name))
        return page
    for index, record in enumerate(results):
        where = f"{name} result {index}"
        if not isinstance(record, dict):
            page.items.append(ItemProblem(f"{where}: not an object", None, name))
            continue
        page.items.append(parse_document(record, fetched_at=fetched_at, where=where))
    if any(isinstance(i, ScrapedInstrument) and i.stage == "public_inspection" for i in page.items):
        page.shape = "public_inspection"
    return page


def parse_document(record: dict, *, fetched_at: datetime, where: str) -> ScrapedInstrument | ItemProblem:
    """One document (search result, detail or public-inspection record) -> ScrapedInstrument."""
    number = _text(record.get("document_number"))
    url = _text(record.get("html_url")) or (f"https://www.federalregister.gov/d/{number}" if number else None)
    if not number:
        return ItemProblem(f"{where}: missing field 'document_number'", None, url)
    title = _text(record.get("title"))
    if not title:
        return ItemProblem(f"{where}: document {number} is missing field 'title'", number, url)
    fr_type = _text(record.get("type"))
    subtype = _text(record.get("subtype"))
    eo_number = record.get("executive_order_number")
    eo = None if eo_number in (None, "") else str(eo_number).strip()
    correction = bool(_CORRECTION_NUMBER.match(number) or record.get("correction_of") or title == "Correction")
    if fr_type is None:
        if "executive_order_number" not in record:
            return ItemProblem(f"{where}: document {number} is missing field 'type' (the page was probably asked "
                               "with fields[] that leave it out); cannot tell a rule from a notice", number, url)
        # An EO listing asked with fields[]=executive_order_number: only presidential documents have one.
        fr_type = "Presidential Document"
        subtype = subtype or ("Correction" if correction and eo is None else "Executive Order")
    if fr_type not in DOCUMENT_TYPES:
        return ItemProblem(f"{where}: document {number} has unknown document type {fr_type!r} "
                           f"(known: {', '.join(DOCUMENT_TYPES)})", number, url)
    if correction and not subtype:
        subtype = "Correction"
    is_order = fr_type == "Presidential Document" and (subtype == "Executive Order" or eo is not None)
    kind = "executive_order" if is_order and not (correction and eo is None) else "fr_document"
    try:
        published = _date(record.get("publication_date"))
        signed = _date(record.get("signing_date"))
        effective = _date(record.get("effective_on"))
        filed = _datetime(record.get("filed_at"))
    except ValueError as exc:
        return ItemProblem(f"{where}: document {number} has an unreadable date ({exc})", number, url)
    stage = "public_inspection" if "filed_at" in record else "published"
    notes = " ".join(filter(None, (_text(record.get("disposition_notes")), _text(record.get("executive_order_notes")))))
    return ScrapedInstrument(
        key=fr_key(number), kind=kind, title=title, source_id=SOURCE_ID, source_url=url, fetched_at=fetched_at,
        instrument_status=_status(fr_type, kind, notes), stage=stage,
        summary=_plain(record.get("abstract")), eo_number=eo, fr_document_number=number,
        fr_citation=_text(record.get("citation")), fr_type=fr_type, fr_subtype=subtype,
        correction_of=_text(record.get("correction_of")),
        signed_on=signed, published_on=published if stage == "published" else None, effective_on=effective,
        public_inspection_at=filed, agencies=_agencies(record),
        texts={name: text for name in ("abstract", "action", "toc_subject", "toc_doc", "excerpts", "subject_1",
                                       "subject_2", "subject_3", "editorial_note")
               if (text := _plain(record.get(name)))} | ({"notes": notes} if notes else {}),
        raw=_raw(record, published if stage == "public_inspection" else None),
    )


def _status(fr_type: str, kind: str, notes: str) -> str:
    if fr_type == "Proposed Rule":
        return "draft"
    if kind == "executive_order" and re.search(r"\bRevoked by\b", notes, re.IGNORECASE):
        return "revoked"
    return "in_force"


def _text(value) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _plain(value) -> str | None:
    if isinstance(value, list):
        value = " … ".join(str(v) for v in value if v)
    text = _text(_TAG.sub("", value) if isinstance(value, str) else value)
    return text


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None


def _datetime(value) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _agencies(record: dict) -> list[str]:
    names = [a.get("name") or a.get("raw_name") for a in record.get("agencies") or [] if isinstance(a, dict)]
    names = [n for n in names if n] or [n for n in record.get("agency_names") or [] if n]
    return names


def _raw(record: dict, scheduled_publication: date | None) -> dict[str, str]:
    """The identifying fields as the API wrote them, as strings; bulky ones (images, dockets) left out."""
    keep = ("document_number", "type", "subtype", "publication_date", "signing_date", "effective_on",
            "executive_order_number", "presidential_document_number", "proclamation_number", "citation",
            "correction_of", "html_url", "json_url", "pdf_url", "raw_text_url", "filed_at", "filing_type",
            "disposition_notes", "significant")
    raw = {key: value if isinstance(value, str) else json.dumps(value)
           for key in keep if (value := record.get(key)) is not None}
    if scheduled_publication:
        raw["scheduled_publication_date"] = scheduled_publication.isoformat()
    return raw


def parse_facets(text: str) -> dict[str, int]:
    """`documents/facets/{facet}` -> {slug: count} (e.g. executive orders per year, to cross-check counts)."""
    data = json.loads(text)
    return {slug: int(entry["count"]) for slug, entry in data.items()}


# --- URLs -------------------------------------------------------------------------------------------

def documents_url(term: str, since: date, fields: tuple[str, ...] = FIELDS) -> str:
    params = [("conditions[term]", term), ("conditions[publication_date][gte]", since.isoformat())]
    params += [("conditions[type][]", code) for code in DOCUMENT_TYPES.values()]
    params += [("fields[]", name) for name in fields]
    params += [("order", "oldest"), ("per_page", str(PER_PAGE))]
    return f"{API}/documents.json?{urlencode(params)}"


def public_inspection_url(now: float | None = None) -> str:
    # The API sends no ETag or Last-Modified; a per-minute cache-buster keeps any cache from
    # answering with yesterday's desk (DOMAIN.md §6.1).
    return f"{API}/public-inspection-documents/current.json?_={int((now or time.time()) // 60)}"


# --- The source -------------------------------------------------------------------------------------

class FederalRegister(Source):
    id = SOURCE_ID
    title = "Federal Register API (executive orders, rules, notices, public inspection)"
    jurisdiction = "us"

    def read_path(self, path: Path, *, fetched_at: datetime | None = None, session: str | None = None) -> Batch:
        """PATH is one saved API response (.json) or a folder of them."""
        files = sorted(p for p in path.iterdir() if p.suffix == ".json") if path.is_dir() else [path]
        if not files:
            raise FileNotFoundError(f"{path}: no .json files")
        items: list[ParsedItem] = []
        for file in files:
            when = fetched_at or datetime.fromtimestamp(file.stat().st_mtime, UTC)
            items += parse_page(decode(file.read_bytes()), name=file.name, fetched_at=when).items
        return Batch(target=str(path), items=items)

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        stored = read_cursor(settings, SOURCE_ID, CURSOR_KEY)
        since = (date.fromisoformat(stored) - OVERLAP) if stored else settings.federal_start_date
        found: dict[str, ScrapedInstrument] = {}
        problems: list[ItemProblem] = []
        fields = FIELDS
        try:
            for term in settings.federal_register_terms:
                fields = self._search(fetcher, term, since, fields, found, problems)
            self._full_texts(fetcher, settings, found, problems)
            self._public_inspection(fetcher, found, problems)
        except OfflineError as exc:  # no network: one clear failure, not an empty run with a problem per term
            yield Batch(target=f"{API}/documents.json", error=str(exc))
            return
        published = [i.published_on for i in found.values() if i.published_on]
        items: list[ParsedItem] = [*found.values(), *problems]
        newest = max(published, default=None)
        if newest and (not stored or newest.isoformat() > stored):
            items.append(CursorUpdate(SOURCE_ID, CURSOR_KEY, newest.isoformat()))
        terms = ", ".join(repr(t) for t in settings.federal_register_terms)
        yield Batch(target=f"{API}/documents.json terms {terms} published since {since.isoformat()} "
                           f"+ public inspection", items=items)

    def _search(self, fetcher: Fetcher, term: str, since: date, fields: tuple[str, ...],
                found: dict[str, ScrapedInstrument], problems: list[ItemProblem]) -> tuple[str, ...]:
        url: str | None = documents_url(term, since, fields)
        pages = retried = 0
        while url and pages < MAX_PAGES:
            try:
                response = fetcher.get_text(url, decode)
            except OfflineError:
                raise
            except FetchError as exc:
                unknown = re.search(r"field '([^']+)' not valid", str(exc))
                if unknown and unknown.group(1) in fields and not retried:
                    # The API refuses the whole query for one retired field: drop it, say so, go on.
                    fields = tuple(f for f in fields if f != unknown.group(1))
                    problems.append(ItemProblem(f"the Federal Register no longer accepts field "
                                                f"{unknown.group(1)!r}; dropped it from the query (update FIELDS)",
                                                None, url))
                    url, retried = documents_url(term, since, fields), 1
                    continue
                problems.append(ItemProblem(f"search {term!r} stopped after {pages} page(s): {exc}", None, url))
                url = None
                break
            page = parse_page(response.text, name=url, fetched_at=response.fetched_at)
            for item in page.items:
                if isinstance(item, ScrapedInstrument):
                    found.setdefault(item.key, item)  # dedupe on document_number across pages and terms
                else:
                    problems.append(item)
            url, pages = page.next_url, pages + 1
        if url:
            problems.append(ItemProblem(f"search {term!r} stopped at the {MAX_PAGES}-page cap; the rest waits "
                                        "for the next run", None, url))
        return fields

    def _full_texts(self, fetcher: Fetcher, settings: Settings, found: dict[str, ScrapedInstrument],
                    problems: list[ItemProblem]) -> None:
        """Presidential documents are scanned in full for preemption language, once (new ones only)."""
        known = stored_instrument_keys(settings, [k for k, i in found.items() if i.fr_type == "Presidential Document"])
        todo = [i for k, i in found.items() if i.fr_type == "Presidential Document" and k not in known
                and i.raw.get("raw_text_url")]
        for item in todo[:MAX_FULL_TEXTS]:
            try:
                item.texts["full_text"] = _TAG.sub(" ", fetcher.get_text(item.raw["raw_text_url"], decode).text)
            except OfflineError:
                raise
            except FetchError as exc:
                problems.append(ItemProblem(f"full text of {item.fr_document_number} not scanned: {exc}",
                                            item.key, item.source_url))
        if len(todo) > MAX_FULL_TEXTS:
            problems.append(ItemProblem(f"{len(todo) - MAX_FULL_TEXTS} presidential document(s) not scanned in "
                                        f"full this run (cap {MAX_FULL_TEXTS}); titles and abstracts were", None))

    def _public_inspection(self, fetcher: Fetcher, found: dict[str, ScrapedInstrument],
                           problems: list[ItemProblem]) -> None:
        url = public_inspection_url()
        try:
            response = fetcher.get_text(url, decode)
        except OfflineError:
            raise
        except FetchError as exc:
            problems.append(ItemProblem(f"public inspection not read: {exc}", None, url))
            return
        for item in parse_page(response.text, name=url, fetched_at=response.fetched_at).items:
            if isinstance(item, ItemProblem):
                problems.append(item)
            elif item.key not in found and is_ai_text(" ".join([item.title, *item.texts.values()])):
                found[item.key] = item

