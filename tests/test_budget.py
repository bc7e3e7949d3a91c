"""Query budgets: counted before each query, persisted, refused past the limit, per month or day."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tracker.budget import BudgetExhausted, QueryBudget, metered_budgets, period_of, usage_report
from tracker.db import get_engine, session_scope
from tracker.models import ApiUsage

NOV = datetime(2026, 11, 26, 12, tzinfo=UTC)


def clock(moment: datetime):
    return lambda: moment


def test_each_query_is_counted_and_survives_a_restart(db_url):
    engine = get_engine(db_url)
    budget = QueryBudget(engine, "legiscan", 5, clock=clock(NOV))
    for _ in range(3):
        budget.spend()
    again = QueryBudget(engine, "legiscan", 5, clock=clock(NOV))  # a new process, same database
    assert again.usage().queries == 3 and again.usage().remaining == 2
    assert again.spend(2).queries == 5


def test_past_the_budget_nothing_is_spent_and_the_refusal_is_recorded(db_url):
    engine = get_engine(db_url)
    budget = QueryBudget(engine, "legiscan", 2, clock=clock(NOV))
    budget.spend()
    budget.spend()
    with pytest.raises(BudgetExhausted, match="budget spent: 2 of 2 used in 2026-11"):
        budget.spend()
    usage = budget.usage()
    assert (usage.queries, usage.refused, usage.remaining) == (2, 1, 0)
    assert "1 refused" in usage.line()


def test_a_new_month_starts_from_zero(db_url):
    engine = get_engine(db_url)
    QueryBudget(engine, "legiscan", 1, clock=clock(NOV)).spend()
    december = QueryBudget(engine, "legiscan", 1, clock=clock(datetime(2026, 12, 1, tzinfo=UTC)))
    assert december.spend().queries == 1
    with session_scope(engine) as db:
        rows = db.execute(select(ApiUsage.period, ApiUsage.queries).order_by(ApiUsage.period)).all()
    assert [tuple(r) for r in rows] == [("2026-11", 1), ("2026-12", 1)]


def test_daily_budget_and_sources_are_counted_apart(db_url):
    engine = get_engine(db_url)
    QueryBudget(engine, "openstates", 250, per="day", clock=clock(NOV)).spend()
    QueryBudget(engine, "legiscan", 10, clock=clock(NOV)).spend(4)
    report = {u.source_id: u for u in usage_report(engine, {"legiscan": (10, "month"),
                                                            "openstates": (250, "day")}, clock=clock(NOV))}
    assert (report["openstates"].period, report["openstates"].queries) == ("2026-11-26", 1)
    assert (report["legiscan"].period, report["legiscan"].queries) == ("2026-11", 4)
    assert period_of(NOV, "month") == "2026-11"
    with pytest.raises(ValueError):
        period_of(NOV, "week")


def test_a_refused_key_blocks_the_rest_of_the_period(db_url):
    engine = get_engine(db_url)
    budget = QueryBudget(engine, "legiscan", 100, clock=clock(NOV))
    budget.spend()
    budget.block("getBill: monthly query limit reached")
    with pytest.raises(BudgetExhausted, match="refused the key"):
        budget.spend()
    assert budget.usage().remaining == 0 and "BLOCKED" in budget.usage().line()
    assert QueryBudget(engine, "legiscan", 100, clock=clock(datetime(2026, 12, 1, tzinfo=UTC))).spend().queries == 1


def test_metered_budgets_come_from_settings(settings):
    assert metered_budgets(settings) == {"legiscan": (25_000, "month"), "openstates": (250, "day")}
