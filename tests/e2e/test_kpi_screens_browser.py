"""An executive opens every KPI screen, changes the period and follows a chart bar to the deals behind it;
a rep on a phone finds themselves on the leaderboard without seeing anyone else's name."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import choose_option, readme_picture, screenshot, settle
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in, _login_cookie

pytestmark = pytest.mark.e2e
SCREENS = ("Overview", "Funnel", "Quota and win rate", "Revenue alignment")


def _open(page: Any, title: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).wait_for(timeout=TIMEOUT_MS)
    settle(page)


def _pick_period(page: Any, label: str) -> None:
    choose_option(
        page, page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Period"), label
    )
    settle(page)


def _picture(page: Any, name: str, docs_name: str | None = None) -> None:
    page.wait_for_timeout(1500)  # let the charts draw before the picture
    shot = screenshot(page, name)
    if docs_name:
        readme_picture(shot, docs_name)


def _click_bar(page: Any, title: str, bars: str, *, last: bool) -> None:
    """Click a bar where a person would, at its middle: Plotly's drag layer lies over the bars."""
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text=title)
    chart.scroll_into_view_if_needed()
    found = chart.locator(bars)
    box = (found.last if last else found.first).bounding_box()
    assert box is not None, f"no bar in the chart {title!r}"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    settle(page)


def test_exec_opens_each_screen_changes_the_period_and_follows_a_bar(browser: Any, demo_server: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        _log_in(page, demo_server, "exec", "huddle-demo")
        page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
        settle(page)  # the first screen after login may still be switching to the role's home
        for title in SCREENS[1:]:
            _open(page, title)
            assert not page.get_by_test_id("stException").count(), f"{title} raised"

        _open(page, "Funnel")
        # An explicit, complete period: this month may hold no won deal yet on the days it has had.
        _pick_period(page, "Last month")
        _click_bar(page, "Reached each stage", "g.point path", last=True)  # the funnel's bottom bar: won
        # The leads list below now holds the won deals: "**1,234 won deals** in ..."
        page.locator("strong").filter(has_text=re.compile(r"^[\d,]+ won deals$")).wait_for(timeout=TIMEOUT_MS)
        _picture(page, "funnel-clicked-won")

        _open(page, "Quota and win rate")
        _pick_period(page, "Last quarter")
        page.wait_for_url("**period=last_quarter**", timeout=TIMEOUT_MS)
        page.get_by_text("Quota attainment").first.wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Leaderboard").wait_for(timeout=TIMEOUT_MS)
        _picture(page, "quota-last-quarter", "quota.png")
        _click_bar(page, "Quota attainment per team", "g.point path", last=False)
        page.get_by_text(re.compile(r"Won deals, .+ \(the bar you clicked\)")).wait_for(timeout=TIMEOUT_MS)

        _open(page, "Revenue alignment")
        assert "period=last_quarter" in page.url  # the period follows from screen to screen
        page.get_by_text("Pipeline coverage").first.wait_for(timeout=TIMEOUT_MS)
        _picture(page, "revenue-last-quarter", "revenue.png")

        # "This period" is the top trace; horizontal bars are drawn bottom-up, so its last is the largest.
        _click_bar(page, "Revenue won by source", "g.trace.bars:last-of-type path", last=True)
        heading = page.get_by_text("won deals in").first
        heading.wait_for(timeout=TIMEOUT_MS)
        page.get_by_text(" with source ").first.wait_for(timeout=TIMEOUT_MS)
        _picture(page, "revenue-drill-down")
    finally:
        screenshot(page, "kpi-screens-last-state")
        context.close()


def test_a_rep_on_a_phone_sees_their_own_row_and_nobody_elses_name(browser: Any, demo_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        _log_in(page, demo_server, "rep", "huddle-demo")
        page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
        settle(page)  # the first screen after login may still be switching to the role's home
        assert _login_cookie(page, context), "the login cookie was never written"  # else goto logs us out
        page.goto(f"{demo_server}/quota")
        page.get_by_role("heading", name="Quota and win rate").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.get_by_role("heading", name="Leaderboard").scroll_into_view_if_needed()
        page.get_by_text("You see your own row").wait_for(timeout=TIMEOUT_MS)
        _picture(page, "quota-rep-phone")
    finally:
        screenshot(page, "quota-rep-phone-last-state")
        context.close()
