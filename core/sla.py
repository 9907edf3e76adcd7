"""The two-sided service level agreement (docs/METRICS.md, "The service level agreement").

Marketing's side: MQLs delivered against the committed number, and the share of them sales rated 4-5.
Sales' side: speed to lead (MQL to first sales touch) as a median and the share within the agreed hours,
breaches listed by owner, and rating coverage.

The follow-up clock counts working time only: Monday to Friday, UTC. An MQL that arrives on Friday evening
and is called on Monday morning waited a few hours, not a weekend; holding reps to a clock that runs
while nobody works would make every weekend MQL a breach and the number meaningless.

The first touch is the earliest of: a logged sales activity (`first_touch_at`), the first rating, a
stage sales sets (SQL, opportunity), or the rep's first answer to the handoff (`first_answered_at`,
core/handoff.py: accept, recycle and reject alike, for the rep answered). A touch before the MQL moment
counts as an immediate follow-up; an answer before it belongs to an earlier handoff of a recycled lead
that is an MQL again, and does not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from core.feedback import RATING_GRACE_DAYS, rating_coverage
from core.handoff import empty_answers, first_answers
from core.kpis import in_period
from core.periods import Period
from core.stats import Rate, rate
from core.tuning import GOOD_STARS

WEEKS_PER_MONTH = 52 / 12


@dataclass(frozen=True)
class Terms:
    """What each side committed to: marketing a volume and a quality, sales a speed and a rating habit."""

    follow_up_hours: int = 24
    rating_days: int = 3
    mqls_per_month: int | None = None
    acceptance_target: float | None = None
    rating_grace_days: int = RATING_GRACE_DAYS  # an unrated MQL stays in the rating queue this much longer

    @property
    def rating_window_days(self) -> int:
        """How long an unrated MQL stays in the rating queue: the agreed rating days plus the grace."""
        return self.rating_days + self.rating_grace_days

    def describe(self) -> str:
        """The terms as one sentence: the glossary's words for what the SLA numbers measure."""
        marketing = (
            "Marketing has not committed to a number of MQLs"
            if self.mqls_per_month is None
            else f"Marketing delivers {self.mqls_per_month:,} MQLs a month"
        )
        sales = (
            f"sales follows up every MQL within {_count(self.follow_up_hours, 'working hour')} "
            f"(Monday to Friday) and rates it within {_count(self.rating_days, 'day')}"
        )
        quality = (
            "no acceptance target is set"
            if self.acceptance_target is None
            else f"at least {self.acceptance_target:.0%} of the MQLs sales rates are rated 4-5"
        )
        return f"{marketing}; {sales}; {quality}."


def _count(number: int, unit: str) -> str:
    return f"{number:,} {unit}" if number == 1 else f"{number:,} {unit}s"


@dataclass(frozen=True)
class Agreements:
    """The company's terms and each team's own, where a team has agreed different ones."""

    company: Terms = field(default_factory=Terms)
    teams: Mapping[int, Terms] = field(default_factory=dict)

    def for_team(self, team_id: int | None) -> Terms:
        return self.teams.get(team_id, self.company) if team_id is not None else self.company


def _hours_since_midnight(moment: pl.Expr) -> pl.Expr:
    return (moment - moment.dt.truncate("1d")).dt.total_seconds() / 3600


def _is_working_day(moment: pl.Expr) -> pl.Expr:
    return moment.dt.weekday() <= 5  # polars: Monday is 1, Sunday 7


