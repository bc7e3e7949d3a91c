"""Query budgets for metered APIs: a persisted counter per source per period (calendar month or day).

LegiScan's free key allows 30,000 queries a month; Open States' default key about 250 a day.
Every query is counted in `api_usage` *before* it is sent, in its own committed transaction, so a
crash, a failed ingest or a restart can never make the tracker forget what it spent. When the
budget is spent, `spend()` raises BudgetExhausted and the query is not sent: the source records a
failed run with the message; nothing crashes. When the upstream itself says the key is exhausted
or refused, `block()` records that for the period, and later runs in the period stop at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from tracker.db import session_scope
from tracker.models import ApiUsage


class BudgetExhausted(RuntimeError):
    """No query left in this period (our budget), or the upstream refused the key for the period."""


def period_of(moment: datetime, per: str) -> str:
    if per == "month":
        return moment.strftime("%Y-%m")
    if per == "day":
        return moment.strftime("%Y-%m-%d")
    raise ValueError(f"budget period must be 'month' or 'day', not {per!r}")


@dataclass(frozen=True)
class Usage:
    source_id: str
    period: str
    queries: int
    limit: int
    refused: int
    blocked: str | None

    @property
    def remaining(self) -> int:
        return 0 if self.blocked else max(self.limit - self.queries, 0)

    def line(self) -> str:
        text = f"{self.source_id}: {self.queries:,} of {self.limit:,} queries used in {self.period}"
        if self.refused:
            text += f", {self.refused:,} refused (budget spent)"
        if self.blocked:
            text += f"; BLOCKED by the upstream: {self.blocked}"
        return text


class QueryBudget:
    def __init__(self, engine: Engine, source_id: str, limit: int, *, per: str = "month",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        if limit < 0:
            raise ValueError("a query budget cannot be negative")
        self.engine, self.source_id, self.limit, self.per, self.clock = engine, source_id, limit, per, clock
        period_of(clock(), per)  # validates `per`

    @property
    def period(self) -> str:
        return period_of(self.clock(), self.per)

    def usage(self) -> Usage:
        with session_scope(self.engine) as db:
            row = self._row(db, self.period)
            return Usage(self.source_id, self.period, row.queries if row else 0, self.limit,
                         row.refused if row else 0, row.blocked if row else None)

    def spend(self, queries: int = 1) -> Usage:
        """Count `queries` about to be sent, or raise BudgetExhausted (and count the refusal)."""
        period = self.period
        with session_scope(self.engine) as db:
            row = self._row(db, period, create=True)
            if row.blocked:
                raise BudgetExhausted(f"{self.source_id}: the upstream refused the key in {period} "
                                      f"({row.blocked}); no query sent until the next period")
            before, refused = row.queries, row.refused  # the ORM update below also updates `row`
            # One conditional UPDATE: two processes sharing the database cannot both spend the last query.
            spent = db.execute(update(ApiUsage)
                               .where(ApiUsage.id == row.id, ApiUsage.queries + queries <= self.limit)
                               .values(queries=ApiUsage.queries + queries, updated_at=self.clock()))
            if spent.rowcount == 1:
                return Usage(self.source_id, period, before + queries, self.limit, refused, None)
        with session_scope(self.engine) as db:  # the refusal is recorded in a transaction of its own
            db.execute(update(ApiUsage).where(ApiUsage.id == row.id)
                       .values(refused=ApiUsage.refused + queries, updated_at=self.clock()))
        raise BudgetExhausted(f"{self.source_id}: query budget spent: {before:,} of {self.limit:,} "
                              f"used in {period}; no query sent until the next period "
                              "(raise the budget setting only within the upstream's terms)")

    def block(self, message: str) -> None:
        """The upstream said the key is exhausted or refused: stop spending for the rest of the period."""
        with session_scope(self.engine) as db:
            row = self._row(db, self.period, create=True)
            db.execute(update(ApiUsage).where(ApiUsage.id == row.id)
                       .values(blocked=message[:500], updated_at=self.clock()))

    def _row(self, db, period: str, create: bool = False) -> ApiUsage | None:
        query = select(ApiUsage).where(ApiUsage.source_id == self.source_id, ApiUsage.period == period)
        row = db.execute(query).scalar_one_or_none()
        if row is None and create:
            db.execute(insert(ApiUsage).values(source_id=self.source_id, period=period, queries=0, refused=0,
                                               updated_at=self.clock()))
            row = db.execute(query).scalar_one()
        return row


def usage_report(engine: Engine, budgets: dict[str, tuple[int, str]],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[Usage]:
    """Current-period usage for each metered source: {source_id: (limit, "month" | "day")}."""
    return [QueryBudget(engine, source_id, limit, per=per, clock=clock).usage()
            for source_id, (limit, per) in sorted(budgets.items())]


def metered_budgets(settings) -> dict[str, tuple[int, str]]:
    """The metered sources and their budgets, as settings define them."""
    return {"legiscan": (settings.legiscan_monthly_budget, "month"),
            "openstates": (settings.openstates_daily_budget, "day")}
