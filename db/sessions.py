"""Server-side login sessions behind the "remember me" cookie.

The login widget's cookie is a signed {username, exp_date} token that the browser is asked to forget on
logout. Asking is not enough: a page reloaded before the browser deletes it, or a copied cookie, would log
the person straight back in. So every token is also a row here, and a cookie counts only while its row is
live: logging out ends the row, whatever the browser does with the cookie.
"""

from __future__ import annotations

import hashlib

from sqlmodel import Session, col, select

from db.models import User, UserSession, utcnow


def session_key(username: str, expires_at: float) -> str:
    """The row id of one issued token; a hash, so the table never holds anything replayable."""
    return hashlib.sha256(f"{username}\x00{expires_at!r}".encode()).hexdigest()


def start_session(*, session: Session, user: User, key: str) -> UserSession:
    if user.id is None:
        raise ValueError("a session needs a saved user")
    row = session.get(UserSession, key)
    if row is None:
        row = UserSession(id=key, user_id=user.id)
        session.add(row)
        session.flush()
    return row


def session_is_live(*, session: Session, key: str, username: str) -> bool:
    """True when the token was issued here, to this user, who is still active, and nobody ended it."""
    statement = (
        select(UserSession)
        .join(User, col(User.id) == col(UserSession.user_id))
        .where(col(UserSession.id) == key, col(User.username) == username, col(User.active).is_(True))
    )
    row = session.exec(statement).first()
    return row is not None and row.ended_at is None


def end_session(*, session: Session, key: str, reason: str = "logout") -> bool:
    """End one session; False when there was no such live session."""
    row = session.get(UserSession, key)
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = utcnow()
    row.end_reason = reason[:40]
    session.add(row)
    return True


def end_all_sessions(*, session: Session, user: User, reason: str) -> int:
    """End every live session of one person (disabling them, a new password)."""
    rows = session.exec(
        select(UserSession).where(UserSession.user_id == user.id, col(UserSession.ended_at).is_(None))
    ).all()
    for row in rows:
        row.ended_at = utcnow()
        row.end_reason = reason[:40]
        session.add(row)
    return len(rows)
