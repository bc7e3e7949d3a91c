"""Washington State Legislature web service (WSL): LegislationService.GetLegislationIntroducedSince.

The service answers the same records two ways: a SOAP 1.1 envelope (the recorded capture,
../shared/fixtures/states/wa/wsl_GetLegislationIntroducedSince_2025-26_FULL.xml.gz) and, for an
HTTP GET, plain XML whose root is `ArrayOfLegislation`; both in the namespace
`http://WSLWebServices.leg.wa.gov/`. We fetch the GET form and read both.

One `<Legislation>` record carries only the bill's CURRENT status line (CurrentStatus/HistoryLine,
dated ActionDate), so each bill here has a single action and its derived status comes from that
latest line alone. Full histories come from GetLegislativeStatusChangesByBillNumber (or ...ByDateRange)
or the app.leg.wa.gov/billsummary page; neither is recorded, so neither is read yet. Known
consequences: a bill whose latest line is "Effective date ..." (a law attribute, x-procedural) or
"By resolution, reintroduced and retained in present status." (carry-over) derives no status rung;
a second-chamber line such as its first reading does not by itself show the origin chamber's
passage; "House concurred in Senate amendments." alone reads as passage by the origin chamber.
The record's own Status / Veto / PartialVeto are kept as source_flags to cross-check
(tests/test_wa_wsl.py), never as the status.

Identity: ShortLegislationType is B / R / CR / JR / JM (GA appointments and I initiatives are not
legislation we track), OriginalAgency House/Senate gives the H/S prefix: HB 2225, SJM 8013.
BillId names the version ("E2SHB 1170" = engrossed second substitute of HB 1170); the service
lists each proposed substitute as a separate record, so records are merged per bill and each
BillId becomes a ScrapedVersion.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree

from scrapers.base import Batch, ItemProblem, ParsedItem, Source, SourceFormatError
from tracker import archives
from tracker.config import Settings
from tracker.http import Fetcher, FetchError
from tracker.normalize.identifiers import IdentifierError, canonical_identifier, canonical_session
from tracker.scraped import HISTORY_CURRENT_ONLY, ScrapedAction, ScrapedBill, ScrapedSponsor, ScrapedVersion
from tracker.vocab import BillKind, Chamber

SERVICE = "https://wslwebservices.leg.wa.gov/LegislationService.asmx"
# `sinceDate` (xsd:dateTime) is the parameter of the sister operation GetLegislationInfoIntroducedSince
# on the service's official .asmx page; the GET form `?sinceDate=YYYY-MM-DD` for this operation is what
# independent public clients send. This operation's own page was not available offline: unverified.
INTRODUCED_SINCE = SERVICE + "/GetLegislationIntroducedSince?sinceDate={since:%Y-%m-%d}"
# The Legislature's public bill page (history, versions, reports); any year of the biennium works.
BILL_PAGE = "https://app.leg.wa.gov/billsummary?BillNumber={number}&Year={year}"

KINDS = {"B": BillKind.BILL, "R": BillKind.RESOLUTION, "CR": BillKind.CONCURRENT_RESOLUTION,
         "JR": BillKind.JOINT_RESOLUTION,  # a constitutional amendment: both chambers, then the voters
         "JM": BillKind.JOINT_RESOLUTION}  # a memorial (petition): both chambers, no Governor
AGENCIES = {"House": ("H", Chamber.LOWER), "Senate": ("S", Chamber.UPPER)}
# BillId "2E2SHB 1000": optional engrossment and substitute markers before the base type.
VERSION_MARKERS = r"(?:\d?E)?(?:\d?S)?"
# The chamber where the bill sits, as Status writes it: "H Approps", "S Ways & Means"; the data
# dictionary also shows "H3rd Reading", "SRules G". "C 167 L 26" (chapter law) has no chamber.
STATUS_CHAMBER = re.compile(r"^([HS])(?=\s|[A-Z0-9])")
REQUIRED = ("BillId", "BillNumber", "Biennium", "ShortLegislationType", "OriginalAgency", "CurrentStatus")
STATUS_FLAGS = ("Status", "Veto", "PartialVeto", "HistoryLine")


def decode(data: bytes, origin: str = "WSL answer") -> str:
    """WSL answers are UTF-8 XML; saved copies may be gzipped (inflated within the caps of
    tracker.archives)."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = archives.gunzip(data, origin)
        except SourceFormatError as exc:
            raise type(exc)(f"{origin}: unreadable ({str(exc).removeprefix(origin + ': ')})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceFormatError(f"{origin}: unreadable (not UTF-8): {exc}") from None


def introduced_since_url(since: date) -> str:
    return INTRODUCED_SINCE.format(since=since)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ElementTree.Element | None, name: str) -> ElementTree.Element | None:
    if element is None:
        return None
    return next((c for c in element if _local(c.tag) == name), None)