def working_hours_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Hours from `start` to `end` that fall on Monday-Friday (UTC); 0 when `end` is not after `start`."""
    whole_days = pl.business_day_count(start.dt.date(), end.dt.date()) * 24
    hours = (
        whole_days
        - pl.when(_is_working_day(start)).then(_hours_since_midnight(start)).otherwise(0.0)
        + pl.when(_is_working_day(end)).then(_hours_since_midnight(end)).otherwise(0.0)
    )
    return pl.when(end > start).then(hours).otherwise(0.0)


def first_ratings(ratings: pl.DataFrame) -> pl.DataFrame:
    """Per lead: when it was first rated and its mean current rating (several raters may rate a lead)."""
    return ratings.group_by("lead_id").agg(
        pl.col("created_at").min().alias("first_rated_at"),
        pl.col("stars").cast(pl.Float64).mean().alias("stars"),
    )


def _agreed_hours(agreements: Agreements) -> pl.Expr:
    hours = {team: terms.follow_up_hours for team, terms in agreements.teams.items()}
    return (
        pl.col("team_id")
        .replace_strict(hours, default=agreements.company.follow_up_hours, return_dtype=pl.Int64)
        .alias("agreed_hours")
    )


def follow_ups(
    leads: pl.DataFrame,
    ratings: pl.DataFrame,
    period: Period,
    *,
    as_of: datetime,
    agreements: Agreements,
    answers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The MQLs of the period, one row each, judged at `as_of`: `first_answered_at` (from `answers`,
    core.handoff.ANSWERS_SCHEMA; none given: no answers), `touched_at` (first touch by then, else
    null), `hours` (working hours from MQL to the touch, or to `as_of` while untouched), `agreed_hours`,
    `judged` (touched, or untouched past the agreed hours: the MQLs the SLA can be scored on yet),
    `in_time` (touched within the agreed hours) and `breach` (waited longer than agreed, touched or not)."""
    touch = pl.min_horizontal(
        "first_touch_at", "first_rated_at", "sql_at", "opportunity_at", "first_answered_at"
    )
    touched_at = pl.when(touch <= as_of).then(pl.max_horizontal(touch, pl.col("mql_at")))
    mqls = leads.filter(in_period(pl.col("mql_at"), period) & (pl.col("mql_at") <= as_of))
    answered = first_answers(empty_answers() if answers is None else answers, mqls)
    return (
        mqls.join(first_ratings(ratings), left_on="id", right_on="lead_id", how="left")
        .join(answered, left_on="id", right_on="lead_id", how="left")
        .with_columns(touched_at.alias("touched_at"), _agreed_hours(agreements))
        .with_columns(
            working_hours_between(pl.col("mql_at"), pl.coalesce("touched_at", pl.lit(as_of))).alias("hours")
        )
        .with_columns(
            (pl.col("touched_at").is_not_null() & (pl.col("hours") <= pl.col("agreed_hours"))).alias(
                "in_time"
            ),
            (pl.col("hours") > pl.col("agreed_hours")).alias("breach"),
        )
        .with_columns((pl.col("touched_at").is_not_null() | pl.col("breach")).alias("judged"))
    )


@dataclass(frozen=True)
class SpeedToLead:
    median_hours: float | None  # over the MQLs touched by `as_of`
    within: Rate  # touched within the agreed hours, of the MQLs that can be judged yet
    touched: int
    breaches: int
    waiting: int  # untouched and still inside their agreed hours


def speed_to_lead(follow: pl.DataFrame) -> SpeedToLead:
    touched = follow.filter(pl.col("touched_at").is_not_null())
    median = touched["hours"].median() if touched.height else None
    judged = follow.filter(pl.col("judged"))
    return SpeedToLead(
        median_hours=float(median) if isinstance(median, int | float) else None,
        within=rate(int(judged["in_time"].sum()), judged.height),
        touched=touched.height,
        breaches=int(follow["breach"].sum()),
        waiting=int((~follow["judged"]).sum()),
    )


BREACH_SCHEMA: dict[str, pl.DataType] = {
    "owner_id": pl.Int64(),
    "lead_id": pl.Int64(),
    "mql_at": pl.Datetime("us"),
    "hours": pl.Float64(),
    "agreed_hours": pl.Int64(),
    "status": pl.String(),
}


def breaches(follow: pl.DataFrame) -> pl.DataFrame:
    """Every MQL that waited longer than agreed, by owner, longest wait first, with what happened."""
    status = (
        pl.when(pl.col("touched_at").is_null())
        .then(pl.lit("not touched yet"))
        .otherwise(pl.lit("touched late"))
        .alias("status")
    )
    return (
        follow.filter(pl.col("breach"))
        .select("owner_id", pl.col("id").alias("lead_id"), "mql_at", "hours", "agreed_hours", status)
        .sort(["owner_id", "hours"], descending=[False, True], nulls_last=True)
        .cast(BREACH_SCHEMA)  # type: ignore[arg-type]
    )


def breaches_by_owner(follow: pl.DataFrame) -> pl.DataFrame:
    """Per owner of a breached MQL: MQLs, breaches, of which still untouched; most breaches first."""
    return (
        follow.group_by("owner_id")
        .agg(
            pl.len().cast(pl.Int64).alias("mqls"),
            pl.col("breach").sum().cast(pl.Int64).alias("breaches"),
            (pl.col("breach") & pl.col("touched_at").is_null()).sum().cast(pl.Int64).alias("untouched"),
        )
        .filter(pl.col("breaches") > 0)
        .sort(["breaches", "owner_id"], descending=[True, False], nulls_last=True)
    )


@dataclass(frozen=True)
class MarketingSide:
    mqls: int
    committed: float | None  # for the period, prorated from the monthly number
    acceptance: Rate  # of the period's MQLs that sales rated, the share rated 4-5
    acceptance_target: float | None


