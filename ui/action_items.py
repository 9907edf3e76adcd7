"""The weekly sync's decisions and action items: the week's list with a Done button for whoever may close
an item, and the form that adds one. Every write goes through db/action_items.py, which checks again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from db.action_items import (
    ActionItemRefused,
    ActionItemView,
    add_item,
    close_item,
    default_due_date,
    items_for_week,
    may_close,
    possible_owners,
    reopen_item,
)
from db.engine import read_session
from db.models import User
from ui.auth import CurrentUser
from ui.db import act_as, engine
from ui.widgets import plain


def week_items(week: str) -> list[ActionItemView]:
    """The items the meeting of `week` looks at; read fresh, they change during the meeting."""
    with read_session(engine()) as session:
        return items_for_week(session, week)


def _owners() -> dict[int, str]:
    with read_session(engine()) as session:
        return dict(possible_owners(session))


def _write(user: CurrentUser, call: Callable[[Any, User], object]) -> str | None:
    return act_as(user.id, call, (ActionItemRefused,)).refused


def _done(problem: str | None, flash_key: str, message: str) -> None:
    if problem:
        st.error(problem, icon=":material/block:")
        return
    st.session_state[flash_key] = message
    st.rerun()


# ---------------------------------------------------------------- the list


def describe_item(item: ActionItemView) -> str:
    """One line of markdown: the title, its owner and due date, and where it stands."""
    due = f"due {item.due_date:%b %d}" if item.due_date else "no due date"
    parts = [f"**{plain(item.title)}**", plain(item.owner), due]
    if item.carried_over:
        parts.append(f"carried over from {plain(item.meeting_week)}")
    if item.closed_at is not None:
        parts.append(f"done {item.closed_at:%b %d} by {plain(item.closed_by or 'someone')}")
    elif item.overdue:
        parts.append(":red[overdue]")
    return " · ".join(parts)


def _item_row(user: CurrentUser, item: ActionItemView, key: str) -> None:
    text, button = st.columns([6, 1], vertical_alignment="center")
    icon = ":material/radio_button_unchecked:" if item.is_open else ":material/check_circle:"
    text.markdown(f"{icon} {describe_item(item)}")
    if not may_close(role=user.role, user_id=user.id, owner_id=item.owner_id):
        return
    flash = f"{key}_flash"
    if item.is_open and button.button("Done", key=f"{key}_done_{item.id}", icon=":material/check:"):
        problem = _write(user, lambda s, a: close_item(session=s, actor=a, item_id=item.id))
        _done(problem, flash, f"Done: {plain(item.title)}")
    elif not item.is_open and button.button("Reopen", key=f"{key}_reopen_{item.id}", type="tertiary"):
        problem = _write(user, lambda s, a: reopen_item(session=s, actor=a, item_id=item.id))
        _done(problem, flash, f"Reopened: {plain(item.title)}")


def _add_form(user: CurrentUser, week: str, key: str) -> None:
    owners = _owners()
    with st.form(f"{key}_add", clear_on_submit=True, border=False):
        title = st.text_input("What is to be done", max_chars=500, key=f"{key}_title")
        left, right = st.columns(2)
        owner = left.selectbox(
            "Owner",
            list(owners),
            index=list(owners).index(user.id) if user.id in owners else 0,
            format_func=lambda owner_id: owners.get(owner_id, "?"),
            key=f"{key}_owner",
        )
        due = right.date_input("Due", value=default_due_date(week), key=f"{key}_due")
        sent = st.form_submit_button("Add", type="primary", icon=":material/add:")
    if not sent:
        return
    if not title.strip() or owner is None:
        st.warning("Write what is to be done and pick its owner first.", icon=":material/edit:")
        return
    problem = _write(
        user,
        lambda s, a: add_item(
            session=s, actor=a, title=title, owner_id=int(owner), due_date=due, meeting_week=week
        ),
    )
    _done(problem, f"{key}_flash", f"Added: {plain(title.strip())}")


def action_items_section(user: CurrentUser, week: str, *, key: str = "actions") -> None:
    """The week's action items (open ones carried over from earlier weeks marked) and the add form."""
    message = st.session_state.pop(f"{key}_flash", None)
    if message:
        st.success(str(message), icon=":material/check_circle:")
    items = week_items(week)
    if not items:
        st.caption("No action items for this week yet, and none left open from earlier weeks.")
    for item in items:
        _item_row(user, item, key)
    with st.expander("Add an action item", icon=":material/add_task:"):
        _add_form(user, week, key)
