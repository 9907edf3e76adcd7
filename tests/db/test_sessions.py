"""Remembered logins are server-side sessions: ending the row ends the login, whatever the cookie says."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from db.engine import read_session, write_session
from db.models import Role, UserCreate
from db.sessions import end_session, session_is_live, session_key, start_session
from db.users import create_user, disable_user, get_user, set_password

PASSWORD = "correct-horse-battery"


def _user_with_session(engine: Engine, username: str = "ana") -> str:
    key = session_key(username, 1_900_000_000.123456)
    with write_session(engine) as session:
        user = create_user(
            session=session,
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
        disable_user(session=session, username="ana")
    assert not _live(db_engine, key)


def test_a_new_password_ends_remembered_logins(db_engine: Engine) -> None:
    key = _user_with_session(db_engine)
    with write_session(db_engine) as session:
        set_password(session=session, username="ana", password="another-good-passphrase")
    assert not _live(db_engine, key)
    with write_session(db_engine) as session:
        user = get_user(session=session, username="ana")
        assert user is not None
        start_session(session=session, user=user, key=session_key("ana", 2.0))
    assert _live(db_engine, session_key("ana", 2.0))
