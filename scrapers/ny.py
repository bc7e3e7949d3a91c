"""New York: two sources over the same legislature.

* `ny-openleg`: the Senate's Open Legislation API v3 (needs a free key). The bill listing
  `/api/3/bills/{year}?limit=1000&offset=n&full=true` pages through a whole session; every item is a
  full bill record (basePrintNo, session, title, status, actions.items[{date, chamber, text}],
  amendments, signed, vetoed...). Only a single-bill response is recorded in ../shared; the list
  envelope (success, total, offsetStart, offsetEnd, result.items) is taken from OpenLeg's API docs.
* `ny-lbdc`: keyless pages of the Legislative Bill Drafting Commission's public site
  (`public.leginfo.state.ny.us/navigate.cgi`, the URL the NY Senate's own spot-check scraper used to
  record the pages in ../shared) and BILLSTAT XML feed records. LBDC has no keyless bulk list, so the
  live fetch reads only the bills it is told about (setting `ny_lbdc_bills`).

NY facts every parser shares: sessions are two years and named by the odd start year; identifiers
are the base print number (S6169-B is bill S 6169, version B); Senate action lines are UPPERCASE and
Assembly lines lowercase, which resolves the actor when the source gives no chamber.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
from bs4 import BeautifulSoup, NavigableString, Tag

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker import archives
from tracker.config import Settings
from tracker.http import Fetcher, FetchError, OfflineError, redact
from tracker.normalize.identifiers import IdentifierError, canonical_identifier, canonical_session
from tracker.scraped import ScrapedAction, ScrapedBill, ScrapedSponsor, ScrapedVersion
from tracker import textdecode
from tracker.vocab import BillKind, Chamber

OPENLEG_BILLS = "https://legislation.nysenate.gov/api/3/bills"
OPENLEG_PAGE_SIZE = 1000
LBDC_BILL_URL = ("http://public.leginfo.state.ny.us/navigate.cgi?NVDTO:=&QUERYDATA={print_no}"
                 "&QUERYTYPE=BILLNO&SESSYR={year}&CBSTATUS=Y&CBSUMMARY=Y")
# Print-number letter -> (origin chamber, kind). OpenLeg's BillType: S/A bills; J, R, K, E one-house
# resolutions; B, C concurrent resolutions; L joint resolutions.
BILL_TYPES = {
    "S": (Chamber.UPPER, BillKind.BILL), "A": (Chamber.LOWER, BillKind.BILL),
    "J": (Chamber.UPPER, BillKind.RESOLUTION), "R": (Chamber.UPPER, BillKind.RESOLUTION),
    "B": (Chamber.UPPER, BillKind.CONCURRENT_RESOLUTION),
    "K": (Chamber.LOWER, BillKind.RESOLUTION), "E": (Chamber.LOWER, BillKind.RESOLUTION),
    "C": (Chamber.LOWER, BillKind.CONCURRENT_RESOLUTION), "L": (Chamber.LOWER, BillKind.JOINT_RESOLUTION),
}
CHAMBERS = {"SENATE": Chamber.UPPER, "ASSEMBLY": Chamber.LOWER}
# The Governor's own acts; the chamber that keeps the bill's record writes them, in its case.
GOVERNOR_ACTS = re.compile(r"(signed chap|approval memo|line (item )?veto|vetoed? memo|pocket veto)", re.I)
# OpenLeg's status.statusType -> our ladder, to cross-check what we derive (never used as our status).
OPENLEG_STATUS = {
    "INTRODUCED": "introduced", "IN_SENATE_COMM": "in_committee", "IN_ASSEMBLY_COMM": "in_committee",
    "SENATE_FLOOR": "passed_committee", "ASSEMBLY_FLOOR": "passed_committee",
    "DELIVERED_TO_GOV": "to_governor", "SIGNED_BY_GOV": "enacted", "POCKET_APPROVAL": "enacted",
    "VETOED": "vetoed", "STRICKEN": "failed", "LOST": "failed", "SUBSTITUTED": "failed", "ADOPTED": "adopted",
}
_PRINT_NO = re.compile(r"^\s*([A-Za-z])[\s.]*0*(\d+)(?:\s*-?\s*([A-Za-z]))?\s*$")
_LBDC_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{2}$")


# --- Shared helpers --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrintNo:
    prefix: str  # S, A, J...
    number: int
    version: str = ""  # amendment letter, "" for the original print

    @property
    def base(self) -> str:
        return f"{self.prefix}{self.number}"

    @property
    def identifier(self) -> str:
        return canonical_identifier(self.base)


def split_print_no(raw: str) -> PrintNo:
    """`S6169-B`, `S06169B`, `s5795a`, `A 5934-B` -> PrintNo. Unknown letters are a bad record."""
    match = _PRINT_NO.match((raw or "").replace("\xa0", " "))
    if not match:
        raise ValueError(f"not a New York print number: {raw!r}")
    prefix = match.group(1).upper()
    if prefix not in BILL_TYPES:
        raise ValueError(f"unknown New York bill type {prefix!r} in {raw!r}")
    return PrintNo(prefix, int(match.group(2)), (match.group(3) or "").upper())


def session_start_year(raw: str | int) -> int:
    """Any year of a session -> its odd start year (2024 -> 2023), as OpenLeg and LBDC address it."""
    text = str(raw).strip()
    if not re.fullmatch(r"\d{4}", text):
        raise ValueError(f"not a New York session year: {raw!r} (expected like 2025)")
    return int(canonical_session("ny", text)[:4])


def lbdc_url(year: int, print_no: str) -> str:
    return LBDC_BILL_URL.format(print_no=quote(print_no), year=year)


def ny_actor(text: str, chamber: str | None = None) -> str | None:
    """Who acted: the Governor for signatures and vetoes, else the chamber the source names, else the case."""
    if GOVERNOR_ACTS.match(text):
        return Chamber.EXECUTIVE
    if chamber:
        return CHAMBERS.get(chamber.upper())
    if text.isupper():
        return Chamber.UPPER
    if text.islower():
        return Chamber.LOWER
    return None


def decode(data: bytes) -> str:
    """LBDC pages say UTF-8 but carry stray legacy bytes (the section sign); never fail on them: each
    is read as cp1252 on its own and the rest of the page stays UTF-8 (tracker.textdecode)."""
    return textdecode.decode_text(data)


def _lbdc_date(raw: str, text: str) -> date:
    try:
        return datetime.strptime(raw.strip(), "%m/%d/%y").date()
    except ValueError:
        raise ValueError(f"unreadable action date {raw!r} for {text[:60]!r}") from None


def _versions(print_no: PrintNo, letters: Iterable[str], actions: list[ScrapedAction],
              dates: dict[str, date | None] | None = None) -> list[ScrapedVersion]:
    """The original print plus each amendment letter, dated by the action that printed it
    ("PRINT NUMBER 6169A", "AMENDED ON THIRD READING 5795A")."""
    dates = dict(dates or {})
    printed = re.compile(rf"\b{print_no.prefix}?0*{print_no.number}([A-Z])\s*$", re.I)
    for action in actions:
        match = printed.search(action.text)
        if match:
            dates.setdefault(match.group(1).upper(), action.date)
    if "" not in dates:
        dates[""] = actions[0].date if actions else None
    wanted = {""} | {letter.upper() for letter in letters if letter}
    return [ScrapedVersion(f"{print_no.base}{letter}", dates.get(letter)) for letter in sorted(wanted)]


def _scalar(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# --- Open Legislation API v3 -----------------------------------------------------------------


class OpenLegApiError(RuntimeError):
    """OpenLeg answered `success: false` (bad key, unknown session...); its message says why."""


@dataclass(frozen=True, slots=True)
class OpenLegPage:
    items: list
    offset_end: int
    total: int


def openleg_list_url(year: int, offset: int) -> str:
    """The session listing as we show and store it; the key is added per request (secret_params)."""
    return (f"{OPENLEG_BILLS}/{year}?limit={OPENLEG_PAGE_SIZE}&offset={offset}&full=true"
            "&sort=publishedDateTime:ASC")


def openleg_bill_url(year: int, base_print_no: str) -> str:
    return f"{OPENLEG_BILLS}/{year}/{base_print_no}"


def _json_object(text: str, name: str) -> dict:
    if text.lstrip()[:1] == "<":
        raise SourceFormatError(f"{name}: got HTML/XML where OpenLeg JSON was expected")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceFormatError(f"{name}: not valid JSON (truncated?): {exc}") from None
    if not isinstance(data, dict):
        raise SourceFormatError(f"{name}: expected a JSON object, got {type(data).__name__}")
    if data.get("success") is False:
        raise OpenLegApiError(f"{name}: OpenLeg said: {data.get('message') or 'success=false, no message'}")
    return data


def read_openleg_page(text: str, *, name: str) -> OpenLegPage:
    """One page of `/api/3/bills/{year}` -> its items and where the listing stands."""
    data = _json_object(text, name)
    result = data.get("result")
    items = result.get("items") if isinstance(result, dict) else None
    if not isinstance(items, list):
        raise SourceFormatError(f"{name}: no result.items list (keys: {', '.join(data) or 'none'})")
    try:
        return OpenLegPage(items, int(data["offsetEnd"]), int(data["total"]))
    except (KeyError, TypeError, ValueError):
        raise SourceFormatError(f"{name}: missing or unreadable offsetEnd/total for paging") from None


def _bill_record(item) -> dict:
    """List items are bill records; tolerate a {"result": bill} wrapper (search responses use one)."""
    if isinstance(item, dict) and "basePrintNo" not in item and isinstance(item.get("result"), dict):
        return item["result"]
    return item


def parse_openleg_bill(data: dict, *, fetched_at: datetime | None = None) -> ScrapedBill:
    """One OpenLeg bill record (or a single-bill response around it) -> ScrapedBill.
    Raises ValueError/KeyError/TypeError on a record we cannot read."""
    bill = _bill_record(data)
    if not isinstance(bill, dict) or "basePrintNo" not in bill:
        raise ValueError("not an OpenLeg bill record (no basePrintNo)")
    print_no = split_print_no(bill["basePrintNo"])
    year = session_start_year(bill["session"])
    origin, kind = BILL_TYPES[print_no.prefix]
    if (bill.get("billType") or {}).get("resolution") and kind == BillKind.BILL:
        kind = BillKind.RESOLUTION
    actions = []
    items = (bill.get("actions") or {}).get("items") or []
    for item in sorted(items, key=lambda a: a.get("sequenceNo") or 0):
        raw_date, text = item.get("date") or "", " ".join((item.get("text") or "").split())
        try:
            when = date.fromisoformat(raw_date)
        except (TypeError, ValueError):
            raise ValueError(f"unreadable action date {raw_date!r} for {text[:60]!r}") from None
        actions.append(ScrapedAction(when, text, raw_date, ny_actor(text, item.get("chamber"))))
    amendments = (bill.get("amendments") or {}).get("items") or {}
    published = {letter: _iso_date(a.get("publishDate")) for letter, a in amendments.items()}
    active = amendments.get(bill.get("activeVersion") or "", {})
    approval = bill.get("approvalMessage") or {}
    status = bill.get("status") or {}
    substituted = (bill.get("substitutedBy") or {}).get("basePrintNo") or ""
    return ScrapedBill(
        jurisdiction="ny",
        session=canonical_session("ny", str(year)),
        identifier=print_no.identifier,
        title=(bill.get("title") or "").strip(),
        source_id=NewYorkOpenLeg.id,
        source_url=openleg_bill_url(year, print_no.base),
        fetched_at=fetched_at or datetime.now(UTC),
        kind=kind,
        origin_chamber=origin,
        actions=actions,
        sponsors=_openleg_sponsors(bill, active),
        versions=_versions(print_no, amendments, actions, published),
        chapter=str(approval["chapter"]) if approval.get("chapter") else None,
        summary=(bill.get("summary") or "").strip() or None,
        introduced_on=_iso_date(bill.get("publishedDateTime")) or (actions[0].date if actions else None),
        source_flags={
            "signed": _scalar(bool(bill.get("signed"))), "vetoed": _scalar(bool(bill.get("vetoed"))),
            "adopted": _scalar(bool(bill.get("adopted"))), "statusType": status.get("statusType") or "",
            "statusDesc": status.get("statusDesc") or "", "statusDate": status.get("actionDate") or "",
            "substitutedBy": substituted,
        },
        raw={key: _scalar(value) for key, value in bill.items()
             if value is None or isinstance(value, str | int | float | bool)},
    )


def _iso_date(raw) -> date | None:
    try:
        return date.fromisoformat(str(raw)[:10]) if raw else None
    except ValueError:
        return None


def _openleg_sponsors(bill: dict, active: dict) -> list[ScrapedSponsor]:
    def sponsor(member: dict, primary: bool) -> ScrapedSponsor | None:
        name = member.get("fullName") or member.get("shortName")
        person = str(member["memberId"]) if member.get("memberId") else None
        return ScrapedSponsor(name, primary, person) if name else None

    first = sponsor(((bill.get("sponsor") or {}).get("member")) or {}, True)
    sponsors = [first] if first else []
    for group in (active.get("coSponsors"), active.get("multiSponsors"), bill.get("additionalSponsors")):
        for member in (group or {}).get("items") or []:
            other = sponsor(member, False)
            if other and all(s.name != other.name for s in sponsors):
                sponsors.append(other)
    return sponsors


def openleg_status(flags: dict[str, str], origin: str | None) -> str | None:
    """OpenLeg's own status for a bill, on our ladder (for cross-checks only)."""
    status = flags.get("statusType", "")
    if status in ("PASSED_SENATE", "PASSED_ASSEMBLY"):
        chamber = Chamber.UPPER if status == "PASSED_SENATE" else Chamber.LOWER
        return "passed_origin" if chamber == origin else "passed_second"
    return OPENLEG_STATUS.get(status)


