"""Email digests: what changed since a subscriber's last delivered digest, from stored event rows only.

Each digest covers, per event table (status_change, bill_event, instrument_change), the ids
after the subscriber's cursor up to the newest at build time. It is rendered once into an outbox row, unique
per (subscriber, window), with a Message-ID derived from both; the cursor moves to the digest's end only
after the SMTP server accepted it. So a crash between acceptance and the cursor update re-sends the same
bytes (same Message-ID: mail clients fold them), never a different digest, and no event is skipped or
reported in two digests. A failed send is recorded on the row (and in a `digest` run record) and retried on
the next run before any newer digest is built.

Never reported: a status change dated after the subscriber's local today (a scheduled action, DOMAIN.md
§1.5), a change whose fingerprint an earlier row already had (the same change delivered again), a proposed
law event that no one confirmed. Law-lifecycle news comes from `bill_event` rows of kind `lifecycle` (a law
status change naming its cause, or a reviewer's confirmation), never from the `law_event` table itself: a
proposal confirmed later keeps its old id, and a seed event and the status change it causes are one fact.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import smtplib
import ssl
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine, and_, func, select
from sqlmodel import Session

from tracker.config import Settings
from tracker.db import session_scope
from tracker.deliver.exports import write_rows
from tracker.deliver.subscriptions import (EVENT_TABLES, current_window, event_heads, list_subscribers,
                                           local_now, matches, touch_sent)
from tracker.display import shown_status
from tracker.models import (Bill, BillEvent, DigestOutbox, FederalInstrument, InstrumentChange,
                            ScrapeRun, StatusChange, Subscriber, utcnow)
from tracker.rows import take_write_lock

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
CAP = 10  # items shown per state and section; the rest are "and N more", linked to the dashboard
SECTIONS = {  # id -> heading, in the order shown
    "status": "Status changes",
    "new": "New bills and AI relevance changes",
    "conflicts": "Conflicts",
    "lifecycle": "Law lifecycle",
    "federal": "Federal instruments",
}
CSV_COLUMNS = ("section", "state", "bill_key", "identifier", "title", "old", "new", "date", "detail",
               "source_url", "dashboard_url", "event", "detected_at")
# C0/C1 controls (terminal escapes among them), DEL, bidi overrides and zero-width marks: removed from
# scraped text in both parts. Tabs and line breaks inside one field become spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_BREAKS = re.compile(r"[\t\r\n\u2028\u2029]+")
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")  # CSI, OSC, others


def clean(value: object) -> str:
    """Scraped text as one clean line: no terminal escape sequences, no controls, no bidi tricks."""
    text = _ESCAPES.sub("", "" if value is None else str(value))
    return _BREAKS.sub(" ", _CONTROL.sub("", text)).strip()


def web_url(value: object) -> str:
    """A link taken from scraped data, only if it is http(s): never javascript: or data: in a digest."""
    text = clean(value)
    return text if re.match(r"^https?://", text, flags=re.IGNORECASE) else ""


@dataclass
class Item:
    section: str
    state: str  # two letters; "us" for federal
    key: str
    identifier: str
    title: str
    old: str = ""
    new: str = ""
    date: str = ""
    detail: str = ""
    source_url: str = ""
    dashboard_url: str = ""
    event: str = ""  # "status_change:12"
    detected_at: str = ""


@dataclass
class Digest:
    subscriber: Subscriber
    window: str
    today: date
    cursor_from: dict
    cursor_to: dict
    items: list[Item] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = defaultdict(int)
        for item in self.items:
            counted[item.section] += 1
        return {section: counted[section] for section in SECTIONS if counted[section]}


def dashboard_link(settings: Settings, page: str, **params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{settings.dashboard_url.rstrip('/')}/{page}" + (f"?{query}" if query else "")


def _utc_text(value: datetime | None) -> str:
    if value is None:
        return ""
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()


# --- Collecting ---------------------------------------------------------------------------------------


def collect(db: Session, subscriber: Subscriber, settings: Settings, *, now: datetime,
            upto: dict | None = None, window: str | None = None) -> Digest:
    """The digest for events after the subscriber's cursor, up to `upto` (default: the newest stored)."""
    start = {name: int((subscriber.cursor or {}).get(name, 0)) for name in EVENT_TABLES}
    end = dict(upto or event_heads(db))
    today = local_now(subscriber, now).date()
    digest = Digest(subscriber, window or current_window(subscriber, now), today, start, end)
    bills: dict[int, Bill] = {}

    def bill_of(bill_id: int) -> Bill:
        if bill_id not in bills:
            bills[bill_id] = db.get(Bill, bill_id)
        return bills[bill_id]

    def bill_item(section: str, bill: Bill, **values) -> Item:
        return Item(section, bill.jurisdiction_id, bill.key, bill.identifier, clean(bill.title),
                    dashboard_url=dashboard_link(settings, "bills", bill=bill.key),
                    source_url=values.pop("source_url", None) or bill.source_url, **values)

    # Status changes, first sightings among them ("new" bills).
    first_seen: dict[int, Item] = {}
    changes = list(db.execute(select(StatusChange).where(
        StatusChange.id > start["status_change"], StatusChange.id <= end["status_change"])
        .order_by(StatusChange.id)).scalars())
    repeated = _repeated(db, StatusChange, changes)
    for change in changes:
        if change.id in repeated or (change.action_date and change.action_date > today):
            continue
        bill = bill_of(change.bill_id)
        if not matches(subscriber, bill, status=change.new_status):
            continue
        if change.first_sighting:
            if bill.id in first_seen:
                continue
            item = first_seen[bill.id] = bill_item("new", bill, old="new bill", new=shown_status(change.new_label, change.basis),
                             detail=clean(change.cause), source_url=change.source_url)
        else:
            item = bill_item("status", bill, old=shown_status(change.old_label),
                             new=shown_status(change.new_label, change.basis), detail=clean(change.cause),
                             source_url=change.source_url)
        item.date = change.action_date.isoformat() if change.action_date else ""
        item.event, item.detected_at = f"status_change:{change.id}", _utc_text(change.detected_at)
        digest.items.append(item)

    events = list(db.execute(select(BillEvent).where(
        BillEvent.id > start["bill_event"], BillEvent.id <= end["bill_event"]).order_by(BillEvent.id)).scalars())
    repeated = _repeated(db, BillEvent, events)
    for event in events:
        if event.id in repeated or (event.kind == "lifecycle" and (event.new_value or "").startswith("proposed:")):
            continue
        section = {"relevance": "new", "conflict": "conflicts", "lifecycle": "lifecycle"}.get(event.kind)
        bill = bill_of(event.bill_id)
        if section is None or not matches(subscriber, bill):
            continue
        if event.kind == "relevance" and bill.id in first_seen:  # a new bill found to be an AI bill: one item
            seen = first_seen[bill.id]
            seen.detail = "; ".join(part for part in (seen.detail, clean(event.reason)) if part)
            seen.event += f" bill_event:{event.id}"
            continue
        item = bill_item(section, bill, old=clean(event.old_value), new=clean(event.new_value),
                         detail=clean(event.reason), source_url=event.source_url)
        item.event, item.detected_at = f"bill_event:{event.id}", _utc_text(event.detected_at)
        item.date = item.detected_at[:10]
        digest.items.append(item)

    if subscriber.federal:
        for change, instrument in db.execute(select(InstrumentChange, FederalInstrument).join(
                FederalInstrument, FederalInstrument.id == InstrumentChange.instrument_id).where(
                InstrumentChange.id > start["instrument_change"], InstrumentChange.id <= end["instrument_change"])
                .order_by(InstrumentChange.id)):
            fields = ", ".join(change.changed_fields or [])
            digest.items.append(Item(
                "federal", "us", instrument.key, instrument.kind, clean(instrument.title),
                old=clean(change.old_status), new=clean(change.new_status) or change.change,
                date=(instrument.event_date or instrument.published_on or change.detected_at.date()).isoformat(),
                detail=clean(f"{change.change}: {fields}" if fields else change.change),
                source_url=instrument.source_url or "",
                dashboard_url=dashboard_link(settings, "federal", instrument=instrument.key),
                event=f"instrument_change:{change.id}", detected_at=_utc_text(change.detected_at)))
    return digest


