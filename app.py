"""Huddle: the frame around every page — page config, the login gate, and the pages of the user's role."""

from pathlib import Path

import streamlit as st

from ui.account import forced_password_change
from ui.auth import CookieKeyMissing, authenticator, login_page, sidebar_account, signed_in_user
from ui.db import require_database
from ui.logs import errors_logged, start_logging
from ui.navigation import PAGES, home_for, pages_for
from ui.widgets import pending_toasts

# The tab's icon is a file of ours that Streamlit serves from its own /media/ address: a ":material/..." or
# emoji icon would make every browser fetch it from an outside host (and go without on a closed network).
ICON = Path(__file__).resolve().parent / "ui" / "assets" / "huddle-icon.png"
st.set_page_config(page_title="Huddle", page_icon=str(ICON), layout="wide")
start_logging()
engine = require_database()
try:
    widget = authenticator(engine)
except CookieKeyMissing as problem:
    st.error(
        f"Huddle will not start: {problem}. Set `cookie_key` in .streamlit/secrets.toml or the "
        "HUDDLE_COOKIE_KEY environment variable to a random value of at least 32 bytes, e.g. "
        "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
        icon=":material/key:",
    )
    st.stop()

user = signed_in_user(engine, widget)
if user is None:
    # Every page's address shows the login form, so a shared link (say /funnel?period=last_quarter)
    # survives logging in: a page is identified by its address, and after login the same address is the
    # real page, query string and all.
    show_login = lambda: login_page(engine, widget)  # noqa: E731
    st.navigation(
        [
            st.Page(show_login, title="Log in", url_path="login", default=True),
            *(st.Page(show_login, title="Log in", url_path=p.url_path) for p in PAGES),
        ],
        position="hidden",
    ).run()
    user = signed_in_user(engine, widget)
    if user is None:
        st.stop()
    st.rerun()

if user.must_change_password:
    # After a password reset the one-time password opens only this form, whatever the address.
    change = lambda: forced_password_change(user)  # noqa: E731
    st.navigation(
        [
            st.Page(change, title="Choose your password", url_path="change-password", default=True),
            *(st.Page(change, title="Choose your password", url_path=p.url_path) for p in PAGES),
        ],
        position="hidden",
    ).run()
    st.stop()

pages = {
    p.url_path: st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path) for p in pages_for(user.role)
}
home = pages[home_for(user.role).url_path]
# The bare address (and the first screen after logging in there) opens the role's home by its own address,
# so every screen keeps a link of its own: /weekly-sync?present=1 works for everyone it is shown to.
go_home = lambda: st.switch_page(home)  # noqa: E731
landing = st.Page(go_home, title="Home", url_path="home", default=True, visibility="hidden")
# Every page of the role listed, none behind "View more": a sales manager has thirteen.
navigation = st.navigation([landing, *pages.values()], expanded=True)
if navigation is landing:
    # Before the sidebar: a cookie still to be written after login must reach the page that stays.
    st.switch_page(home)
sidebar_account(user, widget)
pending_toasts()
with errors_logged(navigation.url_path or "home"):
    navigation.run()
