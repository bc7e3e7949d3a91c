"""Virginia LIS bulk CSV files: Bills.csv (one row per bill) and History.csv (one row per action).

Session codes: LIS numbers sessions `YYN` on legacy LIS (241 = 2024 regular, 242 = 2024
Special Session I) and `YYYYN` on the current LIS blob (20261 = 2026 regular). History lines
start with the actor: `H ` House, `S ` Senate, `G ` Governor, `C ` conference committee.
Bills.csv also publishes LIS's own Passed / Failed / Carried_over / Approved / Vetoed flags; we
keep them as `source_flags` to cross-check our derived status, never as the status itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker import archives
from tracker.config import Settings
from tracker.http import Fetcher, FetchError, OfflineError
from tracker.normalize.identifiers import IdentifierError, canonical_identifier
from tracker.scraped import ScrapedAction, ScrapedBill, ScrapedSponsor, ScrapedVersion
from tracker import textdecode
from tracker.vocab import BillKind, Chamber

BILL_COLUMNS = ("Bill_id", "Bill_description", "Patron_id", "Patron_name", "Introduction_date", "Chapter_id")
FLAG_COLUMNS = ("Passed_house", "Passed_senate", "Passed", "Failed", "Carried_over", "Approved", "Vetoed")
HISTORY_COLUMNS = ("Bill_id", "History_date", "History_description")
ACTORS = {"H": Chamber.LOWER, "S": Chamber.UPPER, "G": Chamber.EXECUTIVE, "C": Chamber.CONFERENCE}
KINDS = {"HB": BillKind.BILL, "SB": BillKind.BILL, "HR": BillKind.RESOLUTION, "SR": BillKind.RESOLUTION,
         "HJ": BillKind.JOINT_RESOLUTION, "SJ": BillKind.JOINT_RESOLUTION}


def session_identifier(code: str) -> str:
    """LIS session code -> our session name: 241 -> 2024, 242 -> 2024S1, 20261 -> 2026."""
    if re.fullmatch(r"\d{3}", code):
        year, number = 2000 + int(code[:2]), int(code[2])
    elif re.fullmatch(r"\d{5}", code):
        year, number = int(code[:4]), int(code[4])
    else:
        raise ValueError(f"not a Virginia LIS session code: {code!r} (expected like 241 or 20261)")
    return str(year) if number == 1 else f"{year}S{number - 1}"


def csv_urls(code: str) -> tuple[str, str]:
    """Official URLs of the Bills and History files for a session code."""
    if len(code) == 3:
        base = f"https://legacylis.virginia.gov/SiteInformation/csv/{code}/"
        return base + "Bills.csv", base + "History.csv"
    base = f"https://lis.blob.core.windows.net/lisfiles/{code}/"
    return base + "BILLS.CSV", base + "HISTORY.CSV"


def decode(data: bytes) -> str:
    """LIS files are UTF-8 with stray Windows-1252 bytes (a bare 0xAE in 2024): only those bytes are
    read as cp1252 (tracker.textdecode). Saved copies may be gzipped (inflated within the caps of
    tracker.archives)."""
    if data[:2] == b"\x1f\x8b":
        data = archives.gunzip(data, "gzip data")
    return textdecode.decode_text(data).replace("\x00", "")  # NUL is never data; PostgreSQL text refuses it


@lru_cache(maxsize=4096)
def parse_date(raw: str) -> date:
    """LIS writes MM/DD/YY."""
    return datetime.strptime(raw.strip(), "%m/%d/%y").date()


def _reader(text: str, required: tuple[str, ...], name: str) -> textdecode.DictRecords:
    """Rows of one file as dicts, or a BadRecord (tracker.textdecode) for a record csv cannot read."""
    if text.lstrip()[:1] == "<":
        raise SourceFormatError(f"{name}: got HTML/XML where a CSV file was expected")
    reader = textdecode.DictRecords(text, name, key="Bill_id")
    missing = [column for column in required if column not in reader.fieldnames]
    if missing:
        found = ", ".join(reader.fieldnames)[:300] or (
            "no header" if text.strip() else "no header: the file is empty")
        raise SourceFormatError(f"{name}: missing column(s) {', '.join(missing)}; found {found}")
    if not text.endswith(("\n", "\r")):
        # LIS files end with a line break; without one the download was cut short, and a
        # History cut short would silently drop a bill's latest actions.
        raise SourceFormatError(f"{name}: file does not end with a line break; it looks truncated")
    return reader


def _unreadable(record: textdecode.BadRecord, into: dict[str, str]) -> None:
    """A record csv could not read (a field over the limit) makes its bill a problem; a record whose
    bill cannot be told fails the file, since some bill would silently lose a line."""
    if not record.key:
        raise record.error("cannot tell which bill it belongs to")
    into.setdefault(record.key, record.message)


def parse_csv_files(bills_csv: str, history_csv: str, *, session_code: str, fetched_at: datetime,
                    source_url: str | None = None) -> Iterator[ParsedItem]:
    """Both files of one session -> one ScrapedBill per bill, or an ItemProblem for a bad record."""
    session = session_identifier(session_code)
    bills_url, history_url = csv_urls(session_code)
    source_url = source_url or bills_url
    history: dict[str, list[dict[str, str]]] = defaultdict(list)
    broken_history = set()
    unreadable: dict[str, str] = {}  # bill id -> why one of its records could not be read
    for row in _reader(history_csv, HISTORY_COLUMNS, "History.csv"):
        if isinstance(row, textdecode.BadRecord):
            _unreadable(row, unreadable)
            continue
        bill_id = (row["Bill_id"] or "").strip()
        if None in row or any(row[c] is None for c in HISTORY_COLUMNS):
            broken_history.add(bill_id)
        history[bill_id].append(row)
    seen: dict[str, dict[str, str]] = {}
    rows = []
    for row in _reader(bills_csv, BILL_COLUMNS + FLAG_COLUMNS, "Bills.csv"):
        if isinstance(row, textdecode.BadRecord):
            _unreadable(row, unreadable)
        else:
            rows.append(row)
    duplicates, short_rows = set(), set()
    for row in rows:
        bill_id = (row["Bill_id"] or "").strip()
        if None in row or None in row.values():  # more or fewer fields than the header
            duplicates.add(bill_id)  # reported below, bill left as stored
            short_rows.add(bill_id)
        if bill_id in seen and seen[bill_id] != row:
            duplicates.add(bill_id)
        seen[bill_id] = row
    for bill_id in unreadable:  # reported below, bill left as stored
        seen.setdefault(bill_id, {})
    for bill_id, row in seen.items():
        if bill_id in unreadable:
            yield ItemProblem(f"{unreadable[bill_id]}; bill left as stored", bill_id, source_url)
            continue
        if bill_id in duplicates:
            why = "a row with the wrong number of fields" if bill_id in short_rows else "conflicting rows"
            yield ItemProblem(f"Bills.csv has {why} for {bill_id}; bill left as stored", bill_id, source_url)
            continue
        if bill_id in broken_history:
            yield ItemProblem(f"History.csv has a row with the wrong number of fields for {bill_id}; "
                              "bill left as stored", bill_id, source_url)
            continue
        try:
            yield _bill(row, history.get(bill_id, []), session, fetched_at, source_url)
        except (ValueError, IdentifierError) as exc:
            yield ItemProblem(f"{bill_id or '(blank Bill_id)'}: {exc}", bill_id or None, source_url)


def _bill(row: dict[str, str], history: list[dict[str, str]], session: str, fetched_at: datetime,
          source_url: str) -> ScrapedBill:
    bill_id = row["Bill_id"].strip()
    identifier = canonical_identifier(bill_id)
    prefix = identifier.split()[0]
    if prefix not in KINDS:
        raise ValueError(f"unknown bill type {prefix!r}")
    actions = []
    for line in history:
        raw_date, text = line["History_date"].strip(), line["History_description"] or ""
        try:
            when = parse_date(raw_date)
        except ValueError:
            raise ValueError(f"History.csv has an unreadable date {raw_date!r} for {text[:60]!r}") from None
        actor = ACTORS.get(text[:1]) if text[1:2] == " " else None
        actions.append(ScrapedAction(when, text[2:].strip() if actor else text.strip(), raw_date, actor))
    versions = []
    for n in range(1, 7):
        doc = (row.get(f"Full_text_doc{n}") or "").strip()
        if doc:
            raw = (row.get(f"Full_text_date{n}") or "").strip()
            versions.append(ScrapedVersion(doc, parse_date(raw) if raw else None))
    introduced = (row.get("Introduction_date") or "").strip()
    return ScrapedBill(
        jurisdiction="va",
        session=session,
        identifier=identifier,
        title=(row["Bill_description"] or "").strip(),
        source_id=VirginiaLIS.id,
        source_url=source_url,
        fetched_at=fetched_at,
        kind=KINDS[prefix],
        origin_chamber=Chamber.LOWER if prefix.startswith("H") else Chamber.UPPER,
        actions=actions,
        sponsors=[ScrapedSponsor(row["Patron_name"].strip(), True, row["Patron_id"].strip() or None)]
        if (row.get("Patron_name") or "").strip() else [],
        versions=versions,
        chapter=(row.get("Chapter_id") or "").strip() or None,
        introduced_on=parse_date(introduced) if introduced else None,
        source_flags={column: row[column] for column in FLAG_COLUMNS},
        raw={key: value for key, value in row.items() if key is not None},
        source_text=_source_text(row, history),
    )


PARSER_VERSION = "1"  # bump when parsing changes, so stored bills are parsed again


def _source_text(row: dict[str, str], history: list[dict[str, str]]) -> str:
    """The bill's rows as LIS wrote them, for the cheap unchanged check (tracker.storage)."""
    lines = [f"{VirginiaLIS.id}/{PARSER_VERSION}", "\x1f".join(value or "" for value in row.values())]
    lines += ["\x1f".join(value or "" for value in line.values()) for line in history]
    return "\n".join(lines)