def _repeated(db: Session, table, rows) -> set[int]:
    """Ids of rows whose fingerprint an earlier row already had: the same event delivered again."""
    prints = {row.fingerprint for row in rows if row.fingerprint}
    if not prints:
        return set()
    first = dict(db.execute(select(table.fingerprint, func.min(table.id)).where(table.fingerprint.in_(prints))
                            .group_by(table.fingerprint)).all())
    seen: set[str] = set()
    out = set()
    for row in rows:
        if row.fingerprint and (first.get(row.fingerprint, row.id) < row.id or row.fingerprint in seen):
            out.add(row.id)
        if row.fingerprint:
            seen.add(row.fingerprint)
    return out


# --- Rendering ----------------------------------------------------------------------------------------


def _environment(autoescape: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]) if autoescape
                      else False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["clean"] = clean
    env.filters["web_url"] = web_url
    return env


_HTML = _environment(True)
_TEXT = _environment(False)


def subject_of(digest: Digest) -> str:
    counts = digest.counts()
    label = {"status": "status change", "new": "new or reclassified bill", "conflicts": "conflict",
             "lifecycle": "law lifecycle event", "federal": "federal change"}
    when = digest.window.split(":", 1)[1]
    kind = "weekly" if digest.window.startswith("weekly") else "daily"
    if not counts:
        return f"AI legislation {kind} digest {when}: no changes"
    parts = [f"{n} {label[s]}{'s' if n != 1 else ''}" for s, n in counts.items()]
    return f"AI legislation {kind} digest {when}: " + ", ".join(parts)