def _openleg_items(records: Iterable, fetched_at: datetime, where: str) -> Iterator[ParsedItem]:
    for record in records:
        bill = _bill_record(record)
        key = (bill.get("basePrintNoStr") or bill.get("basePrintNo")) if isinstance(bill, dict) else None
        try:
            yield parse_openleg_bill(bill, fetched_at=fetched_at)
        except (ValueError, KeyError, TypeError, AttributeError, IdentifierError) as exc:
            yield ItemProblem(f"{key or 'OpenLeg record'}: {exc}", key, where)


class NewYorkOpenLeg(Source):
    id = "ny-openleg"
    title = "New York Open Legislation API v3 (NY Senate; free key)"
    jurisdiction = "ny"

    def read_path(self, path: Path, *, fetched_at: datetime | None = None,
                  session: str | None = None) -> Batch:
        """Saved OpenLeg JSON: single-bill responses, bare bill records or listing pages."""
        paths = sorted(path.glob("*.json")) if path.is_dir() else [path]
        if not paths:
            raise FileNotFoundError(f"{path}: no .json files")
        return Batch(target=str(path), items=self._read_files(paths, fetched_at))

    def _read_files(self, paths: list[Path], fetched_at: datetime | None) -> Iterator[ParsedItem]:
        for path in paths:
            fetched = fetched_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
            try:
                data = _json_object(decode(path.read_bytes()), path.name)
            except OpenLegApiError as exc:
                yield ItemProblem(str(exc), path.stem, str(path))
                continue
            result = data.get("result", data)
            records = result["items"] if isinstance(result, dict) and isinstance(result.get("items"), list) \
                else [result]
            yield from _openleg_items(records, fetched, str(path))

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        key = settings.ny_openleg_api_key.get_secret_value().strip() if settings.ny_openleg_api_key else ""
        if not key:
            yield Batch(target=OPENLEG_BILLS, error=(
                "ny-openleg needs an API key: set TRACKER_NY_OPENLEG_API_KEY (free at "
                "legislation.nysenate.gov) or use ny-lbdc, which needs none"))
            return
        # The key goes in `secret_params`: tracker.http keeps it out of the cache, errors and logs.
        try:
            for raw_year in settings.ny_session_years:
                yield from self._fetch_session(fetcher, raw_year, key)
        except OfflineError as exc:  # no network: one line, not one per session
            yield Batch(target=OPENLEG_BILLS, error=str(exc))

    def _fetch_session(self, fetcher: Fetcher, raw_year: str, key: str) -> Iterator[Batch]:
        """One batch per page, so a 25,000-bill session never sits in memory at once."""
        try:
            year = session_start_year(raw_year)
        except ValueError as exc:
            yield Batch(target=f"{OPENLEG_BILLS}/{raw_year}", error=str(exc))
            return
        offset = 1
        while True:
            shown = openleg_list_url(year, offset)
            try:
                fetched = fetcher.get_text(shown, decode, secret_params={"key": key})
                page = read_openleg_page(fetched.text, name=shown)
            except OfflineError:
                raise
            except (FetchError, SourceFormatError, OpenLegApiError) as exc:
                yield Batch(target=shown, error=redact(str(exc)))
                return
            yield Batch(target=shown, items=_openleg_items(page.items, fetched.fetched_at, shown),
                        not_modified=fetched.not_modified)
            if not page.items or page.offset_end >= page.total:
                return
            if page.offset_end < offset:  # the listing went backwards: stop rather than loop
                yield Batch(target=shown, error=f"{shown}: offsetEnd {page.offset_end} is before {offset}")
                return
            offset = page.offset_end + 1


