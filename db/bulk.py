"""Writing many rows at once through the driver's bulk path: executemany on SQLite, COPY on PostgreSQL.

The ORM adds a Python object per row, far too slow for a million leads; these write polars frames whose
columns are already the table's, with datetimes as the text each backend stores. Rows go in chunks, so
that memory stays small and the progress bar moves while a million rows are written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from sqlalchemy import text
from sqlalchemy.engine import Connection

from db.progress import ProgressFn, no_progress

CHUNK_ROWS = 50_000
# SQLite's page cache during a bulk write (KiB; the default is 2 MB): a million rows update a dozen
# indexes in random key order, and with the default cache every one of those touches the disk.
BULK_CACHE_KIB = 256 * 1024
# Dropping a table's indexes and building them again after a bulk write pays when the write inserts or
# updates at least this share of the rows the table holds (building costs about a third of keeping them up
# to date row by row, but goes over every row of the table, not only the written ones).
REBUILD_SHARE = 0.5
REBUILD_MIN_ROWS = 50_000


def text_times(frame: pl.DataFrame, columns: Sequence[str], postgres: bool) -> pl.DataFrame:
    suffix = "+00:00" if postgres else ""
    return frame.with_columns(
        (pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.6f") + pl.lit(suffix)).alias(c) for c in columns
    )


def json_list(column: str) -> pl.Expr:
    return pl.lit("[") + pl.col(column).cast(pl.List(pl.String)).list.join(", ") + pl.lit("]")


def _driver_cursor(connection: Connection) -> Any:
    return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]


def bulk_insert(
    connection: Connection, table: str, frame: pl.DataFrame, progress: ProgressFn, label: str
) -> None:
    columns = frame.columns
    total = max(frame.height, 1)
    cursor = _driver_cursor(connection)
    try:
        if connection.dialect.name == "sqlite":
            # Table and column names come from our code, never from input.
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
            for offset in range(0, total, CHUNK_ROWS):
                cursor.executemany(sql, frame.slice(offset, CHUNK_ROWS).iter_rows())
                progress(label, min(1.0, (offset + CHUNK_ROWS) / total))
            return
        # One COPY a chunk: the server works through a COPY long after the client has sent it, so only
        # a COPY that has ended tells how far the writing is.
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        for offset in range(0, total, CHUNK_ROWS):
            with cursor.copy(statement) as copy:
                copy.write(frame.slice(offset, CHUNK_ROWS).write_csv(include_header=False, null_value=""))
            progress(label, min(1.0, (offset + CHUNK_ROWS) / total))
    finally:
        cursor.close()


def execute_chunked(
    connection: Connection,
    sql: str,
    frame: pl.DataFrame,
    progress: ProgressFn = no_progress,
    label: str = "",
) -> None:
    """executemany `sql` (the driver's positional parameters, in `frame`'s column order) over every row."""
    total = max(frame.height, 1)
    cursor = _driver_cursor(connection)
    try:
        for offset in range(0, frame.height, CHUNK_ROWS):
            cursor.executemany(sql, list(frame.slice(offset, CHUNK_ROWS).iter_rows()))
            progress(label, min(1.0, (offset + CHUNK_ROWS) / total))
    finally:
        cursor.close()


@contextmanager
def bulk_cache(connection: Connection) -> Iterator[None]:
    """A large SQLite page cache for the block, the connection's own size again after it."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {before}")


def _driver_in_transaction(connection: Connection) -> bool:
    """Whether SQLite itself has a transaction open on this connection (not only SQLAlchemy's view)."""
    return bool(connection.connection.driver_connection.in_transaction)  # type: ignore[union-attr]


def _index_statistics(connection: Connection, table: str, names: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows ANALYZE keeps for these indexes (dropping an index deletes them), if it ever ran."""
    if not connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    ).first():
        return []
    marks = ", ".join("?" * len(names))
    found = connection.exec_driver_sql(
        f"SELECT tbl, idx, stat FROM sqlite_stat1 WHERE tbl = ? AND idx IN ({marks})",  # noqa: S608
        (table, *names),
    )
    return [tuple(row) for row in found]


@contextmanager
def rebuilt_indexes(
    connection: Connection,
    table: str,
    writing: int,
    progress: ProgressFn = no_progress,
    label: str = "building indexes",
) -> Iterator[None]:
    """On SQLite, when the block inserts or updates `writing` rows, a large share of `table` (as it holds
    before the block), drop the table's plain (non-unique) indexes for the block and build them again after
    it: far faster than updating a dozen indexes row by row.

    Inside the caller's transaction, so a failure rolls the indexes back with the rows (the caller must roll
    back when the block raises: the indexes are only built again when it ends normally); in WAL mode other
    connections keep reading the table, indexes included, as it was until the commit. Without a transaction
    open, nothing is dropped: a failure could not bring the indexes back. Unique indexes stay: they are what
    refuses a duplicate. PostgreSQL keeps its indexes (dropping one would lock every reader out of the
    table until the commit).
    """
    if (
        connection.dialect.name != "sqlite"
        or writing < REBUILD_MIN_ROWS
        or not _driver_in_transaction(connection)
    ):
        yield
        return
    held = int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())  # noqa: S608
    if writing < REBUILD_SHARE * held:
        yield
        return
    listed = connection.exec_driver_sql(f"PRAGMA index_list({table})").mappings().all()
    plain = [
        row["name"] for row in listed if row["origin"] == "c" and not row["unique"] and not row["partial"]
    ]
    definitions = [
        str(
            connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
            ).scalar_one()
        )
        for name in plain
    ]
    statistics = _index_statistics(connection, table, plain) if plain else []
    for name in plain:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for done, definition in enumerate(definitions, start=1):
        connection.exec_driver_sql(definition)
        progress(label, done / len(definitions))
    if statistics:
        connection.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", statistics)


def fix_sequences(connection: Connection, tables: Sequence[str]) -> None:
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        )