def sections(digest: Digest, settings: Settings) -> list[dict]:
    """The sections shown, each grouped by state with at most CAP items per state."""
    shown = []
    for section, heading in SECTIONS.items():
        items = [item for item in digest.items if item.section == section]
        if not items:
            continue
        by_state: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            by_state[item.state].append(item)
        groups = []
        for state in sorted(by_state):
            group = by_state[state]
            page = "federal" if section == "federal" else "changes"
            groups.append({"state": state.upper(), "rows": group[:CAP], "more": max(0, len(group) - CAP),
                           "more_url": dashboard_link(settings, page, state=state if page != "federal" else "")})
        shown.append({"id": section, "heading": heading, "count": len(items), "groups": groups})
    return shown


def unsubscribe_url(settings: Settings, subscriber: Subscriber) -> str:
    return dashboard_link(settings, "unsubscribe", token=subscriber.token)


def render(digest: Digest, settings: Settings) -> tuple[str, str, str]:
    """(subject, text, html)."""
    context = {"digest": digest, "subject": subject_of(digest), "sections": sections(digest, settings),
               "dashboard_url": settings.dashboard_url, "cap": CAP,
               "unsubscribe_url": unsubscribe_url(settings, digest.subscriber),
               "window": digest.window.split(":", 1)[1], "filters": _filters_text(digest.subscriber)}
    return (context["subject"], _TEXT.get_template("digest.txt").render(context),
            _HTML.get_template("digest.html").render(context))


def _filters_text(subscriber: Subscriber) -> str:
    from tracker.deliver.subscriptions import describe

    return describe(subscriber)


def attachment_csv(digest: Digest) -> str:
    """The digest's rows as CSV (with a BOM, so Excel reads it as UTF-8)."""
    buffer = io.StringIO()
    write_rows(([getattr(item, column.replace("bill_key", "key")) for column in CSV_COLUMNS]
                for item in digest.items), CSV_COLUMNS, buffer, "csv", bom=True)
    return buffer.getvalue()


def message_id(subscriber: Subscriber, window: str, settings: Settings) -> str:
    domain = parseaddr(settings.digest_from)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(f"{subscriber.id}:{subscriber.token}:{window}".encode()).hexdigest()[:32]
    return f"<digest.{digest}@{domain}>"


def list_id(settings: Settings) -> str:
    domain = parseaddr(settings.digest_from)[1].rpartition("@")[2] or "localhost"
    return f"Statehouse AI Tracker digests <digests.{domain}>"


