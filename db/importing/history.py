"""The recent imports as the Import page lists them: who imported what, when, with what outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from db.access import OPERATOR, Action, Actor, authorize
from db.models import ImportRun, User


@dataclass(frozen=True)
class RecentRun:
    started_at: datetime
    who: str  # a username, or "command line"
    source: str
    file_name: str
    status: str  # done, dry-run, refused, failed
    rows_read: int
    created: int
    updated: int
    unchanged: int


def recent_runs(*, session: Session, actor: Actor, limit: int = 20) -> list[RecentRun]:
    """The newest `limit` import runs, newest first."""
    authorize(session=session, actor=actor, action=Action.import_run)
    runs = session.exec(select(ImportRun).order_by(col(ImportRun.id).desc()).limit(limit)).all()
    ids = {run.actor_id for run in runs if run.actor_id is not None}
    names = (
        dict(session.exec(select(User.id, User.username).where(col(User.id).in_(ids))).all()) if ids else {}
    )
    return [
        RecentRun(
            started_at=run.started_at,
            who=names.get(run.actor_id, OPERATOR.username),
            source=run.source_system,
            file_name=run.file_name,
            status=run.status,
            rows_read=run.rows_read,
            created=run.created,
            updated=run.updated,
            unchanged=run.unchanged,
        )
        for run in runs
    ]
