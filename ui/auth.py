"""Login with streamlit-authenticator against the users table, and who is logged in.

The widget only sees active users that have a password; the database stays the truth about roles.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from db.demo_accounts import DEMO_PASSWORD
from db.engine import read_session, write_session
from db.logins import LoginOutcome, check_login
from db.models import Role
from db.sessions import (
    needs_no_write,
    session_is_live,
    session_key,
    start_session,
    use_session,
)
from db.settings import PROJECT_ROOT, cookie_key_problem, get_settings
from db.users import get_user, log_out, login_credentials
from ui.cookies import PENDING_COOKIE, write_pending_cookie
from ui.db import Engine, act_as

# One message for an unknown user, a wrong password and a locked account: it tells an attacker nothing.
WRONG_LOGIN = "Wrong username or password."
DEMO_ACCOUNTS = (
    ("rep", "Sales rep"),
    ("manager", "Sales manager"),
    ("marketer", "Marketer"),
    ("exec", "Executive"),
    ("admin", "Admin"),
)
DEMO_KEY_FILE = PROJECT_ROOT / "data" / "cookie_key"
USER_KEY = "huddle_user"
SESSION_KEY = "huddle_session_key"
FLASH_KEY = "huddle_flash"
ROLE_LABELS: dict[Role, str] = {
    Role.rep: "Sales rep",
    Role.sales_manager: "Sales manager",
    Role.marketer: "Marketer",
    Role.executive: "Executive",
    Role.admin: "Admin",
}


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    name: str
    role: Role
    team_id: int | None
    must_change_password: bool = False

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


class CookieKeyMissing(RuntimeError):
    """Outside demo mode the app needs a real secret to sign login cookies."""


def is_demo() -> bool:
    return get_settings().huddle_demo


def _secret_cookie_key() -> str:
    try:
        return str(st.secrets.get("cookie_key", ""))
    except (FileNotFoundError, ValueError):
        # No (or an unreadable) secrets.toml simply means the key is not kept there.
        return ""


def _demo_cookie_key(path: Path = DEMO_KEY_FILE) -> str:
    """A random key made on the first demo run and kept, so logins survive a restart."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def cookie_key() -> str:
    """secrets.toml, then HUDDLE_COOKIE_KEY, then (demo mode only) a generated key under data/."""
    key = _secret_cookie_key() or get_settings().huddle_cookie_key
    if not key and is_demo():
        key = _demo_cookie_key()
    problem = cookie_key_problem(key)
    if problem:
        raise CookieKeyMissing(problem)
    return key


def _checked_in_database(engine: Engine) -> Callable[[str, str], bool]:
    """The widget's credential check, replaced: lockout, equal cost for unknown users, every try recorded.
    It runs exactly once per submitted login form."""

    def check(username: str, password: str) -> bool:
        with write_session(engine) as session:
            return check_login(session=session, username=username, password=password) is LoginOutcome.ok

    return check


def authenticator(engine: Engine) -> stauth.Authenticate:
    with read_session(engine) as session:
        credentials = login_credentials(session=session)
    settings = get_settings()
    widget = stauth.Authenticate(
        credentials,
        cookie_name=settings.huddle_cookie_name,
        cookie_key=cookie_key(),
        cookie_expiry_days=settings.huddle_cookie_expiry_days,
        auto_hash=False,
    )
    model = widget.authentication_controller.authentication_model
    model.check_credentials = _checked_in_database(engine)
    cookies = widget.cookie_controller.cookie_model
    cookies.set_cookie = _remembered(cookies, engine)
    cookies.get_cookie = _only_live_cookies(cookies.get_cookie, engine)
    return widget


def _remembered(cookies: Any, engine: Engine) -> Callable[[], None]:
    """Issue the cookie as before, and record it as a live server-side session."""
    issue = cookies.set_cookie

    def issue_and_record() -> None:
        issue()
        username = str(st.session_state.get("username") or "")
        if cookies.exp_date is None or not username:
            return
        key = session_key(username, cookies.exp_date)
        with write_session(engine) as session:
            user = get_user(session=session, username=username)
            if user is not None:
                start_session(session=session, user=user, key=key)
        st.session_state[SESSION_KEY] = key
        # The widget's cookie component often loses the race with the rerun that follows a login, so
        # the cookie is written once more by the next page the person sees.
        st.session_state[PENDING_COOKIE] = (cookies.cookie_name, cookies._token_encode(), cookies.exp_date)

    return issue_and_record


def _only_live_cookies(read: Callable[[], Any], engine: Engine) -> Callable[[], Any]:
    """A validly signed cookie still logs nobody in once its session has ended."""

    def read_live() -> Any:
        token = read()
        if not token:
            return token
        key = session_key(str(token.get("username", "")), token.get("exp_date", 0.0))
        with read_session(engine) as session:
            live = session_is_live(session=session, key=key, username=str(token.get("username", "")))
        if not live:
            return None
        st.session_state[SESSION_KEY] = key
        return token

    return read_live


