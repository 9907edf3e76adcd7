"""The Funnel page's numbers: flow counts from website sessions to won deals, cohort conversion between
each pair of stages, stage velocity, trends and breakdowns, all per docs/METRICS.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

import polars as pl

from core.kpis import (
    NONE_KEY,
    Conversion,
    LeadsFrame,
    conversion_exprs,
    in_period,
    is_maturing,
    lag_days,
    stage_time,
    stages_present,
)
from core.periods import Period
from core.schema import STAGE_LABEL
from core.stats import rate

STEPS: tuple[str, ...] = ("created", "mql", "sql", "opportunity", "won")
PAIRS: tuple[tuple[str, str], ...] = tuple(pairwise(STEPS))
BREAKDOWNS: dict[str, str] = {
    "source": "Source",
    "campaign": "Campaign",
    "industry": "Industry",
    "company_size": "Company size",
    "team": "Team",
    "owner": "Owner",
}
GRAINS = ("week", "month")


def pair_key(a: str, b: str) -> str:
    return f"{a}_to_{b}"


@dataclass(frozen=True)
class Funnel:
    period: Period
    traffic: int | None  # website sessions in the period; None when the data has no traffic series
    counts: dict[str, int | None]  # flow count per step; None for a stage the data lacks
    conversions: dict[str, Conversion | None]  # per pair_key; None when either stage is missing
    velocity_days: dict[str, float | None]  # per pair_key: median days A->B for leads reaching B in P

    @property
    def missing(self) -> list[str]:
        return [STAGE_LABEL[s] for s, n in self.counts.items() if n is None]


def sessions_in(traffic: pl.DataFrame, period: Period) -> int | None:
    if traffic.is_empty():
        return None
    days = pl.col("day")
    inside = days.is_not_null()
    if period.start is not None:
        inside = inside & (days >= period.start)
    if period.end is not None:
        inside = inside & (days < period.end)
    return int(traffic.select(pl.col("sessions").filter(inside).sum()).item() or 0)


def _velocity_exprs(period: Period) -> list[pl.Expr]:
    """Calendar days from A to B, over the leads that reached B inside the period (how long the
    stage took for what arrived now)."""
    exprs = []
    for a, b in PAIRS:
        a_time, b_time = stage_time(a), stage_time(b)
        arrived = in_period(b_time, period) & a_time.is_not_null()
        # Filter before the date arithmetic: the same values, a fraction of the rows to convert.
        days = (b_time.filter(arrived).dt.date() - a_time.filter(arrived).dt.date()).dt.total_days()
        exprs.append(days.median().alias(f"{pair_key(a, b)}_velocity"))
    return exprs


def _lag_exprs() -> list[pl.Expr]:
    return [lag_days(a, b).median().alias(f"{pair_key(a, b)}_lag") for a, b in PAIRS]


def _flow_exprs(period: Period) -> list[pl.Expr]:
    return [in_period(stage_time(s), period).sum().alias(f"flow_{s}") for s in STEPS]


def funnel(
    leads: LeadsFrame,
    traffic: pl.DataFrame,
    period: Period,
    *,
    today: date,
    window_days: int | None = None,
) -> Funnel:
    """Every number of the funnel for one period, in one pass over the leads."""
    return funnels(leads, traffic, [period], today=today, window_days=window_days)[0]


def funnels(
    leads: LeadsFrame,
    traffic: pl.DataFrame,
    periods: Sequence[Period],
    *,
    today: date,
    window_days: int | None = None,
) -> list[Funnel]:
    """funnel() for each period (say the chosen one and its comparison), in one query: the stages the data
    has and the median lags, which no period changes, are worked out once."""
    lazy = leads.lazy()
    present = stages_present(lazy)
    selects = []
    for period in periods:
        exprs = [*_flow_exprs(period), *_velocity_exprs(period)]
        for a, b in PAIRS:
            exprs += conversion_exprs(pair_key(a, b), a, b, period, window_days)
        selects.append(lazy.select(exprs))
    *row_frames, lag_frame = pl.collect_all([*selects, lazy.select(_lag_exprs())])
    lags = lag_frame.row(0, named=True)
    return [
        _funnel_from_row(row_frame.row(0, named=True), lags, traffic, period, present, today)
        for row_frame, period in zip(row_frames, periods, strict=True)
    ]


def _funnel_from_row(
    row: dict[str, Any],
    lags: dict[str, Any],
    traffic: pl.DataFrame,
    period: Period,
    present: dict[str, bool],
    today: date,
) -> Funnel:
    conversions: dict[str, Conversion | None] = {}
    velocity: dict[str, float | None] = {}
    for a, b in PAIRS:
        key = pair_key(a, b)
        if not (present[a] and present[b]):
            conversions[key], velocity[key] = None, None
            continue
        lag = lags[f"{key}_lag"]
        conversions[key] = Conversion(
            from_stage=a,
            to_stage=b,
            rate=rate(int(row[f"{key}_num"]), int(row[f"{key}_den"])),
            maturing=is_maturing(row[f"{key}_last_entry"], period, lag, today),
            median_lag_days=float(lag) if lag is not None else None,
        )
        velocity[key] = float(row[f"{key}_velocity"]) if row[f"{key}_velocity"] is not None else None
    return Funnel(
        period=period,
        traffic=sessions_in(traffic, period),
        counts={s: int(row[f"flow_{s}"]) if present[s] else None for s in STEPS},
        conversions=conversions,
        velocity_days=velocity,
    )


def funnel_steps(result: Funnel) -> pl.DataFrame:
    """The bars of the funnel chart: stage label and flow count, missing stages left out. Website
    sessions are not a bar: a thousand times the leads, they would flatten every other bar to a line."""
    rows = [(STAGE_LABEL[s], n) for s, n in result.counts.items() if n is not None]
    return pl.DataFrame(rows, schema={"stage": pl.String, "count": pl.Int64}, orient="row")


def with_names(leads: LeadsFrame, people: pl.DataFrame, by: str) -> pl.LazyFrame:
    """Leads with a text column `by` to group on: the team's or owner's name instead of an id."""
    lazy = leads.lazy()
    if by == "team":
        names = people.select("team_id", pl.col("team")).drop_nulls("team_id").unique("team_id")
        return lazy.join(names.lazy(), on="team_id", how="left")
    if by == "owner":
        names = people.select(pl.col("user_id").alias("owner_id"), pl.col("name").alias("owner"))
        return lazy.join(names.lazy(), on="owner_id", how="left")
    return lazy


def _share(num: str, den: str) -> pl.Expr:
    """num / den, or null when nothing is in the denominator (never NaN)."""
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))


def breakdown(
    leads: LeadsFrame,
    people: pl.DataFrame,
    period: Period,
    by: str,
) -> pl.DataFrame:
    """One row per value of `by`: flow counts, revenue, MQL->SQL and opportunity->won conversion and
    win rate, each rate with its numerator and denominator. Groups with nothing in the period are
    left out; a blank value is its own group, "(none)"."""
    if by not in BREAKDOWNS:
        raise ValueError(f"cannot break the funnel down by {by!r}; choose one of {', '.join(BREAKDOWNS)}")
    won_inside = in_period(stage_time("won"), period)
    lost_inside = in_period(stage_time("lost"), period)
    mql_cohort = in_period(stage_time("mql"), period)
    # A lead with no stage inside the period adds nothing to any group: leave it out before the join
    # and the grouping (a month is a few percent of the leads). Groups are then the same, and so are
    # their sums, counted over the same rows.
    touched = pl.any_horizontal([in_period(stage_time(s), period) for s in (*STEPS, "lost")])
    lazy = with_names(leads.lazy().filter(touched), people, by).with_columns(
        pl.col(by).cast(pl.String).fill_null(NONE_KEY).alias("key")
    )
    grouped = (
        lazy.group_by("key")
        .agg(
            *[in_period(stage_time(s), period).sum().alias(s) for s in STEPS],
            pl.col("amount").filter(won_inside).sum().alias("revenue"),
            (mql_cohort & stage_time("sql").is_not_null()).sum().alias("mql_to_sql_num"),
            mql_cohort.sum().alias("mql_to_sql_den"),
            won_inside.sum().alias("win_num"),
            (won_inside | lost_inside).sum().alias("win_den"),
        )
        .filter(pl.sum_horizontal([pl.col(s) for s in STEPS]) > 0)
        .collect()
    )
    return grouped.with_columns(
        _share("mql_to_sql_num", "mql_to_sql_den").alias("mql_to_sql"),
        _share("win_num", "win_den").alias("win_rate"),
    ).sort(["created", "key"], descending=[True, False])


def _bucket_start(column: pl.Expr, grain: str) -> pl.Expr:
    return column.dt.truncate("1w" if grain == "week" else "1mo").dt.date()


def trend_buckets(last_day: date, grain: str, count: int = 13) -> list[date]:
    """The first days of the `count` weeks (Monday) or months ending with the one holding `last_day`."""
    if grain == "week":
        monday = last_day - timedelta(days=last_day.weekday())
        return [monday - timedelta(weeks=n) for n in reversed(range(count))]
    if grain == "month":
        starts = []
        year, month = last_day.year, last_day.month
        for _ in range(count):
            starts.append(date(year, month, 1))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return list(reversed(starts))
    raise ValueError(f"grain must be one of {', '.join(GRAINS)}")


def trend(leads: LeadsFrame, *, last_day: date, grain: str, count: int = 13) -> pl.DataFrame:
    """Flow counts of every stage per week or month: columns bucket, stage (label), count. Buckets with
    nothing are zero, stages the data lacks are left out. The last bucket may be partial (it ends on
    `last_day`)."""
    buckets = trend_buckets(last_day, grain, count)
    start = datetime.combine(buckets[0], datetime.min.time())
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time())
    lazy = leads.lazy()
    present = stages_present(lazy)
    stages = [s for s in STEPS if present[s]]
    if not stages:
        return pl.DataFrame(schema={"bucket": pl.Date, "stage": pl.String, "count": pl.Int64})
    parts = [
        lazy.select(stage_time(s).alias("at"))
        .filter(pl.col("at").is_between(start, end, closed="left"))
        .select(_bucket_start(pl.col("at"), grain).alias("bucket"), pl.lit(STAGE_LABEL[s]).alias("stage"))
        for s in stages
    ]
    counts = pl.concat(parts).group_by("bucket", "stage").agg(pl.len().cast(pl.Int64).alias("count"))
    grid = pl.LazyFrame({"bucket": buckets}).join(
        pl.LazyFrame({"stage": [STAGE_LABEL[s] for s in stages]}), how="cross"
    )
    order = {STAGE_LABEL[s]: i for i, s in enumerate(STEPS)}
    return (
        grid.join(counts, on=["bucket", "stage"], how="left")
        .with_columns(pl.col("count").fill_null(0))
        .collect()
        .sort(pl.col("stage").replace_strict(order, return_dtype=pl.Int64), "bucket")
    )


def leads_behind(
    leads: LeadsFrame,
    people: pl.DataFrame,
    period: Period,
    stage: str,
    *,
    by: str | None = None,
    key: str | None = None,
) -> pl.DataFrame:
    """The leads behind a number: those that reached `stage` inside the period (optionally only the
    group `key` of breakdown `by`), newest first, with names instead of ids."""
    lazy = with_names(leads, people, "owner").join(
        people.select("team_id", pl.col("team")).drop_nulls("team_id").unique("team_id").lazy(),
        on="team_id",
        how="left",
    )
    chosen = in_period(stage_time(stage), period)
    if by is not None and key is not None:
        value = pl.col(by).cast(pl.String).fill_null(NONE_KEY)
        chosen = chosen & (value == key)
    return (
        lazy.filter(chosen)
        .with_columns(stage_time(stage).alias("reached_at"))
        .sort("reached_at", descending=True)
        .select(
            "id",
            "source_system",
            "reached_at",
            "created_at",
            "mql_at",
            "sql_at",
            "opportunity_at",
            "closed_at",
            "outcome",
            "amount",
            "owner",
            "team",
            "source",
            "campaign",
            "industry",
            "company_size",
            "country",
        )
        .collect()
    )


SPREADSHEET_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)


def _defused(text: str) -> str:
    return "'" + text if text.startswith(SPREADSHEET_FORMULA_STARTS) else text


def spreadsheet_safe_csv(frame: pl.DataFrame) -> str:
    """CSV of the frame in which no text cell can run as a formula in a spreadsheet: a cell starting with
    = + - @ (or a tab / carriage return) gets a leading apostrophe. Numbers stay numbers."""
    # Categorical and enum cells are text to a spreadsheet too; headers can come from data (a pivot).
    text_columns = [name for name, dtype in frame.schema.items() if isinstance(dtype, TEXT_TYPES)]
    starts = "^[" + "".join("\\" + c if c in "+-" else c for c in SPREADSHEET_FORMULA_STARTS) + "]"
    safe = (
        frame.with_columns(pl.col(text_columns).cast(pl.String))
        .with_columns(
            pl.when(pl.col(c).str.contains(starts))
            .then(pl.lit("'") + pl.col(c))
            .otherwise(pl.col(c))
            .alias(c)
            for c in text_columns
        )
        .rename(_defused)
    )
    return safe.write_csv(datetime_format="%Y-%m-%d %H:%M")
