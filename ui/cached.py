"""The KPI pages' numbers cached for every viewer: keyed by the data's version and the filters (small
hashable values), never by the user, so a rerun that changes nothing (a click elsewhere, a second viewer
with the same filters) computes nothing.

The frames come from ui/data.py (one copy for everyone); these functions read them only on a miss. What
they keep is small: a few dataclasses and frames of tens of rows, or the leads behind one number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
import streamlit as st

from core.filters import Filters, apply_filters
from core.funnel import Funnel, breakdown, funnels, leads_behind, trend
from core.kpis import sales_cycle_days, win_rate
from core.periods import Period
from core.quota import (
    Attainment,
    Scope,
    attainment_by_bucket,
    rep_attainment,
    scope_leads,
    scope_target,
    team_attainment,
    win_rate_trend,
)
from core.revenue import Alignment, alignment, revenue_by
from core.stats import Rate
from core.trends import latest_event_day
from db import clock
from ui.data import CACHE_SECONDS, generation, leads, people, quotas, traffic
from ui.db import database_url

MAX_ENTRIES = 256  # filter combinations kept per computation


@dataclass(frozen=True)
class DataVersion:
    """What the cached numbers were computed from: the database, how many leads, the last event. A reload
    that brings new or changed leads changes it (a same-size edit that moves no last event waits out the
    data's own TTL, as the frames do)."""

    url: str
    rows: int
    last_event: date | None
    generation: int = 0  # ui.data.generation(): moves on every import


def data_version(all_leads: pl.DataFrame, last_event: date | None) -> DataVersion:
    return DataVersion(database_url(), all_leads.height, last_event, generation())


def _filtered(filters: Filters) -> pl.DataFrame:
    return apply_filters(leads(), people(), filters)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def funnel_pair(version: DataVersion, filters: Filters, anchor: date, today: date) -> tuple[Funnel, Funnel]:
    """The Funnel page's numbers for the filters' period and its comparison period, in one pass."""
    now, before = funnels(
        _filtered(filters), traffic(), [filters.period(anchor), filters.comparison(anchor)], today=today
    )
    return now, before


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def trend_series(version: DataVersion, filters: Filters, last_day: date, grain: str) -> pl.DataFrame:
    return trend(_filtered(filters), last_day=last_day, grain=grain)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def breakdown_table(version: DataVersion, filters: Filters, period: Period, by: str) -> pl.DataFrame:
    return breakdown(_filtered(filters), people(), period, by)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def leads_behind_rows(
    version: DataVersion,
    filters: Filters,
    period: Period,
    stage: str,
    by: str | None = None,
    key: str | None = None,
) -> pl.DataFrame:
    return leads_behind(_filtered(filters), people(), period, stage, by=by, key=key)


# ---------------------------------------------------------------- the Quota and Revenue screens


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def target_of(version: DataVersion, filters: Filters, period: Period, scope: Scope) -> Attainment:
    return scope_target(_filtered(filters), quotas(), people(), period, scope)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def win_rate_of(version: DataVersion, filters: Filters, period: Period, scope: Scope) -> Rate:
    return win_rate(scope_leads(_filtered(filters), scope), period)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def sales_cycle_of(version: DataVersion, filters: Filters, period: Period, scope: Scope) -> float | None:
    return sales_cycle_days(scope_leads(_filtered(filters), scope), period)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def won_deals(version: DataVersion, filters: Filters, period: Period, scope: Scope) -> pl.DataFrame:
    return leads_behind(scope_leads(_filtered(filters), scope), people(), period, "won")


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def attainment_series(
    version: DataVersion, filters: Filters, scope: Scope, last_day: date, grain: str
) -> pl.DataFrame:
    return attainment_by_bucket(_filtered(filters), quotas(), people(), scope, last_day=last_day, grain=grain)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def teams_attainment(version: DataVersion, filters: Filters, period: Period) -> pl.DataFrame:
    return team_attainment(_filtered(filters), quotas(), people(), period)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def reps_attainment(version: DataVersion, filters: Filters, period: Period) -> pl.DataFrame:
    return rep_attainment(_filtered(filters), quotas(), people(), period)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def win_rate_series(
    version: DataVersion, filters: Filters, scope: Scope, last_day: date, grain: str
) -> pl.DataFrame:
    return win_rate_trend(scope_leads(_filtered(filters), scope), last_day=last_day, grain=grain)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def alignment_of(version: DataVersion, filters: Filters, period: Period, scope: Scope) -> Alignment:
    frame = _filtered(filters)
    return alignment(frame, period, scope_target(frame, quotas(), people(), period, scope))


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def revenue_table(
    version: DataVersion, filters: Filters, by: str, period: Period, previous: Period, last_year: Period
) -> pl.DataFrame:
    return revenue_by(_filtered(filters), by, period=period, previous=previous, last_year=last_year)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def won_deals_by(
    version: DataVersion, filters: Filters, period: Period, by: str | None, key: str | None
) -> pl.DataFrame:
    return leads_behind(_filtered(filters), people(), period, "won", by=by, key=key)


@dataclass(frozen=True)
class KpiData:
    """What every KPI screen starts from: the shared frames, the day the data ends and today."""

    leads: pl.DataFrame
    people: pl.DataFrame
    last_event: date
    today: date

    @property
    def anchor(self) -> date:
        """The day periods end on: today, or the data's last day when the data ends earlier."""
        return min(self.today, self.last_event)

    @property
    def version(self) -> DataVersion:
        return data_version(self.leads, self.last_event)


def kpi_data(nothing_yet: str) -> KpiData:
    """The frames a KPI screen needs; stops the page with `nothing_yet` when there are no leads at all."""
    all_leads, names = leads(), people()
    last_event = latest_event_day(all_leads)
    if last_event is None:
        st.info(nothing_yet, icon=":material/inbox:")
        st.stop()
    return KpiData(all_leads, names, last_event, clock.today())
