"""The dashboard's read-only queries: the only SQL under dashboard/.

Every query reads stored rows (status_change, bill_event, instrument_change, conflict, law_event,
scrape_run...), never diffs anything on the fly, and is bounded: an indexed filter or a primary-key
range, and a row limit. The engine lives in `st.cache_resource`; results in `st.cache_data`, keyed to
`data_key()` (the newest id of every table the pages read), so a new ingest or detection run shows at
the next rerun and nothing else ever reaches the database twice.

The plain functions (`q_*`) take an engine and return pandas frames; the cached wrappers below them are
what the pages call. `benchmarks/dashboard.py` times the plain ones.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from tracker import db as database
from tracker.config import get_settings
from tracker.display import shown_status, terminal_safe
from tracker.federal import confidence_label, force_text, is_low_confidence
from tracker.models import (
    Action,
    ApiUsage,
    Bill,
    BillEvent,
    BillSource,
    BillVersion,
    Conflict,
    ConflictLink,
    FederalInstrument,
    InstrumentChange,
    Jurisdiction,
    LawEvent,
    LegislativeSession,
    RunProblem,
    ScrapeRun,
    SimilarBill,
    StatusChange,
    Subscriber,
)

AI_TIERS = ("core", "adjacent")  # "AI bills": the tracked tiers (DOMAIN.md §3)
ROW_LIMIT = 500  # rows any one table shows; a filter narrows, nothing pages through everything
UNCLASSIFIED_WINDOW = 20_000  # the unclassified share is measured over the newest stored actions

# What a status rests on (tracker.vocab.StatusBasis), and how far it can be trusted.
BASIS_CONFIDENCE = {"state": "H", "generic": "M", "upstream": "M", "calendar": "M", "default": "L"}
BASIS_TEXT = {"state": "our rules for this state", "generic": "our generic rules",
              "upstream": "the source's own labels (not our rules)", "calendar": "the session calendar",
              "default": "no deciding action (a bill that exists is introduced)"}

# Actions that move nothing a reader cares about: left out of "What changed" unless asked for.
LOW_INFORMATION = re.compile(
    r"print|placed on (?:the )?calendar|calendar|engross|reprint|laid on (?:the )?table|reported to "
    r"(?:the )?floor|read (?:the )?(?:first|second|third) time|first reading|second reading|"
    r"referred to (?:the )?(?:committee on )?(?:rules|calendar)", re.IGNORECASE)

# A tile grid of the states (column, row): no shape file, no tile server, works offline.
TILE_GRID = {
    "ak": (0, 0), "me": (11, 0), "vt": (10, 1), "nh": (11, 1),
    "wa": (1, 2), "id": (2, 2), "mt": (3, 2), "nd": (4, 2), "mn": (5, 2), "il": (6, 2), "wi": (7, 2),
    "mi": (8, 2), "ny": (9, 2), "ri": (10, 2), "ma": (11, 2),
    "or": (1, 3), "nv": (2, 3), "wy": (3, 3), "sd": (4, 3), "ia": (5, 3), "in": (6, 3), "oh": (7, 3),
    "pa": (8, 3), "nj": (9, 3), "ct": (10, 3),
    "ca": (1, 4), "ut": (2, 4), "co": (3, 4), "ne": (4, 4), "mo": (5, 4), "ky": (6, 4), "wv": (7, 4),
    "va": (8, 4), "md": (9, 4), "de": (10, 4),
    "az": (2, 5), "nm": (3, 5), "ks": (4, 5), "ar": (5, 5), "tn": (6, 5), "nc": (7, 5), "sc": (8, 5),
    "dc": (9, 5),
    "ok": (4, 6), "la": (5, 6), "ms": (6, 6), "al": (7, 6), "ga": (8, 6),
    "hi": (0, 7), "tx": (4, 7), "fl": (9, 7),
}

# --- Showing scraped text ------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=:&$^\"'])")


def text(value: object) -> str:
    """A scraped string for a table cell or st.text: controls and bidi overrides made visible."""
    return terminal_safe("" if value is None else str(value))


def md(value: object) -> str:
    """A scraped string inside st.markdown: every Markdown and HTML metacharacter backslash-escaped,
    line breaks flattened, so `[x](javascript:...)`, `<script>` and `**` stay literal text."""
    flat = " ".join(text(value).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are ever rendered as links; anything else (javascript:, data:) is dropped."""
    if not url:
        return None
    url = str(url).strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https") or any(ch in url for ch in "\x00\r\n\t \"'<>`"):
        return None
    return url


def bill_link(key: str) -> str:
    """The bill page of one bill (a relative link into this dashboard)."""
    return f"/bills?bill={key}"


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def when(value: datetime | None) -> str:
    value = utc(value)
    return value.strftime("%Y-%m-%d %H:%M") + "Z" if value else ""


def status_text(label: str | None, basis: str | None) -> str:
    return shown_status(label, basis)


def basis_text(basis: str | None) -> str:
    """What the status rests on and how much to trust it; a low one is marked [LOW]."""
    if not basis:
        return ""
    return f"{basis} ({confidence_label(BASIS_CONFIDENCE.get(basis, 'L'))})"


def low_confidence(confidence: str | None) -> bool:
    return bool(confidence) and is_low_confidence(confidence)


# --- The engine and the cache key ----------------------------------------------------------------------


def database_url() -> str:
    return get_settings().database_url


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    return database.get_engine(url)


