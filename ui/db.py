"""The database as the app sees it: one cached engine, a plain message when it is not usable, and the one
way ui/ acts as the signed-in person.

This is the only ui module that touches SQLAlchemy or SQLModel (tests/test_architecture.py): the others
call db services through `act_as` (writes) and `read_as` (reads that check who is asking), which look the
person up here, as a row of the unit of work, and hand it to the service as its `actor`. The service
decides what that person may do (db.access) and records it; ui/ never decides it alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import streamlit as st
from sqlalchemy.engine import Engine as Engine  # re-exported: other ui modules name the type from here
from sqlmodel import Session as Session  # re-exported, as Engine

from db.access import AccessDenied
from db.engine import (
    DatabaseUnreachable,
    check_reachable,
    make_engine,
    read_session,
    safe_url,
    write_session,
)
from db.migrate import schema_state
from db.models import User
from db.settings import get_settings

T = TypeVar("T")
NOT_SIGNED_IN = "Nobody is signed in here any more: log in again."


class NotSignedIn(RuntimeError):
    """A service was called for a browser tab with nobody signed in (the login gate should have stopped
    it), or for a person the database no longer has."""


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
    problem = _schema_problem(database_url())
    if problem:
        st.error(f"Huddle cannot use its database: {problem}.", icon=":material/error:")
        st.stop()
    return current


_AT_HEAD: set[str] = set()  # databases already found at this code's schema: asked once per process


def _schema_problem(database_url: str) -> str | None:
    """Why the app cannot use the database's schema as it is (none yet, behind this code's migrations, or
    from a newer Huddle); None at head. The app never migrates: `python -m db upgrade` does, at start-up."""
    if database_url in _AT_HEAD:
        return None
    problem = schema_state(_engine_for(database_url)).problem(safe_url(database_url))
    if problem is None:
        _AT_HEAD.add(database_url)
    return problem


def acting_user(session: Session, user_id: int | None) -> User:
    """The signed-in person (`user_id`: ui.auth.CurrentUser.id, or ui.auth.signed_in_id()) as a row of
    `session`: the `actor` every service checks. A disabled account is handed on all the same, for the
    service to refuse and log; nobody at all raises NotSignedIn."""
    row = session.get(User, user_id) if user_id is not None else None
    if row is None:
        raise NotSignedIn("nobody is signed in")
    return row


@dataclass(frozen=True)
class Acted(Generic[T]):
    """What one service call as the signed-in person came to: its value, or why it was refused."""

    value: T | None = None
    refused: str | None = None  # fit to show the person; None when it was done


def act_as(
    user_id: int | None,
    call: Callable[[Session, User], T],
    refusals: tuple[type[Exception], ...] = (),
    *,
    own_transactions: bool = False,
) -> Acted[T]:
    """Do one service call as the signed-in person: the one way ui/ writes.

    The call runs in one write transaction, committed when it returns. A refusal, by db.access or by the
    service itself (`refusals`, in the service's own words), comes back as `Acted.refused`; any other
    error propagates. With `own_transactions` (an import, which commits its own steps and records its
    failures) the session handed to the call only looked the person up, and the service opens its own."""
    caught: tuple[type[Exception], ...] = (AccessDenied, *refusals)
    try:
        if own_transactions:
            with read_session(engine()) as session:
                return Acted(value=call(session, acting_user(session, user_id)))
        with write_session(engine()) as session:
            return Acted(value=call(session, acting_user(session, user_id)))
    except NotSignedIn:
        return Acted(refused=NOT_SIGNED_IN)
    except caught as refused:
        return Acted(refused=str(refused))


def read_as(user_id: int | None, call: Callable[[Session, User], T]) -> T:
    """Read through a service that checks who is asking, as the signed-in person. A refusal raises
    AccessDenied (a page shows it with ui.admin_users.politely); nobody signed in raises NotSignedIn."""
    with read_session(engine()) as session:
        return call(session, acting_user(session, user_id))
