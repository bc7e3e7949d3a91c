"""Database tables. Alembic owns the schema (tracker/migrations); every change here gets a revision."""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlalchemy import false as sa_false
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
    # A hash of the whole calendar entry the stored statuses were derived with: when the calendar files
    # change, the session's bills are derived again (review row M3).
    calendar_version: str | None = None


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
    # What the status rests on (tracker.vocab.StatusBasis): our state or generic table, the source's own
    # labels (`upstream`: shown as such, never as our rules' reading), the session calendar, or `default`.
    status_basis: str | None = None
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
    # Which source supplied each merged field ({"title": "va-lis", "summary": "legiscan", ...}); tracker/merge.py.
    provenance: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    first_seen_at: dt.datetime = _ts(default_factory=utcnow)
    updated_at: dt.datetime = _ts(default_factory=utcnow)
    # The intelligence layer (tracker/detect/), derived from the stored title, abstract and text alone.
    ai_relevance: str | None = Field(default=None, index=True)  # core | adjacent | incidental | not_ai
    ai_score: float | None = None
    ai_evidence: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    ai_override: str | None = Field(default=None, sa_type=Text)  # a reviewer's reason, when an override decided
    topics: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    obligations: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    intel_version: str | None = None
    # Law lifecycle (DOMAIN.md §1.4) for enacted bills: pending_effective, effective, delayed, enjoined,
    # amended, repealed, superseded, expired; and the effective dates the source states.
    law_status: str | None = Field(default=None, index=True)
    effective_dates: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))


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
    # Multi-source merge (tracker/merge.py). The upstream's own id, list and change hash (LegiScan
    # bill_id, session_id, change_hash), kept out of content_hash: the hash can change with no content change.
    upstream_id: str | None = Field(default=None, index=True)
    upstream_scope: str | None = None
    upstream_hash: str | None = None
    # The mergeable fields this source supplied, and our status derived from this source's actions alone.
    fields: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    status: str | None = None
    status_label: str | None = None
    upstream_status: str | None = None  # the status the source itself claims, mapped onto our ladder (a hint)
    last_seen_at: dt.datetime | None = _ts(default=None)
    stale: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})  # no longer listed; kept
    stale_since: dt.datetime | None = _ts(default=None)
    # A short hash of each (date, text) of the history this source last gave (tracker.storage.action_key):
    # a later record that lacks some of them is a history that shrank, held for review (review row C1).
    action_keys: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    history: str = Field(default="complete", sa_column_kwargs={"server_default": "complete"})  # or current_only


class Action(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("bill_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    position: int  # order within the bill, as the source listed it
    date: dt.date | None = None
    raw_date: str = ""
    text: str = Field(sa_type=Text)  # raw, never rewritten
    actor: str | None = None
    source_id: str | None = None  # the source that gave this line (a bill's history can merge a current-only feed)
    # The upstream's own labels for this action, verbatim (Open States classes, LegiScan progress events):
    # layer 3 of the classifier, kept so `tracker reclassify` needs no refetch.
    source_classes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    # Derived; `tracker reclassify` recomputes these from `text` and `source_classes`.
    classes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    classifier_version: str = ""
    class_layer: str = Field(default="", sa_column_kwargs={"server_default": ""})  # state|generic|upstream|none


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


class BillText(SQLModel, table=True):
    """A bill's own text, where a source gives it (California pubinfo's CAML): one row a bill, the latest
    text any source gave. A record without text never removes it (tracker.storage)."""

    __tablename__ = "bill_text"
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", unique=True)
    text: str = Field(sa_type=Text)
    version: str | None = None  # the version the text is of ("Introduced", "Amended Senate", "Chaptered")
    source_id: str
    source_url: str = Field(sa_type=Text)
    fetched_at: dt.datetime = _ts()
    content_hash: str  # sha256 of the text


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
    # What the fetch cost (tracker.http.FetchStats): requests, body bytes downloaded, cache hits, 304s.
    requests: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    bytes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    cache_hits: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    not_modified: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


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
    basis: str | None = None  # what the new status rests on (tracker.vocab.StatusBasis); `upstream` is shown as such
    # Provenance of the change itself (review row M9): the fetch that produced it, not the bill's current one.
    source_id: str | None = None
    source_url: str | None = Field(default=None, sa_type=Text)
    fetched_at: dt.datetime | None = _ts(default=None)
    first_sighting: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})  # a new bill
    # bill + new status + the deciding action's date and text: the same change delivered again has the same
    # fingerprint, and alerts are deduplicated on it (DOMAIN.md §1.5).
    fingerprint: str | None = Field(default=None, index=True)
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


