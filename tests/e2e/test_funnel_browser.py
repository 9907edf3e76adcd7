"""An executive opens the Funnel, changes the period (the link follows), and drills into the leads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import choose_option, readme_picture, screenshot, settle
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in

pytestmark = pytest.mark.e2e


def test_exec_changes_the_period_and_drills_into_the_leads(browser: Any, demo_server: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        _log_in(page, demo_server, "exec", "huddle-demo")
        page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
        settle(page)  # the first screen after login may still be switching to the role's home
        page.get_by_test_id("stSidebar").get_by_role("link", name="Funnel").click()
        page.get_by_role("heading", name="Funnel").wait_for(timeout=TIMEOUT_MS)
        settle(page)

        period = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Period")
        choose_option(page, period, "Last quarter")
        settle(page)
        page.wait_for_url("**period=last_quarter**", timeout=TIMEOUT_MS)
        page.get_by_text("Conversion and velocity").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(1500)  # let the charts draw before the picture
        shot = screenshot(page, "funnel-last-quarter")
        readme_picture(shot, "funnel.png")

        # The same link in a fresh tab shows the same view.
        again = context.new_page()
        again.goto(page.url)
        again.get_by_role("heading", name="Funnel").wait_for(timeout=TIMEOUT_MS)
        settle(again)
        shown = page.get_by_text(", against ").first.inner_text()
        assert "Q" in shown and again.get_by_text(", against ").first.inner_text() == shown
        again.close()

        download_button = page.get_by_role("button", name="Download all")
        download_button.scroll_into_view_if_needed()
        settle(page)
        with page.expect_download() as download:
            download_button.click()
        rows = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
        assert rows[0].startswith("id,source_system,reached_at,")
        assert len(rows) > 1
        screenshot(page, "funnel-drill-down")
    finally:
        screenshot(page, "funnel-last-state")
        context.close()
