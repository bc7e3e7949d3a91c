"""Shared test fixtures: temporary databases (SQLite and PostgreSQL), settings, ../shared files."""

from __future__ import annotations

import functools
import os
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tracker import db as database
from tracker.config import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRACKER_SHARED_DIR", ROOT.parent / "shared"))
HERE = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FETCHED = datetime(2026, 8, 1, tzinfo=UTC)  # when the VA 2024 files were downloaded (PROVENANCE.md)


def pytest_addoption(parser):
    parser.addoption("--fake-now", metavar="ISO_DATETIME", default=os.environ.get("TRACKER_TEST_FAKE_NOW"),
                     help="Run the whole suite with the wall clock moved to this moment (time-machine), to "
                          "prove no test depends on today's date, e.g. --fake-now 2027-12-01T12:00:00+00:00.")


def pytest_configure(config):
    fake_now = config.getoption("--fake-now")
    if fake_now:
        import time_machine

        traveller = time_machine.travel(datetime.fromisoformat(fake_now), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


SESSION_FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)  # whole sessions carry no fetch time of their own


def session_items(name: str) -> list:
    """Every parsed item of one whole session of ../shared/fixtures/states/openstates_sessions (by file
    stem, `co_2026A`), judged as fetched at SESSION_FETCHED; parsed once per test process."""
    shared_file(f"fixtures/states/openstates_sessions/{name}.jsonl.gz")
    return _session_items(name)


def session_report(name: str, own_table: bool = True):
    """tracker.normalize.agreement.compare_session on that session, computed once per test process."""
    session_items(name)
    return _session_report(name, own_table)


@functools.cache
def _session_items(name: str) -> list:
    from scrapers.openstates import OpenStatesFiles

    path = SHARED / f"fixtures/states/openstates_sessions/{name}.jsonl.gz"
    return list(OpenStatesFiles().read_path(path, fetched_at=SESSION_FETCHED).items)


@functools.cache
def _session_report(name: str, own_table: bool):
    from tracker.normalize.agreement import compare_session

    return compare_session(name, _session_items(name), own_table=own_table)


def shared_file(relative: str) -> Path:
    """A file under ../shared, or skip: a fresh clone without ../shared must still pass."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"needs ../shared/{relative} (real recorded data kept beside the checkout, not in it)")
    return path


@pytest.fixture(autouse=True)
def _fresh_secret_registry():
    """tracker.http registers every API key it sees for the whole process; a test's key must not redact
    another test's text."""
    yield
    from tracker.http import forget_secrets

    forget_secrets()


@pytest.fixture
def local_fixture():
    return lambda name: HERE / name


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> str:
    if not _postgres_available():
        subprocess.run([str(ROOT / "scripts" / "start-postgres.sh")], check=False)
    if not _postgres_available():
        message = f"PostgreSQL not reachable at {POSTGRES_URL} (scripts/start-postgres.sh could not start it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # One scratch database per test session, so a developer's `test` database is left alone.
    name = f"tracker_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    database.get_engine.cache_clear()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_postgres(url: str) -> str:
    engine = database.get_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """A migrated, empty database: every storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        url = _fresh_postgres(request.getfixturevalue("postgres_server"))
    database.upgrade(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    database.upgrade(url)
    return url


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """Settings pointing at a temp folder; also what get_settings() returns (for the CLI)."""
    for key in list(os.environ):
        if key.startswith("TRACKER_") and key not in ("TRACKER_TEST_POSTGRES_URL", "TRACKER_SHARED_DIR"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("TRACKER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'tracker.db'}")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
