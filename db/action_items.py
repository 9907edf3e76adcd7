"""Decisions and action items of the weekly sync: raised in one week's meeting, carried to every later
week's page until done.

Anyone signed in may add an item; its owner closes it, and so may a sales manager or an admin (anyone
else is refused through db.access, and the refusal is logged). Every add, close and reopen is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from core.weekly import week_label, week_period
from db import audit, clock
from db.access import POLICY, Action, Actor, Operator, authorize
from db.models import ActionItem, User

MAX_TITLE = 500


class ActionItemRefused(ValueError):
    """The item cannot be written as asked; the message is fit to show the person who asked."""


@dataclass(frozen=True)
class ActionItemView:
    """One item as a week's page shows it.

    `carried_over`: raised in an earlier week's meeting. `overdue`: still open and its due date is before
    `today` (the items' state is always today's, so a past week's page marks what is late now)."""

    id: int
    title: str
    owner_id: int
    owner: str
    due_date: date | None
    meeting_week: str
    carried_over: bool
    closed_at: datetime | None
    closed_by: str | None
    overdue: bool

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


# ---------------------------------------------------------------- weeks


def week_monday(week: str) -> date:
    """The Monday of an ISO week written like 2026-W47; ActionItemRefused when there is no such week."""
    try:
        monday = week_period(week).start
    except ValueError as error:
        raise ActionItemRefused(f"{error}.") from error
    assert monday is not None
    return monday


week_of = week_label  # the meeting week a day falls in, e.g. 2026-W47


# ---------------------------------------------------------------- who may do what


def may_close(*, role: str, user_id: int, owner_id: int) -> bool:
    """Whether this person may close (or reopen) an item of `owner_id`: the owner, a manager, an admin."""
    return user_id == owner_id or role in {r.value for r in POLICY[Action.action_items_close_any]}


def _person(session: Session, actor: Actor, action: Action) -> User:
    """The acting person, when they may do `action`: an item always has a person's name on it."""
    authorize(session=session, actor=actor, action=action)
    if isinstance(actor, Operator):
        raise ActionItemRefused("An action item needs a person's name on it: sign in to Huddle to do it.")
    return actor


def _closer(session: Session, actor: Actor, item: ActionItem) -> User:
    if isinstance(actor, User) and actor.active and actor.id == item.owner_id:
        return actor
    return _person(session, actor, Action.action_items_close_any)


def _record(session: Session, actor: User, action: str, item: ActionItem, detail: str = "") -> None:
    audit.record(
        session=session,
        action=action,
        actor=actor,
        object_type="action_item",
        object_id=item.id,
        detail=f"week={item.meeting_week} owner={item.owner_id} {detail}".strip(),
    )


# ---------------------------------------------------------------- writing


def _title(title: str) -> str:
    cleaned = (title or "").strip()
    if not cleaned:
        raise ActionItemRefused("Write what is to be done first.")
    if len(cleaned) > MAX_TITLE:
        raise ActionItemRefused(f"The item is {len(cleaned):,} characters; keep it under {MAX_TITLE:,}.")
    return cleaned


def _owner(session: Session, owner_id: int) -> User:
    owner = session.get(User, owner_id)
    if owner is None or not owner.active:
        raise ActionItemRefused("Pick an owner who is an active Huddle user.")
    return owner


def add_item(
    *,
    session: Session,
    actor: Actor,
    title: str,
    owner_id: int,
    due_date: date | None,
    meeting_week: str,
    now: datetime | None = None,
) -> ActionItem:
    """A new open item raised in `meeting_week`'s meeting."""
    person = _person(session, actor, Action.action_items_add)
    week_monday(meeting_week)
    item = ActionItem(
        title=_title(title),
        owner_id=int(_owner(session, owner_id).id or 0),
        due_date=due_date,
        meeting_week=meeting_week,
        created_by_id=int(person.id or 0),
        created_at=now or clock.now(),
    )
    session.add(item)
    session.flush()
    _record(session, person, "action_items.add", item, f"due={due_date or 'none'}")
    return item


def _item(session: Session, item_id: int) -> ActionItem:
    # Locked on PostgreSQL, read afresh: two people closing it at once leave one closer on record.
    query = (
        select(ActionItem)
        .where(ActionItem.id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    item = session.exec(query).first()
    if item is None:
        raise ActionItemRefused("That action item no longer exists.")
    return item


def close_item(*, session: Session, actor: Actor, item_id: int, now: datetime | None = None) -> ActionItem:
    """Mark an item done; an item already closed stays as it was (closer and time unchanged)."""
    item = _item(session, item_id)
    person = _closer(session, actor, item)
    if item.closed_at is not None:
        return item
    item.closed_at, item.closed_by_id = now or clock.now(), person.id
    session.add(item)
    session.flush()
    _record(session, person, "action_items.close", item)
    return item


def reopen_item(*, session: Session, actor: Actor, item_id: int) -> ActionItem:
    """Open a closed item again (closed by mistake); the same people may do it as may close it."""
    item = _item(session, item_id)
    person = _closer(session, actor, item)
    if item.closed_at is None:
        return item
    item.closed_at, item.closed_by_id = None, None
    session.add(item)
    session.flush()
    _record(session, person, "action_items.reopen", item)
    return item


# ---------------------------------------------------------------- reading


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def items_for_week(session: Session, week: str, *, today: date | None = None) -> list[ActionItemView]:
    """The items raised in `week`'s meeting, and those raised earlier that are still open or were closed
    since that week's Monday (so the meeting sees what got done). Open first, then by due date."""
    monday = datetime.combine(week_monday(week), time.min, UTC)
    # ISO weeks written YYYY-Www sort as text in calendar order.
    earlier = (col(ActionItem.meeting_week) < week) & or_(
        col(ActionItem.closed_at).is_(None), col(ActionItem.closed_at) >= monday
    )
    rows = session.exec(select(ActionItem).where((col(ActionItem.meeting_week) == week) | earlier)).all()
    names = {int(i or 0): name for i, name in session.exec(select(User.id, User.name)).all()}
    day = today or clock.today()
    views = [_view(item, week, names, day) for item in rows]
    return sorted(views, key=lambda v: (not v.is_open, v.due_date or date.max, v.id))


def _view(item: ActionItem, week: str, names: dict[int, str], today: date) -> ActionItemView:
    closed_at = _utc(item.closed_at)
    return ActionItemView(
        id=int(item.id or 0),
        title=item.title,
        owner_id=item.owner_id,
        owner=names.get(item.owner_id, "someone"),
        due_date=item.due_date,
        meeting_week=item.meeting_week,
        carried_over=item.meeting_week < week,
        closed_at=closed_at,
        closed_by=names.get(item.closed_by_id) if item.closed_by_id is not None else None,
        overdue=closed_at is None and item.due_date is not None and item.due_date < today,
    )


def possible_owners(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every active user, by name: who an item can be given to."""
    rows = session.exec(select(User.id, User.name).where(col(User.active)).order_by(col(User.name))).all()
    return [(int(i or 0), name) for i, name in rows]


def default_due_date(week: str) -> date:
    """A week after the meeting week's Monday."""
    return week_monday(week) + timedelta(days=7)
