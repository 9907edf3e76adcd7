"""Reading the audit log back, for admins: filter by who, what and when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from db.access import Action, Actor, authorize
from db.models import AuditLog

MAX_ROWS = 10_000


@dataclass(frozen=True)
class AuditFilter:
    who: str = ""  # part of the username, any case
    action: str = ""  # the action or its family: "login" finds login, login.failed, login.locked
    first_day: date | None = None  # UTC days, both ends included
    last_day: date | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def search_audit(
    *, session: Session, actor: Actor, filters: AuditFilter = AuditFilter(), limit: int = MAX_ROWS
) -> Sequence[AuditLog]:
    """Matching entries, newest first."""
    authorize(session=session, actor=actor, action=Action.audit_read)
    query = select(AuditLog)
    if filters.who.strip():
        query = query.where(
            col(AuditLog.actor_username).ilike(f"%{_like_escape(filters.who.strip())}%", escape="\\")
        )
    if filters.action:
        query = query.where(
            (col(AuditLog.action) == filters.action)
            | col(AuditLog.action).startswith(filters.action + ".", autoescape=True)
        )
    if filters.first_day is not None:
        query = query.where(AuditLog.at >= _day_start(filters.first_day))
    if filters.last_day is not None:
        query = query.where(AuditLog.at < _day_start(filters.last_day + timedelta(days=1)))
    query = query.order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc()).limit(limit)
    return session.exec(query).all()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def audit_action_families(*, session: Session, actor: Actor) -> list[str]:
    """Every action seen, and the families before a dot (login for login.failed), for a filter menu."""
    authorize(session=session, actor=actor, action=Action.audit_read)
    actions = set(session.exec(select(AuditLog.action).distinct()).all())
    return sorted(actions | {action.split(".", 1)[0] for action in actions})
