"""The whole feedback loop in real Chromium, each person in a browser of their own: a rep rates three leads
with "submit and next" (double-clicking once), the marketer finds those ratings in the evidence and
proposes the suggestion, a sales manager approves it, and the Funnel's trend marks the day it came into
force."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from playwright.sync_api import expect
from sqlalchemy import func
from sqlmodel import col, select

from core.targeting import evidence_rows
from core.tuning import Tuning
from db.engine import make_engine, read_session
from db.models import Lead, LeadRating, User
from db.tuning import run_tuning
from tests.e2e.conftest import screenshot, settle, streamlit_server
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in
from tests.e2e.test_rate_leads_browser import _waiting, copy_with_grace
from ui.criteria import WINDOW_DAYS

pytestmark = pytest.mark.e2e
RATIONALE = "Reps rate small Retail shops 1-2 stars: weight them down"
STARS = ("★★", "★★★★", "★")


@dataclass(frozen=True)
class Server:
    base: str
    database_url: str


@pytest.fixture
def own_server(demo_database: str, tmp_path: Path) -> Iterator[Server]:
    """A server on a copy of the demo database: this test rates, proposes and approves. Its rating queue
    keeps unrated MQLs a year past the rating days, so the rep's oldest-first queue reaches back into the
    tuning's learning window (the default window holds only recent MQLs, which the tuning tests on)."""
    url = copy_with_grace(demo_database, tmp_path, 365)
    with streamlit_server(url) as base:
        yield Server(base, url)


def _signed_in(browser: Any, base: str, username: str, **device: Any) -> tuple[Any, Any]:
    context = browser.new_context(**(device or {"viewport": {"width": 1440, "height": 1000}}))
    page = context.new_page()
    _log_in(page, base, username, "huddle-demo")
    page.get_by_test_id("stSidebar").get_by_role("link", name="Funnel").wait_for(
        state="attached", timeout=TIMEOUT_MS
    )
    settle(page)
    return context, page


def _open(page: Any, title: str) -> None:
    """Through the navigation, as people do (a reload would depend on the remember-me cookie)."""
    link = page.get_by_test_id("stSidebar").get_by_role("link", name=title)
    if link.get_attribute("aria-current") != "page":  # a role may start on it
        unfold = page.get_by_test_id("stExpandSidebarButton")
        if unfold.is_visible():  # on a phone the navigation is folded away (and folds after a click)
            unfold.click()
        link.click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=TIMEOUT_MS)
    settle(page)


def _tuning(database_url: str) -> Tuning:
    """What the Targeting criteria page learns, worked out from the database."""
    engine = make_engine(database_url)
    try:
        return run_tuning(engine, window_days=WINDOW_DAYS)
    finally:
        engine.dispose()


def _ratings_by(database_url: str, username: str) -> int:
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            rater = session.exec(select(User.id).where(User.username == username)).one()
            query = select(func.count()).select_from(LeadRating).where(LeadRating.rater_id == rater)
            return int(session.exec(query).one())
    finally:
        engine.dispose()


def _created(database_url: str, external_ids: list[str]) -> list[datetime]:
    """When these leads were created, as naive UTC (how the tuning compares times)."""
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            found = session.exec(select(Lead.created_at).where(col(Lead.external_id).in_(external_ids))).all()
            return [at.astimezone(UTC).replace(tzinfo=None) for at in found if at is not None]
    finally:
        engine.dispose()


