"""Sales content in Chromium, as the two teams use it: a marketer uploads a PDF case study for a segment; a
rep on a phone finds it on a lead's card, logs its use, rates it and asks for a missing battle card; the
marketer answers the request with a new asset; the rep reads the answer; and a week later the Weekly
sync's Content part shows both assets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from core.content_match import STAGE_LABEL, lead_stage
from db import clock
from db.engine import make_engine, read_session, write_session
from db.models import (
    ContentAsset,
    ContentRating,
    ContentRequest,
    ContentRequestStatus,
    ContentUse,
    ContentVersion,
    Lead,
    User,
)
from tests.e2e.conftest import choose_option, readme_picture, screenshot, settle, streamlit_server
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in
from tests.e2e.test_rate_leads_browser import copy_with_grace
from tests.pages.test_content_page import tiny_pdf

pytestmark = pytest.mark.e2e

CASE_STUDY = "Case study: how a peer cut forecast error by a third"
BATTLE_CARD = "Battle card: Pipewise's free tier"
ASKED = "A battle card against Pipewise's new free tier"


@pytest.fixture
def content_database(demo_database: str, tmp_path: Path) -> str:
    """A copy of the demo database whose rating window keeps the rep's MQLs on their cards."""
    return copy_with_grace(demo_database, tmp_path, 60)


@pytest.fixture
def content_server(content_database: str) -> Iterator[str]:
    with streamlit_server(content_database) as base:
        yield base


def _rep_lead(url: str) -> Lead:
    """The demo rep's newest MQL with a persona, an industry and a size: the lead the case study is for."""
    with read_session(make_engine(url)) as session:
        rep = session.exec(select(User.id).where(User.username == "rep")).one()
        lead = session.exec(
            select(Lead)
            .where(Lead.owner_id == rep, col(Lead.mql_at).is_not(None), col(Lead.persona).is_not(None))
            .where(col(Lead.industry).is_not(None), col(Lead.company_size).is_not(None))
            .order_by(col(Lead.mql_at).desc())
        ).first()
    assert lead is not None, "the demo gives the rep MQLs"
    return lead


def _a_new_lead(url: str, at: datetime) -> None:
    """A lead from the website at `at`, as the days after the test bring them."""
    with write_session(make_engine(url)) as session:
        session.add(
            Lead(source_system="demo", external_id="content-browser-test", created_at=at, source="direct")
        )


def _pick(page: Any, label: str, value: str) -> None:
    """Choose `value` in the multiselect labelled `label` (type it, then Enter)."""
    box = page.get_by_test_id("stMultiSelect").filter(has_text=label).first
    box.locator("input").click()
    box.locator("input").fill(value)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def _choose(page: Any, scope: Any, label: str, option: str) -> None:
    """Choose `option` in the selectbox labelled `label` inside `scope` (its list opens at the page's end)."""
    choose_option(page, scope.get_by_test_id("stSelectbox").filter(has_text=label).first, option)


def _card(page: Any, title: str) -> Any:
    """The bordered container that holds `title` (an asset's or a request's card)."""
    return page.get_by_text(title, exact=True).first.locator(
        "xpath=ancestor::div[@data-testid='stVerticalBlock'][1]"
    )


def _open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    settle(page)


def _logged_in(browser: Any, base: str, username: str, *, phone: bool = False) -> tuple[Any, Any]:
    if phone:
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    else:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    _log_in(page, base, username, "huddle-demo")
    page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(
        state="attached", timeout=TIMEOUT_MS
    )
    settle(page)
    return context, page


def _add_asset(page: Any, title: str, kind: str, audience: dict[str, str], *, link: str | None = None,
               pdf: bytes | None = None) -> None:  # fmt: skip
    """A marketer fills *Add an asset* and sends it; the page says it was added."""
    _open_tab(page, "Add an asset")
    form = page.get_by_test_id("stForm").first
    form.get_by_label("Title").fill(title)
    _choose(page, form, "Type", kind)
    for label, value in audience.items():
        _pick(page, label, value)
    if link is not None:
        form.get_by_label("Link (http or https)").fill(link)
    if pdf is not None:
        form.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            {"name": "peer-case-study.pdf", "mimeType": "application/pdf", "buffer": pdf}
        )
        form.get_by_text("peer-case-study.pdf").wait_for(timeout=TIMEOUT_MS)
    form.get_by_role("button", name="Add the asset").click()
    settle(page)
    page.get_by_text("Asset added").first.wait_for(timeout=TIMEOUT_MS)
    settle(page)  # the toast comes first; the rest of the page follows


