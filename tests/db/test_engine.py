"""The engine: SQLite tuned for concurrent writers, one-line errors for unreachable databases."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from db.engine import DatabaseUnreachable, check_reachable, make_engine, safe_url, write_session
from db.migrate import upgrade_to_head
from db.models import AuditLog


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_concurrent_writers_queue_instead_of_failing(sqlite_engine: Engine) -> None:
    """Eight writers that each hold the write lock for a moment all succeed, one after another."""
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            with write_session(sqlite_engine) as session:
                # Read first: a DEFERRED transaction would now be unable to upgrade to a write lock.
                session.exec(select(func.count()).select_from(AuditLog)).one()
                time.sleep(0.05)
                session.add(AuditLog(action="test.write", object_id=str(worker)))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar() == 8


def test_a_failed_unit_of_work_writes_nothing(db_engine: Engine) -> None:
    with pytest.raises(RuntimeError), write_session(db_engine) as session:
        session.add(AuditLog(action="test.rollback"))
        session.flush()
        raise RuntimeError("boom")
    with db_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar() == 0


def test_foreign_keys_are_enforced(db_engine: Engine) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), write_session(db_engine) as session:
        session.add(AuditLog(action="test.fk", actor_id=987654))


def test_migrations_match_the_models(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_migrating_twice_is_harmless(db_engine: Engine) -> None:
    upgrade_to_head(db_engine)
    with db_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_unreachable_database_gives_one_line_without_the_password() -> None:
    engine = make_engine("postgresql+psycopg://huddle:s3cret-pw@127.0.0.1:1/nowhere")
    with pytest.raises(DatabaseUnreachable) as caught:
        check_reachable(engine)
    message = str(caught.value)
    assert "\n" not in message
    assert "s3cret-pw" not in message
    assert "postgresql+psycopg://huddle:***@127.0.0.1:1/nowhere" in message


def test_safe_url_hides_only_the_password() -> None:
    assert safe_url("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert safe_url("sqlite:///data/app.db") == "sqlite:///data/app.db"


def test_sqlite_folder_is_created_on_first_run(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "folder" / "app.db"
    engine = make_engine(f"sqlite:///{target}")
    check_reachable(engine)
    engine.dispose()
    assert target.exists()
