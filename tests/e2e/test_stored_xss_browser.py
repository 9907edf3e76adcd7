"""Stored XSS: hostile text imported into leads (and a hostile display name) is rendered on every page, for
an executive and an admin, in real Chromium: no dialog ever opens, no tag or javascript: link is made of it,
and where the text is shown it is shown as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from db.access import OPERATOR
from db.demo import seed_demo
from db.engine import make_engine, write_session
from db.importing.mapping import parse_mapping
from db.importing.run import import_csv
from db.migrate import upgrade_to_head
from db.models import Role, UserCreate
from db.users import create_user
from tests.e2e.conftest import screenshot, settle, streamlit_server
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in
from ui.navigation import pages_for

pytestmark = pytest.mark.e2e
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
HTML_LINK = '<a href="javascript:alert(3)">click</a>'
MARKDOWN_LINK = "[click me](javascript:alert(4))"
BARE_JS = "javascript:alert(5)"
HOSTILE = (IMG, SCRIPT, HTML_LINK, MARKDOWN_LINK, BARE_JS)
FIELDS = ("owner", "team", "source", "campaign", "landing", "industry", "country", "persona")
HOSTILE_PASSWORD = "hostile-name-password"
MAPPING = """
[source]
name = "hostile"
label = "<script>alert('label')</script>"
[columns]
external_id = "id"
created_date = "created"
mql_date = "mql"
close_date = "won"
amount = "amount"
owner = "owner"
team = "team"
source = "source"
campaign = "campaign"
landing_page = "landing"
industry = "industry"
country = "country"
persona = "persona"
[outcome]
closed_means = "won"
"""


def hostile_csv(today: str) -> bytes:
    """Ten leads, won today, whose every text field holds one of the hostile values."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "created", "mql", "won", "amount", *FIELDS])
    for number in range(10):
        texts = [HOSTILE[(number + shift) % len(HOSTILE)] for shift in range(len(FIELDS))]
        writer.writerow([f"x{number}", today, today, today, "1000", *texts])
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("xss")
    url = f"sqlite:///{folder / 'huddle.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    today = datetime.now(UTC).date()
    seed_demo(engine, leads=400, seed=7, today=today)
    result = import_csv(
        engine, hostile_csv(today.isoformat()), parse_mapping(MAPPING), file_name=f"{IMG}.csv"
    )
    assert result.ok, result.describe()
    with write_session(engine) as session:
        create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(username="hostile", name=IMG, role=Role.executive, password=HOSTILE_PASSWORD),
        )
    engine.dispose()
    with streamlit_server(url) as base:
        yield base


def _no_markup_made_of_data(page: Any) -> None:
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert page.locator("script:text('alert')").count() == 0


def _visit_every_page(page: Any, role: Role, name: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    for spec in pages_for(role.value):
        sidebar.get_by_role("link", name=spec.title).click()
        page.get_by_role("heading", name=spec.title).first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.wait_for_timeout(800)  # charts and tables draw after the run
        _no_markup_made_of_data(page)
        screenshot(page, f"xss-{name}-{spec.url_path}")


def _hostile_sources_are_listed_as_text(page: Any) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("link", name="Funnel").click()
    page.get_by_role("heading", name="Funnel").wait_for(timeout=TIMEOUT_MS)
    settle(page)
    sidebar.get_by_text("Source", exact=True).locator(
        "xpath=ancestor::div[@data-testid='stSelectbox']"
    ).click()
    for text in HOSTILE:
        page.get_by_role("option", name=text, exact=True).wait_for(timeout=TIMEOUT_MS)
    _no_markup_made_of_data(page)
    screenshot(page, "xss-exec-source-filter")
    page.keyboard.press("Escape")


@pytest.mark.parametrize(
    ("username", "password", "role"),
    [
        ("exec", "huddle-demo", Role.executive),
        ("admin", "huddle-demo", Role.admin),
        ("hostile", HOSTILE_PASSWORD, Role.executive),
    ],
)
def test_hostile_text_never_runs_on_any_page(
    browser: Any, hostile_server: str, username: str, password: str, role: Role
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        _log_in(page, hostile_server, username, password)
        page.get_by_role("heading", name="Overview").wait_for(timeout=TIMEOUT_MS)
        _visit_every_page(page, role, username)
        if username == "exec":
            _hostile_sources_are_listed_as_text(page)
        if username == "hostile":
            # The display name is shown, as the very characters it is made of.
            page.get_by_test_id("stSidebar").get_by_text(IMG, exact=True).wait_for(timeout=TIMEOUT_MS)
        assert dialogs == []
    finally:
        context.close()


def test_the_hostile_file_is_what_the_test_thinks_it_is() -> None:
    rows = list(csv.reader(io.StringIO(hostile_csv("2026-01-01").decode())))
    assert len(rows) == 11
    assert {cell for row in rows[1:] for cell in row[5:]} == set(HOSTILE)