# --- LBDC public bill pages ------------------------------------------------------------------


def parse_lbdc_page(html: str, url: str | None = None, *, fetched_at: datetime | None = None,
                    session: str | int | None = None, name: str | None = None) -> ScrapedBill:
    """One LBDC bill page (navigate.cgi, status section) -> ScrapedBill.
    SourceFormatError when the page is not laid out as we know it; ValueError for a bad record."""
    name = name or url or "LBDC page"
    soup = BeautifulSoup(html, "html.parser")
    heading = soup.find("h2")
    if heading and heading.get_text().strip().startswith("404 - Processing Error"):
        raise SourceFormatError(f"{name}: LBDC answered with its outage page ('404 - Processing Error')")
    contents = soup.find(id="nv_bot_contents")
    if contents is None:
        raise SourceFormatError(f"{name}: not an LBDC bill page (no #nv_bot_contents)")
    not_found = contents.find("font", attrs={"color": "red"})
    if not_found and "Bill Status Information Not Found" in not_found.get_text():
        raise ValueError("LBDC has no bill status information for this bill")
    header = contents.select_one("span.nv_bot_info > strong")
    if header is None:
        raise SourceFormatError(f"{name}: no bill number header (span.nv_bot_info > strong)")
    print_no = split_print_no(header.get_text())
    year = _page_session_year(contents, session)
    text = contents.get_text("\n")
    title = re.search(r"TITLE\.{2,}\s*([^\n]+)", text)
    if not title:
        raise SourceFormatError(f"{name}: no 'TITLE....' line for {print_no.base}")
    table, rows = _action_table(contents, name)
    actions = []
    for raw_date, action_text in rows:
        action_text = " ".join(action_text.split())
        when = _lbdc_date(raw_date, action_text)
        actions.append(ScrapedAction(when, action_text, raw_date, ny_actor(action_text)))
    sponsor = _header_sponsor(header)
    block = _summary_block(table)
    sponsors = [ScrapedSponsor(sponsor)] if sponsor else []
    if block and sponsor and block[0].split(",")[0].strip().upper() == sponsor.upper():
        sponsors += [ScrapedSponsor(n.strip(), False) for n in block[0].split(",")[1:] if n.strip()]
    summary_lines = [line for line in block[2:] if not line.startswith("EFF. DATE")]
    # Only the header links name the chapter; the sponsor memo below may cite other chapters.
    header_text = header.parent.get_text(" ").replace("\xa0", " ")
    chapter = re.search(r"Chapter\s+(\d+)\s+of\s+\d{4}", header_text)
    origin, kind = BILL_TYPES[print_no.prefix]
    letters = [split_print_no(a.get_text()).version for a in _text_version_links(contents)]
    bill_text = lbdc_bill_text(contents)  # last: it removes struck-out text from the page's tree
    return ScrapedBill(
        jurisdiction="ny",
        session=canonical_session("ny", str(year)),
        identifier=print_no.identifier,
        title=title.group(1).strip(),
        source_id=NewYorkLBDC.id,
        source_url=url or lbdc_url(year, print_no.base),
        fetched_at=fetched_at or datetime.now(UTC),
        kind=kind,
        origin_chamber=origin,
        actions=actions,
        sponsors=sponsors,
        versions=_versions(print_no, [*letters, print_no.version], actions),
        chapter=chapter.group(1) if chapter else None,
        summary=" ".join(summary_lines) or None,
        introduced_on=actions[0].date if actions else None,
        raw={"print_no": header.get_text(strip=True), "session_year": str(year),
             "law": block[1] if len(block) >= 3 else "", "title": title.group(1).strip()},
        text=bill_text,
        text_label=f"{print_no.base}{print_no.version}" if bill_text else None,
    )


