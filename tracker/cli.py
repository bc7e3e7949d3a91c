"""The `tracker` command."""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from scrapers import REGISTRY, get_source
from tracker import __version__, cli_intel
from tracker import db as database
from tracker.cli_deliver import register as register_deliver
from tracker.cli_federal import federal_app
from tracker.config import get_settings
from tracker.display import json_line, one_line, say, shown_status
from tracker.models import Bill, RunProblem, ScrapeRun, StatusChange
from tracker.normalize.bill import normalize_bill
from tracker.scraped import Batch, ItemProblem, ScrapedInstrument, SourceFormatError, fail_if_nothing_read

app = typer.Typer(help="Statehouse AI Tracker: what changed in US AI legislation.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


def _version(value: bool) -> None:
    if value:
        say(f"statehouse-ai-tracker {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Statehouse AI Tracker: what changed in US AI legislation."""
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(federal_app, name="federal")
app.command("dashboard")(__import__("tracker.cli_dashboard", fromlist=["dashboard"]).dashboard)
register_deliver(app)  # export, subscribe, digest (tracker/cli_deliver.py)
cli_intel.register(app)

SourceArg = Annotated[str, typer.Argument(help="Source id; `tracker sources` lists them.")]
PathArg = Annotated[Path, typer.Argument(help="Saved file or folder to read.", exists=True)]
SessionOpt = Annotated[str | None, typer.Option(help="Session code when the file name does not say (VA: 241).")]
FetchedOpt = Annotated[datetime | None, typer.Option(
    help="When the file was downloaded (UTC). Actions dated later count as scheduled. Default: file time.")]


def _engine():
    settings = get_settings()
    return database.get_engine(settings.database_url)


def _migrate() -> None:
    database.upgrade(get_settings().database_url)


def _read(source_id: str, path: Path, session: str | None, fetched_at: datetime | None) -> Batch:
    try:
        source = get_source(source_id)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from None
    if fetched_at is not None and fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    try:
        return source.read_path(path, fetched_at=fetched_at, session=session)
    except SourceFormatError as exc:
        # A damaged file (a zip that is not one, a bomb, a wrong layout) is a failed run, recorded by
        # `ingest` with this message; not a usage error.
        return Batch(target=str(path), error=f"SourceFormatError: {exc}")
    except (FileNotFoundError, ValueError) as exc:
        say(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


PROGRESS_EVERY = 2_000


def _with_progress(items):
    """Pass records through, telling stderr every PROGRESS_EVERY records how far the read has got
    (a whole session is 10,000 bills); the store step that follows is one transaction."""
    count = 0
    for item in items:
        count += not isinstance(item, ItemProblem)
        if count and count % PROGRESS_EVERY == 0 and not isinstance(item, ItemProblem):
            say(f"  read {count:,} bills...", err=True)
        yield item
    if count >= PROGRESS_EVERY:
        say(f"  read {count:,} bills; storing them in one transaction...", err=True)


@app.command()
def sources() -> None:
    """The sources this tracker can read, which are enabled, and the health of each enabled one."""
    from tracker.health import source_health
    from tracker.schedule import cadence_of, next_runs

    settings = get_settings()
    enabled = set(settings.enabled_sources)
    _migrate()
    upcoming = next_runs(settings)
    for source_id, source in sorted(REGISTRY.items()):
        mark = "enabled" if source_id in enabled else "-"
        say(f"{source_id:20} {source.jurisdiction:3} {mark:8} {source.title}")
        if source_id in enabled:
            health = source_health(_engine(), source_id, cadence_of(source_id, settings), upcoming.get(source_id))
            say(f"{'':33}{health.line()}")


@app.command()
def parse(source: SourceArg, path: PathArg, session: SessionOpt = None, fetched_at: FetchedOpt = None) -> None:
    """Print normalized bills from saved files as JSON Lines. Touches no database."""
    batch = _read(source, path, session, fetched_at)
    if batch.error:
        say(f"error: {batch.error}", err=True)
        raise typer.Exit(1)
    problems = 0
    try:
        for item in batch.items:
            if isinstance(item, ItemProblem):
                problems += not item.kept
                say(f"{'note' if item.kept else 'problem'}: {item.message}", err=True)
                continue
            if isinstance(item, ScrapedInstrument):  # federal instruments (EOs, FR documents) are not bills
                sys.stdout.write(json_line(item.to_json()) + "\n")
                continue
            sys.stdout.write(json_line(normalize_bill(item).to_json()) + "\n")
    except SourceFormatError as exc:
        say(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if problems:
        say(f"{problems} record(s) could not be read", err=True)


@app.command()
def ingest(source: SourceArg, path: PathArg, session: SessionOpt = None, fetched_at: FetchedOpt = None,
           allow_history_rewrite: Annotated[bool, typer.Option(
               help="Apply histories even where they lost lines stored from the same source (for a source "
                    "you know rewrote itself). Without it such bills are held as stored, for review.")] = False
           ) -> None:
    """Store bills from saved files; prints inserted / updated / unchanged and status changes."""
    from tracker.runs import run_batch

    batch = _read(source, path, session, fetched_at)
    _migrate()
    batch.items = fail_if_nothing_read(_with_progress(batch.items))
    summary = run_batch(_engine(), source, batch, kind="ingest", allow_history_rewrite=allow_history_rewrite)
    say(summary.line())
    if not summary.ok and summary.status != "partial":
        raise typer.Exit(1)


ReplayOpt = Annotated[Path | None, typer.Option(
    "--replay", help="Serve recorded responses from this folder instead of the network (../shared, or a folder "
                     "made by `tracker record`).", exists=True, file_okay=False)]


def _use_replay(replay: Path | None) -> None:
    if replay is not None:
        os.environ["TRACKER_REPLAY_DIR"] = str(replay)
        get_settings.cache_clear()


def _poll(source_ids: list[str]) -> int:
    """Poll the sources once, at the same time (each waits only for its own hosts' politeness limits), and
    print one line per run. Returns how many runs failed."""
    from concurrent.futures import ThreadPoolExecutor

    from tracker.runs import run_source

    settings, engine = get_settings(), _engine()
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(source_ids)))) as pool:
        results = list(pool.map(lambda source_id: run_source(engine, settings, source_id), source_ids))
    failed = 0
    for summaries in results:
        for summary in summaries:
            say(summary.line())
            failed += summary.status in ("failed", "empty")
    return failed


def _live_sources(names: list[str]) -> list[str]:
    for name in names:
        if name not in REGISTRY:
            raise typer.BadParameter(f"unknown source {name!r}; `tracker sources` lists them")
        if not REGISTRY[name].live:
            raise typer.BadParameter(f"{name} reads saved files only; use `tracker ingest {name} PATH`")
    return names


@app.command()
def scrape(source: Annotated[list[str] | None, typer.Argument(
               help="Source ids; none: every enabled source (TRACKER_SOURCES or the defaults).")] = None,
           replay: ReplayOpt = None) -> None:
    """Poll the named sources once (conditional requests) and store what changed; exit 1 if any failed."""
    _use_replay(replay)
    names = _live_sources(source or get_settings().enabled_sources)
    _migrate()
    if failed := _poll(names):
        say(f"{failed} run(s) failed; see `tracker runs --problems`"
            + ("" if replay else " (no network? add --replay ../shared to run on recorded data)"), err=True)
        raise typer.Exit(1)


@app.command()
def run(once: Annotated[bool, typer.Option("--once", help="Poll every enabled source once and exit.")] = False,
        replay: ReplayOpt = None,
        dashboard: Annotated[bool, typer.Option(help="Serve the dashboard while the schedule runs.")] = True,
        port: Annotated[int, typer.Option(help="The dashboard's port (on 127.0.0.1).")] = 8501) -> None:
    """The main job: apply migrations, start the dashboard, poll every enabled source once, then keep
    polling on the schedule (`tracker schedule`) until Ctrl-C or SIGTERM, which stop both cleanly."""
    _use_replay(replay)
    settings = get_settings()
    _migrate()
    names = [n for n in settings.enabled_sources if n in REGISTRY and REGISTRY[n].live]
    say(f"Statehouse AI Tracker {__version__}: database {_shown_url(settings.database_url)}; "
        f"sources: {', '.join(names) or 'none'}")
    server = _start_dashboard(settings, port) if dashboard and not once else None
    try:
        _load_seeds()
        failed = _poll(names)
        if failed:
            say(f"{failed} run(s) failed; see `tracker runs --problems`"
                + ("" if replay or settings.replay_dir else "; offline? `tracker run --replay ../shared`")
                + (f"; the dashboard's Sources page: http://127.0.0.1:{port}/" if server else ""), err=True)
        if once:
            raise typer.Exit(1 if failed else 0)
        _serve_schedule(settings, polled=True)
    finally:
        _stop_dashboard(server)


def _start_dashboard(settings, port: int):
    """The dashboard as a child process (tracker.cli_dashboard), or None if it cannot start: the
    scheduler runs without it."""
    try:
        from tracker.cli_dashboard import start_dashboard_process

        process = start_dashboard_process(settings, port, "127.0.0.1")
    except Exception as exc:  # noqa: BLE001 - no Streamlit, a bad port: poll anyway
        say(f"dashboard not started ({type(exc).__name__}: {exc}); polling without it", err=True)
        return None
    say(f"dashboard: http://127.0.0.1:{port}/ (`tracker run --no-dashboard` to run without it)")
    return process


def _stop_dashboard(process) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except Exception:  # noqa: BLE001 - it would not stop: make it
        process.kill()


def _load_seeds() -> None:
    """The reviewable federal seed (instruments and their links to state laws), so conflicts are known
    from the first poll; idempotent, a confidence is never raised. The lifecycle seed is read by every
    detect run."""
    from tracker.federal import SeedError, load_seed

    try:
        with database.session_scope(_engine()) as db:
            result = load_seed(db)
    except SeedError as exc:
        say(f"federal seed not loaded: {exc}", err=True)
        return
    if result.inserted or result.updated or result.links_inserted or result.links_updated:
        say(f"federal seed: {result.inserted} instrument(s) added, {result.updated} updated; "
            f"{result.links_inserted} link(s) added, {result.links_updated} updated")


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _serve_schedule(settings, polled: bool = False) -> None:
    """Run the scheduler in this process until Ctrl-C or SIGTERM, then stop it cleanly: running polls
    finish, nothing is left half-stored. Prints what each scheduled poll did."""
    import signal
    import threading

    from apscheduler.events import EVENT_JOB_EXECUTED

    from tracker.schedule import build_scheduler

    scheduler = build_scheduler(settings, blocking=False, polled=polled)
    stopping = threading.Event()

    def stop(signum, _frame):
        say(f"stopping ({signal.Signals(signum).name}); running polls finish first")
        stopping.set()

    def report(event) -> None:
        for line in event.retval if isinstance(event.retval, list) else [event.retval] if event.retval else []:
            say(str(line))

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    scheduler.add_listener(report, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        for job in scheduler.get_jobs():
            say(f"  {job.id:28} next {job.next_run_time:%Y-%m-%d %H:%M %Z}")
        say("scheduler running; Ctrl-C or SIGTERM to stop")
        stopping.wait()
    finally:
        scheduler.shutdown(wait=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        say("stopped")


@app.command()
def schedule(list_jobs: Annotated[bool, typer.Option("--list", help="Print the jobs and exit.")] = False,
             replay: ReplayOpt = None) -> None:
    """Keep polling every enabled source on its cadence (one job per source, stored in the database)."""
    from tracker.schedule import job_specs

    _use_replay(replay)
    settings = get_settings()
    _migrate()
    if list_jobs:
        for spec in job_specs(settings):
            say(f"poll:{spec.source_id:20} every {spec.cadence} (grace {spec.misfire_grace_time}s) {spec.trigger}")
        return
    _serve_schedule(settings)


@app.command()
def record(folder: Annotated[Path, typer.Argument(help="Where to write the recordings (replay layout).")],
           source: Annotated[list[str] | None, typer.Argument(help="Source ids; none: every enabled source.")] = None
           ) -> None:
    """Capture live responses for offline replay (`--replay FOLDER`), secrets removed from URLs, headers and
    bodies, with a manifest of fetch times. Parses what it fetches; stores nothing."""
    from scrapers import get_source
    from tracker.http import Fetcher

    settings = get_settings()
    _migrate()
    for name in _live_sources(source or settings.enabled_sources):
        # The Fetcher registers every key of the settings; tracker.http removes them from what it records.
        with Fetcher(settings.model_copy(update={"http_cache": False}), record_dir=folder) as fetcher:
            try:
                for batch in get_source(name).fetch(fetcher, settings):
                    items = list(batch.items) if not batch.error else []
                    say(f"{name}: {batch.error or f'{len(items)} item(s) parsed'} ({batch.target})")
            except Exception as exc:  # noqa: BLE001 - one source's failure must not stop the recording
                say(f"{name}: failed - {type(exc).__name__}: {exc}", err=True)
    say(f"recorded into {folder}; replay with `tracker scrape --replay {folder}`")


@app.command()
def reclassify(jurisdiction: Annotated[str | None, typer.Option(help="Only this state (two letters).")] = None
               ) -> None:
    """Recompute action classes and statuses from stored raw actions, without fetching."""
    from tracker.reclassify import reclassify as do_reclassify
    from tracker.runs import _start, run_detect

    _migrate()
    engine = _engine()
    run_id = _start(engine, "reclassify", "reclassify", jurisdiction or "all")
    status, message = "failed", ""
    try:
        with database.session_scope(engine) as db:
            result = do_reclassify(db, run_id=run_id, jurisdiction=jurisdiction)
        status = "ok"
        message = (f"{result.bills} bills, {result.actions_changed} actions reclassified, "
                   f"{result.status_changes} status changes")
        message = "; ".join(filter(None, (message, run_detect(engine, run_id))))
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        with database.session_scope(engine) as db:
            record = db.get(ScrapeRun, run_id)
            record.status, record.message, record.finished_at = status, message, datetime.now(UTC)
            if status == "ok":
                record.status_changes = result.status_changes
        say(f"reclassify: {status} - {message}")


@app.command()
def runs(limit: Annotated[int, typer.Option(help="How many recent runs.")] = 20,
         problems: Annotated[bool, typer.Option(help="Also list skipped records.")] = False) -> None:
    """Source health: each enabled source's state, API budgets used this period, sessions without a
    calendar, then recent runs with status, counts, what the fetch cost, and messages."""
    from tracker.budget import metered_budgets, usage_report
    from tracker.health import source_health
    from tracker.schedule import cadence_of, next_runs

    settings = get_settings()
    _migrate()
    upcoming = next_runs(settings)
    for source_id in settings.enabled_sources:
        if source_id in REGISTRY and REGISTRY[source_id].live:
            health = source_health(_engine(), source_id, cadence_of(source_id, settings), upcoming.get(source_id))
            say(f"{source_id}: {health.line()}")
    for usage in usage_report(_engine(), metered_budgets(settings)):
        say(f"API usage {usage.line()}")
    shown = 0
    with database.session_scope(_engine()) as db:
        unknown = _sessions_without_calendar(db)
        if unknown:
            say(f"Sessions without a calendar (their bills are never inferred dead at adjournment; add them to "
                f"tracker/data/sessions/): {', '.join(unknown)}")
        for run in db.execute(select(ScrapeRun).order_by(ScrapeRun.id.desc()).limit(limit)).scalars():
            cost = (f" requests {run.requests}, {run.bytes:,} bytes, cache hits {run.cache_hits}, "
                    f"304s {run.not_modified};" if run.kind == "scrape" else "")
            say(f"#{run.id} {run.started_at:%Y-%m-%d %H:%M} {run.source_id} {run.kind} {run.status}: "
                f"+{run.inserted} ~{run.updated} ={run.unchanged} status changes {run.status_changes} "
                f"problems {run.problems};{cost} {run.message}".rstrip().rstrip(";"))
            shown += 1
            if problems:
                for problem in db.execute(select(RunProblem).where(RunProblem.run_id == run.id)).scalars():
                    say(f"    {problem.item_key or '-'}: {problem.message}")
    if not shown:
        say("no runs yet: `tracker scrape` polls the enabled sources, `tracker ingest SOURCE PATH` reads saved files")


def _sessions_without_calendar(db) -> list[str]:
    from tracker.calendar import session_calendar
    from tracker.models import LegislativeSession

    rows = db.execute(select(LegislativeSession.jurisdiction_id, LegislativeSession.identifier)
                      .order_by(LegislativeSession.jurisdiction_id, LegislativeSession.identifier)).all()
    return [f"{j} {i}" for j, i in rows if not session_calendar(j, i).known]


@app.command()
def changes(since: Annotated[datetime | None, typer.Option(help="Detected on or after (UTC).")] = None,
            jurisdiction: Annotated[str | None, typer.Option(help="Two-letter state.")] = None,
            include_new: Annotated[bool, typer.Option(help="Include first sightings of bills.")] = False,
            repeats: Annotated[bool, typer.Option(help="Also show a change delivered again (same bill, "
                                                       "status and cause as an earlier one).")] = False,
            limit: Annotated[int, typer.Option()] = 100) -> None:
    """Status changes, newest first, each with the source URL and fetch time that produced it."""
    _migrate()
    query = (select(StatusChange, Bill).join(Bill).order_by(StatusChange.id.desc()).limit(limit))
    if since:
        query = query.where(StatusChange.detected_at >= (since if since.tzinfo else since.replace(tzinfo=UTC)))
    if jurisdiction:
        query = query.where(Bill.jurisdiction_id == jurisdiction.lower())
    if not include_new:
        query = query.where(StatusChange.first_sighting.is_(False))
    shown = 0
    with database.session_scope(_engine()) as db:
        rows = list(db.execute(query))
        earlier = _earlier_fingerprints(db, rows) if not repeats else set()
        for change, bill in rows:
            if (change.fingerprint, change.id) in earlier:
                continue
            when = change.action_date.isoformat() if change.action_date else "undated"
            old = "new" if change.first_sighting else shown_status(change.old_label)
            url = change.source_url or bill.source_url
            fetched = change.fetched_at or bill.fetched_at
            say(f"{bill.key}\t{old} -> {shown_status(change.new_label, change.basis)}\t{when}\t"
                f"{url}\tfetched {fetched:%Y-%m-%d %H:%M}Z\t{one_line(bill.title)[:80]}")
            shown += 1
    if not shown:
        say("no status changes" + (" since " + since.isoformat() if since else "")
            + ("" if include_new else " (first sightings of new bills: --include-new)"))


def _earlier_fingerprints(db, rows) -> set[tuple[str, int]]:
    """(fingerprint, id) of shown rows whose fingerprint an earlier change of the same bill already had:
    the same change delivered again is never a second alert."""
    fingerprints = {change.fingerprint for change, _ in rows if change.fingerprint}
    if not fingerprints:
        return set()
    first = dict(db.execute(select(StatusChange.fingerprint, func.min(StatusChange.id))
                            .where(StatusChange.fingerprint.in_(fingerprints))
                            .group_by(StatusChange.fingerprint)).all())
    return {(change.fingerprint, change.id) for change, _ in rows
            if change.fingerprint and first.get(change.fingerprint, change.id) < change.id}


@app.command()
def disagreements(jurisdiction: Annotated[str | None, typer.Option(help="Two-letter state.")] = None,
                  include_resolved: Annotated[bool, typer.Option(help="Also list settled ones.")] = False,
                  limit: Annotated[int, typer.Option()] = 100) -> None:
    """Bills on which sources disagree about the status: what each says, and the merged status kept."""
    from tracker.storage import list_disagreements

    _migrate()
    shown = 0
    with database.session_scope(_engine()) as db:
        for row, bill in list_disagreements(db, jurisdiction=jurisdiction, include_resolved=include_resolved,
                                            limit=limit):
            shown += 1
            state = f"resolved {row.resolved_at:%Y-%m-%d}" if row.resolved_at else "open"
            say(f"{bill.key}	{row.source_id} says {row.source_label} (it claims {row.upstream_status or '-'})"
                       f"	merged {row.merged_label} from {row.merged_source_id}	detected "
                       f"{row.detected_at:%Y-%m-%d %H:%M}Z	{state}")
    if not shown:
        say("no status disagreements between sources" + ("" if include_resolved else " (open ones; --include-resolved "
                                                               "for settled ones)"))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads") -> None:
    """Apply migrations to the configured database."""
    database.upgrade(get_settings().database_url, revision)
    say(f"database at {database.current_revision(get_settings().database_url)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    say(database.current_revision(get_settings().database_url) or "empty (run `tracker db upgrade`)")


def main() -> None:  # pragma: no cover - console entry
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
