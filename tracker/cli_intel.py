"""`tracker classify`, `tracker similar`, `tracker conflicts`, `tracker lifecycle ...`: the intelligence
layer (tracker/detect/) from the command line. Everything listed comes from stored rows; scraped text
goes through tracker.display.say, low-confidence facts carry [LOW]."""

from __future__ import annotations

import csv
import getpass
import io
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import aliased

from tracker import db as database
from tracker.config import get_settings
from tracker.display import one_line, say, spreadsheet_safe
from tracker.federal import confidence_label
from tracker.models import Bill, BillEvent, Conflict, FederalInstrument, LawEvent, SimilarBill

lifecycle_app = typer.Typer(help="Enacted laws after enactment: effective, delayed, enjoined, amended, "
                                 "repealed, superseded; and the events proposed for review.",
                            no_args_is_help=True)

CLASSIFY_COLUMNS = ("ai_relevance", "ai_score", "topics", "evidence")


def _engine():
    return database.migrated_engine(get_settings().database_url)


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)
    app.command("similar")(similar)
    app.command("conflicts")(conflicts)
    app.add_typer(lifecycle_app, name="lifecycle")


# --- classify ------------------------------------------------------------------------------------------

def classify(input_csv: Annotated[Path, typer.Argument(help="CSV with a `title` column; optional `id`, "
                                                            "`description`, `text`.", exists=True, dir_okay=False)],
             output: Annotated[Path | None, typer.Option("-o", "--output",
                                                         help="Write here (default: standard output).")] = None
             ) -> None:
    """Triage a list of bills: add ai_relevance, ai_score, topics and evidence to each row. Nothing is
    stored; the same rules as ingest (tracker/data/ai_relevance.toml, topics.toml)."""
    from tracker.detect.relevance import classify_relevance
    from tracker.detect.topics import classify_topics

    import tracker.textdecode  # noqa: F401 - raises csv's field limit to FIELD_SIZE_LIMIT (a bill text in a cell)
    try:
        text = input_csv.read_text(encoding="utf-8-sig")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = list(reader.fieldnames or [])
        if "title" not in header:
            raise ValueError(f"the header must have a `title` column; it has {header or 'nothing'}")
        rows = list(reader)
    except (UnicodeDecodeError, ValueError, csv.Error) as exc:
        say(f"error: {input_csv}: {exc}", err=True)
        raise typer.Exit(2) from None
    columns = header + [c for c in CLASSIFY_COLUMNS if c not in header]
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writerow({c: spreadsheet_safe(c) for c in columns})
        counts: dict[str, int] = {}
        for row in rows:
            title, abstract, body = row.get("title") or "", row.get("description"), row.get("text")
            relevance = classify_relevance(title, abstract, body)
            topics = classify_topics(title, abstract, body) if relevance.tier != "not_ai" else None
            counts[relevance.tier] = counts.get(relevance.tier, 0) + 1
            row.update(ai_relevance=relevance.tier, ai_score=f"{relevance.score:.3f}",
                       topics=";".join(topics.topics) if topics else "",
                       evidence="; ".join(f"{e.term} ({e.field}: {e.snippet})" for e in relevance.evidence))
            writer.writerow({k: spreadsheet_safe(v) for k, v in row.items() if k is not None})
    finally:
        if output:
            handle.close()
    summary = ", ".join(f"{counts.get(t, 0)} {t}" for t in ("core", "adjacent", "incidental", "not_ai"))
    say(f"classified {len(rows)} row(s): {summary}" + (f"; written to {output}" if output else ""), err=True)


# --- similar -------------------------------------------------------------------------------------------

def similar(key: Annotated[str, typer.Argument(help="Bill key, e.g. mn-2025-2026-HF1 (see `tracker changes`).")],
            limit: Annotated[int, typer.Option(help="How many similar bills.")] = 10) -> None:
    """A bill's most similar bills in other states and its own: score, basis (text, title+abstract or
    title), status, title and the longest passage they share. Stored matches for AI bills; for any
    other bill, computed now against the stored AI bills."""
    with database.session_scope(_engine()) as db:
        bill = db.execute(select(Bill).where(Bill.key == key)).scalar_one_or_none()
        if bill is None:
            say(f"error: no stored bill {key!r} (keys look like va-2024-SB487)", err=True)
            raise typer.Exit(2)
        other = aliased(Bill)
        rows = [(m.score, m.basis, tuple(m.shared or ()), o) for m, o in db.execute(
            select(SimilarBill, other).join(other, other.id == SimilarBill.similar_id)
            .where(SimilarBill.bill_id == bill.id).order_by(SimilarBill.score.desc(), other.key).limit(limit))]
        how = "stored"
        if not rows:
            rows, how = _similar_now(db, bill, limit), "computed now"
        say(f"{bill.key}\t{bill.ai_relevance or 'not classified'}\t{one_line(bill.title)[:100]}")
        if not rows:
            say("no similar bills found among the stored AI bills")
            return
        for score, basis, shared, match in rows:
            where = "same state" if match.jurisdiction_id == bill.jurisdiction_id else "other state"
            say(f"  {score:.3f}\t{basis}\t{where}\t{match.key}\t{match.status or 'introduced'}"
                f"\t{one_line(match.title)[:90]}")
            if shared:
                say(f"      shared: “{one_line(shared[0])[:160]}”")
        say(f"({how}; source of each bill: `tracker changes` or the dashboard's bill page)")


