"""Reads for the Rate my leads screen: a rater's queue with the context a rep needs, a manager's pick of
any lead of their team, and their recent ratings. Per person and changing with every submit, so read fresh
(by index), never from a shared cache.

The queue holds only the MQLs still inside the rating window (the SLA's rating days plus the grace, see
core.feedback.rating_queue); older unrated ones left it and are counted, never shown as the next card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, and_, exists, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.criteria import Rule
from db.engine import read_session
from db.frames import read_query
from db.models import CriteriaRule, CriteriaVersion, Lead, LeadRating, Role, User
from db.sla import Agreement, agreement_for, current_agreements


@dataclass(frozen=True)
class LeadToRate:
    id: int
    external_id: str
    source_system: str
    mql_at: datetime
    owner: str | None
    source: str | None
    campaign: str | None
    landing_page: str | None
    industry: str | None
    company_size: str | None
    country: str | None
    persona: str | None
    page_views: int
    email_clicks: int
    content_downloads: int
    score: int | None
    threshold: int | None
    why: tuple[str, ...]  # the rules that fired, as sentences
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Queue:
    waiting: int  # how many MQLs inside the rating window wait for this rater in all
    leads: tuple[LeadToRate, ...]  # the first of them, longest-waiting first
    missed: int  # unrated by this rater and older than the window: they left the queue
    terms: Agreement  # the rating days and grace the window was cut by


def owners_for(engine: Engine, rater_id: int) -> list[int]:
    """Whose leads a rater rates: a rep their own, a sales manager every rep of their team."""
    with read_session(engine) as session:
        rater = session.get(User, rater_id)
        if rater is None or not rater.active:
            return []
        if rater.role == Role.rep:
            return [rater_id]
        if rater.role == Role.sales_manager and rater.team_id is not None:
            team = session.exec(
                select(User.id).where(User.team_id == rater.team_id, User.role == Role.rep)
            ).all()
            return [int(i) for i in team if i is not None]
        return []


def _why(rule_rows: dict[int, Rule], fired: list[int] | None) -> tuple[str, ...]:
    return tuple(rule_rows[i].describe() for i in fired or [] if i in rule_rows)


def rater_terms(engine: Engine, rater_id: int) -> Agreement:
    """The terms a rater is held to: their team's own, else the company's (the window of their queue)."""
    with read_session(engine) as session:
        rater = session.get(User, rater_id)
        return agreement_for(current_agreements(session), rater.team_id if rater else None)


def scored_by(session: Session, leads: Sequence[Lead]) -> tuple[dict[int, Rule], dict[int, int]]:
    """The rules (by id) and thresholds (by version id) of the criteria versions that scored `leads`: what
    *Why an MQL* is told from, on the rating card and in an alert alike."""
    versions = {r.criteria_version_id for r in leads if r.criteria_version_id is not None}
    rules = {
        int(r.id or 0): Rule(r.attribute, r.operator, r.value, r.points, rule_id=r.id)
        for r in session.exec(select(CriteriaRule).where(col(CriteriaRule.version_id).in_(versions))).all()
    }
    thresholds = {
        int(v.id or 0): v.threshold
        for v in session.exec(select(CriteriaVersion).where(col(CriteriaVersion.id).in_(versions))).all()
    }
    return rules, thresholds


def _lead_cards(session: Session, rows: list[Lead], owner_ids: list[int]) -> tuple[LeadToRate, ...]:
    """The leads as the rating card shows them: owner by name, threshold and the rules that fired."""
    rules, thresholds = scored_by(session, rows)
    names = {
        int(u.id or 0): u.name for u in session.exec(select(User).where(col(User.id).in_(owner_ids))).all()
    }
    return tuple(
        LeadToRate(
            id=int(r.id or 0),
            external_id=r.external_id,
            source_system=r.source_system,
            mql_at=r.mql_at,  # type: ignore[arg-type]  # filtered on: never null here
            owner=names.get(r.owner_id or 0),
            source=r.source,
            campaign=r.campaign,
            landing_page=r.landing_page,
            industry=r.industry,
            company_size=r.company_size,
            country=r.country,
            persona=r.persona,
            page_views=r.page_views,
            email_clicks=r.email_clicks,
            content_downloads=r.content_downloads,
            score=r.score,
            threshold=thresholds.get(r.criteria_version_id or 0),
            why=_why(rules, r.fired_rule_ids),
            attributes=dict(r.attributes or {}),
        )
        for r in rows
    )


def _rated_by(rater_id: int) -> ColumnElement[bool]:
    """The lead in the query has a rating by `rater_id`."""
    return exists().where(and_(col(LeadRating.lead_id) == col(Lead.id), col(LeadRating.rater_id) == rater_id))


def _count(session: Session, where: ColumnElement[bool]) -> int:
    return int(session.exec(select(func.count()).select_from(Lead).where(where)).one())


def rating_queue(
    engine: Engine,
    *,
    rater_id: int,
    owner_ids: list[int],
    now: datetime,
    terms: Agreement,
    limit: int = 20,
) -> Queue:
    """The MQLs of `owner_ids` that `rater_id` has not rated and that became MQL inside the rating window
    (`terms`' rating days plus grace, back from `now`), longest-waiting first; and how many left it."""
    if not owner_ids:
        return Queue(0, (), 0, terms)
    unrated = and_(col(Lead.owner_id).in_(owner_ids), col(Lead.mql_at).is_not(None), ~_rated_by(rater_id))
    cutoff = now - timedelta(days=terms.rating_window_days)  # core.feedback.queue_cutoff, in SQL
    waiting = and_(unrated, col(Lead.mql_at) >= cutoff)
    with read_session(engine) as session:
        total = _count(session, waiting)
        missed = _count(session, and_(unrated, col(Lead.mql_at) < cutoff))
        rows = session.exec(
            select(Lead).where(waiting).order_by(col(Lead.mql_at), col(Lead.id)).limit(limit)
        ).all()
        return Queue(total, _lead_cards(session, list(rows), owner_ids), missed, terms)


@dataclass(frozen=True)
class TeamLead:
    """One MQL of a manager's team as the lead picker lists it."""

    id: int
    external_id: str
    company: str | None
    mql_at: datetime
    owner: str | None


def _company(attributes: dict[str, Any] | None) -> str | None:
    found = (attributes or {}).get("company") or (attributes or {}).get("company_name")
    return str(found) if found else None


def team_leads(
    engine: Engine,
    *,
    owner_ids: list[int],
    lead_id_has: str = "",
    unrated_by: int | None = None,
    limit: int = 100,
) -> tuple[int, list[TeamLead]]:
    """The MQLs of `owner_ids` (a manager's team), newest first, whose lead id holds `lead_id_has`
    (any case), and only those `unrated_by` has not rated when given: how many match in all, and the
    first `limit` of them."""
    if not owner_ids:
        return 0, []
    matching = and_(col(Lead.owner_id).in_(owner_ids), col(Lead.mql_at).is_not(None))
    if unrated_by is not None:
        matching = and_(matching, ~_rated_by(unrated_by))
    if lead_id_has.strip():
        typed = lead_id_has.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matching = and_(matching, col(Lead.external_id).ilike(f"%{typed}%", escape="\\"))
    with read_session(engine) as session:
        total = _count(session, matching)
        rows = session.exec(
            select(Lead).where(matching).order_by(col(Lead.mql_at).desc(), col(Lead.id).desc()).limit(limit)
        ).all()
        names = {
            int(u.id or 0): u.name
            for u in session.exec(select(User).where(col(User.id).in_(owner_ids))).all()
        }
        return total, [
            TeamLead(
                id=int(r.id or 0),
                external_id=r.external_id,
                company=_company(r.attributes),
                mql_at=r.mql_at,  # type: ignore[arg-type]  # filtered on: never null here
                owner=names.get(r.owner_id or 0),
            )
            for r in rows
        ]


def lead_to_rate(engine: Engine, *, lead_id: int, owner_ids: list[int]) -> LeadToRate | None:
    """One MQL of `owner_ids` as the rating card shows it; None when it is no MQL of theirs."""
    with read_session(engine) as session:
        row = session.exec(
            select(Lead).where(
                Lead.id == lead_id, col(Lead.owner_id).in_(owner_ids), col(Lead.mql_at).is_not(None)
            )
        ).first()
        return _lead_cards(session, [row], owner_ids)[0] if row is not None else None


@dataclass(frozen=True)
class MyRating:
    stars: int
    reasons: tuple[str, ...]
    note: str | None
    first_rated_at: datetime


def my_rating(engine: Engine, *, rater_id: int, lead_id: int) -> MyRating | None:
    """The rater's current rating of one lead, if they gave one."""
    with read_session(engine) as session:
        found = session.exec(
            select(LeadRating).where(LeadRating.lead_id == lead_id, LeadRating.rater_id == rater_id)
        ).first()
        if found is None:
            return None
        return MyRating(found.stars, tuple(found.reasons), found.note, found.created_at)


@dataclass(frozen=True)
class RecentRating:
    lead_id: int
    external_id: str
    stars: int
    reasons: tuple[str, ...]
    note: str | None
    first_rated_at: datetime


def recent_ratings(engine: Engine, *, rater_id: int, since: datetime, limit: int = 20) -> list[RecentRating]:
    """The rater's ratings first given since `since` (the ones still changeable), newest first."""
    with read_session(engine) as session:
        rows = session.exec(
            select(LeadRating, Lead.external_id)
            .join(Lead, Lead.id == LeadRating.lead_id)  # type: ignore[arg-type]
            .where(LeadRating.rater_id == rater_id, LeadRating.created_at >= since)
            .order_by(col(LeadRating.created_at).desc())
            .limit(limit)
        ).all()
        return [
            RecentRating(r.lead_id, external_id, r.stars, tuple(r.reasons), r.note, r.created_at)
            for r, external_id in rows
        ]


def current_agreement(engine: Engine) -> Agreement:
    """The company-wide terms the feedback screens hold people to (db/sla.py keeps every version)."""
    with read_session(engine) as session:
        return agreement_for(current_agreements(session), None)


def rating_stamp(engine: Engine) -> tuple[int, str]:
    """How many current ratings there are and when one last changed: moves with every submit, cheap
    enough to ask on every rerun (a cache key for numbers that read ratings)."""
    with read_session(engine) as session:
        count, changed = session.exec(select(func.count(), func.max(LeadRating.updated_at))).one()
    return int(count), str(changed or "")


RATING_ROWS_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.Int64(),
    "rater_id": pl.Int64(),
    "stars": pl.Int64(),
    "reasons": pl.String(),
    "created_at": pl.Datetime("us"),
}


