"""The weekly sync: one ISO week's numbers for the Sales + Marketing meeting, computed once and shown by
both the page and the offline report, so the room and the mailed report never disagree."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from core.content import WeekContent, week_content
from core.criteria import Criteria
from core.feedback import top_reasons
from core.handoff import (
    NurtureCounts,
    answer_shares,
    came_back_and_won,
    empty_answers,
    nurture_counts,
    nurture_list,
    returns,
)
from core.kpis import Headline, headline, in_period, stage_time
from core.periods import Period
from core.schema import STAGE_LABEL
from core.sla import Agreements, Scorecard, first_ratings, judged_at, scorecard
from core.stats import rate
from core.trends import weekly_flow
from core.tuning import GOOD_STARS, backtest, compare_sentence

TREND_WEEKS = 8
MIN_SEGMENT_RATINGS = 5  # a segment with fewer ratings this week is noise, not a finding
SEGMENTS_SHOWN = 3
SEGMENT_ATTRIBUTES: dict[str, str] = {
    "source": "Source",
    "campaign": "Campaign",
    "industry": "Industry",
    "company_size": "Company size",
    "persona": "Persona",
    "country": "Country",
}
MOVER_STAGES = ("created", "mql", "sql", "opportunity", "won")
_HEADLINE_KEY = {"created": "leads"}  # core.kpis.Headline counts created leads under "leads"
MIN_MOVER_BASE = 5  # a stage going from 1 to 3 is +200% and means nothing
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


# ---------------------------------------------------------------- weeks


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_period(label: str) -> Period:
    """The Monday-to-Sunday period of an ISO week written YYYY-Www; ValueError says what is wrong."""
    match = _WEEK.match(label.strip())
    if match is None:
        raise ValueError(f"{label!r} is not a week: write it like 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{year} has no week {week}") from None
    return Period(monday, monday + timedelta(days=7), f"week {week} of {year} ({monday:%b} {monday.day}–)")


def week_title(week: str) -> str:
    """ "Week 47 · Nov 16–22, 2026" """
    period = week_period(week)
    assert period.start is not None and period.last_day is not None
    first, last = period.start, period.last_day
    span = (
        f"{first:%b} {first.day}–{last.day}"
        if first.month == last.month
        else f"{first:%b} {first.day} – {last:%b} {last.day}"
    )
    return f"Week {int(week[-2:])} · {span}, {last.year}"


def last_complete_week(day: date) -> str:
    """The last Monday-to-Sunday week that ended before `day` (the meeting reviews a finished week)."""
    return week_label(day - timedelta(days=day.weekday() + 1))


def ratings_needed_from(week: Period) -> datetime:
    """The earliest rating a week's numbers read: its MQLs are rated after they arrive, and its lead
    quality is the week's own ratings, so nothing before its Monday counts (a quarter of a million older
    ratings need not be loaded to review one week)."""
    assert week.start is not None
    return datetime.combine(week.start, datetime.min.time())


def shift_week(label: str, weeks: int) -> str:
    start = week_period(label).start
    assert start is not None
    return week_label(start + timedelta(weeks=weeks))


# ---------------------------------------------------------------- the funnel this week


@dataclass(frozen=True)
class FunnelWeek:
    this: Headline
    last: Headline
    trend: pl.DataFrame  # core.trends.weekly_flow over TREND_WEEKS weeks
    movers: pl.DataFrame  # stage, this_week, last_week, change, change_pct (null when not recorded)
    moved_most: str  # one sentence


def stage_movers(this: Headline, last: Headline) -> pl.DataFrame:
    rows = []
    for stage in MOVER_STAGES:
        key = _HEADLINE_KEY.get(stage, stage)
        now, before = this.stages.get(key), last.stages.get(key)
        if now is None or before is None:
            continue
        pct = (now - before) / before if before else None
        rows.append((STAGE_LABEL[stage], now, before, now - before, pct))
    return pl.DataFrame(
        rows,
        schema={
            "stage": pl.String,
            "this_week": pl.Int64,
            "last_week": pl.Int64,
            "change": pl.Int64,
            "change_pct": pl.Float64,
        },
        orient="row",
    )


def source_changes(leads: pl.DataFrame, stage: str, this: Period, last: Period) -> pl.DataFrame:
    """Per lead source: how many leads reached `stage` in each week, biggest absolute change first."""
    counts = leads.select(
        pl.col("source").fill_null("(no source)"),
        in_period(stage_time(stage), this).alias("this_week"),
        in_period(stage_time(stage), last).alias("last_week"),
    )
    return (
        counts.group_by("source")
        .agg(pl.col("this_week").sum().cast(pl.Int64), pl.col("last_week").sum().cast(pl.Int64))
        .with_columns((pl.col("this_week") - pl.col("last_week")).alias("change"))
        .filter(pl.col("change") != 0)
        .sort([pl.col("change").abs(), "source"], descending=[True, False])
    )


_STAGE_OF_LABEL = {STAGE_LABEL[stage]: stage for stage in MOVER_STAGES}


def moved_most(leads: pl.DataFrame, movers: pl.DataFrame, this: Period, last: Period) -> str:
    """The stage whose count changed most against last week, and the source behind most of the change."""
    big = movers.filter((pl.col("last_week") >= MIN_MOVER_BASE) & pl.col("change_pct").is_not_null())
    if big.is_empty():
        return "Too few leads in these two weeks to say what moved."
    top = big.sort(pl.col("change_pct").abs(), descending=True).row(0, named=True)
    if top["change"] == 0:
        return "Every stage held level with last week."
    sentence = (
        f"{top['stage']} moved most: {top['this_week']:,} against {top['last_week']:,} last week "
        f"({top['change_pct']:+.0%})."
    )
    sources = source_changes(leads, _STAGE_OF_LABEL[top["stage"]], this, last)
    same_way = sources.filter((pl.col("change") > 0) == (top["change"] > 0))
    if not same_way.is_empty():
        source, change = same_way.row(0)[0], same_way.row(0)[3]
        sentence += f" Most of it came from {source} ({change:+,})."
    return sentence


def funnel_week(leads: pl.DataFrame, week: Period, *, today: date) -> FunnelWeek:
    previous = week.previous()
    this, last = headline(leads, week, today=today), headline(leads, previous, today=today)
    assert week.last_day is not None
    movers = stage_movers(this, last)
    return FunnelWeek(
        this=this,
        last=last,
        trend=weekly_flow(leads, last_day=week.last_day, weeks=TREND_WEEKS),
        movers=movers,
        moved_most=moved_most(leads, movers, week, previous),
    )


# ---------------------------------------------------------------- lead quality


SEGMENT_SCHEMA: dict[str, pl.DataType] = {
    "segment": pl.String(),
    "attribute": pl.String(),
    "value": pl.String(),
    "ratings": pl.Int64(),
    "mean_stars": pl.Float64(),
    "good": pl.Int64(),
    "good_share": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
}


def rated_segments(leads: pl.DataFrame, ratings: pl.DataFrame, week: Period) -> pl.DataFrame:
    """Every segment (source, campaign, industry, ...) of the leads rated this week, with at least
    MIN_SEGMENT_RATINGS of them: rated leads, mean stars, share rated 4-5 with its interval."""
    rated = ratings.filter(in_period(pl.col("created_at"), week))
    per_lead = first_ratings(rated).join(leads, left_on="lead_id", right_on="id", how="inner")
    parts = [
        per_lead.select(
            pl.lit(attribute).alias("attribute"), pl.col(attribute).cast(pl.String).alias("value"), "stars"
        )
        for attribute in SEGMENT_ATTRIBUTES
    ]
    if per_lead.is_empty():
        return pl.DataFrame(schema=SEGMENT_SCHEMA)
    grouped = (
        pl.concat(parts)
        .drop_nulls("value")
        .group_by("attribute", "value")
        .agg(
            pl.len().cast(pl.Int64).alias("ratings"),
            pl.col("stars").mean().alias("mean_stars"),
            (pl.col("stars") >= GOOD_STARS).sum().cast(pl.Int64).alias("good"),
        )
        .filter(pl.col("ratings") >= MIN_SEGMENT_RATINGS)
        .sort(["mean_stars", "ratings", "attribute", "value"], descending=[False, True, False, False])
    )
    rates = [rate(good, n) for good, n in grouped.select("good", "ratings").iter_rows()]
    return grouped.with_columns(
        (pl.col("attribute").replace_strict(SEGMENT_ATTRIBUTES) + " is " + pl.col("value")).alias("segment"),
        pl.Series("good_share", [r.value for r in rates], dtype=pl.Float64),
        pl.Series("ci_low", [r.ci_low for r in rates], dtype=pl.Float64),
        pl.Series("ci_high", [r.ci_high for r in rates], dtype=pl.Float64),
    ).select(list(SEGMENT_SCHEMA))


@dataclass(frozen=True)
class LeadQuality:
    ratings: int  # leads rated this week
    mean_stars: float | None  # their mean rating: the line between "lowest" and "highest"
    compared: int  # segments with enough ratings to compare
    lowest: pl.DataFrame  # rated_segments below the week's mean, worst first
    highest: pl.DataFrame  # above it, best first
    reasons: pl.DataFrame  # core.feedback.top_reasons


def lead_quality(leads: pl.DataFrame, ratings: pl.DataFrame, week: Period) -> LeadQuality:
    """The segments rated worse and better than the week's leads as a whole, and the reasons given."""
    rated = first_ratings(ratings.filter(in_period(pl.col("created_at"), week)))
    mean = rated["stars"].mean() if rated.height else None
    mean_stars = float(mean) if isinstance(mean, int | float) else None
    segments = rated_segments(leads, ratings, week)
    if mean_stars is None:
        lowest = highest = segments
    else:
        lowest = segments.filter(pl.col("mean_stars") < mean_stars).head(SEGMENTS_SHOWN)
        highest = (
            segments.filter(pl.col("mean_stars") > mean_stars)
            .sort(["mean_stars", "ratings", "attribute", "value"], descending=[True, True, False, False])
            .head(SEGMENTS_SHOWN)
        )
    return LeadQuality(
        ratings=rated.height,
        mean_stars=mean_stars,
        compared=segments.height,
        lowest=lowest,
        highest=highest,
        reasons=top_reasons(ratings, week),
    )


