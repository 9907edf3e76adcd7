"""Login checks: lockout kept in the database (with a moved clock), one answer and one cost for everyone."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db.access import OPERATOR
from db.engine import read_session, write_session
from db.logins import LoginOutcome, check_login, lock_ends_at, locked_until
from db.models import AuditLog, LoginAttempt, Role, UserCreate
from db.users import create_user, disable_user

PASSWORD = "correct-horse-battery"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _minutes(*offsets: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in offsets]


def _add_ana(engine: Engine) -> None:
    with write_session(engine) as session:
        create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(username="ana", name="Ana", role=Role.rep, password=PASSWORD),
        )


def _try(engine: Engine, password: str, at: datetime, username: str = "ana") -> LoginOutcome:
    with write_session(engine) as session:
        return check_login(session=session, username=username, password=password, now=at)


def _fail_five_times(engine: Engine, username: str = "ana") -> None:
    for at in _minutes(0, 1, 2, 3, 4):
        assert _try(engine, "wrong-password", at, username) is LoginOutcome.failed


# ---------------------------------------------------------------- the rule, as a pure function


def test_four_failures_do_not_lock() -> None:
    assert locked_until(_minutes(0, 1, 2, 3)) is None


def test_the_fifth_failure_within_15_minutes_locks_for_15_minutes_from_it() -> None:
    assert locked_until(_minutes(0, 1, 2, 3, 4)) == T0 + timedelta(minutes=19)


def test_failures_spread_over_more_than_15_minutes_do_not_lock() -> None:
    assert locked_until(_minutes(0, 4, 8, 12, 16, 20, 24)) is None


def test_tries_while_locked_do_not_extend_the_lock() -> None:
    assert locked_until(_minutes(0, 1, 2, 3, 4, 10, 11, 12, 13)) == T0 + timedelta(minutes=19)


def test_five_more_failures_after_a_lock_lock_again() -> None:
    assert locked_until(_minutes(0, 1, 2, 3, 4, 20, 21, 22, 23, 24)) == T0 + timedelta(minutes=39)


# ---------------------------------------------------------------- in the database, both backends


def test_lock_at_the_fifth_failure_still_locked_at_14_59_free_at_15_01(db_engine: Engine) -> None:
    _add_ana(db_engine)
    _fail_five_times(db_engine)
    last_failure = T0 + timedelta(minutes=4)
    # Locked: even the right password is refused, with the same outcome as any wrong try.
    assert _try(db_engine, PASSWORD, last_failure + timedelta(seconds=1)) is LoginOutcome.locked
    assert _try(db_engine, PASSWORD, last_failure + timedelta(minutes=14, seconds=59)) is LoginOutcome.locked
    assert _try(db_engine, PASSWORD, last_failure + timedelta(minutes=15, seconds=1)) is LoginOutcome.ok


def test_the_lock_is_kept_in_the_database(db_engine: Engine) -> None:
    """A new session (a restart, another browser) sees the same lock: it is LoginAttempt rows."""
    _add_ana(db_engine)
    _fail_five_times(db_engine)
    with read_session(db_engine) as session:
        rows = session.exec(select(LoginAttempt).where(LoginAttempt.username == "ana")).all()
        ends = lock_ends_at(session=session, username="ana", now=T0 + timedelta(minutes=10))
    assert len(rows) == 5 and not any(row.succeeded for row in rows)
    assert ends is not None and ends.astimezone(UTC) == T0 + timedelta(minutes=19)


def test_a_success_clears_earlier_failures(db_engine: Engine) -> None:
    _add_ana(db_engine)
    for at in _minutes(0, 1, 2, 3):
        _try(db_engine, "wrong-password", at)
    assert _try(db_engine, PASSWORD, T0 + timedelta(minutes=5)) is LoginOutcome.ok
    assert _try(db_engine, "wrong-password", T0 + timedelta(minutes=6)) is LoginOutcome.failed
    assert _try(db_engine, PASSWORD, T0 + timedelta(minutes=7)) is LoginOutcome.ok


def test_an_unknown_username_is_locked_too(db_engine: Engine) -> None:
    """Otherwise a missing lock would tell that a username does not exist."""
    _fail_five_times(db_engine, username="nobody")
    assert _try(db_engine, "anything-at-all", T0 + timedelta(minutes=5), "nobody") is LoginOutcome.locked


def test_a_disabled_user_cannot_log_in_with_the_right_password(db_engine: Engine) -> None:
    _add_ana(db_engine)
    with write_session(db_engine) as session:
        disable_user(session=session, actor=OPERATOR, username="ana")
    assert _try(db_engine, PASSWORD, T0) is LoginOutcome.failed


def test_logins_failures_and_lockouts_are_audited(db_engine: Engine) -> None:
    _add_ana(db_engine)
    _try(db_engine, PASSWORD, T0 - timedelta(hours=1))
    _fail_five_times(db_engine)
    _try(db_engine, PASSWORD, T0 + timedelta(minutes=5))
    with read_session(db_engine) as session:
        rows = session.exec(select(AuditLog).where(col(AuditLog.action).startswith("lo"))).all()
        seen = sorted((row.action, row.outcome) for row in rows)
    assert seen == sorted(
        [("login", "ok")]
        + [("login.failed", "failed")] * 5
        + [("lockout", "denied"), ("login.locked", "denied")]
    )


def _seconds(attempt: Callable[[], object]) -> float:
    started = time.perf_counter()
    attempt()
    return time.perf_counter() - started


def test_an_unknown_username_costs_as_much_as_a_known_one(sqlite_engine: Engine) -> None:
    """The one timed assertion, asked for by the issue: medians of 20 tries each, taken in turns so a
    slow moment of the machine falls on both."""
    _add_ana(sqlite_engine)
    clock = iter(T0 + timedelta(hours=h) for h in range(100))  # an hour apart: no lock gets in the way
    known, unknown = [], []
    for _ in range(20):
        known.append(_seconds(lambda: _try(sqlite_engine, "wrong-password", next(clock), "ana")))
        unknown.append(_seconds(lambda: _try(sqlite_engine, "wrong-password", next(clock), "not-a-user")))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    assert abs(unknown_median - known_median) <= 0.2 * known_median, (known_median, unknown_median)
