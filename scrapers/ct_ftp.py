"""Connecticut General Assembly bulk files on its FTP server: bill_info.csv (one row per bill) and
bill_history.csv (one row per action), at ftp://ftp.cga.ct.gov/pub/data/.

NO REAL FILE HAS BEEN RECORDED. ../shared holds no copy of either CSV, so the layout below is built
from documentation plus the real CT action strings, and is unverified until the first live fetch:
* Columns we rely on, and where they are documented:
  - bill_info.csv: `bill_num` (zero-padded, `HB05222`), `bill_title`, `sess_year` (`2026`). Read by
    Open States' CT scraper (openstates/openstates-scrapers `scrapers/ct/bills.py`, and its older
    pupa and billy versions); Open States PR #2071 calls `sess_year` "the third column".
  - bill_history.csv: `bill_num`, `act_date` (`YYYY-MM-DD HH:MM:SS`), `act_desc`, `qual1`, `qual2`.
    Same scraper: a referral's `act_desc` ends "COMM. ON" and `qual1` holds the committee code
    (committee.csv `comm_code`/`comm_name` gives the name; we do not fetch it, so the code is shown);
    other `qual1` values (file, calendar and act numbers, dates) complete the text.
* Action text is `act_desc`, then `qual1` and `qual2`, joined by single spaces. Actions keep the
  file's order; the only reordering is a stable sort on `act_date` (a no-op on a file already in date
  order), so same-day lines stay in the order the CGA recorded them.
* `source_url` is the CGA's public bill status page pattern, `cgabillstatus.asp?selBillType=Bill&
  which_year=2026&bill_num=HB5222` (as recorded in the Open States output's `sources`).
* The text itself is what the CGA publishes: we test against the 2026 Open States output for five
  AI bills (../shared/fixtures/states/ct/openstates_scrape_json), whose `description` strings are the
  CGA's (e.g. "PUBLIC ACT 26-100", "SEN. PASSED, HO. AMEND. SCH. A", "Joint Favorable").
* Files are mostly ASCII with stray Windows-1252 bytes (noted by the same scraper), so we decode
  UTF-8 and fall back to cp1252.

Neither file states a bill's standing (no passed/failed flags are documented), so `source_flags`
stays empty; the whole bill_info row is kept in `raw`.

Actors. `act_desc` does not name the chamber consistently, so `infer_actors` reads it in order:
a line that names a chamber at its start ("HOUSE PASSED", "SEN. ADOPTED ...") or as the acting or
calendar chamber ("REF. BY HOUSE TO ...", "TAB. FOR CAL., SEN.") is that chamber's; a transmittal
("RULES SUSPENDED,TRANS.TO HOUSE") belongs to the sender; joint committee and legislative-office
steps (public hearing, "Joint Favorable", LCO, OLR/OFA) are the legislature's, since CT committees
sit in neither chamber; Governor lines are the executive's. Other lines take the chamber from the
sequence: bookkeeping right after a chamber acted ("IN CONCURRENCE", "TRANSMITTED PURSUANT TO JOINT
RULE 17") is that chamber's, anything else the chamber holding the bill (the origin chamber until
it passes the bill). Act numbers and the transmittal to the Secretary of the State name nobody:
actor None.

Fetching: ftplib (httpx cannot do FTP), one anonymous passive-mode connection, both files, QUIT.
Whole-session retries with backoff on network and 4xx FTP errors (tenacity, as tracker/http.py);
a 5xx FTP reply (550: no such file) is not retried. There is no cheap change probe we trust, so
every run downloads both files and the content hashes in storage make unchanged bills cost nothing.
"""

from __future__ import annotations

import ftplib
import logging
import re
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker.config import Settings
from tracker.http import Fetcher, FetchError, offline_message
from tracker.normalize.identifiers import IdentifierError, canonical_identifier, canonical_session
from tracker.scraped import ScrapedAction, ScrapedBill
from tracker import textdecode
from tracker.vocab import BillKind, Chamber

log = logging.getLogger(__name__)

FTP_DIRECTORY = "/pub/data"
BILL_INFO = "bill_info.csv"
BILL_HISTORY = "bill_history.csv"
INFO_COLUMNS = ("bill_num", "bill_title", "sess_year")
HISTORY_COLUMNS = ("bill_num", "act_date", "act_desc", "qual1", "qual2")
# The CGA's public bill status page (the pattern Open States records as each bill's source).
STATUS_PAGE = ("https://www.cga.ct.gov/asp/cgabillstatus/cgabillstatus.asp"
               "?selBillType=Bill&which_year={year}&bill_num={number}")