def _similar_now(db, bill: Bill, limit: int):
    from tracker.detect.pipeline import INDEX_COLUMNS, INDEXED_TIERS, SIMILAR_MIN_SCORE, similarity_index

    rows = db.execute(select(*INDEX_COLUMNS).where(Bill.ai_relevance.in_(INDEXED_TIERS) | (Bill.id == bill.id))
                      .order_by(Bill.key)).all()
    index, by_key = similarity_index(db, rows)
    if bill.key not in by_key:
        return []
    found = index.similar(bill.key, limit, min_score=SIMILAR_MIN_SCORE)
    others = {b.key: b for b in db.execute(select(Bill).where(Bill.key.in_([m.key for m in found]))).scalars()}
    return [(m.score, m.basis, m.shared, others[m.key]) for m in found]


# --- conflicts -----------------------------------------------------------------------------------------

def conflicts(state: Annotated[str | None, typer.Option(help="Two-letter state.")] = None,
              instrument: Annotated[str | None, typer.Option(help="Federal instrument key (`tracker federal list`).")
                                    ] = None,
              relation: Annotated[str | None, typer.Option(help="named_target, in_preemption_scope, carved_out, "
                                                                "challenged, enjoined, amended_in_response, overlaps.")
                                  ] = None,
              ended: Annotated[bool, typer.Option("--ended", help="Also links that no longer hold.")] = False
              ) -> None:
    """Where federal moves reach state AI laws, and where state laws overlap: the law, the relation, the
    federal move with its force (law, proposed, directed), confidence, reason and source."""
    with database.session_scope(_engine()) as db:
        other = aliased(Bill)
        query = (select(Conflict, Bill, FederalInstrument, other).join(Bill, Bill.id == Conflict.bill_id)
                 .outerjoin(FederalInstrument, FederalInstrument.id == Conflict.instrument_id)
                 .outerjoin(other, other.id == Conflict.other_bill_id)
                 .order_by(Bill.jurisdiction_id, Bill.key, Conflict.relation, Conflict.link_key))
        if not ended:
            query = query.where(Conflict.active.is_(True))
        if state:
            query = query.where(Bill.jurisdiction_id == state.lower())
        if instrument:
            query = query.where(FederalInstrument.key == instrument)
        if relation:
            query = query.where(Conflict.relation == relation)
        rows = db.execute(query).all()
        for conflict, bill, target, other_bill in rows:
            against = target.key if target is not None else (other_bill.key if other_bill is not None else "?")
            force = f"\t{conflict.force}" if conflict.force else ""
            state_flag = "" if conflict.active else "\t[ENDED]"
            say(f"{bill.key}\t{bill.law_status or bill.status or 'introduced'}\t{conflict.relation}\t{against}"
                f"{force}\tconfidence {confidence_label(conflict.confidence)}\t{conflict.origin}{state_flag}")
            say(f"    {one_line(conflict.reason)[:300]}")
            if conflict.source_url:
                say(f"    source: {conflict.source_url}")
    if not rows:
        say("no conflicts match (load the federal seed with `tracker federal seed`, then ingest state bills)")


# --- lifecycle -----------------------------------------------------------------------------------------

