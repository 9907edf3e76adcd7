"""The weekly sync report from the database, for `python -m db report --week 2026-W47 --out week.html`
and the page's download: everything read here, everything computed in core."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.report import report_html
from core.sla import Agreements, Terms
from core.targeting import replay_evidence
from core.weekly import (
    ContentTables,
    CriteriaChange,
    VersionInForce,
    WeeklySync,
    criteria_changes,
    in_week,
    ratings_needed_from,
    week_period,
    week_title,
    weekly_sync,
)
from core.weekly_report import ACTIONS_SCHEMA, report_sections
from db.action_items import items_for_week
from db.content_frames import load_assets, load_requests, load_uses, load_versions
from db.content_frames import load_ratings as load_content_ratings
from db.criteria import versions
from db.engine import read_session
from db.feedback import load_rating_rows
from db.frames import load_answers, load_leads, load_people
from db.sla import current_agreements
from db.tuning import load_raters, load_ratings, load_tuning_leads


def agreements(session: Session) -> Agreements:
    """The terms in force, the company's and each team's own, as core.sla reads them."""
    terms = current_agreements(session)
    company = terms.pop(None, Terms())
    return Agreements(company=company, teams={k: v for k, v in terms.items() if k is not None})


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def versions_in_force(session: Session) -> list[VersionInForce]:
    return [
        VersionInForce(
            v.number, v.criteria, _naive_utc(v.activated_at), v.proposed_by, v.approved_by, v.rationale
        )
        for v in versions(session)
        if v.activated_at is not None
    ]


def week_changes(engine: Engine, week: str, in_force: list[VersionInForce]) -> list[CriteriaChange]:
    """The criteria changes of the week with their backtests; the evidence is read only when there is one."""
    period = week_period(week)
    if not any(in_week(v.activated_at, period) for v in in_force):
        return []
    evidence = replay_evidence(load_tuning_leads(engine), load_ratings(engine), load_raters(engine))
    return criteria_changes(in_force, evidence, period)


def actions_table(session: Session, week: str) -> pl.DataFrame:
    """The week's action items as the report's table: carried-over ones say the week they were raised."""
    rows = [
        (
            item.title,
            item.owner,
            item.due_date,
            item.meeting_week,
            "open" if item.is_open else f"done {item.closed_at:%Y-%m-%d}",
        )
        for item in items_for_week(session, week)
    ]
    return pl.DataFrame(rows, schema=ACTIONS_SCHEMA, orient="row")


def build_week(engine: Engine, week: str, *, now: datetime) -> WeeklySync:
    with read_session(engine) as session:
        terms, in_force = agreements(session), versions_in_force(session)
    return weekly_sync(
        week,
        leads=load_leads(engine),
        ratings=load_rating_rows(engine, since=ratings_needed_from(week_period(week))),
        people=load_people(engine),
        agreements=terms,
        changes=week_changes(engine, week, in_force),
        now=now,
        answers=load_answers(engine),
        content=week_content_tables(engine),
    )


def week_content_tables(engine: Engine) -> ContentTables:
    """The content frames the report's Content part reads (the same as the page's)."""
    return ContentTables(
        assets=load_assets(engine),
        versions=load_versions(engine),
        uses=load_uses(engine),
        ratings=load_content_ratings(engine),
        requests=load_requests(engine),
    )


def week_report_html(
    sync: WeeklySync, actions: pl.DataFrame, activations: list[tuple[date, int]], *, made_at: datetime
) -> str:
    title = f"Huddle weekly sync — {week_title(sync.week)}"
    subtitle = (
        f"Sales and Marketing, {sync.week}: the funnel, the SLA both sides, lead quality, handoff answers, "
        "wins, content, actions."
    )
    return report_html(title, subtitle, report_sections(sync, actions, activations), made_at=made_at)
