"""The database as the app sees it: one cached engine, and a plain message when it is not usable."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.access import AccessDenied
from db.engine import DatabaseUnreachable, check_reachable, make_engine, safe_url, write_session
from db.models import User
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


def act_as(
    user_id: int, call: Callable[[Session, User], object], refusals: tuple[type[Exception], ...] = ()
) -> str | None:
    """Do one service call, in one transaction, as the signed-in person; None when done, else what to
    tell them (a refusal by db.access or by the service itself, in the service's own words)."""
    caught: tuple[type[Exception], ...] = (AccessDenied, *refusals)
    try:
        with write_session(engine()) as session:
            actor = session.get(User, user_id)
            if actor is None or not actor.active:
                return "Your account is no longer active."
            call(session, actor)
    except caught as refused:
        return str(refused)
    return None
