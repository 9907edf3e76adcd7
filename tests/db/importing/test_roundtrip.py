"""Property: leads written to CSV by polars and imported through a mapping are stored exactly as generated,
and importing the same bytes again changes nothing.

Each example gets an empty database (a fresh copy of the migrated SQLite template; PostgreSQL truncated),
so owners created by one example never meet the next.
"""

from __future__ import annotations

import io
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db.access import OPERATOR
from db.engine import make_engine
from db.importing.mapping import Mapping, parse_mapping
from db.importing.run import RunOptions, import_csv
from db.models import Lead, User
from tests.conftest import _truncate_all
from tests.db.importing.snapshots import assert_nothing_but_the_log_changed, snapshot

AS_OPERATOR = RunOptions(actor=OPERATOR)  # the command line's import
STAGES = ("mql", "sql", "opportunity", "close")
TIME_STYLES = {
    # how the file writes times -> (mapping timezone, polars datetime format, zone the times are shown in)
    "utc": ("UTC", "%Y-%m-%d %H:%M:%S", "UTC"),
    "offset": ("UTC", "%Y-%m-%dT%H:%M:%S%z", "America/New_York"),
    "local": ("Asia/Kolkata", "%Y-%m-%d %H:%M:%S", "Asia/Kolkata"),  # no daylight saving: no ambiguity
}
MAPPING_TEMPLATE = """
[source]
name = "{name}"

[read]
timezone = "{timezone}"
date_formats = ["{date_format}"]

[columns]
external_id = "Id"
created_date = "Created"
mql_date = "MQL"
sql_date = "SQL"
opportunity_date = "Opportunity"
close_date = "Closed"
amount = "Amount, USD"
owner = "Owner"
source = "Lead source"
campaign = "Campaign"

[outcome]
column = "Outcome"

[outcome.values]
won = "won"
lost = "lost"
open = "open"
"""
OWNERS = [
    None,
    "Ann Lee",
    "ann lee",
    "José Núñez",
    "O'Brien, Pat",
    'Bob "Bobby" Roe',
    "李雷",
    "kim@example.com",
]
TEXT_PIECES = [*"ab Zé€日,;\"'\n\r\t-", "\r\n", "Köln"]
ID_CHARACTERS = list('abcAB019-_ ,é"')
FIRST = datetime(2020, 1, 1)
SPAN_SECONDS = 6 * 365 * 24 * 3600


def _clean_text(value: str) -> bool:
    return bool(value) and value == value.strip()


texts = st.lists(st.sampled_from(TEXT_PIECES), min_size=1, max_size=10).map("".join).filter(_clean_text)
ids = st.text(st.sampled_from(ID_CHARACTERS), min_size=1, max_size=10).filter(_clean_text)


@st.composite
def leads(draw: st.DrawFn) -> dict[str, Any]:
    created = FIRST + timedelta(seconds=draw(st.integers(0, SPAN_SECONDS)))
    row: dict[str, Any] = {"Created": created}
    at = created
    reached = draw(st.integers(0, len(STAGES)))  # stages reached in order; later ones stay blank
    for position, stage in enumerate(STAGES):
        column = {"mql": "MQL", "sql": "SQL", "opportunity": "Opportunity", "close": "Closed"}[stage]
        if position < reached:
            at = at + timedelta(seconds=draw(st.integers(0, 90 * 24 * 3600)))
            row[column] = at
        else:
            row[column] = None
    row["Outcome"] = draw(st.sampled_from(["won", "lost"])) if row["Closed"] is not None else "open"
    cents = draw(st.none() | st.integers(0, 10**9))
    row["Amount, USD"] = None if cents is None else cents / 100
    row["Owner"] = draw(st.sampled_from(OWNERS))
    row["Lead source"] = draw(st.none() | texts)
    row["Campaign"] = draw(st.none() | texts)
    return row


@dataclass(frozen=True)
class Example:
    frame: pl.DataFrame
    style: str

    def __repr__(self) -> str:  # what hypothesis prints for a failing example: every value
        return f"Example(style={self.style!r}, rows={self.frame.rows(named=True)!r})"