_LINE_NUMBER = re.compile(r"^\s{0,8}\d{1,3}(?=\s{2})")  # "     1    Section 1. ..." (the page's line numbers)
_WORD_BREAK = re.compile(r"([a-z])-\n\s*([a-z])")  # "commit-" / "tee" across a line end


def lbdc_bill_text(contents: Tag) -> str | None:
    """The bill's full text as the page prints it: the <pre> blocks from "STATE OF NEW YORK" up to the
    sponsor's memo ("BILL NUMBER: ..."), as plain text. Struck-out text (<s>: what an amendment removes)
    is left out; line numbers are dropped and words broken across lines joined. None when the page
    carries no text (the Text box unticked)."""
    blocks = []
    for pre in contents.find_all("pre"):
        start = pre.get_text().strip()
        if start.startswith("BILL NUMBER"):
            break  # the sponsor's memo
        if not blocks and "STATE OF NEW YORK" not in start[:200]:
            continue
        for struck in pre.find_all("s"):
            struck.decompose()
        blocks.append(pre.get_text().replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " "))
    if not blocks:
        return None
    lines = [_LINE_NUMBER.sub("", line).strip() for line in "\n".join(blocks).split("\n")]
    text = _WORD_BREAK.sub(r"\1\2", "\n".join(line for line in lines if line and set(line) != {"_"}))
    return "\n".join(" ".join(line.split()) for line in text.split("\n")) or None


