"""Export benchmark (#13): N bills (default 100,000) written to a scratch SQLite database, then
`tracker.deliver.exports.export` of them to CSV and XLSX, each in a fresh process, reporting the time and the
whole-process peak RSS before and after the export (the rows stream; memory should not grow with N).

    .venv/bin/python benchmarks/exports.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fill(url: str, rows: int) -> None:
    from sqlalchemy import insert

    from tracker import db as database
    from tracker.models import Bill, Jurisdiction, LegislativeSession

    database.upgrade(url)
    engine = database.get_engine(url)
    fetched = datetime(2026, 8, 1, tzinfo=UTC)
    with database.session_scope(engine) as db:
        db.add(Jurisdiction(id="va", name="Virginia"))
        db.flush()
        session = LegislativeSession(jurisdiction_id="va", identifier="2024", name="2024")
        db.add(session)
        db.flush()
        session_id = session.id
    with engine.begin() as connection:
        for start in range(0, rows, 10_000):
            connection.execute(insert(Bill), [{
                "key": f"va-2024-HB{i}", "jurisdiction_id": "va", "session_id": session_id, "identifier": f"HB {i}",
                "kind": "bill", "title": ("=" if i % 9 == 0 else "") + f"Artificial intelligence; bill {i} " * 6,
                "source_id": "va-lis", "status": "in_committee", "status_basis": "state",
                "source_url": f"https://lis.example.gov/HB{i}", "fetched_at": fetched, "source_flags": {},
                "provenance": {}, "ai_evidence": [], "topics": ["high-risk", "hiring"], "obligations": [],
                "effective_dates": [], "carried_over": False, "override_possible": False, "partial_veto": False,
                "prefiled": False, "first_seen_at": fetched, "updated_at": fetched, "ai_relevance": "core",
                "ai_score": 0.9} for i in range(start, min(rows, start + 10_000))])


def peak_mib() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def measure(url: str, out: str) -> None:
    from tracker import db as database
    from tracker.deliver.exports import export

    engine = database.get_engine(url)
    with engine.connect():
        pass
    before = peak_mib()
    started = time.perf_counter()
    count = export(engine, "bills", out)
    seconds = time.perf_counter() - started
    after = peak_mib()
    print(f"{Path(out).suffix[1:]}: {count:,} rows in {seconds:.1f} s, {Path(out).stat().st_size / 1e6:.1f} MB; "
          f"peak RSS {before} MiB before the export, {after} MiB after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--measure", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        fill(url, args.rows)
        for fmt in ("csv", "xlsx"):
            subprocess.run([sys.executable, __file__, "--measure", url, f"{folder}/bills.{fmt}"], check=True)


if __name__ == "__main__":
    main()
