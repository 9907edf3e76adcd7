"""Funnel metrics on tiny frames whose answers are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import pytest

from core.kpis import (
    cohort_conversion,
    headline,
    headline_by,
    records_losses,
    revenue,
    sales_cycle_days,
    stage_flow_counts,
    stages_present,
    win_rate,
)
from core.periods import ALL_TIME, Period
from tests.core.frames import d, leads

MARCH = Period(date(2026, 3, 1), date(2026, 4, 1), "March")
APRIL = Period(date(2026, 4, 1), date(2026, 5, 1), "April")
TODAY = date(2026, 11, 23)

# Lead 1: MQL in March, SQL in April, opportunity in April, won in May for 100.
# Lead 2: MQL in March, nothing after.
# Lead 3: MQL in April, SQL and opportunity in April, lost in April (amount 50).
# Lead 4: created in April, never an MQL; lead 5: an open opportunity from April (amount 70).
FUNNEL = leads(
    {"created_at": d("2026-03-01"), "mql_at": d("2026-03-02"), "sql_at": d("2026-04-02"),
     "opportunity_at": d("2026-04-05"), "closed_at": d("2026-05-01"), "outcome": "won", "amount": 100.0, "source": "ads"},
    {"created_at": d("2026-03-05"), "mql_at": d("2026-03-06"), "source": "ads"},
    {"created_at": d("2026-04-05"), "mql_at": d("2026-04-06"), "sql_at": d("2026-04-07"),
     "opportunity_at": d("2026-04-08"), "closed_at": d("2026-04-20"), "outcome": "lost", "amount": 50.0, "source": "seo"},
    {"created_at": d("2026-04-09")},
    {"created_at": d("2026-04-01"), "mql_at": d("2026-04-01"), "sql_at": d("2026-04-02"),
     "opportunity_at": d("2026-04-10"), "amount": 70.0, "source": None},
)  # fmt: skip


def test_flow_counts_count_events_inside_the_period() -> None:
    # March: created 1,2; MQL 1,2; nothing later happened in March.
    assert stage_flow_counts(FUNNEL, MARCH) == {
        "leads": 2,
        "mql": 2,
        "sql": 0,
        "opportunity": 0,
        "won": 0,
        "lost": 0,
    }
    # April: created 3,4,5; MQL 3,5; SQL 1,3,5; opportunity 1,3,5; lost 3.
    assert stage_flow_counts(FUNNEL, APRIL) == {
        "leads": 3,
        "mql": 2,
        "sql": 3,
        "opportunity": 3,
        "won": 0,
        "lost": 1,
    }


def test_cohort_conversion_follows_the_march_mqls_into_april() -> None:
    # Of March's MQLs (1, 2) one reached SQL, even though that happened in April: 1/2.
    march = cohort_conversion(FUNNEL, "mql", "sql", MARCH, today=TODAY)
    assert march is not None
    assert (march.rate.num, march.rate.den) == (1, 2)
    # April's SQL flow is 3 but April's MQL cohort is 2 (3 and 5), both accepted: 2/2, not 3/2.
    april = cohort_conversion(FUNNEL, "mql", "sql", APRIL, today=TODAY)
    assert april is not None and (april.rate.num, april.rate.den) == (2, 2)


def test_window_only_counts_conversions_within_n_days() -> None:
    # Lead 1 took 31 days from MQL to SQL; with a 7-day window March converts 0 of 2.
    windowed = cohort_conversion(FUNNEL, "mql", "sql", MARCH, today=TODAY, window_days=7)
    assert windowed is not None and (windowed.rate.num, windowed.rate.den) == (0, 2)


def test_recent_cohorts_are_still_maturing() -> None:
    # Median MQL->SQL lag over leads 1 (31 d), 3 (1 d), 5 (1 d) is 1 day: a cohort ending today is
    # maturing; April (ended months ago) is not.
    recent = Period(date(2026, 11, 1), date(2026, 11, 24))
    frame = leads(*FUNNEL.to_dicts(), {"created_at": d("2026-11-23"), "mql_at": d("2026-11-23")})
    conversion = cohort_conversion(frame, "mql", "sql", recent, today=TODAY)
    assert conversion is not None and conversion.median_lag_days == pytest.approx(1.0)
    assert conversion.maturing
    april = cohort_conversion(frame, "mql", "sql", APRIL, today=TODAY)
    assert april is not None and not april.maturing


def test_win_rate_ignores_open_deals_and_uses_the_close_date() -> None:
    # Closed in April: lead 3 lost. Lead 5 is open and lead 1 closed in May: 0 won of 1 closed.
    april = win_rate(FUNNEL, APRIL)
    assert (april.num, april.den) == (0, 1)
    everything = win_rate(FUNNEL, ALL_TIME)
    assert (everything.num, everything.den) == (1, 2)


def test_revenue_is_only_won_amounts_closed_in_the_period() -> None:
    assert revenue(FUNNEL, ALL_TIME) == 100.0  # not the lost 50 nor the open 70
    assert revenue(FUNNEL, APRIL) == 0.0
    assert revenue(FUNNEL, Period(date(2026, 5, 1), date(2026, 6, 1))) == 100.0


def test_sales_cycle_is_median_days_from_opportunity_to_won() -> None:
    # Only lead 1 is won: April 5 -> May 1 = 26 days.
    assert sales_cycle_days(FUNNEL, ALL_TIME) == pytest.approx(26.0)


def test_sales_cycle_starts_at_mql_when_there_is_no_opportunity_stage() -> None:
    frame = leads(
        {"mql_at": d("2018-01-01"), "closed_at": d("2018-01-15"), "outcome": "won"},
        {"mql_at": d("2018-01-01"), "closed_at": d("2018-01-11"), "outcome": "won"},
        {"mql_at": d("2018-01-01")},
    )
    assert sales_cycle_days(frame, ALL_TIME) == pytest.approx(12.0)  # median of 14 and 10


def test_missing_stages_are_none_not_zero() -> None:
    # An Olist-like export: MQLs and wins only.
    frame = leads(
        {
            "created_at": d("2018-01-01"),
            "mql_at": d("2018-01-01"),
            "closed_at": d("2018-01-09"),
            "outcome": "won",
        }
    )
    assert stages_present(frame) == {
        "created": True,
        "mql": True,
        "sql": False,
        "opportunity": False,
        "won": True,
    }
    counts = stage_flow_counts(frame, ALL_TIME)
    assert counts["sql"] is None and counts["opportunity"] is None and counts["won"] == 1
    assert cohort_conversion(frame, "mql", "sql", ALL_TIME, today=TODAY) is None
    summary = headline(frame, ALL_TIME, today=TODAY)
    assert summary.conversion["mql_to_sql"] is None
    mql_to_won = summary.conversion["mql_to_won"]
    assert mql_to_won is not None and (mql_to_won.rate.num, mql_to_won.rate.den) == (1, 1)


def test_a_win_rate_needs_data_that_can_record_a_loss() -> None:
    only_wins = leads({"created_at": d("2018-01-01"), "closed_at": d("2018-01-09"), "outcome": "won"})
    assert records_losses(FUNNEL)  # lead 3 was lost
    assert not records_losses(only_wins)  # Olist keeps only won deals: a win rate would read 100%
    assert records_losses(leads())  # no leads at all is no evidence either way


def test_headline_agrees_with_the_single_metric_functions() -> None:
    summary = headline(FUNNEL, APRIL, today=TODAY)
    assert summary.stages == stage_flow_counts(FUNNEL, APRIL)
    assert summary.win_rate == win_rate(FUNNEL, APRIL)
    assert summary.revenue == revenue(FUNNEL, APRIL)
    mql_to_sql = summary.conversion["mql_to_sql"]
    assert mql_to_sql == cohort_conversion(FUNNEL, "mql", "sql", APRIL, today=TODAY)


def test_breakdown_by_a_column_names_missing_values() -> None:
    groups = dict(headline_by(FUNNEL, ALL_TIME, "source", today=TODAY))
    assert set(groups) == {"ads", "seo", "(none)"}
    assert groups["ads"].stages["mql"] == 2
    assert groups["ads"].win_rate.num == 1
    assert groups["(none)"].stages["opportunity"] == 1


def test_breakdown_by_month_buckets_each_number_by_its_own_date() -> None:
    months = dict(headline_by(FUNNEL, ALL_TIME, "month", today=TODAY))
    assert list(months) == ["2026-03", "2026-04", "2026-05"]
    assert months["2026-03"].stages["mql"] == 2
    assert months["2026-04"].stages["sql"] == 3
    assert (months["2026-05"].win_rate.num, months["2026-05"].win_rate.den) == (1, 1)
    assert months["2026-05"].revenue == 100.0
    # March's MQL cohort conversion is by MQL month: 1 of 2 reached SQL.
    march_conversion = months["2026-03"].conversion["mql_to_sql"]
    assert march_conversion is not None and (march_conversion.rate.num, march_conversion.rate.den) == (1, 2)


def test_breakdown_by_quarter_is_clipped_to_the_period() -> None:
    quarters = headline_by(FUNNEL, Period(date(2026, 4, 1), date(2026, 7, 1)), "quarter", today=TODAY)
    assert [key for key, _ in quarters] == ["2026-Q2"]
    assert quarters[0][1].stages["mql"] == 2  # April's MQLs only, not March's
