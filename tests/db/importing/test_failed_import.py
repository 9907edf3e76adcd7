"""An import that fails unexpectedly (not a refused file: an error while planning or writing) leaves a
record, on SQLite and PostgreSQL: an import run marked failed, an audit entry with the reason, and a log
line with the trace; none of its rows; and the error itself raised again. Every import logs its start and
its outcome too."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

import db.importing.run
from db.access import OPERATOR
from db.engine import read_session, write_session
from db.importing.mapping import parse_mapping
from db.importing.run import RunOptions, import_csv
from db.models import AuditLog, ImportRun, Lead, Role, User

LOGGER = "db.importing.run"
MAPPING = parse_mapping('[source]\nname = "crm"\n[columns]\nexternal_id = "id"\ncreated_date = "created"\n')
CSV = b"id,created\nA-1,2026-01-05\nA-2,2026-01-06\n"
REASON = "RuntimeError: the disk is full"


def _admin(engine: Engine) -> User:
    with write_session(engine) as session:
        admin = User(username="ada", name="Ada", role=Role.admin)
        session.add(admin)
        session.flush()
        session.refresh(admin)
        session.expunge(admin)
        return admin


def _writes_then_fails(*args: Any) -> Any:
    """The write step writes its rows into the import's open transaction, then fails."""
    _real_apply_plan(*args)
    raise RuntimeError("the disk is full")


def _plans_then_fails(*_args: Any) -> Any:
    raise RuntimeError("the disk is full")


_real_apply_plan = db.importing.run.apply_plan


@pytest.mark.parametrize(
    ("step", "broken"), [("apply_plan", _writes_then_fails), ("plan_import", _plans_then_fails)]
)
def test_a_failed_import_leaves_a_failed_run_its_audit_entry_and_a_log_line(
    db_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    step: str,
    broken: Any,
) -> None:
    admin = _admin(db_engine)
    monkeypatch.setattr(db.importing.run, step, broken)
    caplog.set_level(logging.INFO, logger=LOGGER)
    with pytest.raises(RuntimeError, match="the disk is full"):
        import_csv(db_engine, CSV, MAPPING, file_name="leads.csv", options=RunOptions(actor=admin))

    with read_session(db_engine) as session:
        assert session.exec(select(func.count()).select_from(Lead)).one() == 0, "the import rolled back"
        runs = session.exec(select(ImportRun)).all()
        entries = session.exec(select(AuditLog).where(AuditLog.action == "import.failed")).all()
    assert [(r.source_system, r.file_name, r.status, r.actor_id, r.rows_read) for r in runs] == [
        ("crm", "leads.csv", "failed", admin.id, 0)
    ]
    assert runs[0].finished_at is not None and runs[0].finished_at >= runs[0].started_at
    assert [(e.actor_username, e.outcome, e.object_id) for e in entries] == [("ada", "failed", "crm")]
    assert entries[0].detail is not None and REASON in entries[0].detail and "leads.csv" in entries[0].detail

    records = [r for r in caplog.records if r.name == LOGGER]
    assert [r.levelno for r in records] == [logging.INFO, logging.ERROR]
    started, failed = records
    assert "import started" in started.getMessage() and "leads.csv" in started.getMessage()
    assert "import failed" in failed.getMessage() and REASON in failed.getMessage()
    assert failed.exc_info is not None and isinstance(failed.exc_info[1], RuntimeError), "with its trace"


def test_a_done_import_logs_its_start_and_outcome_and_no_secret(
    db_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    assert import_csv(db_engine, CSV, MAPPING, file_name="leads.csv", options=RunOptions(actor=OPERATOR)).ok
    started, done = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]
    assert started == (logging.INFO, "import started: crm from leads.csv by command line")
    assert done[0] == logging.INFO and done[1].startswith(
        "import done by command line: Imported leads.csv in "
    )
    assert "2 leads created" in done[1]
    url = db_engine.url
    secrets = [url.render_as_string(hide_password=False), *([url.password] if url.password else [])]
    assert not any(secret in caplog.text for secret in secrets)


def test_a_control_character_in_a_file_name_cannot_forge_a_log_line(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    name = "leads.csv\nimport done by admin: all fine"
    import_csv(sqlite_engine, CSV, MAPPING, file_name=name, options=RunOptions(actor=OPERATOR, dry_run=True))
    assert all("\n" not in r.getMessage() for r in caplog.records if r.name == LOGGER)


def test_the_error_is_raised_even_when_its_record_cannot_be_written(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_record(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("the database went away")

    monkeypatch.setattr(db.importing.run, "apply_plan", _plans_then_fails)
    monkeypatch.setattr(db.importing.run, "_record", no_record)
    caplog.set_level(logging.INFO, logger=LOGGER)
    with pytest.raises(RuntimeError, match="the disk is full"):
        import_csv(sqlite_engine, CSV, MAPPING, options=RunOptions(actor=OPERATOR))
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert messages[0].startswith("import failed") and "could not be recorded" in messages[1]
