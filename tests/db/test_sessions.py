"""Remembered logins are server-side sessions: ending the row ends the login, whatever the cookie says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from db.access import OPERATOR
from db.engine import read_session, write_session
from db.models import Role, UserCreate, UserSession
from db.sessions import (
    SessionLimits,
    end_all_sessions,
    end_session,
    needs_no_write,
    session_is_live,
    session_key,
    session_limits,
    start_session,
    use_session,
)
from db.settings import get_settings
from db.users import create_user, disable_user, get_user, set_password

PASSWORD = "correct-horse-battery"


def _user_with_session(engine: Engine, username: str = "ana") -> str:
    key = session_key(username, 1_900_000_000.123456)
    with write_session(engine) as session:
        user = create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(username=username, name="Ana", role=Role.rep, password=PASSWORD),
        )
        start_session(session=session, user=user, key=key)
    return key


def _live(engine: Engine, key: str, username: str = "ana") -> bool:
    with read_session(engine) as session:
        return session_is_live(session=session, key=key, username=username)


def test_the_key_depends_on_user_and_expiry_and_is_not_the_token() -> None:
    key = session_key("ana", 1.5)
    assert len(key) == 64
    assert key != session_key("bob", 1.5)
    assert key != session_key("ana", 1.5000001)
    assert "ana" not in key


def test_a_started_session_is_live_until_logout(db_engine: Engine) -> None:
    key = _user_with_session(db_engine)
    assert _live(db_engine, key)
    with write_session(db_engine) as session:
        assert end_session(session=session, key=key)
    assert not _live(db_engine, key)
    with write_session(db_engine) as session:
        assert not end_session(session=session, key=key), "ending twice is a no-op"


def test_an_unknown_key_or_another_username_is_not_live(db_engine: Engine) -> None:
    key = _user_with_session(db_engine)
    assert not _live(db_engine, session_key("ana", 42.0))
    assert not _live(db_engine, key, username="mallory")


def test_disabling_a_person_ends_their_sessions(db_engine: Engine) -> None:
    key = _user_with_session(db_engine)
    with write_session(db_engine) as session:
        disable_user(session=session, actor=OPERATOR, username="ana")
    assert not _live(db_engine, key)


def test_a_new_password_ends_remembered_logins(db_engine: Engine) -> None:
    key = _user_with_session(db_engine)
    with write_session(db_engine) as session:
        set_password(session=session, actor=OPERATOR, username="ana", password="another-good-passphrase")
    assert not _live(db_engine, key)
    with write_session(db_engine) as session:
        user = get_user(session=session, username="ana")
        assert user is not None
        start_session(session=session, user=user, key=session_key("ana", 2.0))
    assert _live(db_engine, session_key("ana", 2.0))


# ---------------------------------------------------------------- timeouts, with a moved clock

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LIMITS = SessionLimits(idle=timedelta(hours=12), absolute=timedelta(days=7))


def _started_at(engine: Engine, at: datetime) -> str:
    key = session_key("ana", at.timestamp())
    with write_session(engine) as session:
        user = create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(username="ana", name="Ana", role=Role.rep, password=PASSWORD),
        )
        start_session(session=session, user=user, key=key, now=at)
    return key


def _use(engine: Engine, key: str, at: datetime) -> bool:
    with write_session(engine) as session:
        return use_session(session=session, key=key, username="ana", now=at, limits=LIMITS)


def test_a_session_unused_for_12_hours_ends(db_engine: Engine) -> None:
    key = _started_at(db_engine, START)
    assert _use(db_engine, key, START + timedelta(hours=11, minutes=59))
    assert _use(db_engine, key, START + timedelta(hours=23, minutes=58)), "using it restarts the idle clock"
    assert not _use(db_engine, key, START + timedelta(hours=36))
    assert not _use(db_engine, key, START + timedelta(hours=36, minutes=1)), "once ended it stays ended"
    with read_session(db_engine) as session:
        row = session.get(UserSession, key)
        assert row is not None and row.end_reason == "idle"


def test_a_session_ends_7_days_after_login_however_busy(db_engine: Engine) -> None:
    key = _started_at(db_engine, START)
    for hours in range(0, 7 * 24, 6):
        assert _use(db_engine, key, START + timedelta(hours=hours))
    assert not _use(db_engine, key, START + timedelta(days=7))
    with read_session(db_engine) as session:
        row = session.get(UserSession, key)
        assert row is not None and row.end_reason == "expired"


def test_is_live_applies_the_same_limits_without_writing(db_engine: Engine) -> None:
    key = _started_at(db_engine, START)
    with read_session(db_engine) as session:
        assert session_is_live(session=session, key=key, username="ana", now=START, limits=LIMITS)
        late = START + timedelta(hours=12)
        assert not session_is_live(session=session, key=key, username="ana", now=late, limits=LIMITS)


def test_the_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUDDLE_SESSION_IDLE_HOURS", "1.5")
    monkeypatch.setenv("HUDDLE_SESSION_MAX_DAYS", "2")
    get_settings.cache_clear()
    try:
        assert session_limits() == SessionLimits(idle=timedelta(minutes=90), absolute=timedelta(days=2))
        monkeypatch.delenv("HUDDLE_SESSION_IDLE_HOURS")
        monkeypatch.delenv("HUDDLE_SESSION_MAX_DAYS")
        get_settings.cache_clear()
        assert session_limits() == LIMITS, "12 hours and 7 days unless configured"
    finally:
        get_settings.cache_clear()


def test_ending_all_sessions_ends_every_browser_of_that_person_only(db_engine: Engine) -> None:
    """Logging out (and disabling, and a new password) ends the sessions of every browser of one person."""
    first = _user_with_session(db_engine, "ana")
    other = _user_with_session(db_engine, "bob")
    second = session_key("ana", 1_900_000_100.0)
    with write_session(db_engine) as session:
        ana = get_user(session=session, username="ana")
        assert ana is not None
        start_session(session=session, user=ana, key=second)
    with write_session(db_engine) as session:
        ana = get_user(session=session, username="ana")
        assert ana is not None
        assert end_all_sessions(session=session, user=ana, reason="logout") == 2
    assert not _live(db_engine, first) and not _live(db_engine, second)
    assert _live(db_engine, other, username="bob")


def test_a_rerun_within_a_minute_of_the_last_needs_no_write(db_engine: Engine) -> None:
    key = _started_at(db_engine, START)
    with read_session(db_engine) as session:
        assert needs_no_write(session=session, key=key, username="ana", now=START + timedelta(seconds=59))
        assert not needs_no_write(session=session, key=key, username="ana", now=START + timedelta(seconds=61))
        assert not needs_no_write(session=session, key=key, username="bob", now=START)
    assert _use(db_engine, key, START + timedelta(minutes=5))
    with read_session(db_engine) as session:
        assert needs_no_write(
            session=session, key=key, username="ana", now=START + timedelta(minutes=5, seconds=30)
        )
