"""Cached loaders: frames shared by every viewer, keyed by the database URL only (never by the user).

`st.cache_resource`, not `st.cache_data`: cache_data hands every rerun a fresh unpickled copy of a
million-lead frame (0.2 s each time, and a second copy in memory), while polars frames are never changed
in place, so one shared frame is safe.

Every app server (docs/DEPLOY.md runs several on one database) keeps caches of its own. A write through
this server clears them at once (`forget_loaded_data`); a write through another server or the command line
shows here at the next rerun: the loaders first compare the database's `changes_stamp` (the newest audited
write that changes the frames, db/frames.py) with the one they loaded under, at most once a second.
"""

from __future__ import annotations

import threading
import time

import polars as pl
import streamlit as st

from db.feedback import Agreement, current_agreement, load_rating_rows
from db.frames import changes_stamp, load_leads, load_people, load_quotas, load_traffic
from ui.db import database_url, engine

CACHE_SECONDS = 300
# Bumped whenever the data is known to have changed (an import), so numbers cached from the old frames
# (ui/cached.py) are not served again even when the lead count and last event did not move.
_generation = [0]
# How often this process asks the database whether another server or the command line changed the data.
FOLLOW_SECONDS = 1.0
# Per database URL: the changes stamp the caches were last cleared (or first filled) under, and when the
# database was last asked.
_followed: dict[str, tuple[int, float]] = {}
_follow_lock = threading.Lock()


def follow_other_writers() -> None:
    """Clear this server's caches when the data changed through another server or the command line since
    they were filled; asks the database at most once every FOLLOW_SECONDS, for all sessions together."""
    url, now = database_url(), time.monotonic()
    with _follow_lock:
        known = _followed.get(url)
        if known is not None and now - known[1] < FOLLOW_SECONDS:
            return
        stamp = changes_stamp(engine())
        _followed[url] = (stamp, now)
        if known is not None and stamp != known[0]:
            # Asked before clearing: whatever is loaded from here on holds at least this write.
            _clear_caches()


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner="Loading leads…")
def _leads(url: str) -> pl.DataFrame:
    return load_leads(engine())


def leads() -> pl.DataFrame:
    follow_other_writers()
    return _leads(database_url())


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _people(url: str) -> pl.DataFrame:
    return load_people(engine())


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _traffic(url: str) -> pl.DataFrame:
    return load_traffic(engine())


def people() -> pl.DataFrame:
    follow_other_writers()
    return _people(database_url())


def traffic() -> pl.DataFrame:
    follow_other_writers()
    return _traffic(database_url())


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _quotas(url: str) -> pl.DataFrame:
    return load_quotas(engine())


def quotas() -> pl.DataFrame:
    follow_other_writers()
    return _quotas(database_url())


# Ratings change with every submit: kept a minute, so the coverage views are at most that far behind.
@st.cache_resource(ttl=60, show_spinner=False)
def _ratings(url: str) -> pl.DataFrame:
    return load_rating_rows(engine())


def ratings() -> pl.DataFrame:
    follow_other_writers()
    return _ratings(database_url())


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _agreement(url: str) -> Agreement:
    return current_agreement(engine())


def agreement() -> Agreement:
    follow_other_writers()
    return _agreement(database_url())


def generation() -> int:
    follow_other_writers()
    return _generation[0]


def _clear_caches() -> None:
    for loader in (_leads, _people, _traffic, _quotas, _ratings, _agreement):
        loader.clear()
    st.cache_data.clear()
    _generation[0] += 1


def forget_loaded_data() -> None:
    """After a write through this server that changes the numbers: every viewer's next run here loads and
    computes afresh (the other servers follow through the changes stamp)."""
    with _follow_lock:
        _followed[database_url()] = (changes_stamp(engine()), time.monotonic())
        _clear_caches()