KINDS = {"HB": BillKind.BILL, "SB": BillKind.BILL, "HJ": BillKind.JOINT_RESOLUTION,
         "SJ": BillKind.JOINT_RESOLUTION, "HR": BillKind.RESOLUTION, "SR": BillKind.RESOLUTION}

_HOUSE, _SENATE = r"(?:HOUSE|HO\.)", r"(?:SENATE|SEN\.)"
# (pattern, actor): the first pattern found in the text names the actor (None: nobody we can name).
_NAMED_ACTORS: tuple[tuple[re.Pattern[str], str | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), actor) for pattern, actor in (
        (rf"^{_HOUSE}(?:\s|,|$)", Chamber.LOWER),
        (rf"^{_SENATE}(?:\s|,|$)", Chamber.UPPER),
        (r"GOVERNOR|LINE ITEM VETO", Chamber.EXECUTIVE),
        (r"^(?:PUBLIC|SPECIAL) ACT|SECRETARY OF (?:THE )?STATE", None),
        (rf"TRANS(?:\.|MITTED)\s*TO\s+{_HOUSE}", Chamber.UPPER),    # the sender acts
        (rf"TRANS(?:\.|MITTED)\s*TO\s+{_SENATE}", Chamber.LOWER),
        (rf"\bBY {_HOUSE}|FOR {_HOUSE}|,\s*{_HOUSE}\s*$", Chamber.LOWER),
        (rf"\bBY {_SENATE}|FOR {_SENATE}|,\s*{_SENATE}\s*$", Chamber.UPPER),
        (r"\bJOINT (?:COMM|FAV|UN-?FAV|DEADLINE)|PUBLIC HEARING|\bLCO\b|LEGISLATIVE COMMISSIONERS|\bOLR\b"
         r"|\bOFA\b|LEGISLATIVE RESEARCH|FISCAL ANALYSIS|NO NEW FILE BY COMM", Chamber.LEGISLATURE),
    )
)
_PASSED = re.compile(rf"^(?:{_HOUSE}|{_SENATE}) PASSED", re.IGNORECASE)
# Bookkeeping of the chamber that just acted ("IN CONCURRENCE", "TRANSMITTED PURSUANT TO JOINT RULE 17").
_FOLLOW_UP = re.compile(r"IN CONCURRENCE|TRANSMIT|RULES SUSPENDED", re.IGNORECASE)
_OTHER = {Chamber.LOWER: Chamber.UPPER, Chamber.UPPER: Chamber.LOWER}
_UNNAMED = object()


def _named_actor(text: str):
    for pattern, actor in _NAMED_ACTORS:
        if pattern.search(text):
            return actor
    return _UNNAMED


def infer_actors(texts: list[str], origin: str | None) -> list[str | None]:
    """Actor of each action of one bill, in order (see the module docstring)."""
    actors: list[str | None] = []
    holder, last_chamber = origin, origin  # the chamber holding the bill; the chamber that acted last
    for text in texts:
        actor = _named_actor(text)
        if actor is _UNNAMED:
            actor = last_chamber if _FOLLOW_UP.search(text) else holder
        elif actor in _OTHER:
            last_chamber = actor
            holder = _OTHER[actor] if _PASSED.match(text) else actor
        actors.append(actor)
    return actors


def decode(data: bytes) -> str:
    """UTF-8; each stray Windows-1252 byte is read as cp1252 on its own (tracker.textdecode)."""
    return textdecode.decode_text(data)


def status_page_url(identifier: str, year: str) -> str:
    return STATUS_PAGE.format(year=year, number=canonical_identifier(identifier).replace(" ", ""))


def _reader(text: str, required: tuple[str, ...], name: str) -> textdecode.DictRecords:
    """Rows as dicts under lower-cased column names, or a BadRecord (tracker.textdecode)."""
    head = text.lstrip()[:200].lower()
    if head.startswith("<") or "<html" in head:
        raise SourceFormatError(f"{name}: got HTML/XML where a CSV file was expected")
    reader = textdecode.DictRecords(text, name, key="bill_num",
                                    normalize=lambda column: (column or "").strip().lower())
    missing = [column for column in required if column not in reader.fieldnames]
    if missing:
        shown = ", ".join(reader.fieldnames)[:300] or (
            "no header" if text.strip() else "no header: the file is empty")
        raise SourceFormatError(f"{name}: missing column(s) {', '.join(missing)}; found {shown}")
    return reader


