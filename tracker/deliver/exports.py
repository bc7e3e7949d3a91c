"""Exports: CSV or XLSX of stored rows, chosen by the file's extension (`tracker export`, the dashboard's
downloads and the digest's attachment all go through `write_rows`).

* Stable columns (`COLUMNS`, listed in the README): canonical keys, the status with its basis, source URLs
  and fetch times; ISO 8601 dates and UTC times; lists joined with "; ".
* Spreadsheet formula injection is neutralized in both formats: a text cell starting with `=`, `+`, `-`,
  `@`, tab, carriage return or line feed (OWASP's list, which defusedcsv shortens) gets a leading `'`.
  Every other text is written exactly as stored. Numbers stay numbers.
* Memory stays flat: rows stream from the database (`yield_per`) into `csv.writer`, or into XlsxWriter in
  `constant_memory` mode with strings never turned into formulas, URLs or numbers.
* CSV is UTF-8 with CRLF line ends (RFC 4180); `bom=True` adds the byte-order mark Excel wants.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, Text, cast, select
from sqlalchemy.orm import aliased

from tracker.models import (Action, Bill, Conflict, FederalInstrument, LegislativeSession, SimilarBill,
                            StatusChange)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
FORMATS = ("csv", "xlsx")
BATCH = 2_000


def neutralize(text: str) -> str:
    """A text cell a spreadsheet could run as a formula gets a leading apostrophe; other text is kept."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_MISSING = ("NAType", "NaTType")  # pandas' missing values, recognised without importing pandas


def cell(value: Any) -> str | int | float:
    """One value as exported: numbers as numbers, everything else as (neutralized) text. NumPy and pandas
    scalars (a dashboard frame's) count as the numbers, booleans, times and missing values they stand for."""
    if value is None or type(value).__name__ in _MISSING:
        return ""
    if isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return "" if math.isnan(number) else round(number, 4) if math.isfinite(number) else str(number)
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return neutralize("; ".join(str(item) for item in value))
    if isinstance(value, dict):
        return neutralize(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return neutralize(str(value))


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the format from {str(path)!r}: name the file .csv or .xlsx")
    return suffix


def _values(row: Sequence | Mapping, columns: Sequence[str]) -> list:
    if isinstance(row, Mapping):
        return [cell(row.get(column)) for column in columns]
    return [cell(value) for value in row]


def write_rows(rows: Iterable[Sequence | Mapping], columns: Sequence[str], out: str | Path | IO,
               fmt: str | None = None, *, bom: bool = False, sheet: str = "export") -> int:
    """Write a header and the rows (sequences in column order, or mappings by column name) to a path or an
    open stream, as CSV or XLSX (`fmt`, or the path's extension). Returns the number of data rows.
    Consumes `rows` lazily: pass a generator for constant memory."""
    fmt = fmt or format_of(out if isinstance(out, (str, Path)) else getattr(out, "name", ""))
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use csv or xlsx")
    if fmt == "csv":
        return _write_csv(rows, columns, out, bom)
    return _write_xlsx(rows, columns, out, sheet)


def _write_csv(rows, columns, out, bom: bool) -> int:
    encoding = "utf-8-sig" if bom else "utf-8"
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding=encoding, newline="") as handle:
            return _csv_to(handle, rows, columns)
    if isinstance(out, io.TextIOBase):
        if bom:
            out.write("\ufeff")
        return _csv_to(out, rows, columns)
    wrapper = io.TextIOWrapper(out, encoding=encoding, newline="", write_through=True)
    try:
        return _csv_to(wrapper, rows, columns)
    finally:
        wrapper.flush()
        wrapper.detach()  # the caller's stream stays open


def _csv_to(handle, rows, columns) -> int:
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(_values(row, columns))
        count += 1
    return count


def _write_xlsx(rows, columns, out, sheet: str) -> int:
    import xlsxwriter

    if not isinstance(out, (str, Path)):  # constant_memory needs a file; spool through one
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.xlsx"
            count = _write_xlsx(rows, columns, path, sheet)
            with open(path, "rb") as handle:
                shutil.copyfileobj(handle, out)
            return count
    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
               "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(str(out), options)
    try:
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        for col, name in enumerate(columns):
            worksheet.write_string(0, col, name, bold)
        worksheet.freeze_panes(1, 0)
        count = 0
        for count, row in enumerate(rows, start=1):
            for col, value in enumerate(_values(row, columns)):
                if isinstance(value, str):
                    if value:
                        worksheet.write_string(count, col, value[:32_767])  # Excel's cell limit
                else:
                    worksheet.write_number(count, col, value)
    finally:
        workbook.close()
    return count


