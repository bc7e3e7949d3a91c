"""California pubinfo bulk tables: the Legislative Counsel's nightly export of leginfo.

The archives at https://downloads.leginfo.legislature.ca.gov/ are zips of `.dat` tables (one row
a line, tab-separated, text wrapped in backticks, `NULL` for null, no header row) plus `.lob`
files holding long text; a bill version's `.lob` is its CAML XML. `pubinfo_<year>.zip` is a
whole session; `pubinfo_<Mon..Sat>.zip` holds the day's changes.

We read BILL_TBL (one row a measure), BILL_HISTORY_TBL (its actions), BILL_VERSION_TBL (its
versions; the latest one's `subject` is the title, its CAML `<caml:DigestText>` the summary and
its `<caml:Bill>` body, with the legal title, the bill's text),
BILL_VERSION_AUTHORS_TBL (authors of each version) and VETO_MESSAGE_TBL. BILL_TBL's own status
fields (measure_state, current_status, chapter) are kept as `source_flags` to cross-check the
status we derive, never as the status itself.

Quirks:
* The actor is BILL_HISTORY_TBL.primary_location ("Assembly", "Senate", "Governor", "Secretary
  of State"): the house where the bill sits after the action. A veto is recorded in the origin
  house ("Vetoed by the Governor." has location "Senate"), so governor lines are read from text.
* Rows of one bill share `action_sequence` when several things happen at once; `bill_history_id`
  orders them (AB 831: "Withdrawn from committee." before "Ordered to second reading.").
* Unverified: whether a daily archive carries a changed bill's whole history or only its new
  rows. A bill whose history does not start at action_sequence 1, or that has no history or no
  version in the archive, becomes an ItemProblem so a partial record never replaces a stored one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker import archives
from tracker.config import Settings
from tracker.http import Fetcher, FetchError
from tracker.normalize.identifiers import IdentifierError, canonical_identifier, canonical_session
from tracker.scraped import ScrapedAction, ScrapedBill, ScrapedSponsor, ScrapedVersion
from tracker import textdecode
from tracker.vocab import BillKind, Chamber

DOWNLOADS = "https://downloads.leginfo.legislature.ca.gov/"
BILL_PAGE = "https://leginfo.legislature.ca.gov/faces/billNavClient.xhtml?bill_id={}"

# Column positions. The .dat files have no header, so the order comes from the Legislative
# Counsel's `capublic.sql` (the MySQL schema shipped with pubinfo_load.zip: 2011 layout, with
# VETO_MESSAGE_TBL added in 2012) and was checked field by field against every row of
# ../shared/fixtures/states/ca/pubinfo_mini_2025-26 (e.g. BILL_TBL field 5 `Chaptered`, 9 `623`,
# 10 `20250AB83194CHP`; BILL_HISTORY_TBL field 6 the sequence, 9 `Senate`; AUTHORS field 4
# `LEAD_AUTHOR`, 9 `Y`). VETO_MESSAGE_TBL is read from the data: bill id, date, .lob name, user, stamp.
COLUMNS: dict[str, tuple[str, ...]] = {
    "BILL_TBL": (
        "bill_id", "session_year", "session_num", "measure_type", "measure_num", "measure_state",
        "chapter_year", "chapter_type", "chapter_session_num", "chapter_num", "latest_bill_version_id",
        "active_flg", "trans_uid", "trans_update", "current_location", "current_secondary_loc",
        "current_house", "current_status", "days_31st_in_print"),
    "BILL_HISTORY_TBL": (
        "bill_id", "bill_history_id", "action_date", "action", "trans_uid", "trans_update_dt",
        "action_sequence", "action_code", "action_status", "primary_location", "secondary_location",
        "ternary_location", "end_status"),
    "BILL_VERSION_TBL": (
        "bill_version_id", "bill_id", "version_num", "bill_version_action_date", "bill_version_action",
        "request_num", "subject", "vote_required", "appropriation", "fiscal_committee", "local_program",
        "substantive_changes", "urgency", "taxlevy", "bill_xml", "active_flg", "trans_uid", "trans_update"),
    "BILL_VERSION_AUTHORS_TBL": (
        "bill_version_id", "type", "house", "name", "contribution", "committee_members", "active_flg",
        "trans_uid", "trans_update", "primary_author_flg"),
    "VETO_MESSAGE_TBL": ("bill_id", "veto_date", "message", "trans_uid", "trans_update"),
}
REQUIRED = ("BILL_TBL", "BILL_HISTORY_TBL", "BILL_VERSION_TBL")
# The column that names a row's bill (BILL_VERSION_AUTHORS_TBL names a version, mapped to its bill).
KEY_COLUMN = {"BILL_TBL": 0, "BILL_HISTORY_TBL": 0, "BILL_VERSION_TBL": 1, "BILL_VERSION_AUTHORS_TBL": 0,
              "VETO_MESSAGE_TBL": 0}
FLAG_COLUMNS = ("measure_state", "current_status", "current_house", "current_location",
                "current_secondary_loc", "chapter_year", "chapter_type", "chapter_num")

KINDS = {
    "AB": BillKind.BILL, "SB": BillKind.BILL,
    "ACR": BillKind.CONCURRENT_RESOLUTION, "SCR": BillKind.CONCURRENT_RESOLUTION,
    "AJR": BillKind.JOINT_RESOLUTION, "SJR": BillKind.JOINT_RESOLUTION,
    "HR": BillKind.RESOLUTION, "SR": BillKind.RESOLUTION,  # HR: an Assembly ("House") resolution
    # Constitutional amendments pass both houses and go to the voters, not the Governor.
    "ACA": BillKind.JOINT_RESOLUTION, "SCA": BillKind.JOINT_RESOLUTION,
}
LOCATIONS = {"assembly": Chamber.LOWER, "senate": Chamber.UPPER, "governor": Chamber.EXECUTIVE,
             "secretary of state": Chamber.EXECUTIVE}
GOVERNOR_TEXT = re.compile(r"(Approved|Vetoed|Signed) by (the )?Governor|Chaptered by Secretary of State",
                           re.IGNORECASE)
BILL_ID = re.compile(r"(\d{8})(\d)([A-Z]+)(\d+)")
DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?)?")
AUTHOR_ORDER = {"LEAD_AUTHOR": 0, "PRINCIPAL_COAUTHOR": 1, "COAUTHOR": 2}
CAML = "{http://lc.ca.gov/legalservices/schemas/caml.1#}"
# Smart quotes and invisible characters leginfo text carries; everything else stays verbatim.
_CLEAN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00a0": " ", "\u2007": " ",
                        "\u202f": " ", "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
                        "\u00ad": None,
                        **{code: " " for code in range(32)}, 127: None})
WEEKDAY_ARCHIVES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sat")  # no Sunday file: Saturday's


class IncompleteBill(ValueError):
    """The archive holds only part of a bill (a daily delta?): never store it over a whole one."""


def clean_text(value: str | None) -> str:
    return (value or "").translate(_CLEAN).strip()


def decode(data: bytes) -> str:
    """pubinfo is UTF-8 ("Limón" in BILL_VERSION_AUTHORS_TBL); a stray Windows-1252 byte is read as
    cp1252 on its own, the rest stays UTF-8 (tracker.textdecode)."""
    return textdecode.decode_text(data)


@lru_cache(maxsize=8192)
def parse_date(raw: str) -> date:
    """pubinfo writes `2025-06-27 00:00:00`."""
    match = DATE.fullmatch(raw.strip())
    if not match:
        raise ValueError(f"not a pubinfo date: {raw!r}")
    return date(*(int(part) for part in match.groups()))  # raises on 2025-02-30


def read_table(text: str, table: str) -> tuple[list[dict[str, str | None]], list[textdecode.BadRecord]]:
    """One .dat table -> (rows keyed by column name, `NULL` as None; records over the CSV field limit,
    each naming its key). Layout problems raise."""
    name, columns = f"{table}.dat", COLUMNS[table]
    if text.lstrip()[:1] == "<":
        raise SourceFormatError(f"{name}: got HTML/XML where a tab-separated pubinfo table was expected")
    rows, bad = [], []
    records = textdecode.CsvRecords(text, name, key_column=KEY_COLUMN.get(table, 0), delimiter="\t",
                                    quotechar="`",
                         strict=True)
    for values in records:
        if isinstance(values, textdecode.BadRecord):
            bad.append(values)
            continue
        if not values or values == [""]:
            continue
        if len(values) != len(columns):
            raise SourceFormatError(
                f"{name} line {records.line}: {len(values)} fields where the pubinfo layout has "
                f"{len(columns)} ({columns[0]} ... {columns[-1]}); the table layout changed or the file "
                "is damaged")
        rows.append({column: None if value == "NULL" else value
                     for column, value in zip(columns, values, strict=True)})
    return rows, bad


@dataclass(frozen=True, slots=True)
class CamlInfo:
    digest: str | None = None
    history: tuple[tuple[str, str], ...] = ()  # CAML's coded milestones: (INTRODUCED, 2024-02-12) ...
    text: str | None = None  # the version's own text: its legal title, then the <caml:Bill> body


# The CAML (and XHTML) elements that start a line of the plain text; everything else runs on inline.
_BLOCKS = frozenset({"Title", "Preamble", "BillSection", "ActionLine", "LawSection", "LawHeading",
                     "Content", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "br"})
_LEFT_OUT = frozenset({"del", "Del", "DeletedText", "strike", "s"})  # struck text of an amended version


def parse_caml(data: bytes, name: str = "CAML document") -> CamlInfo:
    """A version's CAML XML -> its Legislative Counsel's Digest and coded history (INTRODUCED,
    PASSED_ASSEMBLY, ENROLLED, CHAPTERED, APPROVED, FILED...). A broken document gives nothing; one
    with a DTD raises XMLRefused (tracker.archives), which makes its bill a problem."""
    try:
        root = archives.parse_xml(data, name)
    except archives.XMLRefused:
        raise
    except SourceFormatError:
        return CamlInfo()
    digest = None
    node = root.find(f".//{CAML}DigestText")
    if node is not None:
        paragraphs = [p for p in node.iter() if p.tag.rsplit("}", 1)[-1] == "p"] or [node]
        texts = [" ".join(clean_text("".join(p.itertext())).split()) for p in paragraphs]
        digest = "\n\n".join(text for text in texts if text) or None
    history = tuple(
        (clean_text(action.findtext(f"{CAML}ActionText")), clean_text(action.findtext(f"{CAML}ActionDate")))
        for action in root.iterfind(f".//{CAML}History/{CAML}Action"))
    return CamlInfo(digest, history, _caml_text(root))


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _caml_text(root) -> str | None:
    """The bill's own text as plain text: the legal title ("An act to amend Section 54221 ...") and the
    <caml:Bill> body (preamble, sections, the code sections they amend or add), one paragraph a line.
    Struck-out text of an amended version (del/strike markup, or a Strikethrough class) is left out."""
    body = root.find(f".//{CAML}Bill")
    if body is None:
        return None
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = " ".join(clean_text("".join(current)).split())
        if line:
            lines.append(line)
        current.clear()

    def walk(node) -> None:
        name = _local(node.tag)
        struck = name in _LEFT_OUT or "strike" in (node.get("class") or "").lower()
        if not struck:
            block = name in _BLOCKS
            if block:
                flush()
            current.append(node.text or "")
            for child in node:
                walk(child)
            if block:
                flush()
            if name == "span" and not (node.text or "").strip() and not len(node):
                current.append(" ")  # <span class="EnSpace"/> between "(a)" and the paragraph
        current.append(node.tail or "")

    title = root.find(f".//{CAML}Title")
    if title is not None:
        walk(title)
    tail, body.tail = body.tail, None
    walk(body)
    body.tail = tail
    flush()
    return "\n".join(lines) or None


LobReader = Callable[[str], bytes | None]


def parse_tables(tables: Mapping[str, str], *, fetched_at: datetime, lobs: LobReader | None = None
                 ) -> Iterator[ParsedItem]:
    """The tables of one archive (table name -> .dat text) -> a ScrapedBill per bill, or an
    ItemProblem for a bill that cannot be read. Layout problems raise SourceFormatError here,
    before any bill is produced; `lobs` reads a .lob by name (for the CAML digest)."""
    missing = [f"{table}.dat" for table in REQUIRED if table not in tables]
    if missing:
        raise SourceFormatError(f"pubinfo archive has no {', '.join(missing)}")
    rows, bad = {}, []
    for table, text in tables.items():
        if table in COLUMNS:
            rows[table], unreadable = read_table(text, table)
            bad += [(table, record) for record in unreadable]
    return _bills(rows, fetched_at, lobs or (lambda name: None), _unreadable_bills(bad, rows))


def _unreadable_bills(bad: list[tuple[str, textdecode.BadRecord]], rows: dict[str, list[dict]]
                      ) -> dict[str, str]:
    """bill_id -> why one of its rows could not be read (that bill is left as stored). A row whose
    bill cannot be told fails the archive: some bill would silently lose it."""
    version_bill = {v["bill_version_id"]: v["bill_id"] for v in rows.get("BILL_VERSION_TBL", [])}
    found: dict[str, str] = {}
    for table, record in bad:
        bill_id = version_bill.get(record.key) if table == "BILL_VERSION_AUTHORS_TBL" else record.key
        if not bill_id:
            raise record.error("cannot tell which bill it belongs to")
        found.setdefault(bill_id, record.message)
    return found


@dataclass(slots=True)
class _Related:
    history: list[dict] = field(default_factory=list)
    versions: list[dict] = field(default_factory=list)
    veto: dict | None = None


def _bills(rows: dict[str, list[dict]], fetched_at: datetime, lobs: LobReader,
           unreadable: dict[str, str] | None = None) -> Iterator[ParsedItem]:
    unreadable = unreadable or {}
    related: dict[str, _Related] = defaultdict(_Related)
    for row in rows["BILL_HISTORY_TBL"]:
        related[row["bill_id"] or ""].history.append(row)
    for row in rows["BILL_VERSION_TBL"]:
        related[row["bill_id"] or ""].versions.append(row)
    for row in rows.get("VETO_MESSAGE_TBL", []):
        related[row["bill_id"] or ""].veto = row
    authors: dict[str, list[dict]] = defaultdict(list)
    for row in rows.get("BILL_VERSION_AUTHORS_TBL", []):
        authors[row["bill_version_id"] or ""].append(row)

    seen: dict[str, dict] = {}
    conflicting = set()
    for row in rows["BILL_TBL"]:
        bill_id = (row["bill_id"] or "").strip()
        if bill_id in seen and seen[bill_id] != row:
            conflicting.add(bill_id)
        seen[bill_id] = row
    for bill_id in unreadable:
        seen.setdefault(bill_id, {})
    for bill_id, row in seen.items():
        url = BILL_PAGE.format(bill_id) if bill_id else None
        if bill_id in unreadable:
            yield ItemProblem(f"{unreadable[bill_id]}; bill left as stored", bill_id, url)
            continue
        if bill_id in conflicting:
            yield ItemProblem(f"BILL_TBL.dat has conflicting rows for {bill_id}; bill left as stored",
                              bill_id, url)
            continue
        try:
            yield _bill(bill_id, row, related.get(bill_id, _Related()), authors, fetched_at, lobs)
        except (ValueError, IdentifierError) as exc:
            yield ItemProblem(f"{bill_id or '(blank bill_id)'}: {exc}", bill_id or None, url)


def _bill(bill_id: str, row: dict, related: _Related, authors: dict[str, list[dict]],
          fetched_at: datetime, lobs: LobReader) -> ScrapedBill:
    match = BILL_ID.fullmatch(bill_id)
    if not match:
        raise ValueError(f"not a pubinfo bill_id: {bill_id!r}")
    session_year, session_num, measure_type, number = match.groups()
    declared = (row["session_year"], row["session_num"], row["measure_type"], row["measure_num"])
    if declared != (session_year, session_num, measure_type, str(int(number))):
        raise ValueError(f"BILL_TBL row disagrees with its bill_id: {declared}")
    if measure_type not in KINDS:
        raise ValueError(f"unknown measure type {measure_type!r}")
    session = canonical_session("ca", session_year)
    if session_num != "0":  # an extraordinary session is a session of its own (ABX1 1 is not AB 1)
        session = canonical_session("ca", f"{session}S{session_num}")

    actions = _actions(related.history)
    versions = sorted(related.versions, key=lambda v: -int(v["version_num"] or 0))  # 99 = introduced
    if not versions:
        raise IncompleteBill("no BILL_VERSION_TBL row in this archive; bill left as stored")
    latest = next((v for v in versions if v["bill_version_id"] == row["latest_bill_version_id"]),
                  versions[-1])
    lob = latest["bill_xml"]
    caml = parse_caml(data, lob) if lob and (data := lobs(lob)) else CamlInfo()

    flags = {column: row[column] or "" for column in FLAG_COLUMNS}
    if related.veto:
        flags["veto_date"] = related.veto["veto_date"] or ""
    if caml.history:
        flags["caml_history"] = "; ".join(f"{code} {when}" for code, when in caml.history)
    introduced = next((v for v in versions if v["bill_version_action"] == "Introduced"), None)
    text_label = None
    if caml.text:
        when = _version_date(latest)
        text_label = " ".join(filter(None, (clean_text(latest["bill_version_action"]) or latest["bill_version_id"],
                                            when.isoformat() if when else None)))
    return ScrapedBill(
        jurisdiction="ca",
        session=session,
        identifier=canonical_identifier(f"{measure_type} {number}"),
        title=clean_text(latest["subject"]),
        source_id=CaliforniaPubinfo.id,
        source_url=BILL_PAGE.format(bill_id),
        fetched_at=fetched_at,
        kind=KINDS[measure_type],
        origin_chamber=Chamber.UPPER if measure_type.startswith("S") else Chamber.LOWER,
        actions=actions,
        sponsors=_sponsors(authors.get(latest["bill_version_id"], [])),
        versions=[ScrapedVersion(clean_text(v["bill_version_action"]), _version_date(v)) for v in versions],
        chapter=row["chapter_num"] or None,
        summary=caml.digest,
        introduced_on=_version_date(introduced) if introduced else actions[0].date,
        source_flags=flags,
        raw={column: value or "" for column, value in row.items()},
        text=caml.text,
        text_label=text_label,
    )


def _actions(history: list[dict]) -> list[ScrapedAction]:
    if not history:
        raise IncompleteBill("no BILL_HISTORY_TBL rows in this archive; bill left as stored")
    try:
        ordered = sorted(history, key=lambda h: (int(h["action_sequence"] or 0),
                                                 int(h["bill_history_id"] or 0)))
    except ValueError:
        raise ValueError("BILL_HISTORY_TBL has a non-numeric action_sequence or bill_history_id") from None
    first = int(ordered[0]["action_sequence"] or 1)
    if first > 1:
        raise IncompleteBill(f"history in this archive starts at action_sequence {first} (a partial "
                             "daily delta?); bill left as stored")
    actions = []
    for line in ordered:
        raw_date, text = (line["action_date"] or "").strip(), clean_text(line["action"])
        try:
            when = parse_date(raw_date) if raw_date else None
        except ValueError:
            raise ValueError(f"BILL_HISTORY_TBL has an impossible date {raw_date!r} "
                             f"for {text[:60]!r}") from None
        location = (line["primary_location"] or "").strip().lower()
        actor = Chamber.EXECUTIVE if GOVERNOR_TEXT.match(text) else LOCATIONS.get(location)
        actions.append(ScrapedAction(when, text, raw_date, actor))
    return actions


def _version_date(version: dict) -> date | None:
    raw = (version["bill_version_action_date"] or "").strip()
    try:
        return parse_date(raw) if raw else None
    except ValueError:
        raise ValueError(f"BILL_VERSION_TBL has an impossible date {raw!r} "
                         f"for {version['bill_version_id']}") from None


def _sponsors(rows: list[dict]) -> list[ScrapedSponsor]:
    active = [r for r in rows if (r["active_flg"] or "Y") != "N" and clean_text(r["name"])]
    active.sort(key=lambda r: AUTHOR_ORDER.get(r["contribution"] or "", 9))  # stable within a role
    sponsors, seen = [], set()
    for r in active:
        key = (clean_text(r["name"]), r["contribution"] == "LEAD_AUTHOR")
        if key not in seen:
            seen.add(key)
            sponsors.append(ScrapedSponsor(key[0], key[1]))
    return sponsors


# --- Archives: a folder of .dat files or a pubinfo zip -------------------------------------------

def _table_name(filename: str) -> str | None:
    stem = PurePosixPath(filename).name.upper()
    return stem[:-4] if stem.endswith(".DAT") and stem[:-4] in COLUMNS else None


def read_folder(path: Path, *, fetched_at: datetime) -> Iterator[ParsedItem]:
    tables = {name: decode(p.read_bytes()) for p in sorted(path.iterdir()) if (name := _table_name(p.name))}
    lob_files = {p.name.upper(): p for p in path.iterdir() if p.suffix.lower() == ".lob"}

    def lob(name: str) -> bytes | None:
        found = lob_files.get(name.upper())
        return found.read_bytes() if found else None

    return parse_tables(tables, fetched_at=fetched_at, lobs=lob)


def read_zip(data: bytes | Path, *, fetched_at: datetime, name: str) -> Iterator[ParsedItem]:
    """A pubinfo zip (bytes or a path), read within the caps of tracker.archives (a zip bomb is
    refused). Damage to the zip itself, or to a table in it, raises SourceFormatError now."""
    archive = archives.SafeZip(data, name, expected="a pubinfo zip archive")
    members = {PurePosixPath(info.filename).name.upper(): info for info in archive.members}

    def lob(lob_name: str) -> bytes | None:
        info = members.get(lob_name.upper())
        return archive.read(info) if info else None

    try:
        tables = {table: decode(archive.read(info)) for key, info in members.items()
                  if (table := _table_name(key))}
        items = parse_tables(tables, fetched_at=fetched_at, lobs=lob)
    except SourceFormatError as exc:
        archive.close()
        message = str(exc)
        raise type(exc)(message if message.startswith(name) else f"{name}: {message}") from None
    return _closing(items, archive)


def _closing(items: Iterator[ParsedItem], archive: archives.SafeZip) -> Iterator[ParsedItem]:
    try:
        yield from items
    finally:
        archive.close()


# --- Which archive to fetch ------------------------------------------------------------------

def daily_archive_name(day: date) -> str:
    return f"pubinfo_{WEEKDAY_ARCHIVES[day.weekday()]}.zip"


def archive_url(setting: str, today: date) -> str:
    """`daily` -> today's pubinfo_<Day>.zip; otherwise a file name on the downloads host."""
    name = setting.strip()
    if name.lower() == "daily":
        name = daily_archive_name(today)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+\.zip", name):
        raise ValueError(f"TRACKER_CA_PUBINFO_ARCHIVE must be 'daily' or a zip file name such as "
                         f"pubinfo_2025.zip, not {setting!r}")
    return DOWNLOADS + name


