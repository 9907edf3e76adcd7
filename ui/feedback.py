"""The Rate my leads screen's reads and its one write, for the signed-in rater."""

from __future__ import annotations

from datetime import timedelta

from core.feedback import EDIT_DAYS
from core.sla import OwnerStatus, owner_status
from db import clock
from db.engine import read_session
from db.feedback import LeadToRate as LeadToRate
from db.feedback import Queue, RecentRating, owners_for, rating_queue, recent_ratings
from db.ratings import RatingIn as RatingIn
from db.ratings import RatingRefused, rate_lead
from db.report import agreements
from ui.auth import CurrentUser
from ui.data import leads, ratings
from ui.db import act_as, engine


def my_sla_status(user: CurrentUser) -> OwnerStatus:
    """The signed-in rater's side of the SLA (a manager: their team's), from the shared frames."""
    with read_session(engine()) as session:
        terms = agreements(session)
    owners = owners_for(engine(), user.id)
    return owner_status(leads(), ratings(), owners, now=clock.now().replace(tzinfo=None), agreements=terms)


def my_queue(user: CurrentUser) -> Queue:
    return rating_queue(engine(), rater_id=user.id, owner_ids=owners_for(engine(), user.id))


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