def build_message(digest: Digest, settings: Settings, *, now: datetime) -> EmailMessage:
    subject, text, html = render(digest, settings)
    message = EmailMessage(policy=SMTP)
    message["From"] = settings.digest_from
    message["To"] = digest.subscriber.email
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = message_id(digest.subscriber, digest.window, settings)
    message["List-Id"] = list_id(settings)
    sender = parseaddr(settings.digest_from)[1]
    message["List-Unsubscribe"] = (f"<{unsubscribe_url(settings, digest.subscriber)}>, "
                                   f"<mailto:{sender}?subject=unsubscribe%20{digest.subscriber.token}>")
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Digest-Window"] = digest.window
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message.add_attachment(attachment_csv(digest), subtype="csv", charset="utf-8", cte="base64",
                           filename=f"ai-legislation-{digest.window.replace(':', '-')}.csv")
    return message


def preview(engine: Engine, settings: Settings, subscriber_id: int, *, now: datetime) -> tuple[Digest, EmailMessage]:
    """The digest the subscriber would get now; stores nothing."""
    with session_scope(engine) as db:
        subscriber = db.get(Subscriber, subscriber_id)
        digest = collect(db, subscriber, settings, now=now)
        return digest, build_message(digest, settings, now=now)


# --- Sending ------------------------------------------------------------------------------------------


class Transport:
    """SMTP from settings: STARTTLS, implicit TLS or plain, with login when a username is set."""

    def __init__(self, settings: Settings, timeout: float = 30.0):
        self.settings, self.timeout = settings, timeout

    def send(self, sender: str, recipient: str, raw: bytes) -> None:
        settings = self.settings
        host, port = settings.smtp_host, settings.smtp_port_or_default
        context = ssl.create_default_context()
        if settings.smtp_security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=self.timeout)
        with client:
            client.ehlo()
            if settings.smtp_security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                client.login(settings.smtp_username, password)
            client.sendmail(sender, [recipient], raw)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    empty: int = 0  # "no changes" digests among the sent
    skipped: int = 0  # window already delivered, or not built because an older one is still unsent
    planned: list[str] = field(default_factory=list)  # dry run: "email: subject"
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"digests: sent {self.sent} ({self.empty} with no changes, {self.retried} retried), "
                f"failed {self.failed}, skipped {self.skipped}")


def _error_text(exc: BaseException, settings: Settings) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if settings.smtp_password and settings.smtp_password.get_secret_value():
        text = text.replace(settings.smtp_password.get_secret_value(), "***")
    return text[:2000]


def _mark_sent(engine: Engine, outbox_id: int, when: datetime) -> None:
    """After the server accepted: the row is sent and the subscriber's cursor moves, in one transaction."""
    with session_scope(engine) as db:
        row = db.get(DigestOutbox, outbox_id)
        subscriber = db.get(Subscriber, row.subscriber_id)
        row.status, row.sent_at = "sent", when
        touch_sent(subscriber, row.cursor_to, when)
        db.add_all([row, subscriber])


def _attempt(engine: Engine, settings: Settings, transport, row: DigestOutbox, email: str, now: datetime,
             report: SendReport) -> bool:
    sender = parseaddr(settings.digest_from)[1]
    try:
        transport.send(sender, email, row.message.encode("utf-8"))
    except (smtplib.SMTPException, OSError) as exc:
        error = _error_text(exc, settings)
        with session_scope(engine) as db:
            stored = db.get(DigestOutbox, row.id)
            stored.status, stored.attempts, stored.last_error = "failed", stored.attempts + 1, error
        report.failed += 1
        report.errors.append(f"{email} {row.window}: {error}")
        log.warning("digest %s for subscriber %s failed: %s", row.window, row.subscriber_id, error)
        return False
    with session_scope(engine) as db:
        stored = db.get(DigestOutbox, row.id)
        stored.attempts += 1
    _mark_sent(engine, row.id, now)
    report.sent += 1
    report.empty += row.items == 0
    return True


