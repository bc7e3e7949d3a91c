"""What every source provides. Parsers never fetch; `fetch` fetches and hands text to parsers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from tracker.config import Settings
from tracker.http import Fetcher
from tracker.scraped import ScrapedBill


class SourceFormatError(ValueError):
    """The input is not what this parser reads (missing columns, HTML instead of CSV...).
    Fails the whole batch loudly: a layout change must never look like 'no bills'."""


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """One record the parser could not read (skipped), or, with `kept`, a note about a record that was
    stored anyway (an action date it could not read, a session with no calendar). The run records it
    and goes on; only skipped records make a run `partial`."""

    message: str
    item_key: str | None = None
    url: str | None = None
    kept: bool = False


ParsedItem = ScrapedBill | ItemProblem


@dataclass(slots=True)
class Batch:
    """One unit of work that becomes one run record (a session's files, one API page set)."""

    target: str  # URLs or file path, recorded in the run
    items: Iterable[ParsedItem] = field(default_factory=list)
    not_modified: bool = False  # every response was a 304 / cache revalidation: nothing to do
    error: str | None = None  # fetching failed; the run is recorded as failed with this message


class Source(ABC):
    id: ClassVar[str]
    title: ClassVar[str]
    jurisdiction: ClassVar[str]  # two letters, or "*" for multi-state sources
    live: ClassVar[bool] = True  # False: reads saved files only (`tracker ingest`)

    @abstractmethod
    def read_path(self, path: Path, *, fetched_at: datetime | None = None,
                  session: str | None = None) -> Batch:
        """Parse saved files (for `tracker parse` / `tracker ingest`)."""

    @abstractmethod
    def fetch(self, fetcher: Fetcher, settings: Settings) -> Iterator[Batch]:
        """Fetch live data through `fetcher` (tracker.http) and parse it."""
