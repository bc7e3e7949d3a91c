"""The seed's story, answered from stored data: for each state AI law in the recorded files, which federal
moves reach it, how strongly, and whether each move is law, proposed or directed; the seed's own links
beside the links the detector derives. Builds a scratch SQLite database from every recorded
`../shared/fixtures/states/*/openstates_scrape_json` folder and the federal seed, runs the detect
stage with "today" pinned, and prints a Markdown table (README "Conflicts" and docs/intelligence.md).

    .venv/bin/python benchmarks/conflicts.py [--today 2026-12-01]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from scrapers.openstates import OpenStatesFiles  # noqa: E402
from tracker import db as database  # noqa: E402
from tracker.detect.pipeline import detect  # noqa: E402
from tracker.federal import load_seed  # noqa: E402
from tracker.models import Bill, Conflict, FederalInstrument  # noqa: E402
from tracker.storage import ingest  # noqa: E402

FETCHED = datetime(2026, 11, 15, 12, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 12, 1))
    args = parser.parse_args()
    folders = sorted((args.shared / "fixtures" / "states").glob("*/openstates_scrape_json"))
    if not folders:
        print(f"no recorded files under {args.shared}/fixtures/states", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/conflicts.db"
        database.upgrade(url)
        engine = database.get_engine(url)
        with database.session_scope(engine) as db:
            load_seed(db)
            for folder in folders:
                ingest(db, OpenStatesFiles().read_path(folder, fetched_at=FETCHED).items)
        with database.session_scope(engine) as db:
            result = detect(db, today=args.today)
            print(f"{len(folders)} folders; {result.summary()}\n")
            rows = db.execute(select(Bill, Conflict, FederalInstrument).join(Conflict, Conflict.bill_id == Bill.id)
                              .outerjoin(FederalInstrument, FederalInstrument.id == Conflict.instrument_id)
                              .where(Conflict.active.is_(True)).order_by(Bill.key)).all()
            by_law: dict[str, list] = defaultdict(list)
            for bill, conflict, instrument in rows:
                by_law[f"{bill.key} ({bill.status}, law status {bill.law_status or 'unknown'})"].append(
                    (conflict, instrument))
            print("| state law (stored) | seed links (reviewed) | derived links |")
            print("|---|---|---|")
            for law, links in by_law.items():
                def cell(origin: str) -> str:
                    parts = []
                    for conflict, instrument in sorted(links, key=lambda x: (x[0].relation, x[1].key if x[1] else '')):
                        if conflict.origin != origin:
                            continue
                        target = instrument.key if instrument else "another state's bill"
                        parts.append(f"{conflict.relation} `{target}` {conflict.force or ''} {conflict.confidence}"
                                     .replace("  ", " "))
                    return "<br>".join(parts) or "none"
                print(f"| {law} | {cell('seed')} | {cell('derived')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