class StatusDisagreement(SQLModel, table=True):
    """A source whose own status for a bill differs from the merged one: recorded, never overwritten.
    Open while `resolved_at` is empty; closed when the sources agree again or the disagreement changes."""

    __tablename__ = "status_disagreement"
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="scrape_run.id", index=True)
    source_id: str  # the dissenting source
    source_status: str | None = None  # our status derived from that source's actions
    source_label: str | None = None
    upstream_status: str | None = None  # what that source itself claims (LegiScan status code), a hint
    merged_status: str | None = None
    merged_label: str | None = None
    merged_source_id: str  # the source the merged status comes from
    detected_at: dt.datetime = _ts(default_factory=utcnow)
    resolved_at: dt.datetime | None = _ts(default=None)


class BillEvent(SQLModel, table=True):
    """Append-only events other than status changes, each recorded once: a bill becoming (or ceasing
    to be) an AI bill, a conflict link appearing, changing or going, a law-lifecycle event. Digests and
    the dashboard read these rows; nothing is diffed on the fly."""

    __tablename__ = "bill_event"
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="scrape_run.id", index=True)
    kind: str = Field(index=True)  # relevance | conflict | lifecycle
    old_value: str | None = None
    new_value: str | None = None
    reason: str = Field(default="", sa_type=Text)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    source_url: str | None = Field(default=None, sa_type=Text)
    fingerprint: str = Field(index=True)
    detected_at: dt.datetime = _ts(default_factory=utcnow)


class SimilarBill(SQLModel, table=True):
    """A bill's most similar bills (tracker/detect/similar.py), recomputed from stored text."""

    __tablename__ = "similar_bill"
    __table_args__ = (UniqueConstraint("bill_id", "similar_id"),)
    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    similar_id: int = Field(foreign_key="bill.id", index=True)
    score: float
    basis: str  # text | title+abstract | title
    shared: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: str
    computed_at: dt.datetime = _ts(default_factory=utcnow)


class Conflict(SQLModel, table=True):
    """A derived conflict (DOMAIN.md §5; tracker/detect/conflicts.py): a state bill against a federal
    instrument, or against another state's bill (`overlaps`). Recomputed after every ingest and seed load;
    a link that no longer holds is kept, inactive. `link_key` is stable across recomputations."""

    __tablename__ = "conflict"
    id: int | None = Field(default=None, primary_key=True)
    link_key: str = Field(unique=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    instrument_id: int | None = Field(default=None, foreign_key="federal_instrument.id", index=True)
    other_bill_id: int | None = Field(default=None, foreign_key="bill.id", index=True)
    relation: str = Field(index=True)
    provision_ref: str | None = None
    reason: str = Field(sa_type=Text)
    evidence: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidence: str
    force: str | None = None  # law | proposed | directed, for federal instruments
    source_url: str | None = Field(default=None, sa_type=Text)
    origin: str  # seed | derived
    active: bool = True
    version: str
    first_seen_at: dt.datetime = _ts(default_factory=utcnow)
    updated_at: dt.datetime = _ts(default_factory=utcnow)


class LawEvent(SQLModel, table=True):
    """A dated event in an enacted law's life (DOMAIN.md §1.4): delayed, enjoined, amended, repealed,
    superseded, expired, from the reviewable seed file, from the source, or proposed by detection (a later
    bill that says it delays or repeals this one) for a person to confirm (`tracker lifecycle review`)."""

    __tablename__ = "law_event"
    __table_args__ = (UniqueConstraint("event_key"),)
    id: int | None = Field(default=None, primary_key=True)
    event_key: str
    bill_id: int = Field(foreign_key="bill.id", index=True)
    event: str
    event_date: dt.date | None = None
    by_bill_id: int | None = Field(default=None, foreign_key="bill.id")
    by_reference: str | None = Field(default=None, sa_type=Text)  # bill, case or instrument as sourced
    mechanism: str | None = None  # court_order | stipulation, for enjoined
    effective_after: dt.date | None = None  # for delayed: the new effective date
    source_url: str | None = Field(default=None, sa_type=Text)
    confidence: str
    origin: str  # seed | detected
    review_status: str = "confirmed"  # confirmed | proposed | rejected
    evidence: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, sa_type=Text)
    created_at: dt.datetime = _ts(default_factory=utcnow)
    reviewed_at: dt.datetime | None = _ts(default=None)


