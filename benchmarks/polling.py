"""Polling benchmarks (issue #11; figures, not timed tests):

1. cost: the recorded VA 2024 and WA 2026 files replayed with realistic ETags and Last-Modified, polled
   twice through the HTTP cache: the second poll's full downloads and bytes against the first's
   (targets: at most 5% and 2%);
2. concurrency: 8 sources against 8 local HTTP servers on 127.0.0.1, each adding 200 ms per request and
   refusing (429) a client faster than its limit, polled the way `tracker scrape` polls (every source at
   once, each within its own host's limit): wall time against the politeness bound, the slowest host's
   requests times its interval (target: within 1.1x), and against the sum over hosts;
3. a month of scheduling on a fake clock: every job's fire times over 30 days (none twice, none missed,
   gaps at least the cadence less the jitter), and LegiScan's monthly budget never exceeded although the
   simulated polls ask for more than it allows.

    .venv/bin/python benchmarks/polling.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


import scrapers  # noqa: E402
from scrapers.base import Batch, Source  # noqa: E402
from tracker import db as database  # noqa: E402
from tracker.budget import BudgetExhausted, QueryBudget  # noqa: E402
from tracker.config import Settings  # noqa: E402
from tracker.http import Fetcher, ReplayTransport, load_manifest  # noqa: E402
from tracker.runs import run_source  # noqa: E402
from tracker.schedule import job_specs  # noqa: E402


def settings_for(folder: Path, **update) -> Settings:
    return Settings(database_url=f"sqlite:///{folder}/tracker.db", data_dir=folder, **update)


# --- 1. what a second poll of unchanged sources costs ----------------------------------------------------

def cost(shared: Path) -> dict:
    folder = Path(tempfile.mkdtemp())
    entries = []
    for entry in load_manifest(folder):  # the packaged manifest of the real files in ../shared
        body = (shared / entry["file"]).read_bytes()
        # What data servers send for files that change: validators, and "revalidate before use".
        entries.append(entry | {"etag": f'"{hashlib.sha256(body).hexdigest()[:16]}"',
                                "last_modified": formatdate(1761955200, usegmt=True), "cache_control": "no-cache"})
    settings = settings_for(folder, va_sessions=["241"], http_requests_per_minute=1e6, sources=["va-lis", "wa-wsl"])
    database.upgrade(settings.database_url)
    engine = database.get_engine(settings.database_url)
    polls = []
    for number in (1, 2):
        stats = {"requests": 0, "bytes": 0, "not_modified": 0}
        for source_id in settings.sources:
            with Fetcher(settings, transport=ReplayTransport(shared, entries), sleep=lambda s: None,
                         clock=lambda n=number: datetime(2026, 11, 15, 12, n, tzinfo=UTC)) as fetcher:
                run_source(engine, settings, source_id, fetcher=fetcher)
                for name in stats:
                    stats[name] += getattr(fetcher.stats, name)
        polls.append(stats)
    first, second = polls
    downloads = [p["requests"] - p["not_modified"] for p in polls]
    shutil.rmtree(folder, ignore_errors=True)
    return {"first": first, "second": second, "downloads": downloads,
            "download_share": downloads[1] / downloads[0], "byte_share": second["bytes"] / first["bytes"]}


# --- 2. eight sources at once ----------------------------------------------------------------------------

LATENCY = 0.2
PAGES = 5
PER_MINUTE = 60.0  # one request a second per host


class PoliteServer(http.server.ThreadingHTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.last = 0.0
        self.refused = 0
        self.lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        with self.server.lock:
            now = time.monotonic()
            too_fast = now - self.server.last < 60.0 / PER_MINUTE * 0.95
            if not too_fast:
                self.server.last = now
            else:
                self.server.refused += 1
        time.sleep(LATENCY)
        page = self.path.rsplit("=", 1)[-1]
        body = (b'[{"identifier": "HB %s", "legislative_session": "2026", "title": "AI bill",'
                b' "classification": ["bill"], "jurisdiction": {"id": "ocd-jurisdiction/country:us/state:zz/'
                b'government"}, "actions": []}]' % page.encode())
        self.send_response(429 if too_fast else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def listing_source(number: int, port: int) -> Source:
    from scrapers.openstates import parse_ocd_bill

    class Listing(Source):
        id = f"bench-{number}"
        title = "benchmark listing"
        jurisdiction = "zz"

        def read_path(self, path, *, fetched_at=None, session=None):
            raise NotImplementedError

        def fetch(self, fetcher, settings):
            import json

            items = []
            for page in range(PAGES):
                fetched = fetcher.get_text(f"http://127.0.0.1:{port}/bills?page={number * 100 + page}",
                                           lambda body: body.decode())
                items += [parse_ocd_bill(r, fetched_at=fetched.fetched_at, source_id=self.id)
                          for r in json.loads(fetched.text)]
            yield Batch(target=f"http://127.0.0.1:{port}/bills", items=items)

    return Listing()


def concurrency() -> dict:
    from concurrent.futures import ThreadPoolExecutor

    servers = [PoliteServer() for _ in range(8)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    folder = Path(tempfile.mkdtemp())
    settings = settings_for(folder, http_requests_per_minute=PER_MINUTE, http_cache=False, http_max_retries=0)
    database.upgrade(settings.database_url)
    engine = database.get_engine(settings.database_url)
    sources = [listing_source(n, s.server_address[1]) for n, s in enumerate(servers)]
    for source in sources:
        scrapers.REGISTRY[source.id] = source
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:  # as `tracker scrape` and the scheduler poll
        results = list(pool.map(lambda s: run_source(engine, settings, s.id), sources))
    elapsed = time.perf_counter() - started
    for server in servers:
        server.shutdown()
    bound = PAGES * 60.0 / PER_MINUTE  # the slowest host: its requests times its interval
    statuses = [summary.status for summaries in results for summary in summaries]
    shutil.rmtree(folder, ignore_errors=True)
    return {"elapsed": elapsed, "bound": bound, "ratio": elapsed / bound, "sum_over_hosts": 8 * bound,
            "statuses": statuses, "refused": sum(s.refused for s in servers)}


# --- 3. a month of scheduling -----------------------------------------------------------------------------

def month(queries_per_poll: int = 180, budget_limit: int = 25_000) -> dict:
    from pydantic import SecretStr

    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = start + timedelta(days=30)
    settings = Settings(sources=[], legiscan_api_key=SecretStr("x"), congress_api_key=SecretStr("x"),
                        schedule_jitter_seconds=300)
    report = {}
    for spec in job_specs(settings, start):
        fires, previous, now = [], None, start
        while True:
            fire = spec.trigger.get_next_fire_time(previous, now)
            if fire is None or fire >= end:
                break
            fires.append(fire)
            previous, now = fire, fire + timedelta(seconds=1)
        gaps = [b - a for a, b in zip(fires, fires[1:], strict=False)]
        report[spec.source_id] = {"fires": len(fires), "duplicates": len(fires) - len(set(fires)),
                                  "min_gap": min(gaps) if gaps else None, "cadence": spec.cadence}
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder}/budget.db"
    database.upgrade(url)
    clock = {"now": start}
    budget = QueryBudget(database.get_engine(url), "legiscan", budget_limit, per="month", clock=lambda: clock["now"])
    spent = refused = 0
    for poll in range(report["legiscan"]["fires"]):
        clock["now"] = start + poll * report["legiscan"]["cadence"]
        for _ in range(queries_per_poll):
            try:
                budget.spend(1)
                spent += 1
            except BudgetExhausted:
                refused += 1
                break
    shutil.rmtree(folder, ignore_errors=True)
    report["legiscan budget"] = {"asked": report["legiscan"]["fires"] * queries_per_poll, "spent": spent,
                                 "limit": budget_limit, "polls refused": refused}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    print("1. second poll of unchanged sources (VA 2024 + WA 2026, replayed with ETag and Last-Modified)")
    c = cost(args.shared)
    print(f"   first poll: {c['downloads'][0]} full downloads, {c['first']['bytes']:,} bytes; second poll: "
          f"{c['downloads'][1]} full downloads, {c['second']['bytes']:,} bytes, {c['second']['not_modified']} 304s")
    print(f"   downloads {100 * c['download_share']:.1f}% (target <= 5%), bytes {100 * c['byte_share']:.2f}% "
          "(target <= 2%)")
    print("2. 8 sources against 8 local servers (200 ms per request, 1 request/s per host, 5 requests each)")
    k = concurrency()
    print(f"   {k['elapsed']:.2f} s; politeness bound {k['bound']:.1f} s: {k['ratio']:.2f}x (target <= 1.1x); "
          f"one host after another would take {k['sum_over_hosts']:.0f} s; runs {set(k['statuses'])}, "
          f"429s {k['refused']}")
    print("3. a month of scheduling (2026-03-01 to 2026-03-31, fake clock)")
    for name, row in month().items():
        print(f"   {name}: {row}")


if __name__ == "__main__":
    main()