def _unreadable(record: textdecode.BadRecord, into: dict[str, str]) -> None:
    """A record over the CSV field limit makes its bill a problem; one whose bill cannot be told
    fails the file (some bill would silently lose a line)."""
    key = _key(record.key)
    if key is None:
        raise record.error("cannot tell which bill it belongs to")
    into.setdefault(key, record.message)


def _check_complete(text: str, name: str, last_key: str | None, unreadable: dict[str, str]) -> None:
    """A file cut short (a dropped FTP transfer) ends mid-record, without the line break every CSV
    record ends with: its last record may be cut anywhere, even inside a field, where it would still
    parse. That bill is a problem and left as stored; the bills before it are read as usual (the store
    holds any history that lost lines for review, and never deletes a bill a file stops listing)."""
    if text and not text.endswith(("\n", "\r")) and last_key is not None:
        unreadable[last_key] = (f"{name} ends mid-record (no line break after its last line, {last_key}): "
                                "a truncated download?")


def _key(bill_num: str | None) -> str | None:
    try:
        return canonical_identifier(bill_num or "")
    except IdentifierError:
        return None


def parse_ct_files(bill_info_csv: str, bill_history_csv: str, *, fetched_at: datetime,
                   year: int | str | None = None) -> Iterator[ParsedItem]:
    """Both files -> one ScrapedBill per bill of `year` (every session in the file when None),
    or an ItemProblem for a bad record. Layout errors raise SourceFormatError."""
    wanted = str(year).strip() if year is not None else None
    history: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    unreadable: dict[str, str] = {}  # bill key -> why one of its records could not be read
    last_key = None
    for number, row in enumerate(_reader(bill_history_csv, HISTORY_COLUMNS, BILL_HISTORY)):
        if isinstance(row, textdecode.BadRecord):
            _unreadable(row, unreadable)
            continue
        key = last_key = _key(row["bill_num"])
        if key is not None:  # rows of bills not in bill_info.csv are ignored below
            history[key].append((number, row))
    _check_complete(bill_history_csv, BILL_HISTORY, last_key, unreadable)
    rows: dict[str, dict[str, str]] = {}
    conflicting: set[str] = set()
    years_found: set[str] = set()
    last_key = None
    for row in _reader(bill_info_csv, INFO_COLUMNS, BILL_INFO):
        if isinstance(row, textdecode.BadRecord):
            _unreadable(row, unreadable)
            continue
        last_key = _key(row["bill_num"]) or (row["bill_num"] or "").strip() or None
        row_year = (row["sess_year"] or "").strip() or wanted or ""
        years_found.add(row_year)
        if wanted is not None and row_year != wanted:
            continue
        raw_id = (row["bill_num"] or "").strip()
        key = _key(raw_id) or raw_id
        if key in rows and rows[key] != row:
            conflicting.add(key)
        rows[key] = row
    _check_complete(bill_info_csv, BILL_INFO, last_key, unreadable)
    if wanted is not None and not rows and years_found:
        raise SourceFormatError(f"{BILL_INFO}: no bills of session {wanted}; "
                                f"sess_year holds {', '.join(sorted(years_found))}")
    for key, message in unreadable.items():  # its row or a history line could not be read
        yield ItemProblem(f"{message}; bill left as stored", key)
    for key, row in rows.items():
        raw_id = (row["bill_num"] or "").strip()
        if key in unreadable:
            continue
        if key in conflicting:
            yield ItemProblem(f"{BILL_INFO} has conflicting rows for {raw_id}; bill left as stored",
                              raw_id or None)
            continue
        year_of_row = (row["sess_year"] or "").strip() or wanted or ""
        try:
            yield _bill(row, year_of_row, history.get(key, []), fetched_at)
        except (ValueError, IdentifierError) as exc:
            yield ItemProblem(f"{raw_id or '(blank bill_num)'}: {exc}", raw_id or None)


def action_text(line: dict[str, str]) -> str:
    """`act_desc` completed by `qual1` and `qual2` ("FILE NO." + "183", "REF. TO JOINT COMM. ON" + "GL")."""
    parts = ((line.get(column) or "").strip() for column in ("act_desc", "qual1", "qual2"))
    return " ".join(part for part in parts if part)