def load_rating_rows(engine: Engine, *, since: datetime | None = None) -> pl.DataFrame:
    """Every current rating (or those first given at or after `since`, naive UTC) as
    core.feedback.RATINGS_SCHEMA, reasons decoded from their JSON list."""
    reasons = "lead_ratings.reasons" if engine.dialect.name == "sqlite" else "lead_ratings.reasons::text"
    created = (
        "lead_ratings.created_at"
        if engine.dialect.name == "sqlite"
        else "to_char(lead_ratings.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    )
    columns = f"lead_ratings.lead_id, lead_ratings.rater_id, lead_ratings.stars, {reasons}, {created}"
    where = ""
    if since is not None:  # a datetime we format ourselves: no text from outside reaches the SQL
        moment = since.strftime("%Y-%m-%d %H:%M:%S")
        where = (
            f" WHERE lead_ratings.created_at >= '{moment}'"
            if engine.dialect.name == "sqlite"
            else f" WHERE lead_ratings.created_at >= TIMESTAMPTZ '{moment}+00'"
        )
    sql = f"SELECT {columns} FROM lead_ratings{where}"  # noqa: S608 - column names and a formatted date
    frame = read_query(engine, sql, RATING_ROWS_SCHEMA)
    return frame.with_columns(pl.col("reasons").str.json_decode(pl.List(pl.String())))
