"""The `tracker` command."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from scrapers import REGISTRY, get_source
from scrapers.base import Batch, ItemProblem, SourceFormatError
from tracker import db as database
from tracker.cli_federal import federal_app
from tracker.config import get_settings
from tracker.display import json_line, one_line, say, shown_status
from tracker.models import Bill, RunProblem, ScrapeRun, StatusChange
from tracker.normalize.bill import normalize_bill
from tracker.scraped import ScrapedInstrument

app = typer.Typer(help="Statehouse AI Tracker: what changed in US AI legislation.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(federal_app, name="federal")

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
    """List the sources this tracker can read."""
    enabled = set(get_settings().sources)
    for source_id, source in sorted(REGISTRY.items()):
        mark = "enabled" if source_id in enabled else "-"
        say(f"{source_id:20} {source.jurisdiction:3} {mark:8} {source.title}")


@app.command()
def parse(source: SourceArg, path: PathArg, session: SessionOpt = None, fetched_at: FetchedOpt = None) -> None:
    """Print normalized bills from saved files as JSON Lines. Touches no database."""
    batch = _read(source, path, session, fetched_at)
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
    batch.items = _with_progress(batch.items)
    summary = run_batch(_engine(), source, batch, kind="ingest", allow_history_rewrite=allow_history_rewrite)
    say(summary.line())
    if not summary.ok and summary.status != "partial":
        raise typer.Exit(1)


@app.command()
def scrape(source: SourceArg) -> None:
    """Fetch one source live (conditional requests) and store what changed."""
    from tracker.runs import run_source

    if not get_source(source).live:
        say(f"error: {source} reads saved files only; use `tracker ingest {source} PATH`", err=True)
        raise typer.Exit(2)
    _migrate()
    failed = False
    for summary in run_source(_engine(), get_settings(), source):
        say(summary.line())
        failed |= not summary.ok and summary.status != "partial"
    if failed:
        raise typer.Exit(1)


@app.command()
def run() -> None:
    """The main job: migrate, then fetch every enabled source once and print a summary per source."""
    from tracker.runs import run_source

    settings = get_settings()
    _migrate()
    engine = _engine()
    failed = 0
    for source_id in settings.sources:
        if source_id not in REGISTRY or not REGISTRY[source_id].live:
            say(f"{source_id}: skipped - not a live source (TRACKER_SOURCES)", err=True)
            failed += 1
            continue
        for summary in run_source(engine, settings, source_id):
            say(summary.line())
            failed += summary.status in ("failed", "empty")
    if failed:
        say(f"{failed} source run(s) failed; see `tracker runs`", err=True)
        raise typer.Exit(1)


@app.command()
def reclassify(jurisdiction: Annotated[str | None, typer.Option(help="Only this state (two letters).")] = None
               ) -> None:
    """Recompute action classes and statuses from stored raw actions, without fetching."""
    from tracker.reclassify import reclassify as do_reclassify
    from tracker.runs import _start

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
    """Source health: API query budgets used this period, then recent runs with status, counts, errors."""
    from tracker.budget import metered_budgets, usage_report

    _migrate()
    for usage in usage_report(_engine(), metered_budgets(get_settings())):
        say(f"API usage {usage.line()}")
    with database.session_scope(_engine()) as db:
        unknown = _sessions_without_calendar(db)
        if unknown:
            say(f"Sessions without a calendar (their bills are never inferred dead at adjournment; add them to "
                f"tracker/data/sessions/): {', '.join(unknown)}")
        for run in db.execute(select(ScrapeRun).order_by(ScrapeRun.id.desc()).limit(limit)).scalars():
            say(f"#{run.id} {run.started_at:%Y-%m-%d %H:%M} {run.source_id} {run.kind} {run.status}: "
                       f"+{run.inserted} ~{run.updated} ={run.unchanged} status changes {run.status_changes} "
                       f"problems {run.problems} {run.message}".rstrip())
            if problems:
                for problem in db.execute(select(RunProblem).where(RunProblem.run_id == run.id)).scalars():
                    say(f"    {problem.item_key or '-'}: {problem.message}")


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
    with database.session_scope(_engine()) as db:
        for row, bill in list_disagreements(db, jurisdiction=jurisdiction, include_resolved=include_resolved,
                                            limit=limit):
            state = f"resolved {row.resolved_at:%Y-%m-%d}" if row.resolved_at else "open"
            say(f"{bill.key}	{row.source_id} says {row.source_label} (it claims {row.upstream_status or '-'})"
                       f"	merged {row.merged_label} from {row.merged_source_id}	detected "
                       f"{row.detected_at:%Y-%m-%d %H:%M}Z	{state}")


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
