"""Writing an import's ratings in bulk: a few set-based statements, whatever the number of ratings.

An imported rating is recorded as one given in Huddle would be: the current rating of (lead, rater) with
reasons ["imported"], and a history row changed by the rater. A rating the database already holds with the
same stars is left alone (so a re-import adds nothing); one with other stars gets the new stars and a
history row; its reasons, note and first-rated time stay as they were.

The ratings are staged in a temporary table (executemany on SQLite, COPY on PostgreSQL), and every
statement after that works on the whole set at once: one that picks the ratings that change, one that
inserts the new ones, one that updates the changed ones, one that appends their history. All of it runs
in the caller's transaction, so a failed import leaves none of it. The old way, an ORM object and a query
per rating, cost about a millisecond each: minutes for the half-million ratings of a million-row export.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import JSON, bindparam, text
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import UTCDateTime

from db.bulk import bulk_insert, rebuilt_indexes
from db.models import utcnow
from db.progress import ProgressFn, no_progress

IMPORTED_REASONS = ["imported"]
STAGED = "imported_ratings_staged"
CHANGES = "imported_ratings_changes"
WRITING = "writing the ratings"
INDEXING = "indexing the ratings"
# The frame the writer takes: one rating per lead and rater, in the file's row order.
RATINGS_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.Int64(),
    "rater_id": pl.Int64(),
    "stars": pl.Int64(),
}


def _table(connection: Connection, name: str) -> str:
    """`name` in this connection's own schema of temporary tables, never a table of the database."""
    return f"{'pg_temp' if connection.dialect.name == 'postgresql' else 'temp'}.{name}"


def _temporary(connection: Connection, name: str, columns: str) -> None:
    """A temporary table of this connection, dropped (with the transaction) when the writing is done."""
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_table(connection, name)}")
    ending = " ON COMMIT DROP" if connection.dialect.name == "postgresql" else ""
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns}){ending}")


def _stage(connection: Connection, ratings: pl.DataFrame, progress: ProgressFn) -> None:
    _temporary(
        connection,
        STAGED,
        "position BIGINT NOT NULL, lead_id BIGINT NOT NULL, rater_id BIGINT NOT NULL, stars INTEGER NOT NULL",
    )
    rows = ratings.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("position"), "lead_id", "rater_id", "stars"
    )
    bulk_insert(connection, _table(connection, STAGED), rows, progress, WRITING)


def _pick_changes(connection: Connection) -> int:
    """The staged ratings the database lacks or holds with other stars; how many."""
    _temporary(
        connection,
        CHANGES,
        "position BIGINT NOT NULL, lead_id BIGINT NOT NULL, rater_id BIGINT NOT NULL, "
        "stars INTEGER NOT NULL, rating_id BIGINT",
    )
    changes, staged = _table(connection, CHANGES), _table(connection, STAGED)
    connection.execute(
        text(
            f"INSERT INTO {changes} (position, lead_id, rater_id, stars, rating_id) "  # noqa: S608 - names are ours
            f"SELECT s.position, s.lead_id, s.rater_id, s.stars, held.id FROM {staged} AS s "
            "LEFT JOIN lead_ratings AS held ON held.lead_id = s.lead_id AND held.rater_id = s.rater_id "
            "WHERE held.id IS NULL OR held.stars <> s.stars"
        )
    )
    return int(connection.exec_driver_sql(f"SELECT count(*) FROM {changes}").scalar_one())  # noqa: S608


def _write_changes(connection: Connection, moment: datetime) -> None:
    """New ratings inserted, changed ones updated, a history row for each, in the file's row order."""
    changes = _table(connection, CHANGES)
    now = bindparam("now", moment, type_=UTCDateTime())
    params = (now, bindparam("reasons", IMPORTED_REASONS, type_=JSON()))
    reasons = "CAST(:reasons AS JSON)" if connection.dialect.name == "postgresql" else ":reasons"
    connection.execute(
        text(
            "INSERT INTO lead_ratings (lead_id, rater_id, stars, reasons, note, created_at, updated_at) "  # noqa: S608
            f"SELECT lead_id, rater_id, stars, {reasons}, NULL, :now, :now FROM {changes} "
            "WHERE rating_id IS NULL ORDER BY position"
        ).bindparams(*params)
    )
    connection.execute(
        text(
            f"UPDATE lead_ratings SET stars = c.stars, updated_at = :now FROM {changes} AS c "  # noqa: S608
            "WHERE lead_ratings.id = c.rating_id"
        ).bindparams(now)
    )
    connection.execute(
        text(
            "INSERT INTO lead_rating_history (rating_id, stars, reasons, note, changed_by_id, changed_at) "  # noqa: S608
            f"SELECT held.id, c.stars, {reasons}, NULL, c.rater_id, :now FROM {changes} AS c "
            "JOIN lead_ratings AS held ON held.lead_id = c.lead_id AND held.rater_id = c.rater_id "
            "ORDER BY c.position"
        ).bindparams(*params)
    )


def write_imported_ratings(
    connection: Connection, ratings: pl.DataFrame, progress: ProgressFn = no_progress
) -> int:
    """Write `ratings` (RATINGS_SCHEMA: one rating per lead and rater, of leads the caller has written,
    in the file's row order) inside the caller's transaction; how many were new or changed."""
    ratings = ratings.filter(pl.col("lead_id").is_not_null() & pl.col("rater_id").is_not_null())
    if ratings.is_empty():
        return 0
    _stage(connection, ratings, progress)
    changed = _pick_changes(connection)
    if changed:
        with (
            rebuilt_indexes(connection, "lead_ratings", changed, progress, INDEXING),
            rebuilt_indexes(connection, "lead_rating_history", changed, progress, INDEXING),
        ):
            _write_changes(connection, utcnow())
    for name in (CHANGES, STAGED):
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_table(connection, name)}")
    progress(WRITING, 1.0)
    return changed
