"""Checking a login: lockout after repeated failures, and one answer (at one cost) whoever asks.

streamlit-authenticator answers at once for an unknown username and counts failures in memory without a
time window. Here every try is a LoginAttempt row, so a restart or a new browser does not reset a lock, and
every try pays for exactly one bcrypt check, so the time taken does not tell which usernames exist.
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from sqlmodel import Session, col, select

from db import audit
from db.models import LoginAttempt, User, utcnow
from db.passwords import hash_password, verify_password

LOCK_AFTER_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
# How far back failures are read: long enough to replay the locks that can still matter.
LOOKBACK = 4 * (FAILURE_WINDOW + LOCK_DURATION)
MAX_USERNAME = 120

logger = logging.getLogger(__name__)


class LoginOutcome(enum.StrEnum):
    ok = "ok"
    failed = "failed"
    locked = "locked"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a random password at the same cost as real ones: unknown users are checked against it."""
    return hash_password(secrets.token_urlsafe(24))


def locked_until(failures: Sequence[datetime]) -> datetime | None:
    """When the lock from these failure times (oldest first) ends; None when they never caused one.

    A lock starts at the 5th failure within 15 minutes and lasts 15 minutes. Tries made while locked do
    not count towards the next lock, so a lock ends when it says it does."""
    lock_end: datetime | None = None
    recent: list[datetime] = []
    for at in failures:
        if lock_end is not None and at < lock_end:
            continue
        recent = [seen for seen in recent if at - seen < FAILURE_WINDOW] + [at]
        if len(recent) >= LOCK_AFTER_FAILURES:
            lock_end, recent = at + LOCK_DURATION, []
    return lock_end


def _failures_since_last_success(*, session: Session, username: str, now: datetime) -> list[datetime]:
    since = now - LOOKBACK
    last_success = session.exec(
        select(LoginAttempt.at)
        .where(
            LoginAttempt.username == username, col(LoginAttempt.succeeded).is_(True), LoginAttempt.at >= since
        )
        .order_by(col(LoginAttempt.at).desc())
    ).first()
    start = max(since, last_success) if last_success is not None else since
    rows = session.exec(
        select(LoginAttempt.at)
        .where(
            LoginAttempt.username == username,
            col(LoginAttempt.succeeded).is_(False),
            LoginAttempt.at > start,
            LoginAttempt.at <= now,
        )
        .order_by(col(LoginAttempt.at))
    ).all()
    return list(rows)


def lock_ends_at(*, session: Session, username: str, now: datetime | None = None) -> datetime | None:
    """The end of the lock on `username` at `now`, or None when it may try to log in."""
    now = now or utcnow()
    until = locked_until(
        _failures_since_last_success(session=session, username=username[:MAX_USERNAME], now=now)
    )
    return until if until is not None and now < until else None


def _login_user(session: Session, username: str) -> User | None:
    # Exact match: the login widget's credentials are keyed by the stored (lower-case) username.
    user = session.exec(select(User).where(User.username == username)).first()
    return user if user is not None and user.active and user.password_hash else None


def check_login(
    *, session: Session, username: str, password: str, now: datetime | None = None
) -> LoginOutcome:
    """Check one login try, record it (attempt row and audit row) in the caller's unit of work."""
    now = now or utcnow()
    name = username[:MAX_USERNAME]
    locked = lock_ends_at(session=session, username=name, now=now) is not None
    user = _login_user(session, username)
    # Always exactly one bcrypt check, whether the user exists, is locked or not.
    matches = verify_password(password, user.password_hash if user and user.password_hash else _dummy_hash())
    outcome = (
        LoginOutcome.locked if locked else (LoginOutcome.ok if matches and user else LoginOutcome.failed)
    )
    session.add(LoginAttempt(username=name, at=now, succeeded=outcome is LoginOutcome.ok))
    session.flush()
    _audit(session, user, name, outcome, now)
    _log(name, outcome, known=user is not None)
    return outcome


def _log(name: str, outcome: LoginOutcome, *, known: bool) -> None:
    """The server's line for a login try: who and why, never the password. The page says only "wrong
    username or password"; the log may say which, for whoever runs the server."""
    who = audit.escape_control_characters(name)
    if outcome is LoginOutcome.ok:
        logger.info("login: %s", who)
    elif outcome is LoginOutcome.locked:
        logger.warning("login refused for %s: locked after repeated failures", who)
    else:
        reason = "wrong password" if known else "no active account with a password by that name"
        logger.info("login refused for %s: %s", who, reason)


def _audit(session: Session, user: User | None, name: str, outcome: LoginOutcome, now: datetime) -> None:
    action = {
        LoginOutcome.ok: "login",
        LoginOutcome.failed: "login.failed",
        LoginOutcome.locked: "login.locked",
    }
    audit.record(
        session=session,
        action=action[outcome],
        actor=user if outcome is LoginOutcome.ok else None,
        actor_username=name,
        object_type="user",
        object_id=name,
        outcome="ok"
        if outcome is LoginOutcome.ok
        else ("denied" if outcome is LoginOutcome.locked else "failed"),
        at=now,
    )
    if outcome is LoginOutcome.failed and lock_ends_at(session=session, username=name, now=now) is not None:
        logger.warning(
            "lockout: %s after %d failed logins within %s, for %s",
            audit.escape_control_characters(name),
            LOCK_AFTER_FAILURES,
            FAILURE_WINDOW,
            LOCK_DURATION,
        )
        audit.record(
            session=session,
            action="lockout",
            actor_username=name,
            object_type="user",
            object_id=name,
            outcome="denied",
            detail=f"{LOCK_AFTER_FAILURES} failed logins within {FAILURE_WINDOW}; locked for {LOCK_DURATION}",
            at=now,
        )