_KEY_TABLES = (ScrapeRun, StatusChange, BillEvent, InstrumentChange, LawEvent, Conflict, SimilarBill,
               FederalInstrument, ConflictLink, Bill)


def q_data_key(eng: Engine) -> tuple:
    """The newest id of every table the pages read, and the last run's finish: primary-key lookups only."""
    with eng.connect() as conn:
        key = [conn.execute(select(func.max(table.id))).scalar() for table in _KEY_TABLES]
        last = conn.execute(select(ScrapeRun.finished_at, ScrapeRun.status).order_by(ScrapeRun.id.desc())
                            .limit(1)).first()
        changed = conn.execute(select(Conflict.updated_at).order_by(Conflict.id.desc()).limit(1)).scalar()
    return (*key, str(last) if last else None, str(changed))


def data_key() -> tuple:
    """Read on every rerun (cheap); every cached query takes it, so a new ingest invalidates the cache."""
    url = database_url()
    return (url, *q_data_key(engine(url)))


def _first_id_since(conn, model, column, since: datetime) -> int | None:
    """The first id of an append-only table whose timestamp is on or after `since`, by bisecting the
    primary key (rows are written in time order): a few index lookups instead of a scan."""
    # Two statements: SQLite answers a lone min() or max() from the index, but both at once with a scan.
    low = conn.execute(select(func.min(model.id))).scalar()
    high = conn.execute(select(func.max(model.id))).scalar()
    if high is None:
        return None

    def stamp(at: int) -> datetime:
        return utc(conn.execute(select(column).where(model.id >= at).order_by(model.id).limit(1)).scalar())

    if stamp(high) < since:
        return high + 1
    while low < high:
        middle = (low + high) // 2
        if stamp(middle) >= since:
            high = middle
        else:
            low = middle + 1
    return low


def _is_ai(relevance: str | None) -> bool:
    return relevance in AI_TIERS


def _state(code: str | None) -> str:
    return (code or "").upper()


# --- What changed ----------------------------------------------------------------------------------------

# `day`: the UTC day the change was detected (the page groups by it, then by state); `dated`: the day of
# the deciding action or event as the source gives it.
CHANGE_COLUMNS = ["day", "state", "what", "bill", "page", "change", "source", "fetched", "dated",
                  "basis / confidence", "title", "cause", "low_information"]


def q_changes(eng: Engine, since: datetime, *, states: tuple[str, ...] = (), ai_only: bool = True,
              include_low: bool = False, limit: int = ROW_LIMIT) -> pd.DataFrame:
    """Status changes, new AI bills, relevance, conflict and lifecycle events, and federal moves
    detected on or after `since`, newest first; each row with its official source and fetch time."""
    since = utc(since)
    rows: list[dict] = []
    with eng.connect() as conn:
        first = _first_id_since(conn, StatusChange, StatusChange.detected_at, since)
        if first is not None:
            query = (select(StatusChange, Bill.key, Bill.identifier, Bill.title, Bill.jurisdiction_id,
                            Bill.ai_relevance, Bill.source_url.label("bill_url"),
                            Bill.fetched_at.label("bill_fetched"))
                     .join(Bill, Bill.id == StatusChange.bill_id)
                     .where(StatusChange.id >= first, StatusChange.detected_at >= since)
                     .order_by(StatusChange.id.desc()).limit(limit * 4))
            if states:
                query = query.where(Bill.jurisdiction_id.in_(states))
            if ai_only:
                query = query.where(Bill.ai_relevance.in_(AI_TIERS))
            found = conn.execute(query).all()
            repeats = _repeats(conn, [(r.fingerprint, r.id) for r in found if r.fingerprint])
            for r in found:
                # A move up or down the ladder is never low-information, whatever its wording ("reported
                # and placed on calendar"); a label-only change caused by printing or a calendar is.
                low = (bool(r.cause and LOW_INFORMATION.search(r.cause)) and r.old_status == r.new_status) \
                    or (r.fingerprint, r.id) in repeats
                if r.first_sighting:
                    what, change = "new bill", f"new: {status_text(r.new_label, r.basis)}"
                    low = low or not _is_ai(r.ai_relevance)
                else:
                    what = "status"
                    change = f"{shown_status(r.old_label)} -> {status_text(r.new_label, r.basis)}"
                rows.append({
                    "at": utc(r.detected_at), "day": utc(r.detected_at).date(), "dated": r.action_date,
                    "state": _state(r.jurisdiction_id), "what": what, "bill": r.key, "title": text(r.title),
                    "change": change, "basis / confidence": basis_text(r.basis), "cause": text(r.cause),
                    "source": safe_url(r.source_url or r.bill_url), "fetched": when(r.fetched_at or r.bill_fetched),
                    "page": bill_link(r.key), "low_information": low})
        first = _first_id_since(conn, BillEvent, BillEvent.detected_at, since)
        if first is not None:
            query = (select(BillEvent, Bill.key, Bill.title, Bill.jurisdiction_id, Bill.ai_relevance,
                            Bill.source_url.label("bill_url"), Bill.fetched_at.label("bill_fetched"))
                     .join(Bill, Bill.id == BillEvent.bill_id)
                     .where(BillEvent.id >= first, BillEvent.detected_at >= since)
                     .order_by(BillEvent.id.desc()).limit(limit * 2))
            if states:
                query = query.where(Bill.jurisdiction_id.in_(states))
            for r in conn.execute(query).all():
                became_ai = r.kind == "relevance" and r.new_value in AI_TIERS
                if ai_only and not (_is_ai(r.ai_relevance) or r.kind == "relevance"):
                    continue
                confidence = (r.detail or {}).get("confidence") if isinstance(r.detail, dict) else None
                what = {"relevance": "new AI bill" if became_ai else "AI relevance",
                        "conflict": "conflict", "lifecycle": "law lifecycle"}.get(r.kind, r.kind)
                rows.append({
                    "at": utc(r.detected_at), "day": utc(r.detected_at).date(), "dated": None,
                    "state": _state(r.jurisdiction_id), "what": what, "bill": r.key, "title": text(r.title),
                    "change": text(f"{r.old_value or '-'} -> {r.new_value or '-'}"),
                    "basis / confidence": confidence_label(confidence) if confidence else "",
                    "cause": text(r.reason), "source": safe_url(r.source_url or r.bill_url),
                    "fetched": when(r.bill_fetched), "page": bill_link(r.key),
                    "low_information": r.kind == "relevance" and not became_ai and r.old_value not in AI_TIERS})
        if not states or "us" in states:
            first = _first_id_since(conn, InstrumentChange, InstrumentChange.detected_at, since)
            if first is not None:
                query = (select(InstrumentChange, FederalInstrument.key, FederalInstrument.title,
                                FederalInstrument.confidence, FederalInstrument.source_url,
                                FederalInstrument.fetched_at, FederalInstrument.event_date)
                         .join(FederalInstrument, FederalInstrument.id == InstrumentChange.instrument_id)
                         .where(InstrumentChange.id >= first, InstrumentChange.detected_at >= since)
                         .order_by(InstrumentChange.id.desc()).limit(limit))
                for r in conn.execute(query).all():
                    moved = r.change == "insert" or (r.old_status != r.new_status)
                    rows.append({
                        "at": utc(r.detected_at), "day": utc(r.detected_at).date(), "dated": r.event_date, "state": "US",
                        "what": "federal: new" if r.change == "insert" else f"federal: {r.change}",
                        "bill": r.key, "title": text(r.title),
                        "change": text(f"{r.old_status or '-'} -> {r.new_status or '-'}"),
                        "basis / confidence": confidence_label(r.confidence or ""), "cause": "",
                        "source": safe_url(r.source_url), "fetched": when(r.fetched_at),
                        "page": "/federal", "low_information": not moved})
    frame = pd.DataFrame(_one_row_per_new_ai_bill(rows), columns=["at", *CHANGE_COLUMNS])
    if not include_low:
        frame = frame[~frame["low_information"].astype(bool)]
    frame = frame.sort_values(["day", "state", "at"], ascending=[False, True, False], kind="stable")
    return frame.head(limit).drop(columns=["at"]).reset_index(drop=True)


