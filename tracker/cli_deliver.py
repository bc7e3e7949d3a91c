"""`tracker export`, `tracker subscribe` and `tracker digest` (tracker/deliver/)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from tracker import db as database
from tracker.config import get_settings
from tracker.display import say

export_app = typer.Typer(help="Write CSV or XLSX (by the file's extension) of stored rows.", no_args_is_help=True)
subscribe_app = typer.Typer(help="Email digest subscribers.", no_args_is_help=True)
digest_app = typer.Typer(help="Email digests: preview and send.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
    app.add_typer(subscribe_app, name="subscribe")
    app.add_typer(digest_app, name="digest")
    app.command("unsubscribe-server")(unsubscribe_server)


def unsubscribe_server(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
                       port: Annotated[int, typer.Option(help="Port to listen on.")] = 8502) -> None:
    """Answer the digests' one-click List-Unsubscribe links (RFC 8058): POST /unsubscribe?token=... pauses
    that subscriber; GET shows a button. Route /unsubscribe of TRACKER_DASHBOARD_URL here."""
    from tracker.deliver.unsubscribe import make_unsubscribe_server

    server = make_unsubscribe_server(_engine(), host, port)
    say(f"unsubscribe endpoint on http://{host}:{server.server_port}/unsubscribe; Ctrl-C to stop")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _engine():
    return database.migrated_engine(get_settings().database_url)


# --- export -------------------------------------------------------------------------------------------

OutOpt = Annotated[Path, typer.Option("-o", "--output", help="File to write: .csv or .xlsx.")]
StateOpt = Annotated[str | None, typer.Option(help="Two-letter state.")]
TopicOpt = Annotated[str | None, typer.Option(help="Topic slug (bills carrying it).")]
StatusOpt = Annotated[str | None, typer.Option(help="Canonical status (introduced ... enacted, failed).")]
RelevanceOpt = Annotated[str | None, typer.Option(help="AI relevance: core, adjacent, incidental, not_ai.")]
SinceOpt = Annotated[datetime | None, typer.Option(help="Only rows changed on or after (UTC); see README.")]
BomOpt = Annotated[bool, typer.Option("--bom", help="CSV: start with a UTF-8 byte-order mark (for Excel).")]


def _export(kind: str, output: Path, state, topic, status, relevance, since, bom: bool,
            min_score: float | None = None) -> None:
    from tracker.deliver.exports import Filters, export, format_of

    try:
        format_of(output)
        filters = Filters(state=state, topic=topic, status=status, relevance=relevance,
                          since=since.replace(tzinfo=since.tzinfo or UTC) if since else None, min_score=min_score)
        started = datetime.now(UTC)
        count = export(_engine(), kind, output, filters=filters, bom=bom)
    except ValueError as exc:
        say(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    seconds = (datetime.now(UTC) - started).total_seconds()
    say(f"{kind}: {count:,} rows written to {output} in {seconds:.1f} s")


def _export_command(kind: str, summary: str, with_bill_filters: bool = True):
    if kind == "similar":
        from tracker.detect.similar import PAIRS_MIN_SCORE

        def command(output: OutOpt, state: StateOpt = None, topic: TopicOpt = None, status: StatusOpt = None,
                    relevance: RelevanceOpt = None, since: SinceOpt = None, bom: BomOpt = False,
                    min_score: Annotated[float, typer.Option(help="Only pairs scoring at least this (0..1); "
                                                                  "below 0.5 most share a subject, not a text.")
                                         ] = PAIRS_MIN_SCORE) -> None:
            _export(kind, output, state, topic, status, relevance, since, bom, min_score)
    elif with_bill_filters:
        def command(output: OutOpt, state: StateOpt = None, topic: TopicOpt = None, status: StatusOpt = None,
                    relevance: RelevanceOpt = None, since: SinceOpt = None, bom: BomOpt = False) -> None:
            _export(kind, output, state, topic, status, relevance, since, bom)
    else:
        def command(output: OutOpt, status: StatusOpt = None, since: SinceOpt = None,
                    bom: BomOpt = False) -> None:
            _export(kind, output, None, None, status, None, since, bom)
    command.__doc__ = summary
    export_app.command(kind)(command)


def _register_exports() -> None:
    from tracker.deliver.exports import KINDS

    for kind in KINDS.values():
        _export_command(kind.name, f"Export {kind.help}.", with_bill_filters="state" in kind.filters)


_register_exports()


# --- subscribe ------------------------------------------------------------------------------------------

ListOpt = Annotated[list[str] | None, typer.Option(help="Comma-separated or repeated.")]


@subscribe_app.command("add")
def subscribe_add(email: Annotated[str, typer.Argument(help="Recipient address.")],
                  states: ListOpt = None, topics: ListOpt = None, statuses: ListOpt = None,
                  relevance: Annotated[list[str] | None, typer.Option(
                      help="AI relevance tiers (core, adjacent, incidental, not_ai) or any. Default: core, "
                           "unless --bills alone is given.")] = None,
                  bills: Annotated[list[str] | None, typer.Option(
                      help="Bill keys to follow on every change (va-2024-SB487), comma-separated.")] = None,
                  federal: Annotated[bool, typer.Option(help="Also federal instruments.")] = False,
                  frequency: Annotated[str, typer.Option(help="daily or weekly.")] = "daily",
                  timezone: Annotated[str, typer.Option(help="IANA time zone for the digest's day.")] = "UTC"
                  ) -> None:
    """Add a digest subscriber (or replace an existing one's filters). Empty filters match everything, except
    relevance (default core)."""
    from tracker.deliver.subscriptions import SubscriptionError, add_subscriber, describe

    try:
        with database.session_scope(_engine()) as db:
            subscriber, created = add_subscriber(db, email=email, states=states, topics=topics, statuses=statuses,
                                                 relevance=relevance, bills=bills, federal=federal,
                                                 frequency=frequency, timezone=timezone)
            say(f"{'added' if created else 'updated'} #{subscriber.id} {subscriber.email} ({subscriber.frequency}, "
                f"{subscriber.timezone}): {describe(subscriber)}")
    except SubscriptionError as exc:
        say(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@subscribe_app.command("list")
def subscribe_list() -> None:
    """Subscribers, their filters, and when each last got a digest."""
    from tracker.deliver.subscriptions import describe, list_subscribers

    with database.session_scope(_engine()) as db:
        rows = list_subscribers(db)
        for s in rows:
            last = f"{s.last_sent_at:%Y-%m-%d %H:%M}Z" if s.last_sent_at else "never"
            say(f"#{s.id}\t{s.email}\t{s.frequency}\t{s.timezone}\t{'paused' if s.paused else 'active'}\t"
                f"last sent {last}\t{describe(s)}")
    if not rows:
        say("no subscribers: `tracker subscribe add EMAIL`")


WhoArg = Annotated[str, typer.Argument(help="Email address or subscriber id.")]


@subscribe_app.command("remove")
def subscribe_remove(who: WhoArg) -> None:
    """Delete a subscriber and its outbox."""
    from tracker.deliver.subscriptions import remove_subscriber

    with database.session_scope(_engine()) as db:
        if not remove_subscriber(db, who):
            say(f"no subscriber {who}", err=True)
            raise typer.Exit(1)
    say(f"removed {who}")


@subscribe_app.command("pause")
def subscribe_pause(who: WhoArg, resume: Annotated[bool, typer.Option(
        "--resume", help="Resume instead; events from the pause on are then reported.")] = False) -> None:
    """Stop (or with --resume restart) a subscriber's digests without losing the filters."""
    from tracker.deliver.subscriptions import set_paused

    with database.session_scope(_engine()) as db:
        if set_paused(db, who, not resume) is None:
            say(f"no subscriber {who}", err=True)
            raise typer.Exit(1)
    say(f"{'resumed' if resume else 'paused'} {who}")


# --- digest ---------------------------------------------------------------------------------------------


@digest_app.command("preview")
def digest_preview(who: WhoArg,
                   html: Annotated[Path | None, typer.Option(help="Write the HTML part to this file.")] = None
                   ) -> None:
    """Print the digest SUBSCRIBER would get now (text part; headers on stderr). Sends and stores nothing."""
    from tracker.deliver.digests import preview
    from tracker.deliver.subscriptions import find_subscriber

    engine = _engine()
    with database.session_scope(engine) as db:
        found = find_subscriber(db, who)
    if found is None:
        say(f"no subscriber {who}", err=True)
        raise typer.Exit(1)
    _digest, message = preview(engine, get_settings(), found.id, now=datetime.now(UTC))
    for name in ("Subject", "To", "Message-ID", "List-Id", "List-Unsubscribe"):
        say(f"{name}: {message[name]}", err=True)
    text = message.get_body(("plain",)).get_content()
    sys.stdout.write(text)
    if html is not None:
        html.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
        say(f"HTML part written to {html}", err=True)


@digest_app.command("send")
def digest_send(dry_run: Annotated[bool, typer.Option("--dry-run", help="Build and list; send and store nothing.")]
                = False,
                frequency: Annotated[str | None, typer.Option(help="Only daily or weekly subscribers.")] = None
                ) -> None:
    """Send each active subscriber its due digest (retrying undelivered ones first); exit 1 if any failed."""
    from tracker.deliver.digests import send_due

    settings = get_settings()
    if not dry_run and not settings.digests_enabled:
        say("error: TRACKER_SMTP_HOST is not set; nothing can be sent (try --dry-run)", err=True)
        raise typer.Exit(2)
    report = send_due(_engine(), settings, dry_run=dry_run, frequency=frequency)
    for line in report.planned:
        say(f"would send {line}")
    for error in report.errors:
        say(f"failed: {error}", err=True)
    say(report.line() if not dry_run else f"dry run: {len(report.planned)} digest(s) due")
    if report.failed:
        raise typer.Exit(1)
