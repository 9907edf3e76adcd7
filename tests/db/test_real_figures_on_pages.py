"""The figures of docs/DATASETS.md, read off the functions the KPI screens call, after a real
import on SQLite and PostgreSQL: what the board shows is what the data says."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Engine

from core.filters import Filters, apply_filters
from core.funnel import breakdown, funnel
from core.kpis import records_losses, sales_cycle_days, win_rate
from core.periods import ALL_TIME, Period
from core.quota import Attainment, Scope, scope_leads, win_rate_trend
from core.revenue import alignment
from db.access import OPERATOR
from db.frames import load_leads, load_people, load_traffic
from db.importing.run import RunOptions, import_maven, import_olist
from tests.db.test_import_real import MAVEN_BY_MANAGER, MAVEN_BY_QUARTER, MAVEN_BY_REGION, OLIST_BY_ORIGIN

TODAY = date(2026, 11, 23)
AS_OPERATOR = RunOptions(actor=OPERATOR)  # the command line's import
QUARTERS_2017 = {
    "2017-Q1": Period(date(2017, 1, 1), date(2017, 4, 1)),
    "2017-Q2": Period(date(2017, 4, 1), date(2017, 7, 1)),
    "2017-Q3": Period(date(2017, 7, 1), date(2017, 10, 1)),
    "2017-Q4": Period(date(2017, 10, 1), date(2018, 1, 1)),
}


def test_maven_on_the_quota_and_revenue_screens(db_engine: Engine, shared_datasets: Path) -> None:
    assert import_maven(db_engine, shared_datasets / "maven_crm", options=AS_OPERATOR).ok
    leads, people = load_leads(db_engine), load_people(db_engine)
    everyone = Scope("company")

    overall = win_rate(scope_leads(leads, everyone), ALL_TIME)
    assert (overall.num, overall.den, round(overall.value or 0, 4)) == (4238, 6711, 0.6315)
    assert sales_cycle_days(leads, ALL_TIME) == 57
    assert alignment(leads, ALL_TIME, Attainment(quota=None, revenue=0.0)).revenue == 10_005_534

    for quarter, (won, closed, revenue) in MAVEN_BY_QUARTER.items():
        rate = win_rate(leads, QUARTERS_2017[quarter])
        assert (rate.num, rate.den) == (won, closed), quarter
        assert alignment(leads, QUARTERS_2017[quarter], Attainment(None, 0.0)).revenue == revenue, quarter
    months = win_rate_trend(leads, last_day=date(2017, 12, 31), grain="month", count=12)
    assert (months["won"].sum(), months["closed"].sum()) == (4238, 6711)  # every 2017 month adds up

    teams = people.select("team_id", "team", "region").drop_nulls("team_id").unique("team_id")
    by_manager = {}
    for team_id, team, _ in teams.iter_rows():
        rate = win_rate(scope_leads(leads, Scope("team", team_id, team)), ALL_TIME)
        by_manager[team] = (rate.num, rate.den)
    assert by_manager == MAVEN_BY_MANAGER

    by_region: dict[str, float] = {}
    for team, region in teams.select("team", "region").iter_rows():
        chosen = apply_filters(leads, people, Filters(team=team))
        by_region[region] = (
            by_region.get(region, 0) + alignment(chosen, ALL_TIME, Attainment(None, 0.0)).revenue
        )
    assert by_region == MAVEN_BY_REGION

    numbers = alignment(leads, ALL_TIME, Attainment(None, 0.0))
    assert not numbers.sources_recorded, "Maven records no lead source: the share is said to be missing"
    assert numbers.open_deals == 2089 - 500, "Engaging deals are open opportunities; Prospecting never opened"


def test_olist_on_the_funnel_screen(db_engine: Engine, shared_datasets: Path) -> None:
    olist = shared_datasets / "olist"
    result = import_olist(
        db_engine,
        olist / "olist_marketing_qualified_leads_dataset.csv",
        olist / "olist_closed_deals_dataset.csv",
        options=AS_OPERATOR,
    )
    assert result.ok
    leads, people = load_leads(db_engine), load_people(db_engine)
    numbers = funnel(leads, load_traffic(db_engine), ALL_TIME, today=TODAY)
    assert (numbers.counts["mql"], numbers.counts["won"]) == (8000, 842)
    assert numbers.counts["sql"] is None and numbers.counts["opportunity"] is None, "said missing, not zero"
    by_origin = breakdown(leads, people, ALL_TIME, "source")
    assert {k: (m, w) for k, m, w in by_origin.select("key", "mql", "won").iter_rows()} == OLIST_BY_ORIGIN
    assert not records_losses(leads), "Olist keeps only won deals: no win rate is drawn"
    assert sales_cycle_days(leads, ALL_TIME) == 14, "MQL to won, as Olist has no opportunity stage"
    assert pl.Series(by_origin["won"]).sum() == 842