def _one_row_per_new_ai_bill(rows: list[dict]) -> list[dict]:
    """A bill first seen and found to be an AI bill the same day is one fact, one row (as in the digest):
    the first sighting, called a new AI bill, with its tier beside its status."""
    new_bills = {(r["bill"], r["day"]): r for r in rows if r["what"] == "new bill"}
    kept = []
    for r in rows:
        sighting = new_bills.get((r["bill"], r["day"])) if r["what"] == "new AI bill" else None
        if sighting is None:
            kept.append(r)
            continue
        sighting["what"] = "new AI bill"
        sighting["change"] += f"; AI relevance {r['change'].split('-> ', 1)[-1]}"
        sighting["cause"] = "; ".join(part for part in (sighting["cause"], r["cause"]) if part)
        sighting["low_information"] = False
    return kept


def _repeats(conn, pairs: list[tuple[str, int]]) -> set[tuple[str, int]]:
    """(fingerprint, id) pairs an earlier status change already had: the same change delivered again."""
    fingerprints = {fp for fp, _ in pairs}
    if not fingerprints:
        return set()
    first = {}
    for chunk in _chunks(sorted(fingerprints), 500):
        first.update(conn.execute(select(StatusChange.fingerprint, func.min(StatusChange.id))
                                  .where(StatusChange.fingerprint.in_(chunk))
                                  .group_by(StatusChange.fingerprint)).all())
    return {(fp, i) for fp, i in pairs if first.get(fp, i) < i}


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- Overview --------------------------------------------------------------------------------------------


def _ai_bills(conn) -> list:
    """Every AI bill's few overview fields: one read through the ai_relevance index. AI bills are a
    small share of all bills (210 of 50,330 in the benchmark; about 1,500 a year nationally)."""
    return conn.execute(select(Bill.id, Bill.jurisdiction_id, Bill.status, Bill.introduced_on, Bill.status_date)
                        .where(Bill.ai_relevance.in_(AI_TIERS))).all()