def _bill(row: dict[str, str], year: str, history: list[tuple[int, dict[str, str]]],
          fetched_at: datetime) -> ScrapedBill:
    identifier = canonical_identifier(row["bill_num"])
    prefix = identifier.split()[0]
    if prefix not in KINDS:
        raise ValueError(f"unknown bill type {prefix!r}")
    if not re.fullmatch(r"\d{4}", year):
        raise ValueError(f"{BILL_INFO} has sess_year {year!r}, not a year")
    origin = Chamber.LOWER if prefix.startswith("H") else Chamber.UPPER
    dated = []
    for number, line in history:
        if (line.get("sess_year") or year).strip() != year:
            continue  # an undocumented sess_year column in the history file: keep this session's rows
        raw_date, text = (line["act_date"] or "").strip(), action_text(line)
        try:
            when = datetime.fromisoformat(raw_date)
        except ValueError:
            raise ValueError(f"{BILL_HISTORY} has an unreadable or impossible act_date {raw_date!r} "
                             f"for {text[:60]!r}") from None
        dated.append((when.replace(tzinfo=None), number, raw_date, text))
    # A stable sort by timestamp: same-day actions keep the file's order (the order the CGA recorded them).
    dated.sort(key=lambda item: (item[0], item[1]))
    actors = infer_actors([text for *_, text in dated], origin)
    actions = [ScrapedAction(when.date(), text, raw_date, actor)
               for (when, _, raw_date, text), actor in zip(dated, actors, strict=True)]
    return ScrapedBill(
        jurisdiction="ct",
        session=canonical_session("ct", year),
        identifier=identifier,
        title=(row["bill_title"] or "").strip(),
        source_id=ConnecticutFTP.id,
        source_url=status_page_url(identifier, year),
        fetched_at=fetched_at,
        kind=KINDS[prefix],
        origin_chamber=origin,
        actions=actions,
        raw={key: value for key, value in row.items() if key is not None},
    )


# --- FTP -----------------------------------------------------------------------------------------

class FTPFetchError(RuntimeError):
    """One of the files could not be downloaded; the message names the host and the file."""


class _TooLarge(Exception):
    pass


def _retryable(exc: BaseException) -> bool:
    # error_perm (5xx: no such file, access denied) will not change on a retry, nor will a host name that
    # cannot be resolved (offline); the rest may.
    if isinstance(exc, socket.gaierror):
        return False
    return isinstance(exc, (ftplib.error_temp, ftplib.error_reply, ftplib.error_proto, OSError, EOFError))


def download_files(host: str, names: tuple[str, ...], *, timeout: float, max_bytes: int, attempts: int,
                   password: str, ftp_factory: Callable[..., ftplib.FTP] = ftplib.FTP,
                   sleep: Callable[[float], None] = time.sleep) -> dict[str, bytes]:
    """RETR each file of FTP_DIRECTORY into memory over one connection; retried as a whole."""
    connecting = f"ftp://{host} (connecting, for {', '.join(names)})"
    state = {"doing": connecting}

    def once() -> dict[str, bytes]:
        state["doing"] = connecting
        ftp = ftp_factory(host, timeout=timeout)
        try:
            ftp.login("anonymous", password)  # the contact address, as anonymous FTP asks
            ftp.set_pasv(True)
            files = {}
            for name in names:
                path = f"{FTP_DIRECTORY}/{name}"
                state["doing"] = f"ftp://{host}{path}"
                files[name] = _retrieve(ftp, path, max_bytes)
            ftp.quit()
            return files
        finally:
            ftp.close()

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=2, max=120),
        retry=retry_if_exception(_retryable),
        sleep=sleep,
        reraise=True,
        before_sleep=lambda s: log.warning("FTP %s failed (%s); retry %d", state["doing"],
                                           s.outcome.exception(), s.attempt_number),
    )
    try:
        return retrying(once)
    except _TooLarge as exc:
        raise FTPFetchError(f"{state['doing']}: {exc} (TRACKER_HTTP_MAX_RESPONSE_MB)") from None
    except ftplib.error_perm as exc:
        raise FTPFetchError(f"{state['doing']}: server refused: {str(exc).strip()}") from None
    except socket.gaierror:
        raise FTPFetchError(f"ftp://{host}: {offline_message(host)}") from None
    except TimeoutError as exc:  # socket.timeout is TimeoutError
        raise FTPFetchError(f"{state['doing']}: timed out after {attempts} attempt(s) "
                            f"({type(exc).__name__})") from None
    except (ftplib.Error, OSError, EOFError) as exc:
        raise FTPFetchError(f"{state['doing']}: failed after {attempts} attempt(s): "
                            f"{str(exc).strip() or type(exc).__name__}") from None