# --- What each export holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    state: str | None = None  # two letters
    topic: str | None = None
    status: str | None = None
    relevance: str | None = None
    since: datetime | date | None = None
    min_score: float | None = None  # similar: only pairs scoring at least this


@dataclass(frozen=True)
class ExportKind:
    name: str
    columns: tuple[str, ...]
    query: Callable[[Filters], Any]  # a select of exactly `columns`, in order
    filters: frozenset[str]  # which Filters fields apply
    help: str


def _bill_filters(query, bill, filters: Filters, *, status_column=None):
    if filters.state:
        query = query.where(bill.jurisdiction_id == filters.state.lower())
    if filters.status:
        query = query.where((status_column if status_column is not None else bill.status) == filters.status)
    if filters.relevance:
        query = query.where(bill.ai_relevance == filters.relevance)
    if filters.topic:
        needle = json.dumps(filters.topic).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cast(bill.topics, Text).like(f"%{needle}%", escape="\\"))
    return query


def _since(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return _utc(value)


def _bills(filters: Filters):
    query = (select(Bill.key, Bill.jurisdiction_id, LegislativeSession.identifier, Bill.identifier, Bill.kind,
                    Bill.title, Bill.status, Bill.status_date, Bill.status_basis, Bill.enacted_how,
                    Bill.failed_how, Bill.carried_over, Bill.introduced_on, Bill.ai_relevance, Bill.ai_score,
                    Bill.topics, Bill.law_status, Bill.source_id, Bill.source_url, Bill.fetched_at,
                    Bill.updated_at)
             .join(LegislativeSession, LegislativeSession.id == Bill.session_id).order_by(Bill.key))
    if since := _since(filters.since):
        query = query.where(Bill.updated_at >= since)
    return _bill_filters(query, Bill, filters)


def _actions(filters: Filters):
    query = (select(Bill.key, Bill.jurisdiction_id, Action.position, Action.date, Action.raw_date, Action.actor,
                    Action.text, Action.classes, Action.class_layer, Action.source_id, Bill.source_url)
             .join(Bill, Bill.id == Action.bill_id).order_by(Bill.key, Action.position))
    if since := _since(filters.since):
        query = query.where(Action.date >= since.date())
    return _bill_filters(query, Bill, filters)


def _changes(filters: Filters):
    query = (select(StatusChange.id, Bill.key, Bill.jurisdiction_id, Bill.identifier, StatusChange.old_label,
                    StatusChange.new_label, StatusChange.new_status, StatusChange.basis, StatusChange.action_date,
                    StatusChange.cause, StatusChange.first_sighting, StatusChange.source_id,
                    StatusChange.source_url, StatusChange.fetched_at, StatusChange.detected_at, Bill.title)
             .join(Bill, Bill.id == StatusChange.bill_id).order_by(StatusChange.id))
    if since := _since(filters.since):
        query = query.where(StatusChange.detected_at >= since)
    return _bill_filters(query, Bill, filters, status_column=StatusChange.new_status)


def _conflicts(filters: Filters):
    other = aliased(Bill)
    query = (select(Conflict.link_key, Bill.key, Bill.jurisdiction_id, Conflict.relation, FederalInstrument.key,
                    other.key, Conflict.provision_ref, Conflict.confidence, Conflict.force, Conflict.origin,
                    Conflict.active, Conflict.reason, Conflict.source_url, Conflict.first_seen_at,
                    Conflict.updated_at)
             .join(Bill, Bill.id == Conflict.bill_id)
             .outerjoin(FederalInstrument, FederalInstrument.id == Conflict.instrument_id)
             .outerjoin(other, other.id == Conflict.other_bill_id).order_by(Conflict.link_key))
    if since := _since(filters.since):
        query = query.where(Conflict.updated_at >= since)
    return _bill_filters(query, Bill, filters)


def _federal(filters: Filters):
    query = (select(FederalInstrument.key, FederalInstrument.kind, FederalInstrument.title,
                    FederalInstrument.instrument_status, FederalInstrument.stage, FederalInstrument.stance,
                    FederalInstrument.scope, FederalInstrument.confidence, FederalInstrument.eo_number,
                    FederalInstrument.fr_document_number, FederalInstrument.bill_key, FederalInstrument.event_date,
                    FederalInstrument.published_on, FederalInstrument.effective_on, FederalInstrument.source_id,
                    FederalInstrument.source_url, FederalInstrument.fetched_at, FederalInstrument.updated_at)
             .order_by(FederalInstrument.key))
    if filters.status:
        query = query.where(FederalInstrument.instrument_status == filters.status)
    if since := _since(filters.since):
        query = query.where(FederalInstrument.updated_at >= since)
    return query


def _similar(filters: Filters):
    other = aliased(Bill)
    query = (select(Bill.key, other.key, SimilarBill.score, SimilarBill.basis, SimilarBill.version,
                    SimilarBill.computed_at, Bill.title, other.title)
             .join(Bill, Bill.id == SimilarBill.bill_id).join(other, other.id == SimilarBill.similar_id)
             .order_by(Bill.key, SimilarBill.score.desc(), other.key))
    if since := _since(filters.since):
        query = query.where(SimilarBill.computed_at >= since)
    if filters.min_score is not None:
        query = query.where(SimilarBill.score >= filters.min_score)
    return _bill_filters(query, Bill, filters)


_BILL_FILTERS = frozenset({"state", "topic", "status", "relevance", "since"})
KINDS: dict[str, ExportKind] = {kind.name: kind for kind in (
    ExportKind("bills", ("key", "state", "session", "identifier", "kind", "title", "status", "status_date",
                         "status_basis", "enacted_how", "failed_how", "carried_over", "introduced_on",
                         "ai_relevance", "ai_score", "topics", "law_status", "source_id", "source_url",
                         "fetched_at", "updated_at"),
               _bills, _BILL_FILTERS, "one row per bill (--since: updated since)"),
    ExportKind("actions", ("bill_key", "state", "position", "date", "raw_date", "actor", "text", "classes",
                           "class_layer", "source_id", "bill_source_url"),
               _actions, _BILL_FILTERS, "every stored action, raw text kept (--since: action date)"),
    ExportKind("changes", ("change_id", "bill_key", "state", "identifier", "old_status", "new_status",
                           "new_status_code", "basis", "action_date", "cause", "first_sighting", "source_id",
                           "source_url", "fetched_at", "detected_at", "title"),
               _changes, _BILL_FILTERS, "status history (--status: the new status; --since: detected since)"),
    ExportKind("conflicts", ("link_key", "bill_key", "state", "relation", "instrument_key", "other_bill_key",
                             "provision_ref", "confidence", "force", "origin", "active", "reason", "source_url",
                             "first_seen_at", "updated_at"),
               _conflicts, _BILL_FILTERS, "state bills against federal instruments or other states' bills"),
    ExportKind("federal", ("key", "kind", "title", "instrument_status", "stage", "stance", "scope",
                           "confidence", "eo_number", "fr_document_number", "bill_key", "event_date",
                           "published_on", "effective_on", "source_id", "source_url", "fetched_at",
                           "updated_at"),
               _federal, frozenset({"status", "since"}), "federal instruments (--status: instrument status)"),
    ExportKind("similar", ("bill_key", "similar_key", "score", "basis", "version", "computed_at", "title",
                           "similar_title"),
               _similar, _BILL_FILTERS | {"min_score"},
               "each bill's most similar bills scoring at least --min-score (filters apply to the first bill)"),
)}


def check_filters(kind: str, filters: Filters) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; one of {', '.join(KINDS)}")
    given = {name for name in ("state", "topic", "status", "relevance", "since") if getattr(filters, name)}
    if extra := given - KINDS[kind].filters:
        raise ValueError(f"{kind} exports take no {', '.join(f'--{n}' for n in sorted(extra))}")


def rows_for(engine: Engine, kind: str, filters: Filters = Filters()) -> Iterator[tuple]:
    """Stream the rows of one export kind, BATCH at a time, from its own connection."""
    check_filters(kind, filters)
    spec = KINDS[kind]
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=BATCH).execute(spec.query(filters))
        for row in result:
            yield tuple(row)


def export(engine: Engine, kind: str, out: str | Path | IO, *, fmt: str | None = None,
           filters: Filters = Filters(), bom: bool = False) -> int:
    """Write one export kind to a path or stream; returns the number of rows."""
    check_filters(kind, filters)
    return write_rows(rows_for(engine, kind, filters), KINDS[kind].columns, out, fmt, bom=bom, sheet=kind)