def _text(element: ElementTree.Element | None, *path: str) -> str:
    for name in path:
        element = _child(element, name)
    return (element.text or "").strip() if element is not None else ""


def _records(text: str, origin: str) -> list[ElementTree.Element]:
    """The <Legislation> elements of a SOAP envelope or of the plain GET answer."""
    if not text.strip():
        raise SourceFormatError(f"{origin}: empty answer where WSL XML was expected")
    head = text.lstrip()[:300].lower()
    if head.startswith("<!doctype html") or head.startswith("<html") or "<html" in head:
        raise SourceFormatError(f"{origin}: got an HTML page where WSL XML was expected")
    root = archives.parse_xml(text, origin)  # defusedxml: any DTD (WSL never sends one) is refused
    name = _local(root.tag)
    if name == "ArrayOfLegislation":
        result = root
    elif name == "Envelope":
        body = _child(root, "Body")
        response = body[0] if body is not None and len(body) else None
        if response is None:
            raise SourceFormatError(f"{origin}: SOAP envelope without a Body")
        if _local(response.tag) == "Fault":
            reason = _text(response, "faultstring") or " ".join(response.itertext()).strip()
            raise SourceFormatError(f"{origin}: SOAP fault: {reason[:300]}")
        result = next((c for c in response if _local(c.tag).endswith("Result")), None)
        if result is None:
            raise SourceFormatError(f"{origin}: {_local(response.tag)} has no ...Result element")
    else:
        raise SourceFormatError(f"{origin}: root element <{name}>, expected a SOAP Envelope or "
                                "ArrayOfLegislation")
    records = [c for c in result if _local(c.tag) == "Legislation"]
    strangers = sorted({_local(c.tag) for c in result} - {"Legislation"})
    if strangers:
        raise SourceFormatError(f"{origin}: unexpected element(s) {', '.join(strangers)} among the records")
    for required in REQUIRED:
        if len(records) > 1 and all(_child(r, required) is None for r in records):
            # One record missing a field is that record's problem; all of them is a layout change.
            raise SourceFormatError(f"{origin}: no <Legislation> record has <{required}>; the layout changed")
    return records


def _datetime(raw: str) -> date | None:
    """WSL writes 2026-01-12T00:00:00; .NET's empty value 0001-01-01 means no date."""
    if not raw or raw.startswith("0001-01-01"):
        return None
    return datetime.fromisoformat(raw).date()


def _sponsor(raw: str, person_id: str) -> list[ScrapedSponsor]:
    """ "(Ryu)" for an original bill, "HCW(Stonier)" for a committee substitute: the name in
    parentheses is the prime sponsor (PrimeSponsorID), the prefix the committee."""
    match = re.fullmatch(r"[^()]*\((?P<name>[^()]+)\)", raw)
    name = (match.group("name") if match else raw).strip()
    return [ScrapedSponsor(name, True, person_id or None)] if name else []


def line_actor(text: str, status: str, origin: Chamber) -> Chamber:
    """Who acted: named in the text, else the chamber where the bill sits (Status prefix, which is
    updated with the line), else the origin chamber. In the 2026 capture the prefix is the origin
    chamber for all records but SCR 8407 ("H Spkr Signed", a Senate resolution signed in the
    House); no second-chamber floor line has been recorded with its Status yet."""
    if match := re.match(r"(House|Senate)\b", text):
        return Chamber.LOWER if match.group(1) == "House" else Chamber.UPPER
    if re.match(r"Governor\b|Delivered to Governor|Chapter \d+, \d{4} Laws|Effective date", text):
        return Chamber.EXECUTIVE
    if text.startswith("Speaker signed"):
        return Chamber.LOWER
    if text.startswith("President signed"):
        return Chamber.UPPER
    if match := STATUS_CHAMBER.match(status):
        return Chamber.LOWER if match.group(1) == "H" else Chamber.UPPER
    return origin


