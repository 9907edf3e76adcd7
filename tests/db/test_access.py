"""Role x action, table-driven: every cell not allowed is refused by the service itself, and logged."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.access import OPERATOR, POLICY, AccessDenied, Action, Actor
from db.audit_search import audit_action_families, search_audit
from db.engine import read_session, write_session
from db.models import AuditLog, Role, User, UserCreate
from db.sla import set_agreement
from db.users import (
    change_role,
    change_team,
    create_user,
    disable_user,
    list_teams,
    list_users,
    reset_password,
    set_password,
)

PASSWORD = "correct-horse-battery"
Call = Callable[[Session, Actor], object]

# Every protected service function, the action it needs, and a call of it aimed at the user "target".
SERVICE_CALLS: dict[str, tuple[Action, Call]] = {
    "create_user": (
        Action.users_manage,
        lambda s, a: create_user(session=s, actor=a, user_in=UserCreate(username="newbie", name="New")),
    ),
    "disable_user": (Action.users_manage, lambda s, a: disable_user(session=s, actor=a, username="target")),
    "change_role": (
        Action.users_manage,
        lambda s, a: change_role(session=s, actor=a, username="target", role=Role.executive),
    ),
    "change_team": (
        Action.users_manage,
        lambda s, a: change_team(session=s, actor=a, username="target", team_name="East"),
    ),
    "set_password": (
        Action.users_manage,
        lambda s, a: set_password(session=s, actor=a, username="target", password="another-good-one"),
    ),
    "reset_password": (
        Action.users_manage,
        lambda s, a: reset_password(session=s, actor=a, username="target"),
    ),
    "list_users": (Action.users_read, lambda s, a: list_users(session=s, actor=a)),
    "list_teams": (Action.users_read, lambda s, a: list_teams(session=s, actor=a)),
    "search_audit": (Action.audit_read, lambda s, a: search_audit(session=s, actor=a)),
    "audit_action_families": (Action.audit_read, lambda s, a: audit_action_families(session=s, actor=a)),
    "set_agreement": (
        Action.sla_set,
        lambda s, a: set_agreement(
            session=s,
            actor=a,
            team_id=None,
            mqls_per_month=300,
            follow_up_hours=8,
            rating_days=2,
            acceptance_target=0.5,
        ),
    ),
}
# What each role may do, written out by hand (not derived from POLICY) so the test checks the policy.
ALLOWED: dict[Role, frozenset[Action]] = {
    Role.rep: frozenset(),
    Role.sales_manager: frozenset({Action.sla_set}),
    Role.marketer: frozenset(),
    Role.executive: frozenset(),
    Role.admin: frozenset({Action.users_read, Action.users_manage, Action.audit_read, Action.sla_set}),
}
CELLS = [(role, name) for role in Role for name in SERVICE_CALLS]


def _people(engine: Engine, role: Role) -> None:
    with write_session(engine) as session:
        for username, user_role in (("actor", role), ("target", Role.rep)):
            create_user(
                session=session,
                actor=OPERATOR,
                user_in=UserCreate(username=username, name=username, role=user_role, password=PASSWORD),
            )


def _actor(session: Session) -> User:
    user = session.exec(select(User).where(User.username == "actor")).one()
    return user


def test_the_policy_is_the_table() -> None:
    for action, _ in SERVICE_CALLS.values():
        assert POLICY[action] == {role for role, allowed in ALLOWED.items() if action in allowed}


@pytest.mark.parametrize(("role", "call"), CELLS, ids=[f"{r.value}-{c}" for r, c in CELLS])
def test_role_x_action(sqlite_engine: Engine, role: Role, call: str) -> None:
    _people(sqlite_engine, role)
    action, run = SERVICE_CALLS[call]
    if action in ALLOWED[role]:
        with write_session(sqlite_engine) as session:
            run(session, _actor(session))
        return
    with pytest.raises(AccessDenied, match="may not"), write_session(sqlite_engine) as session:
        run(session, _actor(session))
    with read_session(sqlite_engine) as session:
        denied = session.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        target = session.exec(select(User).where(User.username == "target")).one()
        newbie = session.exec(select(User).where(User.username == "newbie")).first()
    assert [(d.action, d.actor_username, d.detail) for d in denied] == [
        (action.value, "actor", f"role={role.value}")
    ]
    assert target.active and target.role == Role.rep and target.team_id is None and newbie is None


def test_a_denial_is_logged_on_postgresql_too_and_the_refused_work_is_undone(db_engine: Engine) -> None:
    _people(db_engine, Role.rep)
    with pytest.raises(AccessDenied), write_session(db_engine) as session:
        actor = _actor(session)
        actor.name = "changed in the refused unit of work"
        session.add(actor)
        disable_user(session=session, actor=actor, username="target")
    with read_session(db_engine) as session:
        assert _actor(session).name == "actor"
        rows = session.exec(select(AuditLog).where(col(AuditLog.outcome) == "denied")).all()
    assert [(r.action, r.object_id) for r in rows] == [("users.manage", "target")]


def test_a_disabled_admin_is_refused(sqlite_engine: Engine) -> None:
    _people(sqlite_engine, Role.admin)
    with write_session(sqlite_engine) as session:
        actor = _actor(session)
        actor.active = False
        session.add(actor)
    with pytest.raises(AccessDenied), read_session(sqlite_engine) as session:
        list_users(session=session, actor=_actor(session))


def test_the_command_line_may_do_everything(sqlite_engine: Engine) -> None:
    _people(sqlite_engine, Role.rep)
    with write_session(sqlite_engine) as session:
        for _action, run in SERVICE_CALLS.values():
            run(session, OPERATOR)
