"""Dashboard benchmark (not a test): each page's first render and a filter change, server-side, on a
database of 50,000+ bills and 500,000+ actions of real shapes.

    .venv/bin/python benchmarks/dashboard.py [--copies 14] [--ai-bills N] [--browser] [--shared ../shared]
                                             [--keep FILE]

Virginia's real 2024 session (LIS Bills.csv + History.csv: 3,595 bills, 55,237 actions) is ingested
once through the real path (tracker.runs.run_batch, which also runs the detect stage), then copied
in SQL `--copies - 1` more times, each copy as its own session of another state (so the map and the
state filters have something to do), with its actions, per-source records, status changes and bill
events. Status changes and events get detection times spread over the 90 days before the pinned
"today" in id order, as a live database would have them. The federal seed is loaded, and some
conflicts are added.

Timed, with Streamlit's AppTest (the whole page script, server-side: queries, frames, elements):
1. first render of each page, caches empty (`st.cache_data.clear()` before each);
2. a filter change on that page (a widget set, then the rerun), which misses the cache.
Also each data.py query on its own. Targets (issue 12): first render < 1.0 s, filter change < 0.3 s.
Exit status 0 when all are met, 1 otherwise, 2 when ../shared is absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 8, 2)
FETCHED = datetime(2026, 8, 1, tzinfo=UTC)
STATES = ["co", "tx", "ny", "ca", "wa", "ct", "fl", "ga", "mn", "nj", "ut", "tn", "az", "ok", "il", "ma", "md",
          "or", "pa", "mi"]
FIRST_RENDER_TARGET, FILTER_TARGET = 1.0, 0.3


def build(url: str, shared: Path, copies: int, ai_bills: int = 0) -> dict:
    from sqlalchemy import text

    from scrapers import get_source
    from tracker import db as database
    from tracker.federal import load_seed
    from tracker.models import Action, Bill, BillEvent, BillSource, StatusChange
    from tracker.runs import run_batch

    database.upgrade(url)
    engine = database.get_engine(url)
    started = time.perf_counter()
    batch = get_source("va-lis").read_path(shared / "fixtures/states/va/legacylis_241_Bills.csv.gz",
                                           fetched_at=FETCHED)
    summary = run_batch(engine, "va-lis", batch, kind="ingest")
    print(f"real ingest of VA 2024: {summary.line()} in {time.perf_counter() - started:.1f} s")
    with database.session_scope(engine) as db:
        load_seed(db)
    started = time.perf_counter()
    with engine.begin() as conn:
        base_session = conn.execute(text("select id from legislative_session where jurisdiction_id='va'")).scalar()
        counts = {t: conn.execute(text(f"select max(id) from {t}")).scalar() or 0
                  for t in ("bill", "action", "bill_source", "status_change", "bill_event")}
        columns = {model.__tablename__: [c.name for c in model.__table__.columns]
                   for model in (Bill, Action, BillSource, StatusChange, BillEvent)}

        def clone(table: str, copy: int, replace: dict[str, str], where: str) -> None:
            names = columns[table]
            chosen = [replace.get(n, n) for n in names]
            conn.execute(text(f"insert into {table} ({', '.join(names)}) select {', '.join(chosen)} "
                              f"from {table} where {where}"))

        for copy in range(1, copies):
            state = STATES[(copy - 1) % len(STATES)]
            conn.execute(text("insert or ignore into jurisdiction (id, name, classification) values (:s, :n, 'state')"),
                         {"s": state, "n": state.upper()})
            session = conn.execute(text(
                "insert into legislative_session (jurisdiction_id, identifier, name, start_date, final_action_date, "
                "carry_over, calendar_version) select :s, identifier || 'c' || :k, name || ' copy ' || :k, start_date, "
                "final_action_date, carry_over, calendar_version from legislative_session where id = :b returning id"),
                {"s": state, "k": copy, "b": base_session}).scalar()
            bill_offset = copy * counts["bill"]
            clone("bill", copy, {"id": f"id + {bill_offset}", "key": f"'{state}-' || key || '-c{copy}'",
                                 "jurisdiction_id": f"'{state}'", "session_id": str(session)},
                  f"session_id = {base_session}")
            clone("action", copy, {"id": f"id + {copy * counts['action']}", "bill_id": f"bill_id + {bill_offset}"},
                  f"bill_id <= {counts['bill']}")
            clone("bill_source", copy, {"id": f"id + {copy * counts['bill_source']}",
                                        "bill_id": f"bill_id + {bill_offset}"}, f"bill_id <= {counts['bill']}")
            clone("status_change", copy, {"id": f"id + {copy * counts['status_change']}",
                                          "bill_id": f"bill_id + {bill_offset}", "fingerprint": f"fingerprint || 'c{copy}'"},
                  f"id <= {counts['status_change']}")
            clone("bill_event", copy, {"id": f"id + {copy * counts['bill_event']}",
                                       "bill_id": f"bill_id + {bill_offset}", "fingerprint": f"fingerprint || 'c{copy}'"},
                  f"id <= {counts['bill_event']}")
        # Detection times over the 90 days before "today", increasing with id (as rows are appended).
        span = 90 * 86400
        start = (datetime.combine(TODAY, datetime.min.time()) - timedelta(days=89)).strftime("%Y-%m-%d %H:%M:%S")
        for table in ("status_change", "bill_event"):
            top = conn.execute(text(f"select max(id) from {table}")).scalar() or 1
            conn.execute(text(f"update {table} set detected_at = strftime('%Y-%m-%d %H:%M:%f', :start, "
                              f"'+' || (id * {span} / {top}) || ' seconds')"), {"start": start})
        if ai_bills:  # a heavier AI share than VA's own: every k-th bill becomes a core AI bill
            total = conn.execute(text("select count(*) from bill")).scalar()
            step = max(1, total // ai_bills)
            conn.execute(text(f"update bill set ai_relevance = 'core', ai_score = 0.5 where id % {step} = 0 "
                              "and ai_relevance not in ('core', 'adjacent')"))
        # Conflicts: the AI bills of every copy against the draft executive order (a matrix to draw).
        eo = conn.execute(text("select id from federal_instrument where key = 'draft:2025-11-eo-state-ai-laws'")).scalar()
        conn.execute(text(
            "insert or ignore into conflict (link_key, bill_id, instrument_id, relation, reason, evidence, confidence, "
            "force, origin, active, version, first_seen_at, updated_at) select 'bench-' || id, id, :eo, "
            "'named_target', 'benchmark conflict', '[]', 'M', 'directed', 'derived', 1, 'bench', :t, :t "
            "from bill where ai_relevance in ('core', 'adjacent')"), {"eo": eo, "t": FETCHED})
        figures = {t: conn.execute(text(f"select count(*) from {t}")).scalar()
                   for t in ("bill", "action", "status_change", "bill_event", "conflict", "bill_source")}
        figures["ai_bills"] = conn.execute(text("select count(*) from bill where ai_relevance in ('core','adjacent')")
                                           ).scalar()
    with engine.connect() as conn:
        conn.execute(text("analyze"))
    print(f"copied to {copies} sessions in {time.perf_counter() - started:.1f} s: " +
          ", ".join(f"{v:,} {k}" for k, v in figures.items()))
    return figures


def _page_script(name: str) -> None:
    import importlib

    importlib.import_module(f"dashboard.views.{name}").render()


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def measure_pages(url: str, sample_key: str) -> list[tuple[str, float, str, float]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    def fresh(name: str, **query) -> AppTest:
        at = AppTest.from_function(_page_script, args=(name,), default_timeout=120)
        at.session_state["as_of"] = TODAY
        for key, value in query.items():
            at.query_params[key] = value
        return at

    changes = [
        ("changes", {}, "since 7 days", lambda at: at.date_input(key="changes_since").set_value(TODAY - timedelta(days=7))),
        ("overview", {}, "map: enacted", lambda at: at.radio(key="map_measure").set_value("Enacted AI laws")),
        ("bills", {}, "state = co", lambda at: at.multiselect(key="bills_states").set_value(["co"])),
        ("bills", {"bill": sample_key}, "(bill page) all bills",
         lambda at: None),
        ("conflicts", {}, "state = tx", lambda at: at.multiselect(key="conflict_states").set_value(["tx"])),
        ("federal", {}, "low confidence only", lambda at: at.toggle(key="federal_low").set_value(True)),
        ("sources", {}, "(rerun)", lambda at: None),
        ("export", {}, "what: conflicts", lambda at: at.radio(key="export_what").set_value("Conflicts")),
    ]
    results = []
    for name, query, label, change in changes:
        firsts, filters = [], []
        for _ in range(3):
            st.cache_data.clear()
            at = fresh(name, **query)
            started = time.perf_counter()
            at.run()
            firsts.append(time.perf_counter() - started)
            if at.exception:
                raise SystemExit(f"{name}: {at.exception[0].message}")
            change(at)
            started = time.perf_counter()
            at.run()
            filters.append(time.perf_counter() - started)
        title = name if not query else f"{name} ({', '.join(query)})"
        results.append((title, min(firsts), label, min(filters)))
    return results


def measure_queries(url: str, sample_key: str) -> list[tuple[str, float]]:
    from dashboard import data
    from tracker import db as database
    from tracker.config import get_settings

    engine = database.get_engine(url)
    since = datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), UTC)
    runs = [
        ("data_key", lambda: data.q_data_key(engine)),
        ("changes since yesterday", lambda: data.q_changes(engine, since)),
        ("changes since 7 days, all bills, low-info", lambda: data.q_changes(
            engine, since - timedelta(days=6), ai_only=False, include_low=True)),
        ("overview", lambda: data.q_overview(engine, TODAY)),
        ("filter options", lambda: data.q_filter_options(engine)),
        ("bills (AI, default)", lambda: data.q_bills(engine)),
        ("bills, all, search 'artificial'", lambda: data.q_bills(engine, ai_only=False, search="artificial")),
        ("bills, state co, status failed", lambda: data.q_bills(engine, states=("co",), statuses=("failed",))),
        ("bill page", lambda: data.q_bill(engine, sample_key)),
        ("conflicts", lambda: data.q_conflicts(engine)),
        ("federal", lambda: data.q_federal(engine)),
        ("sources", lambda: data.q_sources(engine, get_settings(), datetime(2026, 8, 2, tzinfo=UTC))),
    ]
    return [(label, timed(fn)) for label, fn in runs]


def measure_browser(url: str, sample_key: str) -> list[tuple[str, float, float]]:
    """Each page in Debian's chromium against a running `streamlit run` (started like `tracker dashboard`):
    from navigation to the script run finished and the first table drawn, with the server's caches
    empty (a fresh server) and then warm (the same page again)."""
    import socket

    import httpx
    from playwright.sync_api import sync_playwright

    from tracker.cli_dashboard import start_dashboard_process
    from tracker.config import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = start_dashboard_process(Settings(database_url=url), port=port, stdout=subprocess_devnull(),
                                      stderr=subprocess_devnull())
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        results = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/federal?as_of={TODAY}")  # warm the browser and the websocket once
            page.locator("[data-testid='stStatusWidget']").wait_for(state="detached", timeout=60_000)

            busy = "[data-testid='stStatusWidget'], [data-testid='stSkeleton'], [data-testid='stAppRunningIcon']"

            def drawn() -> bool:  # the run over, every visible table and chart drawn
                return (not page.locator(busy).count()
                        and page.locator("[data-testid='stDataFrame']:visible canvas").count()
                        >= page.locator("[data-testid='stDataFrame']:visible").count()
                        and page.locator(".vega-embed canvas, .vega-embed svg").count()
                        >= page.locator(".vega-embed").count())

            def idle(title: str) -> None:
                page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=60_000)
                while not drawn():
                    page.wait_for_timeout(20)

            def reload(path: str, title: str) -> float:  # a full page load: the frontend boots again
                joiner = "&" if "?" in path else "?"
                started = time.perf_counter()
                page.goto(f"{base}/{path}{joiner}as_of={TODAY}")
                idle(title)
                return time.perf_counter() - started

            def navigate(label: str, title: str) -> float:  # a click in the sidebar: one script run
                started = time.perf_counter()
                page.locator("[data-testid='stSidebarNav']").get_by_text(label, exact=True).click()
                idle(title)
                return time.perf_counter() - started

            pages = [("What changed", "What changed", ""), ("Overview", "Overview", "overview"),
                     ("Bills", "Bills", "bills"), ("Conflicts", "Conflicts", "conflicts"),
                     ("Federal", "Federal", "federal"), ("Sources", "Sources", "sources"),
                     ("Export", "Export", "export")]
            reload("", "What changed")
            for label, title, path in pages[1:] + pages[:1]:  # each page's first visit: its caches empty
                results.append((title, navigate(label, title), reload(path, title)))
            navigate("Bills", "Bills")
            started = time.perf_counter()
            page.get_by_text("All bills, not only AI bills").click()
            page.get_by_text("AI bills (relevance core or adjacent) match", exact=False).wait_for(
                state="detached", timeout=60_000)  # the caption now counts all bills
            while not drawn():
                page.wait_for_timeout(20)
            results.append(("Bills: switch to all bills", time.perf_counter() - started, float("nan")))
            browser.close()
        return results
    finally:
        process.terminate()
        process.wait(timeout=10)


def subprocess_devnull():
    import subprocess

    return subprocess.DEVNULL


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=14)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--ai-bills", type=int, default=0,
                        help="Also mark about this many more bills as core AI bills (default: VA's own 15 a copy).")
    parser.add_argument("--browser", action="store_true", help="Also time each page in /usr/bin/chromium.")
    parser.add_argument("--keep", type=Path, help="Write the database here and keep it (reused when it exists).")
    args = parser.parse_args()
    if not (args.shared / "fixtures/states/va/legacylis_241_Bills.csv.gz").exists():
        print(f"needs {args.shared}/fixtures/states/va (the real VA 2024 files)")
        return 2
    folder = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    path = args.keep or folder / "tracker.db"
    url = f"sqlite:///{path}"
    os.environ["TRACKER_DATABASE_URL"] = url
    os.environ["TRACKER_DATA_DIR"] = str(folder)
    if args.keep and args.keep.exists():
        from sqlalchemy import create_engine, text as sql

        with create_engine(url).connect() as conn:
            figures = {t: conn.execute(sql(f"select count(*) from {t}")).scalar() for t in ("bill", "action")}
        print(f"reusing {args.keep}: {figures['bill']:,} bills, {figures['action']:,} actions")
    else:
        figures = build(url, args.shared, args.copies, args.ai_bills)
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from tracker import db as database
    from sqlalchemy import text

    with database.get_engine(url).connect() as conn:
        sample_key = conn.execute(text("select b.key from bill b join action a on a.bill_id = b.id "
                                       "where b.ai_relevance = 'core' group by b.id order by count(*) desc limit 1")
                                  ).scalar()
    print(f"\nqueries (data.py, best of 3), {figures['bill']:,} bills, {figures['action']:,} actions:")
    for label, seconds in measure_queries(url, sample_key):
        print(f"  {label:45} {seconds * 1000:8.1f} ms")
    print("\npages (AppTest, server-side, best of 3): first render with empty caches, then a filter change")
    ok = True
    for page, first, label, change in measure_pages(url, sample_key):
        met = first < FIRST_RENDER_TARGET and change < FILTER_TARGET
        ok &= met
        print(f"  {page:22} first {first:6.3f} s   {label:22} {change:6.3f} s   {'ok' if met else 'MISSED'}")
    if args.browser:
        print("\nin the browser (chromium): a sidebar click to the page drawn (its first visit: caches empty), "
              "and a full page reload")
        for page, click, reload in measure_browser(url, sample_key):
            print(f"  {page:28} click {click:6.3f} s   reload {reload:6.3f} s")
    print(f"\ntargets: first render < {FIRST_RENDER_TARGET} s, filter change < {FILTER_TARGET} s: "
          f"{'all met' if ok else 'MISSED'}")
    if not args.keep:
        import shutil

        database.get_engine(url).dispose()
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
