"""The scheduler (APScheduler 3.x; 4.x is still alpha): one job per enabled source, each with its own
cadence, run by `tracker schedule` and `tracker run`.

* State sources poll every TRACKER_SCHEDULE_STATE_HOURS (4) while their legislature is in session and
  every TRACKER_SCHEDULE_STATE_IDLE_HOURS (24) out of it, from the session calendars (a state with no
  calendar counts as in session); LegiScan every TRACKER_SCHEDULE_LEGISCAN_HOURS (4, within its monthly
  budget, which tracker.budget enforces); Congress.gov every TRACKER_SCHEDULE_CONGRESS_HOURS (6); the
  Federal Register on TRACKER_SCHEDULE_FEDERAL_REGISTER_CRON (hourly on weekdays, with the
  public-inspection desk).
* Every job has a fixed id and is stored with `replace_existing` in the project's own database
  (SQLAlchemyJobStore), so a restart never duplicates it; jitter spreads the polls; `coalesce` runs a
  job once after downtime, never a backlog; `max_instances=1`; and a misfire grace time that fits the
  cadence (half of it, at least ten minutes), so a daily job late by a restart still runs (APScheduler's
  default of one second would silently skip it).
* A job polls through tracker.runs.run_source, which holds the source's lock (tracker.locks): two
  scheduler processes, or a schedule and a manual `tracker scrape`, never poll one source at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from scrapers import REGISTRY
from tracker.calendar import _calendars
from tracker.config import Settings, get_settings
from tracker.db import get_engine, session_scope
from tracker.models import ScrapeRun

log = logging.getLogger(__name__)
JOBS_TABLE = "apscheduler_jobs"  # created by APScheduler itself; tracker/migrations/env.py leaves it alone


@dataclass(frozen=True)
class JobSpec:
    id: str
    source_id: str
    trigger: BaseTrigger
    misfire_grace_time: int  # seconds
    cadence: timedelta  # the expected time between polls, for source health


def in_session(jurisdiction: str, today: date) -> bool:
    """Is the legislature sitting (between a calendar's start and its final action)? A state with no
    calendar counts as sitting: polling too often is cheaper than missing a change."""
    spans = [(c.start_date, c.final_action_date) for (j, _), c in _calendars().items() if j == jurisdiction]
    if not spans:
        return True
    return any((start or date.min) <= today <= (end or date.max) for start, end in spans)


def cadence_of(source_id: str, settings: Settings) -> timedelta:
    if source_id in ("legiscan", "legiscan-dataset"):
        return timedelta(hours=settings.schedule_legiscan_hours)
    if source_id == "congress":
        return timedelta(hours=settings.schedule_congress_hours)
    if source_id == "federal-register":
        return timedelta(hours=1)
    return timedelta(hours=settings.schedule_state_hours)


def _grace(cadence: timedelta) -> int:
    return max(600, int(cadence.total_seconds() / 2))


def crontab(expression: str, jitter: int) -> CronTrigger:
    """A crontab line as a CronTrigger with jitter (CronTrigger.from_crontab takes no jitter)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab line has 5 fields (minute hour day month day-of-week), not {expression!r}")
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week, jitter=jitter,
                       timezone=UTC)


def job_specs(settings: Settings, now: datetime | None = None, *, polled: bool = False) -> list[JobSpec]:
    """One job per enabled live source. Each first polls a minute from `now`, or, when every source was
    just polled (`polled`: `tracker run` polls once before it schedules), one cadence from now: a
    LegiScan poll a minute after the last would only spend its budget."""
    now = now or datetime.now(UTC)
    specs = []
    for source_id in settings.enabled_sources:
        source = REGISTRY.get(source_id)
        if source is None or not source.live:
            continue
        cadence = cadence_of(source_id, settings)
        if source_id == "federal-register":
            trigger: BaseTrigger = crontab(settings.schedule_federal_register_cron, settings.schedule_jitter_seconds)
        else:
            trigger = IntervalTrigger(seconds=int(cadence.total_seconds()), start_date=now + (cadence if polled else timedelta(minutes=1)),
                                      jitter=settings.schedule_jitter_seconds, timezone=UTC)
        specs.append(JobSpec(f"poll:{source_id}", source_id, trigger, _grace(cadence), cadence))
    return specs