# ---------------------------------------------------------------- criteria changes


@dataclass(frozen=True)
class CriteriaChange:
    number: int
    activated_at: datetime
    proposed_by: str | None
    approved_by: str | None
    rationale: str | None
    sentence: str  # the backtest of the new version against the one it replaced


@dataclass(frozen=True)
class VersionInForce:
    """One version that was ever active: what it said and when it came into force (naive UTC)."""

    number: int
    criteria: Criteria
    activated_at: datetime
    proposed_by: str | None
    approved_by: str | None
    rationale: str | None


BACKTEST_DAYS = 90


def change_sentence(evidence: pl.DataFrame, before: Criteria | None, after: Criteria, at: datetime) -> str:
    """The new version against the one it replaced, replayed on the BACKTEST_DAYS before it came in."""
    if before is None:
        return "The first version: nothing to compare it with."
    start = at - timedelta(days=BACKTEST_DAYS)
    return compare_sentence(
        backtest(evidence, before, start=start, end=at), backtest(evidence, after, start=start, end=at)
    )


def criteria_changes(
    versions: Sequence[VersionInForce], evidence: pl.DataFrame, week: Period
) -> list[CriteriaChange]:
    """The versions that came into force during the week, each with its backtest sentence."""
    ordered = sorted(versions, key=lambda v: v.activated_at)
    changes = []
    for index, version in enumerate(ordered):
        if not in_week(version.activated_at, week):
            continue
        before = ordered[index - 1].criteria if index else None
        changes.append(
            CriteriaChange(
                number=version.number,
                activated_at=version.activated_at,
                proposed_by=version.proposed_by,
                approved_by=version.approved_by,
                rationale=version.rationale,
                sentence=change_sentence(evidence, before, version.criteria, version.activated_at),
            )
        )
    return changes


