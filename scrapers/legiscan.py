"""LegiScan: the Pull API (https://api.legiscan.com/, key in the query string) and its datasets.

Parsers (pure, text or JSON in):
* `parse_bill`: one getBill payload, `{"status":"OK","bill":{...}}`, or `{"bill":{...}}` as the
  weekly dataset ZIPs store it (the same payload without "status").
* `parse_master_list`: getMasterListRaw, `{"masterlist":{"0":{bill_id, number, change_hash}, ...,
  "session":{...}}}`. No real capture exists: built from the API manual (v1.71 and later), and the
  tests use a hand-made example that says so.
* `parse_search`: getSearchRaw. The manual shows results as numbered keys of "searchresult";
  client code shows a "results" list; the real CO-2018 getSearch capture has a top key "results".
  All three shapes are read.
* `parse_dataset_list` / `dataset_zip`: getDatasetList and getDataset (base64 ZIP).
* `read_dataset`: a downloaded dataset (ZIP or folder), JSON flavour (bill/*.json) or CSV flavour
  (bills.csv, history.csv, sponsors.csv, people.csv, documents.csv).
Errors come back as HTTP 200 with `"status":"ERROR"`: `check_status` raises LegiScanError.

Status: LegiScan's own `status` (1 Introduced, 2 Engrossed, 3 Enrolled, 4 Passed, 5 Vetoed,
6 Failed) and progress events (9 Refer, 10 Report Pass, 8 Chaptered, 7 Override...) are mapped
onto our ladder (`legiscan_ladder`) and kept as `upstream_status` and `source_flags`: hints. Our
status is derived, as for every source, from the history classified by our own rule tables. Note
DOMAIN.md §1.3: 2 means engrossed (passed the origin chamber) and 3 enrolled; some public client
code maps 2 to "committee" and 3 to "passed chamber", which is wrong.

The live source (`legiscan`) is incremental, as LegiScan recommends: getSearchRaw with the AI
vocabulary finds candidate bills in every state; getMasterListRaw per tracked, active session
tells which stored bills changed (change_hash) and which vanished (marked stale, never deleted);
getBill is called only for new candidates and changed bills; getDatasetList / getDataset (checked
by dataset_hash) backfill the sessions listed in TRACKER_LEGISCAN_SESSIONS. Every query is counted
against TRACKER_LEGISCAN_MONTHLY_BUDGET (tracker/budget.py). The key is sent as a `secret_params`
of tracker.http, whose one redaction keeps it out of stored URLs, run targets, messages, log lines
and recordings.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlencode

import httpx

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker import archives
from tracker.budget import BudgetExhausted, QueryBudget
from tracker.config import Settings
from tracker.http import Fetcher, FetchError, redact
from tracker.merge import SourceListing, UpstreamBill
from tracker.normalize.identifiers import IdentifierError, canonical_identifier, canonical_session
from tracker.normalize.upstream import legiscan_progress_label
from tracker.scraped import ScrapedAction, ScrapedSponsor, ScrapedVersion
from tracker import textdecode
from tracker.vocab import BillKind, BillStatus, Chamber

log = logging.getLogger(__name__)

API_URL = "https://api.legiscan.com/"
SOURCE_ID = "legiscan"
DATASET_SOURCE_ID = "legiscan-dataset"

STATUS_NAMES = {0: "N/A", 1: "Introduced", 2: "Engrossed", 3: "Enrolled", 4: "Passed", 5: "Vetoed",
                6: "Failed"}
PROGRESS_NAMES = {**STATUS_NAMES, 7: "Override", 8: "Chaptered", 9: "Refer", 10: "Report Pass",
                  11: "Report DNP", 12: "Draft"}
# LegiScan bill_type -> our kind. Types that are not legislation we track (executive orders,
# proclamations, commendations, initiatives, petitions, study requests...) become ItemProblems.
KINDS = {
    "B": BillKind.BILL, "RB": BillKind.BILL, "CB": BillKind.BILL, "SB": BillKind.BILL, "CL": BillKind.BILL,
    "R": BillKind.RESOLUTION, "M": BillKind.RESOLUTION,
    "CR": BillKind.CONCURRENT_RESOLUTION, "CM": BillKind.CONCURRENT_RESOLUTION,
    "JR": BillKind.JOINT_RESOLUTION, "JRCA": BillKind.JOINT_RESOLUTION, "CA": BillKind.JOINT_RESOLUTION,
    "JM": BillKind.JOINT_RESOLUTION,
}
CHAMBERS = {"H": Chamber.LOWER, "A": Chamber.LOWER, "S": Chamber.UPPER, "J": Chamber.CONFERENCE,
            "L": Chamber.LEGISLATURE, "HOUSE": Chamber.LOWER, "ASSEMBLY": Chamber.LOWER,
            "SENATE": Chamber.UPPER, "JOINT": Chamber.CONFERENCE, "LEGISLATURE": Chamber.LEGISLATURE}
# Congress: LegiScan writes HB/SB/HR/SR...; Congress.gov (and our federal source) write HR/S/HRES/SRES...
US_PREFIXES = {"HB": "HR", "SB": "S", "HR": "HRES", "SR": "SRES", "HJR": "HJRES", "SJR": "SJRES",
               "HCR": "HCONRES", "SCR": "SCONRES"}
# What an ERROR alert says when the key itself is refused or spent (wording not recorded; kept broad).
KEY_TROUBLE = re.compile(r"key|limit|quota|exceed|suspend|disabled|denied|unauthori", re.I)

# LegiScan's own status -> statuses of ours that agree with it (DOMAIN.md §1.3). 2 (engrossed) also
# covers a bill the second chamber passed with changes the origin has not yet accepted; 3 (enrolled)
# covers passed_second before the enrolment step; 4 on a resolution is adoption.
AGREES = {
    1: {BillStatus.INTRODUCED, BillStatus.IN_COMMITTEE, BillStatus.PASSED_COMMITTEE},
    2: {BillStatus.PASSED_ORIGIN, BillStatus.PASSED_SECOND},
    3: {BillStatus.PASSED_SECOND, BillStatus.TO_GOVERNOR},
    4: {BillStatus.ENACTED},
    5: {BillStatus.VETOED},
    6: {BillStatus.FAILED},
}


class LegiScanError(ValueError):
    """LegiScan answered `"status":"ERROR"` (HTTP 200). `message` is its alert text."""

    def __init__(self, message: str, op: str = ""):
        super().__init__(f"LegiScan {op or 'request'} returned ERROR: {message}")
        self.message, self.op = message, op

    @property
    def key_trouble(self) -> bool:
        return bool(KEY_TROUBLE.search(self.message))


def check_status(data: Any, op: str = "") -> dict:
    """The payload of an OK response; LegiScanError for ERROR; SourceFormatError for anything else."""
    if not isinstance(data, dict):
        raise SourceFormatError(f"LegiScan {op}: expected a JSON object, got {type(data).__name__}")
    status = data.get("status")
    if status == "ERROR":
        alert = data.get("alert") or {}
        message = alert.get("message") if isinstance(alert, dict) else str(alert)
        raise LegiScanError(str(message or "no message"), op)
    if status not in ("OK", None):  # dataset payloads carry no status at all
        raise SourceFormatError(f"LegiScan {op}: unexpected status {status!r}")
    return data


def decode_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        start = body[:80].decode("utf-8", "replace").strip()
        kind = "HTML" if start.startswith("<") else "not JSON"
        raise SourceFormatError(f"{what}: {kind} where LegiScan JSON was expected ({exc}); "
                                f"starts {start!r}") from None


# --- Identifiers, sessions, kinds ------------------------------------------------------------

def legiscan_identifier(state: str, number: str) -> str:
    """LegiScan's number (`SB0008`, `HB1`) -> our canonical identifier (`SB 8`), Congress-style for US."""
    identifier = canonical_identifier(number)
    if state.lower() == "us":
        prefix, digits = identifier.split(" ")
        identifier = f"{US_PREFIXES.get(prefix, prefix)} {digits}"
    return identifier


