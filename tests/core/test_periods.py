from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from core.periods import (
    ALL_TIME,
    Period,
    comparison_period,
    from_inclusive,
    month_to_date,
    preset_period,
    previous_month_same_span,
    same_period_last_year,
)


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


MONDAY = date(2026, 11, 23)  # a Monday in Q4
THURSDAY = date(2026, 11, 26)


def _days(period: Period) -> tuple[date | None, date | None]:
    return period.start, period.last_day


def test_weeks_start_on_monday() -> None:
    assert _days(preset_period("this_week", THURSDAY)) == (date(2026, 11, 23), date(2026, 11, 26))
    assert _days(preset_period("this_week", MONDAY)) == (MONDAY, MONDAY)
    assert _days(preset_period("last_week", THURSDAY)) == (date(2026, 11, 16), date(2026, 11, 22))
    # A week is compared with the same days of the week before.
    assert _days(comparison_period("this_week", preset_period("this_week", THURSDAY))) == (
        date(2026, 11, 16),
        date(2026, 11, 19),
    )


def test_quarters() -> None:
    assert _days(preset_period("quarter_to_date", MONDAY)) == (date(2026, 10, 1), MONDAY)
    assert _days(preset_period("last_quarter", MONDAY)) == (date(2026, 7, 1), date(2026, 9, 30))
    assert _days(preset_period("last_quarter", date(2026, 2, 3))) == (date(2025, 10, 1), date(2025, 12, 31))
    # Quarter to date against the first 54 days of the previous quarter (Oct 1-Nov 23 -> Jul 1-Aug 23).
    qtd = preset_period("quarter_to_date", MONDAY)
    assert _days(comparison_period("quarter_to_date", qtd)) == (date(2026, 7, 1), date(2026, 8, 23))
    last_q = preset_period("last_quarter", MONDAY)
    assert _days(comparison_period("last_quarter", last_q)) == (date(2026, 4, 1), date(2026, 6, 30))


def test_this_month_compares_with_the_same_days_of_last_month() -> None:
    period = preset_period("this_month", date(2026, 3, 31))
    assert _days(period) == (date(2026, 3, 1), date(2026, 3, 31))
    assert _days(comparison_period("this_month", period)) == (date(2026, 2, 1), date(2026, 2, 28))


def test_same_period_last_year_clamps_leap_days() -> None:
    period = from_inclusive(date(2028, 2, 1), date(2028, 2, 29))
    assert _days(same_period_last_year(period)) == (date(2027, 2, 1), date(2027, 2, 28))


def test_custom_period_includes_both_days_and_refuses_a_backwards_range() -> None:
    period = preset_period("custom", MONDAY, date(2026, 1, 5), date(2026, 1, 11))
    assert _days(period) == (date(2026, 1, 5), date(2026, 1, 11))
    assert _days(comparison_period("custom", period)) == (date(2025, 12, 29), date(2026, 1, 4))
    with pytest.raises(ValueError, match="first day on or before"):
        preset_period("custom", MONDAY, date(2026, 1, 11), date(2026, 1, 5))
    with pytest.raises(ValueError, match="unknown period preset"):
        preset_period("fortnight", MONDAY)
