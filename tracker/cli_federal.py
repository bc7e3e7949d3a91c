"""`tracker federal ...`: the federal instruments, their links to state laws, and the review queue of
preemption candidates. Every listing shows each record's confidence; low ones are marked [LOW]."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from tracker import db as database
from tracker.config import get_settings
from tracker.display import one_line, say
from tracker.federal import (
    INSTRUMENT_KINDS,
    STANCES,
    SeedError,
    confidence_label,
    decide,
    force_text,
    links_for,
    list_instruments,
    load_seed,
    pending_candidates,
    resolve_state_bill,
)
from tracker.models import FederalInstrument, PreemptionCandidate

federal_app = typer.Typer(help="Federal instruments, preemption moves and their links to state laws.",
                          no_args_is_help=True)


def _engine():
    return database.migrated_engine(get_settings().database_url)


def _line(instrument: FederalInstrument) -> str:
    when = instrument.event_date.isoformat() if instrument.event_date else (instrument.date_text or "undated")
    stance = ",".join(instrument.stance) or "not reviewed"
    return (f"{instrument.key}\t{instrument.kind}\t{force_text(instrument)}\tconfidence {confidence_label(instrument.confidence)}"
            f"\t{stance}\t{when}\t{one_line(instrument.title)[:90]}")


@federal_app.command("seed")
def seed(instruments: Annotated[Path | None, typer.Option(help="Instrument CSV (default: the shipped seed).")] = None,
         links: Annotated[Path | None, typer.Option(help="Conflict-link CSV (default: the shipped seed).")] = None
         ) -> None:
    """Load the reviewable seed files (tracker/data/federal_instruments.csv, conflict_links.csv)."""
    try:
        with database.session_scope(_engine()) as db:
            result = load_seed(db, instruments, links)
    except SeedError as exc:
        say(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    say(f"instruments: inserted {result.inserted}, updated {result.updated}, unchanged {result.unchanged}; "
               f"links: inserted {result.links_inserted}, updated {result.links_updated}, "
               f"unchanged {result.links_unchanged}")
    from tracker.runs import run_detect

    if found := run_detect(_engine(), None):  # links are recomputed after every seed load
        say(found)
    for warning in result.warnings:
        say(f"warning: {warning}", err=True)


@federal_app.command("list")
def list_(kind: Annotated[str | None, typer.Option(help=f"One of: {', '.join(INSTRUMENT_KINDS)}.")] = None,
          stance: Annotated[str | None, typer.Option(help=f"One of: {', '.join(STANCES)}.")] = None,
          low: Annotated[bool, typer.Option("--low", help="Only low-confidence (L) records.")] = False) -> None:
    """Federal instruments, oldest first: key, kind, force (law / proposed / directed) with status,
    confidence, stance toward state law, date and title."""
    with database.session_scope(_engine()) as db:
        rows = list_instruments(db, kind=kind, stance=stance, low_only=low)
        for instrument in rows:
            say(_line(instrument))
    if not rows:
        say("no federal instruments stored (run `tracker federal seed`)", err=True)


@federal_app.command("show")
def show(key: Annotated[str, typer.Argument(help="Instrument key, e.g. fr:2025-23092 or us-119-HR5388.")]) -> None:
    """One instrument in full: identifiers, stance, scope, carve-outs, history, links and candidates."""
    with database.session_scope(_engine()) as db:
        instrument = db.execute(select(FederalInstrument).where(FederalInstrument.key == key)).scalar_one_or_none()
        if instrument is None:
            say(f"error: no federal instrument {key!r}", err=True)
            raise typer.Exit(1)
        say(_line(instrument))
        for label, value in (
            ("identifiers", ", ".join(filter(None, (
                f"EO {instrument.eo_number}" if instrument.eo_number else None,
                f"FR doc {instrument.fr_document_number}" if instrument.fr_document_number else None,
                instrument.fr_citation, instrument.bill_key, instrument.section, instrument.docket)))),
            ("draft", "yes" if instrument.is_draft else None),
            ("dates", ", ".join(filter(None, (
                f"signed {instrument.signed_on}" if instrument.signed_on else None,
                f"published {instrument.published_on}" if instrument.published_on else None,
                f"effective {instrument.effective_on}" if instrument.effective_on else None,
                f"on public inspection {instrument.public_inspection_at:%Y-%m-%d %H:%M}"
                if instrument.public_inspection_at else None, instrument.date_text)))),
            ("summary", instrument.summary), ("scope", "; ".join(instrument.scope)),
            ("carve-outs", "; ".join(instrument.carve_outs)), ("targets", instrument.targets),
            ("history", instrument.history), ("note", instrument.note),
            ("source", " ".join(filter(None, (instrument.source_id, instrument.source_url)))),
            ("source ref", instrument.source_ref),
            ("last verified", str(instrument.last_verified) if instrument.last_verified else "never (seed only)"),
        ):
            if value:
                say(f"  {label}: {value}")
        for link, _ in links_for(db, instrument_key=key):
            say(f"  link: {link.state_law} {link.relation} {link.provision_ref or ''} "
                       f"confidence {confidence_label(link.confidence)}".replace("  confidence", " confidence"))
        for candidate in db.execute(select(PreemptionCandidate).where(
                PreemptionCandidate.instrument_id == instrument.id)).scalars():
            terms = ", ".join(sorted({e["term"] for e in candidate.evidence}))
            say(f"  candidate #{candidate.id} {candidate.status}: {terms}")


@federal_app.command("links")
def links(state: Annotated[str | None, typer.Option(help="Two-letter state.")] = None,
          instrument: Annotated[str | None, typer.Option(help="Instrument key.")] = None) -> None:
    """State laws tied to federal instruments: relation, provision, confidence, and the stored bill if any."""
    with database.session_scope(_engine()) as db:
        rows = links_for(db, state=state, instrument_key=instrument)
        for link, target in rows:
            stored = resolve_state_bill(db, link) or "not stored"
            say(f"{link.state_law}\t{link.relation}\t{target.key} {link.provision_ref or ''}".rstrip()
                       + f"\t{force_text(target)}\tconfidence {confidence_label(link.confidence)}"
                       f"\tbill {stored}\t{link.note or ''}")
    if not rows:
        say("no conflict links stored (run `tracker federal seed`)", err=True)


@federal_app.command("review")
def review(
    list_only: Annotated[bool, typer.Option("--list", help="Only list pending candidates.")] = False,
    confirm: Annotated[int | None, typer.Option(help="Confirm this candidate id (needs --stance).")] = None,
    reject: Annotated[int | None, typer.Option(help="Reject this candidate id.")] = None,
    stance: Annotated[list[str] | None, typer.Option(help=f"Stance when confirming: {', '.join(STANCES[:-1])}; "
                                                     "repeat for several.")] = None,
    note: Annotated[str | None, typer.Option(help="Why (kept with the decision).")] = None,
    reviewer: Annotated[str | None, typer.Option(help="Who decides (default: your login name).")] = None,
) -> None:
    """Confirm or reject detected preemption candidates. Without options, walks the queue interactively."""
    who = reviewer or getpass.getuser()
    with database.session_scope(_engine()) as db:
        if confirm is not None or reject is not None:
            candidate_id, decision = (confirm, "confirm") if confirm is not None else (reject, "reject")
            try:
                instrument = decide(db, candidate_id, decision, stance=stance or [], reviewer=who, note=note)
            except (LookupError, ValueError) as exc:
                say(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
            say(f"candidate #{candidate_id} {decision}ed: {_line(instrument)}")
            return
        queue = pending_candidates(db)
        if not queue:
            say("no pending preemption candidates")
            return
        for candidate, instrument in queue:
            _show_candidate(candidate, instrument)
            if list_only:
                continue
            answer = typer.prompt("confirm, reject, skip or quit? [c/r/s/q]", default="s").strip().lower()[:1]
            if answer == "q":
                break
            if answer == "c":
                chosen = typer.prompt(f"stance(s), comma-separated ({', '.join(STANCES[:-1])})")
                why = typer.prompt("note", default="", show_default=False) or None
                try:
                    decide(db, candidate.id, "confirm", stance=chosen.split(","), reviewer=who, note=why)
                except ValueError as exc:
                    say(f"  not recorded: {exc}", err=True)
                    continue
                say(f"  confirmed #{candidate.id}")
            elif answer == "r":
                why = typer.prompt("note", default="", show_default=False) or None
                decide(db, candidate.id, "reject", reviewer=who, note=why)
                say(f"  rejected #{candidate.id}")


def _show_candidate(candidate: PreemptionCandidate, instrument: FederalInstrument) -> None:
    say(f"#{candidate.id} {_line(instrument)}")
    say(f"    source: {instrument.source_url or instrument.source_ref or '-'}")
    for evidence in candidate.evidence:
        say(f"    [{evidence['term']}] in {evidence['field']}: {evidence['snippet']}")
