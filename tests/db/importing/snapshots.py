"""A full picture of a database, to prove that an import which should write nothing wrote nothing.

Every table's rows are read, ordered, through reflection (so a table the models forget is still seen); on
SQLite the `iterdump` SQL text is compared too. Every import try, refused or not, is kept in the import log
(import_runs and audit_log, so an admin sees who tried what): those two tables are compared apart, and must
have gained exactly one row each with the expected status.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine, make_url

LOG_TABLES = ("import_runs", "audit_log")
_REFLECTED: dict[str, MetaData] = {}  # every test database is migrated to the same head: reflect once


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, list[dict[str, Any]]]
    sqlite_dump: list[str] | None  # iterdump lines, the import log's inserts left out


def _metadata(engine: Engine) -> MetaData:
    if engine.dialect.name not in _REFLECTED:
        metadata = MetaData()
        metadata.reflect(engine)
        _REFLECTED[engine.dialect.name] = metadata
    return _REFLECTED[engine.dialect.name]


def _rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    metadata = _metadata(engine)
    tables: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order)).all()
            tables[table.name] = [dict(row._mapping) for row in rows]
    return tables


def _sqlite_dump(engine: Engine) -> list[str] | None:
    if engine.dialect.name != "sqlite":
        return None
    path = make_url(str(engine.url)).database
    assert path
    with closing(sqlite3.connect(path)) as connection:
        lines = list(connection.iterdump())
    logged = tuple(f'INSERT INTO "{name}"' for name in LOG_TABLES)
    sequences = tuple(f"INSERT INTO \"sqlite_sequence\" VALUES('{name}'" for name in LOG_TABLES)
    return [line for line in lines if not line.startswith(logged + sequences)]


def snapshot(engine: Engine) -> Snapshot:
    return Snapshot(_rows(engine), _sqlite_dump(engine))


def _without(rows: list[dict[str, Any]], columns: set[str]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in columns} for row in rows]


def assert_nothing_but_the_log_changed(
    engine: Engine, before: Snapshot, status: str, ignoring: dict[str, set[str]] | None = None
) -> None:
    """Every table as it was, but for one more import run with `status` and its audit line.

    `ignoring` names columns allowed to change (table -> columns); the SQLite dump is then not compared.
    """
    after = snapshot(engine)
    ignoring = ignoring or {}
    assert set(after.tables) == set(before.tables)
    for name, rows in before.tables.items():
        if name not in LOG_TABLES:
            skip = ignoring.get(name, set())
            assert _without(after.tables[name], skip) == _without(rows, skip), f"table {name} changed"
    if not ignoring:
        assert after.sqlite_dump == before.sqlite_dump
    runs = after.tables["import_runs"]
    assert runs[: len(before.tables["import_runs"])] == before.tables["import_runs"]
    assert len(runs) == len(before.tables["import_runs"]) + 1
    with engine.connect() as connection:
        metadata = _metadata(engine)
        run_table, audit_table = metadata.tables["import_runs"], metadata.tables["audit_log"]
        last_run = connection.execute(select(run_table).order_by(run_table.c.id.desc()).limit(1)).one()
        last_audit = connection.execute(select(audit_table).order_by(audit_table.c.id.desc()).limit(1)).one()
    assert last_run.status == status
    if status == "refused":
        assert (last_run.rows_read, last_run.created, last_run.updated) == (0, 0, 0)
    assert last_audit.action == f"import.{status}"
    assert len(after.tables["audit_log"]) == len(before.tables["audit_log"]) + 1