def q_overview(eng: Engine, today: date) -> dict:
    """Key figures, AI bills by state, the status funnel and a weekly trend of status changes."""
    from tracker.vocab import LADDER

    year_start = date(today.year, 1, 1)
    week_start = datetime.combine(today - timedelta(days=6), time(), UTC)
    trend_start = datetime.combine(today - timedelta(weeks=12), time(), UTC)
    with eng.connect() as conn:
        ai = _ai_bills(conn)
        open_conflicts = conn.execute(select(func.count()).select_from(Conflict)
                                      .where(Conflict.active.is_(True))).scalar() or 0
        first = _first_id_since(conn, StatusChange, StatusChange.detected_at, trend_start)
        changes = []
        if first is not None:
            for chunk in _chunks([b.id for b in ai], 500):
                changes += conn.execute(select(StatusChange.bill_id, StatusChange.detected_at)
                                        .where(StatusChange.bill_id.in_(chunk), StatusChange.id >= first,
                                               StatusChange.first_sighting.is_(False))).all()
    by_status: dict[str, int] = {}
    by_state: dict[str, list[int]] = {}
    this_year = 0
    for b in ai:
        by_status[b.status] = by_status.get(b.status, 0) + 1
        counts = by_state.setdefault(b.jurisdiction_id, [0, 0])
        counts[0] += 1
        counts[1] += b.status == "enacted"
        this_year += bool((b.introduced_on and b.introduced_on >= year_start)
                          or (b.status_date and b.status_date >= year_start))
    figures = {"ai_bills": len(ai), "ai_bills_this_year": this_year, "enacted": by_status.get("enacted", 0),
               "vetoed": by_status.get("vetoed", 0), "open_conflicts": open_conflicts,
               "moved_this_week": len({bill for bill, at in changes if utc(at) >= week_start})}
    states = pd.DataFrame([{"state": _state(j), "ai_bills": by_state.get(j, [0, 0])[0],
                            "enacted": by_state.get(j, [0, 0])[1], "col": c, "row": r}
                           for j, (c, r) in TILE_GRID.items()]
                          + [{"state": _state(j), "ai_bills": n, "enacted": e, "col": None, "row": None}
                             for j, (n, e) in by_state.items() if j not in TILE_GRID],
                          columns=["state", "ai_bills", "enacted", "col", "row"])
    ladder = [str(s) for s in LADDER]
    funnel = pd.DataFrame([{"status": s, "bills": by_status.get(s, 0)} for s in ladder]
                          + [{"status": s, "bills": n} for s, n in by_status.items() if s not in ladder],
                          columns=["status", "bills"])
    weeks = pd.DataFrame({"at": [utc(at) for _, at in changes if utc(at) >= trend_start]})
    if len(weeks):
        weeks["week"] = weeks["at"].dt.tz_convert(None).dt.to_period("W-SUN").dt.start_time.dt.date
        trend = weeks.groupby("week").size().reset_index(name="status changes")
    else:
        trend = pd.DataFrame(columns=["week", "status changes"])
    return {"figures": figures, "states": states, "funnel": funnel, "trend": trend}


def int_type():
    from sqlalchemy import Integer

    return Integer


# --- Bills -----------------------------------------------------------------------------------------------

BILL_COLUMNS = ["page", "bill", "state", "session", "title", "status", "status basis", "AI relevance",
                "topics", "status date", "last action", "source", "fetched"]


def q_filter_options(eng: Engine) -> dict:
    """States, sessions, statuses and relevance tiers present (small grouped index reads)."""
    with eng.connect() as conn:
        states = [j for (j,) in conn.execute(select(Bill.jurisdiction_id).group_by(Bill.jurisdiction_id)).all()]
        sessions = [f"{j} {i}" for j, i in conn.execute(
            select(LegislativeSession.jurisdiction_id, LegislativeSession.identifier)
            .order_by(LegislativeSession.jurisdiction_id, LegislativeSession.identifier)).all()]
        statuses = [s for (s,) in conn.execute(select(Bill.status).group_by(Bill.status)).all() if s]
    from tracker.detect.topics import RULES

    topics = sorted(rule.slug for rule in RULES.topics)
    return {"states": sorted(states), "sessions": sessions, "statuses": sorted(statuses), "topics": topics}


def _bill_filters(states, sessions, statuses, relevance, topic, search, ai_only, year=None) -> list:
    where = []
    if year:
        start = date(int(year), 1, 1)
        where.append(or_(Bill.introduced_on >= start, Bill.status_date >= start))
    if ai_only and not relevance:
        where.append(Bill.ai_relevance.in_(AI_TIERS))
    if relevance:
        where.append(Bill.ai_relevance.in_(relevance))
    if states:
        where.append(Bill.jurisdiction_id.in_([s.lower() for s in states]))
    if statuses:
        where.append(Bill.status.in_(statuses))
    if sessions is not None and len(sessions):
        where.append(Bill.session_id.in_(sessions))  # ids, resolved by q_bills
    if topic:
        where.append(func.cast(Bill.topics, _text_type()).like(f'%"{_like(topic)}"%', escape="\\"))
    if search:
        pattern = f"%{_like(search.strip())}%"
        where.append(or_(Bill.title.ilike(pattern, escape="\\"), Bill.identifier.ilike(pattern, escape="\\"),
                         Bill.key.ilike(pattern, escape="\\")))
    return where


