"""The database as the app sees it: one cached engine, and a plain message when it is not usable."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from db.engine import DatabaseUnreachable, check_reachable, make_engine, safe_url
from db.settings import get_settings


@st.cache_resource(show_spinner=False)
def _engine_for(database_url: str) -> Engine:
    return make_engine(database_url)


def database_url() -> str:
    return get_settings().database_url


def engine() -> Engine:
    return _engine_for(database_url())


def require_database() -> Engine:
    """The engine, or one clear error line on the page (never a stack trace) and a stop."""
    current = engine()
    try:
        check_reachable(current)
    except DatabaseUnreachable as error:
        st.error(f"Huddle cannot open its database. {error}.", icon=":material/error:")
        st.stop()
    if not _schema_ready(database_url()):
        st.error(
            f"The database at {safe_url(database_url())} has no Huddle tables yet: "
            "run `python -m db upgrade` (or `make run`) first.",
            icon=":material/error:",
        )
        st.stop()
    return current


def _schema_ready(database_url: str) -> bool:
    return inspect(_engine_for(database_url)).has_table("users")
