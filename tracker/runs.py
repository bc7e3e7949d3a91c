"""Every run leaves a record. A batch is ingested in one transaction; the run row is written
before and after it in transactions of its own, so a failed ingest still leaves its record."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from scrapers import get_source
from scrapers.base import Batch
from tracker.config import Settings
from tracker.db import session_scope
from tracker.http import Fetcher
from tracker.models import RunProblem, ScrapeRun
from tracker.storage import ingest

log = logging.getLogger(__name__)
MAX_PROBLEMS_STORED = 20_000  # a whole session can be held for review (a history file cut short)


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    source_id: str
    target: str
    status: str
    inserted: int
    updated: int
    unchanged: int
    status_changes: int
    problems: int
    message: str

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "unchanged")

    def line(self) -> str:
        counts = (f"inserted {self.inserted}, updated {self.updated}, unchanged {self.unchanged}, "
                  f"status changes {self.status_changes}, problems {self.problems}")
        text = f"{self.source_id}: {self.status} - {counts}"
        return f"{text} - {self.message}" if self.message else text


def _printable(text: str | None) -> str | None:
    """Messages quote bad input; PostgreSQL refuses NUL in text, which would lose the run record."""
    return text.replace("\x00", "\\x00") if text else text


def _start(engine: Engine, source_id: str, kind: str, target: str) -> int:
    with session_scope(engine) as db:
        run = ScrapeRun(source_id=source_id, kind=kind, target=target)
        db.add(run)
        db.flush()
        return run.id


def run_batch(engine: Engine, source_id: str, batch: Batch, *, kind: str = "scrape",
              allow_history_rewrite: bool = False) -> RunSummary:
    run_id = _start(engine, source_id, kind, batch.target)
    status, message, trace = "failed", "", None
    result = None
    try:
        if batch.error:
            message = batch.error
        else:
            with session_scope(engine) as db:
                result = ingest(db, batch.items, run_id=run_id, allow_history_rewrite=allow_history_rewrite)
            if batch.not_modified and not (result.inserted or result.updated or result.problems):
                status = "unchanged"
                message = "not modified since the last fetch (304); stored data confirmed"
            elif result.bills_seen == 0:
                # A source that suddenly lists nothing is broken, not quiet.
                status, message = "empty", "no bills found; stored data left as it was"
            elif skipped := sum(not p.kept for p in result.problems):
                status, message = "partial", f"{skipped} record(s) skipped; see run problems"
            else:
                status = "ok"
            notes = sum(p.kept for p in result.problems)
            if notes and status != "failed":
                message = "; ".join(filter(None, (message, f"{notes} note(s) on stored records; see run problems")))
    except Exception as exc:  # noqa: BLE001 - any failure becomes a recorded, failed run
        message, trace = f"{type(exc).__name__}: {exc}", traceback.format_exc()
        log.error("%s run %d failed: %s", source_id, run_id, message)
    finally:
        with session_scope(engine) as db:
            run = db.get(ScrapeRun, run_id)
            run.finished_at, run.status = datetime.now(UTC), status
            run.message, run.traceback = _printable(message), _printable(trace)
            if result is not None and status != "failed":
                run.inserted, run.updated, run.unchanged = result.inserted, result.updated, result.unchanged
                run.status_changes = result.status_changes
            if result is not None:
                run.problems = sum(not p.kept for p in result.problems)  # notes are listed, not counted
                for problem in result.problems[:MAX_PROBLEMS_STORED]:
                    db.add(RunProblem(run_id=run_id, item_key=_printable(problem.item_key), url=problem.url,
                                      message=_printable(("note: " if problem.kept else "") + problem.message)))
    return RunSummary(run_id, source_id, batch.target, status,
                      *((result.inserted, result.updated, result.unchanged, result.status_changes)
                        if result and status != "failed" else (0, 0, 0, 0)),
                      sum(not p.kept for p in result.problems) if result else 0, message)


def run_source(engine: Engine, settings: Settings, source_id: str, *, fetcher: Fetcher | None = None
               ) -> list[RunSummary]:
    """Fetch and store one source. Network trouble fails the run with a message, not a traceback."""
    source = get_source(source_id)
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    summaries = []
    try:
        for batch in source.fetch(fetcher, settings):
            summaries.append(run_batch(engine, source_id, batch))
    except Exception as exc:  # noqa: BLE001 - a source bug must not stop the other sources
        summaries.append(run_batch(engine, source_id, Batch(target=source_id, error=f"{type(exc).__name__}: {exc}")))
    finally:
        if own:
            fetcher.close()
    return summaries
