"""A cookie copied from one browser into another stops working, in the other browser too, once the first
logs out, changes the password, or the person is disabled: sessions end on the server, not in a cookie."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from db.access import OPERATOR
from db.engine import make_engine, write_session
from db.models import Role, UserCreate
from db.users import create_user, disable_user
from tests.e2e.conftest import screenshot, settle
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in, _login_cookie

pytestmark = pytest.mark.e2e
PASSWORD = "a-long-e2e-password"
NEW_PASSWORD = "another-long-e2e-password"


def _add_person(database_url: str, username: str) -> None:
    engine = make_engine(database_url)
    with write_session(engine) as session:
        create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(
                username=username, name=username.title(), role=Role.executive, password=PASSWORD
            ),
        )
    engine.dispose()


def _signed_in(page: Any) -> None:
    page.get_by_role("heading", name="Weekly sync").wait_for(timeout=TIMEOUT_MS)  # an executive's home
    settle(page)


@pytest.fixture
def two_browsers(browser: Any) -> Iterator[tuple[Any, Any, Any]]:
    """The first browser (context and page) and a second page to be given the first one's cookie."""
    first = browser.new_context(viewport={"width": 1280, "height": 800})
    second = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield first, first.new_page(), second
    finally:
        first.close()
        second.close()


def _copy_login(demo_server: str, username: str, first: Any, page: Any, second: Any) -> Any:
    """Log in in the first browser, then open the app in the second with a copy of the cookie."""
    _log_in(page, demo_server, username, PASSWORD)
    _signed_in(page)
    cookies = _login_cookie(page, first)
    assert cookies, "logging in remembers the login in a cookie"
    second.add_cookies(cookies)
    replay = second.new_page()
    replay.goto(demo_server)
    _signed_in(replay)  # the copied cookie works, as a stolen one would
    return replay


def _is_back_at_the_login_form(replay: Any, name: str) -> None:
    # The next thing the second browser does (here: open another page) is checked against the session.
    replay.get_by_test_id("stSidebar").get_by_role("link", name="Funnel").click()
    replay.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)
    settle(replay)
    assert not replay.get_by_role("heading", name="Funnel").count()
    assert not replay.get_by_role("button", name="Log out").count()
    screenshot(replay, f"copied-cookie-after-{name}")
    replay.reload()
    replay.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)
    assert not replay.get_by_role("heading", name="Weekly sync").count()


def _log_out(page: Any, _database: str, _username: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)


def _change_password(page: Any, _database: str, _username: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name="My account").click()
    page.get_by_role("heading", name="My account").wait_for(timeout=TIMEOUT_MS)
    settle(page)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Password changed. Log in again with your new password.").wait_for(timeout=TIMEOUT_MS)


def _disable(_page: Any, database: str, username: str) -> None:
    engine = make_engine(database)
    with write_session(engine) as session:
        disable_user(session=session, actor=OPERATOR, username=username)
    engine.dispose()


ENDINGS: dict[str, Callable[[Any, str, str], None]] = {
    "logout": _log_out,
    "password-change": _change_password,
    "disable": _disable,
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_copied_cookie_stops_working_in_the_other_browser(
    two_browsers: tuple[Any, Any, Any], demo_server: str, demo_database: str, ending: str
) -> None:
    username = f"copied-{ending}"
    _add_person(demo_database, username)
    first, page, second = two_browsers
    replay = _copy_login(demo_server, username, first, page, second)
    ENDINGS[ending](page, demo_database, username)
    _is_back_at_the_login_form(replay, ending)
    if ending == "password-change":
        _log_in(page, demo_server, username, NEW_PASSWORD)  # the new password works
        _signed_in(page)
