"""An admin uploads a CSV on the Import page, reads the dry-run report, imports, and the Overview changes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core.periods import headline_months
from db import clock
from tests.e2e.conftest import readme_picture, screenshot, settle
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in

pytestmark = pytest.mark.e2e
NEW_LEADS = 37
REGIONS = ("North", "South")  # a column no field takes: kept as an attribute


def _csv(folder: Path, *, bad_row: bool = False) -> Path:
    # The last day the Overview counts (today, or last month's last day in a month's first days).
    day = headline_months(clock.today())[0].last_day
    assert day is not None
    lines = ["Lead ID,Create Date,Lead Source,Lead Owner,Amount,Region"]
    lines += [f"E2E-{n},{day.isoformat()},Webinar,rep,{n * 10},{REGIONS[n % 2]}" for n in range(NEW_LEADS)]
    if bad_row:
        lines[5] = "E2E-4,31/02/2026,Webinar,rep,-5,North"
    path = folder / ("broken-leads.csv" if bad_row else "new-leads.csv")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _leads_shown(page: Any) -> int:
    metric = page.get_by_test_id("stMetric").filter(has=page.get_by_text("Leads", exact=True)).first
    text = metric.get_by_test_id("stMetricValue").inner_text()
    return int(re.sub(r"[^0-9]", "", text))


def _open_import(page: Any) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name="Import").click()
    page.get_by_role("heading", name="Import").wait_for(timeout=TIMEOUT_MS)


def test_admin_checks_then_imports_and_the_overview_changes(
    browser: Any, demo_server: str, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        _log_in(page, demo_server, "admin", "huddle-demo")
        page.get_by_role("heading", name="Overview").wait_for(timeout=TIMEOUT_MS)  # an admin's home
        page.get_by_test_id("stMetricValue").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        before = _leads_shown(page)

        _open_import(page)
        page.locator("input[type=file]").first.set_input_files(str(_csv(tmp_path, bad_row=True)))
        page.get_by_text(f"{NEW_LEADS} rows, 6 columns").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        keep = page.get_by_role("checkbox", name="Keep the other columns as attributes")
        assert keep.is_checked(), "the other columns are kept unless the admin says otherwise"
        page.get_by_role("button", name="Check (dry run)").click()
        page.get_by_text("2 problems; nothing was imported").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("button", name="Download the problem report (CSV)").wait_for(timeout=TIMEOUT_MS)
        page.get_by_role("button", name="Download the problem report (CSV)").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        screenshot(page, "import-refused")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the problem report (CSV)").click()
        report = Path(download.value.path()).read_text(encoding="utf-8")
        settle(page)
        # A leading '-' would run as a formula in a spreadsheet: the report defuses it.
        assert "broken-leads.csv,6,6,Amount,'-5,a negative amount" in report
        assert 'broken-leads.csv,6,6,Create Date,31/02/2026,"not a date in any of the formats' in report

        page.locator("input[type=file]").first.set_input_files(str(_csv(tmp_path)))
        page.get_by_text(f"{NEW_LEADS} rows, 6 columns").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.get_by_role("button", name="Check (dry run)").click()
        page.get_by_text("Dry run — nothing was written").wait_for(timeout=TIMEOUT_MS)
        page.get_by_text("Would create").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        shot = screenshot(page, "import-dry-run")
        readme_picture(shot, "import.png")

        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text(f"{NEW_LEADS} leads created").wait_for(timeout=TIMEOUT_MS)
        screenshot(page, "import-done")

        page.get_by_test_id("stSidebar").get_by_role("link", name="Overview").click()
        page.get_by_role("heading", name="Overview").wait_for(timeout=TIMEOUT_MS)
        page.get_by_test_id("stMetricValue").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        assert _leads_shown(page) == before + NEW_LEADS

        _open_import(page)
        page.locator("input[type=file]").first.set_input_files(str(_csv(tmp_path)))
        page.get_by_text(f"{NEW_LEADS} rows, 6 columns").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.get_by_role("button", name="Import", exact=True).click()
        page.get_by_text(f"nothing changed: all {NEW_LEADS} leads were already up to date").wait_for(
            timeout=TIMEOUT_MS
        )
    finally:
        screenshot(page, "import-last-state")  # what the page showed when the test ended, pass or fail
        context.close()