@st.composite
def examples(draw: st.DrawFn) -> Example:
    rows = draw(st.lists(leads(), min_size=1, max_size=8))
    external_ids = draw(st.lists(ids, min_size=len(rows), max_size=len(rows), unique=True))
    schema = {
        "Id": pl.String(),
        **{c: pl.Datetime("us") for c in ("Created", "MQL", "SQL", "Opportunity", "Closed")},
        "Outcome": pl.String(),
        "Amount, USD": pl.Float64(),
        "Owner": pl.String(),
        "Lead source": pl.String(),
        "Campaign": pl.String(),
    }
    frame = pl.DataFrame(
        [{"Id": external_id, **row} for external_id, row in zip(external_ids, rows, strict=True)],
        schema=schema,
    )
    return Example(frame, draw(st.sampled_from(sorted(TIME_STYLES))))


def to_csv(example: Example) -> bytes:
    _, date_format, zone = TIME_STYLES[example.style]
    times = ["Created", "MQL", "SQL", "Opportunity", "Closed"]
    shown = example.frame.with_columns(
        pl.col(times).dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
        if zone != "UTC"
        else pl.col(times)
    )
    buffer = io.BytesIO()
    shown.write_csv(buffer, datetime_format=date_format)
    return buffer.getvalue()


def mapping_for(example: Example) -> Mapping:
    timezone, date_format, _ = TIME_STYLES[example.style]
    return parse_mapping(
        MAPPING_TEMPLATE.format(name="roundtrip", timezone=timezone, date_format=date_format)
    )


def expected_owners(owners: list[str | None]) -> list[str | None]:
    """Owners match ignoring case: one person per spelling-insensitive name, spelled as first seen."""
    first: dict[str, str] = {}
    for owner in owners:
        if owner is not None:
            first.setdefault(owner.lower(), owner)
    return [None if owner is None else first[owner.lower()] for owner in owners]


def stored(engine: Engine) -> pl.DataFrame:
    """The leads of the source as a frame shaped like the generated one (times naive UTC)."""
    with Session(engine) as session:
        names = {user.id: user.name for user in session.exec(select(User)).all()}
        found = session.exec(select(Lead).where(Lead.source_system == "roundtrip")).all()
        rows = []
        for lead in found:
            for moment in (lead.created_at, lead.mql_at, lead.sql_at, lead.opportunity_at, lead.closed_at):
                assert moment is None or moment.utcoffset() == timedelta(0), "times come back in UTC"
            rows.append(
                {
                    "Id": lead.external_id,
                    **{
                        column: None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)
                        for column, moment in (
                            ("Created", lead.created_at),
                            ("MQL", lead.mql_at),
                            ("SQL", lead.sql_at),
                            ("Opportunity", lead.opportunity_at),
                            ("Closed", lead.closed_at),
                        )
                    },
                    "Outcome": lead.outcome.value if lead.outcome is not None else "open",
                    "Amount, USD": lead.amount,
                    "Owner": names.get(lead.owner_id) if lead.owner_id is not None else None,
                    "Lead source": lead.source,
                    "Campaign": lead.campaign,
                    "mql_by_import": lead.mql_by_import,
                    "counts": (lead.page_views, lead.email_clicks, lead.content_downloads),
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None)


def check_round_trip(engine: Engine, example: Example) -> None:
    data, mapping = to_csv(example), mapping_for(example)
    first = import_csv(engine, data, mapping, file_name="leads.csv", options=AS_OPERATOR)
    assert first.ok, (first.report.first(10), data)
    n = example.frame.height
    assert first.counts is not None
    assert (first.counts.rows_read, first.counts.created, first.counts.updated) == (n, n, 0)

    back = stored(engine).sort("Id")
    want = example.frame.with_columns(
        pl.Series("Owner", expected_owners(example.frame["Owner"].to_list()), dtype=pl.String)
    ).sort("Id")
    assert back["Id"].to_list() == want["Id"].to_list()
    for column in want.columns:
        assert back[column].to_list() == want[column].to_list(), column
    assert back["mql_by_import"].to_list() == want["MQL"].is_not_null().to_list()
    assert {tuple(counts) for counts in back["counts"].to_list()} == {(0, 0, 0)}, "unmapped counts are 0"
    distinct_owners = {o.lower() for o in example.frame["Owner"].drop_nulls().to_list()}
    assert first.counts.users_created == len(distinct_owners)

    before = snapshot(engine)
    again = import_csv(engine, data, mapping, file_name="leads.csv", options=AS_OPERATOR)
    assert again.counts is not None
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, n)
    assert again.counts.users_created == 0
    assert_nothing_but_the_log_changed(engine, before, "done")


