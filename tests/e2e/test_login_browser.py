"""Log in as each demo account in real Chromium, see the pages of that role, log out."""

from __future__ import annotations

from typing import Any

import pytest

from db.models import Role
from tests.e2e.conftest import readme_picture, screenshot
from ui.navigation import home_for, pages_for

pytestmark = pytest.mark.e2e
ACCOUNTS = {
    "rep": Role.rep,
    "manager": Role.sales_manager,
    "marketer": Role.marketer,
    "exec": Role.executive,
    "admin": Role.admin,
}
TIMEOUT_MS = 30_000
# The screen each account lands on after logging in.
HOME = {username: home_for(role.value).title for username, role in ACCOUNTS.items()}


def _log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(base)
    page.get_by_label("Username").wait_for(timeout=TIMEOUT_MS)
    page.get_by_label("Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _login_cookie(page: Any, context: Any, seconds: float = 15) -> list[dict[str, Any]]:
    """The remember-me cookie, which a component writes in the browser a moment after login."""
    for _ in range(int(seconds * 4)):
        kept = [cookie for cookie in context.cookies() if cookie["name"] == "huddle_auth"]
        if kept:
            return kept
        page.wait_for_timeout(250)
    return []


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_each_demo_account_sees_its_pages_and_can_log_out(
    browser: Any, demo_server: str, username: str
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _log_in(page, demo_server, username, "huddle-demo")
        page.get_by_role("heading", name=HOME[username]).wait_for(timeout=TIMEOUT_MS)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_role("link", name="Overview").click()
        page.get_by_role("heading", name="Overview").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("Win rate").first.wait_for(timeout=TIMEOUT_MS)
        for spec in pages_for(ACCOUNTS[username].value):
            if len(pages_for(ACCOUNTS[username].value)) > 1:
                assert sidebar.get_by_role("link", name=spec.title, exact=True).is_visible()
        page.wait_for_timeout(1500)  # let the chart draw before the picture
        shot = screenshot(page, f"overview-{username}")
        if username == "exec":
            readme_picture(shot, "overview.png")
        sidebar.get_by_role("button", name="Log out").click()
        page.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)
        page.reload()
        page.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)
        assert not page.get_by_text("Win rate").count()
    finally:
        context.close()


def test_wrong_password_says_only_that(browser: Any, demo_server: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _log_in(page, demo_server, "exec", "wrong-password")
        page.get_by_text("Wrong username or password.").wait_for(timeout=TIMEOUT_MS)
        assert not page.get_by_text("Win rate").count()
        page.get_by_label("Username").fill("")
        screenshot_path = screenshot(page, "login-wrong-password")
        assert screenshot_path.exists()
    finally:
        context.close()


def test_login_page_lists_the_demo_accounts(browser: Any, demo_server: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        page.goto(demo_server)
        page.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)
        table = page.get_by_test_id("stTable")
        table.get_by_text("admin", exact=True).wait_for(timeout=TIMEOUT_MS)
        for username in ACCOUNTS:
            assert table.get_by_text(username, exact=True).count() == 1
        page.wait_for_timeout(500)
        readme_picture(screenshot(page, "login"), "login.png")
    finally:
        context.close()


def test_overview_on_a_phone(browser: Any, demo_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        _log_in(page, demo_server, "rep", "huddle-demo")
        page.get_by_role("heading", name=HOME["rep"]).wait_for(timeout=TIMEOUT_MS)
        assert _login_cookie(page, context), "the login cookie was never written"  # else goto logs us out
        page.goto(f"{demo_server}/overview")
        page.get_by_text("Win rate").first.wait_for(timeout=TIMEOUT_MS)
        box = page.get_by_test_id("stMetric").first.bounding_box()
        assert box is not None and box["width"] <= 390
        screenshot(page, "overview-phone")
    finally:
        context.close()


def test_a_cookie_kept_from_before_logout_no_longer_logs_in(browser: Any, demo_server: str) -> None:
    """Logging out ends the session on the server, even when the browser keeps (or someone copied) the cookie."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _log_in(page, demo_server, "marketer", "huddle-demo")
        page.get_by_role("heading", name=HOME["marketer"]).wait_for(timeout=TIMEOUT_MS)
        kept = _login_cookie(page, context)
        assert kept, "logging in remembers the login in a cookie"
        page.reload()
        page.get_by_role("heading", name=HOME["marketer"]).wait_for(timeout=TIMEOUT_MS)  # works before logout
        page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").click()
        page.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)
    finally:
        context.close()
    replay = browser.new_context(viewport={"width": 1440, "height": 900})
    replay.add_cookies(kept)
    page = replay.new_page()
    try:
        page.goto(demo_server)
        page.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)
        assert not page.get_by_role("heading", name=HOME["marketer"]).count()
    finally:
        replay.close()