def send_due(engine: Engine, settings: Settings, *, now: datetime | None = None, dry_run: bool = False,
             frequency: str | None = None, transport=None, only: Callable[[Subscriber], bool] | None = None
             ) -> SendReport:
    """Send every active subscriber its due digest: first any unsent earlier one (the same stored bytes),
    then the current window's, unless that window was delivered already. `dry_run` builds and reports the
    subjects, storing and sending nothing."""
    now = now or datetime.now(UTC)
    transport = transport or Transport(settings)
    report = SendReport()
    run_id = None if dry_run else _start_run(engine, now)
    try:
        with session_scope(engine) as db:
            subscribers = [s for s in list_subscribers(db, active_only=True)
                           if (frequency is None or s.frequency == frequency) and (only is None or only(s))]
        for subscriber in subscribers:
            _send_one(engine, settings, transport, subscriber, now, dry_run, report)
    finally:
        if run_id is not None:
            _finish_run(engine, run_id, report)
    return report


def _send_one(engine, settings, transport, subscriber: Subscriber, now: datetime, dry_run: bool,
              report: SendReport) -> None:
    window = current_window(subscriber, now)
    with session_scope(engine) as db:
        unsent = list(db.execute(select(DigestOutbox).where(
            DigestOutbox.subscriber_id == subscriber.id, DigestOutbox.status != "sent").order_by(DigestOutbox.id)
        ).scalars())
        done = db.execute(select(DigestOutbox.id).where(and_(
            DigestOutbox.subscriber_id == subscriber.id, DigestOutbox.window == window))).first() is not None
    for row in unsent:
        if dry_run:
            report.planned.append(f"{subscriber.email}: retry {row.subject}")
            continue
        report.retried += 1
        if not _attempt(engine, settings, transport, row, subscriber.email, now, report):
            return  # never build a newer digest over an undelivered one: it would skip or repeat events
    if done:  # this window's digest exists: delivered before, or just now by the retry above
        report.skipped += not any(row.window == window for row in unsent)
        return
    with session_scope(engine) as db:
        # Writers take turns on the write lock (tracker.rows.take_write_lock): holding it while the window's
        # last ids are read means no writer is mid-transaction, so no event with a lower id commits later
        # (PostgreSQL hands out ids before commit) and falls behind the cursor.
        take_write_lock(db, f"digest for subscriber {subscriber.id}")
        fresh = db.get(Subscriber, subscriber.id)
        digest = collect(db, fresh, settings, now=now, window=window)
        message = build_message(digest, settings, now=now)
        if dry_run:
            report.planned.append(f"{fresh.email}: {message['Subject']}")
            return
        row = DigestOutbox(subscriber_id=fresh.id, window=window, message_id=message["Message-ID"],
                           subject=str(message["Subject"]), cursor_from=digest.cursor_from,
                           cursor_to=digest.cursor_to, items=len(digest.items), message=message.as_string(),
                           created_at=now)
        db.add(row)
        db.flush()
    _attempt(engine, settings, transport, row, subscriber.email, now, report)


def _start_run(engine: Engine, now: datetime) -> int:
    with session_scope(engine) as db:
        run = ScrapeRun(source_id="digest", kind="digest", target="subscribers", started_at=now)
        db.add(run)
        db.flush()
        return run.id


def _finish_run(engine: Engine, run_id: int, report: SendReport) -> None:
    with session_scope(engine) as db:
        run = db.get(ScrapeRun, run_id)
        run.finished_at = utcnow()
        run.status = "failed" if report.failed and not report.sent else "partial" if report.failed else "ok"
        run.inserted, run.problems = report.sent, report.failed
        run.message = report.line() + ("; " + "; ".join(report.errors[:5]) if report.errors else "")


def failures(engine: Engine, limit: int = 50) -> list[tuple[str, str, int, str | None]]:
    """Undelivered digests, for the dashboard's Sources page: (email, window, attempts, last error)."""
    with session_scope(engine) as db:
        return [tuple(row) for row in db.execute(
            select(Subscriber.email, DigestOutbox.window, DigestOutbox.attempts, DigestOutbox.last_error)
            .join(Subscriber, Subscriber.id == DigestOutbox.subscriber_id)
            .where(DigestOutbox.status != "sent").order_by(DigestOutbox.id.desc()).limit(limit))]
