"""A rep on a phone rates three leads of their rating window with "submit and next", double-clicking once:
three ratings, no more."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from db.access import OPERATOR
from db.engine import make_engine, write_session
from db.sla import agreement_for, current_agreements, set_agreement
from tests.e2e.conftest import screenshot, settle, streamlit_server
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in, _login_cookie
from tests.pages.test_rate_leads_page import approve_a_rule_on_an_imported_attribute

pytestmark = pytest.mark.e2e


def copy_with_grace(demo_database: str, folder: Path, days: int) -> str:
    """A copy of the demo database whose company terms keep an unrated MQL in the rating queue `days`
    after the rating days, set from the command line: the browser tests' small demo (3,000 leads) gives
    the demo rep only a few MQLs a month, so the default 14 days may hold fewer than the three to rate."""
    source = sqlite3.connect(demo_database.removeprefix("sqlite:///"))
    with sqlite3.connect(folder / "huddle.db") as copy:
        source.backup(copy)
    source.close()
    url = f"sqlite:///{folder / 'huddle.db'}"
    engine = make_engine(url)
    with write_session(engine) as session:
        terms = agreement_for(current_agreements(session), None)
        set_agreement(session=session, actor=OPERATOR, team_id=None, mqls_per_month=int(terms.mqls_per_month or 0),
                      follow_up_hours=terms.follow_up_hours, rating_days=terms.rating_days,
                      acceptance_target=float(terms.acceptance_target or 0), rating_grace_days=days)  # fmt: skip
    engine.dispose()
    return url


@pytest.fixture
def long_grace_server(demo_database: str, tmp_path: Path) -> Iterator[str]:
    """A server on a copy of the demo database whose rating window is 3 + 60 days."""
    with streamlit_server(copy_with_grace(demo_database, tmp_path, 60)) as base:
        yield base


@pytest.fixture
def attribute_rule_server(demo_database: str, tmp_path: Path) -> Iterator[str]:
    """A server on a copy of the demo database whose version in force reads an imported attribute, and the
    link (as a new-MQL alert gives it) to the rep's newest MQL it made."""
    url = copy_with_grace(demo_database, tmp_path, 14)
    approve_a_rule_on_an_imported_attribute(url)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        (lead_id,) = connection.execute(
            "SELECT leads.id FROM leads JOIN users ON users.id = leads.owner_id WHERE users.username = 'rep' "
            "AND json_extract(leads.attributes, '$.sign_up_form') = 'Demo request' AND leads.mql_at IS NOT NULL "
            "ORDER BY leads.mql_at DESC LIMIT 1"
        ).fetchone()
    with streamlit_server(url) as base:
        yield f"{base}/rate?lead={lead_id}"


def _waiting(page: Any) -> int:
    text = page.get_by_text(re.compile(r"MQLs? waits? for your rating")).first.inner_text()
    found = re.search(r"([\d,]+) MQLs", text)
    assert found, text
    return int(found.group(1).replace(",", ""))


def test_a_rep_rates_three_leads_on_a_phone(browser: Any, long_grace_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        _log_in(page, long_grace_server, "rep", "huddle-demo")
        page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
        settle(page)  # the first screen after login may still be switching to the role's home
        assert _login_cookie(page, context), "the login cookie was never written"
        page.goto(f"{long_grace_server}/rate")
        page.get_by_role("heading", name="Rate my leads").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        before = _waiting(page)
        assert before >= 3, before
        page.get_by_text(re.compile(r"The queue holds the MQLs of the last 63 days")).wait_for(
            timeout=TIMEOUT_MS
        )
        screenshot(page, "rate-leads-phone")
        for n, stars in enumerate(("★★", "★★★★", "★")):
            lead = page.get_by_role("heading", name=re.compile("^Lead ")).first.inner_text()
            star = page.get_by_role("radio", name=stars, exact=True).first
            star.click()
            expect(star).to_have_attribute("aria-checked", "true", timeout=TIMEOUT_MS)
            page.get_by_role("button", name="Good fit" if len(stars) >= 4 else "Too small").first.click()
            submit = page.get_by_role("button", name="Submit and next")
            if n == 2:
                submit.dblclick()  # an impatient thumb
            else:
                submit.click()
            settle(page)
            page.get_by_text(f"{before - n - 1:,} MQLs").first.wait_for(timeout=TIMEOUT_MS)
            # The next lead's own form must be on the page before its stars are clicked.
            expect(page.get_by_role("heading", name=re.compile("^Lead ")).first).not_to_have_text(
                lead, timeout=TIMEOUT_MS
            )
            settle(page)
        settle(page)
        page.wait_for_timeout(1000)
        assert _waiting(page) == before - 3, "three leads rated: the double click made no fourth rating"
        page.get_by_text("Your ratings of the last 14 days").wait_for(timeout=TIMEOUT_MS)
        screenshot(page, "rate-leads-after-three")
    finally:
        screenshot(page, "rate-leads-last-state")
        context.close()


def test_a_manager_reads_the_rating_coverage(browser: Any, demo_server: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        _log_in(page, demo_server, "manager", "huddle-demo")
        page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
        settle(page)  # the first screen after login may still be switching to the role's home
        page.get_by_test_id("stSidebar").get_by_role("link", name="Rating coverage").click()
        page.get_by_role("heading", name="Rating coverage").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.get_by_text(re.compile(r"Dan Wright rates .* harsher than the SMB team")).wait_for(
            timeout=TIMEOUT_MS
        )
        page.wait_for_timeout(1500)
        screenshot(page, "rating-coverage")
        page.get_by_role("heading", name="Calibration").scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        screenshot(page, "rating-coverage-calibration")
    finally:
        context.close()


def test_the_rating_card_says_why_an_mql_in_the_words_of_an_imported_attribute(
    browser: Any, attribute_rule_server: str
) -> None:
    """The version in force scores an imported attribute (sign_up_form): a rep on a phone opens the card's
    lead from its alert's link, opens the card's *Why an MQL* and reads that rule in words, with its points."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        base, _, link = attribute_rule_server.partition("/rate?")
        _log_in(page, base, "rep", "huddle-demo")
        page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.goto(f"{base}/rate?{link}")  # the new-MQL alert's link
        page.get_by_text("The lead your link opened").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.get_by_text("Why an MQL: 60 points, 60 needed").first.click()
        rule = page.get_by_text("• Sign up form is Demo request: +60 points").first
        expect(rule).to_be_visible(timeout=TIMEOUT_MS)
        rule.scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # the expander's opening animation, for the picture
    finally:
        screenshot(page, "rate-leads-why-an-attribute-rule")
        context.close()
