"""Rating a lead: one current rating per lead and rater, its history kept, changeable for 14 days.

`rate_lead` is safe to call twice for the same thing (a double click, a refresh after submit, two tabs):
the current rating is written with one INSERT ... ON CONFLICT DO UPDATE on (lead, rater), so two
concurrent submits leave one row, and a submit that changes nothing adds no history.
Who may rate what is checked here, not only in the page: a rep rates only the leads they own, a sales
manager their team's; anyone else is refused and the refusal is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from core.feedback import REASONS, can_still_change
from db import audit, clock
from db.access import Actor, Operator, deny, person
from db.models import AuditLog, Lead, LeadRating, LeadRatingHistory, Role, User

MAX_NOTE = 2000


class RatingRefused(ValueError):
    """The rating cannot be taken as given; the message is fit to show the rep."""


@dataclass(frozen=True)
class RatingIn:
    lead_id: int
    stars: int
    reasons: tuple[str, ...] = ()
    note: str | None = None


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _validated(rating: RatingIn) -> RatingIn:
    if rating.stars not in (1, 2, 3, 4, 5):
        raise RatingRefused("Pick 1 to 5 stars.")
    unknown = [r for r in rating.reasons if r not in REASONS]
    if unknown:
        raise RatingRefused(f"Unknown reason: {', '.join(unknown)}.")
    note = (rating.note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise RatingRefused(f"The note is {len(note):,} characters; keep it under {MAX_NOTE:,}.")
    return RatingIn(rating.lead_id, rating.stars, tuple(dict.fromkeys(rating.reasons)), note)


def may_rate(actor: Actor | None, owner_id: int | None, team_ids: tuple[int | None, ...]) -> bool:
    """A rep: their own leads. A sales manager: leads of their team (the lead's, or its owner's). Nobody
    (a missing actor) never."""
    if isinstance(actor, Operator):
        return True
    if not isinstance(actor, User) or not actor.active:
        return False
    if actor.role == Role.rep:
        return owner_id == actor.id
    if actor.role == Role.sales_manager and actor.team_id is not None:
        return actor.team_id in team_ids
    return False


def _insert_or_update(session: Session, rater_id: int, rating: RatingIn, now: datetime) -> int:
    """The current rating written with one statement; its id."""
    changes = {"stars": rating.stars, "reasons": list(rating.reasons), "note": rating.note, "updated_at": now}
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(LeadRating)
        .values(lead_id=rating.lead_id, rater_id=rater_id, created_at=now, **changes)
        .on_conflict_do_update(index_elements=["lead_id", "rater_id"], set_=changes)
        .returning(LeadRating.__table__.c.id)  # type: ignore[attr-defined]
    )
    return int(session.connection().execute(statement).scalar_one())


def rate_lead(*, session: Session, actor: Actor, rating: RatingIn, now: datetime | None = None) -> int:
    """Record `actor`'s rating of a lead in the caller's unit of work (use db.engine.write_session); the
    current rating's id. A few plain statements, no ORM objects: fifty reps submitting at once on SQLite
    queue for one writer, so each write's own time is everyone's wait."""
    moment = _utc(now or clock.now())
    owner_team = aliased(User)
    found = session.exec(
        select(Lead.owner_id, Lead.team_id, owner_team.team_id)
        .outerjoin(owner_team, owner_team.id == Lead.owner_id)  # type: ignore[arg-type]
        .where(Lead.id == rating.lead_id)
    ).first()
    if found is None:
        raise RatingRefused("That lead no longer exists.")
    owner_id, lead_team, owner_team_id = found
    if not may_rate(actor, owner_id, (lead_team, owner_team_id)):
        deny(session=session, actor=person(actor), action="rating.write", object_id=rating.lead_id)
    rater_id = actor.id if isinstance(actor, User) else owner_id
    if rater_id is None:
        raise RatingRefused("The command line can rate only leads that have an owner.")
    rating = _validated(rating)
    existing = session.exec(
        select(LeadRating.stars, LeadRating.reasons, LeadRating.note, LeadRating.created_at).where(
            LeadRating.lead_id == rating.lead_id, LeadRating.rater_id == rater_id
        )
    ).first()
    if existing is not None:
        stars, reasons, note, first_rated_at = existing
        if (stars, tuple(reasons), note) == (rating.stars, rating.reasons, rating.note):
            return _current_id(session, rating.lead_id, rater_id)  # the same submit again: nothing to record
        if not can_still_change(_utc(first_rated_at), moment):
            raise RatingRefused("This rating is older than 14 days and can no longer be changed.")
    rating_id = _insert_or_update(session, rater_id, rating, moment)
    connection = session.connection()
    connection.execute(
        sa_insert(LeadRatingHistory).values(
            rating_id=rating_id,
            stars=rating.stars,
            reasons=list(rating.reasons),
            note=rating.note,
            changed_by_id=rater_id,
            changed_at=moment,
        )
    )
    connection.execute(
        sa_insert(AuditLog).values(
            actor_id=rater_id,
            actor_username=audit.escape_control_characters(_username(actor, session, rater_id))[:120],
            action="rating.write",
            object_type="lead",
            object_id=str(rating.lead_id),
            outcome="ok",
            detail=f"stars={rating.stars}",
            at=moment,
        )
    )
    return rating_id


def _current_id(session: Session, lead_id: int, rater_id: int) -> int:
    return int(
        session.exec(
            select(LeadRating.id).where(LeadRating.lead_id == lead_id, LeadRating.rater_id == rater_id)
        ).one()
        or 0
    )


def _username(actor: Actor, session: Session, rater_id: int) -> str:
    if isinstance(actor, User):
        return actor.username
    rater = session.get(User, rater_id)
    return rater.username if rater else "command line"
