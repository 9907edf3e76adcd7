"""People: create, list, disable, set passwords, and the credentials the login widget checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from db import audit
from db.models import Role, Team, User, UserCreate, utcnow
from db.passwords import hash_password, password_problem
from db.sessions import end_all_sessions


class UserError(ValueError):
    """A user change that cannot be made, with a message fit for the person who asked."""


def get_user(*, session: Session, username: str) -> User | None:
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


def create_user(*, session: Session, user_in: UserCreate, actor: User | None = None) -> User:
    """Add a user; the password (when given) must pass the password rules."""
    username = user_in.username.strip().lower()
    if not username:
        raise UserError("a username is required")
    if get_user(session=session, username=username) is not None:
        raise UserError(f"the username {username!r} is taken")
    password_hash = None
    if user_in.password is not None:
        problem = password_problem(user_in.password)
        if problem:
            raise UserError(problem)
        password_hash = hash_password(user_in.password)
    user = User.model_validate(user_in, update={"username": username, "password_hash": password_hash})
    session.add(user)
    session.flush()
    audit.record(
        session=session,
        action="user.create",
        actor=actor,
        object_type="user",
        object_id=user.username,
        detail=f"role={user.role.value}",
    )
    return user


def list_users(*, session: Session, include_inactive: bool = True) -> Sequence[User]:
    query = select(User).order_by(col(User.username))
    if not include_inactive:
        query = query.where(col(User.active).is_(True))
    return session.exec(query).all()


def disable_user(*, session: Session, username: str, actor: User | None = None) -> User:
    user = require_user(session=session, username=username)
    user.active = False
    user.updated_at = utcnow()
    session.add(user)
    end_all_sessions(session=session, user=user, reason="disabled")
    audit.record(
        session=session,
        action="user.disable",
        actor=actor,
        object_type="user",
        object_id=user.username,
    )
    return user


def set_password(*, session: Session, username: str, password: str, actor: User | None = None) -> User:
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    user = require_user(session=session, username=username)
    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.updated_at = utcnow()
    session.add(user)
    # A new password is often set because the old one leaked: remembered logins go with it.
    end_all_sessions(session=session, user=user, reason="new password")
    audit.record(
        session=session,
        action="user.set_password",
        actor=actor,
        object_type="user",
        object_id=user.username,
    )
    return user


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