def pacific_today() -> date:
    """The archives follow the Legislature's day (Sacramento time)."""
    try:
        return datetime.now(ZoneInfo("America/Los_Angeles")).date()
    except ZoneInfoNotFoundError:
        return datetime.now(UTC).date()


class CaliforniaPubinfo(Source):
    id = "ca-pubinfo"
    title = "California Legislative Counsel pubinfo bulk tables (leginfo)"
    jurisdiction = "ca"

    def __init__(self, today: Callable[[], date] = pacific_today,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.today, self.clock = today, clock  # tests pin both: a status depends on the fetch time

    def read_path(self, path: Path, *, fetched_at: datetime | None = None,
                  session: str | None = None) -> Batch:
        """PATH is a folder of .dat files (and .lob files, if any) or a pubinfo zip. The session
        comes from the tables themselves, so `session` is not needed."""
        if path.is_dir():
            bill_tbl = next((p for p in path.iterdir() if _table_name(p.name) == "BILL_TBL"), None)
            if bill_tbl is None:
                raise FileNotFoundError(f"{path}: no BILL_TBL.dat in this folder")
            fetched = fetched_at or datetime.fromtimestamp(bill_tbl.stat().st_mtime, UTC)
            return Batch(target=str(path), items=read_folder(path, fetched_at=fetched))
        fetched = fetched_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return Batch(target=str(path), items=read_zip(path, fetched_at=fetched, name=path.name))

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        try:
            url = archive_url(settings.ca_pubinfo_archive, self.today())
        except ValueError as exc:
            yield Batch(target=DOWNLOADS, error=str(exc))
            return
        try:
            body, from_cache = fetcher.get_bytes(url)
        except FetchError as exc:
            yield Batch(target=url, error=str(exc))
            return
        try:
            items = read_zip(body, fetched_at=self.clock(), name=url)
        except SourceFormatError as exc:
            yield Batch(target=url, error=f"SourceFormatError: {exc}")
            return
        # An unchanged archive (304 / fresh cache) still comes with its bills, so a run whose
        # ingest failed last time is not hidden behind the cache; tracker.runs decides what to do.
        yield Batch(target=url, items=items, not_modified=from_cache)