def current_user(engine: Engine, username: str) -> CurrentUser | None:
    """The logged-in person as the database knows them now; None when disabled or gone."""
    with read_session(engine) as session:
        user = get_user(session=session, username=username)
        if user is None or not user.active or user.id is None:
            return None
        return CurrentUser(
            id=user.id,
            username=user.username,
            name=user.name,
            role=Role(user.role),
            team_id=user.team_id,
            must_change_password=user.must_change_password,
        )


def _session_still_live(engine: Engine, username: str) -> bool:
    """Every rerun asks the database: a logout elsewhere, a new password or a disabled account ends this
    login at once, even in a browser that holds a copied cookie."""
    key = st.session_state.get(SESSION_KEY)
    if not key:
        return False
    with read_session(engine) as session:
        if needs_no_write(session=session, key=str(key), username=username):
            return True
    with write_session(engine) as session:
        return use_session(session=session, key=str(key), username=username)


def _login_form(widget: stauth.Authenticate) -> None:
    fields = {
        "Form name": "Log in to Huddle",
        "Username": "Username",
        "Password": "Password",
        "Login": "Log in",
    }
    try:
        widget.login(location="main", fields=fields)
    except LoginError:
        # The widget raises for a still-valid cookie of a user who may no longer log in.
        st.session_state["authentication_status"] = None
    if st.session_state.get("authentication_status") is False:
        st.error(WRONG_LOGIN, icon=":material/lock:")


def demo_accounts_table() -> None:
    st.markdown(f"**Demo accounts** — every password is `{DEMO_PASSWORD}`")
    st.table({"Username": [u for u, _ in DEMO_ACCOUNTS], "Role": [r for _, r in DEMO_ACCOUNTS]})


def demo_banner() -> None:
    if is_demo():
        st.info("Demo company: every name and number here is made up.", icon=":material/science:")


def show_flash() -> None:
    """A message left for the next page (e.g. for the login form after a password change)."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(str(message), icon=":material/check_circle:")


def login_page(engine: Engine, widget: stauth.Authenticate) -> None:
    st.title("Huddle")
    st.caption("One set of numbers and one feedback loop for Sales and Marketing.")
    demo_banner()
    show_flash()
    write_pending_cookie()  # before the form: a login in this run leaves its cookie for the next page
    _login_form(widget)
    if is_demo():
        demo_accounts_table()


def signed_in_user(engine: Engine, widget: stauth.Authenticate) -> CurrentUser | None:
    """Who is logged in after the widget has looked at the form and the cookie."""
    if not st.session_state.get("authentication_status"):
        st.session_state.pop(USER_KEY, None)
        return None
    username = str(st.session_state.get("username") or "")
    user = current_user(engine, username) if _session_still_live(engine, username) else None
    if user is None:
        forget_login()
        return None
    st.session_state[USER_KEY] = user
    return user


def forget_login() -> None:
    """This browser tab is logged out; the widget will look at (and refuse) its cookie again."""
    st.session_state["authentication_status"] = None
    st.session_state["username"] = None
    for key in (USER_KEY, SESSION_KEY):
        st.session_state.pop(key, None)


def sidebar_account(user: CurrentUser, widget: stauth.Authenticate) -> None:
    with st.sidebar:
        # Names may come from an imported file: shown as plain text, never as markdown.
        st.text(user.name)
        st.caption(user.role_label)
        if st.button("Log out", icon=":material/logout:", key="huddle_logout", width="stretch"):
            _log_out(widget, user)
        write_pending_cookie()


def _log_out(widget: stauth.Authenticate, user: CurrentUser) -> None:
    """Logging out ends every session of this person, in every browser, not only this cookie."""
    act_as(user.id, lambda session, actor: log_out(session=session, actor=actor))
    st.session_state.pop(SESSION_KEY, None)
    widget.logout(location="unrendered")
    st.session_state.pop(USER_KEY, None)
    name = widget.cookie_controller.cookie_model.cookie_name
    st.session_state[PENDING_COOKIE] = (name, "", None)
    st.rerun()


def signed_in_id() -> int | None:
    """The id of the person signed in in this browser tab, for ui.db.act_as and ui.db.read_as."""
    user = st.session_state.get(USER_KEY)
    return user.id if user is not None else None


def require_role(*roles: str) -> CurrentUser:
    """Stop the page unless the signed-in person has one of `roles`; navigation hides it, this enforces it."""
    user = st.session_state.get(USER_KEY)
    if user is None or user.role not in roles:
        st.error("This page is not available to your role.", icon=":material/block:")
        st.stop()
    return user
