"""Source health (issue #11), from the run records alone: last success and failure, failures in a row,
next poll, and overdue after three missed cadences; and what the first hour shows on an empty database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from tracker import db as database
from tracker.cli import app
from tracker.health import source_health
from tracker.models import ScrapeRun

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FOUR_HOURS = timedelta(hours=4)


def add_run(engine, status: str, hours_ago: float, message: str = "") -> None:
    at = NOW - timedelta(hours=hours_ago)
    with database.session_scope(engine) as db:
        db.add(ScrapeRun(source_id="va-lis", kind="scrape", target="t", status=status, started_at=at,
                         finished_at=at + timedelta(minutes=1), message=message))


def test_health_counts_failures_in_a_row_and_flags_a_source_overdue(sqlite_url):
    engine = database.get_engine(sqlite_url)
    assert source_health(engine, "va-lis", FOUR_HOURS, now=NOW).line().startswith("never polled")
    add_run(engine, "ok", 20)
    add_run(engine, "failed", 8, "GET https://lis…: HTTP 503 after 5 attempts")
    add_run(engine, "skipped", 6)  # another poller had it: neither a success nor a failure
    add_run(engine, "empty", 4, "no bills found")
    health = source_health(engine, "va-lis", FOUR_HOURS, next_run=NOW + timedelta(hours=1), now=NOW)
    assert (health.failures_in_a_row, health.last_status, health.last_error) == (2, "empty", "no bills found")
    assert health.last_success == NOW - timedelta(hours=20) + timedelta(minutes=1)
    assert health.overdue  # no success for 20 h: more than three 4-hour cadences
    assert health.line().endswith("2 failure(s) in a row: no bills found [OVERDUE]")
    assert "next 2026-03-02 13:00Z" in health.line()
    add_run(engine, "unchanged", 1)  # a 304 is a success
    health = source_health(engine, "va-lis", FOUR_HOURS, now=NOW)
    assert (health.failures_in_a_row, health.overdue) == (0, False)


def test_the_first_hour_on_an_empty_database_every_command_says_what_is_there(settings):
    runner = CliRunner()
    assert runner.invoke(app, ["--version"]).output.startswith("statehouse-ai-tracker ")
    shown = {name: runner.invoke(app, [name]) for name in ("changes", "disagreements", "runs", "sources")}
    assert all(result.exit_code == 0 for result in shown.values()), {k: v.output for k, v in shown.items()}
    assert shown["changes"].output.startswith("no status changes")
    assert shown["disagreements"].output.startswith("no status disagreements")
    assert "no runs yet: `tracker scrape`" in shown["runs"].output
    assert "va-lis: never polled; next not scheduled (`tracker run`" in shown["runs"].output
    assert "never polled" in shown["sources"].output