def _retrieve(ftp: ftplib.FTP, path: str, max_bytes: int) -> bytes:
    try:
        ftp.voidcmd("TYPE I")
        size = ftp.size(path)
    except ftplib.error_perm:
        size = None  # SIZE is optional (RFC 3659); the running count below still caps the download
    if size is not None and size > max_bytes:
        raise _TooLarge(f"file of {size:,} bytes exceeds the {max_bytes:,}-byte limit")
    chunks: list[bytes] = []
    received = 0

    def keep(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)
        if received > max_bytes:
            raise _TooLarge(f"file exceeds the {max_bytes:,}-byte limit")
        chunks.append(chunk)

    ftp.retrbinary(f"RETR {path}", keep)
    return b"".join(chunks)


class ConnecticutFTP(Source):
    id = "ct-ftp"
    title = "Connecticut General Assembly bulk files (FTP bill_info.csv + bill_history.csv)"
    jurisdiction = "ct"

    def __init__(self, ftp_factory: Callable[..., ftplib.FTP] = ftplib.FTP,
                 sleep: Callable[[float], None] = time.sleep):
        self.ftp_factory, self.sleep = ftp_factory, sleep

    def read_path(self, path: Path, *, fetched_at: datetime | None = None,
                  session: str | None = None) -> Batch:
        """PATH is the folder holding bill_info.csv and bill_history.csv (or bill_info.csv itself).
        The session is `session`, else a year in the folder or file name, else each row's sess_year."""
        folder = path if path.is_dir() else path.parent
        info_path, history_path = _find(folder, BILL_INFO), _find(folder, BILL_HISTORY)
        year = session or _year_from_name(path) or _year_from_name(folder)
        fetched = fetched_at or datetime.fromtimestamp(info_path.stat().st_mtime, UTC)
        items = parse_ct_files(decode(info_path.read_bytes()), decode(history_path.read_bytes()),
                               fetched_at=fetched, year=year)
        return Batch(target=f"{info_path} + {history_path.name}", items=items)

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        """The files are only on FTP, which httpx cannot speak: ftplib fetches them. `fetcher` replays them
        (--replay: recordings keyed `ftp://HOST/pub/data/NAME`) and records them (`tracker record`)."""
        host = settings.ct_ftp_host
        target = f"ftp://{host}{FTP_DIRECTORY}/{BILL_INFO} + {BILL_HISTORY}"
        names = (BILL_INFO, BILL_HISTORY)
        try:
            if fetcher is not None and fetcher.replaying:
                files = {name: fetcher.get_bytes(f"ftp://{host}{FTP_DIRECTORY}/{name}")[0] for name in names}
            else:
                files = download_files(host, names, timeout=settings.http_timeout_seconds,
                                       max_bytes=int(settings.http_max_response_mb * 1024 * 1024),
                                       attempts=settings.http_max_retries + 1, password=settings.contact_email,
                                       ftp_factory=self.ftp_factory, sleep=self.sleep)
                for name, body in files.items() if fetcher is not None else ():
                    fetcher.record(f"ftp://{host}{FTP_DIRECTORY}/{name}", body, "text/csv")
        except (FTPFetchError, FetchError) as exc:
            yield Batch(target=target, error=str(exc))
            return
        # bill_info.csv holds the current session only; each row's sess_year names it.
        items = parse_ct_files(decode(files[BILL_INFO]), decode(files[BILL_HISTORY]),
                               fetched_at=datetime.now(UTC))
        yield Batch(target=target, items=items)


def _find(folder: Path, name: str) -> Path:
    matches = sorted(p for p in folder.iterdir() if p.name.lower() == name)
    if not matches:
        raise FileNotFoundError(f"{folder}: no {name}")
    return matches[0]


def _year_from_name(path: Path) -> str | None:
    match = re.search(r"(?<!\d)(20\d\d)(?!\d)", path.name)
    return match.group(1) if match else None
