"""No request leaves the server: every page of every role, opened in Chromium, asks nothing of any host but
Huddle's own — not for the tab's icon, a font, an icon font, a chart library or an image.

One browser context per role: log in (the login page's own requests count too), open each of the role's
pages once from the sidebar, let it settle, and record every request and websocket the pages make. A
request to another host is refused on the spot (so the test behaves as on a closed network) and fails the
test by its address.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from db.demo import DEMO_PASSWORD
from tests.e2e.conftest import settle
from tests.pages.conftest import DEMO_USERS
from ui.navigation import home_for, pages_for

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 30_000
# Addresses that never reach a network: inline images and fonts, blobs a page builds itself.
LOCAL_SCHEMES = {"data", "blob", "about"}


def _on_own_host(url: str, own: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and parts.netloc == own


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(base)
    page.get_by_label("Username").wait_for(timeout=TIMEOUT_MS)
    page.get_by_label("Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _open_from_sidebar(page: Any, title: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    link = sidebar.get_by_role("link", name=title, exact=True)
    if not link.is_visible():
        # A long page list folds its tail under "View N more".
        more = sidebar.get_by_role("button", name=re.compile(r"^View \d+ more$"))
        if more.count():
            more.first.click()
    link.click()


def _icon_links(page: Any) -> list[str]:
    return list(
        page.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')].map((link) => link.href)")
    )


@pytest.mark.parametrize("role", list(DEMO_USERS))
def test_no_page_of_any_role_asks_another_host(browser: Any, demo_server: str, role: str) -> None:
    own = urlsplit(demo_server).netloc
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    requested: list[str] = []
    refused: list[str] = []
    context.on("request", lambda request: requested.append(request.url))

    def refuse(route: Any) -> None:
        refused.append(route.request.url)
        route.abort("internetdisconnected")

    context.route(lambda url: not _on_own_host(url, own), refuse)
    page = context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    opened: list[str] = []
    icons: set[str] = set()
    icon_types: list[str] = []
    try:
        _log_in(page, demo_server, DEMO_USERS[role])
        home = home_for(role)
        page.get_by_role("heading", name=home.title).first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        # The home screen is open already; then every other page of the role, once each.
        for spec in [home, *(spec for spec in pages_for(role) if spec != home)]:
            if spec != home:
                _open_from_sidebar(page, spec.title)
                page.get_by_role("heading", name=spec.title).first.wait_for(timeout=TIMEOUT_MS)
            settle(page)
            page.wait_for_timeout(300)  # charts and icons draw after the run ends
            assert not page.get_by_test_id("stException").count(), f"{spec.title} raised an exception"
            opened.append(spec.url_path)
            icons.update(_icon_links(page))
        served = [page.request.get(href) for href in icons if _on_own_host(href, own) and "/media/" in href]
        icon_types = [response.headers.get("content-type", "") for response in served if response.ok]
    finally:
        context.close()

    assert sorted(opened) == sorted(spec.url_path for spec in pages_for(role))
    assert any(urlsplit(url).path.endswith("/_stcore/stream") for url in sockets), sockets
    outside = sorted({url for url in [*requested, *sockets] if not _on_own_host(url, own)})
    assert outside == [], f"{role}'s pages asked hosts other than {own}: {outside}"
    assert refused == []
    # The icons of the navigation and the buttons, and the text, drew from the fonts Streamlit bundles.
    fonts = {urlsplit(url).path.rsplit("/", 1)[-1].split(".")[0] for url in requested if ".woff" in url}
    assert {"MaterialSymbols-Rounded", "SourceSansVF-Upright"} <= fonts, fonts
    # The tab's icon is Huddle's own file, served by the app itself (Streamlit's /media/), on every page.
    assert icons and all(_on_own_host(href, own) and "/media/" in href for href in icons), icons
    assert icon_types and all(kind.startswith("image/png") for kind in icon_types), icon_types
