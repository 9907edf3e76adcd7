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
    return Period(first, end, _open_span_label(first, last))


def _open_span_label(first: date | None, last: date | None) -> str:
    if first is None and last is None:
        return "all time"
    return f"{first.isoformat() if first else '…'} – {last.isoformat() if last else '…'}"


def _short(day: date) -> str:
    return f"{day:%b} {day.day}"


def span_label(first: date, last: date, *, year: bool = False) -> str:
    """Both days included, as people write them: "Dec 1" for one day (never "Dec 1–1"), "Dec 1–7" inside
    a month, "Nov 30 – Dec 6" across months; the year where the span crosses one, or when asked (then a
    whole month is its name: "November 2025")."""
    if first.year != last.year:
        return f"{_short(first)} {first.year} – {_short(last)} {last.year}"
    if year and first.day == 1 and (last + timedelta(days=1)).day == 1 and first.month == last.month:
        return f"{first:%B %Y}"  # a whole month, as a year-earlier comparison often is
    if first == last:
        text = _short(first)
    elif first.month == last.month:
        text = f"{_short(first)}–{last.day}"
    else:
        text = f"{_short(first)} – {_short(last)}"
    return f"{text} {last.year}" if year else text


def _days(first: date, last: date, *, year: bool = False) -> Period:
    return Period(first, last + timedelta(days=1), span_label(first, last, year=year))


def month_to_date(today: date) -> Period:
    return _days(today.replace(day=1), today)


def previous_month_same_span(today: date) -> Period:
    """The same days of the previous month (1st to today's day, clamped to that month's length)."""
    last_month_end = today.replace(day=1) - timedelta(days=1)
    day = min(today.day, calendar.monthrange(last_month_end.year, last_month_end.month)[1])
    return _days(last_month_end.replace(day=1), last_month_end.replace(day=day))


def last_month(today: date) -> Period:
    end = today.replace(day=1)
    start = (end - timedelta(days=1)).replace(day=1)
    return Period(start, end, f"{start:%B %Y}")


# A month to date shorter than a week says little and looks broken on a projector (the 1st of a month is
# one day): until the 7th the default period is the last complete month, which is what a meeting early in
# the month talks about. "This month" stays one click away.
FULL_WEEK_DAYS = 7


def month_is_young(today: date) -> bool:
    return today.day < FULL_WEEK_DAYS


def headline_months(today: date) -> tuple[Period, Period]:
    """The Overview's pair: this month so far against the same days of last month; in a month's first
    days, the last complete month against the one before it."""
    if month_is_young(today):
        return last_month(today), last_month(today.replace(day=1) - timedelta(days=1))
    return month_to_date(today), previous_month_same_span(today)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _months_before(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to that month's length (Mar 31 -> Feb 28)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def this_week(today: date) -> Period:
    start = today - timedelta(days=today.weekday())  # weeks start on Monday (ISO 8601)
    if start == today:
        return Period(start, today + timedelta(days=1), f"{today:%a} {_short(today)}, the week's first day")
    return Period(start, today + timedelta(days=1), f"week of {_short(start)}, to {_short(today)}")


def last_week(today: date) -> Period:
    start = today - timedelta(days=today.weekday() + 7)
    return Period(start, start + timedelta(days=7), f"week of {_short(start)}")


def quarter_to_date(today: date) -> Period:
    start = _quarter_start(today)
    quarter = f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return Period(start, today + timedelta(days=1), f"{quarter} so far ({span_label(start, today)})")


def last_quarter(today: date) -> Period:
    end = _quarter_start(today)
    start = _quarter_start(end - timedelta(days=1))
    return Period(start, end, f"Q{(start.month - 1) // 3 + 1} {start.year}")


PRESETS: dict[str, str] = {
    "this_week": "This week",
    "last_week": "Last week",
    "this_month": "This month",
    "last_month": "Last month",
    "quarter_to_date": "Quarter to date",
    "last_quarter": "Last quarter",
    "custom": "Custom",
}
DEFAULT_PRESET = "this_month"


def default_preset(today: date) -> str:
    """The period a page opens on: this month, or the last complete one in a month's first days."""
    return "last_month" if month_is_young(today) else DEFAULT_PRESET


def preset_period(preset: str, today: date, first: date | None = None, last: date | None = None) -> Period:
    """The period a preset names on `today`; "custom" runs from `first` to `last`, both included."""
    if preset == "this_week":
        return this_week(today)
    if preset == "last_week":
        return last_week(today)
    if preset == "this_month":
        return month_to_date(today)
    if preset == "last_month":
        return last_month(today)
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
        return _days(period.start - timedelta(days=7), period.end - timedelta(days=8))
    if preset == "last_month":
        return last_month(period.start)
    months = {"this_month": 1, "quarter_to_date": 3, "last_quarter": 3}.get(preset)
    if months is None:
        return period.previous()
    start, last = _months_before(period.start, months), _months_before(period.end - timedelta(days=1), months)
    return _days(start, last, year=True)


def same_period_last_year(period: Period) -> Period:
    if period.start is None or period.end is None:
        raise ValueError("only a period with both ends has a last year")
    start, last = _months_before(period.start, 12), _months_before(period.end - timedelta(days=1), 12)
    return _days(start, last, year=True)
