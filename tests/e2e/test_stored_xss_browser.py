"""Stored XSS: hostile text imported into leads, a hostile display name and hostile rating notes are rendered
on every page, for an executive, an admin, a rep and a sales manager, in real Chromium: no dialog ever
opens, no tag or javascript: link is made of it, and where the text is shown it is shown as text."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db import clock
from db.access import OPERATOR
from db.demo import seed_demo
from db.engine import make_engine, write_session
from db.importing.mapping import parse_mapping
from db.importing.run import RunOptions, import_csv
from db.migrate import upgrade_to_head
from db.models import Lead, LeadRating, Role, User, UserCreate
from db.ratings import RatingIn, rate_lead
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


def rate_with_hostile_notes(engine: Engine, username: str, count: int) -> dict[str, str]:
    """`username` rates `count` MQLs of their own (a manager: of their team) they had not rated, through the
    rating service, each note one of the hostile values. {lead's external id: note}."""
    with write_session(engine) as session:
        rater = session.exec(select(User).where(User.username == username)).one()
        rated = select(LeadRating.lead_id).where(LeadRating.rater_id == rater.id)
        mine = Lead.owner_id == rater.id if rater.role == Role.rep else Lead.team_id == rater.team_id
        leads = session.exec(
            select(Lead.id, Lead.external_id)
            .where(mine, col(Lead.mql_at).is_not(None), col(Lead.id).not_in(rated))
            .order_by(col(Lead.id))
            .limit(count)
        ).all()
        assert len(leads) == count, f"{username} has only {len(leads)} MQLs to rate"
        notes = {}
        for number, (lead_id, external_id) in enumerate(leads):
            notes[external_id] = HOSTILE[number % len(HOSTILE)]
            rating = RatingIn(lead_id, 2, ("too_small",), notes[external_id])
            rate_lead(session=session, actor=rater, rating=rating)
        return notes


@dataclass(frozen=True)
class HostileServer:
    base: str
    notes: dict[str, dict[str, str]]  # username -> {external id of a lead they rated: its hostile note}


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileServer]:
    folder = tmp_path_factory.mktemp("xss")
    url = f"sqlite:///{folder / 'huddle.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    today = clock.today()
    seed_demo(engine, leads=400, seed=7, today=today)
    result = import_csv(
        engine,
        hostile_csv(today.isoformat()),
        parse_mapping(MAPPING),
        file_name=f"{IMG}.csv",
        options=RunOptions(actor=OPERATOR),
    )
    assert result.ok, result.describe()
    with write_session(engine) as session:
        create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(username="hostile", name=IMG, role=Role.executive, password=HOSTILE_PASSWORD),
        )
    notes = {"rep": rate_with_hostile_notes(engine, "rep", len(HOSTILE))}
    notes["manager"] = rate_with_hostile_notes(engine, "manager", 2)
    engine.dispose()
    with streamlit_server(url) as base:
        yield HostileServer(base, notes)


def _no_markup_made_of_data(page: Any) -> None:
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert page.locator("script:text('alert')").count() == 0


def _visit_every_page(page: Any, role: Role, name: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    for spec in pages_for(role.value):
        sidebar.get_by_role("link", name=spec.title, exact=True).click()
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
        # The list draws only the options in view (the sidebar lists every page above it): type to find one.
        page.keyboard.type(text)
        page.get_by_role("option", name=text, exact=True).wait_for(timeout=TIMEOUT_MS)
        _no_markup_made_of_data(page)
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.press("Backspace")
    screenshot(page, "xss-exec-source-filter")
    page.keyboard.press("Escape")


def _hostile_notes_are_shown_as_text(page: Any, notes: dict[str, str], username: str) -> None:
    """Rate my leads lists the person's recent ratings; each hostile note comes back, character for
    character, in the box to change it."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("link", name="Rate my leads").click()
    page.get_by_role("heading", name="Rate my leads").wait_for(timeout=TIMEOUT_MS)
    settle(page)
    for external_id, note in notes.items():
        page.get_by_test_id("stSelectbox").filter(has_text="Change a rating").click()
        page.keyboard.type(external_id)
        page.get_by_role("option", name=re.compile(f"^{re.escape(external_id)}: ")).click()
        settle(page)
        box = page.get_by_role("textbox", name="Note (optional)").last
        box.wait_for(timeout=TIMEOUT_MS)
        assert box.input_value() == note
        _no_markup_made_of_data(page)
        box.scroll_into_view_if_needed()
        screenshot(page, f"xss-{username}-rating-note-{list(notes).index(external_id)}")


@pytest.mark.parametrize(
    ("username", "password", "role"),
    [
        ("exec", "huddle-demo", Role.executive),
        ("admin", "huddle-demo", Role.admin),
        ("hostile", HOSTILE_PASSWORD, Role.executive),
        ("rep", "huddle-demo", Role.rep),
        ("manager", "huddle-demo", Role.sales_manager),
    ],
)
def test_hostile_text_never_runs_on_any_page(
    browser: Any, hostile_server: HostileServer, username: str, password: str, role: Role
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        _log_in(page, hostile_server.base, username, password)
        # Each role starts on a screen of its own; the navigation is there once logged in.
        page.get_by_test_id("stSidebar").get_by_role("link", name="Funnel").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        _visit_every_page(page, role, username)
        if username == "exec":
            _hostile_sources_are_listed_as_text(page)
        if username in hostile_server.notes:
            _hostile_notes_are_shown_as_text(page, hostile_server.notes[username], username)
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
