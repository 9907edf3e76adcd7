"""Loaders from the database into polars frames of core.schema, at the edge, fast.

Row-by-row ORM reads are far too slow for a million leads, so each loader builds the frame column-wise.
SQLite: small frames through one fetchall turned column-wise into polars Series; the leads through
`json_group_array`, which has SQLite itself write each column of a range of ids as one JSON array that
polars decodes (a million leads: a few hundred Python objects instead of 18 million; a quarter of the
time and a fraction of the memory). PostgreSQL: COPY ... TO STDOUT (CSV). Datetimes arrive as naive UTC
text and are parsed vectorised.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.engine import Engine, make_url

from core.handoff import ANSWERS_SCHEMA
from core.schema import LEADS_SCHEMA, PEOPLE_SCHEMA, QUOTAS_SCHEMA, TRAFFIC_SCHEMA
from db.models import AuditLog

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S%.f"

LEADS_SQL = """
SELECT leads.id, leads.source_system, {created_at}, {mql_at}, {sql_at}, {opportunity_at}, {closed_at},
       leads.outcome, leads.amount, leads.owner_id, leads.team_id, leads.source, leads.campaign,
       leads.industry, leads.company_size, leads.country, leads.persona, {first_touch_at}
FROM {leads} {where}
"""
PEOPLE_SQL = """
SELECT users.id, users.username, users.name, users.role, users.team_id, teams.name, teams.region
FROM users LEFT JOIN teams ON teams.id = users.team_id
"""
TRAFFIC_SQL = (
    "SELECT day, channel, sum(sessions) FROM daily_traffic GROUP BY day, channel ORDER BY day, channel"
)
QUOTAS_SQL = "SELECT user_id, team_id, period_start, period_end, period_kind, amount FROM quotas"
SQLITE_THREADS = 2  # id ranges of a big SQLite read on this many threads at once
SQLITE_RANGE_IDS = 100_000  # ids per aggregate: many small ones are faster than one big one


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


def _column_json(column: str, dtype: pl.DataType) -> str:
    """One column of the rows as one JSON array, which SQLite writes fast and polars reads fast. A float
    as quote()'s text, the digits that give the same double back (JSON's 15 would round)."""
    if dtype == pl.Float64():
        return f"json_group_array(iif({column} IS NULL, NULL, quote({column})))"
    return f"json_group_array({column})"


def _json_type(dtype: pl.DataType) -> pl.DataType:
    return pl.String() if dtype == pl.Float64() else dtype


def _read_sqlite_range(
    path: str, sql: str, schema: Mapping[str, pl.DataType], low: int, high: int
) -> pl.DataFrame | None:
    """The rows of `sql` whose first column is in [low, high) as a frame of `schema`, or None where
    there are none. One aggregate over the rows builds every column, so the columns line up row for row."""
    text = _as_text_schema(schema)
    names = [f"c{i}" for i in range(len(text))]
    columns = ", ".join(_column_json(name, dtype) for name, dtype in zip(names, text.values(), strict=True))
    arrays_sql = (
        f"WITH q({', '.join(names)}) AS ({sql}) "  # noqa: S608 - our own SQL, the bounds are parameters
        f"SELECT count(*), {columns} FROM q WHERE c0 >= ? AND c0 < ?"
    )
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        count, *arrays_text = connection.execute(arrays_sql, (low, high)).fetchone()
    if not count:
        return None
    arrays = pl.DataFrame(
        [pl.Series(name, [array], dtype=pl.String()) for name, array in zip(text, arrays_text, strict=True)]
    )
    decoded = arrays.select(
        pl.col(name).str.json_decode(pl.List(_json_type(dtype))) for name, dtype in text.items()
    ).explode(list(text))
    floats = [pl.col(name).cast(dtype, strict=False) for name, dtype in text.items() if dtype == pl.Float64()]
    return _parse_times(decoded.with_columns(floats), schema)


def _read_sqlite_by_ranges(engine: Engine, sql: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """A big SELECT whose first column is a whole-number id, read a range of ids at a time (many small
    aggregates are faster than one big one), on SQLITE_THREADS threads; the rows come in id order. Each
    range is its own read: rows written while the ranges are read may be seen in one and not in another,
    as with any read that is not one snapshot, but each row is whole."""
    path = _sqlite_path(engine)
    first = next(iter(schema))
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        low, high = connection.execute(f"SELECT min({first}), max({first}) FROM ({sql})").fetchone()  # noqa: S608
    if low is None:
        return _parse_times(pl.DataFrame(schema=_as_text_schema(schema)), schema)
    bounds = [(start, start + SQLITE_RANGE_IDS) for start in range(int(low), int(high) + 1, SQLITE_RANGE_IDS)]
    try:
        with ThreadPoolExecutor(max_workers=min(SQLITE_THREADS, len(bounds))) as pool:
            parts = [
                part
                for part in pool.map(lambda b: _read_sqlite_range(path, sql, schema, *b), bounds)
                if part is not None
            ]
    except pl.exceptions.PolarsError:
        return _read_sqlite(engine, sql, schema)  # a value JSON could not carry as the schema says
    if not parts:
        return _parse_times(pl.DataFrame(schema=_as_text_schema(schema)), schema)
    frame = pl.concat(parts, rechunk=True)
    if not frame.get_column(first).is_sorted():
        frame = frame.sort(first)  # an index, not the table, fed a range: same rows, another order
    return frame


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


def read_query(
    engine: Engine, sql: str, schema: Mapping[str, pl.DataType], *, by_id: bool = False
) -> pl.DataFrame:
    """Any SELECT whose columns are `schema`'s, in order, as a frame of that schema. `by_id`: the first
    column is a whole-number id and the SELECT may be big; on SQLite it is then read in id ranges, fast,
    and the rows come in id order."""
    if engine.dialect.name == "sqlite" and by_id:
        frame = _read_sqlite_by_ranges(engine, sql.strip(), schema)
    elif engine.dialect.name == "sqlite":
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
    """Every lead (or those of one source system) as a LEADS_SCHEMA frame with naive UTC datetimes (on
    SQLite in id order)."""
    times = ("created_at", "mql_at", "sql_at", "opportunity_at", "closed_at", "first_touch_at")
    where = ""
    if source_system is not None:
        # A quoted literal: source-system names are identifiers we write, but never trust them blindly.
        where = "WHERE leads.source_system = '{}'".format(source_system.replace("'", "''"))
    # On SQLite the leads are read in ranges of ids: NOT INDEXED keeps a source's index (which would scan
    # the source's every lead for each range) out, and leaves the seek by id in.
    table = "leads NOT INDEXED" if engine.dialect.name == "sqlite" else "leads"
    sql = LEADS_SQL.format(leads=table, where=where, **{t: utc_text(engine, t) for t in times})
    return read_query(engine, sql, LEADS_SCHEMA, by_id=True)


# The current answers and the history's earlier ones; an earlier answer's time and who gave it are its
# history row's (db/handoff.py moves the replaced answer there as it was given).
ANSWERS_SQL = """
SELECT h.lead_id, h.rep_id, h.answer, h.reason, h.come_back_on, {answered_at}, {first_answered_at}, 1
FROM lead_handoffs h
UNION ALL
SELECT h.lead_id, x.changed_by_id, x.answer, x.reason, x.come_back_on, {changed_at}, NULL, 0
FROM lead_handoff_history x JOIN lead_handoffs h ON h.id = x.handoff_id
"""


def _utc_column(engine: Engine, column: str) -> str:
    """Any table's timestamp column as naive UTC text on either backend (utc_text for the leads')."""
    if engine.dialect.name == "sqlite":
        return column
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"


def load_answers(engine: Engine) -> pl.DataFrame:
    """Every handoff answer ever given, current and earlier, as a core.handoff.ANSWERS_SCHEMA frame."""
    times = {
        "answered_at": "h.answered_at",
        "first_answered_at": "h.first_answered_at",
        "changed_at": "x.changed_at",
    }
    sql = ANSWERS_SQL.format(**{name: _utc_column(engine, column) for name, column in times.items()})
    read = read_query(engine, sql, {**ANSWERS_SCHEMA, "current": pl.Int64()})
    return read.with_columns(pl.col("current") == 1).cast(ANSWERS_SCHEMA)  # type: ignore[arg-type]


def load_people(engine: Engine) -> pl.DataFrame:
    return read_query(engine, PEOPLE_SQL, PEOPLE_SCHEMA)


def load_traffic(engine: Engine) -> pl.DataFrame:
    return read_query(engine, TRAFFIC_SQL, TRAFFIC_SCHEMA)


def load_quotas(engine: Engine) -> pl.DataFrame:
    return read_query(engine, QUOTAS_SQL, QUOTAS_SCHEMA)


# The audited writes that change what these frames hold, or what is computed from them: leads imported or
# re-scored by a criteria approval, the SLA's terms, quotas, people and their teams. An app server keeps
# the frames for minutes (ui/data.py); it compares the newest of these entries with the one it loaded
# them under, so a write made through another app server or the command line shows at its next rerun.
# A new kind of write that changes the frames adds its audit action here.
FRAME_CHANGES = (
    "import.done",
    "criteria.approve",
    "sla.set",
    "quotas.import",
    "demo.seed",
    "user.create",
    "user.disable",
    "user.change_role",
    "user.change_team",
)


def changes_stamp(engine: Engine) -> int:
    """The id of the newest audit entry of a write in FRAME_CHANGES, 0 before any: it moves with each
    (one indexed look-up, cheap to ask on every rerun)."""
    table = AuditLog.__table__  # type: ignore[attr-defined]
    query = select(func.max(table.c.id)).where(table.c.action.in_(FRAME_CHANGES), table.c.outcome == "ok")
    with engine.connect() as connection:
        return int(connection.execute(query).scalar() or 0)
