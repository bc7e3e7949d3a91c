"""The `tracker` command: --help everywhere, parse (JSON Lines), ingest counts, runs, changes."""

import json

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from tests.conftest import shared_file
from tracker.cli import app

runner = CliRunner()


def command_paths() -> list[list[str]]:
    root = get_command(app)
    paths = []
    for name, command in root.commands.items():
        paths.append([name])
        for sub in getattr(command, "commands", {}):
            paths.append([name, sub])
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_every_command_has_help(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_parse_prints_json_lines(settings):
    path = shared_file("fixtures/states/va/AI_SLICE_241_Bills.csv")
    result = runner.invoke(app, ["parse", "va-lis", str(path), "--fetched-at", "2026-08-01"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 9
    sb487 = next(r for r in records if r["identifier"] == "SB 487")
    assert {"jurisdiction", "session", "identifier", "title", "status", "status_date", "actions",
            "source_url"} <= set(sb487)
    assert (sb487["jurisdiction"], sb487["session"], sb487["status"], sb487["status_date"]) == (
        "va", "2024", "enacted", "2024-04-08")
    assert sb487["actions"][0] == {"date": "2024-01-09", "raw_date": "01/09/24", "actor": "upper",
                                   "text": sb487["actions"][0]["text"], "classification": ["filing", "introduction"],
                                   "layer": "state"}
    assert not (settings.data_dir / "tracker.db").exists()  # parse touches no database


def test_ingest_prints_counts_and_is_idempotent(settings):
    path = shared_file("fixtures/states/va/AI_SLICE_241_Bills.csv")
    first = runner.invoke(app, ["ingest", "va-lis", str(path), "--fetched-at", "2026-08-01"])
    assert first.exit_code == 0, first.output
    assert "inserted 9, updated 0, unchanged 0, status changes 9" in first.output
    second = runner.invoke(app, ["ingest", "va-lis", str(path), "--fetched-at", "2026-08-01"])
    assert "inserted 0, updated 0, unchanged 9, status changes 0" in second.output
    runs = runner.invoke(app, ["runs"])
    assert runs.exit_code == 0 and runs.output.count("va-lis ingest ok") == 2
    changes = runner.invoke(app, ["changes", "--include-new", "--jurisdiction", "va"])
    assert "va-2024-SB487\tnew -> enacted/signed\t2024-04-08\thttps://legacylis.virginia.gov" in changes.output
    # First sightings are not status changes; an empty answer says so (and how to see them).
    assert runner.invoke(app, ["changes"]).output == "no status changes (first sightings of new bills: --include-new)\n"


def test_ingest_of_a_broken_file_fails_clearly_and_keeps_data(settings, tmp_path):
    path = shared_file("fixtures/states/va/AI_SLICE_241_Bills.csv")
    runner.invoke(app, ["ingest", "va-lis", str(path)])
    broken = tmp_path / "b_241_Bills.csv"
    broken.write_text("<html><body>Maintenance</body></html>")
    (tmp_path / "b_241_History.csv").write_text('"Bill_id","History_date","History_description"\n')
    result = runner.invoke(app, ["ingest", "va-lis", str(broken)])
    assert result.exit_code == 1
    assert "failed" in result.output and "HTML" in result.output and "Traceback" not in result.output
    assert "unchanged 0" in result.output
    again = runner.invoke(app, ["ingest", "va-lis", str(path)])
    assert "unchanged 9" in again.output  # nothing was lost


def test_unknown_source_and_missing_session_are_usage_errors(settings, tmp_path):
    assert runner.invoke(app, ["parse", "nope", str(tmp_path)]).exit_code == 2
    bills = tmp_path / "Bills.csv"
    bills.write_text("x")
    (tmp_path / "History.csv").write_text("x")
    result = runner.invoke(app, ["parse", "va-lis", str(bills)])
    assert result.exit_code == 2 and "--session" in result.output


def test_reclassify_and_db_commands(settings):
    path = shared_file("fixtures/states/va/AI_SLICE_241_Bills.csv")
    runner.invoke(app, ["ingest", "va-lis", str(path)])
    result = runner.invoke(app, ["reclassify"])
    assert result.exit_code == 0 and "reclassify: ok - 9 bills, 0 actions reclassified, 0 status changes" in result.output
    from tracker.db import script_heads

    assert runner.invoke(app, ["db", "current"]).output.strip() == script_heads(settings.database_url)
    listing = runner.invoke(app, ["sources"]).output
    assert "va-lis" in listing and "enabled" in listing and "openstates-json" in listing
    scrape_files_only = runner.invoke(app, ["scrape", "openstates-json"])
    assert scrape_files_only.exit_code == 2 and "saved files only" in scrape_files_only.output


def test_run_with_replay_of_the_real_2024_files(settings, monkeypatch):
    from tests.conftest import SHARED

    shared_file("fixtures/states/va/legacylis_241_Bills.csv.gz")
    monkeypatch.setenv("TRACKER_REPLAY_DIR", str(SHARED))
    monkeypatch.setenv("TRACKER_VA_SESSIONS", "241")
    monkeypatch.setenv("TRACKER_SOURCES", "va-lis")
    monkeypatch.setenv("TRACKER_HTTP_REQUESTS_PER_MINUTE", "100000")
    from tracker.config import get_settings

    get_settings.cache_clear()
    result = runner.invoke(app, ["run", "--once"])
    assert result.exit_code == 0, result.output
    assert "va-lis: ok - inserted 3595" in result.output and "sources: va-lis" in result.output


def test_hostile_titles_cannot_drive_the_terminal_or_break_lines(settings, tmp_path):
    header = ('"Bill_id","Bill_description","Patron_id","Patron_name","Introduction_date","Chapter_id",'
              '"Passed_house","Passed_senate","Passed","Failed","Carried_over","Approved","Vetoed"\n')
    title = "AI\x1b[2J\x1b]0;pwned\x07 act\tsecond\nline"
    (tmp_path / "h_241_Bills.csv").write_text(
        header + f'"HB1","{title}","H1","P","01/04/24","","N","N","N","N","N","N","N"\n')
    (tmp_path / "h_241_History.csv").write_text(
        '"Bill_id","History_date","History_description","History_refid"\n'
        '"HB1","01/04/24","H Prefiled and ordered printed; offered 01/10/24",""\n')
    assert runner.invoke(app, ["ingest", "va-lis", str(tmp_path / "h_241_Bills.csv")]).exit_code == 0
    output = runner.invoke(app, ["changes", "--include-new"]).output
    assert "\x1b" not in output and "\x07" not in output
    assert output.count("\n") == 1 and "\\x1b[2J" in output and "act second line" in output
