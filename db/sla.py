"""The service level agreement's terms, versioned: every change is a new row, never an edit.

The company's terms (team_id null) hold for every team that has not agreed its own. A sales manager sets
their own team's terms and the company's, an admin any; every refusal goes through db.access (logged),
every change into the audit log. A change identical to the terms in force records nothing.

The rating queue's grace (the days an unrated MQL stays in the queue after the rating days) is kept with
the terms it extends, but only an admin changes it: a manager's new terms carry the grace in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from core.feedback import MAX_RATING_GRACE_DAYS
from core.sla import Terms
from db import audit, clock
from db.access import Action, Actor, Operator, authorize, person
from db.models import Role, SlaSetting, Team, User

MAX_MQLS_PER_MONTH = 1_000_000
MAX_FOLLOW_UP_HOURS = 720
MAX_RATING_DAYS = 60


class SlaRefused(ValueError):
    """The terms cannot be set as given; the message is fit to show the person who asked."""


Agreement = Terms  # the terms as stored here are the terms core.sla judges by


@dataclass(frozen=True)
class AgreementChange:
    """One version of the terms as the history shows it, people and teams by name."""

    team: str | None  # None: the company's terms
    mqls_per_month: int
    follow_up_hours: int
    rating_days: int
    acceptance_target: float
    effective_from: datetime
    set_by: str | None  # None: set from the command line (or by the demo seed)
    rating_grace_days: int = 14


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _agreement(setting: SlaSetting) -> Agreement:
    return Agreement(
        follow_up_hours=setting.follow_up_hours,
        rating_days=setting.rating_days,
        mqls_per_month=setting.mqls_per_month,
        acceptance_target=setting.acceptance_target,
        rating_grace_days=setting.rating_grace_days,
    )


# ---------------------------------------------------------------- reading


def _oldest_first(session: Session) -> list[SlaSetting]:
    query = select(SlaSetting).order_by(col(SlaSetting.effective_from), col(SlaSetting.id))
    return list(session.exec(query).all())


def current_agreements(session: Session) -> dict[int | None, Agreement]:
    """The newest terms of the company (under None) and of each team that has its own."""
    return {setting.team_id: _agreement(setting) for setting in _oldest_first(session)}


def agreement_for(agreements: dict[int | None, Agreement], team_id: int | None) -> Agreement:
    """A team's own terms, else the company's, else the defaults (24 hours, 3 days, nothing committed)."""
    if team_id is not None and team_id in agreements:
        return agreements[team_id]
    return agreements.get(None, Agreement())


def team_names(session: Session) -> dict[int, str]:
    return {int(i or 0): name for i, name in session.exec(select(Team.id, Team.name)).all()}


def agreement_history(session: Session) -> list[AgreementChange]:
    """Every version of the terms, newest first."""
    teams = team_names(session)
    people = {int(i or 0): name for i, name in session.exec(select(User.id, User.name)).all()}
    return [
        AgreementChange(
            team=teams.get(s.team_id) if s.team_id is not None else None,
            mqls_per_month=s.mqls_per_month,
            follow_up_hours=s.follow_up_hours,
            rating_days=s.rating_days,
            acceptance_target=s.acceptance_target,
            effective_from=_utc(s.effective_from),
            set_by=people.get(s.set_by_id) if s.set_by_id is not None else None,
            rating_grace_days=s.rating_grace_days,
        )
        for s in reversed(_oldest_first(session))
    ]


def scopes_for(session: Session, actor: Actor) -> list[int | None]:
    """Whose terms `actor` may set: None for the company, then team ids (a sales manager: their own)."""
    if not isinstance(actor, User | Operator):  # nobody (a missing actor) sets anyone's terms
        return []
    if isinstance(actor, Operator) or (actor.active and actor.role == Role.admin):
        teams = team_names(session)
        return [None, *sorted(teams, key=teams.__getitem__)]
    if actor.active and actor.role == Role.sales_manager:
        return [None] if actor.team_id is None else [None, actor.team_id]
    return []


# ---------------------------------------------------------------- setting


def _authorize(session: Session, actor: Actor, team_id: int | None) -> None:
    authorize(session=session, actor=actor, action=Action.sla_set, object_id=team_id)
    own_team = isinstance(actor, User) and actor.team_id is not None and actor.team_id == team_id
    if team_id is not None and not own_team:
        authorize(session=session, actor=actor, action=Action.sla_set_any_team, object_id=team_id)


def _whole(value: int, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SlaRefused(f"{what} must be a whole number from {low:,} to {high:,}.")
    return value


def _validated(
    team_id: int | None,
    mqls_per_month: int,
    follow_up_hours: int,
    rating_days: int,
    target: float,
    grace_days: int,
) -> SlaSetting:
    """The terms as an unsaved version; SlaRefused with the first thing wrong."""
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0 <= target <= 1:
        raise SlaRefused("The acceptance target is a share from 0% to 100%.")
    return SlaSetting(
        team_id=team_id,
        mqls_per_month=_whole(mqls_per_month, "MQLs per month", 0, MAX_MQLS_PER_MONTH),
        follow_up_hours=_whole(follow_up_hours, "Follow-up hours", 1, MAX_FOLLOW_UP_HOURS),
        rating_days=_whole(rating_days, "Rating days", 1, MAX_RATING_DAYS),
        acceptance_target=float(target),
        rating_grace_days=_whole(grace_days, "The rating queue's grace (days)", 0, MAX_RATING_GRACE_DAYS),
    )


def _newest(session: Session, team_id: int | None) -> SlaSetting | None:
    scope = col(SlaSetting.team_id).is_(None) if team_id is None else col(SlaSetting.team_id) == team_id
    query = select(SlaSetting).where(scope)
    return session.exec(
        query.order_by(col(SlaSetting.effective_from).desc(), col(SlaSetting.id).desc())
    ).first()


def _grace_in_force(session: Session, team_id: int | None) -> int:
    """The grace a scope's new terms carry when nobody changes it: its own, else the company's."""
    newest = _newest(session, team_id)
    if newest is None and team_id is not None:
        newest = _newest(session, None)
    return newest.rating_grace_days if newest is not None else Agreement().rating_grace_days


def set_agreement(
    *,
    session: Session,
    actor: Actor,
    team_id: int | None,
    mqls_per_month: int,
    follow_up_hours: int,
    rating_days: int,
    acceptance_target: float,
    rating_grace_days: int | None = None,
    now: datetime | None = None,
) -> SlaSetting:
    """New terms for the company (team_id None) or one team, as a new version; the version in force when
    nothing changed. `rating_grace_days` None keeps the grace in force; changing it is an admin's."""
    _authorize(session, actor, team_id)
    in_force = _grace_in_force(session, team_id)
    grace = in_force if rating_grace_days is None else rating_grace_days
    setting = _validated(team_id, mqls_per_month, follow_up_hours, rating_days, acceptance_target, grace)
    if setting.rating_grace_days != in_force:
        authorize(session=session, actor=actor, action=Action.settings_change, object_id=team_id)
    if team_id is not None and session.get(Team, team_id) is None:
        raise SlaRefused("That team does not exist.")
    current = _newest(session, team_id)
    if current is not None and _agreement(current) == _agreement(setting):
        return current
    setting.effective_from = _utc(now or clock.now())
    setting.set_by_id = by.id if (by := person(actor)) else None
    session.add(setting)
    session.flush()
    audit.record(
        session=session,
        action="sla.set",
        actor=person(actor),
        actor_username=actor.username,
        object_type="sla_setting",
        object_id=setting.id,
        detail=(
            f"team={team_id if team_id is not None else 'company'} "
            f"mqls_per_month={setting.mqls_per_month} follow_up_hours={setting.follow_up_hours} "
            f"rating_days={setting.rating_days} acceptance_target={setting.acceptance_target} "
            f"rating_grace_days={setting.rating_grace_days}"
        ),
    )
    return setting
