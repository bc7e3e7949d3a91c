"""Kill the process (SIGKILL) in the middle of an ingest, on SQLite and PostgreSQL (issue #11): the
database is exactly as before the batch, and the next run completes the work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select
from sqlmodel import Session

from tests.conftest import ROOT, shared_file
from tracker.db import get_engine
from tracker.models import Action, Bill, ScrapeRun, StatusChange

# Ingest one file, and stop dead once the bills and actions are written but before the commit: the
# batch's rows are in the open transaction, which a SIGKILL must leave uncommitted.
SCRIPT = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
import tracker.storage as storage
from scrapers import get_source
from tracker import db as database
from tracker.runs import run_batch
url, path, ready = sys.argv[1], sys.argv[2], sys.argv[3]
original = storage._Rows.write
def write_then_hang(self, db):
    original(self, db)
    db.flush()
    Path(ready).write_text("written")
    time.sleep(600)
storage._Rows.write = write_then_hang
batch = get_source("openstates-json").read_path(Path(path), fetched_at=datetime(2026, 11, 15, 12, tzinfo=UTC))
run_batch(database.get_engine(url), "openstates-json", batch, kind="ingest")
"""


def counts(engine) -> tuple[int, int, int]:
    with Session(engine) as db:
        return tuple(db.execute(select(func.count()).select_from(model)).scalar_one()
                     for model in (Bill, Action, StatusChange))


def test_sigkill_mid_ingest_loses_nothing_and_the_next_run_completes(db_url, tmp_path):
    from scrapers import get_source
    from datetime import UTC, datetime
    from tracker.runs import run_batch

    engine = get_engine(db_url)
    small = shared_file("fixtures/states/openstates_sessions/ga_2026_ss.jsonl.gz")
    big = shared_file("fixtures/states/openstates_sessions/co_2026A.jsonl.gz")
    fetched = datetime(2026, 11, 15, 12, tzinfo=UTC)
    run_batch(engine, "openstates-json", get_source("openstates-json").read_path(small, fetched_at=fetched),
              kind="ingest")
    before = counts(engine)
    script, ready = tmp_path / "hang.py", tmp_path / "ready"
    script.write_text(SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), db_url, str(big), str(ready)],
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.monotonic() + 120
    while not ready.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert ready.exists(), "the ingest never reached its write"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    engine.dispose()
    assert counts(engine) == before  # nothing of the killed batch, nothing lost
    from tracker.runs import close_interrupted

    assert close_interrupted(engine, "openstates-json") == 1  # what the next poll of the source does first
    with Session(engine) as db:
        assert db.execute(select(ScrapeRun.status).order_by(ScrapeRun.id.desc()).limit(1)).scalar_one() == "interrupted"
    summary = run_batch(engine, "openstates-json",
                        get_source("openstates-json").read_path(big, fetched_at=fetched), kind="ingest")
    assert summary.status == "ok" and summary.inserted == 714
    assert counts(engine)[0] == before[0] + 714
