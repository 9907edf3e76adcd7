"""The handoff in Chromium: a rep opens an alert's link (/rate?lead=<id>) logged out on a phone, logs in,
lands on that lead's card, recycles it with a reason; a marketer sees it on the Funnel's nurture list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from db.engine import make_engine, read_session
from db.models import HandoffAnswer, Lead, LeadHandoff, User
from tests.e2e.conftest import screenshot, settle, streamlit_server
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in
from tests.e2e.test_rate_leads_browser import copy_with_grace
from tests.pages.conftest import without_demo_answers

pytestmark = pytest.mark.e2e


@pytest.fixture
def handoff_database(demo_database: str, tmp_path: Path) -> str:
    """A copy of the demo database (a rating window of 3 + 60 days, so the rep's queue holds leads), without
    the demo's handoff answers: the Funnel then counts this test's one."""
    return without_demo_answers(copy_with_grace(demo_database, tmp_path, 60))


@pytest.fixture
def handoff_server(handoff_database: str) -> Iterator[str]:
    with streamlit_server(handoff_database) as base:
        yield base


def _newest_mql_of(url: str, username: str) -> int:
    with read_session(make_engine(url)) as session:
        owner = session.exec(select(User.id).where(User.username == username)).one()
        lead = session.exec(
            select(Lead.id)
            .where(Lead.owner_id == owner, col(Lead.mql_at).is_not(None))
            .order_by(col(Lead.mql_at).desc())
        ).first()
    assert lead is not None, f"the demo gives {username} MQLs"
    return int(lead)


def _answer(url: str, lead_id: int) -> LeadHandoff | None:
    with read_session(make_engine(url)) as session:
        return session.exec(select(LeadHandoff).where(LeadHandoff.lead_id == lead_id)).first()


def marketer_finds_it_back(browser: Any, base: str, reason: str, shot: str) -> None:
    """A marketer opens the Funnel on This month (it holds today on any day) and finds one recycled lead,
    with `reason`, under Back to marketing."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        _log_in(page, base, "marketer", "huddle-demo")
        page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.goto(f"{base}/funnel?period=this_month")
        heading = page.get_by_role("heading", name="Back to marketing")
        heading.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        heading.scroll_into_view_if_needed()
        page.get_by_text(re.compile(r"1 recycled")).first.wait_for(timeout=TIMEOUT_MS)
        page.get_by_text(reason).first.wait_for(state="attached", timeout=TIMEOUT_MS)  # a canvas grid cell
        page.wait_for_timeout(800)
    finally:
        screenshot(page, shot)
        context.close()


def test_a_rep_recycles_the_linked_lead_on_a_phone_and_the_marketer_sees_it(
    browser: Any, handoff_database: str, handoff_server: str
) -> None:
    lead_id = _newest_mql_of(handoff_database, "rep")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    try:
        page.goto(f"{handoff_server}/rate?lead={lead_id}")  # logged out: the login form at that address
        page.get_by_label("Username").wait_for(timeout=TIMEOUT_MS)
        page.get_by_label("Username").fill("rep")
        page.get_by_role("textbox", name="Password").fill("huddle-demo")
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Rate my leads").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("The lead your link opened").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        assert f"lead={lead_id}" in page.url, page.url
        screenshot(page, "handoff-link-phone")

        page.get_by_role("button", name="Recycle to marketing").first.click()
        settle(page)
        page.get_by_text("Comes back to sales on").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("radio", name="No budget yet").click()  # only the opened card asks for a reason
        screenshot(page, "handoff-recycle-form-phone")
        page.get_by_test_id("stFormSubmitButton").filter(has_text="Recycle to marketing").click()
        settle(page)
        page.get_by_text(re.compile(r"^Recycled to marketing on .* reason: No budget yet")).first.wait_for(
            timeout=TIMEOUT_MS
        )
        screenshot(page, "handoff-recycled-phone")
    finally:
        screenshot(page, "handoff-phone-last-state")
        phone.close()
    answer = _answer(handoff_database, lead_id)
    assert answer is not None
    assert (answer.answer, answer.reason) == (HandoffAnswer.recycle, "No budget yet")

    desk = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = desk.new_page()
    try:  # the same link on a desktop, later: the card says what was answered, beside the stars
        _log_in(page, handoff_server, "rep", "huddle-demo")
        page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.goto(f"{handoff_server}/rate?lead={lead_id}")
        page.get_by_text(re.compile(r"^Recycled to marketing on .* back to sales on ")).first.wait_for(
            timeout=TIMEOUT_MS
        )
        settle(page)
        screenshot(page, "handoff-card-desktop")
    finally:
        desk.close()

    marketer_finds_it_back(browser, handoff_server, "No budget yet", "handoff-funnel-nurture-list")
