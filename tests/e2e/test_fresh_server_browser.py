"""A freshly started server answers its very first request, a deep link, inside Huddle's own frame.

A restart, an upgrade or a second replica hands every open tab to a server that has served nobody yet.
Streamlit decides once per process, on its first session, whether the app is an old-style multipage app:
with a `pages/` folder beside app.py it ran that first request as one, inside its own page list made from
the file names ("app, account, admin users, audit log, ...") with no Huddle navigation, user block or
Log out, and answered file-name addresses such as /audit_log. Huddle's screens live in `screens/`, so
every request, the first included, goes through app.py's login gate and navigation.

Each case starts its own server, so the page under test is that server's first session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from db.access import OPERATOR
from db.engine import make_engine, write_session
from db.models import Role, UserCreate
from db.users import create_user, get_user
from tests.e2e.conftest import PROJECT_ROOT, screenshot, settle, streamlit_server
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in, _login_cookie
from ui.navigation import PAGES, pages_for

pytestmark = pytest.mark.e2e
USERNAME, PASSWORD = "fresh-server-admin", "a-long-fresh-server-password"
# The entries Streamlit's own page list would show: the main script and every screen by its file name.
FILE_NAMED = frozenset({"app", *(Path(page.path).stem.replace("_", " ") for page in PAGES)})


def test_no_pages_folder_beside_the_app() -> None:
    """The cause, kept out: Streamlit treats any `pages/` folder beside the main script as its own
    multipage app on a fresh process's first request."""
    assert not (PROJECT_ROOT / "pages").exists(), "a pages/ folder beside app.py makes Streamlit's own frame"
    assert all(page.path.startswith("screens/") for page in PAGES)


def nav_entries(page: Any) -> list[tuple[str, str]]:
    """(title, address) of every entry of the sidebar's page list, Huddle's or Streamlit's own."""
    links = page.locator("[data-testid=stSidebarNav] a")
    entries = []
    for index in range(links.count()):
        link = links.nth(index)
        lines = [line.strip() for line in link.inner_text().splitlines() if line.strip()]
        title = lines[-1]  # after the icon's name
        entries.append((title, (link.get_attribute("href") or "").rstrip("/").rsplit("/", 1)[-1]))
    return entries


def settled_nav_entries(page: Any, expected: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The page list once it reads `expected`, or as it reads after TIMEOUT_MS. A tab that reconnects to a
    restarted server still shows the old run's heading while its rerun clears and redraws the sidebar, so one
    look can land between the two."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    entries = nav_entries(page)
    while entries != expected and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        entries = nav_entries(page)
    return entries


def assert_no_streamlit_page_list(page: Any) -> None:
    named_after_files = [title for title, _ in nav_entries(page) if title in FILE_NAMED]
    assert not named_after_files, f"Streamlit's own page list, made from file names: {named_after_files}"


def assert_huddle_frame(page: Any, role: str, name: str) -> None:
    """Huddle's navigation for `role` (titles and addresses), the user block and Log out, and nothing else
    in the page list."""
    assert_no_streamlit_page_list(page)
    expected = [(spec.title, spec.url_path) for spec in pages_for(role)]
    assert settled_nav_entries(page, expected) == expected
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_role("button", name="Log out").is_visible()
    assert sidebar.get_by_text(name, exact=True).is_visible()


def arrive(page: Any, heading: str) -> None:
    """Wait for the page's heading; when it never comes, say first whether Streamlit's own frame came."""
    try:
        page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=TIMEOUT_MS)
    except Exception:
        assert_no_streamlit_page_list(page)
        raise
    settle(page)


def assert_login_frame(page: Any) -> None:
    try:
        page.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)
    except Exception:
        assert_no_streamlit_page_list(page)
        raise
    settle(page)
    assert page.get_by_text("Log in to Huddle").is_visible()
    assert not page.locator("[data-testid=stSidebarNav]").count(), "the login page lists no pages"
    assert not page.get_by_role("button", name="Log out").count()


@pytest.fixture(scope="module")
def kept_login(browser: Any, demo_server: str, demo_database: str) -> Iterator[list[dict[str, Any]]]:
    """The login cookie of an admin who logged in on the suite's demo server (same database and key as
    the fresh servers below): what every open tab carries to a restarted or another server."""
    engine = make_engine(demo_database)
    with write_session(engine) as session:
        if get_user(session=session, username=USERNAME) is None:
            create_user(
                session=session,
                actor=OPERATOR,
                user_in=UserCreate(username=USERNAME, name="Fresh Admin", role=Role.admin, password=PASSWORD),
            )
    engine.dispose()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _log_in(page, demo_server, USERNAME, PASSWORD)
        page.get_by_role("heading", name="Overview").wait_for(timeout=TIMEOUT_MS)  # an admin's home
        cookies = _login_cookie(page, context)
        assert cookies, "logging in remembers the login in a cookie"
        yield cookies
    finally:
        context.close()


@pytest.fixture
def fresh_server(demo_database: str) -> Iterator[str]:
    """A server started for this test alone, over the suite's demo database: nobody has opened it yet."""
    with streamlit_server(demo_database, name="fresh") as base:
        yield base


def _first_request(browser: Any, cookies: list[dict[str, Any]] | None, url: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    page.goto(url)
    return context, page


def test_a_deep_link_is_the_fresh_servers_first_request(
    browser: Any, kept_login: list[dict[str, Any]], fresh_server: str
) -> None:
    context, page = _first_request(browser, kept_login, f"{fresh_server}/funnel?period=last_quarter")
    try:
        arrive(page, "Funnel")
        assert_huddle_frame(page, "admin", "Fresh Admin")
        assert page.url.endswith("/funnel?period=last_quarter"), page.url
        screenshot(page, "fresh-server-deep-link")
    finally:
        context.close()


def test_a_file_name_address_is_no_page_on_a_fresh_server(
    browser: Any, kept_login: list[dict[str, Any]], fresh_server: str
) -> None:
    """/audit_log is the screen's file name, not its address (/audit-log): Huddle's frame opens the
    person's home instead, and the screen behind the file name is not run."""
    context, page = _first_request(browser, kept_login, f"{fresh_server}/audit_log")
    try:
        arrive(page, "Overview")
        assert_huddle_frame(page, "admin", "Fresh Admin")
        assert not page.get_by_role("heading", name="Audit log").count()
        assert not page.url.rstrip("/").endswith("/audit_log"), page.url
    finally:
        context.close()


def test_a_file_name_address_without_login_shows_the_login_page(browser: Any, fresh_server: str) -> None:
    context, page = _first_request(browser, None, f"{fresh_server}/audit_log")
    try:
        assert_login_frame(page)
        assert not page.get_by_role("heading", name="Audit log").count()
        screenshot(page, "fresh-server-logged-out")
    finally:
        context.close()
