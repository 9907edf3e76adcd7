"""The admin's users screen: the table of people and the forms that change them, all through db/users.py
(which checks, again, that the acting person is an admin and logs every change)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import polars as pl
import streamlit as st

from db.access import AccessDenied
from db.models import Role, User, UserCreate
from db.users import (
    UserError,
    change_role,
    change_team,
    create_user,
    disable_user,
    list_teams,
    list_users,
    reset_password,
)
from ui.auth import ROLE_LABELS, signed_in_id
from ui.db import Session, act_as, read_as

NO_TEAM = "(no team)"
T = TypeVar("T")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def as_admin(change: Callable[[Session, User], T]) -> T | None:
    """Run one change in one unit of work, as the signed-in person; its value, or None once a refusal is
    shown on the page."""
    acted = act_as(signed_in_id(), change, (UserError,))
    if acted.refused is not None:
        st.error(_sentence(acted.refused), icon=":material/error:")
        return None
    return acted.value


@contextmanager
def politely() -> Iterator[None]:
    """Show a refused read as a message on the page, not as a stack trace."""
    try:
        yield
    except AccessDenied as denied:
        st.error(str(denied), icon=":material/block:")
    except UserError as problem:
        st.error(_sentence(str(problem)), icon=":material/error:")


def users_frame() -> pl.DataFrame:
    return read_as(signed_in_id(), _users_frame)


def _users_frame(session: Session, actor: User) -> pl.DataFrame:
    teams = {team.id: team.name for team in list_teams(session=session, actor=actor)}
    rows = [
        {
            "username": user.username,
            "name": user.name,
            "role": ROLE_LABELS[user.role],
            "team": teams.get(user.team_id, "") if user.team_id else "",
            "status": "active" if user.active else "disabled",
            "must change password": user.must_change_password,
        }
        for user in list_users(session=session, actor=actor)
    ]
    return pl.DataFrame(rows, schema=list(rows[0]) if rows else None, infer_schema_length=None)


def usernames(*, active_only: bool = False) -> list[str]:
    users = read_as(
        signed_in_id(),
        lambda session, actor: list_users(session=session, actor=actor, include_inactive=not active_only),
    )
    return [user.username for user in users]


def team_choices() -> list[str]:
    teams = read_as(signed_in_id(), lambda session, actor: list_teams(session=session, actor=actor))
    return [NO_TEAM, *(team.name for team in teams)]


def show_one_time_password(username: str, password: str) -> None:
    st.success(f"One-time password for {username}: give it to them; it is shown only now.")
    st.code(password, language=None)
    st.caption("They must choose their own password when they next log in.")


def add_user_form() -> None:
    with st.form("add_user", clear_on_submit=True):
        st.subheader("Add a user")
        username = st.text_input("Username")
        name = st.text_input("Full name")
        email = st.text_input("Email (optional)")
        role = st.selectbox("Role", list(Role), format_func=lambda r: ROLE_LABELS[r])
        team = st.selectbox("Team", team_choices(), accept_new_options=True)
        submitted = st.form_submit_button("Add user")
    if not submitted or role is None:
        return
    one_time = as_admin(lambda session, actor: _add(session, actor, username, name, email, role, team or ""))
    if one_time is not None:
        show_one_time_password(username.strip().lower(), one_time)


def _add(session: Session, actor: User, username: str, name: str, email: str, role: Role, team: str) -> str:
    user = create_user(
        session=session,
        actor=actor,
        user_in=UserCreate(
            username=username, name=name.strip() or username, email=email.strip() or None, role=role
        ),
    )
    if team and team != NO_TEAM:
        change_team(session=session, actor=actor, username=user.username, team_name=team)
    return reset_password(session=session, actor=actor, username=user.username)


def change_user_form() -> None:
    names = usernames()
    if not names:
        return
    with st.form("change_user"):
        st.subheader("Change a user")
        username = st.selectbox("User", names, key="change_user")
        role = st.selectbox("New role", [None, *Role], format_func=_role_choice, key="change_role")
        team = st.selectbox("New team", [None, *team_choices()], format_func=lambda t: t or "(keep)")
        submitted = st.form_submit_button("Save changes")
    if submitted and username:
        changed = as_admin(lambda session, actor: _change(session, actor, username, role, team))
        if changed:
            st.success(f"Saved the changes to {username}.")


def _role_choice(role: Role | None) -> str:
    return "(keep)" if role is None else ROLE_LABELS[role]


def _change(session: Session, actor: User, username: str, role: Role | None, team: str | None) -> bool:
    if role is not None:
        change_role(session=session, actor=actor, username=username, role=role)
    if team is not None:
        change_team(
            session=session, actor=actor, username=username, team_name=None if team == NO_TEAM else team
        )
    return True


def disable_or_reset_form() -> None:
    names = usernames(active_only=True)
    if not names:
        return
    with st.form("disable_or_reset"):
        st.subheader("Disable a user or reset a password")
        username = st.selectbox("User", names, key="account_user")
        left, right = st.columns(2)
        reset = left.form_submit_button("Reset password")
        disable = right.form_submit_button("Disable user", type="primary")
    if reset and username:
        one_time = as_admin(lambda s, actor: reset_password(session=s, actor=actor, username=username))
        if one_time is not None:
            show_one_time_password(username, one_time)
    if disable and username:
        disabled = as_admin(lambda s, actor: disable_user(session=s, actor=actor, username=username))
        if disabled is not None:
            st.success(f"{username} is disabled, and every login of theirs has ended.")
