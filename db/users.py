"""People: create, list, change, disable, set passwords, and the credentials the login widget checks.

Every function that reads or changes people takes the acting user (`actor`) and checks it: admins (and
the command line, as `OPERATOR`) manage users; anyone may change their own password.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from db import audit
from db.access import Action, Actor, Operator, authorize, person
from db.models import Role, Team, User, UserCreate, utcnow
from db.passwords import hash_password, password_problem, verify_password
from db.sessions import end_all_sessions

ONE_TIME_PASSWORD_BYTES = 12


class UserError(ValueError):
    """A user change that cannot be made, with a message fit for the person who asked."""


def get_user(*, session: Session, username: str) -> User | None:
    """Look a person up (no access check: the login gate uses it to learn who is signed in)."""
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


def require_user(*, session: Session, username: str) -> User:
    user = get_user(session=session, username=username)
    if user is None:
        raise UserError(f"no user named {username!r}")
    return user


def get_or_create_team(*, session: Session, name: str, region: str | None = None) -> Team:
    team = session.exec(select(Team).where(Team.name == name)).first()
    if team is None:
        team = Team(name=name, region=region)
        session.add(team)
        session.flush()
    return team


def _record(session: Session, actor: Actor, action: str, user: User, detail: str | None = None) -> None:
    audit.record(
        session=session,
        action=action,
        object_type="user",
        object_id=user.username,
        detail=detail,
        actor=person(actor),
        actor_username=actor.username,
    )


def _checked_hash(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    return hash_password(password)


def create_user(*, session: Session, actor: Actor, user_in: UserCreate) -> User:
    """Add a user; the password (when given) must pass the password rules."""
    authorize(session=session, actor=actor, action=Action.users_manage, object_id=user_in.username)
    username = user_in.username.strip().lower()
    if not username:
        raise UserError("a username is required")
    if get_user(session=session, username=username) is not None:
        raise UserError(f"the username {username!r} is taken")
    password_hash = None if user_in.password is None else _checked_hash(user_in.password)
    user = User.model_validate(user_in, update={"username": username, "password_hash": password_hash})
    session.add(user)
    session.flush()
    _record(session, actor, "user.create", user, f"role={user.role.value}")
    return user


def list_users(*, session: Session, actor: Actor, include_inactive: bool = True) -> Sequence[User]:
    authorize(session=session, actor=actor, action=Action.users_read)
    query = select(User).order_by(col(User.username))
    if not include_inactive:
        query = query.where(col(User.active).is_(True))
    return session.exec(query).all()


def list_teams(*, session: Session, actor: Actor) -> Sequence[Team]:
    authorize(session=session, actor=actor, action=Action.users_read)
    return session.exec(select(Team).order_by(col(Team.name))).all()


def _refuse_on_self(actor: Actor, user: User, what: str) -> None:
    # An admin who disables or demotes themselves may leave nobody able to manage users.
    if isinstance(actor, User) and actor.id == user.id:
        raise UserError(f"you cannot {what} your own account; ask another admin")


def _touch(session: Session, user: User) -> None:
    user.updated_at = utcnow()
    session.add(user)


def disable_user(*, session: Session, actor: Actor, username: str) -> User:
    authorize(session=session, actor=actor, action=Action.users_manage, object_id=username)
    user = require_user(session=session, username=username)
    _refuse_on_self(actor, user, "disable")
    user.active = False
    _touch(session, user)
    end_all_sessions(session=session, user=user, reason="disabled")
    _record(session, actor, "user.disable", user)
    return user


def change_role(*, session: Session, actor: Actor, username: str, role: Role) -> User:
    authorize(session=session, actor=actor, action=Action.users_manage, object_id=username)
    user = require_user(session=session, username=username)
    if user.role == role:
        return user
    _refuse_on_self(actor, user, "change the role of")
    before, user.role = user.role, role
    _touch(session, user)
    _record(session, actor, "user.change_role", user, f"{before.value} -> {role.value}")
    return user


def change_team(*, session: Session, actor: Actor, username: str, team_name: str | None) -> User:
    authorize(session=session, actor=actor, action=Action.users_manage, object_id=username)
    user = require_user(session=session, username=username)
    team_id = get_or_create_team(session=session, name=team_name).id if team_name else None
    if user.team_id == team_id:
        return user
    user.team_id = team_id
    _touch(session, user)
    _record(session, actor, "user.change_team", user, f"team={team_name or '-'}")
    return user


def set_password(*, session: Session, actor: Actor, username: str, password: str) -> User:
    """An admin (or the command line) sets someone's password; every login of theirs ends."""
    authorize(session=session, actor=actor, action=Action.users_manage, object_id=username)
    password_hash = _checked_hash(password)
    user = require_user(session=session, username=username)
    user.password_hash = password_hash
    user.must_change_password = False
    _touch(session, user)
    # A new password is often set because the old one leaked: remembered logins go with it.
    end_all_sessions(session=session, user=user, reason="new password")
    _record(session, actor, "user.set_password", user)
    return user


def reset_password(*, session: Session, actor: Actor, username: str) -> str:
    """Give someone a one-time password, to be shown once and changed at their next login."""
    authorize(session=session, actor=actor, action=Action.users_manage, object_id=username)
    user = require_user(session=session, username=username)
    one_time = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    user.password_hash = hash_password(one_time)
    user.must_change_password = True
    _touch(session, user)
    end_all_sessions(session=session, user=user, reason="password reset")
    _record(session, actor, "user.reset_password", user)
    return one_time


def _own_account(session: Session, actor: Actor, what: str) -> User:
    """The signed-in person acting on their own account; the command line has no account of its own."""
    authorize(session=session, actor=actor, action=Action.own_account)
    if isinstance(actor, Operator):
        raise UserError(f"the command line has no account of its own to {what}")
    return actor


def change_own_password(*, session: Session, actor: Actor, current: str, new: str) -> User:
    """A person changes their own password: the current one must be right. Every login of theirs ends,
    this one too: a copied cookie carries the same session as the browser it was copied from."""
    user = _own_account(session, actor, "change the password of")
    if not user.password_hash or not verify_password(current, user.password_hash):
        raise UserError("the current password is not right")
    if current == new:
        raise UserError("the new password must differ from the current one")
    user.password_hash = _checked_hash(new)
    user.must_change_password = False
    _touch(session, user)
    end_all_sessions(session=session, user=user, reason="new password")
    _record(session, user, "user.change_own_password", user)
    return user


def log_out(*, session: Session, actor: Actor) -> int:
    """A person logs out: every session of theirs ends, in every browser, not only this one's cookie; the
    number of sessions ended."""
    user = _own_account(session, actor, "log out of")
    audit.record(session=session, action="logout", actor=user)
    return end_all_sessions(session=session, user=user, reason="logout")


def login_credentials(*, session: Session) -> dict[str, Any]:
    """Active users with a password, in the shape streamlit-authenticator expects."""
    users = session.exec(
        select(User).where(col(User.active).is_(True), col(User.password_hash).is_not(None))
    ).all()
    return {
        "usernames": {
            user.username: {
                "name": user.name,
                "email": user.email or f"{user.username}@example.invalid",
                "password": user.password_hash,
                "roles": [user.role.value],
            }
            for user in users
        }
    }


def role_names() -> list[str]:
    return [role.value for role in Role]
