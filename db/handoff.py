"""The rep's answer to an MQL's handoff (issue 13): accept, recycle to marketing, or reject.

One current answer per lead (uq_handoff_lead); a changed answer moves the one it replaces into the history
with who gave it and when, and keeps the lead's first answer time (the first touch for speed to lead). The
same answer again changes nothing, so a double click, a refresh or two tabs leave one row: on PostgreSQL
the first answer is written with INSERT ... ON CONFLICT DO NOTHING and a second one that lost the race
reads the winner's row (locked) and goes on from it.
Who may answer is checked here, as for ratings (db/ratings.py `may_rate`): a rep the leads they own, a
sales manager their team's; anyone else is refused and the refusal logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.handoff import MAX_REASON
from db import audit
from db.access import AccessDenied, Action, Actor, authorize, deny, person
from db.engine import read_session
from db.models import HandoffAnswer, Lead, LeadHandoff, LeadHandoffHistory, User
from db.ratings import may_rate


class HandoffRefused(ValueError):
    """The answer cannot be taken as given; the message is fit to show the rep."""


class NotYourLead(AccessDenied):
    """A rep or manager whose role may answer handoffs, on a lead that is not theirs (logged as denied)."""

    def __init__(self, role: str | None) -> None:
        super().__init__(Action.handoff_answer.value, role)
        self.args = (
            "This lead is not yours to answer: a rep answers the MQLs they own, a sales manager those of "
            "their team.",
        )


@dataclass(frozen=True)
class Answer:
    """One answer as given: what, why, until when (a recycle), by whom and when."""

    answer: HandoffAnswer
    reason: str | None
    come_back_on: date | None
    answered_by: str
    answered_at: datetime


@dataclass(frozen=True)
class Handoff:
    """A lead's current answer, its first answer time and the earlier answers, newest first."""

    current: Answer
    first_answered_at: datetime
    earlier: tuple[Answer, ...]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _validated(
    answer: HandoffAnswer, reason: str | None, come_back_on: date | None, today: date
) -> tuple[str | None, date | None]:
    """The reason and come-back date as they are stored; HandoffRefused when they do not fit the answer."""
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise HandoffRefused(f"The reason is {len(reason):,} characters; keep it under {MAX_REASON:,}.")
    if answer == HandoffAnswer.accept:
        return None, None
    if reason is None:
        raise HandoffRefused("Give a reason: marketing reads it on the nurture list.")
    if answer == HandoffAnswer.reject:
        return reason, None
    if come_back_on is None:
        raise HandoffRefused("Pick the date the lead comes back to sales.")
    if come_back_on <= today:
        raise HandoffRefused(f"The come-back date must be after today ({today:%b %d, %Y}).")
    return reason, come_back_on


def _check_may_answer(session: Session, actor: Actor, lead_id: int) -> int | None:
    """Refuse (logged) whoever may not answer this lead; the lead's owner. HandoffRefused when the lead is
    gone or no MQL."""
    authorize(session=session, actor=actor, action=Action.handoff_answer, object_id=lead_id)
    owner_team = aliased(User)
    found = session.exec(
        select(Lead.owner_id, Lead.team_id, owner_team.team_id, Lead.mql_at)
        .outerjoin(owner_team, owner_team.id == Lead.owner_id)  # type: ignore[arg-type]
        .where(Lead.id == lead_id)
    ).first()
    if found is None:
        raise HandoffRefused("That lead no longer exists.")
    owner_id, lead_team, owner_team_id, mql_at = found
    if not may_rate(actor, owner_id, (lead_team, owner_team_id)):
        try:
            deny(session=session, actor=person(actor), action=Action.handoff_answer.value, object_id=lead_id)
        except AccessDenied as refused:
            raise NotYourLead(refused.role) from None
    if mql_at is None:
        raise HandoffRefused("This lead is not an MQL: only an MQL is handed to sales.")
    return owner_id


def _current(session: Session, lead_id: int) -> LeadHandoff | None:
    """The lead's current answer, locked until the caller's commit (PostgreSQL), so two answers given at
    once are taken one after the other."""
    return session.exec(select(LeadHandoff).where(LeadHandoff.lead_id == lead_id).with_for_update()).first()


