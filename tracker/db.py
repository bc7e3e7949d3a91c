"""Engine factory, sessions and migrations. SQLite by default, PostgreSQL when the URL says so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseError(RuntimeError):
    pass


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # the dashboard reads while a scrape writes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_JSON_CACHE: dict[tuple, str] = {}


def dumps_json(value) -> str:
    """JSON for JSON columns. Action class lists repeat endlessly (a session has ~50 distinct lists
    over 55k actions), so their text is cached by value; empty values skip the encoder."""
    if type(value) is tuple:
        text = _JSON_CACHE.get(value)
        if text is not None:
            return text
    if not value and type(value) in (list, dict, tuple):
        return "{}" if type(value) is dict else "[]"
    text = json.dumps(value)
    if type(value) in (tuple, list) and len(_JSON_CACHE) < 10_000 and all(type(i) is str for i in value):
        _JSON_CACHE[tuple(value)] = text
    return text


@cache
def get_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # plain postgresql:// means psycopg 3, which we ship
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, json_serializer=dumps_json)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, json_serializer=dumps_json)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back everything on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def migrated_engine(url: str) -> Engine:
    """The engine of a database brought up to the newest schema first (what every writing command needs)."""
    upgrade(url)
    return get_engine(url)


def current_revision(url: str) -> str | None:
    """The applied revision(s), comma-separated; None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def script_heads(url: str) -> str:
    """The newest revision(s) the code ships, comma-separated."""
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory.from_config(alembic_config(url)).get_heads()))
