from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from core.periods import (
    ALL_TIME,
    Period,
    comparison_period,
    from_inclusive,
    headline_months,
    last_month,
    month_to_date,
    preset_period,
    previous_month_same_span,
    same_period_last_year,
    span_label,
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


def test_a_one_day_range_is_written_as_one_day() -> None:
    assert span_label(date(2026, 12, 1), date(2026, 12, 1)) == "Dec 1"
    assert span_label(date(2026, 11, 30), date(2026, 12, 6)) == "Nov 30 – Dec 6"
    assert span_label(date(2026, 12, 28), date(2027, 1, 3)) == "Dec 28 2026 – Jan 3 2027"
    assert span_label(date(2026, 12, 1), date(2026, 12, 1), year=True) == "Dec 1 2026"
    assert span_label(date(2025, 11, 1), date(2025, 11, 30), year=True) == "November 2025"
    assert span_label(date(2025, 11, 1), date(2025, 11, 30)) == "Nov 1–30"


FIRST_OF_MONTH = date(2026, 12, 1)
NEW_YEAR = date(2027, 1, 1)
LEAP_DAY = date(2028, 2, 29)


def test_periods_on_the_first_of_a_month() -> None:
    assert month_to_date(FIRST_OF_MONTH) == Period(FIRST_OF_MONTH, date(2026, 12, 2), "Dec 1")
    assert previous_month_same_span(FIRST_OF_MONTH).label == "Nov 1"
    assert last_month(FIRST_OF_MONTH) == Period(date(2026, 11, 1), FIRST_OF_MONTH, "November 2026")
    # The Overview then compares the last complete month with the one before it.
    assert headline_months(FIRST_OF_MONTH) == (
        Period(date(2026, 11, 1), date(2026, 12, 1), "November 2026"),
        Period(date(2026, 10, 1), date(2026, 11, 1), "October 2026"),
    )
    assert headline_months(date(2026, 12, 7))[0] == Period(date(2026, 12, 1), date(2026, 12, 8), "Dec 1–7")
    this_month = preset_period("this_month", FIRST_OF_MONTH)
    assert comparison_period("this_month", this_month).label == "Nov 1 2026"
    assert comparison_period("last_month", last_month(FIRST_OF_MONTH)) == last_month(date(2026, 11, 1))


def test_periods_on_a_monday() -> None:
    assert preset_period("this_week", MONDAY).label == "Mon Nov 23, the week's first day"
    assert preset_period("this_week", THURSDAY).label == "week of Nov 23, to Nov 26"
    assert comparison_period("this_week", preset_period("this_week", MONDAY)).label == "Nov 16"
    assert preset_period("last_week", MONDAY).label == "week of Nov 16"


def test_periods_on_new_years_day() -> None:
    assert month_to_date(NEW_YEAR).label == "Jan 1"
    assert previous_month_same_span(NEW_YEAR) == Period(date(2026, 12, 1), date(2026, 12, 2), "Dec 1")
    assert last_month(NEW_YEAR) == Period(date(2026, 12, 1), NEW_YEAR, "December 2026")
    assert preset_period("quarter_to_date", NEW_YEAR) == Period(
        NEW_YEAR, date(2027, 1, 2), "Q1 2027 so far (Jan 1)"
    )
    assert _days(preset_period("last_quarter", NEW_YEAR)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert comparison_period("this_month", month_to_date(NEW_YEAR)).label == "Dec 1 2026"


def test_periods_on_february_29th() -> None:
    assert month_to_date(LEAP_DAY) == Period(date(2028, 2, 1), date(2028, 3, 1), "Feb 1–29")
    # January has a 29th: the same days; a year earlier February ends on the 28th.
    assert previous_month_same_span(LEAP_DAY).label == "Jan 1–29"
    assert same_period_last_year(month_to_date(LEAP_DAY)).label == "February 2027"  # Feb 1-28: all of it
    assert headline_months(LEAP_DAY)[0].label == "Feb 1–29"
    assert preset_period("quarter_to_date", LEAP_DAY).label == "Q1 2028 so far (Jan 1 – Feb 29)"
