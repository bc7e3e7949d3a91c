"""Law lifecycle (DOMAIN.md §1.4): what happens to a law after it is enacted. Pure functions on plain data;
tracker/detect/pipeline.py applies them to the stored bills and records each new event once.

* Effective dates come from the source where it states them in an action line (VA "Approved by
  Governor-Chapter 678 (effective 7/1/24)", TN "Effective date(s) 7/1/25, 1/1/26", WA "Effective date
  1/1/2027.", TX "Effective on 9/1/25", "Effective immediately") or in the act's own abstract (CO
  "Effective January 1, 2027, the act ..."); a law can have several (one per provision), all kept.
* Events (delayed, enjoined, amended, repealed, superseded, expired) come from the reviewable seed file
  `tracker/data/law_lifecycle.csv` (the landmark laws of DOMAIN.md §7, each with its source and
  confidence), and are proposed by detection: a later bill of the same state whose title or abstract
  says it delays, repeals, re-enacts or amends an earlier enacted AI law, named by its number ("Senate
  Bill 24-205") or its short title ("the California AI Transparency Act"). A detected event is only
  `proposed` until a person confirms it (`tracker lifecycle review`); it never changes a law's status
  before that.
* `law_status(...)` is the law's state on a day: `superseded` / `repealed` once such an event has
  happened, `enjoined` while enforcement is blocked, `delayed` while a delay holds the start back,
  `pending_effective` before the (first) effective date, `amended` once in force and amended,
  `effective` once in force; None when nothing says when the law takes effect.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources

EVENTS = ("delayed", "enjoined", "amended", "repealed", "superseded", "expired")
LAW_STATUSES = ("pending_effective", "effective", "delayed", "enjoined", "amended", "repealed", "superseded",
                "expired")
_FINAL = ("superseded", "repealed", "expired")

_DATE = r"(\d{1,2})/(\d{1,2})/(\d{2,4})"
_EFFECTIVE = re.compile(r"\beffective(?: dates?(?:\(s\))?| on| date)?[:\s-]*\s*((?:" + _DATE
                        + r"(?:\s*(?:,|and|&)\s*)?)+)", re.IGNORECASE)
_IMMEDIATELY = re.compile(r"\beffective immediately\b", re.IGNORECASE)
_ONE_DATE = re.compile(_DATE)
_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                       "september", "october", "november", "december"), start=1)}
_WRITTEN_DATE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),\s+(\d{4})", re.IGNORECASE)


def _make_date(month: str, day: str, year: str) -> date | None:
    try:
        value = int(year)
        return date(value + 2000 if value < 100 else value, int(month), int(day))
    except ValueError:
        return None


def effective_dates(actions: Iterable[tuple[date | None, str]]) -> list[date]:
    """Every effective date the bill's action lines state, sorted, without repeats."""
    found: set[date] = set()
    for when, text in actions:
        for match in _EFFECTIVE.finditer(text or ""):
            for month, day, year in _ONE_DATE.findall(match.group(1)):
                if (value := _make_date(month, day, year)) is not None:
                    found.add(value)
        if when is not None and _IMMEDIATELY.search(text or ""):
            found.add(when)
    return sorted(found)


_MONTH_DATE = r"(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),\s+(\d{4})"
# The act's own date in its abstract, never what "existing law" says: a sentence (or clause after a run
# of spaces, as CO summaries join paragraphs) that starts "Effective <date>, the act ..." or "On and
# after <date>, the act ...". A California digest's "This bill would, beginning <date>, ..." dates one
# provision, not the law (a CA statute takes effect the January after it is chaptered), so it is not read.
_STATED = re.compile(
    r"(?:^|[.;:]\s+|\s{2,})(?:Effective|On and after|Beginning|Commencing)\s+" + _MONTH_DATE
    + r",\s+(?:the|this)\s+act\b", re.IGNORECASE)


def stated_effective_dates(abstract: str | None) -> list[date]:
    """The effective dates an enacted act's abstract states for itself (CO "Effective January 1, 2027,
    the act creates ..."), sorted, without repeats."""
    found: set[date] = set()
    for match in _STATED.finditer(abstract or ""):
        month, day, year = match.groups()
        try:
            found.add(date(int(year), _MONTHS[month.lower()], int(day)))
        except ValueError:
            continue
    return sorted(found)