class SourceLock(SQLModel, table=True):
    """Who polls a source right now (tracker/locks.py): two scheduler processes, or a schedule and a manual
    `tracker scrape`, never poll one source at once. A lock older than its expiry (a killed process) is
    taken over."""

    __tablename__ = "source_lock"
    source_id: str = Field(primary_key=True)
    holder: str
    acquired_at: dt.datetime = _ts(default_factory=utcnow)
    expires_at: dt.datetime = _ts()


class ActionShape(SQLModel, table=True):
    """Every action-string shape seen per state (digits folded): a shape never seen before in a state
    whose strings we know is a source-health note (DOMAIN.md §2.2), never a status alert."""

    __tablename__ = "action_shape"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "shape_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    jurisdiction_id: str = Field(index=True)
    shape_hash: str
    example: str = Field(sa_type=Text)
    first_seen_at: dt.datetime = _ts(default_factory=utcnow)
    run_id: int | None = None


class WriteLock(SQLModel, table=True):
    """One row. Every ingest and reclassify transaction updates it first, so writers take turns on SQLite
    and PostgreSQL alike and each decision is made on the state it is about to change (review row H8)."""

    __tablename__ = "write_lock"
    id: int = Field(default=1, primary_key=True)
    holder: str = ""
    acquired_at: dt.datetime | None = _ts(default=None)