def _page_session_year(contents: Tag, given: str | int | None) -> int:
    """The page names its session only inside its javascript links (text versions, voting)."""
    for link in contents.find_all("a", href=True):
        match = re.search(r'(?:"bstframe","SPECIAL"|getAction\("NVDTO","[A-Z]+"),(\d{4}),', link["href"])
        if match:
            year = session_start_year(match.group(1))
            if given is not None and session_start_year(given) != year:
                raise ValueError(f"page is for the {year} session, not {given}")
            return year
    if given is None:
        raise ValueError("the page does not name its session; pass the session year")
    return session_start_year(given)


def _action_table(contents: Tag, name: str) -> tuple[Tag, list[tuple[str, str]]]:
    """The first table whose rows are (date, action) pairs. Finding none is a layout change."""
    for table in contents.find_all("table"):
        rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td", recursive=False)]
                for tr in table.find_all("tr")]
        rows = [row for row in rows if row]
        if not any(len(row) == 2 and _LBDC_DATE.match(row[0]) for row in rows):
            continue
        odd = [row for row in rows if len(row) != 2]
        if odd:
            raise SourceFormatError(f"{name}: action table row with {len(odd[0])} cells: {odd[0]!r}")
        return table, [(row[0], row[1]) for row in rows]
    raise SourceFormatError(f"{name}: no action table (rows of <td>date</td><td>action</td>); "
                            "the LBDC layout may have changed")


