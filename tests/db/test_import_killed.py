"""An import process killed with SIGKILL half-way through writing leaves the database intact and holds
none of that import; the same import then completes with the right counts. On SQLite and PostgreSQL.

A real `python -m db import csv` runs on a generated export of ROWS leads (written in chunks of
db.bulk.CHUNK_ROWS, so several). Its progress lines on standard error say when it is writing: the first
"writing ..." line comes after the first chunk went into the open transaction, with more chunks (and on
SQLite the rebuild of the leads indexes) still to come, and that is when it is killed. Nothing here waits
on a timer: the test fails, rather than passes, if the process ends before the kill.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from db import clock
from db.bulk import CHUNK_ROWS
from db.demo import seed_demo
from db.engine import make_engine
from db.migrate import upgrade_to_head
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.db.importing.snapshots import LOG_TABLES, Snapshot, snapshot
from tests.db.importing.test_writing import MAPPING_TOML, leads_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ROWS = CHUNK_ROWS * 2 + 20_000  # three chunks: killed after the first
OWNERS = 4  # leads_file's owners: "Owner 0" to "Owner 3", people Huddle does not know yet
SOURCE = "crm"  # MAPPING_TOML's
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own (the killed process's server side may linger a moment), holding a small demo
    company that the killed import must leave as it was."""
    url = f"sqlite:///{tmp_path / 'huddle.db'}" if request.param == "sqlite" else create_postgres_database()
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed_demo(engine, leads=300, seed=7, today=clock.today())
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        drop_postgres_database(url)


@pytest.fixture
def export(tmp_path: Path) -> tuple[Path, Path]:
    """ROWS leads of a new source, owned by OWNERS new people; and their mapping."""
    path = tmp_path / "big-export.csv"
    path.write_bytes(leads_file(0, ROWS))
    mapping = tmp_path / "crm.toml"
    mapping.write_text(MAPPING_TOML.format(label="A big CRM export"), encoding="utf-8")
    return path, mapping


def _command(export: tuple[Path, Path]) -> list[str]:
    path, mapping = export
    return [sys.executable, "-m", "db", "import", "csv", str(path), "--mapping", str(mapping)]


def _environment(engine: Engine) -> dict[str, str]:
    url = engine.url.render_as_string(hide_password=False)
    return {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}


def _kill_while_writing(engine: Engine, export: tuple[Path, Path]) -> list[str]:
    """Start the import, SIGKILL it at its first progress line that says it is writing; its lines."""
    process = subprocess.Popen(
        _command(export),
        cwd=PROJECT_ROOT,
        env=_environment(engine),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 300
    try:
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, f"the import ended before it wrote: {seen}"
            seen.append(line)
            if "writing" in line:
                process.send_signal(signal.SIGKILL)
                break
    finally:
        if process.poll() is None:
            process.kill()  # SIGKILL (again, or after a failed wait)
        stdout, _ = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, (process.returncode, seen, stdout)
    assert not any("done" in line for line in seen), seen  # killed before it finished writing
    assert stdout == "", stdout
    return seen


def _source_leads(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM leads WHERE source_system = :source"), {"source": SOURCE}
            ).scalar_one()
        )


def _new_owners(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(text("SELECT count(*) FROM users WHERE name LIKE 'Owner %'")).scalar_one()
        )


def _assert_intact(engine: Engine) -> None:
    """SQLite: integrity and foreign keys; PostgreSQL: every index of leads and users checked by amcheck
    against its table (where the extension is installed) and the tables read in full."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            return
        available = connection.execute(
            text("SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'")
        ).scalar_one()
        if available:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
            indexes = connection.execute(
                text(
                    "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                    "WHERE c.relname IN ('leads', 'users', 'data_sources', 'import_runs')"
                )
            ).scalars()
            for index in indexes:
                connection.execute(
                    text("SELECT bt_index_check(CAST(:index AS regclass), true)"), {"index": index}
                )
        for table in ("leads", "users", "lead_ratings", "import_runs", "audit_log"):
            connection.execute(text(f"SELECT * FROM {table}")).all()
        connection.commit()


def _assert_as_before(engine: Engine, before: Snapshot) -> None:
    """Every table as before the killed import, the import log aside (whatever it records of a try, it
    holds no finished run of this source)."""
    after = snapshot(engine)
    assert set(after.tables) == set(before.tables)
    for name, rows in before.tables.items():
        if name not in LOG_TABLES:
            assert after.tables[name] == rows, f"table {name} changed"
    assert after.sqlite_dump == before.sqlite_dump
    done = [r for r in after.tables["import_runs"] if r["source_system"] == SOURCE and r["status"] == "done"]
    assert done == []


def test_an_import_killed_while_writing_leaves_nothing_and_then_completes(
    database: Engine, export: tuple[Path, Path]
) -> None:
    before = snapshot(database)
    lines = _kill_while_writing(database, export)
    assert any("writing" in line for line in lines)

    _assert_intact(database)
    assert _source_leads(database) == 0
    assert _new_owners(database) == 0
    _assert_as_before(database, before)

    completed = subprocess.run(
        _command(export),
        cwd=PROJECT_ROOT,
        env=_environment(database),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert f"{ROWS:,} leads created, 0 updated, 0 unchanged, {OWNERS} users created" in completed.stdout
    _assert_intact(database)
    assert _source_leads(database) == ROWS
    assert _new_owners(database) == OWNERS
    with database.connect() as connection:
        runs = connection.execute(
            text(
                "SELECT status, rows_read, created, updated, users_created FROM import_runs "
                "WHERE source_system = :source AND status = 'done'"
            ),
            {"source": SOURCE},
        ).all()
    assert [tuple(run) for run in runs] == [("done", ROWS, ROWS, 0, OWNERS)]
