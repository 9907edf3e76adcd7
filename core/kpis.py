"""Funnel numbers per docs/METRICS.md: flow counts, cohort conversion, win rate, revenue, cycle.

Every function takes a leads frame of core.schema.LEADS_SCHEMA (eager or lazy). Flow counts say how many
leads reached a stage inside a period; conversion follows a cohort; the two are never divided into
each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from core.periods import Period
from core.schema import STAGE_COLUMN as STAGE_TIME
from core.schema import STAGES as FUNNEL_STAGES
from core.stats import Rate, rate

LeadsFrame = pl.DataFrame | pl.LazyFrame
FLOW_KEYS: dict[str, str] = {
    "leads": "created",
    "mql": "mql",
    "sql": "sql",
    "opportunity": "opportunity",
    "won": "won",
    "lost": "won",  # lost deals exist exactly when closed deals do
}
CONVERSIONS: dict[str, tuple[str, str]] = {
    "mql_to_sql": ("mql", "sql"),
    "sql_to_opportunity": ("sql", "opportunity"),
    "opportunity_to_won": ("opportunity", "won"),
    "mql_to_won": ("mql", "won"),
}
NONE_KEY = "(none)"


@dataclass(frozen=True)
class Conversion:
    from_stage: str
    to_stage: str
    rate: Rate
    maturing: bool
    median_lag_days: float | None


@dataclass(frozen=True)
class Headline:
    period: Period
    stages: dict[str, int | None]
    revenue: float
    win_rate: Rate
    conversion: dict[str, Conversion | None]
    sales_cycle_days: float | None


def _lazy(leads: LeadsFrame) -> pl.LazyFrame:
    return leads.lazy() if isinstance(leads, pl.DataFrame) else leads


def stage_time(stage: str) -> pl.Expr:
    """When a lead reached `stage`; for "won" the close time of won deals only."""
    if stage == "won":
        return pl.when(pl.col("outcome") == "won").then(pl.col("closed_at"))
    if stage == "lost":
        return pl.when(pl.col("outcome") == "lost").then(pl.col("closed_at"))
    return pl.col(STAGE_TIME[stage])


def stages_present(leads: LeadsFrame) -> dict[str, bool]:
    row = (
        _lazy(leads)
        .select(
            *[pl.col(STAGE_TIME[s]).is_not_null().any().alias(s) for s in FUNNEL_STAGES if s != "won"],
            (pl.col("closed_at").is_not_null() & pl.col("outcome").is_not_null()).any().alias("won"),
        )
        .collect()
        .row(0, named=True)
    )
    return {stage: bool(row[stage]) for stage in FUNNEL_STAGES}


def records_losses(leads: LeadsFrame) -> bool:
    """Whether the data can say a deal was lost. Olist's export keeps only the deals it closed, so
    there a win rate would read 100%: it is "not in this data", never a number. No leads at all is
    not evidence either way."""
    lazy = _lazy(leads)
    row = (
        lazy.select(pl.len().alias("n"), (pl.col("outcome") == "lost").any().alias("lost"))
        .collect()
        .row(0, named=True)
    )
    return int(row["n"]) == 0 or bool(row["lost"])


def in_period(expr: pl.Expr, period: Period) -> pl.Expr:
    inside = expr.is_not_null()
    if period.start is not None:
        inside = inside & (expr >= datetime.combine(period.start, datetime.min.time()))
    if period.end is not None:
        inside = inside & (expr < datetime.combine(period.end, datetime.min.time()))
    return inside


def _flow_exprs(period: Period) -> list[pl.Expr]:
    return [
        in_period(stage_time(stage), period).sum().alias(f"flow_{key}")
        for key, stage in {**FLOW_KEYS, "lost": "lost"}.items()
    ]


def _money_exprs(period: Period, cycle_from: str) -> list[pl.Expr]:
    won_inside = in_period(stage_time("won"), period)
    closed = won_inside & pl.col(STAGE_TIME[cycle_from]).is_not_null()
    # Calendar days between the two dates, as people count "days to close" (not 24-hour blocks); the
    # rows filtered first, so only the won deals' dates are converted.
    cycle_days = (
        pl.col("closed_at").filter(closed).dt.date() - pl.col(STAGE_TIME[cycle_from]).filter(closed).dt.date()
    ).dt.total_days()
    return [
        pl.col("amount").filter(won_inside).sum().alias("revenue"),
        cycle_days.median().alias("sales_cycle_days"),
    ]


def conversion_exprs(key: str, a: str, b: str, period: Period, window_days: int | None) -> list[pl.Expr]:
    a_time, b_time = stage_time(a), stage_time(b)
    cohort = in_period(a_time, period)
    reached = b_time.is_not_null()
    if window_days is not None:
        reached = reached & ((b_time - a_time) <= timedelta(days=window_days))
    return [
        cohort.sum().alias(f"{key}_den"),
        (cohort & reached).sum().alias(f"{key}_num"),
        a_time.filter(cohort).max().alias(f"{key}_last_entry"),
    ]


def lag_days(a: str, b: str) -> pl.Expr:
    """Days from A to B (fractional) of every lead that reached both; the rows filtered before the
    arithmetic, which gives the same values as computing on every row and skipping the nulls."""
    a_time, b_time = stage_time(a), stage_time(b)
    both = a_time.is_not_null() & b_time.is_not_null()
    return (b_time.filter(both) - a_time.filter(both)).dt.total_seconds() / 86_400


def _lag_exprs() -> list[pl.Expr]:
    """Median A->B lag over every lead that reached both, whatever the period (for 'still maturing')."""
    return [lag_days(a, b).median().alias(f"{key}_lag") for key, (a, b) in CONVERSIONS.items()]


def is_maturing(last_entry: datetime | None, period: Period, lag_days: float | None, today: date) -> bool:
    """A cohort is still maturing while the median A->B lag has not passed since it closed."""
    if lag_days is None or last_entry is None:
        return False
    cohort_end = last_entry.date()
    if period.last_day is not None:
        cohort_end = min(cohort_end, period.last_day)
    return (today - cohort_end).days < lag_days


def _cycle_start(present: dict[str, bool]) -> str:
    return "opportunity" if present["opportunity"] else "mql"


def _headline_exprs(period: Period, present: dict[str, bool], window_days: int | None) -> list[pl.Expr]:
    exprs = [*_flow_exprs(period), *_money_exprs(period, _cycle_start(present))]
    for key, (a, b) in CONVERSIONS.items():
        exprs += conversion_exprs(key, a, b, period, window_days)
    return exprs


def _headline_from_row(
    row: dict[str, object],
    lags: dict[str, object],
    period: Period,
    present: dict[str, bool],
    today: date,
) -> Headline:
    stages: dict[str, int | None] = {
        key: int(row[f"flow_{key}"]) if present[stage] else None  # type: ignore[call-overload]
        for key, stage in FLOW_KEYS.items()
    }
    won, lost = int(row["flow_won"]), int(row["flow_lost"])  # type: ignore[call-overload]
    conversion: dict[str, Conversion | None] = {}
    for key, (a, b) in CONVERSIONS.items():
        if not (present[a] and present[b]):
            conversion[key] = None
            continue
        lag = lags[f"{key}_lag"]
        lag_days = float(lag) if lag is not None else None  # type: ignore[arg-type]
        conversion[key] = Conversion(
            from_stage=a,
            to_stage=b,
            rate=rate(int(row[f"{key}_num"]), int(row[f"{key}_den"])),  # type: ignore[call-overload]
            maturing=is_maturing(row[f"{key}_last_entry"], period, lag_days, today),  # type: ignore[arg-type]
            median_lag_days=lag_days,
        )
    cycle = row["sales_cycle_days"]
    return Headline(
        period=period,
        stages=stages,
        revenue=float(row["revenue"] or 0.0),  # type: ignore[arg-type]
        win_rate=rate(won, won + lost),
        conversion=conversion,
        sales_cycle_days=float(cycle) if cycle is not None else None,  # type: ignore[arg-type]
    )


def headline(leads: LeadsFrame, period: Period, *, today: date, window_days: int | None = None) -> Headline:
    """Every headline number of one period, in one pass over the leads."""
    lazy = _lazy(leads)
    present = stages_present(lazy)
    row, lags = pl.collect_all(
        [lazy.select(_headline_exprs(period, present, window_days)), lazy.select(_lag_exprs())]
    )
    return _headline_from_row(row.row(0, named=True), lags.row(0, named=True), period, present, today)


def stage_flow_counts(leads: LeadsFrame, period: Period) -> dict[str, int | None]:
    lazy = _lazy(leads)
    present = stages_present(lazy)
    row = lazy.select(_flow_exprs(period)).collect().row(0, named=True)
    return {key: int(row[f"flow_{key}"]) if present[stage] else None for key, stage in FLOW_KEYS.items()}


def revenue(leads: LeadsFrame, period: Period) -> float:
    won_inside = in_period(stage_time("won"), period)
    value = _lazy(leads).select(pl.col("amount").filter(won_inside).sum()).collect().item()
    return float(value or 0.0)


def win_rate(leads: LeadsFrame, period: Period) -> Rate:
    row = _lazy(leads).select(_flow_exprs(period)).collect().row(0, named=True)
    won, lost = int(row["flow_won"]), int(row["flow_lost"])
    return rate(won, won + lost)


def cohort_conversion(
    leads: LeadsFrame,
    from_stage: str,
    to_stage: str,
    period: Period,
    *,
    today: date,
    window_days: int | None = None,
) -> Conversion | None:
    """Of the leads that reached `from_stage` inside the period, the share that reached `to_stage`."""
    lazy = _lazy(leads)
    present = stages_present(lazy)
    if not (present[from_stage] and present[to_stage]):
        return None
    key = "x"
    lag = lag_days(from_stage, to_stage).median().alias("lag")
    counts, lags = pl.collect_all(
        [
            lazy.select(conversion_exprs(key, from_stage, to_stage, period, window_days)),
            lazy.select(lag),
        ]
    )
    row = counts.row(0, named=True)
    lag_value = lags.item()
    median_lag = float(lag_value) if lag_value is not None else None
    return Conversion(
        from_stage=from_stage,
        to_stage=to_stage,
        rate=rate(int(row[f"{key}_num"]), int(row[f"{key}_den"])),
        maturing=is_maturing(row[f"{key}_last_entry"], period, median_lag, today),
        median_lag_days=median_lag,
    )


def sales_cycle_days(leads: LeadsFrame, period: Period) -> float | None:
    """Median days from opportunity (or MQL where the data has no opportunity stage) to a won close."""
    lazy = _lazy(leads)
    start = _cycle_start(stages_present(lazy))
    value = lazy.select(_money_exprs(period, start)[1]).collect().item()
    return float(value) if value is not None else None


def _calendar_buckets(period: Period, leads: pl.LazyFrame, every: str) -> list[Period]:
    """Month or quarter periods covering every event date inside `period`."""
    times = [STAGE_TIME[s] for s in FUNNEL_STAGES]
    bounds = leads.select(
        pl.min_horizontal([pl.col(t).min() for t in times]).alias("first"),
        pl.max_horizontal([pl.col(t).max() for t in times]).alias("last"),
    ).collect()
    first, last = bounds.row(0)
    if first is None:
        return []
    first_day = max(first.date(), period.start) if period.start else first.date()
    last_day = min(last.date(), period.last_day) if period.last_day else last.date()
    return _buckets_between(first_day, last_day, 1 if every == "month" else 3, period)


def _buckets_between(first: date, last: date, months: int, period: Period) -> list[Period]:
    start = date(first.year, ((first.month - 1) // months) * months + 1, 1)
    buckets = []
    while start <= last:
        month_index = start.month - 1 + months
        end = date(start.year + month_index // 12, month_index % 12 + 1, 1)
        clipped = Period(
            max(start, period.start) if period.start else start,
            min(end, period.end) if period.end else end,
            _bucket_label(start, months),
        )
        buckets.append(clipped)
        start = end
    return buckets


def _bucket_label(start: date, months: int) -> str:
    return f"{start:%Y-%m}" if months == 1 else f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def headline_by(
    leads: LeadsFrame,
    period: Period,
    by: str,
    *,
    today: date,
    window_days: int | None = None,
) -> list[tuple[str, Headline]]:
    """Headline numbers per group: a column's values, or calendar months/quarters.

    For months and quarters each number is bucketed by the date of its own event (flows by that stage's
    time, win rate and revenue by close, conversion by the cohort's entry), as a calendar report reads.
    """
    lazy = _lazy(leads)
    if by in ("month", "quarter"):
        return [
            (bucket.label, headline(lazy, bucket, today=today, window_days=window_days))
            for bucket in _calendar_buckets(period, lazy, by)
        ]
    present = stages_present(lazy)
    key = pl.col(by).cast(pl.String).fill_null(NONE_KEY).alias("key")
    grouped = lazy.with_columns(key)
    rows, lags = pl.collect_all(
        [
            grouped.group_by("key").agg(_headline_exprs(period, present, window_days)).sort("key"),
            grouped.group_by("key").agg(_lag_exprs()),
        ]
    )
    lag_by_key = {r["key"]: r for r in lags.iter_rows(named=True)}
    result = [
        (str(r["key"]), _headline_from_row(r, lag_by_key[r["key"]], period, present, today))
        for r in rows.iter_rows(named=True)
    ]
    return [(k, h) for k, h in result if _has_activity(h)]


def _has_activity(h: Headline) -> bool:
    counted = [v for v in h.stages.values() if v]
    dens = [c.rate.den for c in h.conversion.values() if c is not None]
    return bool(counted) or any(dens)
