from __future__ import annotations

from datetime import date, datetime

import polars as pl

from core.periods import ALL_TIME, Period, from_inclusive, month_to_date, previous_month_same_span


def test_period_is_half_open() -> None:
    frame = pl.DataFrame(
        {
            "at": [
                datetime(2026, 2, 28, 23, 59),
                datetime(2026, 3, 1),
                datetime(2026, 3, 31, 23, 59),
                datetime(2026, 4, 1),
                None,
            ]
        }
    )
    march = Period(date(2026, 3, 1), date(2026, 4, 1))
    assert frame.select(march.contains("at")).to_series().to_list() == [False, True, True, False, False]
    assert frame.select(ALL_TIME.contains("at")).to_series().to_list() == [True, True, True, True, False]


def test_from_inclusive_includes_the_last_day() -> None:
    period = from_inclusive(date(2017, 1, 1), date(2017, 12, 31))
    assert (period.start, period.end) == (date(2017, 1, 1), date(2018, 1, 1))
    assert from_inclusive(None, None) == Period(None, None, "all time")


def test_month_to_date_and_the_same_days_last_month() -> None:
    today = date(2026, 11, 23)
    assert month_to_date(today) == Period(date(2026, 11, 1), date(2026, 11, 24), "Nov 1–23")
    assert previous_month_same_span(today) == Period(date(2026, 10, 1), date(2026, 10, 24), "Oct 1–23")


def test_same_span_is_clamped_to_a_shorter_month() -> None:
    # March 31 -> February has only 28 days in 2026 (29 in 2028).
    assert previous_month_same_span(date(2026, 3, 31)) == Period(
        date(2026, 2, 1), date(2026, 3, 1), "Feb 1–28"
    )
    assert previous_month_same_span(date(2028, 3, 31)).end == date(2028, 3, 1)
    assert previous_month_same_span(date(2026, 1, 15)) == Period(
        date(2025, 12, 1), date(2025, 12, 16), "Dec 1–15"
    )


def test_previous_period_has_the_same_length() -> None:
    week = Period(date(2026, 11, 16), date(2026, 11, 23))
    assert week.previous() == Period(date(2026, 11, 9), date(2026, 11, 16), "previous period")
