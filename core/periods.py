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
