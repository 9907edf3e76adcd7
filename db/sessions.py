"""Server-side login sessions behind the "remember me" cookie.

The login widget's cookie is a signed {username, exp_date} token that the browser is asked to forget on
logout. Asking is not enough: a page reloaded before the browser deletes it, or a copied cookie, would log
the person straight back in. So every token is also a row here, and a cookie counts only while its row is
live: logging out ends the row, whatever the browser does with the cookie. A row also ends after 12 hours
unused and 7 days after the login (HUDDLE_SESSION_IDLE_HOURS, HUDDLE_SESSION_MAX_DAYS).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from db.models import User, UserSession, utcnow
from db.settings import get_settings

# last_seen_at is written at most this often, so a busy page is not one write per rerun.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


def session_limits() -> SessionLimits:
    """Idle and absolute lifetime from the settings (12 hours and 7 days unless configured)."""
    settings = get_settings()
    return SessionLimits(
        idle=timedelta(hours=settings.huddle_session_idle_hours),
        absolute=timedelta(days=settings.huddle_session_max_days),
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC; PostgreSQL an aware time.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def expiry_reason(row: UserSession, now: datetime, limits: SessionLimits) -> str | None:
    """Why a session has run out at `now` ("idle", "expired"), or None while it may go on."""
    if now - _aware(row.created_at) >= limits.absolute:
        return "expired"
    if now - _aware(row.last_seen_at) >= limits.idle:
        return "idle"
    return None


def session_key(username: str, expires_at: float) -> str:
    """The row id of one issued token; a hash, so the table never holds anything replayable."""
    return hashlib.sha256(f"{username}\x00{expires_at!r}".encode()).hexdigest()


def start_session(*, session: Session, user: User, key: str, now: datetime | None = None) -> UserSession:
    if user.id is None:
        raise ValueError("a session needs a saved user")
    row = session.get(UserSession, key)
    if row is None:
        now = now or utcnow()
        row = UserSession(id=key, user_id=user.id, created_at=now, last_seen_at=now)
        session.add(row)
        session.flush()
    return row


def _row(session: Session, key: str, username: str) -> UserSession | None:
    statement = (
        select(UserSession)
        .join(User, col(User.id) == col(UserSession.user_id))
        .where(col(UserSession.id) == key, col(User.username) == username, col(User.active).is_(True))
    )
    return session.exec(statement).first()


def _live_row(
    session: Session, key: str, username: str, now: datetime, limits: SessionLimits
) -> UserSession | None:
    """The session's row when it was issued here, to this user, who is still active, nobody ended it, and it
    has been neither idle nor alive for too long."""
    row = _row(session, key, username)
    if row is None or row.ended_at is not None or expiry_reason(row, now, limits) is not None:
        return None
    return row


def session_is_live(
    *,
    session: Session,
    key: str,
    username: str,
    now: datetime | None = None,
    limits: SessionLimits | None = None,
) -> bool:
    return _live_row(session, key, username, now or utcnow(), limits or session_limits()) is not None


def needs_no_write(*, session: Session, key: str, username: str, now: datetime | None = None) -> bool:
    """True when the session is live and was marked as used within the last minute: a rerun can go on
    without taking the write lock (on SQLite, one writer at a time) just to say so."""
    now = now or utcnow()
    row = _live_row(session, key, username, now, session_limits())
    return row is not None and now - _aware(row.last_seen_at) < TOUCH_EVERY


def use_session(
    *,
    session: Session,
    key: str,
    username: str,
    now: datetime | None = None,
    limits: SessionLimits | None = None,
) -> bool:
    """The check every rerun makes: live or not; a live session is marked as used, a timed-out one ended."""
    now, limits = now or utcnow(), limits or session_limits()
    row = _row(session, key, username)
    if row is None or row.ended_at is not None:
        return False
    reason = expiry_reason(row, now, limits)
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        session.add(row)
        return False
    if now - _aware(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return True


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
    """End every live session of one person (logging out, disabling them, a new password)."""
    rows = session.exec(
        select(UserSession).where(UserSession.user_id == user.id, col(UserSession.ended_at).is_(None))
    ).all()
    for row in rows:
        row.ended_at = utcnow()
        row.end_reason = reason[:40]
        session.add(row)
    return len(rows)
