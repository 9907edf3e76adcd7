"""The signed-in person's own account: changing their password, also the change forced after a reset."""

from __future__ import annotations

import streamlit as st

from db.users import UserError, change_own_password
from ui.auth import FLASH_KEY, CurrentUser, forget_login
from ui.db import act_as

PASSWORD_CHANGED = "Password changed. Log in again with your new password."
MUST_CHANGE = "An admin gave you a one-time password. Choose your own password to go on."


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def change_password(user: CurrentUser, *, current: str, new: str, again: str) -> str | None:
    """Change the person's own password; None when done, else the reason to show them."""
    if new != again:
        return "The two new passwords differ."
    problem = act_as(
        user.id,
        lambda session, actor: change_own_password(session=session, actor=actor, current=current, new=new),
        (UserError,),
    ).refused
    return _sentence(problem) if problem else None


def change_password_form(user: CurrentUser) -> None:
    with st.form("change_password", clear_on_submit=True):
        st.subheader("Change your password")
        current = st.text_input("Current password", type="password", autocomplete="current-password")
        new = st.text_input("New password", type="password", autocomplete="new-password")
        again = st.text_input("New password again", type="password", autocomplete="new-password")
        st.caption("At least 10 characters; the commonest passwords are refused.")
        submitted = st.form_submit_button("Change password")
    if not submitted:
        return
    problem = change_password(user, current=current, new=new, again=again)
    if problem:
        st.error(problem, icon=":material/error:")
        return
    # Every session of this person has ended, this one too: log in again with the new password.
    forget_login()
    st.session_state[FLASH_KEY] = PASSWORD_CHANGED
    st.rerun()


def forced_password_change(user: CurrentUser) -> None:
    st.title("Choose your password")
    st.info(MUST_CHANGE, icon=":material/password:")
    change_password_form(user)
