"""Source health, from the run records alone: when each source last succeeded and last failed, how many
times in a row it has failed, when it polls next, and whether it is overdue (no success for three of its
cadences). `tracker sources`, `tracker runs` and the dashboard show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from tracker.db import session_scope
from tracker.models import ScrapeRun

GOOD = ("ok", "partial", "unchanged")
OVERDUE_CADENCES = 3


@dataclass(frozen=True)
class Health:
    source_id: str
    last_run: datetime | None
    last_status: str | None
    last_success: datetime | None
    last_failure: datetime | None
    last_error: str | None
    failures_in_a_row: int
    next_run: datetime | None
    overdue: bool

    def line(self) -> str:
        when = lambda value: value.strftime("%Y-%m-%d %H:%M") + "Z" if value else "never"  # noqa: E731
        if self.last_run is None:
            return ("never polled; next " + (when(self.next_run) if self.next_run else
                                             "not scheduled (`tracker run` polls now and keeps the schedule)"))
        text = (f"last run {when(self.last_run)} ({self.last_status or '-'}), last success {when(self.last_success)}, "
                f"next {when(self.next_run) if self.next_run else 'not scheduled'}")
        if self.failures_in_a_row:
            text += f", {self.failures_in_a_row} failure(s) in a row: {self.last_error}"
        return text + (" [OVERDUE]" if self.overdue else "")


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def source_health(engine: Engine, source_id: str, cadence: timedelta, next_run: datetime | None = None,
                  now: datetime | None = None, history: int = 50) -> Health:
    now = now or datetime.now(UTC)
    with session_scope(engine) as db:
        runs = list(db.execute(select(ScrapeRun).where(ScrapeRun.source_id == source_id, ScrapeRun.kind == "scrape",
                                                       ScrapeRun.status != "running")
                               .order_by(ScrapeRun.id.desc()).limit(history)).scalars())
    failures = 0
    for run in runs:
        if run.status in GOOD:
            break
        if run.status != "skipped":
            failures += 1
    success = next((r for r in runs if r.status in GOOD), None)
    failure = next((r for r in runs if r.status in ("failed", "empty")), None)
    last_success = _utc(success.finished_at) if success else None
    overdue = bool(runs) and (last_success is None or now - last_success > OVERDUE_CADENCES * cadence)
    return Health(source_id, _utc(runs[0].started_at) if runs else None, runs[0].status if runs else None,
                  last_success, _utc(failure.finished_at) if failure else None,
                  failure.message if failure else None, failures, next_run, overdue)