@dataclass(slots=True)
class _Record:
    """One <Legislation> record, read but not yet merged with the other versions of its bill."""

    session: str
    identifier: str
    bill_id: str
    version_rank: tuple[int, int]
    action_date: date | None
    active: bool
    bill: ScrapedBill


def _flatten(element: ElementTree.Element) -> dict[str, str]:
    raw: dict[str, str] = {}
    for child in element:
        name = _local(child.tag)
        if name == "Companions":
            raw[name] = ", ".join(_text(c, "BillId") for c in child if _text(c, "BillId"))
        elif len(child):
            raw.update({f"{name}.{_local(g.tag)}": (g.text or "").strip() for g in child if not len(g)})
        else:
            raw[name] = (child.text or "").strip()
    return raw


def _record(element: ElementTree.Element, fetched_at: datetime) -> _Record:
    missing = [name for name in REQUIRED if _child(element, name) is None]
    if missing:
        raise ValueError(f"missing element(s) {', '.join(missing)}")
    bill_id = _text(element, "BillId")
    biennium = _text(element, "Biennium")
    if not re.fullmatch(r"\d{4}-\d{2}", biennium):
        raise ValueError(f"unreadable Biennium {biennium!r} (expected like 2025-26)")
    agency = _text(element, "OriginalAgency")
    if agency not in AGENCIES:
        raise ValueError(f"unknown OriginalAgency {agency!r}")
    short_type = _text(element, "ShortLegislationType", "ShortLegislationType")
    if short_type not in KINDS:
        long_type = _text(element, "ShortLegislationType", "LongLegislationType")
        raise ValueError(f"legislation type {short_type!r} ({long_type or 'no name'}) is not tracked")
    prefix, origin = AGENCIES[agency]
    number = _text(element, "BillNumber")
    identifier = canonical_identifier(f"{prefix}{short_type} {number}")
    if not re.fullmatch(rf"{VERSION_MARKERS}{prefix}{short_type} 0*{int(number)}", bill_id):
        raise ValueError(f"BillId {bill_id!r} does not match {agency} {short_type} {number}")
    # canonical_session reads a biennium's first year; it does not know WSL's "2025-26" spelling.
    session = canonical_session("wa", biennium[:4])

    status = _child(element, "CurrentStatus")
    line = _text(status, "HistoryLine")
    raw_action_date = _text(status, "ActionDate")
    try:
        action_date = _datetime(raw_action_date)
    except ValueError:
        raise ValueError(f"unreadable ActionDate {raw_action_date!r} for {line[:60]!r}") from None
    if line and not raw_action_date:
        raise ValueError(f"CurrentStatus {line[:60]!r} has no ActionDate")
    raw_introduced = _text(element, "IntroducedDate")
    try:
        introduced = _datetime(raw_introduced)
    except ValueError:
        raise ValueError(f"unreadable IntroducedDate {raw_introduced!r}") from None
    status_text = _text(status, "Status")
    actions = [ScrapedAction(action_date, line, raw_action_date, line_actor(line, status_text, origin))] \
        if line else []  # an empty HistoryLine (seen in 2026 data): a bill with no action to show

    summary = "\n\n".join(t for t in (_text(element, "LongDescription"), _text(element, "LegalTitle")) if t)
    flags = {name: _text(status, name) for name in STATUS_FLAGS} | {"Active": _text(element, "Active")}
    versions = (int(_text(element, "SubstituteVersion") or 0), int(_text(element, "EngrossedVersion") or 0))
    bill = ScrapedBill(
        jurisdiction="wa",
        session=session,
        identifier=identifier,
        title=_text(element, "ShortDescription") or _text(element, "LongDescription"),
        source_id=WashingtonWSL.id,
        source_url=BILL_PAGE.format(number=int(number), year=biennium[:4]),
        fetched_at=fetched_at,
        kind=KINDS[short_type],
        origin_chamber=origin,
        actions=actions,
        sponsors=_sponsor(_text(element, "Sponsor"), _text(element, "PrimeSponsorID")),
        versions=[ScrapedVersion(bill_id, introduced)],
        chapter=_chapter(status_text),
        summary=summary or None,
        introduced_on=introduced,
        source_flags=flags,
        upstream_status=wsl_status_label(flags, KINDS[short_type]),
        history=HISTORY_CURRENT_ONLY,  # CurrentStatus carries one line: storage adds it to the history
        raw=_flatten(element),
    )
    return _Record(session, identifier, bill_id, versions, action_date, flags["Active"] == "true", bill)