@lifecycle_app.command("list")
def lifecycle_list(key: Annotated[str | None, typer.Argument(help="One law's bill key: its events.")] = None
                   ) -> None:
    """Enacted AI laws with their law status and effective dates; with KEY, that law's events (seed,
    detected and reviewed) with their source and confidence."""
    with database.session_scope(_engine()) as db:
        if key is None:
            laws = db.execute(select(Bill).where(Bill.status == "enacted",
                                                 Bill.ai_relevance.in_(("core", "adjacent")))
                              .order_by(Bill.jurisdiction_id, Bill.key)).scalars().all()
            for law in laws:
                dates = ", ".join(law.effective_dates or []) or "effective date not stated"
                say(f"{law.key}\t{law.law_status or 'unknown'}\t{dates}\t{one_line(law.title)[:90]}")
            if not laws:
                say("no enacted AI laws stored yet (ingest a session, then `tracker lifecycle list`)")
            return
        law = db.execute(select(Bill).where(Bill.key == key)).scalar_one_or_none()
        if law is None:
            say(f"error: no stored bill {key!r}", err=True)
            raise typer.Exit(2)
        say(f"{law.key}\t{law.status or 'introduced'}\tlaw status {law.law_status or 'unknown'}"
            f"\teffective {', '.join(law.effective_dates or []) or 'not stated'}\t{one_line(law.title)[:90]}")
        events = db.execute(select(LawEvent).where(LawEvent.bill_id == law.id)
                            .order_by(LawEvent.event_date, LawEvent.id)).scalars().all()
        for event in events:
            _say_event(event)
        if not events:
            say("  no lifecycle events recorded")


def _say_event(event: LawEvent) -> None:
    after = f" until {event.effective_after}" if event.effective_after else ""
    by = f" by {event.by_reference}" if event.by_reference else ""
    mechanism = f" ({event.mechanism})" if event.mechanism else ""
    say(f"  #{event.id}\t{event.event_date or 'undated'}\t{event.event}{after}{by}{mechanism}\t{event.origin}"
        f"\t{event.review_status}\tconfidence {confidence_label(event.confidence)}\t{event.source_url or ''}")
    if event.note:
        say(f"      {one_line(event.note)[:200]}")


@lifecycle_app.command("review")
def lifecycle_review(confirm: Annotated[int | None, typer.Option(help="Confirm this proposed event id.")] = None,
                     reject: Annotated[int | None, typer.Option(help="Reject this proposed event id.")] = None,
                     note: Annotated[str | None, typer.Option(help="Why (kept with the decision).")] = None
                     ) -> None:
    """Events a later bill proposed (it says it delays, amends or repeals an earlier law): list them, or
    confirm or reject one. A confirmed event changes the law's status from its date on."""
    from tracker.runs import run_detect

    engine = _engine()
    with database.session_scope(engine) as db:
        if confirm is None and reject is None:
            pending = db.execute(select(LawEvent, Bill).join(Bill, Bill.id == LawEvent.bill_id)
                                 .where(LawEvent.review_status == "proposed").order_by(LawEvent.id)).all()
            for event, law in pending:
                say(f"{law.key}\t{one_line(law.title)[:80]}")
                _say_event(event)
                for item in event.evidence or []:
                    say(f"      evidence: “{one_line(item.get('snippet', ''))[:200]}”")
            if not pending:
                say("no proposed lifecycle events to review")
            return
        event_id, decision = (confirm, "confirmed") if confirm is not None else (reject, "rejected")
        event = db.get(LawEvent, event_id)
        if event is None or event.review_status != "proposed":
            say(f"error: no proposed lifecycle event #{event_id} (list them with `tracker lifecycle review`)",
                err=True)
            raise typer.Exit(2)
        event.review_status, event.reviewed_at = decision, datetime.now(UTC)
        who = getpass.getuser()
        event.note = "; ".join(filter(None, (event.note, f"{decision} by {who}" + (f": {note}" if note else ""))))
        law_id, kind, before = event.bill_id, event.event, db.get(Bill, event.bill_id).law_status
        by, source_url = event.by_reference, event.source_url
    say(f"lifecycle event #{event_id} {decision}")
    if found := run_detect(engine, None):
        say(found)
    if decision == "confirmed":
        with database.session_scope(engine) as db:
            law = db.get(Bill, law_id)
            if law.law_status == before:  # a status change was recorded as the event; otherwise record this
                db.add(BillEvent(bill_id=law_id, kind="lifecycle", old_value=before, new_value=f"confirmed:{kind}",
                                 reason=f"{kind} by {by or 'a later act'} confirmed by {who}; law status stays "
                                        f"{before or 'unknown'}", detail={"law_event": event_id},
                                 source_url=source_url, fingerprint=f"confirmed:{event_id}"))


@lifecycle_app.command("seed")
def lifecycle_seed() -> None:
    """Apply the reviewable seed file (tracker/data/law_lifecycle.csv) to the stored laws now (every
    ingest does too) and show what it changed."""
    from tracker.detect.lifecycle import seed_rows
    from tracker.detect.pipeline import detect

    seed_rows.cache_clear()
    with database.session_scope(_engine()) as db:
        result = detect(db)
    say(f"{len(seed_rows())} seed row(s); {result.law_events} law event(s) added, changed or removed; "
        f"{result.lifecycle_events} lifecycle event(s) recorded")