def committed_mqls(mqls_per_month: int | None, period: Period) -> float | None:
    """The monthly commitment spread over the period's days (a week: 12/52 of a month)."""
    if mqls_per_month is None or period.start is None or period.end is None:
        return None
    return mqls_per_month / WEEKS_PER_MONTH * (period.end - period.start).days / 7


def marketing_side(leads: pl.DataFrame, ratings: pl.DataFrame, period: Period, terms: Terms) -> MarketingSide:
    mqls = leads.filter(in_period(pl.col("mql_at"), period))
    rated = mqls.join(first_ratings(ratings), left_on="id", right_on="lead_id", how="inner")
    return MarketingSide(
        mqls=mqls.height,
        committed=committed_mqls(terms.mqls_per_month, period),
        acceptance=rate(int((rated["stars"] >= GOOD_STARS).sum()), rated.height),
        acceptance_target=terms.acceptance_target,
    )


@dataclass(frozen=True)
class Scorecard:
    """Both sides of the agreement for one period, judged at `as_of`."""

    period: Period
    as_of: datetime
    terms: Terms
    marketing: MarketingSide
    speed: SpeedToLead
    coverage: Rate  # MQLs rated within the agreed days, of the period's MQLs
    breaches: pl.DataFrame  # breaches(...)
    by_owner: pl.DataFrame  # breaches_by_owner(...)


def _coverage(
    leads: pl.DataFrame, ratings: pl.DataFrame, period: Period, agreements: Agreements, now: datetime
) -> Rate:
    """Each team's MQLs judged by its own rating days; summed into one company rate."""
    rated = mqls = 0
    for team_id in leads["team_id"].unique().to_list():
        team = leads.filter(pl.col("team_id").eq_missing(team_id))
        terms = agreements.for_team(team_id)
        row = rating_coverage(
            team,
            ratings,
            period,
            rating_days=terms.rating_days,
            grace_days=terms.rating_grace_days,
            now=now,
            by="team_id",
        )
        rated, mqls = rated + int(row["rated"].sum()), mqls + int(row["mqls"].sum())
    return rate(rated, mqls)


def scorecard(
    leads: pl.DataFrame,
    ratings: pl.DataFrame,
    period: Period,
    *,
    as_of: datetime,
    agreements: Agreements,
    answers: pl.DataFrame | None = None,
) -> Scorecard:
    follow = follow_ups(leads, ratings, period, as_of=as_of, agreements=agreements, answers=answers)
    return Scorecard(
        period=period,
        as_of=as_of,
        terms=agreements.company,
        marketing=marketing_side(leads, ratings, period, agreements.company),
        speed=speed_to_lead(follow),
        coverage=_coverage(leads.filter(pl.col("mql_at").is_not_null()), ratings, period, agreements, as_of),
        breaches=breaches(follow),
        by_owner=breaches_by_owner(follow),
    )


def judged_at(period: Period, now: datetime) -> datetime:
    """A past week is judged as it stood at the meeting: the Monday after it, or now if that is sooner.
    (A lead touched weeks later still breached; one touched on the Monday morning did not.)"""
    if period.end is None:
        return now
    end_of_week = datetime.combine(period.end, datetime.min.time()) + timedelta(days=1)
    return min(now, end_of_week)


@dataclass(frozen=True)
class OwnerStatus:
    """Where one rep (or a manager's team) stands on sales' side of the agreement, right now."""

    days: int
    overdue: int  # MQLs untouched past their agreed hours
    waiting: int  # untouched, still inside their agreed hours
    within: Rate  # followed up within the agreed hours, of the MQLs that can be judged
    coverage: Rate  # rated within the agreed days


def owner_status(
    leads: pl.DataFrame,
    ratings: pl.DataFrame,
    owner_ids: list[int],
    *,
    now: datetime,
    agreements: Agreements,
    days: int = 30,
    answers: pl.DataFrame | None = None,
) -> OwnerStatus:
    """The SLA of the MQLs `owner_ids` received in the last `days` days, judged now."""
    mine = leads.filter(pl.col("owner_id").is_in(owner_ids) & pl.col("mql_at").is_not_null())
    period = Period(
        now.date() - timedelta(days=days), now.date() + timedelta(days=1), f"the last {days} days"
    )
    follow = follow_ups(mine, ratings, period, as_of=now, agreements=agreements, answers=answers)
    untouched = follow.filter(pl.col("touched_at").is_null())
    return OwnerStatus(
        days=days,
        overdue=int(untouched["breach"].sum()),
        waiting=int((~untouched["breach"]).sum()),
        within=speed_to_lead(follow).within,
        coverage=_coverage(mine, ratings, period, agreements, now),
    )
