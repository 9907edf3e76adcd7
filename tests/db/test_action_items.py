"""Action items of the weekly sync, on SQLite and PostgreSQL: they persist, carry over to later weeks
until done, and only their owner, a sales manager or an admin closes them (others refused and logged)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.access import OPERATOR, AccessDenied
from db.action_items import (
    ActionItemRefused,
    ActionItemView,
    add_item,
    close_item,
    default_due_date,
    items_for_week,
    may_close,
    possible_owners,
    reopen_item,
    week_monday,
    week_of,
)
from db.engine import make_engine, read_session, write_session
from db.models import ActionItem, AuditLog, Role, User

# 2026-W45 runs Monday Nov 2 to Sunday Nov 8; W46 from Nov 9; W47 from Nov 16.
IN_W45 = datetime(2026, 11, 4, 10, tzinfo=UTC)
IN_W46 = datetime(2026, 11, 11, 15, tzinfo=UTC)
IN_W47 = datetime(2026, 11, 18, 9, tzinfo=UTC)
PEOPLE = {
    "rita": Role.rep,
    "ron": Role.rep,
    "mia": Role.marketer,
    "max": Role.sales_manager,
    "eve": Role.executive,
    "ada": Role.admin,
}


def _people(engine: Engine) -> dict[str, int]:
    with write_session(engine) as session:
        users = {name: User(username=name, name=name.title(), role=role) for name, role in PEOPLE.items()}
        session.add_all(users.values())
        session.flush()
        return {name: int(u.id or 0) for name, u in users.items()}


def _actor(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def _add(engine: Engine, by: str, owner: str, title: str, week: str, **extra: Any) -> int:
    with write_session(engine) as session:
        owner_id = _actor(session, owner).id
        item = add_item(
            session=session,
            actor=_actor(session, by),
            title=title,
            owner_id=int(owner_id or 0),
            due_date=extra.get("due_date"),
            meeting_week=week,
            now=extra.get("now"),
        )
        return int(item.id or 0)


def _close(engine: Engine, by: str, item_id: int, now: datetime | None = None) -> None:
    with write_session(engine) as session:
        close_item(session=session, actor=_actor(session, by), item_id=item_id, now=now)


def _week(engine: Engine, week: str, today: date = date(2026, 11, 18)) -> list[ActionItemView]:
    # A new engine each time: what the page reads is what an earlier unit of work committed.
    fresh = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with read_session(fresh) as session:
            return items_for_week(session, week, today=today)
    finally:
        fresh.dispose()


def _audit(engine: Engine) -> list[tuple[str, str | None, str]]:
    with read_session(engine) as session:
        rows = session.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
        return [(r.action, r.actor_username, r.outcome) for r in rows]


# ---------------------------------------------------------------- persistence and carry-over


def test_an_item_persists_across_sessions_with_who_and_when(db_engine: Engine) -> None:
    ids = _people(db_engine)
    item_id = _add(
        db_engine, "max", "rita", "  Call back the Retail MQLs  ", "2026-W45", due_date=date(2026, 11, 9)
    )
    (view,) = _week(db_engine, "2026-W45")
    assert view == ActionItemView(
        id=item_id,
        title="Call back the Retail MQLs",
        owner_id=ids["rita"],
        owner="Rita",
        due_date=date(2026, 11, 9),
        meeting_week="2026-W45",
        carried_over=False,
        closed_at=None,
        closed_by=None,
        overdue=True,  # due Nov 9, still open on Nov 18
    )
    with read_session(db_engine) as session:
        row = session.get(ActionItem, item_id)
        assert row is not None and row.created_by_id == ids["max"]
    assert _audit(db_engine) == [("action_items.add", "max", "ok")]


def test_an_open_item_carries_over_until_closed_and_then_shows_once_as_done(db_engine: Engine) -> None:
    _people(db_engine)
    item_id = _add(db_engine, "max", "rita", "Refresh the promo", "2026-W45", due_date=date(2026, 11, 20))
    assert [(v.id, v.carried_over, v.is_open) for v in _week(db_engine, "2026-W45")] == [
        (item_id, False, True)
    ]
    assert [(v.id, v.carried_over, v.is_open) for v in _week(db_engine, "2026-W46")] == [
        (item_id, True, True)
    ]
    assert [(v.id, v.carried_over, v.is_open) for v in _week(db_engine, "2026-W47")] == [
        (item_id, True, True)
    ]
    assert _week(db_engine, "2026-W44") == []  # not raised yet

    _close(db_engine, "rita", item_id, now=IN_W46)
    (in_w46,) = _week(db_engine, "2026-W46")
    assert (in_w46.carried_over, in_w46.closed_at, in_w46.closed_by, in_w46.overdue) == (
        True,
        IN_W46,
        "Rita",
        False,
    )
    assert _week(db_engine, "2026-W47") == []  # done before W47 began: that meeting no longer sees it
    assert [v.id for v in _week(db_engine, "2026-W45")] == [item_id]  # its own week keeps it


def test_an_item_closed_in_its_own_week_does_not_carry_over(db_engine: Engine) -> None:
    _people(db_engine)
    item_id = _add(db_engine, "rita", "rita", "Update the deck", "2026-W45")
    _close(db_engine, "rita", item_id, now=IN_W45)
    assert [v.id for v in _week(db_engine, "2026-W45")] == [item_id]
    assert _week(db_engine, "2026-W46") == []


def test_open_items_come_first_then_by_due_date(db_engine: Engine) -> None:
    _people(db_engine)
    late = _add(db_engine, "max", "ron", "Late one", "2026-W46", due_date=date(2026, 11, 27))
    undated = _add(db_engine, "max", "ron", "No date", "2026-W47")
    early = _add(db_engine, "max", "mia", "Early one", "2026-W45", due_date=date(2026, 11, 13))
    done = _add(db_engine, "max", "mia", "Done one", "2026-W47", due_date=date(2026, 11, 1))
    _close(db_engine, "mia", done, now=IN_W47)
    week = _week(db_engine, "2026-W47")
    assert [v.id for v in week] == [early, late, undated, done]
    assert [(v.carried_over, v.overdue) for v in week] == [
        (True, True),
        (True, False),
        (False, False),
        (False, False),
    ]


# ---------------------------------------------------------------- who closes


@pytest.mark.parametrize("closer", ["rita", "max", "ada"])
def test_the_owner_a_manager_or_an_admin_closes(db_engine: Engine, closer: str) -> None:
    ids = _people(db_engine)
    item_id = _add(db_engine, "mia", "rita", "Fix the bad phone numbers", "2026-W46")
    _close(db_engine, closer, item_id, now=IN_W47)
    with read_session(db_engine) as session:
        row = session.get(ActionItem, item_id)
        assert row is not None and row.closed_by_id == ids[closer]
    assert _audit(db_engine) == [("action_items.add", "mia", "ok"), ("action_items.close", closer, "ok")]


@pytest.mark.parametrize("who", ["ron", "mia", "eve"])
def test_anyone_else_is_refused_logged_and_the_item_stays_open(db_engine: Engine, who: str) -> None:
    _people(db_engine)
    item_id = _add(db_engine, "max", "rita", "Fix the bad phone numbers", "2026-W46")
    with pytest.raises(AccessDenied, match="may not close or reopen someone else's action item"):
        _close(db_engine, who, item_id)
    with read_session(db_engine) as session:
        denied = session.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        row = session.get(ActionItem, item_id)
        assert row is not None and row.closed_at is None and row.closed_by_id is None
    assert [(d.action, d.actor_username, d.detail) for d in denied] == [
        ("action_items.close_any", who, f"role={PEOPLE[who].value}")
    ]
    assert [v.is_open for v in _week(db_engine, "2026-W47")] == [True]


def test_a_disabled_owner_no_longer_closes_their_item(db_engine: Engine) -> None:
    _people(db_engine)
    item_id = _add(db_engine, "max", "rita", "Fix the bad phone numbers", "2026-W46")
    with write_session(db_engine) as session:
        _actor(session, "rita").active = False
    with pytest.raises(AccessDenied):
        _close(db_engine, "rita", item_id)


def test_closing_a_closed_item_changes_nothing(db_engine: Engine) -> None:
    _people(db_engine)
    item_id = _add(db_engine, "max", "rita", "Fix the bad phone numbers", "2026-W46")
    _close(db_engine, "rita", item_id, now=IN_W46)
    _close(db_engine, "max", item_id, now=IN_W47)
    (view,) = _week(db_engine, "2026-W46")
    assert (view.closed_at, view.closed_by) == (IN_W46, "Rita")
    assert [a for a, _, _ in _audit(db_engine)] == ["action_items.add", "action_items.close"]


def test_reopening_puts_it_back_on_the_next_weeks(db_engine: Engine) -> None:
    _people(db_engine)
    item_id = _add(db_engine, "max", "rita", "Fix the bad phone numbers", "2026-W45")
    _close(db_engine, "rita", item_id, now=IN_W45)
    with pytest.raises(AccessDenied), write_session(db_engine) as session:
        reopen_item(session=session, actor=_actor(session, "ron"), item_id=item_id)
    with write_session(db_engine) as session:
        reopen_item(session=session, actor=_actor(session, "max"), item_id=item_id)
    assert [(v.id, v.is_open, v.closed_by) for v in _week(db_engine, "2026-W47")] == [(item_id, True, None)]
    assert _audit(db_engine)[-1] == ("action_items.reopen", "max", "ok")


def test_who_may_close_as_the_page_asks_it() -> None:
    assert may_close(role="rep", user_id=3, owner_id=3)
    assert not may_close(role="rep", user_id=4, owner_id=3)
    assert not may_close(role="marketer", user_id=4, owner_id=3)
    assert not may_close(role="executive", user_id=4, owner_id=3)
    assert may_close(role="sales_manager", user_id=4, owner_id=3)
    assert may_close(role="admin", user_id=4, owner_id=3)


# ---------------------------------------------------------------- what is refused


@pytest.mark.parametrize("who", list(PEOPLE))
def test_every_role_may_add(db_engine: Engine, who: str) -> None:
    _people(db_engine)
    _add(db_engine, who, "mia", "Send the webinar list", "2026-W47")
    assert [v.title for v in _week(db_engine, "2026-W47")] == ["Send the webinar list"]


@pytest.mark.parametrize(
    ("title", "week", "message"),
    [
        ("   ", "2026-W47", "Write what is to be done first"),
        ("x" * 501, "2026-W47", "The item is 501 characters; keep it under 500"),
        ("Fine", "2026-47", "is not a week: write it like 2026-W47"),
        ("Fine", "2026-W7", "is not a week: write it like 2026-W47"),
        ("Fine", "2026-W00", "2026 has no week 0"),
        ("Fine", "2026-W54", "2026 has no week 54"),
        ("Fine", "2025-W53", "2025 has no week 53"),  # 2025 has 52 ISO weeks
    ],
)
def test_a_bad_title_or_week_is_refused(db_engine: Engine, title: str, week: str, message: str) -> None:
    _people(db_engine)
    with pytest.raises(ActionItemRefused, match=message):
        _add(db_engine, "max", "rita", title, week)
    with read_session(db_engine) as session:
        assert session.exec(select(ActionItem)).all() == []


def test_a_title_of_exactly_500_characters_and_week_53_of_2026_are_fine(db_engine: Engine) -> None:
    _people(db_engine)
    _add(db_engine, "max", "rita", "x" * 500, "2026-W53")
    assert [len(v.title) for v in _week(db_engine, "2026-W53")] == [500]


def test_the_owner_must_be_an_active_user(db_engine: Engine) -> None:
    ids = _people(db_engine)
    with write_session(db_engine) as session:
        _actor(session, "ron").active = False
    for owner_id in (ids["ron"], 999):
        with (
            pytest.raises(ActionItemRefused, match="Pick an owner who is an active Huddle user"),
            write_session(db_engine) as session,
        ):
            add_item(
                session=session,
                actor=_actor(session, "max"),
                title="x",
                owner_id=owner_id,
                due_date=None,
                meeting_week="2026-W47",
            )
    with read_session(db_engine) as session:
        assert [name for _, name in possible_owners(session)] == ["Ada", "Eve", "Max", "Mia", "Rita"]


def test_the_command_line_cannot_add_an_item_without_a_person(db_engine: Engine) -> None:
    ids = _people(db_engine)
    with pytest.raises(ActionItemRefused, match="needs a person's name"), write_session(db_engine) as session:
        add_item(
            session=session,
            actor=OPERATOR,
            title="x",
            owner_id=ids["rita"],
            due_date=None,
            meeting_week="2026-W47",
        )


def test_closing_an_item_that_does_not_exist_says_so(db_engine: Engine) -> None:
    _people(db_engine)
    with pytest.raises(ActionItemRefused, match="no longer exists"):
        _close(db_engine, "max", 999)


def test_weeks() -> None:
    assert week_monday("2026-W47") == date(2026, 11, 16)
    assert week_monday("2027-W01") == date(2027, 1, 4)
    assert week_of(date(2026, 11, 22)) == "2026-W47"  # a Sunday
    assert week_of(date(2027, 1, 1)) == "2026-W53"
    assert default_due_date("2026-W47") == date(2026, 11, 23)
