"""The leads' imported attributes (the JSON object in leads.attributes) as polars columns, and the catalogue
of every attribute Huddle has seen (core.attributes) over the lead's own fields and those attributes.

Reading a million JSON objects row by row in Python takes a minute, so the objects travel as text: SQLite
joins a range of ids' objects into one newline-separated text (group_concat, through the standard sqlite3
module as db/frames.py reads), PostgreSQL sends them with COPY, and polars' NDJSON reader decodes them,
every value as text (a number as its digits, true as "true"). The attribute keys come from one
json_each / json_object_keys pass in the database. A few keys (up to EXTRACT_KEYS: the attributes a
criteria version reads) are instead pulled out by the database (json_extract, ->>), one column each.

Measured on SQLite with a million leads holding 20 of 30 keys each (about 480 bytes of JSON a lead, a
third of them long decimals), on a 2-core machine shared with a dozen other busy processes, so in
seconds of CPU (wall time was 3-5 times that): the keys 3.7 s; every attribute 11.9 s (peak 2.8 GB with
the catalogue, which takes 18 s in all); three named attributes 3.4 s (peak 0.4 GB); the scoring frame
of a version reading three attributes 4.6 s. PostgreSQL, the same million leads at the same load: the
keys 48 s of wall time in the server (json_object_keys parses every object), every attribute 100 s of
wall time (7.8 s of CPU here), three named attributes 29 s (1.3 s of CPU here). That is more than the
few seconds aimed at for the whole catalogue: cache it per data version (it changes only with an
import), and read only a version's attributes where that is enough.

An attribute whose key is the name of a column Huddle keeps for every lead (say "industry") is read as
"industry (attribute)" and listed in the catalogue, not offered for rules, with the reason: it never
shadows the lead's own field.
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import polars as pl
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.attributes import attribute_column, attribute_key, catalogue, typed_values
from core.criteria import COUNT_ATTRIBUTES, LEAD_FIELDS, TEXT_ATTRIBUTES
from db.frames import SQLITE_RANGE_IDS, SQLITE_THREADS, read_query

LEAD_FIELD_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    **{name: pl.String() for name in TEXT_ATTRIBUTES},
    **{name: pl.Int64() for name in COUNT_ATTRIBUTES},
}
# A JSON object on one line, or {} for a lead without one (null, or JSON that is not an object). A raw
# newline in JSON can only be whitespace between tokens, so a space keeps its meaning.
SQLITE_OBJECT = (
    "CASE WHEN substr(attributes, 1, 1) = '{' THEN replace(attributes, char(10), ' ') ELSE '{}' END"
)
POSTGRES_OBJECT = (
    "CASE WHEN json_typeof(attributes) = 'object' THEN replace(attributes::text, E'\\n', ' ') ELSE '{}' END"
)
SQLITE_RANGE = (
    "SELECT json_group_array(id), group_concat({object}, char(10)) FROM leads NOT INDEXED "
    "WHERE id >= ? AND id < ?{where}"
)
SQLITE_KEYS = (
    "SELECT DISTINCT j.key FROM leads, json_each(leads.attributes) AS j "
    "WHERE substr(leads.attributes, 1, 1) = '{{' AND j.key IS NOT NULL{where}"
)
POSTGRES_KEYS = (
    "SELECT DISTINCT json_object_keys(attributes) FROM leads WHERE json_typeof(attributes) = 'object'{where}"
)
# Up to this many keys of plain names (no quote to escape) are extracted by the database (see _extracted).
EXTRACT_KEYS = 8
PLAIN_KEY = re.compile(r"^[\w .:/()+-]+$")
DECODE_ROWS = 100_000  # objects handed to the NDJSON reader at once (bounds the text held in memory)


def _source_filter(source_system: str | None, column: str = "source_system") -> str:
    # A quoted literal, as db/frames.py does: source-system names are ours, but never trusted blindly.
    if source_system is None:
        return ""
    return " AND {} = '{}'".format(column, source_system.replace("'", "''"))


def _frame_schema(keys: Sequence[str]) -> dict[str, pl.DataType]:
    return {"id": pl.Int64(), **{attribute_column(key): pl.String() for key in keys}}


def _decoded(ids: pl.Series, objects: str, keys: Sequence[str]) -> pl.DataFrame:
    """One frame of the leads `ids`, whose JSON objects are the lines of `objects`, one text column a key."""
    if not keys:
        return ids.to_frame("id")
    values = pl.read_ndjson(io.BytesIO(objects.encode()), schema={key: pl.String() for key in keys})
    return values.rename({key: attribute_column(key) for key in keys}).insert_column(0, ids.alias("id"))


# ---------------------------------------------------------------- SQLite


def _sqlite_path(engine: Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValueError("the attribute loader needs a database file, not an in-memory database")
    return database


def _sqlite_keys(path: str, source_system: str | None) -> list[str]:
    sql = SQLITE_KEYS.format(where=_source_filter(source_system, "leads.source_system"))
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        return sorted(str(key) for (key,) in connection.execute(sql).fetchall())


def _sqlite_range(
    path: str, keys: Sequence[str], source_system: str | None, low: int, high: int
) -> pl.DataFrame | None:
    sql = SQLITE_RANGE.format(object=SQLITE_OBJECT, where=_source_filter(source_system))
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        ids_json, objects = connection.execute(sql, (low, high)).fetchone()
    ids = pl.Series("id", [ids_json]).str.json_decode(pl.List(pl.Int64)).explode()
    if objects is None:
        return None
    return _decoded(ids, objects, keys)


def _sqlite_values(engine: Engine, source_system: str | None, keys: Sequence[str]) -> pl.DataFrame:
    path = _sqlite_path(engine)
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        low, high = connection.execute("SELECT min(id), max(id) FROM leads").fetchone()
    if low is None:
        return pl.DataFrame(schema=_frame_schema(keys))
    bounds = [(start, start + SQLITE_RANGE_IDS) for start in range(int(low), int(high) + 1, SQLITE_RANGE_IDS)]
    with ThreadPoolExecutor(max_workers=min(SQLITE_THREADS, len(bounds))) as pool:
        parts = [
            part
            for part in pool.map(lambda b: _sqlite_range(path, keys, source_system, *b), bounds)
            if part is not None
        ]
    if not parts:
        return pl.DataFrame(schema=_frame_schema(keys))
    return pl.concat(parts).sort("id")


# ---------------------------------------------------------------- PostgreSQL


def _postgres_keys(engine: Engine, source_system: str | None) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(text(POSTGRES_KEYS.format(where=_source_filter(source_system))))
        return sorted(str(key) for (key,) in rows)


def _postgres_values(engine: Engine, source_system: str | None, keys: Sequence[str]) -> pl.DataFrame:
    where = _source_filter(source_system).replace(" AND ", " WHERE ", 1)
    sql = f"SELECT id, {POSTGRES_OBJECT} FROM leads{where} ORDER BY id"  # noqa: S608 - our own SQL
    rows = read_query(engine, sql, {"id": pl.Int64(), "object": pl.String()})
    if rows.is_empty():
        return pl.DataFrame(schema=_frame_schema(keys))
    parts = [
        _decoded(part["id"], "\n".join(part["object"].to_list()), keys)
        for part in rows.iter_slices(DECODE_ROWS)
    ]
    return pl.concat(parts)


# ---------------------------------------------------------------- a few keys, extracted by the database


def _sqlite_value(key: str) -> str:
    """One key's value as text; JSON's true and false as the words, as PostgreSQL's ->> gives them."""
    path = f"'$.\"{key}\"'"
    return (
        f"CASE json_type(leads.attributes, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract(leads.attributes, {path}) AS TEXT) END"
    )


