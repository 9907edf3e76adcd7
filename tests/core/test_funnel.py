"""The Funnel page's numbers on a five-lead frame whose answers are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from core.funnel import breakdown, funnel, funnel_steps, leads_behind, trend, trend_buckets
from core.periods import Period
from core.schema import PEOPLE_SCHEMA, TRAFFIC_SCHEMA
from tests.core.frames import d, leads

APRIL = Period(date(2026, 4, 1), date(2026, 5, 1), "April")
TODAY = date(2026, 11, 23)

# L1: lead Mar 1, MQL Mar 2, SQL Apr 2, opportunity Apr 5, won May 1 (100); ads, East, Ana.
# L2: lead Mar 5, MQL Mar 6; ads, East, Ana.
# L3: lead Apr 5, MQL Apr 6, SQL Apr 7, opportunity Apr 8, lost Apr 20 (50); seo, West, Ben.
# L4: lead Apr 9, nothing else; no source, no team.
# L5: lead Apr 1, MQL Apr 1, SQL Apr 2, opportunity Apr 10, still open (70); no source, West, Ben.
FIVE = leads(
    {"created_at": d("2026-03-01"), "mql_at": d("2026-03-02"), "sql_at": d("2026-04-02 09:00"),
     "opportunity_at": d("2026-04-05"), "closed_at": d("2026-05-01"), "outcome": "won", "amount": 100.0,
     "source": "ads", "team_id": 1, "owner_id": 10},
    {"created_at": d("2026-03-05"), "mql_at": d("2026-03-06"), "source": "ads", "team_id": 1, "owner_id": 10},
    {"created_at": d("2026-04-05"), "mql_at": d("2026-04-06"), "sql_at": d("2026-04-07"),
     "opportunity_at": d("2026-04-08"), "closed_at": d("2026-04-20"), "outcome": "lost", "amount": 50.0,
     "source": "seo", "team_id": 2, "owner_id": 20},
    {"created_at": d("2026-04-09")},
    {"created_at": d("2026-04-01"), "mql_at": d("2026-04-01"), "sql_at": d("2026-04-02 08:00"),
     "opportunity_at": d("2026-04-10"), "amount": 70.0, "team_id": 2, "owner_id": 20},
)  # fmt: skip
PEOPLE = pl.DataFrame(
    [(10, "ana", "Ana", "rep", 1, "East", None), (20, "ben", "Ben", "rep", 2, "West", None)],
    schema=PEOPLE_SCHEMA,
    orient="row",
)
# Sessions on Mar 31, Apr 1, Apr 30 and May 1: April holds 200 + 300.
TRAFFIC = pl.DataFrame(
    [(date(2026, 3, 31), "seo", 100), (date(2026, 4, 1), "seo", 200), (date(2026, 4, 30), "ads", 300),
     (date(2026, 5, 1), "ads", 400)],
    schema=TRAFFIC_SCHEMA,
    orient="row",
)  # fmt: skip


def test_flow_counts_are_what_happened_in_april() -> None:
    result = funnel(FIVE, TRAFFIC, APRIL, today=TODAY)
    assert result.traffic == 500
    # Leads L3 L4 L5; MQLs L3 L5; SQLs L1 L3 L5; opportunities L1 L3 L5; L1 was won on May 1, not in April.
    assert result.counts == {"created": 3, "mql": 2, "sql": 3, "opportunity": 3, "won": 0}
    assert result.missing == []
    assert funnel_steps(result).rows() == [
        ("Leads", 3),
        ("MQLs", 2),
        ("SQLs", 3),
        ("Opportunities", 3),
        ("Won deals", 0),
    ]


def test_conversions_follow_the_april_cohorts() -> None:
    conversions = funnel(FIVE, TRAFFIC, APRIL, today=TODAY).conversions
    pairs = {k: (c.rate.num, c.rate.den) for k, c in conversions.items() if c is not None}
    assert pairs == {
        "created_to_mql": (2, 3),  # L3 L4 L5 became leads in April; L3 and L5 became MQLs
        "mql_to_sql": (2, 2),  # L3 and L5
        "sql_to_opportunity": (3, 3),  # L1 L3 L5
        "opportunity_to_won": (1, 3),  # only L1 was won (in May: a cohort follows its leads)
    }
    won = conversions["opportunity_to_won"]
    assert won is not None and won.rate.small_sample and won.rate.ci_low is not None
    assert won.rate.ci_low < 1 / 3 < won.rate.ci_high  # type: ignore[operator]


def test_velocity_is_the_median_days_of_what_arrived_in_the_period() -> None:
    velocity = funnel(FIVE, TRAFFIC, APRIL, today=TODAY).velocity_days
    assert velocity["created_to_mql"] == pytest.approx(0.5)  # L3: 1 day, L5: 0 days
    assert velocity["mql_to_sql"] == pytest.approx(1.0)  # L1: 31, L3: 1, L5: 1
    assert velocity["sql_to_opportunity"] == pytest.approx(3.0)  # L1: 3, L3: 1, L5: 8
    assert velocity["opportunity_to_won"] is None  # nothing was won in April


def test_a_recent_cohort_is_still_maturing() -> None:
    # Median opportunity->won lag is 26 days (L1: Apr 5 -> May 1); on May 3 April's cohort is young.
    result = funnel(FIVE, TRAFFIC, APRIL, today=date(2026, 5, 3))
    conversion = result.conversions["opportunity_to_won"]
    assert conversion is not None and conversion.maturing
    later = funnel(FIVE, TRAFFIC, APRIL, today=TODAY).conversions["opportunity_to_won"]
    assert later is not None and not later.maturing


def test_missing_stages_and_traffic_are_none_not_zero() -> None:
    olist_like = leads({"created_at": d("2026-04-02"), "mql_at": d("2026-04-02"), "closed_at": d("2026-04-09"),
                        "outcome": "won"})  # fmt: skip
    no_traffic = pl.DataFrame(schema=TRAFFIC_SCHEMA)
    result = funnel(olist_like, no_traffic, APRIL, today=TODAY)
    assert result.traffic is None
    assert result.counts == {"created": 1, "mql": 1, "sql": None, "opportunity": None, "won": 1}
    assert result.missing == ["SQLs", "Opportunities"]
    assert result.conversions["mql_to_sql"] is None and result.conversions["opportunity_to_won"] is None
    assert [stage for stage, _ in funnel_steps(result).rows()] == ["Leads", "MQLs", "Won deals"]


def test_breakdown_by_source_names_blank_values_and_guards_empty_rates() -> None:
    rows = {r["key"]: r for r in breakdown(FIVE, PEOPLE, APRIL, "source").iter_rows(named=True)}
    assert list(rows) == ["(none)", "seo", "ads"]  # most leads first
    assert (rows["(none)"]["created"], rows["(none)"]["mql"], rows["(none)"]["sql"]) == (2, 1, 1)
    assert (rows["seo"]["win_num"], rows["seo"]["win_den"], rows["seo"]["win_rate"]) == (0, 1, 0.0)
    # ads made no MQL in April: its MQL->SQL rate is empty, not NaN or 0.
    assert rows["ads"]["mql_to_sql_den"] == 0 and rows["ads"]["mql_to_sql"] is None
    assert rows["ads"]["win_rate"] is None


def test_breakdown_by_team_and_owner_uses_names() -> None:
    teams = breakdown(FIVE, PEOPLE, APRIL, "team")
    assert dict(zip(teams["key"], teams["created"], strict=True)) == {"West": 2, "(none)": 1, "East": 0}
    owners = breakdown(FIVE, PEOPLE, APRIL, "owner")
    assert set(owners["key"]) == {"Ana", "Ben", "(none)"}
    with pytest.raises(ValueError, match="cannot break the funnel down by 'shoe_size'"):
        breakdown(FIVE, PEOPLE, APRIL, "shoe_size")


def test_monthly_trend_counts_each_stage_in_its_own_month() -> None:
    months = trend(FIVE, last_day=date(2026, 4, 30), grain="month", count=2)
    table = {(r["stage"], r["bucket"].month): r["count"] for r in months.iter_rows(named=True)}
    assert table == {
        ("Leads", 3): 2, ("Leads", 4): 3,
        ("MQLs", 3): 2, ("MQLs", 4): 2,
        ("SQLs", 3): 0, ("SQLs", 4): 3,
        ("Opportunities", 3): 0, ("Opportunities", 4): 3,
        ("Won deals", 3): 0, ("Won deals", 4): 0,  # May 1 is after the last day
    }  # fmt: skip


def test_trend_buckets_are_mondays_or_first_days() -> None:
    assert trend_buckets(date(2026, 11, 26), "week", 3) == [
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
    ]
    assert trend_buckets(date(2026, 2, 10), "month", 3) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    with pytest.raises(ValueError, match="grain"):
        trend_buckets(date(2026, 2, 10), "day")


def test_the_leads_behind_a_number_are_listed_newest_first() -> None:
    sqls = leads_behind(FIVE, PEOPLE, APRIL, "sql")
    assert sqls["id"].to_list() == [3, 1, 5]  # Apr 7, Apr 2 09:00, Apr 2 08:00
    assert sqls["owner"].to_list() == ["Ben", "Ana", "Ben"] and sqls["team"].to_list() == [
        "West",
        "East",
        "West",
    ]
    unsourced = leads_behind(FIVE, PEOPLE, APRIL, "sql", by="source", key="(none)")
    assert unsourced["id"].to_list() == [5]