def _text_type():
    from sqlalchemy import Text

    return Text


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def q_bills(eng: Engine, *, states: tuple = (), sessions: tuple = (), statuses: tuple = (), relevance: tuple = (),
            topic: str | None = None, search: str | None = None, ai_only: bool = True, year: int | None = None,
            limit: int = ROW_LIMIT) -> tuple[pd.DataFrame, int]:
    """The filtered bill list (at most `limit` rows, most recent status first) and how many match."""
    with eng.connect() as conn:
        names = {i: f"{j} {ident}" for i, j, ident in conn.execute(
            select(LegislativeSession.id, LegislativeSession.jurisdiction_id, LegislativeSession.identifier)).all()}
        session_ids = [i for i, name in names.items() if name in set(sessions)] if sessions else None
        if sessions and not session_ids:
            session_ids = [-1]
        where = _bill_filters(states, session_ids, statuses, relevance, topic, search, ai_only, year)
        total = conn.execute(select(func.count(Bill.id)).where(*where)).scalar() or 0
        query = (select(Bill.id, Bill.key, Bill.jurisdiction_id, Bill.identifier, Bill.title, Bill.status,
                        Bill.status_basis, Bill.ai_relevance, Bill.ai_score, Bill.topics, Bill.status_date,
                        Bill.source_url, Bill.fetched_at, Bill.enacted_how, Bill.failed_how, Bill.session_id)
                 .where(*where)
                 .order_by(Bill.status_date.is_(None), Bill.status_date.desc(), Bill.id.desc()).limit(limit))
        found = conn.execute(query).all()
        ids = [r.id for r in found]
        last = {}
        for chunk in _chunks(ids, 500):
            last.update(conn.execute(select(Action.bill_id, func.max(Action.date)).where(Action.bill_id.in_(chunk))
                                     .group_by(Action.bill_id)).all())
    rows = [{
        "page": bill_link(r.key), "bill": r.key, "state": _state(r.jurisdiction_id),
        "session": names.get(r.session_id, "").split(" ", 1)[-1],
        "title": text(r.title), "status": status_text(_label(r.status, r.enacted_how, r.failed_how), r.status_basis),
        "status basis": basis_text(r.status_basis),
        "AI relevance": f"{r.ai_relevance} ({r.ai_score:.2f})" if r.ai_relevance and r.ai_score is not None
        else (r.ai_relevance or "not assessed"),
        "topics": ", ".join(text(t) for t in (r.topics or [])), "status date": r.status_date,
        "last action": last.get(r.id), "source": safe_url(r.source_url), "fetched": when(r.fetched_at),
    } for r in found]
    return pd.DataFrame(rows, columns=BILL_COLUMNS), total


def _label(status: str | None, enacted_how: str | None, failed_how: str | None) -> str | None:
    how = enacted_how if status == "enacted" else failed_how if status == "failed" else None
    return f"{status}/{how}" if status and how else status


