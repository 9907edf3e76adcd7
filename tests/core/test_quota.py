"""Quota attainment, win-rate trend and leaderboard on a tiny company whose answers are worked out by hand.

Ann and Bob are in East (team 10), Cy in West (team 20), Dee in no team. Monthly quotas for November:
Ann 10,000, Bob 10,000, Dee 5,000; Cy has a quarter quota for Q4 of 30,000 (10,000 a month); West also
has its own November quota of 20,000, which replaces the sum of its reps' quotas for that month.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.periods import Period
from core.quota import (
    Scope,
    attainment_by_bucket,
    company_attainment,
    leaderboard,
    monthly_quotas,
    quota_window,
    rep_attainment,
    scope_target,
    team_attainment,
    team_target,
    win_rate_trend,
)
from core.schema import PEOPLE_SCHEMA, QUOTAS_SCHEMA
from core.stats import rate
from tests.core.frames import d, leads

EAST, WEST = 10, 20
ANN, BOB, CY, DEE = 1, 2, 3, 4
NOVEMBER_TO_DATE = Period(date(2026, 11, 1), date(2026, 11, 24), "Nov 1 – 23")

PEOPLE = pl.DataFrame(
    [
        (ANN, "ann", "Ann", "rep", EAST, "East", None),
        (BOB, "bob", "Bob", "rep", EAST, "East", None),
        (CY, "cy", "Cy", "rep", WEST, "West", None),
        (DEE, "dee", "Dee", "rep", None, None, None),
    ],
    schema=PEOPLE_SCHEMA,
    orient="row",
)
QUOTAS = pl.DataFrame(
    [
        (ANN, None, date(2026, 11, 1), date(2026, 11, 30), "month", 10_000.0),
        (BOB, None, date(2026, 11, 1), date(2026, 11, 30), "month", 10_000.0),
        (DEE, None, date(2026, 11, 1), date(2026, 11, 30), "month", 5_000.0),
        (CY, None, date(2026, 10, 1), date(2026, 12, 31), "quarter", 30_000.0),
        (None, WEST, date(2026, 11, 1), date(2026, 11, 30), "month", 20_000.0),
    ],
    schema=QUOTAS_SCHEMA,
    orient="row",
)


def _deal(owner: int, team: int | None, opened: str | None, closed: str | None, outcome: str | None,
          amount: float | None) -> dict[str, object]:  # fmt: skip
    return {
        "owner_id": owner,
        "team_id": team,
        "created_at": d("2026-09-01"),
        "opportunity_at": d(opened) if opened else None,
        "closed_at": d(closed) if closed else None,
        "outcome": outcome,
        "amount": amount,
    }


LEADS = leads(
    _deal(ANN, EAST, "2026-10-24", "2026-11-03", "won", 6_000.0),  # 10 days
    _deal(ANN, EAST, "2026-10-20", "2026-10-30", "won", 4_000.0),  # before her November quota; 10 days
    _deal(ANN, EAST, "2026-11-01", "2026-11-05", "lost", None),
    _deal(BOB, EAST, "2026-11-01", "2026-11-10", "won", 12_000.0),  # 9 days
    _deal(CY, WEST, "2026-10-01", "2026-10-15", "won", 9_000.0),  # 14 days
    _deal(CY, WEST, "2026-10-31", "2026-11-02", "won", 3_000.0),  # 2 days
    _deal(DEE, None, "2026-10-30", "2026-11-01", "won", 1_000.0),  # 2 days
    _deal(BOB, EAST, "2026-11-20", None, None, 50_000.0),  # open
)


def test_each_rep_against_the_quotas_that_overlap_the_period() -> None:
    reps = rep_attainment(LEADS, QUOTAS, PEOPLE, NOVEMBER_TO_DATE)
    assert reps.select("name", "quota", "revenue", "attainment", "won", "closed").rows() == [
        ("Bob", 10_000.0, 12_000.0, 1.2, 1, 1),
        ("Ann", 10_000.0, 6_000.0, 0.6, 1, 2),  # her October deal is outside her November quota
        ("Cy", 30_000.0, 12_000.0, 0.4, 1, 1),  # his quarter quota counts October's deal too
        ("Dee", 5_000.0, 1_000.0, 0.2, 1, 1),
    ]


def test_a_team_uses_its_own_quota_where_set_else_its_reps_sum() -> None:
    teams = team_attainment(LEADS, QUOTAS, PEOPLE, NOVEMBER_TO_DATE)
    assert teams.select("team", "quota", "revenue", "attainment", "won", "closed").rows() == [
        ("East", 20_000.0, 18_000.0, 0.9, 2, 3),
        ("West", 20_000.0, 3_000.0, 0.15, 1, 1),  # its own November quota: November's deals only
    ]


def test_the_company_counts_every_team_and_the_reps_without_one_once() -> None:
    company = company_attainment(LEADS, QUOTAS, PEOPLE, NOVEMBER_TO_DATE)
    assert (company.quota, company.revenue) == (45_000.0, 22_000.0)
    assert company.share == pytest.approx(22 / 45)
    assert (
        company.window is not None and company.window.label == "Q4 2026"
    )  # Cy's quarter quota reaches further


def test_one_teams_target() -> None:
    west = team_target(LEADS, QUOTAS, PEOPLE, NOVEMBER_TO_DATE, WEST)
    assert (west.quota, west.revenue) == (20_000.0, 3_000.0)
    only_november = QUOTAS.filter(pl.col("user_id") != CY)
    assert quota_window(only_november, NOVEMBER_TO_DATE).label == "November 2026"  # type: ignore[union-attr]
    assert team_target(LEADS, QUOTAS, PEOPLE, NOVEMBER_TO_DATE, 99).quota is None


@pytest.mark.parametrize(
    ("scope", "quota", "revenue", "window"),
    [
        (Scope("company"), 45_000.0, 22_000.0, "Q4 2026"),
        (Scope("team", EAST, "East"), 20_000.0, 18_000.0, "November 2026"),
        (Scope("rep", ANN, "Ann"), 10_000.0, 6_000.0, "November 2026"),
        (Scope("rep", CY, "Cy"), 30_000.0, 12_000.0, "Q4 2026"),
    ],
)
def test_the_target_of_whoever_is_chosen(scope: Scope, quota: float, revenue: float, window: str) -> None:
    target = scope_target(LEADS, QUOTAS, PEOPLE, NOVEMBER_TO_DATE, scope)
    assert (target.quota, target.revenue) == (quota, revenue)
    assert target.window is not None and target.window.label == window


def test_no_quota_says_so_instead_of_zero_attainment() -> None:
    september = Period(date(2026, 9, 1), date(2026, 10, 1))
    assert rep_attainment(LEADS, QUOTAS, PEOPLE, september).is_empty()
    company = company_attainment(LEADS, QUOTAS, PEOPLE, september)
    assert company.quota is None and company.share is None


def test_a_quarter_quota_is_spread_over_its_months() -> None:
    months = monthly_quotas(QUOTAS, PEOPLE).filter(pl.col("user_id") == CY).sort("month")
    assert months.select("month", "amount", "team_id").rows() == [
        (date(2026, 10, 1), 10_000.0, WEST),
        (date(2026, 11, 1), 10_000.0, WEST),
        (date(2026, 12, 1), 10_000.0, WEST),
    ]


def test_company_attainment_per_month_against_the_quota_line() -> None:
    months = attainment_by_bucket(
        LEADS, QUOTAS, PEOPLE, Scope("company"), last_day=date(2026, 11, 23), grain="month", count=3
    )
    expected = pl.DataFrame(
        {
            "bucket": [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)],
            "revenue": [0.0, 13_000.0, 22_000.0],
            "quota": [None, 10_000.0, 45_000.0],  # October: only Cy's quarter quota
            "attainment": [None, 1.3, 22 / 45],
        }
    )
    assert_frame_equal(months, expected)


def test_company_attainment_per_quarter() -> None:
    quarters = attainment_by_bucket(
        LEADS, QUOTAS, PEOPLE, Scope("company"), last_day=date(2026, 11, 23), grain="quarter", count=2
    )
    # Q4 quota: October 10,000 + November 45,000 + December (Cy's last third) 10,000.
    assert quarters.rows() == [(date(2026, 7, 1), 0.0, None, None), (date(2026, 10, 1), 35_000.0, 65_000.0,
                               35 / 65)]  # fmt: skip


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope("rep", CY, "Cy"), [(date(2026, 10, 1), 9_000.0, 10_000.0), (date(2026, 11, 1), 3_000.0, 10_000.0)]),
        (Scope("team", WEST, "West"), [(date(2026, 10, 1), 9_000.0, 10_000.0), (date(2026, 11, 1), 3_000.0, 20_000.0)]),
        (Scope("team", EAST, "East"), [(date(2026, 10, 1), 4_000.0, None), (date(2026, 11, 1), 18_000.0, 20_000.0)]),
    ],
)  # fmt: skip
def test_a_rep_or_team_per_month(scope: Scope, expected: list[tuple[date, float, float | None]]) -> None:
    months = attainment_by_bucket(
        LEADS, QUOTAS, PEOPLE, scope, last_day=date(2026, 11, 23), grain="month", count=2
    )
    assert months.select("bucket", "revenue", "quota").rows() == expected


def test_win_rate_trend_with_interval_and_cycle() -> None:
    trend = win_rate_trend(LEADS, last_day=date(2026, 11, 23), grain="month", count=2)
    november = rate(4, 5)
    assert trend.rows() == [
        (date(2026, 10, 1), 2, 2, 1.0, rate(2, 2).ci_low, 1.0, 12.0),  # cycles 10 and 14 days
        (date(2026, 11, 1), 4, 5, 0.8, november.ci_low, november.ci_high, 5.5),  # 10, 9, 2, 2 days
    ]


def test_win_rate_trend_leaves_empty_weeks_empty_not_zero() -> None:
    trend = win_rate_trend(LEADS, last_day=date(2026, 9, 20), grain="week", count=2)
    assert trend["closed"].to_list() == [0, 0]
    assert trend["win_rate"].to_list() == [None, None]


def test_a_rep_sees_only_their_own_name_on_the_leaderboard() -> None:
    reps = rep_attainment(LEADS, QUOTAS, PEOPLE, NOVEMBER_TO_DATE)
    board = leaderboard(reps, viewer_id=ANN, names_shown=False)
    assert [(r.rank, r.who, r.is_viewer) for r in board] == [
        (1, "Another rep", False),
        (2, "You", True),
        (3, "Another rep", False),
        (4, "Another rep", False),
    ]
    assert [r.revenue for r in board] == [None, 6_000.0, None, None]
    assert [r.attainment for r in board] == [1.2, 0.6, 0.4, 0.2]


def test_a_manager_sees_every_name_and_ties_share_a_rank() -> None:
    reps = rep_attainment(LEADS, QUOTAS, PEOPLE, NOVEMBER_TO_DATE).with_columns(
        pl.when(pl.col("name") == "Cy").then(0.6).otherwise(pl.col("attainment")).alias("attainment")
    )
    board = leaderboard(reps, viewer_id=None, names_shown=True)
    # Cy ties Ann at 60% and is listed first, having the larger revenue.
    assert [(r.rank, r.who) for r in board] == [(1, "Bob"), (2, "Cy"), (2, "Ann"), (4, "Dee")]
    assert board[2].win_rate == rate(1, 2)
