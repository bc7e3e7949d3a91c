"""Database tables. Alembic owns the schema (tracker/migrations); every change here gets a revision."""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ts(**kwargs: Any):
    return Field(sa_type=DateTime(timezone=True), **kwargs)


class Jurisdiction(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=2)  # "va"; "us" for federal
    name: str
    classification: str = "state"  # state | federal


class LegislativeSession(SQLModel, table=True):
    __tablename__ = "legislative_session"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "identifier"),)
    id: int | None = Field(default=None, primary_key=True)
    jurisdiction_id: str = Field(foreign_key="jurisdiction.id", index=True)
    identifier: str  # "2024", "2024S1"
    name: str
    # Calendar facts (tracker/data/sessions.toml); unknown stays None and nothing is inferred from it.
    start_date: dt.date | None = None
    final_action_date: dt.date | None = None  # after this, nothing pending can still move
    carry_over: str | None = None  # none | explicit | automatic


class Bill(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("jurisdiction_id", "session_id", "identifier"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)  # tracker.normalize.identifiers.bill_key
    jurisdiction_id: str = Field(foreign_key="jurisdiction.id", index=True)
    session_id: int = Field(foreign_key="legislative_session.id", index=True)
    identifier: str  # "SB 487"
    kind: str = "bill"
    origin_chamber: str | None = None
    title: str = Field(sa_type=Text)
    summary: str | None = Field(default=None, sa_type=Text)
    introduced_on: dt.date | None = None
    # Derived by tracker.normalize.status; recomputable from the stored actions.
    status: str | None = Field(default=None, index=True)
    status_date: dt.date | None = None
    enacted_how: str | None = None
    failed_how: str | None = None
    carried_over: bool = False
    override_possible: bool = False
    partial_veto: bool = False
    prefiled: bool = False
    chapter: str | None = None
    incorporated_into: str | None = None
    classifier_version: str | None = None
    # Provenance of what the user sees: which source, which URL, fetched when.
    source_id: str
    source_url: str = Field(sa_type=Text)
    fetched_at: dt.datetime = _ts()
    source_flags: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    first_seen_at: dt.datetime = _ts(default_factory=utcnow)
    updated_at: dt.datetime = _ts(default_factory=utcnow)


class BillSource(SQLModel, table=True):
    """What one source said about one bill, verbatim: raw record and content hash."""

    __tablename__ = "bill_source"
    __table_args__ = (UniqueConstraint("bill_id", "source_id"),)
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    source_id: str
    url: str = Field(sa_type=Text)
    fetched_at: dt.datetime = _ts()
    content_hash: str
    field_hashes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    raw: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Action(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("bill_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    position: int  # order within the bill, as the source listed it
    date: dt.date | None = None
    raw_date: str = ""
    text: str = Field(sa_type=Text)  # raw, never rewritten
    actor: str | None = None
    # Derived; `tracker reclassify` recomputes these from `text`.
    classes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    classifier_version: str = ""


class Sponsor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    position: int
    name: str
    primary: bool = True
    source_person_id: str | None = None


class BillVersion(SQLModel, table=True):
    __tablename__ = "bill_version"
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    position: int
    note: str
    date: dt.date | None = None
    url: str | None = Field(default=None, sa_type=Text)


class ScrapeRun(SQLModel, table=True):
    __tablename__ = "scrape_run"
    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(index=True)
    kind: str  # scrape | ingest | reclassify
    target: str = Field(default="", sa_type=Text)  # URLs or file path
    started_at: dt.datetime = _ts(default_factory=utcnow)
    finished_at: dt.datetime | None = _ts(default=None)
    status: str = "running"  # running | ok | partial | unchanged | empty | failed
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    problems: int = 0
    message: str = Field(default="", sa_type=Text)
    traceback: str | None = Field(default=None, sa_type=Text)


class RunProblem(SQLModel, table=True):
    """One record a run could not take: kept with its key and URL so nobody has to guess."""

    __tablename__ = "run_problem"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="scrape_run.id", index=True)
    item_key: str | None = None
    url: str | None = Field(default=None, sa_type=Text)
    message: str = Field(sa_type=Text)


class StatusChange(SQLModel, table=True):
    """Append-only status history. Never updated, never deleted."""

    __tablename__ = "status_change"
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="scrape_run.id", index=True)
    old_status: str | None = None
    new_status: str | None = None
    old_label: str | None = None  # status with how-field and flags, e.g. "failed/died_in_committee"
    new_label: str | None = None
    action_date: dt.date | None = None  # date of the action that caused it
    cause: str | None = Field(default=None, sa_type=Text)  # that action's raw text
    detected_at: dt.datetime = _ts(default_factory=utcnow)


class BillChange(SQLModel, table=True):
    """One row per inserted or changed bill per run, naming the fields that changed."""

    __tablename__ = "bill_change"
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="scrape_run.id", index=True)
    change: str  # insert | update
    changed_fields: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    detected_at: dt.datetime = _ts(default_factory=utcnow)
