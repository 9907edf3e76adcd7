"""The Import page as an admin sees it: a CSV with a mapping first (and the example mappings), the public
sample data sets in their own section, problems grouped one line each, and the list of recent imports."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from db.access import OPERATOR
from db.engine import make_engine
from db.importing.mapping import mapping_to_toml, parse_mapping
from db.importing.run import RunOptions, import_csv
from db.settings import get_settings
from tests.pages.conftest import TEST_COOKIE_KEY, _database, logged_in_app
from ui.importing import IMPORTED_RATER, NOT_IN_FILE, RATER_OFFERED, guessed_columns, mapping_from_choices

MAPPING = """
[source]
name = "tiny"
[columns]
external_id = "id"
created_date = "created"
"""
# As the page names them (a page script runs when imported, so they are spelled out here).
FROM_FILE = "Upload a mapping file (.toml)"
OLIST, MAVEN = "Olist marketing funnel", "Maven CRM sales opportunities"
DEALS_MAPPING = """
[source]
name = "deals"
[columns]
external_id = "Deal ID"
created_date = "Created"
[outcome]
column = "Status"
[outcome.values]
Won = "won"
"""


def _import_page(monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
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
    assert not at.exception
    infos = [i.value for i in at.info]
    assert any("Choose a CSV export from your CRM" in text for text in infos)
    assert "Choose both files." in infos, "the Olist sample is the first one offered"
    assert "No imports yet." in infos
    at.radio(key="sample_set").set_value(MAVEN).run()
    infos = [i.value for i in at.info]
    assert any(text.startswith("Still needed: sales_pipeline.csv") for text in infos)
    get_settings.cache_clear()


def test_the_page_leads_with_a_csv_and_a_mapping_and_keeps_sample_data_apart(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _import_page(monkeypatch, _database(tmp_path / "layout.db", leads=200))
    tabs = at.tabs
    assert [tab.label for tab in tabs] == ["CSV with a mapping", "Try with sample data", "Recent imports"]
    csv_tab, sample_tab = tabs[0], tabs[1]
    # First: the CRM export, and the HubSpot and Salesforce examples to start from (pick or download).
    assert [u.label for u in csv_tab.file_uploader] == ["CRM export (CSV)"]
    downloads = {b.label for b in csv_tab.download_button}
    assert downloads == {"HubSpot contacts export", "Salesforce leads report"}
    assert any("pick one under *Mapping*" in c.value for c in csv_tab.caption)
    # Olist and Maven: public sample data sets, in their own section, not CRMs beside the CSV.
    (choice,) = sample_tab.radio
    assert choice.label == "Sample data set" and list(choice.options) == [OLIST, MAVEN]
    assert any(c.value.startswith("Public sample data sets, not CRMs") for c in sample_tab.caption)
    assert [u.label for u in sample_tab.file_uploader] == [
        "olist_marketing_qualified_leads_dataset.csv",
        "olist_closed_deals_dataset.csv",
    ]
    get_settings.cache_clear()


def _leads(url: str) -> list[tuple[str, int]]:
    engine = make_engine(url)
    query = text("SELECT source_system, count(*) FROM leads GROUP BY source_system ORDER BY source_system")
    with engine.connect() as connection:
        counts = [(str(source), int(count)) for source, count in connection.execute(query)]
    engine.dispose()
    return counts


def _unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def _grouped_lines(at: AppTest) -> list[str]:
    items = [_unescaped(m.value) for m in at.markdown]
    return [line.removeprefix("- ") for text in items for line in text.splitlines() if line.startswith("- ")]


def _deals(rows: int, header: str, row: Callable[[int], str]) -> bytes:
    return ("\n".join([header, *(row(i) for i in range(rows))]) + "\n").encode()


def test_a_mapping_file_without_close_dates_gets_one_grouped_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = _database(tmp_path / "grouped.db", leads=200)
    leads_before = _leads(url)
    at = _import_page(monkeypatch, url)
    export = _deals(10_000, "Deal ID,Created,Status", lambda i: f"D-{i},2026-01-{1 + i % 28:02d},Won")
    at.file_uploader(key="csv_file").set_value(("deals.csv", export, "text/csv")).run()
    at.radio(key="mapping_choice").set_value(FROM_FILE).run()
    mapping = DEALS_MAPPING.encode()
    at.file_uploader(key="mapping_file").set_value(("deals.toml", mapping, "application/toml")).run()
    at.button(key="csv_dry").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("10,000 problems; nothing was imported")
    assert _grouped_lines(at) == [
        "10,000 rows: a won deal needs a close date; map `close_date` in [columns] (rows 2, 3, 4 and 9,997 more)"
    ]
    assert "Row by row (the first 200)" in [e.label for e in at.expander]
    assert "Download the problem report (CSV)" in [b.label for b in at.download_button]
    at.button(key="csv_go").click().run()
    assert _grouped_lines(at)[0].startswith("10,000 rows: a won deal needs a close date")
    assert _leads(url) == leads_before, "all or nothing: not one of the 10,000 rows was written"
    get_settings.cache_clear()


def test_the_hand_mapping_names_the_field_as_the_form_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _import_page(monkeypatch, _database(tmp_path / "by-hand.db", leads=200))
    export = _deals(
        10_000, "Record ID,Create Date,Close Date", lambda i: f"R-{i},2026-01-{1 + i % 28:02d},2026-02-01"
    )
    at.file_uploader(key="csv_file").set_value(("deals.csv", export, "text/csv")).run()
    assert at.selectbox(key="map_close_date").value == "Close Date", "guessed"
    assert at.selectbox(key="map_outcome").value == NOT_IN_FILE
    at.button(key="csv_dry").click().run()
    assert not at.exception
    assert _grouped_lines(at) == [
        "10,000 rows, column 'Close Date': a close date but no outcome (won or lost); "
        "map “Outcome column (won / lost / open)” above (rows 2, 3, 4 and 9,997 more)"
    ]
    get_settings.cache_clear()


def _imported_by_hand(at: AppTest, url: str, query: str) -> list[tuple[object, ...]]:
    """Import with the form as it stands (4 leads expected), then the rows of `query`, by external id."""
    at.button(key="csv_go").click().run()
    assert not at.exception
    assert at.success and "4 leads created" in at.success[0].value, _grouped_lines(at)
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(text(f"{query} ORDER BY external_id")).all()
    engine.dispose()
    return [tuple(r) for r in stored]


PIPEDRIVE_DEALS = (
    b"Deal - ID,Deal - Title,Deal - Value,Deal - Status,Deal - Expected close date,Deal - Won time,"
    b"Deal - Deal closed on,Deal - Deal created\n"
    b"101,Acme renewal,1200,won,2026-05-01,2026-03-02,2026-03-02,2026-01-01\n"
    b"102,Bolt pilot,300,lost,2026-05-01,,2026-03-04,2026-01-02\n"
    b"103,Cove rollout,0,open,2026-05-01,,,2026-01-03\n"
    b"104,Dune trial,4500,won,2026-05-01,2026-03-09,2026-03-09,2026-01-04\n"
)


def test_the_hand_mapping_guesses_the_outcome_and_what_each_value_means(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A deals export: the status column is the outcome (won, lost, open read by their words), the day
    the deal closed the close date, not the forecast beside it; the import then needs no choice made by
    hand."""
    url = _database(tmp_path / "outcome.db", leads=200)
    at = _import_page(monkeypatch, url)
    at.file_uploader(key="csv_file").set_value(("deals.csv", PIPEDRIVE_DEALS, "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="map_outcome").value == "Deal - Status"
    assert at.selectbox(key="map_close_date").value == "Deal - Deal closed on"
    assert at.selectbox(key="map_amount").value == "Deal - Value"
    stored = _imported_by_hand(
        at, url, "SELECT external_id, outcome FROM leads WHERE source_system = 'deals'"
    )
    assert stored == [("101", "won"), ("102", "lost"), ("103", None), ("104", "won")]
    get_settings.cache_clear()


HUBSPOT_CONTACTS = (
    b"Record ID,Create Date,Lifecycle Stage,Lead Status,Became a Marketing Qualified Lead Date\n"
    b"9001,2026-01-05,subscriber,New,\n"
    b"9002,2026-01-06,Marketing Qualified Lead,Working,2026-01-09\n"
    b"9003,2026-01-07,marketingqualifiedlead,Working,2026-01-10\n"
    b"9004,2026-01-08,customer,Connected,2026-01-11\n"
)


def test_the_hand_mapping_guesses_a_lifecycle_stage_column_and_its_stages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """HubSpot's Lifecycle Stage names a stage in every value (in either spelling); Lead Status holds
    "Working", no stage, and is left alone. The import then needs no choice made by hand."""
    url = _database(tmp_path / "stages.db", leads=200)
    at = _import_page(monkeypatch, url)
    at.file_uploader(key="csv_file").set_value(("contacts.csv", HUBSPOT_CONTACTS, "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="map_stage").value == "Lifecycle Stage"
    assert at.selectbox(key="map_outcome").value == NOT_IN_FILE
    query = "SELECT external_id, mql_at IS NOT NULL, outcome FROM leads WHERE source_system = 'contacts'"
    assert _imported_by_hand(at, url, query) == [
        ("9001", False, None), ("9002", True, None), ("9003", True, None), ("9004", True, "won"),
    ]  # fmt: skip
    get_settings.cache_clear()


def test_recent_imports_list_who_imported_what(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = _database(tmp_path / "history.db", leads=200)
    engine = make_engine(url)
    data = b"id,created\nA,2026-01-02\nB,2026-01-03\n"
    result = import_csv(engine, data, parse_mapping(MAPPING), options=RunOptions(actor=OPERATOR))
    assert result.ok
    engine.dispose()
    at = _import_page(monkeypatch, url)
    tables = at.dataframe
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


SCORED_LEADS = (
    b"Record ID,Create Date,Lead Owner,Region,Email,Notes,Quality,email_consent_amount\n"
    b"R-1,2026-01-05,Ann Page,North,a@example.com,Asked us to call back after the budget review in May,Good,Yes\n"
    b"R-2,2026-01-06,Bo Chan,South,b@example.com,,Bad,No\n"
    b"R-3,2026-01-07,Ann Page,North,c@example.com,Wants a demo for the whole regional team next week,Average,Yes\n"
)


def _imported(url: str, source: str) -> tuple[dict[str, dict[str, object]], dict[str, int]]:
    """Each lead's attributes and its imported stars, by external id."""
    engine = make_engine(url)
    leads = text("SELECT id, external_id, attributes FROM leads WHERE source_system = :source")
    ratings = text("SELECT lead_id, stars FROM lead_ratings")
    with engine.connect() as connection:
        rows = connection.execute(leads, {"source": source}).all()
        stars_by_lead: dict[int, int] = {int(lead): int(s) for lead, s in connection.execute(ratings)}
    engine.dispose()
    attributes = {
        str(external): dict(json.loads(a) if isinstance(a, str) else a or {}) for _, external, a in rows
    }
    stars = {str(external): stars_by_lead[lead] for lead, external, _ in rows if lead in stars_by_lead}
    return attributes, stars


def _saved_mapping(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as connection:
        saved = connection.execute(text("SELECT toml FROM saved_mappings")).scalar_one()
    engine.dispose()
    return str(saved)


def test_the_hand_mapping_keeps_the_other_columns_and_maps_a_rating(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = _database(tmp_path / "attributes.db", leads=200)
    at = _import_page(monkeypatch, url)
    at.file_uploader(key="csv_file").set_value(("scored-leads.csv", SCORED_LEADS, "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="map_external_id").value == "Record ID"
    assert at.selectbox(key="map_amount").value == NOT_IN_FILE, "a yes/no consent column holds no amounts"
    assert at.checkbox(key="map_keep_attributes").value is True, "kept unless said otherwise"
    at.selectbox(key="map_rating").set_value("Quality").run()
    assert not at.exception and not at.warning, "the mapping is complete"
    at.button(key="csv_go").click().run()
    assert not at.exception
    assert at.success and "3 leads created" in at.success[0].value
    attributes, stars = _imported(url, "scored-leads")
    # Region and the consent flag kept; the emails and the notes (one value per lead) left out.
    assert attributes["R-1"] == {"region": "North", "email_consent_amount": "Yes"}
    assert attributes["R-2"] == {"region": "South", "email_consent_amount": "No"}
    assert stars == {"R-1": 5, "R-2": 1, "R-3": 3}, "Good, Bad and Average as first guessed"
    at.text_input(key="save_name").set_value("Scored leads").run()
    next(b for b in at.button if b.label == "Save mapping").click().run()
    assert not at.exception
    saved = parse_mapping(_saved_mapping(url))
    assert saved.attributes == {"Region": "region", "email_consent_amount": "email_consent_amount"}
    assert saved.rating is not None and saved.rating.column == "Quality"
    assert saved.rating.values == {"Average": 3, "Bad": 1, "Good": 5}
    get_settings.cache_clear()


def test_a_rating_of_one_to_five_stars_needs_no_value_map_and_attributes_can_be_left_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _import_page(monkeypatch, _database(tmp_path / "stars.db", leads=200))
    export = b"Lead ID,Create Date,Owner,Stars,Region\nL1,2026-01-05,Ann,4,North\nL2,2026-01-06,Bo,1,South\n"
    at.file_uploader(key="csv_file").set_value(("stars.csv", export, "text/csv")).run()
    at.selectbox(key="map_rating").set_value("Stars").run()
    assert "The column holds 1 to 5 stars already: no value map needed." in [c.value for c in at.caption]
    at.checkbox(key="map_keep_attributes").uncheck().run()
    at.button(key="csv_dry").click().run()
    assert not at.exception
    assert at.info and at.info[0].value.startswith("Dry run")
    get_settings.cache_clear()


def test_a_hand_made_mapping_carries_its_attributes_and_rating_through_toml() -> None:
    mapping = mapping_from_choices(
        source_name="crm",
        source_label="CRM",
        columns={"external_id": "Record ID", "owner": "Owner"},
        null_values=[],
        date_formats=[],
        outcome_column=None,
        outcome_values={},
        stage_column=None,
        stage_values={},
        rating_column="Quality",
        rating_values={"Good": 5, "Bad": 1},
        attributes={"Job Title": "job_title", "Industry": "industry_attribute"},
    )
    assert mapping.attributes == {"Job Title": "job_title", "Industry": "industry_attribute"}
    assert mapping.rating is not None and mapping.rating.values == {"Good": 5, "Bad": 1}
    assert parse_mapping(mapping_to_toml(mapping)) == mapping


@pytest.mark.skipif(not RATER_OFFERED, reason="the mapping format has no [rating] rater yet")
def test_ratings_of_an_export_without_owners_are_the_imported_raters(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _import_page(monkeypatch, _database(tmp_path / "no-owner.db", leads=200))
    export = b"Lead ID,Create Date,Stars\nL1,2026-01-05,4\nL2,2026-01-06,1\n"
    at.file_uploader(key="csv_file").set_value(("no-owner.csv", export, "text/csv")).run()
    at.selectbox(key="map_rating").set_value("Stars").run()
    assert at.text_input(key="map_rater").value == IMPORTED_RATER, "no owner column: no person rated"
    at.button(key="csv_dry").click().run()
    assert not at.exception and not at.warning
    assert at.info and at.info[0].value.startswith("Dry run")
    get_settings.cache_clear()
