"""The content tables and the opportunities as polars frames of core/content.py's schemas, read fast (the
column-wise readers of db/frames.py: SQLite in id ranges, PostgreSQL through COPY), with naive UTC
datetimes; and a cheap stamp of the content data, for caches to know when to load again.

Only the columns the numbers need are read: never a version's bytes, notes or descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.content import (
    ASSETS_SCHEMA,
    OPPORTUNITIES_SCHEMA,
    RATINGS_SCHEMA,
    REQUESTS_SCHEMA,
    USES_SCHEMA,
    VERSIONS_SCHEMA,
)
from db.frames import changes_stamp, load_people, read_query

_LISTS = ("stages", "personas", "industries", "company_sizes")


@dataclass(frozen=True)
class ContentFrames:
    """Every frame the content numbers read; people as db.frames.load_people (core.schema.PEOPLE_SCHEMA)."""

    assets: pl.DataFrame
    versions: pl.DataFrame
    uses: pl.DataFrame
    ratings: pl.DataFrame
    requests: pl.DataFrame
    people: pl.DataFrame
    opportunities: pl.DataFrame


def _utc(engine: Engine, column: str) -> str:
    if engine.dialect.name == "sqlite":
        return column
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"


def _as_text(schema: dict[str, pl.DataType], lists: tuple[str, ...]) -> dict[str, pl.DataType]:
    """`schema` with its list columns read as their JSON text."""
    return {name: pl.String() if name in lists else dtype for name, dtype in schema.items()}


def _decode_lists(frame: pl.DataFrame, lists: tuple[str, ...]) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(name).str.json_decode(pl.List(pl.String())).fill_null(pl.lit([], pl.List(pl.String())))
        for name in lists
    )


ASSETS_SQL = """
SELECT id, title, kind, stages, personas, industries, company_sizes, owner_id, last_reviewed_on,
       current_version, {archived_at}, {created_at}, {updated_at}
FROM content_assets
"""
VERSIONS_SQL = "SELECT asset_id, version, {created_at} FROM content_versions"
USES_SQL = "SELECT id, asset_id, lead_id, user_id, {used_at} FROM content_uses"
RATINGS_SQL = """
SELECT id, asset_id, lead_id, rater_id, stars, reasons, {created_at}, {updated_at} FROM content_ratings
"""
REQUESTS_SQL = """
SELECT r.id, r.what, r.kind, r.persona, r.stage, r.industry, r.lead_id, r.requested_by_id, r.status,
       {created_at}, {answered_at}, coalesce(v.votes, 0)
FROM content_requests r
LEFT JOIN (SELECT request_id, count(*) AS votes FROM content_request_votes GROUP BY request_id) v
       ON v.request_id = r.id
"""
# On SQLite the leads are read in id ranges: NOT INDEXED keeps the opportunity_at index from scanning
# every opportunity for each range, and leaves the seek by id in.
OPPORTUNITIES_SQL = """
SELECT id AS lead_id, {opportunity_at}, {closed_at}, outcome, amount, industry, company_size, owner_id,
       team_id
FROM {leads} WHERE opportunity_at IS NOT NULL
"""


def _times(engine: Engine, *columns: str, prefix: str = "") -> dict[str, str]:
    return {column: _utc(engine, prefix + column) for column in columns}


def load_assets(engine: Engine) -> pl.DataFrame:
    sql = ASSETS_SQL.format(**_times(engine, "archived_at", "created_at", "updated_at"))
    frame = read_query(engine, sql, _as_text(ASSETS_SCHEMA, _LISTS))
    return _decode_lists(frame, _LISTS).sort("asset_id")


def load_versions(engine: Engine) -> pl.DataFrame:
    return read_query(engine, VERSIONS_SQL.format(**_times(engine, "created_at")), VERSIONS_SCHEMA)


def load_uses(engine: Engine) -> pl.DataFrame:
    sql = USES_SQL.format(**_times(engine, "used_at"))
    return read_query(engine, sql, {"id": pl.Int64(), **USES_SCHEMA}, by_id=True).drop("id")


def load_ratings(engine: Engine) -> pl.DataFrame:
    """The current ratings (the history is not a number of its own)."""
    sql = RATINGS_SQL.format(**_times(engine, "created_at", "updated_at"))
    schema = {"id": pl.Int64(), **_as_text(RATINGS_SCHEMA, ("reasons",))}
    return _decode_lists(read_query(engine, sql, schema, by_id=True).drop("id"), ("reasons",))


def load_requests(engine: Engine) -> pl.DataFrame:
    sql = REQUESTS_SQL.format(**_times(engine, "created_at", "answered_at", prefix="r."))
    return read_query(engine, sql, REQUESTS_SCHEMA).sort("request_id")


def load_opportunities(engine: Engine) -> pl.DataFrame:
    """Every lead on which a deal was opened, in id order."""
    table = "leads NOT INDEXED" if engine.dialect.name == "sqlite" else "leads"
    sql = OPPORTUNITIES_SQL.format(leads=table, **_times(engine, "opportunity_at", "closed_at"))
    return read_query(engine, sql, OPPORTUNITIES_SCHEMA, by_id=True)


def content_frames(engine: Engine) -> ContentFrames:
    return ContentFrames(
        assets=load_assets(engine),
        versions=load_versions(engine),
        uses=load_uses(engine),
        ratings=load_ratings(engine),
        requests=load_requests(engine),
        people=load_people(engine),
        opportunities=load_opportunities(engine),
    )


STAMP_SQL = """
SELECT (SELECT count(*) FROM content_assets), (SELECT max(updated_at) FROM content_assets),
       (SELECT max(id) FROM content_versions), (SELECT max(id) FROM content_uses),
       (SELECT count(*) FROM content_ratings), (SELECT max(id) FROM content_ratings),
       (SELECT max(id) FROM content_rating_history),
       (SELECT count(*) FROM content_requests), (SELECT max(updated_at) FROM content_requests),
       (SELECT count(*) FROM content_request_votes), (SELECT max(id) FROM content_request_votes)
"""


def content_stamp(engine: Engine) -> tuple[object, ...]:
    """A small value that moves with every write the content frames would show: counts and newest ids or
    change times of the content tables, and db.frames.changes_stamp (leads and people). Uses are never
    removed, so their newest id is enough; a changed rating adds a history row; votes can be taken back,
    so their count is in it too. Indexed look-ups and counts: cheap to ask on every rerun."""
    with engine.connect() as connection:
        row = connection.execute(text(STAMP_SQL)).one()
    return (*(str(value) if value is not None else None for value in row), changes_stamp(engine))