def _extracted(engine: Engine, source_system: str | None, keys: Sequence[str]) -> pl.DataFrame:
    """The few `keys` pulled out of the JSON by the database itself, a column each: less to send and
    to decode than every object whole."""
    sqlite = engine.dialect.name == "sqlite"
    values = [_sqlite_value(key) if sqlite else f"leads.attributes ->> '{key}'" for key in keys]
    table = "leads NOT INDEXED" if sqlite else "leads"
    where = _source_filter(source_system, "leads.source_system").replace(" AND ", " WHERE ", 1)
    sql = f"SELECT {', '.join(['leads.id', *values])} FROM {table}{where}"  # noqa: S608 - keys checked plain
    frame = read_query(
        engine, sql, {"id": pl.Int64(), **{f"k{i}": pl.String() for i in range(len(keys))}}, by_id=True
    )
    if not sqlite:
        frame = frame.sort("id")
    return frame.rename({f"k{i}": attribute_column(key) for i, key in enumerate(keys)})


# ---------------------------------------------------------------- the loaders


def attribute_keys(engine: Engine, source_system: str | None = None) -> list[str]:
    """Every key found in the leads' attributes (of one source system), sorted."""
    if engine.dialect.name == "sqlite":
        return _sqlite_keys(_sqlite_path(engine), source_system)
    return _postgres_keys(engine, source_system)


def _keys_of(names: Sequence[str]) -> list[str]:
    """The attribute keys behind catalogue names; a lead field's name is the field, not an attribute."""
    return list(dict.fromkeys(attribute_key(name) for name in names if name not in LEAD_FIELDS))