def _history_path(bills_path: Path) -> Path:
    """`legacylis_241_Bills.csv.gz` -> `legacylis_241_History.csv.gz` (any case)."""
    name = bills_path.name
    for bills, history in (("Bills", "History"), ("BILLS", "HISTORY"), ("bills", "history")):
        if bills in name:
            candidate = bills_path.with_name(name.replace(bills, history))
            if candidate.exists():
                return candidate
    raise FileNotFoundError(f"no History file beside {bills_path}")


class VirginiaLIS(Source):
    id = "va-lis"
    title = "Virginia Legislative Information System (bulk CSV)"
    jurisdiction = "va"

    def read_path(self, path: Path, *, fetched_at: datetime | None = None,
                  session: str | None = None) -> Batch:
        """PATH is the Bills file (`.csv` or `.csv.gz`); History is found beside it."""
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if re.search(r"bills\.csv(\.gz)?$", p.name, re.I))
            if len(matches) != 1:
                raise FileNotFoundError(f"{path}: expected exactly one Bills.csv file, found {len(matches)}")
            path = matches[0]
        history_path = _history_path(path)
        code = session or _session_from_name(path.name)
        fetched = fetched_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        items = parse_csv_files(decode(path.read_bytes()), decode(history_path.read_bytes()),
                                session_code=code, fetched_at=fetched)
        return Batch(target=f"{path} + {history_path.name}", items=items)

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        for code in settings.va_sessions:
            bills_url, history_url = csv_urls(code)
            target = f"{bills_url} + {history_url}"
            try:
                bills, history = _get(fetcher, bills_url), _get(fetcher, history_url)
            except OfflineError as exc:  # no network: one line, not one per session
                yield Batch(target=target, error=str(exc))
                return
            except FetchError as exc:
                yield Batch(target=target, error=str(exc))
                continue
            # Even after two 304s the cached files are parsed again: if the last ingest failed, the
            # cache already holds files the database never took. Unchanged bills cost a hash compare.
            items = parse_csv_files(bills.text, history.text, session_code=code,
                                    fetched_at=bills.fetched_at, source_url=bills_url)
            yield Batch(target=target, items=items, not_modified=bills.not_modified and history.not_modified)


def _get(fetcher: Fetcher, url: str):
    try:
        return fetcher.get_text(url, decode)
    except SourceFormatError as exc:  # damaged gzip: name the URL in the run record
        raise FetchError(f"GET {url}: {exc}") from None


def _session_from_name(name: str) -> str:
    match = re.search(r"(?<!\d)(\d{5}|\d{3})(?!\d)", name)
    if not match:
        raise ValueError(f"cannot tell the LIS session from {name!r}; pass --session (e.g. 241)")
    return match.group(1)


