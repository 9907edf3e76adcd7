"""The Rate my leads screen's reads and its one write, for the signed-in rater."""

from __future__ import annotations

from datetime import timedelta

from core.feedback import EDIT_DAYS
from core.sla import OwnerStatus, owner_status
from db import clock
from db.engine import read_session
from db.feedback import LeadToRate as LeadToRate
from db.feedback import MyRating as MyRating
from db.feedback import (
    Queue,
    RecentRating,
    lead_to_rate,
    my_rating,
    owners_for,
    rater_terms,
    rating_queue,
    recent_ratings,
    team_leads,
)
from db.feedback import TeamLead as TeamLead
from db.ratings import RatingIn as RatingIn
from db.ratings import RatingRefused, rate_lead
from db.report import agreements
from ui.auth import CurrentUser
from ui.data import leads, ratings
from ui.db import act_as, engine
from ui.handoff import answers

PICKER_LIMIT = 100  # the team leads a manager's picker lists at once; typing a lead id narrows them


def my_sla_status(user: CurrentUser) -> OwnerStatus:
    """The signed-in rater's side of the SLA (a manager: their team's), from the shared frames."""
    with read_session(engine()) as session:
        terms = agreements(session)
    owners = owners_for(engine(), user.id)
    return owner_status(leads(), ratings(), owners, now=clock.now().replace(tzinfo=None), agreements=terms,
                        answers=answers())  # fmt: skip


def my_queue(user: CurrentUser) -> Queue:
    """The MQLs inside the signed-in rater's rating window (their team's terms), and how many left it."""
    return rating_queue(
        engine(),
        rater_id=user.id,
        owner_ids=owners_for(engine(), user.id),
        now=clock.now(),
        terms=rater_terms(engine(), user.id),
    )


def my_team_leads(user: CurrentUser, lead_id_has: str, only_unrated: bool) -> tuple[int, list[TeamLead]]:
    """The MQLs of the signed-in manager's team the lead picker offers, newest first."""
    unrated_by = user.id if only_unrated else None
    owners = owners_for(engine(), user.id)
    return team_leads(
        engine(), owner_ids=owners, lead_id_has=lead_id_has, unrated_by=unrated_by, limit=PICKER_LIMIT
    )


def my_team_lead(user: CurrentUser, lead_id: int) -> tuple[LeadToRate | None, MyRating | None]:
    """One MQL of the signed-in rater's scope for the rating card, with their own rating of it if any."""
    lead = lead_to_rate(engine(), lead_id=lead_id, owner_ids=owners_for(engine(), user.id))
    return lead, my_rating(engine(), rater_id=user.id, lead_id=lead_id) if lead else None


def my_recent_ratings(user: CurrentUser) -> list[RecentRating]:
    since = clock.now() - timedelta(days=EDIT_DAYS)
    return recent_ratings(engine(), rater_id=user.id, since=since)


def submit_rating(user: CurrentUser, rating: RatingIn) -> str | None:
    """Record the rating as the signed-in person; None when done, else what to tell them."""
    return act_as(
        user.id,
        lambda session, actor: rate_lead(session=session, actor=actor, rating=rating),
        (RatingRefused,),
    ).refused
