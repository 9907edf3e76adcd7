"""The append-only audit log: one row per thing worth answering for later."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from db.models import AuditLog, User

MAX_DETAIL = 4000


def escape_control_characters(value: str) -> str:
    """Make control characters visible (\\n, \\x1b...) so a logged value cannot forge log lines."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in value)


def record(
    *,
    session: Session,
    action: str,
    actor: User | None = None,
    actor_username: str | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    outcome: str = "ok",
    detail: str | None = None,
    at: datetime | None = None,
) -> AuditLog:
    """Add one audit row to the caller's unit of work (committed with it)."""
    name = actor.username if actor is not None else actor_username
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        actor_username=escape_control_characters(name)[:120] if name else None,
        action=escape_control_characters(action)[:60],
        object_type=object_type,
        object_id=escape_control_characters(str(object_id))[:120] if object_id is not None else None,
        outcome=outcome,
        detail=escape_control_characters(detail)[:MAX_DETAIL] if detail else None,
    )
    if at is not None:
        entry.at = at
    session.add(entry)
    return entry
