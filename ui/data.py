"""Cached loaders: frames shared by every viewer, keyed by the database URL only (never by the user)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from db.frames import load_leads, load_people, load_quotas, load_traffic
from ui.db import database_url, engine

CACHE_SECONDS = 300


@st.cache_data(ttl=CACHE_SECONDS, show_spinner="Loading leads…")
def _leads(url: str) -> pl.DataFrame:
    return load_leads(engine())


def leads() -> pl.DataFrame:
    return _leads(database_url())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _people(url: str) -> pl.DataFrame:
    return load_people(engine())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _traffic(url: str) -> pl.DataFrame:
    return load_traffic(engine())


def people() -> pl.DataFrame:
    return _people(database_url())


def traffic() -> pl.DataFrame:
    return _traffic(database_url())


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _quotas(url: str) -> pl.DataFrame:
    return load_quotas(engine())


def quotas() -> pl.DataFrame:
    return _quotas(database_url())
