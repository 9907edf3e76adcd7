"""The Import page as an admin sees it: the empty state, the presets, and the list of recent imports."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from db.engine import make_engine
from db.importing.mapping import parse_mapping
from db.importing.run import import_csv
from db.settings import get_settings
from tests.pages.conftest import TEST_COOKIE_KEY, _database, logged_in_app
from ui.importing import guessed_columns, mapping_from_choices

MAPPING = """
[source]
name = "tiny"
[columns]
external_id = "id"
created_date = "created"
"""


def _import_page(monkeypatch: pytest.MonkeyPatch, url: str) -> object:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HUDDLE_COOKIE_KEY", TEST_COOKIE_KEY)
    monkeypatch.setenv("HUDDLE_DEMO", "0")
    get_settings.cache_clear()
    st.cache_data.clear()
    at = logged_in_app("admin").run()
    at.switch_page("screens/import_data.py").run()
    return at


def test_an_admin_sees_how_to_start_and_no_history_yet(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _import_page(monkeypatch, _database(tmp_path / "empty.db", leads=200))
    assert not at.exception  # type: ignore[attr-defined]
    infos = [i.value for i in at.info]  # type: ignore[attr-defined]
    assert any("Choose a CSV export from your CRM" in text for text in infos)
    assert "Choose both files." in infos
    assert any(text.startswith("Still needed: sales_pipeline.csv") for text in infos)
    assert "No imports yet." in infos
    get_settings.cache_clear()


def test_recent_imports_list_who_imported_what(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = _database(tmp_path / "history.db", leads=200)
    engine = make_engine(url)
    result = import_csv(engine, b"id,created\nA,2026-01-02\nB,2026-01-03\n", parse_mapping(MAPPING))
    assert result.ok
    engine.dispose()
    at = _import_page(monkeypatch, url)
    tables = at.dataframe  # type: ignore[attr-defined]
    assert tables, "the recent imports table"
    history = tables[-1].value
    assert list(history["source"]) == ["tiny"] and list(history["created"]) == [2]
    assert list(history["who"]) == ["command line"] and list(history["status"]) == ["done"]
    get_settings.cache_clear()


def test_the_form_guesses_columns_from_common_crm_headers() -> None:
    header = ["Lead ID", "Create Date", "Lead Source", "Lead Owner", "Amount", "Industry", "No. of Employees"]
    guesses = guessed_columns(header)
    assert guesses == {
        "external_id": "Lead ID",
        "created_date": "Create Date",
        "amount": "Amount",
        "owner": "Lead Owner",
        "source": "Lead Source",
        "industry": "Industry",
        "company_size": "No. of Employees",
    }


def test_a_hand_made_mapping_obeys_the_file_rules() -> None:
    mapping = mapping_from_choices(
        source_name="crm",
        source_label="",
        columns={"external_id": "Lead ID", "close_date": "Closed"},
        null_values=["N/A", ""],
        date_formats=["%d/%m/%Y", ""],
        outcome_column="Status",
        outcome_values={"Closed Won": "won", "Closed Lost": "lost", "Working": "open"},
        stage_column=None,
        stage_values={},
    )
    assert mapping.source_label == "crm" and mapping.read.null_values == ("N/A",)
    assert mapping.read.date_formats == ("%d/%m/%Y",)
    assert mapping.outcome is not None and mapping.outcome.values["Closed Won"] == "won"