_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\s+(?:Special|Extraordinary)\b", re.I)
_ROMAN = re.compile(r"\b(?:Special|Extraordinary)\s+Session\s+([IVX]+|\d+)\b", re.I)
_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_WORD = re.compile(r"\b(first|second|third|fourth|fifth|sixth)\s+(?:Special|Extraordinary)\b", re.I)
_ROMAN_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}


def canonical_legiscan_session(state: str, session: dict) -> str:
    """A LegiScan session object -> our canonical session: `2025`, `20252026` (biennium), `2024S1`
    (first special session of 2024, as Virginia LIS and Open States name it), `119` for Congress."""
    state = state.lower()
    try:
        start, end = int(session["year_start"]), int(session["year_end"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"session without years: {session!r}") from None
    if state == "us":
        return str((start - 1789) // 2 + 1)  # the Congress number
    if int(session.get("special") or 0):
        name = " ".join(str(session.get(k) or "") for k in ("session_name", "session_title", "session_tag"))
        number = None
        if match := _ORDINAL.search(name):
            number = int(match.group(1))
        elif match := _ROMAN.search(name):
            value = match.group(1).upper()
            number = int(value) if value.isdigit() else _ROMAN_VALUES.get(value)
        elif match := _WORD.search(name):
            number = _WORDS[match.group(1).lower()]
        # Unnumbered specials keep LegiScan's session id, so two of them never share a key.
        special = f"{start}S{number}" if number else f"{start}SP{session.get('session_id', '')}"
        return canonical_session(state, special)  # the calendars map it onto the state's own name
    return canonical_session(state, str(start) if start == end else f"{start}-{end}")


def _kind_from_number(number: str) -> BillKind | None:
    """CSV datasets have no bill_type: read it from the number (HB/SB/AB, HR, SCR, HJR...)."""
    match = re.fullmatch(r"([A-Z]+?)(\d+)", number.strip().upper())
    if not match:
        return None
    letters = match.group(1)
    return KINDS.get(letters[1:] or "B") if letters[:1] in "HSA" else None  # NJ writes A1234 / S1234


def _date(raw: Any, what: str) -> date | None:
    text = str(raw or "").strip()
    if not text or text.startswith("0000"):
        return None  # LegiScan writes 0000-00-00 for "no date"
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"unreadable {what} date {text!r}") from None


def _int(raw: Any, default: int = 0) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


# --- Status mapping -------------------------------------------------------------------------

def legiscan_ladder(status: int, events: Iterable[int] = (), kind: str = BillKind.BILL,
                    pending_committee: bool = False) -> tuple[BillStatus | None, str | None]:
    """LegiScan's status code and progress events -> (our status, how) as LegiScan sees it. A hint:
    LegiScan has no 'signed' status and supports 6 (Failed) only in some states."""
    events = set(events)
    if status == 1:
        if 10 in events:
            return BillStatus.PASSED_COMMITTEE, None
        if events & {9, 11} or pending_committee:
            return BillStatus.IN_COMMITTEE, None  # 11 "Report DNP" is not a pass
        return BillStatus.INTRODUCED, None
    if status == 2:
        return BillStatus.PASSED_ORIGIN, None
    if status == 3:
        return BillStatus.TO_GOVERNOR, None
    if status == 4:
        if kind != BillKind.BILL:
            return BillStatus.ADOPTED, None
        how = "veto_overridden" if 7 in events else "chaptered" if 8 in events else None
        return BillStatus.ENACTED, how
    if status == 5:
        return BillStatus.VETOED, None
    if status == 6:
        return BillStatus.FAILED, None
    return None, None


def legiscan_agrees(status: int, ours: str | None, kind: str = BillKind.BILL) -> bool:
    """Does our derived status agree with LegiScan's own status code (see AGREES)?"""
    allowed = set(AGREES.get(status, ()))
    if status == 4 and kind != BillKind.BILL:
        allowed = {BillStatus.ADOPTED, BillStatus.ENACTED}  # a joint resolution can go to the governor
    return ours in allowed


def _upstream_label(status: int, events: Iterable[int], kind: str, pending: bool = False) -> str | None:
    ladder, how = legiscan_ladder(status, events, kind, pending)
    return None if ladder is None else f"{ladder}/{how}" if how else str(ladder)


# --- getBill ----------------------------------------------------------------------------------

def parse_bill(data: dict, *, fetched_at: datetime, source_id: str = SOURCE_ID) -> UpstreamBill:
    """One getBill payload (or its dataset copy) -> UpstreamBill. LegiScanError on an ERROR envelope;
    ValueError / KeyError / TypeError on a record we cannot read (the caller makes an ItemProblem)."""
    bill = check_status(data, "getBill").get("bill") if "bill" in data or "status" in data else data
    if not isinstance(bill, dict) or "bill_number" not in bill:
        raise ValueError("not a LegiScan bill record (no bill_number)")
    state = str(bill["state"]).strip().lower()
    session = bill.get("session") or {}
    bill_type = str(bill.get("bill_type") or "").upper()
    kind = KINDS.get(bill_type) if bill_type else _kind_from_number(bill["bill_number"])
    if kind is None:
        raise ValueError(f"bill type {bill.get('bill_type')!r} of {bill['bill_number']} "
                         "is not legislation we track")
    # LegiScan's progress events are its own labels for the day they happened: each is kept on the
    # history lines of that date (`legiscan-progress:<event>`), layer 3 of our classifier, used only
    # where our tables cannot read the line itself (tracker/normalize/upstream.py).
    events_on: dict[str, list[str]] = defaultdict(list)
    for step in bill.get("progress") or []:
        events_on[str(step.get("date") or "")[:10]].append(legiscan_progress_label(_int(step.get("event"))))
    actions = []
    for step in bill.get("history") or []:
        actor = CHAMBERS.get(str(step.get("chamber") or "").upper())
        raw_date = str(step.get("date") or "")
        actions.append(ScrapedAction(_date(step.get("date"), "history"), (step.get("action") or "").strip(),
                                     raw_date, actor, tuple(events_on.get(raw_date[:10], ()))))
    sponsors = sorted(bill.get("sponsors") or [], key=lambda s: _int(s.get("sponsor_order"), 99))
    progress = [_int(step.get("event")) for step in bill.get("progress") or []]
    # The events LegiScan had recorded by the fetch: a progress step dated later (a referral LegiScan
    # prefills from the calendar) is scheduled, and must not raise the status LegiScan claims.
    as_of = fetched_at.date()
    progress_so_far = [_int(step.get("event")) for step in bill.get("progress") or []
                       if (_date(step.get("date"), "progress") or as_of) <= as_of]
    status = _int(bill.get("status"))
    versions = [ScrapedVersion(text.get("type") or "", _date(text.get("date"), "text"),
                               text.get("state_link") or text.get("url")) for text in bill.get("texts") or []]
    title = (bill.get("title") or "").strip()
    description = (bill.get("description") or "").strip()
    committee = bill.get("committee") if isinstance(bill.get("committee"), dict) else {}
    return UpstreamBill(
        jurisdiction=state,
        session=canonical_legiscan_session(state, session),
        identifier=legiscan_identifier(state, bill["bill_number"]),
        title=title or description,
        source_id=source_id,
        source_url=bill.get("url") or "",
        fetched_at=fetched_at,
        kind=kind,
        origin_chamber=CHAMBERS.get(str(bill.get("body") or "").upper()),
        actions=actions,
        sponsors=[ScrapedSponsor((s.get("name") or "").strip(), _primary(s),
                                 str(s.get("people_id") or "") or None)
                  for s in sponsors if (s.get("name") or "").strip()],
        versions=versions,
        summary=description if description and description != title else None,
        introduced_on=next((a.date for a in actions if a.date), None),
        source_flags={"legiscan_status": str(status), "legiscan_status_desc": STATUS_NAMES.get(status, "?"),
                      "legiscan_status_date": str(bill.get("status_date") or ""),
                      "legiscan_progress": ",".join(map(str, progress)),
                      "legiscan_pending_committee": str((committee or {}).get("name") or "")},
        # The record as read, minus what churns without content (change_hash, text hashes, calendar).
        raw={"bill_id": bill.get("bill_id"), "session_id": bill.get("session_id"), "session": session,
             "state": bill.get("state"), "bill_number": bill["bill_number"],
             "bill_type": bill.get("bill_type"),
             "body": bill.get("body"), "current_body": bill.get("current_body"), "status": status,
             "status_date": bill.get("status_date"), "progress": bill.get("progress") or [],
             "url": bill.get("url"), "state_link": bill.get("state_link"),
             "pending_committee_id": bill.get("pending_committee_id"),
             "subjects": [s.get("subject_name") for s in bill.get("subjects") or []],
             "sasts": bill.get("sasts") or []},
        upstream_id=str(bill.get("bill_id") or "") or None,
        upstream_scope=str(bill.get("session_id") or session.get("session_id") or "") or None,
        upstream_hash=bill.get("change_hash") or None,
        upstream_status=_upstream_label(status, progress_so_far, kind),
    )


def _primary(sponsor: dict) -> bool:
    """Sponsor type 1 is Primary; type 0 (generic) counts as primary when listed first."""
    kind = _int(sponsor.get("sponsor_type_id"))
    return kind == 1 or (kind == 0 and _int(sponsor.get("sponsor_order")) <= 1)


def parse_bill_items(payloads: Iterable[tuple[str, Any]], *, fetched_at: datetime,
                     source_id: str = SOURCE_ID) -> Iterator[ParsedItem]:
    """(name, payload) pairs -> bills, or an ItemProblem per payload we cannot read."""
    for name, payload in payloads:
        try:
            yield parse_bill(payload, fetched_at=fetched_at, source_id=source_id)
        except LegiScanError as exc:
            yield ItemProblem(f"{name}: {exc}", name)
        except (ValueError, KeyError, TypeError, AttributeError, IdentifierError) as exc:
            number = payload.get("bill", {}).get("bill_number") if isinstance(payload, dict) else None
            yield ItemProblem(f"{name}: {type(exc).__name__}: {exc}", number or name)


# --- getMasterListRaw, getSearchRaw, getDatasetList, getDataset ------------------------------

@dataclass(frozen=True)
class MasterList:
    session: dict  # LegiScan's session object when the list carries one, else {}
    entries: dict[str, tuple[str, str]]  # bill_id -> (number, change_hash)


def parse_master_list(data: dict) -> MasterList:
    body = check_status(data, "getMasterListRaw").get("masterlist")
    if not isinstance(body, dict):
        raise SourceFormatError("getMasterListRaw: no 'masterlist' object in the response")
    entries = {}
    for key, entry in body.items():
        if key == "session" or not isinstance(entry, dict):
            continue
        if "bill_id" not in entry:
            raise SourceFormatError(f"getMasterListRaw: entry {key!r} has no bill_id")
        entries[str(entry["bill_id"])] = (str(entry.get("number") or ""), str(entry.get("change_hash") or ""))
    session = body.get("session") if isinstance(body.get("session"), dict) else {}
    return MasterList(session, entries)


@dataclass(frozen=True)
class SearchPage:
    entries: dict[str, str]  # bill_id -> change_hash
    page: int
    pages: int
    count: int


def parse_search(data: dict) -> SearchPage:
    """getSearchRaw (or getSearch). Shapes seen: {"searchresult": {"summary", "0": ...}} (manual),
    {"searchresult": {"summary", "results": [...]}} (client code), {"results": {"summary", "0": ...}}
    (the recorded CO-2018 file)."""
    data = check_status(data, "getSearchRaw")
    container = data.get("searchresult", data.get("results"))
    if not isinstance(container, dict):
        raise SourceFormatError("getSearchRaw: no 'searchresult' (or 'results') object in the response")
    summary = container.get("summary") or data.get("summary") or {}
    rows = container.get("results", container)
    rows = rows.values() if isinstance(rows, dict) else rows
    entries = {str(row["bill_id"]): str(row.get("change_hash") or "")
               for row in rows if isinstance(row, dict) and "bill_id" in row}
    page = _int(summary.get("page_current"), 0)
    pages = _int(summary.get("page_total"), 0)
    if not page and isinstance(summary.get("page"), str) and " of " in summary["page"]:  # "1 of 451"
        first, _, last = summary["page"].partition(" of ")
        page, pages = _int(first, 1), _int(last, 1)
    return SearchPage(entries, page or 1, pages or 1, _int(summary.get("count"), len(entries)))


@dataclass(frozen=True)
class DatasetInfo:
    state_id: int
    session_id: int
    year_start: int
    year_end: int
    special: bool
    session_name: str
    dataset_hash: str
    dataset_date: str
    dataset_size: int
    access_key: str


def parse_dataset_list(data: dict) -> list[DatasetInfo]:
    rows = check_status(data, "getDatasetList").get("datasetlist")
    if not isinstance(rows, list):
        raise SourceFormatError("getDatasetList: no 'datasetlist' array in the response")
    try:
        return [DatasetInfo(_int(r.get("state_id")), int(r["session_id"]), _int(r.get("year_start")),
                            _int(r.get("year_end")), bool(_int(r.get("special"))),
                            str(r.get("session_name") or r.get("session_title") or ""),
                            str(r["dataset_hash"]), str(r.get("dataset_date") or ""),
                            _int(r.get("dataset_size")), str(r["access_key"]))
                for r in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceFormatError(f"getDatasetList: an entry lacks {exc}") from None


def dataset_zip(data: dict) -> tuple[dict, bytes]:
    """getDataset -> (meta, ZIP bytes)."""
    dataset = check_status(data, "getDataset").get("dataset")
    if not isinstance(dataset, dict) or not dataset.get("zip"):
        raise SourceFormatError("getDataset: no 'dataset.zip' in the response")
    try:
        blob = base64.b64decode(dataset["zip"], validate=False)
    except (binascii.Error, ValueError) as exc:
        raise SourceFormatError(f"getDataset: the ZIP is not valid base64 ({exc})") from None
    return {k: v for k, v in dataset.items() if k != "zip"}, blob


# --- Datasets: ZIP or folder, JSON or CSV flavour --------------------------------------------

CSV_REQUIRED = {
    "bills.csv": ("bill_id", "session_id", "bill_number", "status", "status_date", "title", "description",
                  "url"),
    "history.csv": ("bill_id", "date", "chamber", "sequence", "action"),
}
_SESSION_DIR = re.compile(r"(?P<start>\d{4})-(?P<end>\d{4})_(?P<name>[^/]+)")


def _files_of(path: Path) -> dict[str, bytes]:
    """Every file of a dataset ZIP or folder, by its path inside (POSIX)."""
    if path.is_dir():
        return {p.relative_to(path).as_posix(): p.read_bytes()
                for p in sorted(path.rglob("*")) if p.is_file()}
    data = path.read_bytes()
    if path.suffix.lower() == ".zip" or data[:2] == b"PK":
        return zip_files(data, str(path))
    return {path.name: data}


# Folders of a JSON dataset that hold no bill payloads (roll calls, people, text metadata): not read,
# so a large state's thousands of roll calls cost nothing and count against no archive cap.
_NOT_BILLS = {"vote", "people", "text"}


def zip_files(data: bytes, name: str) -> dict[str, bytes]:
    """The .json and .csv members of a dataset ZIP, read within the caps of tracker.archives (a zip
    bomb, an encrypted or damaged member is a SourceFormatError naming it)."""
    with archives.SafeZip(data, name, expected="a LegiScan dataset ZIP") as archive:
        return {info.filename: archive.read(info) for info in archive.members
                if info.filename.lower().endswith((".json", ".csv"))
                and not _NOT_BILLS & set(PurePosixPath(info.filename).parent.parts)}


def read_dataset(files: dict[str, bytes], *, fetched_at: datetime, source_id: str,
                 session: str | None = None, name: str = "dataset") -> Iterator[ParsedItem]:
    """A dataset's files -> bills. CSV flavour when a bills.csv is present, else every JSON payload."""
    csv_dirs = sorted({str(PurePosixPath(p).parent) for p in files if PurePosixPath(p).name == "bills.csv"})
    if csv_dirs:
        for folder in csv_dirs:
            prefix = "" if folder == "." else folder + "/"
            tables = {n[len(prefix):]: _text(files[n], n) for n in files
                      if n.startswith(prefix) and "/" not in n[len(prefix):] and n.endswith(".csv")}
            yield from parse_csv_dataset(tables, fetched_at=fetched_at, source_id=source_id,
                                         session=session or _session_from_path(folder),
                                         name=name if folder == "." else f"{name}/{folder}")
        return
    payloads = []
    for file_name, blob in files.items():
        if not file_name.lower().endswith(".json"):
            continue
        try:
            data = json.loads(blob.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            payloads.append((file_name, {"_unreadable": _why_not_json(blob, exc)}))
            continue
        for index, payload in enumerate(data if isinstance(data, list) else [data]):
            if isinstance(payload, dict) and "bill" in payload:  # people/, vote/, text/ payloads are skipped
                payloads.append((f"{file_name}#{index}" if isinstance(data, list) else file_name, payload))
    if not payloads:
        raise SourceFormatError(f"{name}: no bills.csv and no bill JSON payloads; not a LegiScan dataset")
    for file_name, payload in payloads:
        if "_unreadable" in payload:
            yield ItemProblem(f"{file_name}: {payload['_unreadable']}", file_name)
            continue
        for item in parse_bill_items([(file_name, payload)], fetched_at=fetched_at, source_id=source_id):
            if session and not isinstance(item, ItemProblem):
                item.session = session
            yield item


def _why_not_json(blob: bytes, exc: Exception) -> str:
    """What a saved file that should be JSON is instead: empty, an HTML page, or cut short."""
    start = blob[:80].decode("utf-8", "replace").strip()
    if not start:
        return "empty file where LegiScan JSON was expected"
    if start.startswith("<"):
        return f"HTML where LegiScan JSON was expected (an error page?); starts {start[:40]!r}"
    return f"not valid JSON, truncated or damaged ({exc})"


def _text(blob: bytes, name: str) -> str:
    """A CSV file of the dataset: UTF-8, any stray cp1252 byte read on its own (tracker.textdecode)."""
    return textdecode.decode_text(blob)


def _session_from_path(folder: str) -> str | None:
    """`MI/2025-2026_103rd_Legislature/csv` -> None (decided per bill from the state), or a
    special session name -> `2025S1`. Regular sessions are read from each bill's URL."""
    match = _SESSION_DIR.search(folder)
    if not match:
        return None
    name = match.group("name").replace("_", " ")
    if re.search(r"special|extraordinary", name, re.I):
        state = folder.split("/")[0].lower() if "/" in folder else ""
        session = {"year_start": match.group("start"), "year_end": match.group("end"), "special": 1,
                   "session_name": name}
        return canonical_legiscan_session(state, session)
    return None


def _csv_rows(tables: dict[str, str], file_name: str, required: tuple[str, ...] = (),
              name: str = "", unreadable: dict[str, str] | None = None, key: str = "bill_id") -> list[dict]:
    """The rows of one CSV file of the dataset. A record csv cannot read (a field over the limit) goes
    into `unreadable` under its bill_id, so that bill is left as stored; one whose bill cannot be
    told (or a file with no bills, people.csv) fails the dataset."""
    text = tables.get(file_name)
    if text is None:
        if required:
            raise SourceFormatError(f"{name}: {file_name} is missing from the CSV dataset")
        return []
    if text.lstrip()[:1] == "<":
        raise SourceFormatError(f"{name}/{file_name}: got HTML/XML where a CSV file was expected")
    reader = textdecode.DictRecords(text, f"{name}/{file_name}", key=key)
    missing = [c for c in required if c not in reader.fieldnames]
    if missing:
        found = ", ".join(reader.fieldnames)[:300] or (
            "no header" if text.strip() else "no header: the file is empty")
        raise SourceFormatError(f"{name}/{file_name}: missing column(s) {', '.join(missing)}; found {found}")
    rows = []
    for row in reader:
        if not isinstance(row, textdecode.BadRecord):
            rows.append(row)
        elif unreadable is None or not row.key:
            raise row.error("cannot tell which bill it belongs to" if unreadable is not None else "")
        else:
            unreadable.setdefault(row.key, row.message)
    return rows


def parse_csv_dataset(tables: dict[str, str], *, fetched_at: datetime, source_id: str = DATASET_SOURCE_ID,
                      session: str | None = None, name: str = "dataset") -> Iterator[ParsedItem]:
    """LegiScan's CSV dataset (bills.csv + history.csv, optional sponsors/people/documents) -> bills.
    The CSV flavour has no change_hash, progress, body or session name: the state and the session
    year come from each bill's LegiScan URL (`https://legiscan.com/MI/bill/HB4001/2025`)."""
    unreadable: dict[str, str] = {}  # bill_id -> why one of its records could not be read
    bills = _csv_rows(tables, "bills.csv", CSV_REQUIRED["bills.csv"], name, unreadable)
    history: dict[str, list[dict]] = defaultdict(list)
    for row in _csv_rows(tables, "history.csv", CSV_REQUIRED["history.csv"], name, unreadable):
        history[row["bill_id"]].append(row)
    people = {row["people_id"]: row for row in _csv_rows(tables, "people.csv", ("people_id", "name")
                                                         if "people.csv" in tables else (), name)}
    sponsors: dict[str, list[dict]] = defaultdict(list)
    sponsor_columns = ("bill_id", "people_id", "position") if "sponsors.csv" in tables else ()
    for row in _csv_rows(tables, "sponsors.csv", sponsor_columns, name, unreadable):
        sponsors[row["bill_id"]].append(row)
    documents: dict[str, list[dict]] = defaultdict(list)
    for row in _csv_rows(tables, "documents.csv", ("bill_id", "document_type", "document_desc", "url")
                         if "documents.csv" in tables else (), name, unreadable):
        documents[row["bill_id"]].append(row)
    listed = set()
    for row in bills:
        number = (row.get("bill_number") or "").strip()
        listed.add(row["bill_id"])
        if row["bill_id"] in unreadable:
            yield ItemProblem(f"{unreadable[row['bill_id']]}; bill left as stored", number or row["bill_id"],
                              row.get("url"))
            continue
        try:
            yield _csv_bill(row, history.get(row["bill_id"], []), sponsors.get(row["bill_id"], []), people,
                            documents.get(row["bill_id"], []), fetched_at, source_id, session)
        except (ValueError, KeyError, IdentifierError) as exc:
            yield ItemProblem(f"{name}/bills.csv {number or '(no number)'}: {exc}", number or None,
                              row.get("url"))
    for bill_id, message in unreadable.items():
        if bill_id not in listed:  # its bills.csv row itself could not be read
            yield ItemProblem(f"{message}; bill left as stored", f"LegiScan bill {bill_id}")


def _csv_bill(row: dict, history: list[dict], sponsor_rows: list[dict], people: dict,
              document_rows: list[dict], fetched_at: datetime, source_id: str,
              session: str | None) -> UpstreamBill:
    number = row["bill_number"].strip()
    match = re.search(r"legiscan\.com/([A-Za-z]{2})/bill/[^/]+/(\d{4})", row.get("url") or "")
    if not match:
        raise ValueError(f"cannot tell state and session from the LegiScan URL {row.get('url')!r}")
    state, year = match.group(1).lower(), match.group(2)
    if not re.fullmatch(r"[A-Z]+\d+", number.upper()):
        # Michigan letters its joint resolutions (HJR A): our identifiers need a number.
        raise IdentifierError(f"{number} has no bill number (a lettered resolution); "
                              "our identifiers need one")
    kind = _kind_from_number(number)
    if kind is None:
        raise ValueError(f"unknown bill type in {number!r}")
    steps = sorted(history, key=lambda r: _int(r.get("sequence")))
    actions = [ScrapedAction(_date(step["date"], "history"), (step["action"] or "").strip(), step["date"],
                             CHAMBERS.get((step.get("chamber") or "").strip().upper()))
               for step in steps]
    status = _int(row["status"], -1)
    if status < 0:
        raise ValueError(f"status {row['status']!r} is not a LegiScan status code")
    title, description = (row["title"] or "").strip(), (row["description"] or "").strip()
    pending = bool((row.get("committee") or "").strip()) and _int(row.get("committee_id")) > 0
    sponsor_list = []
    for sponsor in sorted(sponsor_rows, key=lambda r: _int(r.get("position"), 99)):
        person = people.get(sponsor["people_id"], {})
        name = (person.get("name") or "").strip() or f"LegiScan person {sponsor['people_id']}"
        primary = _int(sponsor.get("position")) == 1
        sponsor_list.append(ScrapedSponsor(name, primary, sponsor["people_id"] or None))
    versions = [ScrapedVersion(doc.get("document_desc") or "", None, doc.get("state_link") or doc.get("url"))
                for doc in document_rows if (doc.get("document_type") or "") == "text"]
    return UpstreamBill(
        jurisdiction=state,
        session=session or canonical_session(state, year),
        identifier=legiscan_identifier(state, number),
        title=title or description,
        source_id=source_id,
        source_url=row.get("url") or "",
        fetched_at=fetched_at,
        kind=kind,
        origin_chamber=CHAMBERS.get(number[:1].upper()),
        actions=actions,
        sponsors=sponsor_list,
        versions=versions,
        summary=description if description and description != title else None,
        introduced_on=next((a.date for a in actions if a.date), None),
        source_flags={"legiscan_status": str(status), "legiscan_status_desc": row.get("status_desc") or "",
                      "legiscan_status_date": row.get("status_date") or "", "legiscan_progress": "",
                      "legiscan_pending_committee": (row.get("committee") or "").strip()},
        raw={key: value for key, value in row.items() if key is not None},
        upstream_id=(row.get("bill_id") or "").strip() or None,
        upstream_scope=(row.get("session_id") or "").strip() or None,
        upstream_hash=None,  # the CSV flavour carries no change_hash
        upstream_status=_upstream_label(status, (), kind, pending),
    )


def read_saved(path: Path, *, fetched_at: datetime | None, source_id: str, session: str | None) -> Batch:
    """A saved getBill JSON (one envelope or a list), a folder of them, or a dataset ZIP/folder."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    fetched = fetched_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    files = _files_of(path)
    if not files:
        raise FileNotFoundError(f"{path}: no files")
    return Batch(target=str(path), items=read_dataset(files, fetched_at=fetched, source_id=source_id,
                                                      session=session, name=path.name))


# --- The live API -----------------------------------------------------------------------------

class KeyRefused(RuntimeError):
    """LegiScan refused the key (invalid, suspended, or its monthly limit reached)."""


class LegiScanClient:
    """Counts every query against the budget, sends it, checks `status`, never shows the key."""

    def __init__(self, fetcher: Fetcher, key: str, budget: QueryBudget):
        self.fetcher, self.key, self.budget = fetcher, key, budget
        self.queries = 0

    @staticmethod
    def public_url(op: str, **params: Any) -> str:
        """The URL without the key: what run targets, messages and stored records show."""
        return f"{API_URL}?{urlencode({'op': op, **params})}"

    def call(self, op: str, **params: Any) -> dict:
        self.budget.spend(1)
        self.queries += 1
        url = self.public_url(op, **params)
        # The key rides in `secret_params`: tracker.http keeps it out of errors, logs and recordings.
        body, _ = self.fetcher.get_bytes(url, secret_params={"key": self.key})
        try:
            return check_status(decode_json(body, url), op)
        except LegiScanError as exc:
            exc.message = redact(exc.message)
            if exc.key_trouble:
                self.budget.block(f"{op}: {exc.message}")
                raise KeyRefused(f"LegiScan refused the key on {op}: {exc.message}; queries stop for "
                                 f"{self.budget.period}") from None
            raise


class LegiScanAPI(Source):
    id = SOURCE_ID
    title = "LegiScan Pull API: AI bills in all 50 states, DC, PR and Congress (incremental)"
    jurisdiction = "*"

    def __init__(self, transport: httpx.BaseTransport | None = None,
                 clock=lambda: datetime.now(UTC)):
        self.transport, self.clock = transport, clock  # tests hand in a mock transport and a clock

    def read_path(self, path: Path, *, fetched_at: datetime | None = None, session: str | None = None) -> Batch:
        """Saved getBill responses (a JSON file, a list of envelopes, or a folder of them)."""
        return read_saved(path, fetched_at=fetched_at, source_id=self.id, session=session)

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        if settings.legiscan_api_key is None:
            yield Batch(target=API_URL, error="TRACKER_LEGISCAN_API_KEY is not set (a free key: "
                                              "https://legiscan.com/legiscan); no query sent")
            return
        from tracker.db import get_engine  # the poll reads what is stored: hashes, tracked sessions

        key = settings.legiscan_api_key.get_secret_value()
        engine = get_engine(settings.database_url)
        budget = QueryBudget(engine, self.id, settings.legiscan_monthly_budget, clock=self.clock)
        with fetcher.keyed(transport=self.transport) as own:
            client = LegiScanClient(own, key, budget)
            yield from IncrementalPoll(client, engine, settings, self.clock).run()


@dataclass
class _Stored:
    source_id: str
    upstream_hash: str | None
    scope: str | None
    session: dict

    @property
    def tracked(self) -> bool:
        """Kept up to date by the poll: fetched live, or loaded from a JSON dataset (which has the
        hash). A CSV-dataset bill has no change_hash: refreshing it would cost a getBill for every
        bill of the session, so it is refreshed only as a search candidate or a fully covered session."""
        return self.source_id == SOURCE_ID or bool(self.upstream_hash)


class IncrementalPoll:
    """One poll: search, master lists, changed bills, dataset backfill. Yields one Batch of bills
    (plus the master-list listings), one Batch per backfilled dataset, and a failed Batch when
    the budget runs out or the key is refused."""

    def __init__(self, client: LegiScanClient, engine, settings: Settings, clock):
        self.client, self.engine, self.settings, self.clock = client, engine, settings, clock
        self.stop: str | None = None  # why the poll stopped early
        self.fetched = 0  # getBill calls answered

    def run(self) -> Iterator[Batch]:
        stored = self._stored()
        items: list = []
        ops: list[str] = []
        candidates: dict[str, str] = {}  # bill_id -> change_hash from the search
        try:
            candidates = self._search(ops)
            if candidates:  # search hits count as seen (unchanged when their hash matches); absence means nothing
                items.append(SourceListing(SOURCE_ID, None, candidates, label="LegiScan search"))
            to_fetch = self._master_lists(stored, candidates, ops, items)
            self._get_bills(to_fetch, items)
        except (BudgetExhausted, KeyRefused, FetchError, SourceFormatError, LegiScanError) as exc:
            self.stop = str(exc)
        target = f"{API_URL} ({'; '.join(ops) or 'no query'}; {self.fetched} getBill)"
        if items or not self.stop:
            # Only listings (nothing new or changed): the run is recorded as `unchanged`.
            quiet = not any(isinstance(i, (UpstreamBill, ItemProblem)) for i in items)
            yield Batch(target=target, items=items, not_modified=quiet)
        if self.stop:
            yield Batch(target=target, error=f"{self.stop} (after {self.client.queries} queries this run)")
            return
        yield from self._datasets()

    def _stored(self) -> dict[str, _Stored]:
        """What LegiScan told us before, by bill_id: the live source's rows win over dataset rows."""
        from sqlalchemy import select

        from tracker.db import session_scope
        from tracker.models import BillSource

        found: dict[str, _Stored] = {}
        with session_scope(self.engine) as db:
            for row in db.execute(select(BillSource.source_id, BillSource.upstream_id,
                                         BillSource.upstream_hash, BillSource.upstream_scope, BillSource.raw)
                                  .where(BillSource.source_id.in_([SOURCE_ID, DATASET_SOURCE_ID]),
                                         BillSource.upstream_id.is_not(None))):
                if row.upstream_id in found and row.source_id != SOURCE_ID:
                    continue
                session = (row.raw or {}).get("session") if isinstance(row.raw, dict) else None
                found[row.upstream_id] = _Stored(row.source_id, row.upstream_hash, row.upstream_scope,
                                                 session if isinstance(session, dict) else {})
        return found

    def _search(self, ops: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        query = self.settings.legiscan_search_query.strip()
        if not query:
            return found
        for state in self.settings.legiscan_states:
            page, pages = 1, 1
            while page <= pages and page <= MAX_SEARCH_PAGES:
                result = parse_search(self.client.call("getSearchRaw", state=state, query=query, year=2,
                                                       page=page))
                found.update(result.entries)
                pages = result.pages
                page += 1
            ops.append(f"getSearchRaw {state} x{page - 1}")
        return found

    def _active_sessions(self, stored: dict[str, _Stored]) -> dict[str, str]:
        """Sessions to check with getMasterListRaw: those of tracked bills that can still move (year
        not over, or sine die not reached), plus every session listed in TRACKER_LEGISCAN_SESSIONS."""
        year = self.clock().year
        sessions: dict[str, str] = {}
        for entry in stored.values():
            session = entry.session
            can_move = _int(session.get("year_end")) >= year or session.get("sine_die") == 0
            if entry.tracked and entry.scope and can_move:
                sessions[entry.scope] = str(session.get("session_name") or session.get("session_title") or "")
        for session_id in self.settings.legiscan_sessions:
            sessions.setdefault(str(session_id), "")
        return sessions

    def _master_lists(self, stored: dict[str, _Stored], candidates: dict[str, str], ops: list[str],
                      items: list) -> dict[str, str]:
        """Bills to fetch: new or changed search candidates, changed stored bills, and every new or
        changed bill of a session covered in full. Each master list also becomes a SourceListing."""
        full = {str(s) for s in self.settings.legiscan_sessions}
        to_fetch: dict[str, str] = {}
        for bill_id, change_hash in candidates.items():
            if bill_id not in stored or stored[bill_id].upstream_hash != change_hash:
                to_fetch[bill_id] = change_hash
        for scope, label in sorted(self._active_sessions(stored).items()):
            try:
                master = parse_master_list(self.client.call("getMasterListRaw", id=scope))
            except LegiScanError as exc:  # one session LegiScan will not list: a problem, the poll goes on
                items.append(ItemProblem(str(exc), f"session {scope}",
                                         self.client.public_url("getMasterListRaw", id=scope)))
                continue
            ops.append(f"getMasterListRaw {scope}")
            name = master.session.get("session_name") or label or f"session {scope}"
            entries = {bill_id: change_hash for bill_id, (_, change_hash) in master.entries.items()}
            items.append(SourceListing(SOURCE_ID, scope, entries, label=f"LegiScan session {scope}, {name}"))
            for bill_id, (_, change_hash) in master.entries.items():
                known = stored.get(bill_id)
                wanted = scope in full or (known is not None and known.tracked)
                if wanted and (known is None or known.upstream_hash != change_hash):
                    to_fetch[bill_id] = change_hash
        return to_fetch

    def _get_bills(self, to_fetch: dict[str, str], items: list) -> None:
        for index, bill_id in enumerate(sorted(to_fetch, key=lambda b: _int(b))):
            try:
                payload = self.client.call("getBill", id=bill_id)
            except LegiScanError as exc:  # one bill LegiScan will not give: a problem, the poll goes on
                items.append(ItemProblem(str(exc), bill_id, self.client.public_url("getBill", id=bill_id)))
                continue
            except FetchError as exc:
                items.append(ItemProblem(str(exc), bill_id, self.client.public_url("getBill", id=bill_id)))
                continue
            except (BudgetExhausted, KeyRefused) as exc:
                left = len(to_fetch) - index
                self.stop = f"{exc}; {left} changed or new bill(s) not fetched, left for the next poll"
                break
            self.fetched += 1
            items.extend(parse_bill_items([(f"getBill {bill_id}", payload)], fetched_at=self.clock()))

    def _datasets(self) -> Iterator[Batch]:
        """Backfill whole sessions (TRACKER_LEGISCAN_SESSIONS) from LegiScan's weekly datasets, only
        when dataset_hash differs from the last one stored; bills already tracked are left to getBill."""
        wanted = {str(s) for s in self.settings.legiscan_sessions}
        if not wanted:
            return
        from tracker.db import session_scope
        from tracker.merge import CursorUpdate
        from tracker.storage import get_cursor

        stored = self._stored()  # again: the bills just fetched with getBill are fresher than any dataset
        try:
            datasets = parse_dataset_list(self.client.call("getDatasetList"))
        except (BudgetExhausted, KeyRefused, FetchError, SourceFormatError, LegiScanError) as exc:
            yield Batch(target=self.client.public_url("getDatasetList"), error=str(exc))
            return
        for info in datasets:
            if str(info.session_id) not in wanted:
                continue
            with session_scope(self.engine) as db:
                last = get_cursor(db, SOURCE_ID, f"dataset:{info.session_id}")
            target = self.client.public_url("getDataset", id=info.session_id)
            if last == info.dataset_hash:
                continue
            try:
                meta, blob = dataset_zip(self.client.call("getDataset", id=info.session_id,
                                                          access_key=info.access_key))
                files = zip_files(blob, f"getDataset {info.session_id}")
            except (BudgetExhausted, KeyRefused, FetchError, SourceFormatError, LegiScanError) as exc:
                yield Batch(target=target, error=str(exc))
                return
            items = [item for item in read_dataset(files, fetched_at=self.clock(), source_id=SOURCE_ID,
                                                   name=f"dataset {info.session_id}")
                     if isinstance(item, ItemProblem) or item.upstream_id not in stored
                     or stored[item.upstream_id].source_id != SOURCE_ID]
            items.append(CursorUpdate(SOURCE_ID, f"dataset:{info.session_id}", info.dataset_hash))
            when = meta.get("dataset_date") or info.dataset_date
            yield Batch(target=f"{target} (dataset {when})", items=items)


MAX_SEARCH_PAGES = 10  # 2,000 results a page: 20,000 candidates is far beyond any AI search


class LegiScanDataset(Source):
    id = DATASET_SOURCE_ID
    title = "LegiScan weekly dataset, downloaded (ZIP or folder; JSON or CSV flavour)"
    jurisdiction = "*"
    live = False

    def read_path(self, path: Path, *, fetched_at: datetime | None = None, session: str | None = None) -> Batch:
        return read_saved(path, fetched_at=fetched_at, source_id=self.id, session=session)

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        raise SourceFormatError(f"{self.id} reads saved files only; use `tracker ingest {self.id} PATH` "
                                "(the live `legiscan` source downloads datasets itself)")