@dataclass(frozen=True)
class LifecycleEvent:
    event: str
    event_date: date | None
    by_reference: str | None = None  # the later bill, case or instrument, as sourced
    mechanism: str | None = None  # court_order | stipulation (enjoined)
    effective_after: date | None = None  # delayed: the new start
    confidence: str = "M"
    source_url: str | None = None
    note: str | None = None
    origin: str = "seed"
    review_status: str = "confirmed"
    evidence: tuple[dict, ...] = ()

    @property
    def key(self) -> str:
        text = f"{self.event}|{self.event_date}|{self.by_reference}|{self.origin}"
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def law_status(effective: Sequence[date], events: Iterable[LifecycleEvent], today: date) -> str | None:
    """The law's state on `today`, from its effective dates and its confirmed events."""
    happened = sorted((e for e in events if e.review_status == "confirmed" and (e.event_date or date.min) <= today),
                      key=lambda e: e.event_date or date.min)
    final = [e for e in happened if e.event in _FINAL]
    if final:
        return final[-1].event
    if any(e.event == "enjoined" for e in happened):
        return "enjoined"
    delays = [e for e in happened if e.event == "delayed"]
    start = min(effective) if effective else None
    if delays and delays[-1].effective_after:
        start = delays[-1].effective_after
        if start > today:
            return "delayed"
    if start is None:
        return "amended" if any(e.event == "amended" for e in happened) else None
    if start > today:
        return "pending_effective"
    return "amended" if any(e.event == "amended" for e in happened) else "effective"


# --- The seed file -----------------------------------------------------------------------------------

SEED_COLUMNS = ("state", "session", "bill", "law", "event", "event_date", "by", "mechanism", "effective_after",
                "source_url", "confidence", "note")


@dataclass(frozen=True)
class SeedRow:
    state: str
    session: str
    bill: str
    law: str
    event: LifecycleEvent
    effective_dates: tuple[date, ...] = ()  # an `effective` row gives the law's start as sourced


@cache
def seed_rows(path: str | None = None) -> tuple[SeedRow, ...]:
    """tracker/data/law_lifecycle.csv: one row per event (or `effective` date) of a landmark law."""
    text = (open(path, encoding="utf-8").read() if path
            else (resources.files("tracker") / "data" / "law_lifecycle.csv").read_text(encoding="utf-8"))
    rows = []
    for number, row in enumerate(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")),
                                 start=2):
        missing = [c for c in SEED_COLUMNS if c not in row]
        if missing:
            raise ValueError(f"law_lifecycle.csv: missing columns {missing}")
        kind = row["event"].strip()
        when = date.fromisoformat(row["event_date"]) if row["event_date"].strip() else None
        if kind == "effective":
            if when is None:
                raise ValueError(f"law_lifecycle.csv row {number}: an effective row needs event_date")
            event = LifecycleEvent("effective", when, confidence=row["confidence"].strip(),
                                   source_url=row["source_url"].strip() or None, note=row["note"].strip() or None)
            rows.append(SeedRow(row["state"].strip(), row["session"].strip(), row["bill"].strip(), row["law"].strip(),
                                event, (when,)))
            continue
        if kind not in EVENTS:
            raise ValueError(f"law_lifecycle.csv row {number}: event {kind!r} is not one of {EVENTS}")
        after = row["effective_after"].strip()
        event = LifecycleEvent(kind, when, row["by"].strip() or None, row["mechanism"].strip() or None,
                               date.fromisoformat(after) if after else None, row["confidence"].strip(),
                               row["source_url"].strip() or None, row["note"].strip() or None)
        rows.append(SeedRow(row["state"].strip(), row["session"].strip(), row["bill"].strip(), row["law"].strip(),
                            event))
    return tuple(rows)


# --- Detection: a later bill that changes an earlier law ---------------------------------------------

