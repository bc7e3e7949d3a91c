"""Digest subscriptions (`tracker subscribe ...`; the dashboard calls the same functions).

A subscriber names what to hear about: states, topics, statuses, AI relevance tiers, bills by key, and
federal instruments. An empty filter matches everything, except relevance, which defaults to `core` (DOMAIN.md
§3: adjacent and incidental bills are opt-in; `any` means every tier) unless the subscriber follows named
bills only. Filters are applied to each event with the bill as it
is when the digest is built, so a bill that starts matching later (reclassified as AI, a new topic, moved
into a watched status) is reported from then on; a bill followed by key is reported on every change.
A new subscriber's cursor starts at the newest stored event: the first digest reports what happened after
subscribing, not the whole history.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, select
from sqlmodel import Session

from tracker.models import (Bill, BillEvent, DigestOutbox, InstrumentChange, LawEvent, StatusChange, Subscriber,
                            utcnow)
from tracker.vocab import BillStatus

FREQUENCIES = ("daily", "weekly")
RELEVANCE_TIERS = ("core", "adjacent", "incidental", "not_ai")
# DOMAIN.md §3: core AI bills alert by default; adjacent and incidental ones are opt-in (`--relevance any`: all).
DEFAULT_RELEVANCE = ("core",)
DIGEST_HOUR = 7  # local time at which a day's (or, on Mondays, a week's) digest is due
# The event tables a digest reads, each followed by its own cursor (the last id delivered).
EVENT_TABLES = {"status_change": StatusChange, "bill_event": BillEvent, "instrument_change": InstrumentChange,
                "law_event": LawEvent}
# One address, no display name, nothing that could end a header line.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_STATE = re.compile(r"^[a-z]{2}$")


class SubscriptionError(ValueError):
    pass


def _clean_list(values: Iterable[str] | None) -> list[str]:
    """Accepts repeated options and comma-separated ones; keeps order, drops repeats."""
    out: list[str] = []
    for value in values or ():
        for part in str(value).split(","):
            if (part := part.strip()) and part not in out:
                out.append(part)
    return out


def validate(*, email: str, states=None, topics=None, statuses=None, relevance=None, bills=None,
             frequency: str = "daily", timezone: str = "UTC") -> dict:
    email = email.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise SubscriptionError(f"not an email address: {email!r}")
    states = [s.lower() for s in _clean_list(states)]
    if bad := [s for s in states if not _STATE.match(s)]:
        raise SubscriptionError(f"states are two letters (va, co): {bad}")
    statuses = [s.lower() for s in _clean_list(statuses)]
    known = {s.value for s in BillStatus}
    if bad := [s for s in statuses if s not in known]:
        raise SubscriptionError(f"unknown status {bad}; one of {', '.join(sorted(known))}")
    relevance = [s.lower() for s in _clean_list(relevance)]
    if bad := [s for s in relevance if s not in (*RELEVANCE_TIERS, "any")]:
        raise SubscriptionError(f"unknown relevance {bad}; one of {', '.join(RELEVANCE_TIERS)} or any")
    if "any" in relevance:
        relevance = []  # every tier, unclassified bills too
    elif not relevance and not bills:
        relevance = list(DEFAULT_RELEVANCE)
    if frequency not in FREQUENCIES:
        raise SubscriptionError(f"frequency is daily or weekly, not {frequency!r}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SubscriptionError(f"unknown time zone {timezone!r} (an IANA name: America/New_York)") from None
    return {"email": email, "states": states, "topics": [t.lower() for t in _clean_list(topics)],
            "statuses": statuses, "relevance": relevance, "bills": _clean_list(bills), "frequency": frequency,
            "timezone": timezone}


def event_heads(db: Session) -> dict[str, int]:
    """The newest id of each event table (0 when empty): a cursor that has seen everything stored."""
    return {name: db.execute(select(func.coalesce(func.max(table.id), 0))).scalar_one()
            for name, table in EVENT_TABLES.items()}


def add_subscriber(db: Session, *, email: str, states=None, topics=None, statuses=None, relevance=None,
                   bills=None, federal: bool = False, frequency: str = "daily",
                   timezone: str = "UTC") -> tuple[Subscriber, bool]:
    """Add a subscriber, or replace an existing one's filters (token and cursor kept). Returns
    (subscriber, created)."""
    values = validate(email=email, states=states, topics=topics, statuses=statuses, relevance=relevance,
                      bills=bills, frequency=frequency, timezone=timezone)
    found = find_subscriber(db, values["email"])
    if found is not None:
        for name, value in values.items():
            setattr(found, name, value)
        found.federal = federal
        db.add(found)
        db.flush()
        return found, False
    subscriber = Subscriber(**values, federal=federal, token=secrets.token_urlsafe(24), cursor=event_heads(db))
    db.add(subscriber)
    db.flush()
    return subscriber, True


def find_subscriber(db: Session, who: str | int) -> Subscriber | None:
    """By email (any case) or by id."""
    if isinstance(who, int) or str(who).isdigit():
        return db.get(Subscriber, int(who))
    return db.execute(select(Subscriber).where(func.lower(Subscriber.email) == str(who).strip().lower())
                      ).scalar_one_or_none()


def list_subscribers(db: Session, *, active_only: bool = False) -> list[Subscriber]:
    query = select(Subscriber).order_by(Subscriber.id)
    if active_only:
        query = query.where(Subscriber.paused.is_(False))
    return list(db.execute(query).scalars())


def remove_subscriber(db: Session, who: str | int) -> bool:
    """Delete a subscriber and its outbox."""
    found = find_subscriber(db, who)
    if found is None:
        return False
    db.execute(delete(DigestOutbox).where(DigestOutbox.subscriber_id == found.id))
    db.delete(found)
    db.flush()
    return True


def set_paused(db: Session, who: str | int, paused: bool = True) -> Subscriber | None:
    found = find_subscriber(db, who)
    if found is not None:
        found.paused = paused
        db.add(found)
        db.flush()
    return found


def unsubscribe(db: Session, token: str) -> bool:
    """What the List-Unsubscribe link (RFC 8058 one-click POST) does: the subscriber with this opaque token
    is paused. True if one was found."""
    found = db.execute(select(Subscriber).where(Subscriber.token == token)).scalar_one_or_none()
    if found is None or not token:
        return False
    found.paused = True
    db.add(found)
    db.flush()
    return True


def describe(subscriber: Subscriber) -> str:
    parts = [f"{name} {','.join(getattr(subscriber, name))}" for name in
             ("states", "topics", "statuses", "relevance", "bills") if getattr(subscriber, name)]
    if not parts:
        parts.append("every bill")
    if subscriber.federal:
        parts.append("federal")
    return "; ".join(parts)


def matches(subscriber: Subscriber, bill: Bill, *, status: str | None = None) -> bool:
    """Does this bill, as it is now, match the subscriber's filters? `status` is the status an event moved
    the bill into (a status change); other events are judged on the bill's current status."""
    if bill.key in subscriber.bills:
        return True
    filters = (subscriber.states, subscriber.topics, subscriber.statuses, subscriber.relevance)
    if subscriber.bills and not any(filters):
        return False  # follows named bills only
    if subscriber.states and bill.jurisdiction_id not in subscriber.states:
        return False
    if subscriber.topics and not set(subscriber.topics) & {str(t).lower() for t in bill.topics or ()}:
        return False
    if subscriber.statuses and (status or bill.status or "introduced") not in subscriber.statuses:
        return False
    if subscriber.relevance and bill.ai_relevance not in subscriber.relevance:
        return False
    return True


def local_now(subscriber: Subscriber, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(subscriber.timezone))


def current_window(subscriber: Subscriber, now: datetime) -> str:
    """The newest window that has started by `now` in the subscriber's time zone: a day from DIGEST_HOUR,
    or an ISO week from Monday DIGEST_HOUR. A run that was down catches up on the window it missed."""
    local = local_now(subscriber, now) - timedelta(hours=DIGEST_HOUR)
    if subscriber.frequency == "weekly":
        year, week, _ = local.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    return f"daily:{local.date().isoformat()}"


def touch_sent(subscriber: Subscriber, cursor: dict, when: datetime | None = None) -> None:
    subscriber.cursor = dict(cursor)
    subscriber.last_sent_at = when or utcnow()
