"""The lead-feedback loop's pure parts: the reasons a rep can give, a rep's queue of MQLs to rate, and
the coverage and calibration views (docs/METRICS.md, "Lead-quality feedback" and the SLA)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from core.kpis import in_period
from core.periods import Period
from core.stats import rate
from core.tuning import calibrated_ratings

REASONS: dict[str, str] = {
    "good_fit": "Good fit",
    "wrong_persona": "Wrong persona",
    "too_small": "Too small",
    "no_budget": "No budget",
    "no_authority": "No authority",
    "no_need_or_timing": "No need or bad timing",
    "bad_contact_data": "Bad contact data",
    "duplicate": "Duplicate",
}
EDIT_DAYS = 14  # a rating can be changed for this long after it was first given
# After the agreed rating days an unrated MQL stays in the rating queue this much longer (an admin sets it
# with the SLA); past that it leaves the queue and counts as missed.
RATING_GRACE_DAYS = 14
MAX_RATING_GRACE_DAYS = 365
STARS = (1, 2, 3, 4, 5)
RATINGS_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.Int64(),
    "rater_id": pl.Int64(),
    "stars": pl.Int64(),
    "reasons": pl.List(pl.String()),
    "created_at": pl.Datetime("us"),
}


def can_still_change(first_rated_at: datetime, now: datetime) -> bool:
    return now - first_rated_at <= timedelta(days=EDIT_DAYS)


def queue_cutoff(now: datetime, window_days: int) -> datetime:
    """The oldest MQL moment still inside the rating window: an MQL exactly `window_days` old is in it."""
    return now - timedelta(days=window_days)


def _unrated_by(
    leads: pl.DataFrame, ratings: pl.DataFrame, rater_id: int, owner_ids: list[int]
) -> pl.DataFrame:
    mine = ratings.filter(pl.col("rater_id") == rater_id).select(pl.col("lead_id").alias("id"))
    return leads.filter(pl.col("mql_at").is_not_null() & pl.col("owner_id").is_in(owner_ids)).join(
        mine, on="id", how="anti"
    )


def rating_queue(
    leads: pl.DataFrame,
    ratings: pl.DataFrame,
    *,
    rater_id: int,
    owner_ids: list[int],
    now: datetime,
    follow_up_hours: int,
    window_days: int,
) -> pl.DataFrame:
    """The MQLs owned by `owner_ids` that `rater_id` has not rated yet and that are still inside the
    rating window (the agreed rating days plus the grace: `window_days`), the longest-waiting first (the
    SLA clock runs from the MQL), with `hours_waiting` and `overdue` past the agreed follow-up hours.
    Older ones left the queue: a judgement that late teaches the learner little (see left_the_queue)."""
    waiting = (pl.lit(now) - pl.col("mql_at")).dt.total_seconds() / 3600
    return (
        _unrated_by(leads, ratings, rater_id, owner_ids)
        .filter(pl.col("mql_at") >= queue_cutoff(now, window_days))
        .with_columns(waiting.alias("hours_waiting"))
        .with_columns((pl.col("hours_waiting") > follow_up_hours).alias("overdue"))
        .sort(["mql_at", "id"])
    )


def left_the_queue(
    leads: pl.DataFrame,
    ratings: pl.DataFrame,
    *,
    rater_id: int,
    owner_ids: list[int],
    now: datetime,
    window_days: int,
) -> int:
    """How many MQLs of `owner_ids` that `rater_id` never rated are older than the rating window."""
    unrated = _unrated_by(leads, ratings, rater_id, owner_ids)
    return unrated.filter(pl.col("mql_at") < queue_cutoff(now, window_days)).height


def _with_rate(frame: pl.DataFrame, num: str, den: str, prefix: str) -> pl.DataFrame:
    rates = [rate(n, d) for n, d in frame.select(num, den).iter_rows()]
    return frame.with_columns(
        pl.Series(f"{prefix}share", [r.value for r in rates], dtype=pl.Float64),
        pl.Series(f"{prefix}ci_low", [r.ci_low for r in rates], dtype=pl.Float64),
        pl.Series(f"{prefix}ci_high", [r.ci_high for r in rates], dtype=pl.Float64),
    )


def rating_coverage(
    leads: pl.DataFrame,
    ratings: pl.DataFrame,
    period: Period,
    *,
    rating_days: int,
    grace_days: int,
    now: datetime,
    by: str,
) -> pl.DataFrame:
    """Per owner_id or team_id: MQLs of the period, how many their owner's side rated within
    `rating_days` of the MQL (share, ci_low, ci_high), and how many nobody rated and are older than the
    rating window at `now` (rating days plus `grace_days`): missed, they left the rating queue unrated
    (missed_share, missed_ci_low, missed_ci_high)."""
    first = ratings.group_by("lead_id").agg(pl.col("created_at").min().alias("first_rated_at"))
    in_time = pl.col("first_rated_at") <= pl.col("mql_at") + timedelta(days=rating_days)
    missed = pl.col("first_rated_at").is_null() & (
        pl.col("mql_at") < queue_cutoff(now, rating_days + grace_days)
    )
    grouped = (
        leads.filter(in_period(pl.col("mql_at"), period))
        .join(first, left_on="id", right_on="lead_id", how="left")
        .group_by(pl.col(by).alias("key"))
        .agg(
            pl.len().cast(pl.Int64).alias("mqls"),
            in_time.fill_null(False).sum().cast(pl.Int64).alias("rated"),
            missed.sum().cast(pl.Int64).alias("missed"),
        )
        .sort("key", nulls_last=True)
    )
    covered = _with_rate(grouped, "rated", "mqls", "")
    return _with_rate(covered, "missed", "mqls", "missed_")


def rater_calibration(ratings: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Per rater: how many ratings, how many of each star, the mean, and the offset from their team's
    mean that the tuning corrects for (core.tuning.calibrated_ratings)."""
    if ratings.is_empty():
        return pl.DataFrame(
            schema={
                "rater_id": pl.Int64,
                "ratings": pl.Int64,
                **{f"stars_{s}": pl.Int64 for s in STARS},
                "mean": pl.Float64,
                "offset": pl.Float64,
            }
        )
    calibrated = calibrated_ratings(ratings.select("lead_id", "rater_id", "stars"), people)
    return (
        calibrated.group_by("rater_id")
        .agg(
            pl.len().cast(pl.Int64).alias("ratings"),
            *[(pl.col("stars") == s).sum().cast(pl.Int64).alias(f"stars_{s}") for s in STARS],
            pl.col("stars").mean().alias("mean"),
            pl.col("offset").first(),
        )
        .sort("rater_id")
    )


def top_reasons(ratings: pl.DataFrame, period: Period, limit: int = 8) -> pl.DataFrame:
    """The reasons given most in ratings made inside the period: reason, label, count, share of those
    ratings that gave it."""
    inside = ratings.filter(in_period(pl.col("created_at"), period))
    if inside.is_empty():
        return pl.DataFrame(
            schema={"reason": pl.String, "label": pl.String, "count": pl.Int64, "share": pl.Float64}
        )
    counts = (
        inside.select(pl.col("reasons").explode().alias("reason"))
        .drop_nulls()
        .group_by("reason")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .sort(["count", "reason"], descending=[True, False])
        .head(limit)
    )
    return counts.with_columns(
        pl.col("reason").replace_strict(REASONS, default=pl.col("reason")).alias("label"),
        (pl.col("count") / inside.height).alias("share"),
    ).select("reason", "label", "count", "share")
