"""AppTest against a small seeded demo database, logged in by setting the session state the gate reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from db.demo import seed_demo
from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.settings import get_settings

TEST_COOKIE_KEY = "k" * 48
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
        seed_demo(engine, leads=leads, seed=7, today=date.today())
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
    get_settings.cache_clear()
    st.cache_data.clear()
    yield demo_database_url
    get_settings.cache_clear()
    st.cache_data.clear()


def new_app() -> AppTest:
    return AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)


def logged_in_app(username: str) -> AppTest:
    at = new_app()
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    return at
