"""The scheduler (issue #11): one job per enabled source with its cadence, stored with fixed ids in the
project's database, never duplicated by a restart, with a misfire grace time that fits the job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import SecretStr

from tracker.config import KEYED_SOURCES, KEYLESS_SOURCES
from tracker.schedule import build_scheduler, crontab, in_session, job_specs, next_runs, poll_job

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def test_default_sources_are_the_keyless_ones_plus_those_with_a_key(settings):
    import scrapers

    assert settings.enabled_sources == list(KEYLESS_SOURCES)
    keyed = settings.model_copy(update={"legiscan_api_key": SecretStr("k"), "ny_lbdc_bills": ["2025:S6953"]})
    assert keyed.enabled_sources == [*KEYLESS_SOURCES, "ny-lbdc", "legiscan"]  # a LegiScan key adds 50 states
    assert settings.model_copy(update={"sources": ["va-lis"]}).enabled_sources == ["va-lis"]
    live = {source_id for source_id, source in scrapers.REGISTRY.items() if source.live}
    assert live == set(KEYLESS_SOURCES) | set(KEYED_SOURCES) | {"ny-lbdc"}


def test_one_job_per_source_with_a_cadence_and_a_real_grace_time(settings):
    specs = {s.source_id: s for s in job_specs(settings.model_copy(update={
        "legiscan_api_key": SecretStr("k"), "congress_api_key": SecretStr("k")}), NOW)}
    assert set(specs) == {*KEYLESS_SOURCES, "legiscan", "congress"}
    assert specs["va-lis"].cadence == timedelta(hours=4) and specs["legiscan"].cadence == timedelta(hours=4)
    assert specs["congress"].cadence == timedelta(hours=6)
    assert specs["va-lis"].misfire_grace_time == 2 * 3600  # never APScheduler's one second
    assert specs["federal-register"].misfire_grace_time == 1800


def test_the_federal_register_runs_hourly_on_weekdays():
    trigger = crontab("7 * * * mon-fri", jitter=0)
    saturday = datetime(2026, 3, 7, 0, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, saturday) == datetime(2026, 3, 9, 0, 7, tzinfo=UTC)
    with pytest.raises(ValueError, match="5 fields"):
        crontab("7 * *", jitter=0)


def test_a_restart_never_duplicates_a_job(settings):
    from tracker import db as database

    database.upgrade(settings.database_url)
    for _ in range(2):  # two starts of `tracker schedule` over the same database
        scheduler = build_scheduler(settings, blocking=False, now=NOW)
        scheduler.start(paused=True)
        jobs = scheduler.get_jobs()
        scheduler.shutdown(wait=False)
    assert sorted(job.id for job in jobs) == sorted(f"poll:{s}" for s in KEYLESS_SOURCES)
    assert all(job.coalesce and job.max_instances == 1 and job.misfire_grace_time >= 600 for job in jobs)
    assert set(next_runs(settings)) == set(KEYLESS_SOURCES)  # what `tracker sources` shows as next


def test_in_session_follows_the_calendars():
    assert in_session("va", date(2026, 2, 1))  # VA 2026: 2026-01-14 to 2026-05-22
    assert not in_session("co", date(2026, 11, 15))  # CO 2026A ended 2026-06-12
    assert in_session("zz", date(2026, 11, 15))  # no calendar: counts as sitting


def test_out_of_session_a_state_source_polls_once_a_day(settings, monkeypatch):
    from tracker import db as database
    import tracker.schedule as schedule

    database.upgrade(settings.database_url)
    monkeypatch.setattr(schedule, "in_session", lambda jurisdiction, today: False)
    monkeypatch.setattr(schedule, "last_success", lambda engine, source_id: datetime.now(UTC) - timedelta(hours=3))
    assert poll_job("va-lis") == ["va-lis: out of session; not due"]
