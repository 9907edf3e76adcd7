"""Writing many rows at once through the driver's bulk path: executemany on SQLite, COPY on PostgreSQL.

The ORM adds a Python object per row, far too slow for a million leads; these write polars frames whose
columns are already the table's, with datetimes as the text each backend stores.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import polars as pl
from sqlalchemy import text
from sqlalchemy.engine import Connection

from db.progress import ProgressFn


def text_times(frame: pl.DataFrame, columns: Sequence[str], postgres: bool) -> pl.DataFrame:
    suffix = "+00:00" if postgres else ""
    return frame.with_columns(
        (pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S%.6f") + pl.lit(suffix)).alias(c) for c in columns
    )


def json_list(column: str) -> pl.Expr:
    return pl.lit("[") + pl.col(column).cast(pl.List(pl.String)).list.join(", ") + pl.lit("]")


def bulk_insert(
    connection: Connection, table: str, frame: pl.DataFrame, progress: ProgressFn, label: str
) -> None:
    columns = frame.columns
    if connection.dialect.name == "sqlite":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        # Table and column names come from this module, never from input.
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        chunk = 100_000
        for offset in range(0, max(len(frame), 1), chunk):
            cursor.executemany(sql, frame.slice(offset, chunk).iter_rows())
            progress(label, min(1.0, (offset + chunk) / max(len(frame), 1)))
        cursor.close()
        return
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="")
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
    cursor.close()
    progress(label, 1.0)


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
