"""Every run leaves a record. A batch is ingested in one transaction; the run row is written
before and after it in transactions of its own, so a failed ingest still leaves its record."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from contextlib import nullcontext

from sqlalchemy import Engine, delete, select, update

from scrapers import get_source
from tracker.config import Settings
from tracker.db import session_scope
from tracker.http import Fetcher, redact
from tracker.models import RunProblem, ScrapeRun
from tracker.scraped import Batch, fail_if_nothing_read
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
    """Messages quote bad input; PostgreSQL refuses NUL in text, which would lose the run record. And no
    API key reaches a run record, a problem or a traceback (tracker.http.redact, the one redaction)."""
    return redact(text.replace("\x00", "\\x00")) if text else text


def _start(engine: Engine, source_id: str, kind: str, target: str) -> int:
    with session_scope(engine) as db:
        run = ScrapeRun(source_id=source_id, kind=kind, target=target)
        db.add(run)
        db.flush()
        return run.id


class ListingShrank(RuntimeError):
    """A live listing returned far fewer bills than its last good run: a broken page, not news."""


# A live poll that sees fewer than this share of the bills its listing gave last time fails, and
# nothing it carried is stored: a site that suddenly lists half its bills is broken (issue #11).
SHRINK_RATIO = 0.5


def _last_good_count(engine: Engine, source_id: str, target: str, before_run: int) -> int | None:
    with session_scope(engine) as db:
        row = db.execute(select(ScrapeRun.inserted + ScrapeRun.updated + ScrapeRun.unchanged)
                         .where(ScrapeRun.source_id == source_id, ScrapeRun.target == target,
                                ScrapeRun.kind == "scrape", ScrapeRun.status.in_(("ok", "partial", "unchanged")),
                                ScrapeRun.id < before_run)
                         .order_by(ScrapeRun.id.desc()).limit(1)).scalar_one_or_none()
    return row


def run_batch(engine: Engine, source_id: str, batch: Batch, *, kind: str = "scrape",
              allow_history_rewrite: bool = False, run_id: int | None = None,
              stats: dict[str, int] | None = None) -> RunSummary:
    """Store one batch as one run. `run_id`: a run record opened before the fetch began."""
    if run_id is None:
        close_interrupted(engine, source_id, older_than=timedelta(hours=6))
        run_id = _start(engine, source_id, kind, batch.target)
    status, message, trace = "failed", "", None
    result = None
    try:
        if batch.error:
            message = batch.error
        else:
            with session_scope(engine) as db:
                result = ingest(db, batch.items, run_id=run_id, allow_history_rewrite=allow_history_rewrite)
                previous = _last_good_count(engine, source_id, batch.target, run_id) if kind == "scrape" else None
                if previous and 0 < result.bills_seen < SHRINK_RATIO * previous:  # zero is `empty`
                    raise ListingShrank(
                        f"{batch.target} listed {result.bills_seen} bill(s), fewer than half of the {previous} "
                        "of its last good run: a broken listing; nothing it carried was stored")
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
            message = "; ".join(filter(None, (message, run_detect(engine, run_id))))
    except ListingShrank as exc:
        message, result = str(exc), None
        log.error("%s run %d failed: %s", source_id, run_id, message)
    except Exception as exc:  # noqa: BLE001 - any failure becomes a recorded, failed run
        message, trace = f"{type(exc).__name__}: {exc}", traceback.format_exc()
        log.error("%s run %d failed: %s", source_id, run_id, message)
    finally:
        with session_scope(engine) as db:
            run = db.get(ScrapeRun, run_id)
            run.finished_at, run.status, run.target = datetime.now(UTC), status, batch.target
            for name, value in (stats or {}).items():
                setattr(run, name, value)
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


def run_detect(engine: Engine, run_id: int | None, **options) -> str:
    """The detect stage after a stored batch, in its own transaction: what it found, in a few words, or
    why it failed. A failure here never undoes the ingest; the next run (or `tracker reclassify`) retries,
    since every bill it did not finish is still stale."""
    from tracker.detect.pipeline import detect

    try:
        with session_scope(engine) as db:
            found = detect(db, run_id=run_id, **options)
    except Exception as exc:  # noqa: BLE001 - recorded in the run's message, the stored batch stands
        log.error("detect after run %s failed: %s", run_id, exc, exc_info=True)
        return f"detect failed ({type(exc).__name__}: {exc}); stored data kept, retried on the next run"
    return (f"{found.events} new event(s) (AI relevance, lifecycle, conflicts)" if found.events else "")


def run_source(engine: Engine, settings: Settings, source_id: str, *, fetcher: Fetcher | None = None,
               lock: bool = True) -> list[RunSummary]:
    """Fetch and store one source, holding its lock (tracker.locks) so no other process polls it at the
    same time. Each batch's run record is opened before its fetch starts and records what the fetch
    cost. Network trouble fails the run with a message, not a traceback."""
    from tracker.locks import SourceBusy, source_lock

    source = get_source(source_id)
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    summaries: list[RunSummary] = []
    try:
        with source_lock(engine, source_id) if lock else nullcontext():
            close_interrupted(engine, source_id)
            batches = source.fetch(fetcher, settings)
            while True:
                run_id = _start(engine, source_id, "scrape", source_id)  # before the fetch
                before = fetcher.stats.as_dict()
                try:
                    batch = next(batches)
                except StopIteration:
                    _discard(engine, run_id)  # the source had nothing more to fetch: no run happened
                    break
                except Exception as exc:  # noqa: BLE001 - a source bug must not stop the other sources
                    batch = Batch(target=source_id, error=f"{type(exc).__name__}: {exc}")
                    summaries.append(run_batch(engine, source_id, batch, run_id=run_id,
                                               stats=_spent(before, fetcher.stats.as_dict())))
                    break
                batch.items = fail_if_nothing_read(batch.items)  # all problems: say which, not `empty`
                summaries.append(run_batch(engine, source_id, batch, run_id=run_id,
                                           stats=_spent(before, fetcher.stats.as_dict())))
    except SourceBusy as exc:
        summaries.append(RunSummary(0, source_id, source_id, "skipped", 0, 0, 0, 0, 0, str(exc)))
    finally:
        if own:
            fetcher.close()
    return summaries


def close_interrupted(engine: Engine, source_id: str, older_than: timedelta = timedelta(0)) -> int:
    """Runs of this source still `running` though nobody runs them (the process was killed): marked
    `interrupted`. Called while holding the source's lock (no other poller of it is alive), or for runs
    older than any ingest takes. Nothing of such a run was stored: its transaction never committed."""
    cutoff = datetime.now(UTC) - older_than
    with session_scope(engine) as db:
        return db.execute(update(ScrapeRun).where(ScrapeRun.source_id == source_id, ScrapeRun.status == "running",
                                                  ScrapeRun.started_at < cutoff)
                          .values(status="interrupted", finished_at=datetime.now(UTC),
                                  message="the process stopped before this run finished; nothing of it was stored")
                          ).rowcount


def _spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in after}


def _discard(engine: Engine, run_id: int) -> None:
    with session_scope(engine) as db:
        db.execute(delete(ScrapeRun).where(ScrapeRun.id == run_id, ScrapeRun.status == "running"))
