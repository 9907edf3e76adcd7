"""Reading the audit log back: filters by who, action (or its family) and UTC day, newest first."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine

from db import audit
from db.access import OPERATOR
from db.audit_search import AuditFilter, audit_action_families, search_audit
from db.engine import read_session, write_session

ENTRIES = [
    ("ana", "login", datetime(2026, 11, 1, 23, 59, tzinfo=UTC)),
    ("ana", "login.failed", datetime(2026, 11, 2, 0, 0, tzinfo=UTC)),
    ("Bob_1", "logout", datetime(2026, 11, 2, 12, 0, tzinfo=UTC)),
    ("bobx1", "user.create", datetime(2026, 11, 3, 8, 0, tzinfo=UTC)),
    ("100%", "login.locked", datetime(2026, 11, 3, 9, 0, tzinfo=UTC)),
]


def _log(engine: Engine) -> None:
    with write_session(engine) as session:
        for who, action, at in ENTRIES:
            audit.record(session=session, action=action, actor_username=who, at=at)


def _found(engine: Engine, filters: AuditFilter) -> list[tuple[str | None, str]]:
    with read_session(engine) as session:
        return [
            (e.actor_username, e.action)
            for e in search_audit(session=session, actor=OPERATOR, filters=filters)
        ]


def test_no_filter_is_everything_newest_first(db_engine: Engine) -> None:
    _log(db_engine)
    assert _found(db_engine, AuditFilter()) == [(w, a) for w, a, _ in reversed(ENTRIES)]


def test_who_is_part_of_the_username_in_any_case_with_like_characters_taken_literally(
    db_engine: Engine,
) -> None:
    _log(db_engine)
    assert _found(db_engine, AuditFilter(who="BOB")) == [("bobx1", "user.create"), ("Bob_1", "logout")]
    assert _found(db_engine, AuditFilter(who="b_1")) == [("Bob_1", "logout")]
    assert _found(db_engine, AuditFilter(who="0%")) == [("100%", "login.locked")]


def test_an_action_finds_itself_and_its_family(db_engine: Engine) -> None:
    _log(db_engine)
    assert _found(db_engine, AuditFilter(action="login")) == [
        ("100%", "login.locked"),
        ("ana", "login.failed"),
        ("ana", "login"),
    ]
    assert _found(db_engine, AuditFilter(action="login.failed")) == [("ana", "login.failed")]
    assert _found(db_engine, AuditFilter(action="log")) == []


def test_days_are_utc_days_with_both_ends_included(db_engine: Engine) -> None:
    _log(db_engine)
    one_day = AuditFilter(first_day=date(2026, 11, 2), last_day=date(2026, 11, 2))
    assert _found(db_engine, one_day) == [("Bob_1", "logout"), ("ana", "login.failed")]
    assert len(_found(db_engine, AuditFilter(first_day=date(2026, 11, 3)))) == 2
    assert _found(db_engine, AuditFilter(last_day=date(2026, 11, 1))) == [("ana", "login")]


def test_the_action_menu_holds_actions_and_families(db_engine: Engine) -> None:
    _log(db_engine)
    with read_session(db_engine) as session:
        families = audit_action_families(session=session, actor=OPERATOR)
    assert families == ["login", "login.failed", "login.locked", "logout", "user", "user.create"]
