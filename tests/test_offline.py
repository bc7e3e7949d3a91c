"""With no network (issue #11), every live source fails fast with one line that says so and how to run
offline (`--replay`): a name-resolution failure is never retried, over HTTP (httpx) or FTP (ftplib).
Connecticut's FTP files replay and record like the HTTP sources."""

from __future__ import annotations

import socket

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

import scrapers
from tracker import db as database
from tracker.http import Fetcher
from tracker.runs import run_source

LIVE = sorted(source_id for source_id, source in scrapers.REGISTRY.items() if source.live)
KEYS = {"legiscan_api_key": SecretStr("offline-key-1"), "openstates_api_key": SecretStr("offline-key-2"),
        "congress_api_key": SecretStr("offline-key-3"), "ny_openleg_api_key": SecretStr("offline-key-4"),
        "ny_lbdc_bills": ["2025:S6953", "2025:A6453"], "openstates_jurisdictions": ["co", "ga"],
        "va_sessions": ["261", "262"], "ny_session_years": ["2025", "2023"],
        "http_requests_per_minute": 1e9, "http_max_retries": 4}


@pytest.fixture
def offline(monkeypatch):
    """No name resolution, as on a machine without network (pytest-socket blocks connections as well)."""
    resolved: list[str] = []

    def no_dns(host, *args, **kwargs):
        resolved.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return resolved


@pytest.mark.parametrize("source_id", LIVE)
def test_offline_each_source_fails_fast_with_one_line_naming_replay(source_id, settings, offline, monkeypatch):
    keyed = settings.model_copy(update=KEYS)
    database.upgrade(keyed.database_url)
    sleeps: list[float] = []
    if source_id == "ct-ftp":
        monkeypatch.setattr(scrapers.REGISTRY["ct-ftp"], "sleep", sleeps.append)
    with Fetcher(keyed, sleep=sleeps.append) as fetcher:
        summaries = run_source(database.get_engine(keyed.database_url), keyed, source_id, fetcher=fetcher)
    assert [s.status for s in summaries] == ["failed"], [s.line() for s in summaries]
    message = summaries[0].message
    assert "cannot resolve" in message and "--replay" in message and "\n" not in message
    assert sleeps == [] and len(offline) == 1  # asked once, never retried (not 4 times over 34 s)


def test_offline_scrape_prints_a_line_per_source_and_a_hint(settings, offline):
    from tracker.cli import app

    result = CliRunner().invoke(app, ["scrape", "va-lis", "wa-wsl", "ct-ftp"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["va-lis", "wa-wsl", "ct-ftp"]
    assert all("cannot resolve" in line for line in lines[:3])
    assert "--replay" in lines[-1]


def test_connecticut_ftp_files_are_recorded_then_replayed(settings, tmp_path):
    from tests.test_ct_ftp import GOOD_FILES, FakeServer
    from scrapers.ct_ftp import ConnecticutFTP

    folder = tmp_path / "recorded"
    server = FakeServer(dict(GOOD_FILES))
    with Fetcher(settings.model_copy(update={"http_cache": False}), record_dir=folder) as recorder:
        (live,) = ConnecticutFTP(ftp_factory=server, sleep=lambda s: None).fetch(recorder, settings)
        live_bills = sorted(i.identifier for i in live.items if hasattr(i, "identifier"))
    manifest = (folder / "replay_manifest.toml").read_text()
    assert 'url = "ftp://ftp.cga.ct.gov/pub/data/bill_info.csv"' in manifest
    never = FakeServer({})  # replay must not connect
    replaying = settings.model_copy(update={"http_cache": False, "replay_dir": folder})
    with Fetcher(replaying, sleep=lambda s: None) as fetcher:
        (batch,) = ConnecticutFTP(ftp_factory=never).fetch(fetcher, replaying)
        replayed = sorted(i.identifier for i in batch.items if hasattr(i, "identifier"))
    assert never.connections == [] and batch.error is None
    assert replayed == live_bills == ["HB 5222", "SB 417", "SB 435"]