class ApiUsage(SQLModel, table=True):
    """Queries spent per source per budget period (tracker/budget.py); persisted so restarts cannot overspend."""

    __tablename__ = "api_usage"
    __table_args__ = (UniqueConstraint("source_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: str
    period: str  # "2026-11" for a monthly budget, "2026-11-26" for a daily one
    queries: int = 0
    refused: int = 0  # queries not made because the budget was spent
    blocked: str | None = Field(default=None, sa_type=Text)  # the upstream refused the key; secrets removed
    updated_at: dt.datetime = _ts(default_factory=utcnow)


class SourceCursor(SQLModel, table=True):
    """A source's resume point (Open States updated_since, LegiScan dataset_hash), written with the ingest."""

    __tablename__ = "source_cursor"
    __table_args__ = (UniqueConstraint("source_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: str
    key: str
    value: str = Field(sa_type=Text)
    updated_at: dt.datetime = _ts(default_factory=utcnow)


# --- Federal layer (DOMAIN.md §5; tracker/federal.py) -----------------------------------------------


class FederalInstrument(SQLModel, table=True):
    """A federal move that touches state AI law: executive order, Federal Register document, federal bill,
    DOJ action, agency proceeding, White House letter or framework. Source fields (title, dates,
    identifiers) are refreshed by sources; stance, scope, carve-outs and confidence only by the seed
    file or a reviewer."""

    __tablename__ = "federal_instrument"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)  # "fr:2025-23092", "us-119-HR5388", "doj:..."
    kind: str = Field(index=True)
    title: str = Field(sa_type=Text)
    summary: str | None = Field(default=None, sa_type=Text)
    instrument_status: str | None = None
    stage: str | None = None  # seed | listed | public_inspection | published
    stance: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # empty: not reviewed
    scope: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    carve_outs: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    targets: str | None = Field(default=None, sa_type=Text)  # state laws named or implied, as sourced
    confidence: str  # H, M, L, H/M, L/M, or qualified ("H (text), M (CA mention)"); never raised
    eo_number: str | None = Field(default=None, index=True)
    fr_document_number: str | None = None
    fr_citation: str | None = None
    fr_type: str | None = None
    fr_subtype: str | None = None
    correction_of: str | None = None
    bill_key: str | None = Field(default=None, index=True)
    section: str | None = None
    docket: str | None = None  # docket or case number
    is_draft: bool = False
    event_date: dt.date | None = None
    date_text: str | None = None  # the date as sourced ("May 11–14, 2025")
    signed_on: dt.date | None = None
    published_on: dt.date | None = None
    effective_on: dt.date | None = None
    public_inspection_at: dt.datetime | None = _ts(default=None)
    agencies: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    history: str | None = Field(default=None, sa_type=Text)
    note: str | None = Field(default=None, sa_type=Text)
    source_id: str  # seed | federal-register | congress
    source_url: str | None = Field(default=None, sa_type=Text)
    source_ref: str | None = Field(default=None, sa_type=Text)
    fetched_at: dt.datetime | None = _ts(default=None)
    last_verified: dt.date | None = None
    content_hash: str | None = None
    raw: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    first_seen_at: dt.datetime = _ts(default_factory=utcnow)
    updated_at: dt.datetime = _ts(default_factory=utcnow)


class ConflictLink(SQLModel, table=True):
    """A state law tied to a federal instrument (DOMAIN.md §5 `conflict_link`). The state law is kept as
    sourced (state, session, bill) and matched to stored bills when shown, so a link can exist before
    the state's bill is ingested."""

    __tablename__ = "conflict_link"
    id: int | None = Field(default=None, primary_key=True)
    link_key: str = Field(unique=True)  # state|session|bill-or-law|instrument key|relation|provision
    state: str = Field(max_length=2, index=True)
    state_session: str | None = None
    state_bill: str | None = None  # canonical identifier ("SB 205"); None for a law known only by name
    state_law: str = Field(sa_type=Text)  # label as sourced ("CO SB 24-205 (Colorado AI Act)")
    instrument_id: int = Field(foreign_key="federal_instrument.id", index=True)
    relation: str
    provision_ref: str | None = None
    source_url: str | None = Field(default=None, sa_type=Text)
    confidence: str
    last_verified: dt.date | None = None
    note: str | None = Field(default=None, sa_type=Text)


class PreemptionCandidate(SQLModel, table=True):
    """Preemption language found in a federal instrument, queued for a person (`tracker federal review`)."""

    __tablename__ = "preemption_candidate"
    __table_args__ = (UniqueConstraint("instrument_id", "evidence_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="federal_instrument.id", index=True)
    status: str = Field(default="pending", index=True)  # pending | confirmed | rejected
    evidence: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # term, field, snippet
    evidence_hash: str
    run_id: int | None = Field(default=None, foreign_key="scrape_run.id", index=True)
    detected_at: dt.datetime = _ts(default_factory=utcnow)
    reviewed_at: dt.datetime | None = _ts(default=None)
    reviewer: str | None = None
    decision_note: str | None = Field(default=None, sa_type=Text)


class InstrumentChange(SQLModel, table=True):
    """Append-only history of a federal instrument: inserts, source updates, seed loads and reviews."""

    __tablename__ = "instrument_change"
    id: int | None = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="federal_instrument.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="scrape_run.id", index=True)
    change: str  # insert | update | seed | review
    changed_fields: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    old_status: str | None = None
    new_status: str | None = None
    detected_at: dt.datetime = _ts(default_factory=utcnow)


# --- Delivery (tracker/deliver/; issue #13) ---------------------------------------------------------


class Subscriber(SQLModel, table=True):
    """Someone who gets the digest (tracker/deliver/subscriptions.py). Empty filters match everything; a
    bill followed by key is reported on every change whatever the other filters say. The cursor is the
    last id of each event table a delivered digest covered: it moves only after the SMTP server accepted."""

    __tablename__ = "subscriber"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    states: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    topics: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    statuses: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    relevance: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    bills: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    federal: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    frequency: str = "daily"  # daily | weekly
    timezone: str = "UTC"
    paused: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    token: str = Field(unique=True)  # opaque, random: the unsubscribe link carries it, never the email
    cursor: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    created_at: dt.datetime = _ts(default_factory=utcnow)
    last_sent_at: dt.datetime | None = _ts(default=None)


class DigestOutbox(SQLModel, table=True):
    """One digest per subscriber and window, rendered once and stored: a retry sends these same bytes
    (same Message-ID), never a different digest. `status` pending | sent | failed (retried next run)."""

    __tablename__ = "digest_outbox"
    __table_args__ = (UniqueConstraint("subscriber_id", "window"),)
    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    window: str  # "daily:2026-12-02", "weekly:2026-W49" (the subscriber's local calendar)
    message_id: str = Field(unique=True)
    subject: str = Field(sa_type=Text)
    cursor_from: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    cursor_to: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    items: int = 0
    message: str = Field(sa_type=Text)  # the whole RFC 5322 message as sent
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: dt.datetime = _ts(default_factory=utcnow)
    sent_at: dt.datetime | None = _ts(default=None)
