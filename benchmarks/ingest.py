"""Ingest benchmark (not a test): Virginia's real 2024 session, replicated, into a fresh SQLite file.

    .venv/bin/python benchmarks/ingest.py [--copies 10] [--shared ../shared] [--profile FILE]

Each copy is the full LIS 2024 Bills.csv + History.csv (3,595 bills, 55,237 actions) parsed again
and renamed to its own session (2024R1, 2024R2, ...), then ingested as its own batch in its own
transaction (tracker.db.session_scope), as a real run does. Three passes, each on a fresh parse:

1. first ingest: `tracker.storage.ingest` into an empty database migrated with `tracker.db.upgrade`;
2. re-ingest of the same, unchanged data (every bill must come back `unchanged`);
3. baseline: the plain `sqlite3` module `executemany`-ing the same bill and action rows (same
   columns, same values, built by the same `new_bill_values` / `new_action_rows` helpers) into two simple
   tables (INTEGER PRIMARY KEY, no other index or constraint) in another fresh file, one
   transaction per copy, same pragmas (WAL, synchronous=NORMAL). Only the dict -> parameter
   conversion, the JSON/date serialization, executemany and commit are timed; parsing and
   normalizing the rows for it are not. A checksum then confirms both files hold the same rows.

Parse time (decompress + decode + CSV -> ScrapedBill) is timed apart from ingest and added back
for the end-to-end figure. Peak memory is the process's peak resident set size
(resource.getrusage ru_maxrss), over the whole run, interpreter and imports included.

Exit status: 0 all targets met, 1 a target missed or a sanity check failed, 2 ../shared absent.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import hashlib
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path

from scrapers.base import ParsedItem
from scrapers.va_lis import decode, parse_csv_files
from tracker import calendar
from tracker.db import get_engine, session_scope, upgrade
from tracker.normalize.bill import normalize_bill
from tracker.scraped import ScrapedBill
from tracker.storage import ACTION_COLUMNS, ingest, new_action_rows, new_bill_values

ROOT = Path(__file__).resolve().parents[1]
VA_DIR = Path("fixtures/states/va")
BILLS_FILE, HISTORY_FILE = "legacylis_241_Bills.csv.gz", "legacylis_241_History.csv.gz"
SESSION_CODE = "241"  # LIS code of the 2024 Regular Session -> our session "2024"
FETCHED = datetime(2026, 8, 1, tzinfo=UTC)  # when the files were downloaded (PROVENANCE.md)

MAX_VS_BASELINE = 3.0  # first ingest may take at most 3x the raw sqlite3 baseline
MIN_REINGEST_SPEEDUP = 5.0  # re-ingesting unchanged data must be at least 5x faster
MAX_PEAK_MB = 500.0

# Left out of the row comparison: ids and session ids are numbered by each database, timestamps differ.
NOT_COMPARED = frozenset({"id", "bill_id", "session_id", "first_seen_at", "updated_at"})


def session_name(copy: int) -> str:
    return f"2024R{copy + 1}"


def register_calendars(copies: int) -> None:
    """Give every copy the real 2024 calendar, so its derived statuses are those of a real 2024 run
    (without it a made-up session has no final-action date and its pending bills stay pending)."""
    calendars = calendar._calendars()
    real = calendars[("va", "2024")]
    for copy in range(copies):
        name = session_name(copy)
        calendars[("va", name)] = dataclasses.replace(real, identifier=name, name=f"{real.name} ({name})")


def parse_copy(bills_gz: bytes, history_gz: bytes, copy: int) -> list[ParsedItem]:
    items = list(parse_csv_files(decode(bills_gz), decode(history_gz), session_code=SESSION_CODE,
                                 fetched_at=FETCHED))
    for item in items:
        if isinstance(item, ScrapedBill):
            item.session = session_name(copy)
    return items


def count(items: list[ParsedItem]) -> tuple[int, int]:
    """(bills, actions) in one parsed batch; its problems come back in IngestResult.problems."""
    bills = [item for item in items if isinstance(item, ScrapedBill)]
    return len(bills), sum(len(bill.actions) for bill in bills)


@dataclasses.dataclass
class Pass:
    parse_s: float = 0.0
    ingest_s: float = 0.0
    bills: int = 0
    actions: int = 0
    problems: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0


def ingest_pass(engine, bills_gz: bytes, history_gz: bytes, copies: int,
                profiler: cProfile.Profile | None = None) -> Pass:
    result = Pass()
    for copy in range(copies):
        started = time.perf_counter()
        items = parse_copy(bills_gz, history_gz, copy)
        parsed = time.perf_counter()
        with profiler or nullcontext(), session_scope(engine) as db:
            stored = ingest(db, items)
        result.parse_s += parsed - started
        result.ingest_s += time.perf_counter() - parsed
        bills, actions = count(items)
        result.bills += bills
        result.actions += actions
        result.problems += sum(not p.kept for p in stored.problems)  # notes (unclassified strings) are not problems
        result.inserted += stored.inserted
        result.updated += stored.updated
        result.unchanged += stored.unchanged
        result.status_changes += stored.status_changes
        del items
    return result


# --- baseline: plain sqlite3 ---------------------------------------------------------------------

def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # naive, as SQLAlchemy's SQLite DateTime stores it


# How SQLAlchemy's SQLite types store the typed columns; the rest go to sqlite3 as they are.
STORED_AS = {"introduced_on": _iso, "status_date": _iso, "date": _iso, "fetched_at": _timestamp,
             "first_seen_at": _timestamp, "updated_at": _timestamp,
             "source_flags": json.dumps, "classes": json.dumps, "facts": json.dumps, "provenance": json.dumps,
             "source_classes": json.dumps}


def row_converter(columns: tuple[str, ...]):
    """A function: row dict -> parameter list in `columns` order, typed columns serialized."""
    get = itemgetter(*columns)
    typed = [(i, STORED_AS[c]) for i, c in enumerate(columns) if c in STORED_AS]

    def convert(row: dict) -> list:
        values = list(get(row))
        for i, serialize in typed:
            values[i] = serialize(values[i])
        return values
    return convert


def baseline_rows(items: list[ParsedItem], session_id: int, first_id: int,
                  now: datetime) -> tuple[list[dict], list[dict]]:
    """The bill and action values `ingest` writes for a new batch, ids assigned from `first_id`."""
    bills, actions = [], []
    for bill_id, scraped in enumerate((i for i in items if isinstance(i, ScrapedBill)), start=first_id):
        norm = normalize_bill(scraped)
        bills.append({"id": bill_id, **new_bill_values(norm, session_id, now)})
        actions.extend(dict(zip(ACTION_COLUMNS, row, strict=True)) for row in new_action_rows(norm, bill_id))
    return bills, actions


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def baseline_pass(path: Path, bills_gz: bytes, history_gz: bytes,
                  copies: int) -> tuple[float, tuple[str, ...], tuple[str, ...]]:
    """Seconds spent writing, and the bill and action columns written (those `ingest` writes)."""
    connection = sqlite3.connect(path, isolation_level=None)  # transactions spelled out below
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    elapsed, next_id = 0.0, 1
    for copy in range(copies):
        now = datetime.now(UTC)
        bills, actions = baseline_rows(parse_copy(bills_gz, history_gz, copy), copy + 1, next_id, now)
        next_id += len(bills)
        if copy == 0:
            bill_columns, action_columns = tuple(bills[0]), tuple(actions[0])
            connection.execute(f"CREATE TABLE bill (id INTEGER PRIMARY KEY, {', '.join(bill_columns[1:])})")
            connection.execute(f"CREATE TABLE action (id INTEGER PRIMARY KEY, {', '.join(action_columns)})")
            bill_sql, action_sql = _insert_sql("bill", bill_columns), _insert_sql("action", action_columns)
            bill_params, action_params = row_converter(bill_columns), row_converter(action_columns)
        started = time.perf_counter()
        connection.execute("BEGIN")
        connection.executemany(bill_sql, [bill_params(row) for row in bills])
        connection.executemany(action_sql, [action_params(row) for row in actions])
        connection.execute("COMMIT")
        elapsed += time.perf_counter() - started
    connection.close()
    return elapsed, bill_columns, action_columns


def checksum(path: Path, bill_columns: tuple[str, ...],
             action_columns: tuple[str, ...]) -> tuple[str, int, int]:
    """Digest of every bill and action row (NOT_COMPARED columns left out), with counts."""
    digest, bills, actions = hashlib.sha256(), 0, 0
    connection = sqlite3.connect(path)
    columns = ", ".join(c for c in bill_columns if c not in NOT_COMPARED)
    for row in connection.execute(f"SELECT {columns} FROM bill ORDER BY key"):
        digest.update(repr(row).encode())
        bills += 1
    columns = ", ".join(f"a.{c}" for c in action_columns if c not in NOT_COMPARED)
    for row in connection.execute(f"SELECT b.key, {columns} FROM action a JOIN bill b ON b.id = a.bill_id "
                                  "ORDER BY b.key, a.position"):
        digest.update(repr(row).encode())
        actions += 1
    connection.close()
    return digest.hexdigest(), bills, actions


# --- report --------------------------------------------------------------------------------------

def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10,
                        help="how many times to replicate VA 2024 (default 10)")
    parser.add_argument("--shared", type=Path,
                        default=Path(os.environ.get("TRACKER_SHARED_DIR", ROOT.parent / "shared")),
                        help="the shared data folder (default ../shared beside the project root, "
                             "or $TRACKER_SHARED_DIR)")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="write cProfile stats of the first-ingest ingest() calls to FILE "
                             "(timings are then inflated by the profiler)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="run every phase this many times and keep the fastest (default 3)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.copies < 1:
        parser.error("--copies must be at least 1")

    bills_path, history_path = (args.shared / VA_DIR / name for name in (BILLS_FILE, HISTORY_FILE))
    missing = [str(p) for p in (bills_path, history_path) if not p.is_file()]
    if missing:
        print(f"benchmark not run: missing shared file(s) {', '.join(missing)}\n"
              "  (real data kept beside the checkout as ../shared; pass --shared PATH)", file=sys.stderr)
        return 2
    bills_gz, history_gz = bills_path.read_bytes(), history_path.read_bytes()
    register_calendars(args.copies)
    profiler = cProfile.Profile() if args.profile else None

    # Shared 2-core machines are noisy (±20% between identical runs), so every phase runs
    # --repeat times on fresh databases and the fastest run counts, as timeit does.
    firsts, agains, baselines = [], [], []
    for attempt in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
            url = f"sqlite:///{tmp}/tracker.db"
            upgrade(url)
            engine = get_engine(url)
            firsts.append(ingest_pass(engine, bills_gz, history_gz, args.copies,
                                      profiler if attempt == 0 else None))
            agains.append(ingest_pass(engine, bills_gz, history_gz, args.copies))
            engine.dispose()
            baseline_s, *columns = baseline_pass(Path(tmp) / "baseline.db", bills_gz, history_gz, args.copies)
            baselines.append(baseline_s)
            ours_sum, base_sum = (checksum(Path(tmp) / name, *columns) for name in ("tracker.db", "baseline.db"))
    first = min(firsts, key=lambda run: run.ingest_s)
    again = min(agains, key=lambda run: run.ingest_s)
    baseline_s = min(baselines)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if profiler:
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(args.profile)

    bills, actions = first.bills, first.actions
    vs_baseline = first.ingest_s / baseline_s
    speedup = first.ingest_s / again.ingest_s
    end_to_end = first.parse_s + first.ingest_s
    print(f"VA 2024 x {args.copies} sessions: {bills:,} bills, {actions:,} actions, "
          f"{first.problems} problem(s); SQLite {sqlite3.sqlite_version}, WAL, synchronous=NORMAL; "
          f"best of {args.repeat}")
    print()
    print(f"{'phase':<40}{'seconds':>9}{'bills/s':>11}{'actions/s':>12}")
    for label, seconds in (("parse (decompress, decode, CSV)", first.parse_s),
                           ("first ingest (ours)", first.ingest_s),
                           ("first ingest end-to-end (parse+ingest)", end_to_end),
                           ("baseline sqlite3 executemany", baseline_s),
                           ("re-ingest unchanged (ours)", again.ingest_s)):
        print(f"{label:<40}{seconds:>9.2f}{rate(bills, seconds):>11}{rate(actions, seconds):>12}")
    print()
    checks = (
        ("first ingest / baseline", f"{vs_baseline:.1f}x", f"<= {MAX_VS_BASELINE:g}x",
         vs_baseline <= MAX_VS_BASELINE),
        ("first ingest / re-ingest", f"{speedup:.1f}x", f">= {MIN_REINGEST_SPEEDUP:g}x",
         speedup >= MIN_REINGEST_SPEEDUP),
        ("peak RSS (ru_maxrss)", f"{peak_mb:,.0f} MB", f"< {MAX_PEAK_MB:g} MB", peak_mb < MAX_PEAK_MB),
    )
    print(f"{'target':<40}{'measured':>10}{'target':>10}   result")
    for label, measured, target, met in checks:
        print(f"{label:<40}{measured:>10}{target:>10}   {'ok' if met else 'MISSED'}")

    sanity = {
        "first ingest inserted every bill": first.inserted == bills and first.updated == 0,
        "re-ingest found every bill unchanged":
            again.unchanged == bills and again.inserted == again.updated == 0,
        "no parse or ingest problems": first.problems == again.problems == 0,
        "baseline holds the same bill and action rows": ours_sum == base_sum == (ours_sum[0], bills, actions),
    }
    for label, met in sanity.items():
        if not met:
            print(f"sanity check failed: {label}", file=sys.stderr)
    print(f"\n(first ingest: inserted {first.inserted:,}, status changes {first.status_changes:,}; "
          f"re-ingest: unchanged {again.unchanged:,}; re-parse {again.parse_s:.2f} s not counted)")
    if profiler:
        print(f"cProfile stats of the first ingest written to {args.profile}")
    return 0 if all(met for *_, met in checks) and all(sanity.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