# ---------------------------------------------------------------- one empty database per example


@dataclass(frozen=True)
class EmptyDatabases:
    backend: str
    fresh: Callable[[], AbstractContextManager[Engine]]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_databases(request: pytest.FixtureRequest, tmp_path: Path) -> EmptyDatabases:
    backend = request.param

    @contextmanager
    def sqlite() -> Iterator[Engine]:
        path = tmp_path / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            yield engine
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    @contextmanager
    def postgresql() -> Iterator[Engine]:
        engine = make_engine(request.getfixturevalue("postgres_url"))
        try:
            _truncate_all(engine)
            yield engine
        finally:
            engine.dispose()

    return EmptyDatabases(backend, sqlite if backend == "sqlite" else postgresql)


def test_leads_survive_csv_and_a_re_import_changes_nothing(empty_databases: EmptyDatabases) -> None:
    @settings(
        max_examples=25 if empty_databases.backend == "sqlite" else 8,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(example=examples())
    def round_trip(example: Example) -> None:
        with empty_databases.fresh() as engine:
            check_round_trip(engine, example)

    round_trip()


def test_a_known_tricky_example(sqlite_engine: Engine) -> None:
    """The corner cases at once, always run: quotes, commas, CRLF and non-ASCII text, owners differing
    only in case, cents, an offset time across midnight, stages skipped."""
    frame = pl.DataFrame(
        {
            "Id": ['a "1"', "b,2", "é 3"],
            "Created": [
                datetime(2024, 3, 31, 23, 30),
                datetime(2024, 1, 1),
                datetime(2025, 12, 31, 23, 59, 59),
            ],
            "MQL": [None, datetime(2024, 1, 2), None],
            "SQL": [None, None, datetime(2026, 1, 1)],
            "Opportunity": [None, None, datetime(2026, 1, 2)],
            "Closed": [None, datetime(2024, 2, 1), datetime(2026, 1, 3)],
            "Outcome": ["open", "lost", "won"],
            "Amount, USD": [None, 0.0, 12345.67],
            "Owner": ["Ann Lee", "ANN LEE", "O'Brien, Pat"],
            "Lead source": ['Trade "show"\r\nKöln', "日本", None],
            "Campaign": ["a,b", None, "€ 5"],
        },
        schema_overrides={c: pl.Datetime("us") for c in ("MQL", "SQL", "Opportunity", "Closed")},
    )
    check_round_trip(sqlite_engine, Example(frame, "offset"))
    with sqlite_engine.connect() as connection:
        people = connection.execute(text("SELECT name FROM users ORDER BY id")).scalars().all()
    assert people == ["Ann Lee", "O'Brien, Pat"]


def test_an_owner_named_like_another_owners_username_is_found_again(sqlite_engine: Engine) -> None:
    frame = pl.DataFrame(
        {
            "Id": ["1", "2"],
            "Created": [datetime(2024, 1, 1), datetime(2024, 1, 2)],
            **{c: [None, None] for c in ("MQL", "SQL", "Opportunity", "Closed")},
            "Outcome": ["open", "open"],
            "Amount, USD": [None, None],
            "Owner": ["kim@example.com", "kim"],
            "Lead source": [None, None],
            "Campaign": [None, None],
        },
        schema_overrides={
            **{c: pl.Datetime("us") for c in ("MQL", "SQL", "Opportunity", "Closed")},
            "Amount, USD": pl.Float64(),
            "Lead source": pl.String(),
            "Campaign": pl.String(),
        },
    )
    check_round_trip(sqlite_engine, Example(frame, "utc"))