def _moved_rows(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """The evidence rows whose count of leads or of good ones changed."""
    return after.join(before, on="Attribute value", how="left", suffix="_before").filter(
        (pl.col("Leads with evidence") != pl.col("Leads with evidence_before").fill_null(0))
        | (pl.col("Good") != pl.col("Good_before").fill_null(-1))
    )


def _rep_rates_three_leads(browser: Any, server: Server) -> list[str]:
    """On a phone; the third "Submit and next" is a double click. The external ids of the leads rated."""
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    context, page = _signed_in(browser, server.base, "rep", **phone)
    rated = []
    try:
        _open(page, "Rate my leads")
        before = _waiting(page)
        for n, stars in enumerate(STARS):
            heading = page.get_by_role("heading", name=re.compile("^Lead ")).first
            lead = heading.inner_text()
            rated.append(lead.removeprefix("Lead "))
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
            expect(page.get_by_role("heading", name=re.compile("^Lead ")).first).not_to_have_text(
                lead, timeout=TIMEOUT_MS
            )
            settle(page)
            screenshot(page, f"loop-rep-rated-{n + 1}")
        page.wait_for_timeout(1000)
        assert _waiting(page) == before - 3, "three leads rated: the double click made no fourth rating"
    finally:
        screenshot(page, "loop-rep-last-state")
        context.close()
    return rated


def _evidence_row(page: Any, label: str) -> list[str]:
    """The cells of the evidence table's row for `label`, found with the table's own search."""
    # The table's toolbar shows above it on hover: leave it room at the top of the window.
    heading = page.get_by_role("heading", name="What the evidence says")
    heading.evaluate("element => element.scrollIntoView({block: 'start'})")
    table = page.get_by_test_id("stDataFrame").first
    table.hover()
    # Dispatched, not clicked: under load the grid's scroller can lie over the toolbar for a moment.
    table.locator("xpath=..").get_by_role("button", name="Search").dispatch_event("click")
    page.keyboard.type(label)
    # The grid draws on a canvas; its cells are also kept, unseen, as an accessible table.
    named = page.locator("[role=gridcell]", has_text=re.compile(f"^{re.escape(label)}$"))
    row = table.locator("[role=row]", has=named).first
    row.wait_for(state="attached", timeout=TIMEOUT_MS)
    cells = row.locator("[role=gridcell]")
    return [str(cells.nth(i).text_content()) for i in range(cells.count())]


def _marketer_finds_the_ratings_and_proposes(browser: Any, server: Server, changed: dict[str, Any]) -> None:
    context, page = _signed_in(browser, server.base, "marketer")
    try:
        _open(page, "Targeting criteria")
        page.get_by_role("heading", name="What the evidence says").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("points acceptance").first.wait_for(timeout=TIMEOUT_MS)
        page.wait_for_timeout(1000)  # the tables draw after the run
        cells = _evidence_row(page, changed["Attribute value"])
        assert cells[1:3] == [f"{changed['Leads with evidence']}", f"{changed['Good']}"], cells
        page.wait_for_timeout(500)
        screenshot(page, "loop-marketer-evidence")
        page.keyboard.press("Escape")
        page.get_by_role("heading", name="Try a change").scroll_into_view_if_needed()
        page.get_by_label("Why this change").fill(RATIONALE)
        page.get_by_role("button", name="Propose", exact=True).click()
        settle(page)
        page.get_by_text("Proposed as a draft.").wait_for(timeout=TIMEOUT_MS)
        screenshot(page, "loop-marketer-proposed")
    finally:
        screenshot(page, "loop-marketer-last-state")
        context.close()


def _manager_approves_and_sees_the_mark(browser: Any, server: Server) -> None:
    context, page = _signed_in(browser, server.base, "manager")
    try:
        _open(page, "Targeting criteria")
        page.get_by_text(RATIONALE).first.wait_for(timeout=TIMEOUT_MS)
        approve = page.get_by_role("button", name="Approve and put in force")
        approve.scroll_into_view_if_needed()
        approve.click()
        settle(page)
        page.get_by_text("Version 2 is in force.").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="In force: version 2").wait_for(timeout=TIMEOUT_MS)
        screenshot(page, "loop-manager-approved")
        _open(page, "Funnel")
        mark = page.locator(".js-plotly-plot .annotation-text", has_text="Criteria v2")
        mark.wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("A dotted line marks the day").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="Trend").scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        screenshot(page, "loop-funnel-trend-marked")
    finally:
        screenshot(page, "loop-manager-last-state")
        context.close()


def test_ratings_reach_the_criteria_and_the_approved_change_is_marked(
    browser: Any, own_server: Server
) -> None:
    before = _tuning(own_server.database_url)
    ratings_before = _ratings_by(own_server.database_url, "rep")
    rated = _rep_rates_three_leads(browser, own_server)
    assert _ratings_by(own_server.database_url, "rep") == ratings_before + 3

    # The queue starts with the longest-waiting MQLs, created before the page's test window: their new
    # ratings are evidence the tuning learns from, so rows of the evidence table move.
    after = _tuning(own_server.database_url)
    created = _created(own_server.database_url, rated)
    assert len(created) == 3 and max(created) < after.learn_until, (created, after.learn_until)
    moved = _moved_rows(evidence_rows(before.evidence), evidence_rows(after.evidence))
    assert not moved.is_empty(), "three ratings of leads in the learning window changed no evidence"
    _marketer_finds_the_ratings_and_proposes(browser, own_server, moved.row(0, named=True))
    _manager_approves_and_sees_the_mark(browser, own_server)
