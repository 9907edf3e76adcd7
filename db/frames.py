"""Loaders from the database into polars frames of core.schema, at the edge, fast.

Row-by-row ORM reads are far too slow for a million leads, so each loader builds the frame column-wise:
SQLite through one fetchall turned column-wise into polars Series; PostgreSQL through COPY ... TO STDOUT
(CSV). Datetimes arrive as naive UTC text and are parsed vectorised.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Mapping
from contextlib import closing

import polars as pl
from sqlalchemy.engine import Engine, make_url

from core.schema import LEADS_SCHEMA, PEOPLE_SCHEMA, QUOTAS_SCHEMA, TRAFFIC_SCHEMA

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S%.f"

LEADS_SQL = """
SELECT leads.id, leads.source_system, {created_at}, {mql_at}, {sql_at}, {opportunity_at}, {closed_at},
       leads.outcome, leads.amount, leads.owner_id, leads.team_id, leads.source, leads.campaign,
       leads.industry, leads.company_size, leads.country, leads.persona, {first_touch_at}
FROM leads {where}
"""
PEOPLE_SQL = """
SELECT users.id, users.username, users.name, users.role, users.team_id, teams.name, teams.region
FROM users LEFT JOIN teams ON teams.id = users.team_id
"""
TRAFFIC_SQL = (
    "SELECT day, channel, sum(sessions) FROM daily_traffic GROUP BY day, channel ORDER BY day, channel"
)
QUOTAS_SQL = "SELECT user_id, team_id, period_start, period_end, period_kind, amount FROM quotas"


def _as_text_schema(schema: Mapping[str, pl.DataType]) -> dict[str, pl.DataType]:
    """What the driver hands over: dates and datetimes as text, the rest as they are."""
    return {
        name: pl.String() if dtype in (pl.Datetime("us"), pl.Date()) else dtype
        for name, dtype in schema.items()
    }


def _parse_times(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    conversions = []
    for name, dtype in schema.items():
        if dtype == pl.Datetime("us"):
            conversions.append(
                pl.col(name).str.to_datetime(DATETIME_FORMAT, time_unit="us", strict=True).alias(name)
            )
        elif dtype == pl.Date():
            conversions.append(pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d").alias(name))
    return frame.with_columns(conversions) if conversions else frame


def _sqlite_path(engine: Engine) -> str:
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        raise ValueError("the fast SQLite loader needs a database file, not an in-memory database")
    return database


def _read_sqlite(engine: Engine, sql: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    # The standard sqlite3 module, never a driver that bundles its own SQLite: two SQLite libraries in one
    # process do not see each other's locks on a WAL database, which gives stale reads and I/O errors.
    with closing(sqlite3.connect(_sqlite_path(engine), timeout=30)) as connection:
        rows = connection.execute(sql).fetchall()
    text = _as_text_schema(schema)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    frame = pl.DataFrame(
        [
            pl.Series(name, values, dtype=dtype, strict=False)
            for (name, dtype), values in zip(text.items(), columns, strict=True)
        ]
    )
    return _parse_times(frame, schema)


def _read_postgres(engine: Engine, sql: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    buffer = io.BytesIO()
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("SET TIME ZONE 'UTC'")
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                buffer.write(block)
        cursor.close()
    if buffer.tell() == 0:
        return pl.DataFrame(schema=_as_text_schema(schema))
    buffer.seek(0)
    return pl.read_csv(
        buffer,
        has_header=False,
        new_columns=list(schema),
        schema_overrides=_as_text_schema(schema),
        infer_schema=False,
    ).cast(_as_text_schema(schema))  # type: ignore[arg-type]


def read_query(engine: Engine, sql: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Any SELECT whose columns are `schema`'s, in order, as a frame of that schema."""
    if engine.dialect.name == "sqlite":
        frame = _read_sqlite(engine, sql.strip(), schema)
    else:
        frame = _parse_times(_read_postgres(engine, sql, schema), schema)
    return frame.select(list(schema)).cast(dict(schema))  # type: ignore[arg-type]


def utc_text(engine: Engine, column: str) -> str:
    """A timestamp column as naive UTC text on either backend."""
    if engine.dialect.name == "sqlite":
        return f"leads.{column}"
    return f"to_char(leads.{column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"


def load_leads(engine: Engine, *, source_system: str | None = None) -> pl.DataFrame:
    """Every lead (or those of one source system) as a LEADS_SCHEMA frame with naive UTC datetimes."""
    times = ("created_at", "mql_at", "sql_at", "opportunity_at", "closed_at", "first_touch_at")
    where = ""
    if source_system is not None:
        # A quoted literal: source-system names are identifiers we write, but never trust them blindly.
        where = "WHERE leads.source_system = '{}'".format(source_system.replace("'", "''"))
    sql = LEADS_SQL.format(where=where, **{t: utc_text(engine, t) for t in times})
    return read_query(engine, sql, LEADS_SCHEMA)


def load_people(engine: Engine) -> pl.DataFrame:
    return read_query(engine, PEOPLE_SQL, PEOPLE_SCHEMA)


def load_traffic(engine: Engine) -> pl.DataFrame:
    return read_query(engine, TRAFFIC_SQL, TRAFFIC_SCHEMA)


def load_quotas(engine: Engine) -> pl.DataFrame:
    return read_query(engine, QUOTAS_SQL, QUOTAS_SCHEMA)
