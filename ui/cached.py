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
from core.periods import Period
from ui.data import CACHE_SECONDS, generation, leads, people, traffic
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
