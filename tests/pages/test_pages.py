"""Every page renders for every role that may see it and is absent for the others; the login gate holds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from core.kpis import headline
from core.periods import headline_months
from core.trends import latest_event_day
from db import clock
from db.engine import make_engine
from db.frames import load_leads
from db.models import Role
from tests.pages.conftest import DEMO_USERS, PROJECT_ROOT, _database, logged_in_app, new_app
from ui.auth import CurrentUser
from ui.navigation import PAGES

CELLS = [(page, role) for page in PAGES for role in Role]


def _page_id(cell: tuple[object, Role]) -> str:
    page, role = cell
    return f"{page.url_path}-{role.value}"  # type: ignore[attr-defined]


@pytest.mark.parametrize("cell", CELLS, ids=[_page_id(c) for c in CELLS])
def test_every_page_renders_for_its_roles_and_is_absent_for_others(
    app_env: str, cell: tuple[object, Role]
) -> None:
    page, role = cell
    at = logged_in_app(DEMO_USERS[role.value]).run()  # through app.py's gate: it registers the role's pages
    if role.value not in page.roles:  # type: ignore[attr-defined]
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page.path)  # type: ignore[attr-defined]
        return
    at.switch_page(page.path).run()  # type: ignore[attr-defined]
    assert not at.exception, at.exception
    assert page.title in [t.value for t in at.title]  # type: ignore[attr-defined]
    assert not at.error


@pytest.mark.parametrize("role", [r for r in Role if r.value != "admin"])
def test_the_import_page_itself_refuses_other_roles(app_env: str, role: Role) -> None:
    """Even run directly, past the navigation, the page checks the role."""
    at = AppTest.from_file(str(PROJECT_ROOT / "screens" / "import_data.py"), default_timeout=60)
    at.session_state["huddle_user"] = CurrentUser(id=1, username="x", name="X", role=role, team_id=None)
    at.run()
    assert [e.value for e in at.error] == ["This page is not available to your role."]
    assert not at.title


def test_not_logged_in_shows_the_login_form_and_no_page(app_env: str) -> None:
    at = new_app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Huddle"]
    assert at.text_input and {w.label for w in at.text_input} == {"Username", "Password"}
    assert not at.metric


def test_wrong_password_says_only_that(app_env: str) -> None:
    at = new_app().run()
    at.text_input[0].input("exec")
    at.text_input[1].input("not-the-password")
    at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Wrong username or password."]
    assert not at.metric


def test_right_password_logs_in(app_env: str) -> None:
    at = new_app().run()
    at.text_input[0].input("exec")
    at.text_input[1].input("huddle-demo")
    at.button[0].click().run()
    assert not at.exception
    assert "Weekly sync" in [t.value for t in at.title]  # an executive lands on the meeting
    assert "Alex Morgan" in [t.value for t in at.sidebar.text]


def test_a_session_of_someone_the_database_does_not_know_is_sent_to_login(app_env: str) -> None:
    # Logout itself is driven in real Chromium (tests/e2e): in AppTest a click on the sidebar logout
    # button (drawn by the entry point around st.navigation) did not reach its handler.
    at = logged_in_app("someone-who-does-not-exist").run()
    assert [t.value for t in at.title] == ["Huddle"]
    assert not at.metric


def test_overview_numbers_are_the_core_numbers(app_env: str) -> None:
    at = logged_in_app("exec").run()
    at.switch_page("screens/overview.py").run()
    assert not at.exception
    leads = load_leads(make_engine(app_env))
    today = clock.today()
    anchor = min(today, latest_event_day(leads) or today)
    expected = headline(leads, headline_months(anchor)[0], today=today)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Leads"] == f"{expected.stages['leads']:,}"
    assert shown["MQLs"] == f"{expected.stages['mql']:,}"
    assert shown["Won deals"] == f"{expected.stages['won']:,}"
    assert shown["Revenue"] == f"${expected.revenue:,.0f}"
    assert shown["Win rate"] == ("—" if expected.win_rate.value is None else f"{expected.win_rate.value:.1%}")
    assert all(m.help for m in at.metric)  # every number carries its definition


def test_empty_database_shows_what_to_do(
    app_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
) -> None:
    from db.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", _database(tmp_path / "empty.db", leads=None))  # type: ignore[operator]
    get_settings.cache_clear()
    at = logged_in_app("exec")
    at.run()
    # No users in an empty database: nobody can be logged in, the login form shows.
    assert [t.value for t in at.title] == ["Huddle"]


def _use_database_with_only_an_exec(path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A fresh database whose only person is an executive, and the app pointed at it."""
    from sqlmodel import Session

    from db.models import User
    from db.settings import get_settings

    url = _database(path, leads=None)
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(User(username="exec", name="Exec", role=Role.executive))
        session.commit()
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    return engine


