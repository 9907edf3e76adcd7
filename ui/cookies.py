"""The one place Huddle runs its own script in the page: writing the remember-me cookie.

Streamlit cannot set a cookie from Python. The login widget's cookie component often loses the race with
the rerun that follows a login or logout, so the cookie is written (or expired) once more from the next
page. The value is a signed token we made; it is still escaped, as any value put into a script must be.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import streamlit as st

PENDING_COOKIE = "huddle_cookie_pending"


def cookie_script(name: str, value: str, expires_at: float | None) -> str:
    expires = (
        datetime.fromtimestamp(expires_at, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
        if expires_at is not None
        else "Thu, 01 Jan 1970 00:00:00 GMT"
    )
    cookie = f"{name}={value}; expires={expires}; path=/; SameSite=Strict"
    literal = json.dumps(cookie).replace("<", "\\u003c")
    return f"<script>document.cookie = {literal};</script>"


def write_pending_cookie() -> None:
    """Write (or, after logout, expire) the remember-me cookie from this page, once."""
    pending = st.session_state.pop(PENDING_COOKIE, None)
    if pending:
        name, value, expires_at = pending
        st.html(cookie_script(str(name), str(value), expires_at), unsafe_allow_javascript=True)
