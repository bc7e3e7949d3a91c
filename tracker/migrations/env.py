"""Alembic environment: the schema is SQLModel.metadata from tracker.models."""

from alembic import context
from sqlmodel import SQLModel

import tracker.models  # noqa: F401  (registers the tables)
from tracker.config import get_settings
from tracker.db import get_engine

config = context.config
target_metadata = SQLModel.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # APScheduler creates and owns its job table (tracker/schedule.py); Alembic leaves it alone.
    return not (type_ == "table" and name == "apscheduler_jobs")


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, render_as_batch=True,
                          include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
        return
    with get_engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
