"""One poller per source at a time, across processes (issue #11): a row in `source_lock` per source
being polled. Taking it is one atomic statement on SQLite and PostgreSQL alike (an UPDATE of an
expired lock, or an INSERT that the primary key refuses when someone holds it); a lock left by a
killed process expires and is taken over. Releasing deletes only our own row."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tracker.db import session_scope
from tracker.models import SourceLock

DEFAULT_TTL = timedelta(hours=2)  # longer than any poll; a killed poller's lock is free after it


class SourceBusy(RuntimeError):
    """Another process polls this source right now."""


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(engine: Engine, source_id: str, holder: str, *, ttl: timedelta = DEFAULT_TTL,
            now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    with session_scope(engine) as db:
        taken = db.execute(update(SourceLock).where(SourceLock.source_id == source_id,
                                                    SourceLock.expires_at < now)
                           .values(holder=holder, acquired_at=now, expires_at=now + ttl)).rowcount
        if taken:
            return True
    try:
        with session_scope(engine) as db:
            db.execute(insert(SourceLock).values(source_id=source_id, holder=holder, acquired_at=now,
                                                 expires_at=now + ttl))
        return True
    except IntegrityError:
        return False  # held, and not expired


def release(engine: Engine, source_id: str, holder: str) -> None:
    with session_scope(engine) as db:
        db.execute(delete(SourceLock).where(SourceLock.source_id == source_id, SourceLock.holder == holder))


def held_by(engine: Engine, source_id: str) -> SourceLock | None:
    with session_scope(engine) as db:
        return db.execute(select(SourceLock).where(SourceLock.source_id == source_id)).scalar_one_or_none()


@contextmanager
def source_lock(engine: Engine, source_id: str, *, ttl: timedelta = DEFAULT_TTL) -> Iterator[str]:
    """Hold the source's lock for the block, or raise SourceBusy naming who holds it."""
    holder = holder_name()
    if not acquire(engine, source_id, holder, ttl=ttl):
        current = held_by(engine, source_id)
        who = f"{current.holder} since {current.acquired_at:%Y-%m-%d %H:%M}" if current else "another process"
        raise SourceBusy(f"{source_id} is being polled by {who}; skipped")
    try:
        yield holder
    finally:
        release(engine, source_id, holder)
