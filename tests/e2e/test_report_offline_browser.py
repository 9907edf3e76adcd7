"""The weekly report file opens in Chromium with the network cut off and draws every chart: no request
leaves the page (every one is recorded and refused), the page's policy blocks nothing it needs, and the
console stays clean."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from core.charts import funnel_chart, revenue_by_chart, win_rate_chart
from core.report import ReportSection, report_html
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 30_000
HOSTILE = "<img src=x onerror=alert(1)>"
# Runs before the page's own scripts (Playwright injects it past the page's policy): counts what the
# Content-Security-Policy refused, so a policy too tight for plotly fails the test by name.
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.violations.push(e.violatedDirective));
"""

STEPS = pl.DataFrame(
    {"stage": ["Leads", "MQLs", "SQLs", "Opportunities", "Won deals"], "count": [900, 400, 160, 70, 21]}
)
WIN_RATE = pl.DataFrame(
    {
        "bucket": [date(2024, 12, 16), date(2024, 12, 23), date(2024, 12, 30), date(2025, 1, 6)],
        "win_rate": [0.30, 0.25, 0.20, 0.40],
        "ci_low": [0.15, 0.10, 0.05, 0.22],
        "ci_high": [0.50, 0.47, 0.45, 0.61],
        "won": [6, 4, 2, 8],
        "closed": [20, 16, 10, 20],
    }
)
REVENUE = pl.DataFrame(
    {
        "key": ["Paid search", "Email", HOSTILE],
        "revenue": [52_000.0, 31_500.0, 4_000.0],
        "previous": [40_000.0, 35_000.0, 0.0],
        "last_year": [30_000.0, 20_000.0, 1_000.0],
    }
)
BREACHES = pl.DataFrame(
    {
        "Owner": ["Ana Ruiz", HOSTILE, "=HYPERLINK(1)"],
        "MQL at": [datetime(2025, 1, 7, 9, 15), datetime(2025, 1, 8, 14, 0), datetime(2025, 1, 9, 11, 30)],
        "Hours without a touch": [30.5, 52.25, 26.0],
    }
)


def weekly_sections() -> list[ReportSection]:
    return [
        ReportSection(
            "Funnel this week",
            lines=("900 new leads, 400 MQLs and 21 deals won (week 2025-W02).",),
            figures=(funnel_chart(STEPS, "This week's funnel"),),
        ),
        ReportSection(
            "Win rate",
            lines=("Won ÷ closed per week, with its 95% interval.",),
            figures=(win_rate_chart(WIN_RATE, "Win rate per week", "week"),),
        ),
        ReportSection(
            "Sales' side & marketing's side",
            lines=("Three MQLs went more than 24 hours without a touch.",),
            tables=(("Breaches", BREACHES),),
            figures=(revenue_by_chart(REVENUE, "Revenue by source"),),
        ),
    ]


def _refuse_and_record(requests: list[str], page_url: str) -> Any:
    def handle(route: Any) -> None:
        if route.request.url == page_url:
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    return handle


def test_the_report_draws_every_chart_offline_and_asks_for_nothing(browser: Any, tmp_path: Path) -> None:
    started = time.perf_counter()
    document = report_html(
        "Huddle weekly sync",
        "Week 2025-W02: Jan 6 – 12",
        weekly_sections(),
        made_at=datetime(2025, 1, 13, 8, 0, tzinfo=UTC),
    )
    seconds = time.perf_counter() - started
    path = tmp_path / "week.html"
    path.write_text(document, encoding="utf-8")
    print(f"report: {len(document.encode()):,} bytes, made in {seconds * 1000:.0f} ms")
    url = path.as_uri()

    context = browser.new_context(viewport={"width": 900, "height": 2000})
    context.set_offline(True)
    refused: list[str] = []
    seen: list[str] = []
    context.route("**/*", _refuse_and_record(refused, url))
    context.on("request", lambda request: seen.append(request.url))
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    try:
        page.goto(url)
        page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=TIMEOUT_MS
        )
        page.wait_for_timeout(500)  # let a late request or error show itself

        assert refused == []
        assert seen == [url]
        assert page.evaluate("window.violations") == []
        assert problems == []

        plots = page.locator(".js-plotly-plot")
        assert plots.count() == 3
        assert [plots.nth(i).locator(".gtitle").text_content() for i in range(3)] == [
            "This week's funnel",
            "Win rate per week",
            "Revenue by source",
        ]
        funnel, win_rate, revenue = (plots.nth(i) for i in range(3))
        # Five stages, five funnel bars, the widest for the 900 leads.
        funnel_bars = funnel.locator(".funnellayer .point path")
        assert funnel_bars.count() == 5
        widths = [funnel_bars.nth(i).bounding_box()["width"] for i in range(5)]
        assert widths == sorted(widths, reverse=True) and widths[-1] > 0
        assert funnel.locator(".funnellayer .point text").all_text_contents() == [
            "900",
            "400",
            "160",
            "70",
            "21",
        ]
        # The band is a filled area and the win rate a drawn line with a marker per week.
        assert win_rate.locator(".scatterlayer .trace").count() == 3
        assert win_rate.locator(".scatterlayer .fills path").count() >= 1
        assert win_rate.locator(".scatterlayer .trace").nth(2).locator(".points path").count() == 4
        # Three sources x (this period, previous, last year), drawn as horizontal bars; the hostile source
        # name is a tick label, shown as text.
        assert revenue.locator(".barlayer .point path").count() == 9
        assert HOSTILE in revenue.locator(".ytick").all_text_contents()

        assert page.locator("table td").all_inner_texts() == [
            "Ana Ruiz", "2025-01-07 09:15", "30.50",
            HOSTILE, "2025-01-08 14:00", "52.25",
            "=HYPERLINK(1)", "2025-01-09 11:30", "26.00",
        ]  # fmt: skip
        assert page.locator("img").count() == 0
        assert page.locator("footer").inner_text() == "Made by Huddle on 2025-01-13 08:00 UTC."
        screenshot(page, "report-offline")
    finally:
        context.close()
