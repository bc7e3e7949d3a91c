"""What every source provides. Parsers never fetch; `fetch` fetches and hands text to parsers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from tracker.config import Settings
from tracker.http import Fetcher
# What parsers return belongs to the core (tracker/scraped.py); re-exported here for the scrapers.
from tracker.scraped import Batch, ItemProblem, ParsedItem, ScrapedBill, SourceFormatError  # noqa: F401


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