def q_bill(eng: Engine, key: str) -> dict | None:
    """One bill's page: the bill, its timeline, status history, sources, versions, similar bills,
    conflicts and lifecycle events; every table through an indexed bill_id."""
    with Session(eng) as conn:
        bill = conn.execute(select(Bill, LegislativeSession.identifier.label("session"), Jurisdiction.name)
                            .join(LegislativeSession, LegislativeSession.id == Bill.session_id)
                            .join(Jurisdiction, Jurisdiction.id == Bill.jurisdiction_id)
                            .where(Bill.key == key)).first()
        if bill is None:
            return None
        bid = bill.Bill.id
        actions = conn.execute(select(Action).where(Action.bill_id == bid).order_by(Action.position)).all()
        history = conn.execute(select(StatusChange).where(StatusChange.bill_id == bid)
                               .order_by(StatusChange.id)).all()
        sources = conn.execute(select(BillSource.source_id, BillSource.url, BillSource.fetched_at,
                                      BillSource.status_label, BillSource.upstream_status, BillSource.stale,
                                      BillSource.history).where(BillSource.bill_id == bid)).all()
        versions = conn.execute(select(BillVersion).where(BillVersion.bill_id == bid)
                                .order_by(BillVersion.position)).all()
        similar = conn.execute(select(SimilarBill.score, SimilarBill.basis, SimilarBill.shared, Bill.key,
                                      Bill.title, Bill.status, Bill.status_basis)
                               .join(Bill, Bill.id == SimilarBill.similar_id).where(SimilarBill.bill_id == bid)
                               .order_by(SimilarBill.score.desc()).limit(25)).all()
        conflicts = conn.execute(select(Conflict, FederalInstrument.key.label("instrument_key"),
                                        FederalInstrument.title.label("instrument_title"))
                                 .outerjoin(FederalInstrument, FederalInstrument.id == Conflict.instrument_id)
                                 .where(Conflict.bill_id == bid).order_by(Conflict.active.desc(), Conflict.id)
                                 .limit(ROW_LIMIT)).all()
        others = {}
        other_ids = [c.Conflict.other_bill_id for c in conflicts if c.Conflict.other_bill_id]
        if other_ids:
            others = dict(conn.execute(select(Bill.id, Bill.key).where(Bill.id.in_(other_ids))).all())
        law = conn.execute(select(LawEvent).where(LawEvent.bill_id == bid).order_by(LawEvent.event_date)).all()
        events = conn.execute(select(BillEvent).where(BillEvent.bill_id == bid).order_by(BillEvent.id.desc())
                              .limit(ROW_LIMIT)).all()
    b = bill.Bill
    return {
        "bill": {
            "key": b.key, "identifier": text(b.identifier), "title": text(b.title), "summary": text(b.summary),
            "state": _state(b.jurisdiction_id), "state_name": text(bill.name), "session": text(bill.session),
            "status": status_text(_label(b.status, b.enacted_how, b.failed_how), b.status_basis),
            "status_date": b.status_date, "basis": b.status_basis, "basis_text": BASIS_TEXT.get(b.status_basis or "", ""),
            "confidence": confidence_label(BASIS_CONFIDENCE.get(b.status_basis or "default", "L")),
            "low_confidence": BASIS_CONFIDENCE.get(b.status_basis or "default", "L") == "L",
            "ai_relevance": b.ai_relevance, "ai_score": b.ai_score,
            "ai_evidence": [text(e.get("term", e) if isinstance(e, dict) else e) for e in (b.ai_evidence or [])],
            "topics": [text(t) for t in b.topics or []], "law_status": b.law_status, "chapter": text(b.chapter),
            "source_id": b.source_id, "source_url": safe_url(b.source_url), "fetched": when(b.fetched_at),
        },
        "actions": pd.DataFrame([{
            "date": a.Action.date, "raw date": text(a.Action.raw_date), "actor": text(a.Action.actor),
            "text": text(a.Action.text), "classes": ", ".join(a.Action.classes or []),
            "classified by": a.Action.class_layer or "", "from source": a.Action.source_id or ""} for a in actions],
            columns=["date", "raw date", "actor", "text", "classes", "classified by", "from source"]),
        "history": pd.DataFrame([{
            "action date": h.StatusChange.action_date, "from": "new" if h.StatusChange.first_sighting
            else shown_status(h.StatusChange.old_label),
            "to": status_text(h.StatusChange.new_label, h.StatusChange.basis),
            "basis": basis_text(h.StatusChange.basis), "cause": text(h.StatusChange.cause),
            "source": safe_url(h.StatusChange.source_url), "fetched": when(h.StatusChange.fetched_at),
            "detected": when(h.StatusChange.detected_at)} for h in history],
            columns=["action date", "from", "to", "basis", "cause", "source", "fetched", "detected"]),
        "sources": pd.DataFrame([{
            "source": s.source_id, "url": safe_url(s.url), "fetched": when(s.fetched_at),
            "its status": s.status_label or "", "it claims": s.upstream_status or "",
            "history": s.history, "stale": bool(s.stale)} for s in sources],
            columns=["source", "url", "fetched", "its status", "it claims", "history", "stale"]),
        "versions": pd.DataFrame([{"date": v.BillVersion.date, "version": text(v.BillVersion.note),
                                   "text": safe_url(v.BillVersion.url)} for v in versions],
                                 columns=["date", "version", "text"]),
        "similar": pd.DataFrame([{
            "page": bill_link(s.key), "bill": s.key, "title": text(s.title), "score": round(s.score, 3),
            "basis": s.basis, "status": status_text(s.status, s.status_basis),
            "shared passages": " | ".join(text(p.get("text", p) if isinstance(p, dict) else p)
                                          for p in (s.shared or [])[:3])} for s in similar],
            columns=["page", "bill", "title", "score", "basis", "status", "shared passages"]),
        "conflicts": pd.DataFrame([{
            "against": c.instrument_key or others.get(c.Conflict.other_bill_id, ""),
            "against title": text(c.instrument_title), "relation": c.Conflict.relation,
            "reason": text(c.Conflict.reason), "confidence": confidence_label(c.Conflict.confidence),
            "force": c.Conflict.force or "", "active": c.Conflict.active,
            "source": safe_url(c.Conflict.source_url)} for c in conflicts],
            columns=["against", "against title", "relation", "reason", "confidence", "force", "active", "source"]),
        "lifecycle": pd.DataFrame([{
            "date": e.LawEvent.event_date, "event": e.LawEvent.event, "by": text(e.LawEvent.by_reference),
            "confidence": confidence_label(e.LawEvent.confidence), "review": e.LawEvent.review_status,
            "origin": e.LawEvent.origin, "note": text(e.LawEvent.note),
            "source": safe_url(e.LawEvent.source_url)} for e in law],
            columns=["date", "event", "by", "confidence", "review", "origin", "note", "source"]),
        "events": pd.DataFrame([{
            "detected": when(e.BillEvent.detected_at), "kind": e.BillEvent.kind,
            "change": text(f"{e.BillEvent.old_value or '-'} -> {e.BillEvent.new_value or '-'}"),
            "reason": text(e.BillEvent.reason), "source": safe_url(e.BillEvent.source_url)} for e in events],
            columns=["detected", "kind", "change", "reason", "source"]),
    }


# --- Conflicts and federal -------------------------------------------------------------------------------

CONFLICT_COLUMNS = ["state", "bill", "page", "title", "status", "against", "against title", "relation",
                    "reason", "confidence", "low confidence", "force", "origin", "source", "bill source"]


