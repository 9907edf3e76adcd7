"""The outbox: a message joins it in the same transaction as the event that caused it (issue 13).

`enqueue` is the one way in. The outbox's unique (event_key, user_id, channel) makes a second enqueue of
the same event for the same person and channel a no-op, so finding an event twice (two app servers, a
rerun) never sends it twice. Delivery (claiming, sending, retrying) is db/delivery.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from db import clock
from db.models import AlertKind, Channel, OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class Message:
    """What one person is told, ready for either channel: the subject, a plain-text part, an HTML part
    (email) and the webhook's JSON body (chat). Lead fields in it are already escaped for each form."""

    subject: str
    text: str
    html: str | None = None
    chat: dict[str, Any] | None = field(default=None)


def enqueue(
    session: Session,
    *,
    event_key: str,
    kind: AlertKind,
    user_id: int,
    channel: Channel,
    message: Message,
    recipient: str | None = None,
    lead_id: int | None = None,
    due_at: datetime | None = None,
) -> bool:
    """Add one message to the caller's unit of work (committed with the event); False when this event
    already has its message for this person and channel."""
    values = {
        "event_key": event_key[:200],
        "kind": kind,
        "user_id": user_id,
        "channel": channel,
        "lead_id": lead_id,
        "recipient": recipient,
        "subject": message.subject[:300],
        "text": message.text,
        "html": message.html,
        "chat": message.chat,
        "status": OutboxStatus.queued,
        "attempts": 0,
        # Huddle's clock, not the wall's: on a pinned demo day a message must fall due on that day.
        "next_attempt_at": due_at or clock.now(),
        "created_at": clock.now(),
    }
    dialect = session.get_bind().dialect.name
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    statement: Any
    if dialect == "postgresql":
        statement = (
            postgresql.insert(table)
            .values(**values)
            .on_conflict_do_nothing(constraint="uq_outbox_event_person_channel")
        )
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - Huddle runs on SQLite and PostgreSQL only
        statement = insert(table).values(**values)
    # RETURNING, not rowcount: psycopg reports a row for an insert that ON CONFLICT skipped.
    return session.execute(statement.returning(table.c.id)).first() is not None
