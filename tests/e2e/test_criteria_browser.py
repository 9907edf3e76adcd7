"""The joint sign-off in a real browser: a marketer reads the evidence and proposes the suggestion with a
rationale; a sales manager, in a browser of their own, approves it; the new version is in force."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import choose_option, screenshot, settle, streamlit_server
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in, _login_cookie

pytestmark = pytest.mark.e2e
RATIONALE = "Small shops rate 1-2 stars; VPs and Directors rate 4-5"


def _scroll_to(page: Any, target: Any) -> None:
    """Scroll for the picture; a rerun may replace the element just found, so find it again then."""
    for _ in range(3):
        try:
            target.scroll_into_view_if_needed(timeout=5_000)
            return
        except Exception:  # only the picture depends on the scroll
            settle(page)


@pytest.fixture
def own_server(demo_database: str, tmp_path: Path) -> Iterator[str]:
    """A server on a copy of the demo database: approving re-scores leads, which other tests must not see."""
    source = sqlite3.connect(demo_database.removeprefix("sqlite:///"))
    with sqlite3.connect(tmp_path / "huddle.db") as copy:
        source.backup(copy)
    source.close()
    with streamlit_server(f"sqlite:///{tmp_path / 'huddle.db'}") as base:
        yield base


def _open_criteria(browser: Any, base: str, username: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    _log_in(page, base, username, "huddle-demo")
    page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
    assert _login_cookie(page, context), "the login cookie was never written"
    page.goto(f"{base}/criteria")
    page.get_by_role("heading", name="Targeting criteria").wait_for(timeout=TIMEOUT_MS)
    settle(page)
    return context, page


def test_a_marketer_proposes_and_a_manager_approves(browser: Any, own_server: str) -> None:
    context, page = _open_criteria(browser, own_server, "marketer")
    try:
        page.get_by_role("heading", name="In force: version 1").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="What the evidence says").wait_for(timeout=TIMEOUT_MS)
        page.get_by_test_id("stDataFrame").first.wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("points acceptance").first.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(1000)  # let the tables draw before the picture
        screenshot(page, "criteria-marketer")
        page.get_by_role("heading", name="Try a change").scroll_into_view_if_needed()
        screenshot(page, "criteria-what-if")
        page.get_by_label("Why this change").fill(RATIONALE)
        page.get_by_role("button", name="Propose", exact=True).click()
        settle(page)
        page.get_by_text("Proposed as a draft.").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        _scroll_to(page, page.get_by_text(RATIONALE).first)
        page.wait_for_timeout(1000)
        screenshot(page, "criteria-proposed")
    finally:
        screenshot(page, "criteria-marketer-last-state")
        context.close()

    context, page = _open_criteria(browser, own_server, "manager")
    try:
        page.get_by_text("Version 2").first.wait_for(timeout=TIMEOUT_MS)
        approve = page.get_by_role("button", name="Approve and put in force")
        approve.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)  # tables scrolled into view draw a moment later
        screenshot(page, "criteria-manager-draft")
        approve.click()
        settle(page)
        page.get_by_text("Version 2 is in force.").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="In force: version 2").wait_for(timeout=TIMEOUT_MS)
        assert page.get_by_text(RATIONALE).first.is_visible()
        page.wait_for_timeout(1000)
        screenshot(page, "criteria-approved")
    finally:
        screenshot(page, "criteria-manager-last-state")
        context.close()


def _pick(page: Any, label: str, option: str) -> None:
    """Choose `option` in the selectbox labelled `label` (Streamlit's own dropdown), by typing it."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_label(label, exact=True)).first
    choose_option(page, box, option)
    settle(page)


def _my_version_volume(page: Any) -> str:
    """The sentence above the live backtest: how the edited version fares, with its MQL count."""
    line = page.get_by_text("Your version:", exact=False).first
    line.wait_for(timeout=TIMEOUT_MS)
    return str(line.inner_text())


def test_a_marketer_builds_a_rule_on_an_imported_attribute_and_proposes_it(
    browser: Any, own_server: str
) -> None:
    context, page = _open_criteria(browser, own_server, "marketer")
    try:
        page.get_by_text("Add a rule", exact=True).wait_for(timeout=TIMEOUT_MS)
        before = _my_version_volume(page)
        page.get_by_text("Add a rule", exact=True).scroll_into_view_if_needed()
        _pick(page, "Field or attribute", "Sign up form")  # an imported attribute, not a lead field
        _pick(page, "Value", "Demo request")  # offered from the data
        points = page.get_by_label("Points", exact=True)
        points.fill("400")
        points.press("Enter")
        settle(page)
        page.get_by_role("button", name="Add rule").click()
        settle(page)
        page.get_by_text("Added: Sign up form is Demo request: +400 points").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("New: Sign up form is Demo request: +400 points").first.wait_for(timeout=TIMEOUT_MS)
        assert _my_version_volume(page) != before, "the live backtest follows the added rule"
        page.wait_for_timeout(500)
        screenshot(page, "criteria-what-if-attribute")
        page.get_by_label("Why this change").fill(
            "Demo requests rate 4-5 twice as often as newsletter sign-ups"
        )
        page.get_by_role("button", name="Propose", exact=True).click()
        settle(page)
        page.get_by_text("Proposed as a draft.").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("Sign up form is Demo request").first.wait_for(
            timeout=TIMEOUT_MS
        )  # the draft's diff
    finally:
        screenshot(page, "criteria-what-if-attribute-last-state")
        context.close()
