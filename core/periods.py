"""Reporting periods: half-open date ranges [start, end) and the presets users pick from."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl


@dataclass(frozen=True)
class Period:
    start: date | None  # first day included; None = since the beginning
    end: date | None  # first day NOT included; None = no end
    label: str = ""

    def contains(self, column: str) -> pl.Expr:
        """True where the datetime `column` falls inside the period (null never does)."""
        expr = pl.col(column).is_not_null()
        if self.start is not None:
            expr = expr & (pl.col(column) >= datetime.combine(self.start, datetime.min.time()))
        if self.end is not None:
            expr = expr & (pl.col(column) < datetime.combine(self.end, datetime.min.time()))
        return expr

    def previous(self) -> Period:
        if self.start is None or self.end is None:
            raise ValueError("only a period with both ends has a previous one")
        length = self.end - self.start
        return Period(self.start - length, self.start, "previous period")

    @property
    def last_day(self) -> date | None:
        return None if self.end is None else self.end - timedelta(days=1)


ALL_TIME = Period(None, None, "all time")


def from_inclusive(first: date | None, last: date | None) -> Period:
    """A period from a first and a last day that are both included (the command line's --from/--to)."""
    end = None if last is None else last + timedelta(days=1)
    return Period(first, end, _span_label(first, last))


def _span_label(first: date | None, last: date | None) -> str:
    if first is None and last is None:
        return "all time"
    return f"{first.isoformat() if first else '…'} – {last.isoformat() if last else '…'}"


def _short(day: date) -> str:
    return f"{day:%b} {day.day}"


def month_to_date(today: date) -> Period:
    start = today.replace(day=1)
    return Period(start, today + timedelta(days=1), f"{_short(start)}–{today.day}")


def previous_month_same_span(today: date) -> Period:
    """The same days of the previous month (1st to today's day, clamped to that month's length)."""
    last_month_end = today.replace(day=1) - timedelta(days=1)
    day = min(today.day, calendar.monthrange(last_month_end.year, last_month_end.month)[1])
    start = last_month_end.replace(day=1)
    last = last_month_end.replace(day=day)
    return Period(start, last + timedelta(days=1), f"{_short(start)}–{last.day}")


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _months_before(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to that month's length (Mar 31 -> Feb 28)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def this_week(today: date) -> Period:
    start = today - timedelta(days=today.weekday())  # weeks start on Monday (ISO 8601)
    return Period(start, today + timedelta(days=1), f"week of {_short(start)}, to {_short(today)}")


def last_week(today: date) -> Period:
    start = today - timedelta(days=today.weekday() + 7)
    return Period(start, start + timedelta(days=7), f"week of {_short(start)}")


def quarter_to_date(today: date) -> Period:
    start = _quarter_start(today)
    return Period(
        start, today + timedelta(days=1), f"Q{(start.month - 1) // 3 + 1} {start.year} to {_short(today)}"
    )


def last_quarter(today: date) -> Period:
    end = _quarter_start(today)
    start = _quarter_start(end - timedelta(days=1))
    return Period(start, end, f"Q{(start.month - 1) // 3 + 1} {start.year}")


PRESETS: dict[str, str] = {
    "this_week": "This week",
    "last_week": "Last week",
    "this_month": "This month",
    "quarter_to_date": "Quarter to date",
    "last_quarter": "Last quarter",
    "custom": "Custom",
}
DEFAULT_PRESET = "this_month"


def preset_period(preset: str, today: date, first: date | None = None, last: date | None = None) -> Period:
    """The period a preset names on `today`; "custom" runs from `first` to `last`, both included."""
    if preset == "this_week":
        return this_week(today)
    if preset == "last_week":
        return last_week(today)
    if preset == "this_month":
        return month_to_date(today)
    if preset == "quarter_to_date":
        return quarter_to_date(today)
    if preset == "last_quarter":
        return last_quarter(today)
    if preset == "custom":
        if first is None or last is None or last < first:
            raise ValueError("a custom period needs a first day on or before its last day")
        return from_inclusive(first, last)
    raise ValueError(f"unknown period preset {preset!r}; choose one of {', '.join(PRESETS)}")


def comparison_period(preset: str, period: Period) -> Period:
    """What a delta compares against: the same days one week, month or quarter earlier (Monday to
    Thursday against last Monday to Thursday; the previous quarter's first N days for "quarter to
    date"); a custom period against the span of equal length just before it."""
    if period.start is None or period.end is None:
        raise ValueError("only a period with both ends has a comparison")
    if preset in ("this_week", "last_week"):
        start, end = period.start - timedelta(days=7), period.end - timedelta(days=7)
        return Period(start, end, f"{_short(start)} – {_short(end - timedelta(days=1))}")
    months = {"this_month": 1, "quarter_to_date": 3, "last_quarter": 3}.get(preset)
    if months is None:
        return period.previous()
    start, last = _months_before(period.start, months), _months_before(period.end - timedelta(days=1), months)
    return Period(start, last + timedelta(days=1), f"{_short(start)} – {_short(last)} {last.year}")


def same_period_last_year(period: Period) -> Period:
    if period.start is None or period.end is None:
        raise ValueError("only a period with both ends has a last year")
    start, last = _months_before(period.start, 12), _months_before(period.end - timedelta(days=1), 12)
    return Period(start, last + timedelta(days=1), f"{_short(start)} – {_short(last)} {last.year}")
