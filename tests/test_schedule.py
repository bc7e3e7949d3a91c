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


# --- The main job in a real process: starts, polls, schedules, stops cleanly on SIGTERM ------------------

def _serve(tmp_path, *args: str):
    """`tracker ARGS` in a child process (signals need a real one), on its own database, replaying an empty
    folder so nothing reaches the network; returns the process once the scheduler is running."""
    import os
    import subprocess
    import sys

    (tmp_path / "replay").mkdir()
    (tmp_path / "replay" / "replay_manifest.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DATABASE_URL=f"sqlite:///{tmp_path / 'tracker.db'}", TRACKER_DATA_DIR=str(tmp_path / "data"),
               TRACKER_SOURCES="ct-ftp", TRACKER_HTTP_REQUESTS_PER_MINUTE="100000")
    process = subprocess.Popen([sys.executable, "-m", "tracker.cli", *args, "--replay", str(tmp_path / "replay")],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:  # blocks until the child prints; the child needs no clock to get here
        lines.append(line)
        if line.startswith("scheduler running"):
            return process, lines
    raise AssertionError("".join(lines))


@pytest.mark.parametrize("command", [["schedule"], ["run", "--no-dashboard"]])
def test_the_scheduler_process_starts_and_stops_cleanly_on_sigterm(tmp_path, command):
    import signal

    process, lines = _serve(tmp_path, *command)
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    assert "poll:ct-ftp" in output and "stopping (SIGTERM)" in output and output.rstrip().endswith("stopped")
    if command[0] == "run":  # the first poll happened, and said what it did (offline: no recording)
        assert "ct-ftp: failed" in output and "no recording for ftp://ftp.cga.ct.gov" in output
    assert "Traceback" not in output


def test_run_starts_the_dashboard_and_stops_it_with_the_scheduler(settings, monkeypatch):
    import tracker.cli as cli
    import tracker.cli_dashboard as cli_dashboard

    started = []

    class FakeProcess:
        terminated = False

        def poll(self):
            return 0 if self.terminated else None

        def terminate(self):
            self.terminated = True

        def wait(self, timeout=None):
            return 0

    processes = []

    def start(settings, port, address):
        started.append((port, address))
        processes.append(FakeProcess())
        return processes[-1]

    monkeypatch.setattr(cli_dashboard, "start_dashboard_process", start)
    served = []
    monkeypatch.setattr(cli, "_serve_schedule", lambda settings, polled: served.append((*started[-1], polled)))
    monkeypatch.setenv("TRACKER_SOURCES", "")
    from tracker.config import get_settings

    get_settings.cache_clear()
    monkeypatch.setattr(cli, "_poll", lambda names: 0)
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli.app, ["run", "--port", "8600"])
    assert result.exit_code == 0, result.output
    assert "dashboard: http://127.0.0.1:8600/" in result.output
    assert started == [(8600, "127.0.0.1")] and served == [(8600, "127.0.0.1", True)]
    assert processes[0].terminated  # stopped with the scheduler


def test_after_the_first_poll_of_tracker_run_each_job_waits_one_cadence(settings):
    quiet = settings.model_copy(update={"schedule_jitter_seconds": 0})
    soon = {s.source_id: s.trigger.get_next_fire_time(None, NOW) for s in job_specs(quiet, NOW)}
    later = {s.source_id: s.trigger.get_next_fire_time(None, NOW) for s in job_specs(quiet, NOW, polled=True)}
    assert soon["va-lis"] == NOW + timedelta(minutes=1)  # `tracker schedule` alone: poll soon
    assert later["va-lis"] == NOW + timedelta(hours=4)  # `tracker run` polled just now
    assert later["federal-register"] == soon["federal-register"]  # on its crontab either way