def _header_sponsor(header: Tag) -> str | None:
    after = header.next_sibling
    if not isinstance(after, NavigableString):
        return None
    name = str(after).replace("\xa0", " ").split("Same as")[0].strip()
    return name or None


def _text_version_links(contents: Tag) -> list[Tag]:
    for span in contents.select("span.nv_bot_info"):
        if "Text Versions" in span.get_text():
            return [a for a in span.find_all("a") if _PRINT_NO.match(a.get_text().replace("\xa0", " "))]
    return []


def _summary_block(table: Tag) -> list[str]:
    """Lines between the two rules after the action table: sponsors, law, summary, effective date."""
    rule = table.find_next("hr")
    lines, current = [], []
    for node in rule.next_siblings if rule else []:
        if isinstance(node, Tag) and node.name == "hr":
            break
        if isinstance(node, Tag) and node.name == "br":
            lines.append(" ".join(current))
            current = []
            continue
        current.append(" ".join((node.get_text(" ") if isinstance(node, Tag) else str(node)).split()))
    lines.append(" ".join(current))
    return [" ".join(line.split()) for line in lines if line.strip()]


# --- LBDC BILLSTAT XML -----------------------------------------------------------------------


def parse_billstat(xml: str | bytes, *, fetched_at: datetime | None = None,
                   source_url: str | None = None, name: str = "BILLSTAT record") -> ScrapedBill:
    """One `<billstatus sessyr billhse billno>` record -> ScrapedBill. The CDATA `<billactions>` lines
    are the history (the same lines the bill page shows); the structured `<action>` elements give the
    acting house for each numbered line."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if not data.strip():
        raise SourceFormatError(f"{name}: empty file where BILLSTAT XML was expected")
    head = data.lstrip()[:100].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise SourceFormatError(f"{name}: got an HTML page where BILLSTAT XML was expected")
    root = archives.parse_xml(data, name)  # defusedxml: a DTD (BILLSTAT never carries one) is refused
    if root.tag != "billstatus":
        raise SourceFormatError(f"{name}: expected a <billstatus> record, found <{root.tag}>")
    missing = [attr for attr in ("sessyr", "billhse", "billno") if not root.get(attr)]
    history = root.find("billactions")
    if missing or history is None:
        raise SourceFormatError(f"{name}: <billstatus> without {', '.join(missing) or '<billactions>'}")
    if (root.get("action") or "replace") != "replace":
        raise ValueError(f"BILLSTAT action={root.get('action')!r} is not a bill record")
    print_no = split_print_no(f"{root.get('billhse')}{root.get('billno')}")
    year = session_start_year(root.get("sessyr"))
    houses = {int(a.get("no")): (_text(a, "actiondesc"), _text(a, "actionhouse"))
              for a in root.iter("action") if (a.get("no") or "").isdigit()}
    actions = []
    for line in (history.text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        raw_date, _, text = line.partition(" ")
        text = " ".join(text.split())
        desc, house = houses.get(len(actions) + 1, ("", ""))
        chamber = {"S": "SENATE", "A": "ASSEMBLY"}.get(house) if desc == text else None
        actions.append(ScrapedAction(_lbdc_date(raw_date, text), text, raw_date, ny_actor(text, chamber)))
    current = _text(root, "currentamd").upper()
    letters = [chr(c) for c in range(ord("A"), ord(current) + 1)] if re.fullmatch(r"[A-Z]", current) else []
    sponsor = _text(root, "sponsor")
    origin, kind = BILL_TYPES[print_no.prefix]
    fields = ("currentamd", "sponsor", "lbdno", "introcomm", "curcomm", "curcommhse", "law", "deadtag")
    return ScrapedBill(
        jurisdiction="ny",
        session=canonical_session("ny", str(year)),
        identifier=print_no.identifier,
        title=_text(root, "title"),
        source_id=NewYorkLBDC.id,
        source_url=source_url or lbdc_url(year, print_no.base),
        fetched_at=fetched_at or datetime.now(UTC),
        kind=kind,
        origin_chamber=origin,
        actions=actions,
        sponsors=[ScrapedSponsor(sponsor)] if sponsor else [],
        versions=_versions(print_no, letters, actions),
        introduced_on=actions[0].date if actions else None,
        source_flags={"deadtag": _text(root, "deadtag")},
        raw={**root.attrib, **{field: _text(root, field) for field in fields}},
    )


def _text(element: ET.Element, child: str) -> str:
    return (element.findtext(child) or "").strip()


# --- The LBDC source -------------------------------------------------------------------------


def parse_bill_spec(spec: str) -> tuple[int, PrintNo]:
    """`2025:S6953` (or `2025:S6953A`) -> (2025, S6953): a watched bill for the LBDC fetch."""
    year, colon, bill = spec.strip().partition(":")
    if not colon:
        raise ValueError(f"bill {spec!r}: expected YEAR:PRINTNO, like 2025:S6953")
    return session_start_year(year), split_print_no(bill)


class NewYorkLBDC(Source):
    id = "ny-lbdc"
    title = "New York LBDC public bill pages and BILLSTAT XML (keyless)"
    jurisdiction = "ny"

    def read_path(self, path: Path, *, fetched_at: datetime | None = None,
                  session: str | None = None) -> Batch:
        """Saved LBDC bill pages (.html/.htm) and BILLSTAT records (.xml), a file or a folder."""
        if path.is_dir():
            paths = sorted(p for p in path.iterdir() if p.suffix.lower() in (".html", ".htm", ".xml"))
        else:
            paths = [path]
        if not paths:
            raise FileNotFoundError(f"{path}: no .html or .xml files")
        return Batch(target=str(path), items=self._read_files(paths, fetched_at, session))

    def _read_files(self, paths: list[Path], fetched_at: datetime | None,
                    session: str | None) -> Iterator[ParsedItem]:
        for path in paths:
            fetched = fetched_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
            data = path.read_bytes()
            try:
                if path.suffix.lower() == ".xml" or data.lstrip()[:11].lower() == b"<billstatus":
                    yield parse_billstat(data, fetched_at=fetched, name=path.name)
                else:
                    yield parse_lbdc_page(decode(data), fetched_at=fetched, session=session, name=path.name)
            except SourceFormatError:
                raise  # a layout change fails the whole batch
            except ValueError as exc:  # IdentifierError too: one bad bill
                yield ItemProblem(f"{path.name}: {exc}", path.stem, str(path))

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        specs = getattr(settings, "ny_lbdc_bills", None) or []
        if isinstance(specs, str):
            specs = [part for part in specs.split(",") if part.strip()]
        if not specs:
            yield Batch(target="http://public.leginfo.state.ny.us/navigate.cgi", error=(
                "ny-lbdc has no keyless list of all bills: it fetches the bills named in "
                "TRACKER_NY_LBDC_BILLS (e.g. 2025:S6953,2025:A6453); for whole sessions use ny-openleg"))
            return
        yield from self.fetch_bills(fetcher, specs)

    def fetch_bills(self, fetcher: Fetcher, specs: list[str]) -> Iterator[Batch]:
        """One batch for the watched bills; a bill that cannot be fetched is a problem, not a failure."""
        pages, problems = [], []
        for spec in specs:
            try:
                year, print_no = parse_bill_spec(spec)
            except ValueError as exc:
                problems.append(ItemProblem(str(exc), spec.strip()))
                continue
            url = lbdc_url(year, print_no.base)
            try:
                if not fetcher.robots_allow(url):  # HTML pages: robots.txt is obeyed, as for every HTML source
                    problems.append(ItemProblem(f"robots.txt of {httpx.URL(url).host} disallows {url}; not fetched",
                                                f"{year}:{print_no.base}", url))
                    continue
                pages.append((year, fetcher.get_text(url, decode)))
            except OfflineError as exc:  # no network: one line, not one per watched bill
                yield Batch(target="LBDC bill pages: " + ", ".join(spec.strip() for spec in specs), error=str(exc))
                return
            except FetchError as exc:
                problems.append(ItemProblem(str(exc), f"{year}:{print_no.base}", url))
        target = "LBDC bill pages: " + ", ".join(spec.strip() for spec in specs)
        if not pages:
            yield Batch(target=target, error="; ".join(p.message for p in problems) or "no bills to fetch")
            return
        not_modified = not problems and all(page.not_modified for _, page in pages)
        yield Batch(target=target, items=self._parse_pages(pages, problems), not_modified=not_modified)

    @staticmethod
    def _parse_pages(pages: list, problems: list[ItemProblem]) -> Iterator[ParsedItem]:
        yield from problems
        for year, page in pages:
            try:
                yield parse_lbdc_page(page.text, page.url, fetched_at=page.fetched_at, session=year)
            except SourceFormatError:
                raise
            except (ValueError, IdentifierError) as exc:
                yield ItemProblem(f"{page.url}: {exc}", None, page.url)
