"""Counts over time: how many leads reached each stage per week."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from core.kpis import LeadsFrame, stage_time
from core.schema import STAGE_LABEL

TREND_STAGES = ("created", "mql", "won")


def latest_event_day(leads: LeadsFrame) -> date | None:
    """The last day anything happened in the data (imports of old exports end long before today)."""
    columns = ("created_at", "mql_at", "sql_at", "opportunity_at", "closed_at")
    value = leads.lazy().select(pl.max_horizontal([pl.col(c).max() for c in columns])).collect().item()
    return value.date() if value is not None else None


def last_complete_week_end(day: date) -> date:
    """The Sunday that ends the last full week on or before `day` (a partial week would look like a drop)."""
    return day if day.weekday() == 6 else day - timedelta(days=day.weekday() + 1)


def weekly_flow(leads: LeadsFrame, *, last_day: date, weeks: int = 13) -> pl.DataFrame:
    """Flow counts per ISO week (Monday start) for the `weeks` weeks ending with the week of `last_day`."""
    first_monday = last_day - timedelta(days=last_day.weekday()) - timedelta(weeks=weeks - 1)
    start = datetime.combine(first_monday, datetime.min.time())
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time())
    lazy = leads.lazy()
    parts = [
        lazy.select(stage_time(stage).alias("at"))
        .filter(pl.col("at").is_between(start, end, closed="left"))
        .select(
            pl.col("at").dt.truncate("1w").dt.date().alias("week"), pl.lit(STAGE_LABEL[stage]).alias("stage")
        )
        for stage in TREND_STAGES
    ]
    counts = pl.concat(parts).group_by("week", "stage").agg(pl.len().cast(pl.Int64).alias("count"))
    grid = pl.LazyFrame({"week": pl.date_range(first_monday, last_day, "1w", eager=True)}).join(
        pl.LazyFrame({"stage": [STAGE_LABEL[s] for s in TREND_STAGES]}), how="cross"
    )
    return (
        grid.join(counts, on=["week", "stage"], how="left")
        .with_columns(pl.col("count").fill_null(0))
        .sort("stage", "week")
        .collect()
    )