def _insert_first(session: Session, row: dict[str, object]) -> bool:
    """Write a lead's first answer unless another is there already; whether this one was written."""
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(LeadHandoff)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["lead_id"])
        .returning(LeadHandoff.__table__.c.id)  # type: ignore[attr-defined]
    )
    return session.connection().execute(statement).first() is not None


def _audit(session: Session, actor: Actor, lead_id: int, answer: HandoffAnswer, now: datetime) -> None:
    audit.record(
        session=session,
        action=Action.handoff_answer.value,
        actor=person(actor),
        actor_username=actor.username,
        object_type="lead",
        object_id=lead_id,
        detail=f"answer={answer.value}",
        at=now,
    )


def answer_handoff(
    *,
    session: Session,
    actor: Actor,
    lead_id: int,
    answer: HandoffAnswer,
    reason: str | None,
    come_back_on: date | None,
    now: datetime,
) -> LeadHandoff:
    """Record `actor`'s answer to an MQL in the caller's unit of work (use db.engine.write_session): the
    lead's current answer. A recycle needs a reason and a come-back date after today, a reject a reason.
    The command line answers for the lead's owner (and is audited as itself)."""
    moment = _utc(now)
    owner_id = _check_may_answer(session, actor, lead_id)
    answered_by = actor.id if isinstance(actor, User) else owner_id
    if answered_by is None:
        raise HandoffRefused("The command line can answer only for a lead that has an owner.")
    reason, come_back_on = _validated(answer, reason, come_back_on, moment.date())
    given = {"answer": answer, "reason": reason, "come_back_on": come_back_on}
    current = _current(session, lead_id)
    if current is None:
        first = {
            "lead_id": lead_id,
            "rep_id": answered_by,
            "first_answered_at": moment,
            "answered_at": moment,
        }
        if _insert_first(session, {**first, **given}):
            _audit(session, actor, lead_id, answer, moment)
            found = _current(session, lead_id)
            assert found is not None  # just written in this unit of work
            return found
        current = _current(session, lead_id)  # another tab's answer got there first
        assert current is not None
    if (current.answer, current.reason, current.come_back_on) == (answer, reason, come_back_on):
        return current  # the same answer again: nothing to record
    session.add(
        LeadHandoffHistory(
            handoff_id=int(current.id or 0),
            answer=current.answer,
            reason=current.reason,
            come_back_on=current.come_back_on,
            changed_by_id=current.rep_id,
            changed_at=current.answered_at,
        )
    )
    current.sqlmodel_update({**given, "rep_id": answered_by, "answered_at": moment})
    session.add(current)
    _audit(session, actor, lead_id, answer, moment)
    session.flush()
    return current


def _names(session: Session, user_ids: set[int]) -> dict[int, str]:
    rows = session.exec(select(User.id, User.name).where(col(User.id).in_(user_ids))).all()
    return {int(i): name for i, name in rows if i is not None}


def lead_handoff(engine: Engine, *, lead_id: int) -> Handoff | None:
    """A lead's current answer with its history, newest first; None before any answer. The caller shows it
    only for a lead it may show (the rating card's lead)."""
    with read_session(engine) as session:
        current = session.exec(select(LeadHandoff).where(LeadHandoff.lead_id == lead_id)).first()
        if current is None:
            return None
        history = session.exec(
            select(LeadHandoffHistory)
            .where(LeadHandoffHistory.handoff_id == current.id)
            .order_by(col(LeadHandoffHistory.changed_at).desc(), col(LeadHandoffHistory.id).desc())
        ).all()
        names = _names(session, {current.rep_id, *(h.changed_by_id for h in history)})
    first = Answer(current.answer, current.reason, current.come_back_on, names.get(current.rep_id, "?"),
                   _utc(current.answered_at))  # fmt: skip
    earlier = tuple(
        Answer(h.answer, h.reason, h.come_back_on, names.get(h.changed_by_id, "?"), _utc(h.changed_at))
        for h in history
    )
    return Handoff(current=first, first_answered_at=_utc(current.first_answered_at), earlier=earlier)
