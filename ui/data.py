"""Cached loaders: frames shared by every viewer, keyed by the database URL only (never by the user)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from db.frames import load_leads
from ui.db import database_url, engine

CACHE_SECONDS = 300


@st.cache_data(ttl=CACHE_SECONDS, show_spinner="Loading leads…")
def _leads(url: str) -> pl.DataFrame:
    return load_leads(engine())


def leads() -> pl.DataFrame:
    return _leads(database_url())