def in_week(moment: datetime, week: Period) -> bool:
    assert week.start is not None and week.end is not None
    return week.start <= moment.date() < week.end


# ---------------------------------------------------------------- wins


WINS_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.Int64(),
    "closed_at": pl.Datetime("us"),
    "amount": pl.Float64(),
    "rep": pl.String(),
    "team": pl.String(),
    "source": pl.String(),
    "campaign": pl.String(),
    "days_from_mql": pl.Float64(),
}


def wins(leads: pl.DataFrame, people: pl.DataFrame, week: Period) -> pl.DataFrame:
    """Deals won in the week, biggest first, each crediting the rep and the source and campaign that
    brought the lead."""
    names = people.select(pl.col("user_id").alias("owner_id"), pl.col("name").alias("rep"), "team")
    return (
        leads.filter(in_period(pl.col("closed_at"), week) & (pl.col("outcome") == "won"))
        .join(names, on="owner_id", how="left")
        .select(
            pl.col("id").alias("lead_id"),
            "closed_at",
            "amount",
            "rep",
            "team",
            "source",
            "campaign",
            ((pl.col("closed_at") - pl.col("mql_at")).dt.total_hours() / 24).alias("days_from_mql"),
        )
        .sort(["amount", "lead_id"], descending=[True, False], nulls_last=True)
        .cast(WINS_SCHEMA)  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- handoff answers


@dataclass(frozen=True)
class HandoffWeek:
    """What sales answered in the week (core/handoff.py): the leads recycled and rejected with their
    reasons, and the recycled leads that came back as MQLs and were won in the week."""

    nurture: pl.DataFrame  # core.handoff.nurture_list with `owner` and `answered by` named
    counts: NurtureCounts
    came_back_won: pl.DataFrame  # lead_id, owner, amount, recycled_at, closed_at
    by_team: pl.DataFrame  # core.handoff.answer_shares of the week's MQLs per team, with the team's name


def _named(frame: pl.DataFrame, people: pl.DataFrame, column: str, alias: str) -> pl.DataFrame:
    names = people.select(pl.col("user_id").alias(column), pl.col("name").alias(alias))
    return frame.join(names, on=column, how="left", maintain_order="left").with_columns(
        pl.col(alias).fill_null("(no owner)" if column == "owner_id" else "(unknown)")
    )


def handoff_week(
    answers: pl.DataFrame, leads: pl.DataFrame, people: pl.DataFrame, week: Period, *, today: date
) -> HandoffWeek:
    """The week's handoff answers; a lead's come-back date is judged on `today`."""
    nurture = nurture_list(answers, leads, week, today)
    named = _named(_named(nurture, people, "owner_id", "owner"), people, "answered_by", "answered by")
    won = came_back_and_won(returns(answers, leads, today), week)
    return HandoffWeek(
        nurture=named.select(
            "lead_id", "status", "reason", "come_back_on", "owner", "answered by", "answered_at"
        ),
        counts=nurture_counts(nurture),
        came_back_won=_named(won, people, "owner_id", "owner").select(
            "lead_id", "owner", "amount", "recycled_at", "closed_at"
        ),
        by_team=_team_names(answer_shares(answers, leads, week, by="team_id"), people),
    )


def _team_names(shares: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    teams = people.select("team_id", "team").drop_nulls("team_id").unique("team_id")
    named = shares.join(teams, on="team_id", how="left", maintain_order="left")
    return named.select(pl.col("team").fill_null("(no team)"), pl.exclude("team_id", "team"))


# ---------------------------------------------------------------- sales content


@dataclass(frozen=True)
class ContentTables:
    """The content frames the week's Content section reads, of core.content's schemas (db/content_frames.py
    loads them; the opportunities and people are not needed here)."""

    assets: pl.DataFrame
    versions: pl.DataFrame
    uses: pl.DataFrame
    ratings: pl.DataFrame
    requests: pl.DataFrame


def content_week(tables: ContentTables, week: Period, *, today: date) -> WeekContent:
    """The week's Content section (core.content.week_content): what was added and replaced in the week,
    used most in it and rated lowest by its end; the open requests and the never-used share as of `today`
    (the meeting discusses what is open now)."""
    assert week.start is not None and week.end is not None
    return week_content(
        tables.assets,
        tables.versions,
        tables.uses,
        tables.ratings,
        tables.requests,
        week_start=week.start,
        week_end=week.end,
        today=today,
    )


def no_content_yet(content: WeekContent) -> bool:
    """Nothing in the library (no live asset) and nothing asked for: the section says how to start."""
    return content.never_used.den == 0 and content.open_requests.is_empty()


# ---------------------------------------------------------------- the whole meeting


@dataclass(frozen=True)
class WeeklySync:
    week: str
    period: Period
    funnel: FunnelWeek
    sla: Scorecard
    breaches: pl.DataFrame  # the scorecard's breaches with the owner's name
    breaches_by_owner: pl.DataFrame
    quality: LeadQuality
    changes: list[CriteriaChange]
    wins: pl.DataFrame
    handoffs: HandoffWeek
    content: WeekContent | None = None  # None: the content was not read (a caller that does not show it)


def with_owner_names(frame: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    names = people.select(pl.col("user_id").alias("owner_id"), pl.col("name").alias("owner"))
    named = frame.join(names, on="owner_id", how="left").with_columns(pl.col("owner").fill_null("(no owner)"))
    return named.select("owner", *[c for c in frame.columns if c != "owner_id"])


def weekly_sync(
    week: str,
    *,
    leads: pl.DataFrame,
    ratings: pl.DataFrame,
    people: pl.DataFrame,
    agreements: Agreements,
    changes: list[CriteriaChange],
    now: datetime,
    answers: pl.DataFrame | None = None,
    content: ContentTables | None = None,
) -> WeeklySync:
    """The week's meeting, judged at `now`; `answers` (core.handoff.ANSWERS_SCHEMA, none given: none yet)
    count as first touches for speed to lead and make the handoff part; `content` makes the Content part
    (none given: the sync has none)."""
    period = week_period(week)
    given = empty_answers() if answers is None else answers
    card = scorecard(
        leads, ratings, period, as_of=judged_at(period, now), agreements=agreements, answers=given
    )
    return WeeklySync(
        week=week,
        period=period,
        funnel=funnel_week(leads, period, today=now.date()),
        sla=card,
        breaches=with_owner_names(card.breaches, people),
        breaches_by_owner=with_owner_names(card.by_owner, people),
        quality=lead_quality(leads, ratings, period),
        changes=changes,
        wins=wins(leads, people, period),
        handoffs=handoff_week(given, leads, people, period, today=now.date()),
        content=None if content is None else content_week(content, period, today=now.date()),
    )
