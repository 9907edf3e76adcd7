"""The user service on both databases: rules, refusals, credentials for the login widget, audit rows."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from db.engine import read_session, write_session
from db.models import AuditLog, Role, UserCreate
from db.passwords import password_problem, verify_password
from db.users import (
    UserError,
    create_user,
    disable_user,
    get_or_create_team,
    list_users,
    login_credentials,
    set_password,
)

GOOD_PASSWORD = "correct-horse-battery"


def _add(engine: Engine, username: str, password: str | None = GOOD_PASSWORD, role: Role = Role.rep) -> None:
    with write_session(engine) as session:
        create_user(
            session=session,
            user_in=UserCreate(username=username, name=username.title(), role=role, password=password),
        )


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 10 characters"),
        ("123456789", "at least 10 characters"),
        ("1234567890", "most common"),
        ("Password123", "most common"),
        (GOOD_PASSWORD, None),
    ],
)
def test_password_rules(password: str, problem: str | None) -> None:
    found = password_problem(password)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_create_user_stores_a_bcrypt_hash_and_lowercases_the_name(db_engine: Engine) -> None:
    _add(db_engine, "Alice")
    with read_session(db_engine) as session:
        (alice,) = list_users(session=session)
        assert alice.username == "alice"
        assert alice.password_hash is not None and alice.password_hash.startswith("$2b$12$")
        assert verify_password(GOOD_PASSWORD, alice.password_hash)
        assert not verify_password("wrong-password", alice.password_hash)
        actions = session.exec(select(AuditLog.action)).all()
    assert actions == ["user.create"]


def test_duplicate_username_is_refused(db_engine: Engine) -> None:
    _add(db_engine, "bob")
    with pytest.raises(UserError, match="taken"):
        _add(db_engine, "BOB")


def test_weak_password_is_refused_and_nothing_is_written(db_engine: Engine) -> None:
    with pytest.raises(UserError, match="at least 10"):
        _add(db_engine, "carol", password="short")
    with read_session(db_engine) as session:
        assert list_users(session=session) == []


def test_credentials_hold_only_active_users_with_a_password(db_engine: Engine) -> None:
    _add(db_engine, "dora", role=Role.marketer)
    _add(db_engine, "eve")
    _add(db_engine, "imported-sr", password=None)
    with write_session(db_engine) as session:
        disable_user(session=session, username="eve")
    with read_session(db_engine) as session:
        credentials = login_credentials(session=session)
        everyone = [u.username for u in list_users(session=session)]
        active = [u.username for u in list_users(session=session, include_inactive=False)]
    assert set(credentials["usernames"]) == {"dora"}
    assert credentials["usernames"]["dora"]["roles"] == ["marketer"]
    assert everyone == ["dora", "eve", "imported-sr"]
    assert active == ["dora", "imported-sr"]


def test_set_password_replaces_the_hash(db_engine: Engine) -> None:
    _add(db_engine, "frank")
    with write_session(db_engine) as session:
        set_password(session=session, username="frank", password="a-new-long-password")
    with read_session(db_engine) as session:
        (frank,) = list_users(session=session)
        assert frank.password_hash and verify_password("a-new-long-password", frank.password_hash)
    with pytest.raises(UserError, match="no user"), write_session(db_engine) as session:
        set_password(session=session, username="nobody", password="a-new-long-password")


def test_teams_are_made_once(db_engine: Engine) -> None:
    with write_session(db_engine) as session:
        first = get_or_create_team(session=session, name="Enterprise", region="East")
        again = get_or_create_team(session=session, name="Enterprise")
        assert first.id == again.id
