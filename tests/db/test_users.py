"""The user service on both databases: rules, refusals, credentials for the login widget, audit rows."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db.access import OPERATOR
from db.engine import read_session, write_session
from db.models import AuditLog, Role, UserCreate
from db.passwords import password_problem, verify_password
from db.users import (
    UserError,
    change_own_password,
    change_role,
    change_team,
    create_user,
    disable_user,
    get_or_create_team,
    list_users,
    login_credentials,
    reset_password,
    set_password,
)

GOOD_PASSWORD = "correct-horse-battery"


def _add(engine: Engine, username: str, password: str | None = GOOD_PASSWORD, role: Role = Role.rep) -> None:
    with write_session(engine) as session:
        create_user(
            session=session,
            actor=OPERATOR,
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
        (alice,) = list_users(session=session, actor=OPERATOR)
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
        assert list_users(session=session, actor=OPERATOR) == []


def test_credentials_hold_only_active_users_with_a_password(db_engine: Engine) -> None:
    _add(db_engine, "dora", role=Role.marketer)
    _add(db_engine, "eve")
    _add(db_engine, "imported-sr", password=None)
    with write_session(db_engine) as session:
        disable_user(session=session, actor=OPERATOR, username="eve")
    with read_session(db_engine) as session:
        credentials = login_credentials(session=session)
        everyone = [u.username for u in list_users(session=session, actor=OPERATOR)]
        active = [u.username for u in list_users(session=session, actor=OPERATOR, include_inactive=False)]
    assert set(credentials["usernames"]) == {"dora"}
    assert credentials["usernames"]["dora"]["roles"] == ["marketer"]
    assert everyone == ["dora", "eve", "imported-sr"]
    assert active == ["dora", "imported-sr"]


def test_set_password_replaces_the_hash(db_engine: Engine) -> None:
    _add(db_engine, "frank")
    with write_session(db_engine) as session:
        set_password(session=session, actor=OPERATOR, username="frank", password="a-new-long-password")
    with read_session(db_engine) as session:
        (frank,) = list_users(session=session, actor=OPERATOR)
        assert frank.password_hash and verify_password("a-new-long-password", frank.password_hash)
    with pytest.raises(UserError, match="no user"), write_session(db_engine) as session:
        set_password(session=session, actor=OPERATOR, username="nobody", password="a-new-long-password")


def test_teams_are_made_once(db_engine: Engine) -> None:
    with write_session(db_engine) as session:
        first = get_or_create_team(session=session, name="Enterprise", region="East")
        again = get_or_create_team(session=session, name="Enterprise")
        assert first.id == again.id


def _admin_and(engine: Engine, username: str) -> None:
    _add(engine, "root", role=Role.admin)
    _add(engine, username)


def test_reset_password_gives_a_one_time_password_that_must_be_changed(db_engine: Engine) -> None:
    _admin_and(db_engine, "gina")
    with write_session(db_engine) as session:
        root = list_users(session=session, actor=OPERATOR)[1]
        one_time = reset_password(session=session, actor=root, username="gina")
    assert len(one_time) >= 16 and password_problem(one_time) is None
    with write_session(db_engine) as session:
        (gina,) = [u for u in list_users(session=session, actor=OPERATOR) if u.username == "gina"]
        assert gina.must_change_password and gina.password_hash
        assert verify_password(one_time, gina.password_hash) and not verify_password(
            GOOD_PASSWORD, gina.password_hash
        )
        change_own_password(session=session, actor=gina, current=one_time, new="gina-chose-this-one")
    with read_session(db_engine) as session:
        (gina,) = [u for u in list_users(session=session, actor=OPERATOR) if u.username == "gina"]
        assert not gina.must_change_password
        actions = session.exec(select(AuditLog.action).where(AuditLog.object_id == "gina")).all()
    assert actions == ["user.create", "user.reset_password", "user.change_own_password"]


@pytest.mark.parametrize(
    ("current", "new", "problem"),
    [
        ("not-my-password", "a-fine-new-password", "current password is not right"),
        (GOOD_PASSWORD, GOOD_PASSWORD, "must differ"),
        (GOOD_PASSWORD, "short", "at least 10"),
    ],
)
def test_changing_ones_own_password_needs_the_current_one_and_a_good_new_one(
    sqlite_engine: Engine, current: str, new: str, problem: str
) -> None:
    _add(sqlite_engine, "hal")
    with pytest.raises(UserError, match=problem), write_session(sqlite_engine) as session:
        (hal,) = list_users(session=session, actor=OPERATOR)
        change_own_password(session=session, actor=hal, current=current, new=new)


def test_change_role_and_team_are_audited_with_before_and_after(db_engine: Engine) -> None:
    _admin_and(db_engine, "ivy")
    with write_session(db_engine) as session:
        root = list_users(session=session, actor=OPERATOR)[1]
        change_role(session=session, actor=root, username="ivy", role=Role.sales_manager)
        change_team(session=session, actor=root, username="ivy", team_name="East")
        change_team(session=session, actor=root, username="ivy", team_name="East")  # no change, no entry
    with read_session(db_engine) as session:
        (ivy,) = [u for u in list_users(session=session, actor=OPERATOR) if u.username == "ivy"]
        assert ivy.role == Role.sales_manager and ivy.team_id is not None
        rows = session.exec(
            select(AuditLog).where(AuditLog.object_id == "ivy").order_by(col(AuditLog.id))
        ).all()
    assert [(r.action, r.actor_username, r.detail) for r in rows][1:] == [
        ("user.change_role", "root", "rep -> sales_manager"),
        ("user.change_team", "root", "team=East"),
    ]


@pytest.mark.parametrize("change", ["disable", "role"])
def test_an_admin_cannot_disable_or_demote_themselves(sqlite_engine: Engine, change: str) -> None:
    _add(sqlite_engine, "root", role=Role.admin)
    with pytest.raises(UserError, match="your own account"), write_session(sqlite_engine) as session:
        (root,) = list_users(session=session, actor=OPERATOR)
        if change == "disable":
            disable_user(session=session, actor=root, username="root")
        else:
            change_role(session=session, actor=root, username="root", role=Role.rep)