def poll_job(source_id: str) -> list[str]:
    """What a scheduled job runs (referenced as `tracker.schedule:poll_job`). Out of session, a state
    source polls only once per TRACKER_SCHEDULE_STATE_IDLE_HOURS."""
    from tracker.runs import run_source

    settings = get_settings()
    engine = get_engine(settings.database_url)
    source = REGISTRY[source_id]
    now = datetime.now(UTC)
    if len(source.jurisdiction) == 2 and source.jurisdiction != "us" and not in_session(source.jurisdiction,
                                                                                          now.date()):
        last = last_success(engine, source_id)
        if last is not None and now - last < timedelta(hours=settings.schedule_state_idle_hours):
            log.info("%s: out of session, last polled %s; next poll after %s h", source_id, last,
                     settings.schedule_state_idle_hours)
            return [f"{source_id}: out of session; not due"]
    return [summary.line() for summary in run_source(engine, settings, source_id)]


def last_success(engine, source_id: str) -> datetime | None:
    with session_scope(engine) as db:
        found = db.execute(select(ScrapeRun.finished_at).where(
            ScrapeRun.source_id == source_id, ScrapeRun.kind == "scrape",
            ScrapeRun.status.in_(("ok", "partial", "unchanged"))).order_by(ScrapeRun.id.desc()).limit(1)
        ).scalar_one_or_none()
    return found if found is None or found.tzinfo else found.replace(tzinfo=UTC)


def build_scheduler(settings: Settings, *, blocking: bool = True, now: datetime | None = None,
                    polled: bool = False):
    """The scheduler with every job, stored in the project's database. Not started."""
    engine = get_engine(settings.database_url)
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
                                job_defaults={"coalesce": True, "max_instances": 1}, timezone=UTC)
    for spec in job_specs(settings, now, polled=polled):
        scheduler.add_job("tracker.schedule:poll_job", trigger=spec.trigger, args=[spec.source_id], id=spec.id,
                          name=f"poll {spec.source_id}", replace_existing=True,
                          misfire_grace_time=spec.misfire_grace_time, coalesce=True, max_instances=1)
    if settings.digests_enabled:  # digest jobs only when an SMTP server is set (TRACKER_SMTP_HOST)
        for frequency in ("daily", "weekly"):
            # Hourly: each subscriber's window opens at 07:00 in its own time zone; a window is sent once.
            scheduler.add_job("tracker.schedule:digest_job", trigger=CronTrigger(minute=5, timezone=UTC),
                              args=[frequency], id=f"digest:{frequency}", name=f"{frequency} digests",
                              replace_existing=True, misfire_grace_time=1800, coalesce=True, max_instances=1)
    scheduler.add_listener(_log_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def digest_job(frequency: str) -> str:
    """What the digest jobs run (`tracker.schedule:digest_job`): tracker.deliver.digests.send_due."""
    from tracker.deliver.digests import send_due

    settings = get_settings()
    return send_due(get_engine(settings.database_url), settings, frequency=frequency).line()


def _log_event(event) -> None:
    if getattr(event, "exception", None) is not None:
        log.error("job %s failed: %s", event.job_id, event.exception)
    else:
        log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)


def next_runs(settings: Settings) -> dict[str, datetime | None]:
    """source id -> the next scheduled poll, from the stored jobs (None if no scheduler has run)."""
    engine = get_engine(settings.database_url)
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
    try:
        store.start(None, "default")  # creates the jobs table if absent; never shut down: it would
        return {job.args[0]: job.next_run_time for job in store.get_all_jobs()  # dispose our engine
                if job.id.startswith("poll:")}
    except Exception:  # noqa: BLE001 - a database the scheduler has never seen
        return {}
