"""The weekly sync in a real browser: a manager lands on it, presents it on a 1920x1080 projector (every
section fits the screen, the arrow keys move through them), adds an action item during the meeting, and
downloads the week's report, which opens offline with every chart drawn and no request leaving it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import readme_picture, screenshot, settle
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in

pytestmark = pytest.mark.e2e
SECTIONS = (
    "The funnel",
    "The SLA, both sides",
    "Lead quality",
    "Handoff answers",
    "Criteria changes",
    "Wins to celebrate",
    "Content",
    "Decisions and action items",
)
# How far the page could scroll: in the document and in Streamlit's own scrolling main area.
OVERFLOW_JS = """() => {
  const boxes = [document.scrollingElement, ...document.querySelectorAll(
    '[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stMainBlockContainer"]')];
  return Math.max(...boxes.filter(Boolean).map(b => b.scrollHeight - b.clientHeight));
}"""


def _title(page: Any) -> str:
    return str(page.locator("h1").first.text_content() or "")


def test_a_manager_presents_the_week_on_a_projector(browser: Any, demo_server: str) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        _log_in(page, demo_server, "manager", "huddle-demo")
        page.get_by_role("heading", name="Weekly sync").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("heading", name="The SLA, both sides").wait_for(timeout=TIMEOUT_MS)
        page.get_by_test_id("stMetricValue").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.wait_for_timeout(1500)
        shot = screenshot(page, "weekly-sync")
        readme_picture(shot, "weekly-sync.png")

        page.get_by_role("button", name="Present").click()
        for number, section in enumerate(SECTIONS, start=1):
            page.wait_for_function(
                f"() => (document.querySelector('h1')?.textContent || '').startsWith({section!r})",
                timeout=TIMEOUT_MS,
            )
            settle(page)
            page.wait_for_timeout(800)  # charts and tables draw after the run ends
            assert (
                page.get_by_test_id("stSidebar").count() == 0
                or not page.get_by_test_id("stSidebar").is_visible()
            )
            assert page.evaluate(OVERFLOW_JS) <= 2, f"section {number} ({section}) needs scrolling"
            assert page.get_by_text(f"{number} / {len(SECTIONS)} · {section}").is_visible()
            shot = screenshot(page, f"present-{number}")
            if number == 2:
                readme_picture(shot, "weekly-sync-present.png")
            if number < len(SECTIONS):
                page.keyboard.press("ArrowRight")  # what a presentation clicker's "next" key also does
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            "() => (document.querySelector('h1')?.textContent || '').startsWith('Content')",
            timeout=TIMEOUT_MS,
        )
        assert "section=7" in page.url and "present=1" in page.url  # a refresh keeps the place
    finally:
        context.close()


def test_an_action_item_added_in_the_meeting_is_on_the_page(browser: Any, demo_server: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        _log_in(page, demo_server, "manager", "huddle-demo")
        page.get_by_role("heading", name="Decisions and action items").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.get_by_text("Add an action item").click()
        form = page.get_by_test_id("stForm").last
        form.get_by_label("What is to be done").fill(
            "Send the Retail segment's ratings to marketing <b>today</b>"
        )
        form.get_by_role("button", name="Add").click()
        page.get_by_text("Send the Retail segment's ratings to marketing <b>today</b>").first.wait_for(
            timeout=TIMEOUT_MS
        )
        settle(page)
        assert page.locator("b", has_text="today").count() == 0  # shown as text, not markup
        screenshot(page, "weekly-sync-action-added")
    finally:
        context.close()


def test_the_downloaded_report_opens_offline_with_every_chart(
    browser: Any, demo_server: str, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        _log_in(page, demo_server, "exec", "huddle-demo")
        page.get_by_role("heading", name="Weekly sync").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.get_by_role("button", name="Download this week").click()
        archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    finally:
        context.close()
    names = archive.namelist()
    html_name = next(n for n in names if n.endswith(".html"))
    assert any(n.endswith(".csv") for n in names)
    report = tmp_path / "week.html"
    report.write_bytes(archive.read(html_name))
    expected_charts = archive.read(html_name).decode().count('<div class="figure"')
    assert expected_charts >= 2  # the 8-week trend and the reasons reps gave

    offline = browser.new_context(viewport={"width": 900, "height": 1400})
    offline.set_offline(True)
    requests: list[str] = []
    offline.on("request", lambda request: requests.append(request.url))
    reader = offline.new_page()
    problems: list[str] = []
    reader.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    reader.on("pageerror", lambda error: problems.append(str(error)))
    try:
        reader.goto(report.as_uri())
        reader.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {expected_charts}",
            timeout=TIMEOUT_MS,
        )
        assert reader.locator(".js-plotly-plot").count() == expected_charts
        for index in range(expected_charts):
            assert reader.locator(".js-plotly-plot").nth(index).locator(".trace").count() >= 1
        assert requests == [report.as_uri()], "nothing but the file itself is asked for"
        assert problems == []
        screenshot(reader, "weekly-report-offline")
    finally:
        offline.close()
