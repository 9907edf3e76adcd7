"""Importing is for admins, checked in the service: a page or a script calling it as anyone else is refused
and the refusal is logged, before a row is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from db.access import AccessDenied
from db.engine import read_session, write_session
from db.importing.mapping import parse_mapping
from db.importing.run import RunOptions, import_csv
from db.models import AuditLog, ImportRun, Role, User

MAPPING = """
[source]
name = "crm"
label = "CRM"

[columns]
external_id = "id"
created_date = "created"
"""


def _user(engine: Engine, role: Role) -> User:
    with write_session(engine) as session:
        user = User(username=f"{role.value}-person", name="Someone", role=role)
        session.add(user)
        session.flush()
        session.refresh(user)
        session.expunge(user)
        return user


@pytest.mark.parametrize(
    ("role", "allowed"), [(Role.admin, True), (Role.rep, False), (Role.executive, False)]
)
def test_only_an_admin_imports(db_engine: Engine, tmp_path: Path, role: Role, allowed: bool) -> None:
    file = tmp_path / "leads.csv"
    file.write_text("id,created\n1,2026-01-05\n", encoding="utf-8")
    options = RunOptions(actor=_user(db_engine, role))
    if allowed:
        assert import_csv(db_engine, file, parse_mapping(MAPPING), options=options).ok
        return
    with pytest.raises(AccessDenied):
        import_csv(db_engine, file, parse_mapping(MAPPING), options=options)
    with read_session(db_engine) as session:
        assert not session.exec(select(ImportRun)).all()
        denied = session.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        assert [(d.action, d.object_id) for d in denied] == [("import.run", "leads.csv")]
