"""Cached loaders: frames shared by every viewer, keyed by the database URL only (never by the user).

`st.cache_resource`, not `st.cache_data`: cache_data hands every rerun a fresh unpickled copy of a
million-lead frame (0.2 s each time, and a second copy in memory), while polars frames are never changed
in place, so one shared frame is safe.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from db.feedback import Agreement, current_agreement, load_rating_rows
from db.frames import load_leads, load_people, load_quotas, load_traffic
from ui.db import database_url, engine

CACHE_SECONDS = 300
# Bumped whenever the data is known to have changed (an import), so numbers cached from the old frames
# (ui/cached.py) are not served again even when the lead count and last event did not move.
_generation = [0]


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner="Loading leads…")
def _leads(url: str) -> pl.DataFrame:
    return load_leads(engine())


def leads() -> pl.DataFrame:
    return _leads(database_url())


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _people(url: str) -> pl.DataFrame:
    return load_people(engine())


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _traffic(url: str) -> pl.DataFrame:
    return load_traffic(engine())


def people() -> pl.DataFrame:
    return _people(database_url())


def traffic() -> pl.DataFrame:
    return _traffic(database_url())


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _quotas(url: str) -> pl.DataFrame:
    return load_quotas(engine())


def quotas() -> pl.DataFrame:
    return _quotas(database_url())


# Ratings change with every submit: kept a minute, so the coverage views are at most that far behind.
@st.cache_resource(ttl=60, show_spinner=False)
def _ratings(url: str) -> pl.DataFrame:
    return load_rating_rows(engine())


def ratings() -> pl.DataFrame:
    return _ratings(database_url())


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _agreement(url: str) -> Agreement:
    return current_agreement(engine())


def agreement() -> Agreement:
    return _agreement(database_url())


def generation() -> int:
    return _generation[0]


def forget_loaded_data() -> None:
    """After a write that changes the numbers: every viewer's next run loads and computes afresh."""
    for loader in (_leads, _people, _traffic, _quotas, _ratings, _agreement):
        loader.clear()
    st.cache_data.clear()
    _generation[0] += 1