def test_overview_without_leads_explains_why(
    app_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
) -> None:
    _use_database_with_only_an_exec(tmp_path / "no-leads.db", monkeypatch)  # type: ignore[operator]
    at = logged_in_app("exec").run()
    assert not at.exception
    assert any("No leads yet" in i.value for i in at.info)
    assert not at.metric


def test_win_rate_is_not_in_this_data_when_no_loss_is_ever_recorded(
    app_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
) -> None:
    from db.access import OPERATOR
    from db.importing.mapping import parse_mapping
    from db.importing.run import RunOptions, import_csv

    engine = _use_database_with_only_an_exec(tmp_path / "wins-only.db", monkeypatch)  # type: ignore[operator]
    # The data ends on the last day of a month, so the Overview shows that whole month on any date.
    day = (clock.today().replace(day=1) - timedelta(days=1)).isoformat()
    wins_only = f"id,created,won\n1,{day},{day}\n2,{day},\n".encode()
    mapping = parse_mapping(
        '[source]\nname = "shop"\n[columns]\nexternal_id = "id"\ncreated_date = "created"\n'
        'mql_date = "created"\nclose_date = "won"\n[outcome]\nclosed_means = "won"\n'
    )
    assert import_csv(engine, wins_only, mapping, file_name="wins.csv", options=RunOptions(actor=OPERATOR)).ok
    at = logged_in_app("exec").run()
    at.switch_page("screens/overview.py").run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Won deals"] == "1"
    assert shown["Win rate"] == "not in this data"  # never "100.0%" from data that cannot say "lost"
    assert any("records no lost deals" in c.value for c in at.caption)


def test_unreachable_database_is_one_clear_line(app_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from db.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://huddle:topsecret@127.0.0.1:1/huddle")
    get_settings.cache_clear()
    at = new_app().run()
    assert not at.exception
    (error,) = at.error
    assert "cannot reach the database at postgresql+psycopg://huddle:***@127.0.0.1:1/huddle" in error.value
    assert "topsecret" not in error.value


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("too-short", "shorter than 32 bytes"),
        ("x" * 31, "shorter than 32 bytes"),
        ("", "missing or a placeholder"),
        ("changeme", "missing or a placeholder"),
        ("  Replace-Me ", "missing or a placeholder"),
    ],
)
def test_outside_demo_mode_a_missing_default_or_short_cookie_key_stops_the_app(
    app_env: str, monkeypatch: pytest.MonkeyPatch, key: str, reason: str
) -> None:
    from db.settings import get_settings

    monkeypatch.setenv("HUDDLE_COOKIE_KEY", key)
    get_settings.cache_clear()
    at = new_app().run()
    (error,) = at.error
    assert reason in error.value and "HUDDLE_COOKIE_KEY" in error.value and "secrets.toml" in error.value
    assert not at.text_input


def test_a_key_of_32_bytes_is_enough(app_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from db.settings import get_settings

    monkeypatch.setenv("HUDDLE_COOKIE_KEY", "y" * 32)
    get_settings.cache_clear()
    at = new_app().run()
    assert not at.error and {w.label for w in at.text_input} == {"Username", "Password"}


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        (None, "has no Huddle tables yet: run `python -m db upgrade` first"),
        ("9999_from_a_newer_huddle", "which this version of Huddle does not know"),
    ],
)
def test_a_database_the_app_cannot_use_as_it_is_is_one_clear_line(
    app_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, schema: str | None, says: str
) -> None:
    """A deploy that skipped `python -m db upgrade`, or an older Huddle on a database a newer one migrated:
    one line saying what to run, never a login form over a schema the app cannot use."""
    import sqlite3

    from db.migrate import upgrade_to_head
    from db.settings import get_settings

    path = tmp_path / "other.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    if schema is None:
        engine.connect().close()  # the file exists, with no table
    else:
        upgrade_to_head(engine)
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (schema,))
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    at = new_app().run()
    assert not at.exception
    (error,) = at.error
    assert "Huddle cannot use its database" in error.value and says in error.value
    assert not at.text_input  # no login form