def q_conflicts(eng: Engine, *, states: tuple = (), include_inactive: bool = False,
                limit: int = ROW_LIMIT * 4) -> dict:
    """Active conflicts: federal instruments against state bills, state-against-state overlaps, and the
    seeded links from the federal seed file."""
    with Session(eng) as conn:
        query = (select(Conflict, Bill.key, Bill.title, Bill.jurisdiction_id, Bill.status, Bill.status_basis,
                        Bill.source_url.label("bill_url"), FederalInstrument.key.label("instrument_key"),
                        FederalInstrument.title.label("instrument_title"))
                 .join(Bill, Bill.id == Conflict.bill_id)
                 .outerjoin(FederalInstrument, FederalInstrument.id == Conflict.instrument_id)
                 .order_by(Bill.jurisdiction_id, Bill.key, Conflict.id).limit(limit))
        if not include_inactive:
            query = query.where(Conflict.active.is_(True))
        if states:
            query = query.where(Bill.jurisdiction_id.in_([s.lower() for s in states]))
        found = conn.execute(query).all()
        other_ids = {r.Conflict.other_bill_id for r in found if r.Conflict.other_bill_id}
        others = {}
        for chunk in _chunks(sorted(other_ids), 500):
            others.update({i: (k, t) for i, k, t in conn.execute(
                select(Bill.id, Bill.key, Bill.title).where(Bill.id.in_(chunk))).all()})
        links = conn.execute(select(ConflictLink, FederalInstrument.key.label("instrument_key"),
                                    FederalInstrument.title.label("instrument_title"))
                             .join(FederalInstrument, FederalInstrument.id == ConflictLink.instrument_id)
                             .order_by(ConflictLink.state, ConflictLink.state_law).limit(limit)).all()
    federal, overlaps = [], []
    for r in found:
        c = r.Conflict
        other = others.get(c.other_bill_id)
        row = {"state": _state(r.jurisdiction_id), "bill": r.key, "page": bill_link(r.key), "title": text(r.title),
               "status": status_text(r.status, r.status_basis),
               "against": r.instrument_key or (other[0] if other else ""),
               "against title": text(r.instrument_title if r.instrument_key else (other[1] if other else "")),
               "relation": c.relation, "reason": text(c.reason), "confidence": confidence_label(c.confidence),
               "low confidence": low_confidence(c.confidence),
               "force": c.force or ("" if c.other_bill_id else "directed"), "origin": c.origin,
               "source": safe_url(c.source_url), "bill source": safe_url(r.bill_url)}
        (overlaps if c.other_bill_id else federal).append(row)
    seeded = pd.DataFrame([{
        "state": _state(link.ConflictLink.state), "state law": text(link.ConflictLink.state_law),
        "bill": link.ConflictLink.state_bill or "", "against": link.instrument_key,
        "against title": text(link.instrument_title), "relation": link.ConflictLink.relation,
        "provision": text(link.ConflictLink.provision_ref), "confidence": confidence_label(link.ConflictLink.confidence),
        "note": text(link.ConflictLink.note), "source": safe_url(link.ConflictLink.source_url)} for link in links],
        columns=["state", "state law", "bill", "against", "against title", "relation", "provision", "confidence",
                 "note", "source"])
    federal_frame = pd.DataFrame(federal, columns=CONFLICT_COLUMNS)
    matrix = (federal_frame.pivot_table(index="state", columns="against", values="bill", aggfunc="count",
                                        fill_value=0) if len(federal_frame) else pd.DataFrame())
    return {"federal": federal_frame, "overlaps": pd.DataFrame(overlaps, columns=CONFLICT_COLUMNS),
            "seeded": seeded, "matrix": matrix}


FEDERAL_COLUMNS = ["date", "date as sourced", "key", "kind", "title", "status", "force", "stance", "scope",
                   "carve-outs", "confidence", "low confidence", "draft", "source", "fetched"]


def q_federal(eng: Engine, limit: int = ROW_LIMIT * 2) -> pd.DataFrame:
    """The federal instruments and federal AI bills, oldest first, with stance, carve-outs and force."""
    with Session(eng) as conn:
        found = conn.execute(select(FederalInstrument)
                             .order_by(FederalInstrument.event_date.is_(None), FederalInstrument.event_date,
                                       FederalInstrument.key).limit(limit)).scalars().all()
    return pd.DataFrame([{
        "date": i.event_date, "date as sourced": text(i.date_text), "key": i.key, "kind": i.kind,
        "title": text(i.title), "status": text(i.instrument_status), "force": force_text(i),
        "stance": ", ".join(i.stance or []) or "not reviewed", "scope": ", ".join(text(s) for s in i.scope or []),
        "carve-outs": ", ".join(text(s) for s in i.carve_outs or []), "confidence": confidence_label(i.confidence),
        "low confidence": low_confidence(i.confidence), "draft": bool(i.is_draft),
        "source": safe_url(i.source_url), "fetched": when(i.fetched_at) or (f"seed, verified {i.last_verified}"
                                                                           if i.last_verified else "seed")}
        for i in found], columns=FEDERAL_COLUMNS)


# --- Sources ---------------------------------------------------------------------------------------------