_VERBS = (
    ("superseded", re.compile(r"\brepeals? and re-?enacts?\b|\brepeal(?:s|ing)? and replac(?:e|es|ing)\b", re.I)),
    ("repealed", re.compile(r"\brepeal(?:s|ing|ed)?\b", re.I)),
    ("delayed", re.compile(r"\b(?:delay|postpone|defer)(?:s|ing)?\b[^.]{0,80}\b(?:operation|effective|implementation"
                           r"|operative|date)\b|\bextend(?:s|ing)? the (?:effective|operative|implementation) date",
                           re.I)),
    ("amended", re.compile(r"\bamend(?:s|ing)?\b", re.I)),
)
# "Senate Bill 24-205", "House Bill 1170", "S.B. 205", "SB 942", "Assembly Bill No. 2013"
_REFERENCE = re.compile(r"\b(?P<chamber>Senate|House|Assembly|S\.?|H\.?|A\.?)\s*(?:B\.?|Bill)\s*(?:No\.\s*)?"
                        r"(?:(?P<year>\d{2})[A-Z]?-)?0*(?P<number>\d{1,5})\b")


@dataclass(frozen=True)
class KnownLaw:
    key: str
    identifier: str  # "SB 205"
    year: int | None  # the session's first year, for Colorado-style "24-205"
    title: str


@dataclass(frozen=True)
class Proposal:
    law_key: str
    event: LifecycleEvent = field(compare=False)


def _name(title: str) -> str | None:
    """A law's short title usable as a name ("California AI Transparency Act."), or None."""
    cleaned = title.strip().rstrip(".")
    return cleaned if re.search(r"\bAct\b", cleaned) and 3 <= len(cleaned.split()) <= 10 else None


def detect_changes(later_key: str, text: str, later_date: date | None, laws: Sequence[KnownLaw],
                   source_url: str | None = None) -> list[Proposal]:
    """Events a later bill's title/abstract says it makes to earlier laws of its state, for review. Each
    place the text names the law is read with the sentence after it ("... enacted Senate Bill 24-205 ...
    The act repeals and reenacts those provisions"); the strongest event found in any of them wins."""
    proposals = []
    for law in laws:
        if law.key == later_key:
            continue
        windows = [_window(text, span) for span in _mentions(text, law)]
        for event, verb in _VERBS:
            hit = next(((window, found) for window in windows if (found := verb.search(window))), None)
            if hit is None:
                continue
            window, found = hit
            snippet = " ".join(window[max(0, found.start() - 60): found.end() + 80].split())
            after = None
            if event == "delayed" and (written := _WRITTEN_DATE.search(window[found.start():])):
                after = date(int(written.group(3)), _MONTHS[written.group(1).lower()], int(written.group(2)))
            proposals.append(Proposal(law.key, LifecycleEvent(
                event, later_date, later_key, None, after, "L", source_url,
                f"proposed by {later_key} ({event}); confirm or reject with `tracker lifecycle review`",
                "detected", "proposed", ({"term": found.group(0), "snippet": snippet},))))
            break
    return proposals


_SENTENCE_END = re.compile(r"[.!?](?=\s)")


def _window(text: str, span: tuple[int, int]) -> str:
    """The sentence holding the mention and the one after it."""
    begin = max((m.end() for m in _SENTENCE_END.finditer(text, 0, span[0])), default=0)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, span[1])][:2]
    return text[begin: ends[-1] if ends else len(text)]


def _mentions(text: str, law: KnownLaw, limit: int = 10) -> list[tuple[int, int]]:
    """Where the text names the law: by number ("Senate Bill 24-205", "SB 942"), or by short title."""
    letters, number = law.identifier.split(" ", 1)
    spans = []
    for match in _REFERENCE.finditer(text):
        chamber = match.group("chamber")[0].upper()
        if match.group("number") != number.lstrip("0") or chamber != letters[0]:
            continue
        if match.group("year") and law.year is not None and int(match.group("year")) != law.year % 100:
            continue
        spans.append(match.span())
    name = _name(law.title)
    if name:
        spans += [found.span() for found in re.finditer(re.escape(name), text, re.IGNORECASE)]
    return sorted(spans)[:limit]