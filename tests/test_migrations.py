"""Alembic owns the schema: migrations reach exactly the models, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import tracker.models  # noqa: F401
from tracker.db import current_revision, get_engine, script_heads, upgrade


def test_migrations_match_the_models(db_url):
    with get_engine(db_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], "models changed without a migration: run `alembic revision --autogenerate`"


def test_upgrade_is_idempotent(db_url):
    upgrade(db_url)
    assert current_revision(db_url) == script_heads(db_url)