def test_marketing_content_reaches_a_deal_and_the_weekly_sync(
    browser: Any, content_database: str, content_server: str
) -> None:
    lead = _rep_lead(content_database)
    stage = lead_stage(mql_at=lead.mql_at, sql_at=lead.sql_at, opportunity_at=lead.opportunity_at,
                       closed_at=lead.closed_at)  # fmt: skip
    audience = {"Stages": STAGE_LABEL[stage], "Personas": str(lead.persona),
                "Industries": str(lead.industry), "Company sizes": str(lead.company_size)}  # fmt: skip

    desk, page = _logged_in(browser, content_server, "marketer")
    try:
        page.goto(f"{content_server}/content")
        page.get_by_role("heading", name="Content").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        _add_asset(page, CASE_STUDY, "Case study", audience, pdf=tiny_pdf())
    finally:
        screenshot(page, "content-marketer-added")
        desk.close()

    phone, page = _logged_in(browser, content_server, "rep", phone=True)
    try:
        page.goto(f"{content_server}/rate?lead={lead.id}")
        page.get_by_text("The lead your link opened").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.get_by_text(re.compile(r"^Content for this lead")).first.click()
        settle(page)
        card = _card(page, CASE_STUDY)
        card.wait_for(timeout=TIMEOUT_MS)
        card.get_by_role("button", name="Download").or_(card.get_by_text("Download")).first.wait_for(
            timeout=TIMEOUT_MS
        )
        card.scroll_into_view_if_needed()
        readme_picture(screenshot(page, "content-on-the-card-phone"), "content-card-phone.png")
        card.get_by_role("button", name="Used on this lead").click()
        settle(page)
        card = _card(page, CASE_STUDY)
        card.get_by_text("You used it on this lead").wait_for(timeout=TIMEOUT_MS)
        card.get_by_role("radio", name="★★★★★", exact=True).click()
        card.get_by_role("button", name="Answered an objection").click()
        card.get_by_role("button", name="Save the rating").click()
        settle(page)
        page.get_by_text("Rated ★★★★★").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)  # the toast comes first; the rest of the page follows
        screenshot(page, "content-rated-phone")

        page.get_by_role("button", name="Missing something? Ask marketing").first.click()
        settle(page)
        form = page.get_by_test_id("stForm").filter(has_text="What is missing").first
        form.get_by_label("What is missing").fill(ASKED)
        _choose(page, form, "Type", "Battle card")
        form.get_by_role("button", name="Send the request").click()
        settle(page)
        page.get_by_text("Request sent to marketing").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)  # the toast comes first; the rest of the page follows
    finally:
        screenshot(page, "content-requested-phone")
        phone.close()

    with read_session(make_engine(content_database)) as session:
        case = session.exec(select(ContentAsset).where(ContentAsset.title == CASE_STUDY)).one()
        version = session.exec(select(ContentVersion).where(ContentVersion.asset_id == case.id)).one()
        assert (version.filename, version.media_type, version.data) == (
            "peer-case-study.pdf", "application/pdf", tiny_pdf()
        )  # fmt: skip
        assert len(session.exec(select(ContentUse).where(ContentUse.asset_id == case.id)).all()) == 1
        rating = session.exec(select(ContentRating).where(ContentRating.asset_id == case.id)).one()
        assert (rating.lead_id, rating.stars, rating.reasons) == (lead.id, 5, ["answered_objection"])
        request = session.exec(select(ContentRequest).where(ContentRequest.what == ASKED)).one()
        assert (request.lead_id, request.persona, request.industry) == (lead.id, lead.persona, lead.industry)

    desk, page = _logged_in(browser, content_server, "marketer")
    try:
        page.goto(f"{content_server}/content")
        page.get_by_role("heading", name="Content").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        _add_asset(page, BATTLE_CARD, "Battle card", {}, link="https://content.example.com/battle/pipewise")
        _open_tab(page, "Requests")
        asked = _card(page, ASKED)
        asked.get_by_text("Answer").first.click()
        _choose(page, asked, "Status", "Done")
        _choose(page, asked, "The asset that answers it", f"{BATTLE_CARD} (Battle card)")
        asked.get_by_role("button", name="Save the answer").click()
        settle(page)
        page.get_by_text("Answer saved").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)  # the toast comes first; the rest of the page follows
        screenshot(page, "content-request-answered")
    finally:
        desk.close()

    phone, page = _logged_in(browser, content_server, "rep", phone=True)
    try:
        page.goto(f"{content_server}/content")
        page.get_by_role("heading", name="Content").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        _open_tab(page, "Requests")
        page.get_by_role("heading", name="Answers to your requests").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text(BATTLE_CARD).first.wait_for(timeout=TIMEOUT_MS)
        screenshot(page, "content-answer-seen-phone")
    finally:
        phone.close()
    with read_session(make_engine(content_database)) as session:
        request = session.exec(select(ContentRequest).where(ContentRequest.what == ASKED)).one()
        card = session.exec(select(ContentAsset).where(ContentAsset.title == BATTLE_CARD)).one()
        assert (request.status, request.answer_asset_id) == (ContentRequestStatus.done, card.id)

    # A week later (new leads kept coming) the week of all this is the last complete one: the meeting sees
    # both new assets.
    a_week_later = clock.today() + timedelta(days=7)
    _a_new_lead(content_database, datetime.combine(a_week_later - timedelta(days=1), time(10), tzinfo=UTC))
    later = {"HUDDLE_TODAY": a_week_later.isoformat()}
    with streamlit_server(content_database, name="a-week-later", extra_env=later) as base:
        desk, page = _logged_in(browser, base, "manager")
        try:
            page.goto(f"{base}/weekly-sync")
            heading = page.get_by_role("heading", name=re.compile(r"^Content"))
            heading.wait_for(timeout=TIMEOUT_MS)
            settle(page)
            heading.scroll_into_view_if_needed()
            sentence = page.get_by_text(re.compile(r"This week marketing added 2 "))
            sentence.wait_for(timeout=TIMEOUT_MS)
            assert CASE_STUDY in sentence.inner_text() and BATTLE_CARD in sentence.inner_text()
            page.wait_for_timeout(800)
        finally:
            screenshot(page, "content-weekly-sync")
            desk.close()
        desk, page = _logged_in(browser, base, "marketer")
        try:
            page.goto(f"{base}/content-health")
            page.get_by_role("heading", name="Content health").wait_for(timeout=TIMEOUT_MS)
            page.get_by_test_id("stMetricValue").first.wait_for(timeout=TIMEOUT_MS)
            settle(page)
            page.wait_for_timeout(800)
            readme_picture(screenshot(page, "content-health"), "content-health.png")
        finally:
            desk.close()