def load_attribute_values(
    engine: Engine, source_system: str | None = None, names: Sequence[str] | None = None
) -> pl.DataFrame:
    """Every lead (or those of one source system), in id order: "id" (Int64) and one String column per
    attribute key (sorted), or only the attributes `names` names (catalogue names: "industry (attribute)"
    for an attribute keyed by a field's name; a lead field among them is left out). A value is its JSON
    text: a string as it is, a number as its digits, true as "true"; null where the lead lacks it."""
    keys = attribute_keys(engine, source_system) if names is None else _keys_of(names)
    if len(keys) <= EXTRACT_KEYS and all(PLAIN_KEY.match(key) for key in keys):
        return _extracted(engine, source_system, keys)
    if engine.dialect.name == "sqlite":
        return _sqlite_values(engine, source_system, keys)
    return _postgres_values(engine, source_system, keys)


def load_lead_fields(
    engine: Engine, source_system: str | None = None, names: Sequence[str] | None = None
) -> pl.DataFrame:
    """The lead's own fields rules can use (LEAD_FIELD_SCHEMA: text fields and counts), of every lead or
    of one source system, in id order; only the fields among `names` when given."""
    wanted = ["id", *(n for n in LEAD_FIELD_SCHEMA if n != "id" and (names is None or n in names))]
    table = "leads NOT INDEXED" if engine.dialect.name == "sqlite" else "leads"
    where = _source_filter(source_system, "leads.source_system").replace(" AND ", " WHERE ", 1)
    columns = ", ".join(f"leads.{name}" for name in wanted)
    sql = f"SELECT {columns} FROM {table}{where}"  # noqa: S608 - our own SQL, the source quoted
    return read_query(engine, sql, {name: LEAD_FIELD_SCHEMA[name] for name in wanted}, by_id=True)


def _on_some_lead(attributes: pl.DataFrame) -> pl.DataFrame:
    """The id and the attribute columns some lead has a value of."""
    return attributes.select(
        "id", *(name for name in attributes.columns[1:] if attributes[name].null_count() < attributes.height)
    )


def attribute_catalogue(
    engine: Engine, source_system: str | None = None, names: Sequence[str] | None = None
) -> pl.DataFrame:
    """The catalogue (core.attributes.CATALOGUE_SCHEMA) of the lead's own fields, then every imported
    attribute (sorted by key), over every lead or those of one source system; only `names` when given."""
    fields = load_lead_fields(engine, source_system, names)
    attributes = load_attribute_values(engine, source_system, names)
    if names is not None:  # a named attribute no lead has is not in the catalogue, as when it is read whole
        attributes = _on_some_lead(attributes)
    leads = max(fields.height, attributes.height)
    return pl.concat(
        [catalogue(fields.drop("id"), leads=leads), catalogue(attributes.drop("id"), leads=leads)]
    )


def _typed(attributes: pl.DataFrame) -> pl.DataFrame:
    """The attribute columns some lead has (an absent one's rules score 0), typed by their catalogue."""
    present = _on_some_lead(attributes)
    return typed_values(present, catalogue(present.drop("id"), leads=present.height))


def decode_attributes(objects: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """`objects` ("id", "attributes": a lead's JSON text or null, as a query in a caller's transaction
    reads them) as "id" and the attributes among `names`, typed as load_scoring_frame types them."""
    keys = _keys_of(names)
    lines = objects.select(
        "id",
        pl.when(pl.col("attributes").str.strip_chars_start().str.starts_with("{"))
        .then(pl.col("attributes").str.replace_all("\n", " ", literal=True))
        .otherwise(pl.lit("{}"))
        .alias("object"),
    )
    parts = [
        _decoded(part["id"], "\n".join(part["object"].to_list()), keys)
        for part in lines.iter_slices(DECODE_ROWS)
    ]
    return _typed(pl.concat(parts) if parts else pl.DataFrame(schema=_frame_schema(keys)))


def load_scoring_frame(
    engine: Engine, names: Sequence[str] = (), source_system: str | None = None
) -> pl.DataFrame:
    """The frame a criteria version is scored on: every lead's id and own fields (LEAD_FIELD_SCHEMA),
    plus the imported attributes among `names` (say `criteria.attributes()`) typed by the catalogue:
    numbers as Float64, text as String. An attribute no lead has is simply absent (its rules score 0)."""
    fields = load_lead_fields(engine, source_system)
    if not _keys_of(names):
        return fields
    typed = _typed(load_attribute_values(engine, source_system, names))
    return fields.join(typed, on="id", how="left", maintain_order="left")