def q_sources(eng: Engine, settings, now: datetime) -> dict:
    """Health of every source with runs (tracker.health), its latest run's counts and notes, query
    budgets, new action strings and the unclassified share of the newest stored actions."""
    from scrapers import REGISTRY
    from tracker.health import source_health
    from tracker.schedule import cadence_of

    from sqlalchemy import inspect

    from tracker.schedule import JOBS_TABLE, next_runs

    enabled = set(settings.enabled_sources)
    upcoming = {}
    if inspect(eng).has_table(JOBS_TABLE):  # next_runs would create the table: the dashboard writes nothing
        try:
            upcoming = next_runs(settings)
        except Exception:  # a job store another version wrote: no next runs rather than no page
            upcoming = {}
    with Session(eng) as conn:
        seen = [s for (s,) in conn.execute(select(ScrapeRun.source_id).group_by(ScrapeRun.source_id)).all()]
        latest = {}
        for source_id in seen:
            run = conn.execute(select(ScrapeRun).where(ScrapeRun.source_id == source_id)
                               .order_by(ScrapeRun.id.desc()).limit(1)).scalars().first()
            latest[source_id] = run
        notes = []
        for source_id, run in latest.items():
            for p in conn.execute(select(RunProblem).where(RunProblem.run_id == run.id).order_by(RunProblem.id)
                                  .limit(50)).scalars():
                notes.append({"source": source_id, "run": run.id, "kind": (p.item_key or "").split(":", 1)[0],
                              "item": text(p.item_key), "message": text(p.message), "url": safe_url(p.url)})
        usage = conn.execute(select(ApiUsage).order_by(ApiUsage.period.desc(), ApiUsage.source_id).limit(50)
                             ).scalars().all()
        top = conn.execute(select(func.max(Action.id))).scalar() or 0
        shares = conn.execute(select(Bill.jurisdiction_id, func.count(),
                                     func.sum((Action.class_layer == "none").cast(int_type())))
                              .join(Bill, Bill.id == Action.bill_id)
                              .where(Action.id > top - UNCLASSIFIED_WINDOW)
                              .group_by(Bill.jurisdiction_id)).all()
    health_rows = []
    for source_id in sorted(set(seen) | enabled):
        cadence = cadence_of(source_id, settings)
        health = source_health(eng, source_id, cadence, upcoming.get(source_id), now=now)
        run = latest.get(source_id)
        source = REGISTRY.get(source_id)
        health_rows.append({
            "source": source_id, "title": getattr(source, "title", ""), "enabled": source_id in enabled,
            "last run": when(run.started_at) if run else "never", "kind": run.kind if run else "",
            "outcome": run.status if run else "", "inserted": run.inserted if run else 0,
            "updated": run.updated if run else 0, "unchanged": run.unchanged if run else 0,
            "status changes": run.status_changes if run else 0, "problems": run.problems if run else 0,
            "message": text(run.message) if run else "", "last success": when(health.last_success),
            "failures in a row": health.failures_in_a_row, "last error": text(health.last_error),
            "next run": when(health.next_run) or "not scheduled", "overdue": health.overdue})
    return {
        "health": pd.DataFrame(health_rows),
        "notes": pd.DataFrame(notes, columns=["source", "run", "kind", "item", "message", "url"]),
        "usage": pd.DataFrame([{"source": u.source_id, "period": u.period, "queries": u.queries,
                                "refused": u.refused, "blocked": text(u.blocked)} for u in usage],
                              columns=["source", "period", "queries", "refused", "blocked"]),
        "unclassified": pd.DataFrame([{"state": _state(j), "actions": n, "unclassified": int(u or 0),
                                       "share": round((u or 0) / n, 4) if n else 0.0} for j, n, u in shares],
                                     columns=["state", "actions", "unclassified", "share"]),
    }


# --- Email digests: subscribers and undelivered digests ---------------------------------------------------


def q_subscribers(eng: Engine) -> pd.DataFrame:
    """Every subscriber and its filters (never the unsubscribe token)."""
    from tracker.deliver.subscriptions import describe

    with Session(eng) as conn:
        rows = conn.execute(select(Subscriber).order_by(Subscriber.id)).scalars().all()
        return pd.DataFrame([{"id": r.id, "email": text(r.email), "frequency": r.frequency,
                              "time zone": r.timezone, "state": "paused" if r.paused else "active",
                              "filters": text(describe(r)), "last sent": when(r.last_sent_at) or "never"}
                             for r in rows],
                            columns=["id", "email", "frequency", "time zone", "state", "filters", "last sent"])


def q_digest_failures(eng: Engine) -> pd.DataFrame:
    """Digests the SMTP server has not accepted yet (retried first on the next send)."""
    from tracker.deliver.digests import failures

    rows = failures(eng, limit=ROW_LIMIT)
    return pd.DataFrame([{"subscriber": text(e), "window": w, "attempts": a, "last error": text(err)}
                         for e, w, a, err in rows], columns=["subscriber", "window", "attempts", "last error"])


# --- Cached wrappers: what the pages call ----------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=64)
def changes(key: tuple, since: datetime, states: tuple = (), ai_only: bool = True,
            include_low: bool = False) -> pd.DataFrame:
    return q_changes(engine(key[0]), since, states=states, ai_only=ai_only, include_low=include_low)


@st.cache_data(show_spinner=False, max_entries=16)
def overview(key: tuple, today: date) -> dict:
    return q_overview(engine(key[0]), today)


@st.cache_data(show_spinner=False, max_entries=16)
def filter_options(key: tuple) -> dict:
    return q_filter_options(engine(key[0]))


@st.cache_data(show_spinner=False, max_entries=64)
def bills(key: tuple, states: tuple = (), sessions: tuple = (), statuses: tuple = (), relevance: tuple = (),
          topic: str | None = None, search: str | None = None, ai_only: bool = True,
          year: int | None = None, limit: int = ROW_LIMIT) -> tuple[pd.DataFrame, int]:
    return q_bills(engine(key[0]), states=states, sessions=sessions, statuses=statuses, relevance=relevance,
                   topic=topic, search=search, ai_only=ai_only, year=year, limit=limit)


@st.cache_data(show_spinner=False, max_entries=128)
def bill(key: tuple, bill_key: str) -> dict | None:
    return q_bill(engine(key[0]), bill_key)


@st.cache_data(show_spinner=False, max_entries=16)
def conflicts(key: tuple, states: tuple = (), include_inactive: bool = False) -> dict:
    return q_conflicts(engine(key[0]), states=states, include_inactive=include_inactive)


@st.cache_data(show_spinner=False, max_entries=8)
def federal(key: tuple) -> pd.DataFrame:
    return q_federal(engine(key[0]))


@st.cache_data(show_spinner=False, max_entries=8, ttl=300)
def sources(key: tuple, now: datetime) -> dict:
    return q_sources(engine(key[0]), get_settings(), now)


def subscribers(key: tuple) -> pd.DataFrame:
    """Not cached: the page that changes them shows each change at once."""
    return q_subscribers(engine(key[0]))


def digest_failures(key: tuple) -> pd.DataFrame:
    """Not cached: the outbox is not in data_key(), and one indexed query is cheap."""
    return q_digest_failures(engine(key[0]))