def wsl_status_label(flags: dict[str, str], kind: str) -> str | None:
    """WSL's own Status code (and Veto / PartialVeto flags) on our ladder: the source's claim for the
    whole bill, which the status engine uses (marked `upstream`) only where the one history line this
    feed carries says less, e.g. a law whose current line is its effective date."""
    status = flags.get("Status", "")
    if flags.get("Veto") == "true":
        return "vetoed"
    if _chapter(status):
        return "enacted/signed" if flags.get("PartialVeto") == "true" else "enacted/chaptered"
    step = re.sub(r"^[HS] ", "", status)
    if step == "Adopted":
        return "adopted" if kind == BillKind.RESOLUTION else "passed_origin"
    if step == "Filed Sec/St":  # a session law; for resolutions and memorials, the end of adoption
        return "enacted/chaptered" if kind == BillKind.BILL else "adopted"
    if step == "Spkr Signed":  # both chambers passed it
        return "passed_second" if kind == BillKind.BILL else "adopted"
    if re.fullmatch(r"[HS] ?\d(st|nd|rd|th) Reading", status):
        return "passed_committee"  # on the floor calendar: out of committee
    if re.match(r"[HS] \S", status):
        return "in_committee"  # every other value names the committee where the bill sits
    return None


def _chapter(status: str) -> str | None:
    """Status "C 167 L 26" is chapter 167 of the 2026 session laws."""
    match = re.fullmatch(r"C (\d+) L \d+", status)
    return match.group(1) if match else None


def _merge(records: list[_Record]) -> ScrapedBill:
    """Versions of one bill -> one bill: the record with the latest status line wins (then the
    active version, then the highest substitute / engrossment); every BillId is a version."""
    latest = max(records, key=lambda r: (r.action_date or date.min, r.active, r.version_rank))
    versions: dict[str, ScrapedVersion] = {}
    for record in sorted(records, key=lambda r: r.version_rank):
        versions.setdefault(record.bill_id, record.bill.versions[0])
    latest.bill.versions = list(versions.values())
    return latest.bill


def parse_legislation_xml(text: str, *, fetched_at: datetime, origin: str = "WSL response"
                          ) -> list[ParsedItem]:
    """A GetLegislation*-style answer (SOAP or plain GET XML) -> one ScrapedBill per bill, or an
    ItemProblem per unreadable record. `origin` names the file or URL in messages."""
    groups: dict[tuple[str, str], list[_Record]] = {}
    items: list[ParsedItem] = []
    for position, element in enumerate(_records(text, origin), start=1):
        bill_id = _text(element, "BillId") or f"(record {position}, no BillId)"
        try:
            record = _record(element, fetched_at)
        except (ValueError, IdentifierError) as exc:
            items.append(ItemProblem(f"{bill_id}: {exc}", bill_id, origin))
            continue
        groups.setdefault((record.session, record.identifier), []).append(record)
    items.extend(_merge(records) for records in groups.values())
    return items


def _deferred(parse: Callable[[], list[ParsedItem]]) -> Iterator[ParsedItem]:
    """Parse when the run reads the items, so a layout error fails that run with its target."""
    yield from parse()


class WashingtonWSL(Source):
    id = "wa-wsl"
    title = "Washington State Legislature web service (LegislationService, current status)"
    jurisdiction = "wa"

    def read_path(self, path: Path, *, fetched_at: datetime | None = None,
                  session: str | None = None) -> Batch:
        """PATH is a saved answer (`.xml` or `.xml.gz`); the session comes from each record."""
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if re.search(r"\.xml(\.gz)?$", p.name, re.I))
            if len(matches) != 1:
                raise FileNotFoundError(f"{path}: expected exactly one .xml or .xml.gz file, "
                                        f"found {len(matches)}")
            path = matches[0]
        fetched = fetched_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        data = path.read_bytes()
        return Batch(target=str(path), items=_deferred(
            lambda: parse_legislation_xml(decode(data, path.name), fetched_at=fetched, origin=path.name)))

    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        url = introduced_since_url(settings.wa_introduced_since)
        try:
            fetched = fetcher.get_text(url, decode)
        except (FetchError, SourceFormatError) as exc:
            yield Batch(target=url, error=str(exc))
            return
        if fetched.not_modified:
            yield Batch(target=url, not_modified=True)
            return
        yield Batch(target=url, items=_deferred(
            lambda: parse_legislation_xml(fetched.text, fetched_at=fetched.fetched_at, origin=url)))
