"""AppTest against a small seeded demo database, logged in by setting the session state the gate reads."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from db import clock
from db.demo import seed_demo
from db.engine import make_engine, write_session
from db.migrate import upgrade_to_head
from db.sessions import session_key, start_session
from db.settings import get_settings
from db.users import get_user

TEST_COOKIE_KEY = "k" * 48
_SESSIONS = itertools.count()
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_USERS = {
    "rep": "rep",
    "sales_manager": "manager",
    "marketer": "marketer",
    "executive": "exec",
    "admin": "admin",
}


def _database(path: Path, *, leads: int | None) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    if leads:
        seed_demo(engine, leads=leads, seed=7, today=clock.today())
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def demo_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database(tmp_path_factory.mktemp("apptest") / "demo.db", leads=2000)


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, demo_database_url: str) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", demo_database_url)
    monkeypatch.setenv("HUDDLE_COOKIE_KEY", TEST_COOKIE_KEY)
    monkeypatch.setenv("HUDDLE_DEMO", "0")
    # A page shows "still learning" after a short wait for the shared tuning (tests/pages/
    # test_criteria_page.py tests that); on a loaded test machine the other pages' tests wait for it.
    monkeypatch.setattr("ui.criteria.WAIT_SECONDS", 300.0)
    get_settings.cache_clear()
    st.cache_data.clear()
    yield demo_database_url
    get_settings.cache_clear()
    st.cache_data.clear()


def new_app() -> AppTest:
    return AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)


def start_test_session(username: str) -> str | None:
    """A live server-side session for `username` in the app's database, as a real login makes one."""
    engine = make_engine(get_settings().database_url)
    try:
        with write_session(engine) as session:
            user = get_user(session=session, username=username)
            if user is None:
                return None
            key = session_key(username, time.time() + 86_400 + next(_SESSIONS))
            start_session(session=session, user=user, key=key)
            return key
    finally:
        engine.dispose()


def logged_in_app(username: str) -> AppTest:
    """The app as the gate sees a logged-in person: the widget's state and a live session row."""
    at = new_app()
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    key = start_test_session(username)
    if key is not None:
        at.session_state["huddle_session_key"] = key
    return at


@pytest.fixture
def fresh_app_env(app_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app on its own copy of the demo database, for tests that lock, disable or change people."""
    source = sqlite3.connect(app_env.removeprefix("sqlite:///"))
    target = sqlite3.connect(tmp_path / "own.db")
    with target:
        source.backup(target)
    source.close()
    target.close()
    url = f"sqlite:///{tmp_path / 'own.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def without_demo_answers(url: str) -> str:
    """`url` (a SQLite copy of the demo) with none of the demo's handoff answers, for tests whose counts are
    worked out from the answers they give themselves."""
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    with connection:
        connection.execute("DELETE FROM lead_handoff_history")
        connection.execute("DELETE FROM lead_handoffs")
    connection.close()
    return url


@pytest.fixture
def unanswered_app_env(fresh_app_env: str) -> str:
    """fresh_app_env before any handoff answer: the demo's are deleted."""
    return without_demo_answers(fresh_app_env)
