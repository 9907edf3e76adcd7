"""The leads' imported attributes read into polars and catalogued, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy.engine import Engine

import db.attributes
from db.attributes import (
    attribute_catalogue,
    attribute_keys,
    load_attribute_values,
    load_scoring_frame,
)
from db.engine import write_session
from db.models import DataSource, Lead

CREATED = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _leads(engine: Engine, *rows: tuple[str, str, dict[str, Any] | None]) -> None:
    """Leads (source system, industry, attributes), numbered 1, 2, ... in order."""
    with write_session(engine) as session:
        session.add_all(
            [DataSource(name="crm", label="CRM", stages=["created"]), DataSource(name="web", label="Web")]
        )
        session.flush()
        session.add_all(
            Lead(
                source_system=source,
                external_id=f"L{n}",
                created_at=CREATED,
                industry=industry,
                page_views=n,
                attributes=attributes,
            )
            for n, (source, industry, attributes) in enumerate(rows, start=1)
        )


def _company(engine: Engine) -> None:
    _leads(
        engine,
        ("crm", "Retail", {"job_title": "Director", "seconds": "300", "industry": "Shops"}),
        ("crm", "Software", {"job_title": " VP ", "seconds": 2.5, "consent": True}),
        ("crm", "Retail", None),
        ("web", "Retail", {"seconds": "60", "form": "demo"}),
    )


def test_every_key_becomes_a_text_column_and_a_lead_without_one_a_null(db_engine: Engine) -> None:
    _company(db_engine)
    assert attribute_keys(db_engine) == ["consent", "form", "industry", "job_title", "seconds"]
    values = load_attribute_values(db_engine)
    # The key "industry" is a lead field's name: read beside the field, never over it.
    assert values.columns == ["id", "consent", "form", "industry (attribute)", "job_title", "seconds"]
    assert values.to_dicts() == [
        {
            "id": 1,
            "consent": None,
            "form": None,
            "industry (attribute)": "Shops",
            "job_title": "Director",
            "seconds": "300",
        },
        {
            "id": 2,
            "consent": "true",
            "form": None,
            "industry (attribute)": None,
            "job_title": " VP ",
            "seconds": "2.5",
        },
        {
            "id": 3,
            "consent": None,
            "form": None,
            "industry (attribute)": None,
            "job_title": None,
            "seconds": None,
        },
        {
            "id": 4,
            "consent": None,
            "form": "demo",
            "industry (attribute)": None,
            "job_title": None,
            "seconds": "60",
        },
    ]


def test_only_the_named_attributes_of_one_source_are_read(db_engine: Engine) -> None:
    _company(db_engine)
    values = load_attribute_values(db_engine, "crm", names=["seconds", "industry", "missing"])
    # "industry" names the lead field, not the attribute; "missing" is on no lead: an empty column.
    assert values.to_dict(as_series=False) == {
        "id": [1, 2, 3],
        "seconds": ["300", "2.5", None],
        "missing": [None, None, None],
    }
    assert load_attribute_values(db_engine, "nowhere").columns == ["id"]


def test_an_empty_database_has_no_attributes(db_engine: Engine) -> None:
    assert load_attribute_values(db_engine).to_dict(as_series=False) == {"id": []}
    assert attribute_catalogue(db_engine)["name"].to_list()[:2] == ["source", "campaign"]


def test_the_catalogue_lists_the_fields_then_the_attributes(db_engine: Engine) -> None:
    _company(db_engine)
    table = attribute_catalogue(db_engine, "crm")
    rows = {row["name"]: row for row in table.to_dicts()}
    assert table["name"].to_list() == [
        "source",
        "campaign",
        "industry",
        "company_size",
        "country",
        "persona",
        "page_views",
        "email_clicks",
        "content_downloads",
        "consent",
        "industry (attribute)",
        "job_title",
        "seconds",
    ]  # fmt: skip: the web lead's "form" is not a crm attribute
    # Of the 3 crm leads: seconds 300 and 2.5 (numbers), job title Director and VP (trimmed).
    assert (rows["seconds"]["kind"], rows["seconds"]["filled"], rows["seconds"]["examples"]) == (
        "number",
        2,
        ["2.5", "2.5", "300", "300", "300"],
    )
    assert (rows["job_title"]["kind"], rows["job_title"]["examples"]) == ("text", ["Director", "VP"])
    assert rows["industry"]["examples"] == ["Retail", "Software"]  # the field: Retail twice
    assert rows["industry (attribute)"]["offered"] is False
    assert "Industry" in str(rows["industry (attribute)"]["reason"])
    assert rows["page_views"]["examples"] == ["1", "2", "2", "3", "3"]
    assert (rows["consent"]["kind"], rows["consent"]["fill_rate"]) == ("text", 1 / 3)


def test_the_scoring_frame_types_the_attributes_a_version_reads(db_engine: Engine) -> None:
    _company(db_engine)
    frame = load_scoring_frame(db_engine, ["industry", "seconds", "job_title", "gone"])
    assert frame.schema["seconds"] == pl.Float64 and frame.schema["job_title"] == pl.String
    assert "gone" not in frame.columns  # no lead has it: its rules score 0
    assert frame.select("id", "industry", "page_views", "seconds", "job_title").rows() == [
        (1, "Retail", 1, 300.0, "Director"),
        (2, "Software", 2, 2.5, "VP"),
        (3, "Retail", 3, None, None),
        (4, "Retail", 4, 60.0, None),
    ]


def test_the_objects_decoded_whole_give_what_the_database_extracts(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _company(db_engine)
    names = ["consent", "form", "industry (attribute)", "job_title", "seconds"]
    extracted = load_attribute_values(db_engine, names=names)
    monkeypatch.setattr(db.attributes, "EXTRACT_KEYS", 0)  # many keys: every object read whole
    assert_frame_equal(load_attribute_values(db_engine, names=names), extracted)
    assert_frame_equal(load_attribute_values(db_engine), extracted)
    assert extracted["consent"].to_list() == [None, "true", None, None]
