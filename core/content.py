"""The numbers of sales content (issue 14), pure polars over the frames db/content_frames.py loads: how much
of the library is used, by whom, whether it helped, what is stale, what is asked for, and its association
with won deals. Every rate carries its numerator, denominator and 95% interval (core/stats.py).

Days: "the last 90 days" as of `today` are the 90 calendar days ending with `today` (today - 89 .. today,
both included). Datetimes are naive UTC, as in every frame of core.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import polars as pl

from core.stats import SMALL_SAMPLE, Z_95, Rate, rate, wilson_interval

__all__ = [
    "ASSETS_SCHEMA",
    "CONTENT_REASONS",
    "INFLUENCE_CAPTION",
    "KIND_LABEL",
    "OPPORTUNITIES_SCHEMA",
    "RATINGS_SCHEMA",
    "REQUESTS_SCHEMA",
    "REVIEW_DAYS",
    "SMALL_SAMPLE",
    "USED_WINDOW_DAYS",
    "USES_SCHEMA",
    "VERSIONS_SCHEMA",
    "WeekContent",
    "helped_by_asset",
    "influence",
    "never_used",
    "open_requests",
    "stale_assets",
    "unused_recently",
    "use_by_team_and_rep",
    "used_share",
    "week_content",
]

USED_WINDOW_DAYS = 90
REVIEW_DAYS = 180
HELPED_STARS = 4  # 4-5 stars: it helped
OUT_OF_DATE = "out_of_date"
OPEN_STATUSES = ("open", "accepted", "in_progress")  # not yet answered with an asset or declined
UNKNOWN = "unknown"  # a segment value the lead does not have
WEEK_TOP = 5  # rows per list in the weekly sync

CONTENT_REASONS: dict[str, str] = {
    "won_trust": "Won trust",
    "answered_objection": "Answered an objection",
    "wrong_persona": "Wrong persona",
    "out_of_date": "Out of date",
    "too_long": "Too long",
    "missing_data": "Missing data",
}

# Keyed by db.models.ContentKind's string values (core does not import db).
KIND_LABEL: dict[str, str] = {
    "case_study": "Case study",
    "deck": "Deck",
    "one_pager": "One-pager",
    "email_template": "Email template",
    "battle_card": "Battle card",
    "video": "Video",
    "other": "Other",
}

INFLUENCE_CAPTION = (
    "Association, not proof: reps choose which asset to send to which deal, so a higher win rate where an "
    "asset was used may come from the deals it was chosen for rather than from the asset. The comparison "
    "holds closed opportunities of the same segment (industry × company size) and quarter where the asset "
    "was not used, weighted to the used deals' mix."
)

# ---------------------------------------------------------------- the frames

_LIST = pl.List(pl.String())
ASSETS_SCHEMA: dict[str, pl.DataType] = {
    "asset_id": pl.Int64(),
    "title": pl.String(),
    "kind": pl.String(),
    "stages": _LIST,
    "personas": _LIST,
    "industries": _LIST,
    "company_sizes": _LIST,
    "owner_id": pl.Int64(),
    "last_reviewed_on": pl.Date(),
    "current_version": pl.Int64(),
    "archived_at": pl.Datetime("us"),
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
}
VERSIONS_SCHEMA: dict[str, pl.DataType] = {
    "asset_id": pl.Int64(),
    "version": pl.Int64(),
    "created_at": pl.Datetime("us"),
}
USES_SCHEMA: dict[str, pl.DataType] = {
    "asset_id": pl.Int64(),
    "lead_id": pl.Int64(),
    "user_id": pl.Int64(),
    "used_at": pl.Datetime("us"),
}
RATINGS_SCHEMA: dict[str, pl.DataType] = {  # the current ratings (one per asset, lead and rater)
    "asset_id": pl.Int64(),
    "lead_id": pl.Int64(),
    "rater_id": pl.Int64(),
    "stars": pl.Int64(),
    "reasons": _LIST,
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
}
REQUESTS_SCHEMA: dict[str, pl.DataType] = {
    "request_id": pl.Int64(),
    "what": pl.String(),
    "kind": pl.String(),
    "persona": pl.String(),
    "stage": pl.String(),
    "industry": pl.String(),
    "lead_id": pl.Int64(),
    "requested_by_id": pl.Int64(),
    "status": pl.String(),
    "created_at": pl.Datetime("us"),
    "answered_at": pl.Datetime("us"),
    "votes": pl.Int64(),  # other people's votes; the requester's own ask is not one
}
OPPORTUNITIES_SCHEMA: dict[str, pl.DataType] = {  # leads on which a deal was opened
    "lead_id": pl.Int64(),
    "opportunity_at": pl.Datetime("us"),
    "closed_at": pl.Datetime("us"),
    "outcome": pl.String(),
    "amount": pl.Float64(),
    "industry": pl.String(),
    "company_size": pl.String(),
    "owner_id": pl.Int64(),
    "team_id": pl.Int64(),
}


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min)


def _window(today: date) -> tuple[datetime, datetime]:
    """[first moment, end) of the USED_WINDOW_DAYS days ending with `today`."""
    return _start(today - timedelta(days=USED_WINDOW_DAYS - 1)), _start(today + timedelta(days=1))


def _live(assets: pl.DataFrame, today: date) -> pl.DataFrame:
    """The assets that exist and are not archived at the end of `today`."""
    end = _start(today + timedelta(days=1))
    return assets.filter(
        (pl.col("created_at") < end) & (pl.col("archived_at").is_null() | (pl.col("archived_at") >= end))
    )


def _age_days(column: str, today: date) -> pl.Expr:
    return (pl.lit(today) - pl.col(column).cast(pl.Date)).dt.total_days().cast(pl.Int64)


# ---------------------------------------------------------------- used


def used_share(assets: pl.DataFrame, uses: pl.DataFrame, *, today: date) -> Rate:
    """Live assets used at least once in the last 90 days ÷ live assets."""
    live = _live(assets, today)
    start, end = _window(today)
    used = uses.filter((pl.col("used_at") >= start) & (pl.col("used_at") < end)).get_column("asset_id")
    return rate(int(live.get_column("asset_id").is_in(used.unique().implode()).sum()), live.height)


def _last_use(uses: pl.DataFrame, today: date) -> pl.DataFrame:
    end = _start(today + timedelta(days=1))
    return (
        uses.filter(pl.col("used_at") < end)
        .group_by("asset_id")
        .agg(pl.col("used_at").max().alias("last_used_at"), pl.len().alias("uses_ever"))
    )


def never_used(assets: pl.DataFrame, uses: pl.DataFrame, *, today: date) -> pl.DataFrame:
    """Live assets nobody has used yet, the oldest first: asset_id, title, kind, created_at, age_days."""
    live = _live(assets, today)
    return (
        live.join(_last_use(uses, today), on="asset_id", how="anti")
        .select("asset_id", "title", "kind", "created_at", _age_days("created_at", today).alias("age_days"))
        .sort(["age_days", "asset_id"], descending=[True, False])
    )


def unused_recently(assets: pl.DataFrame, uses: pl.DataFrame, *, today: date) -> pl.DataFrame:
    """Live assets used before but not in the last 90 days, the longest unused first: asset_id, title,
    kind, created_at, age_days, last_used_at, days_since_use."""
    start, _ = _window(today)
    return (
        _live(assets, today)
        .join(_last_use(uses, today), on="asset_id", how="inner")
        .filter(pl.col("last_used_at") < start)
        .select(
            "asset_id",
            "title",
            "kind",
            "created_at",
            _age_days("created_at", today).alias("age_days"),
            "last_used_at",
            _age_days("last_used_at", today).alias("days_since_use"),
        )
        .sort(["days_since_use", "asset_id"], descending=[True, False])
    )


USE_SCHEMA: dict[str, pl.DataType] = {
    "level": pl.String(),
    "team_id": pl.Int64(),
    "team": pl.String(),
    "user_id": pl.Int64(),
    "name": pl.String(),
    "uses": pl.Int64(),
    "assets": pl.Int64(),
    "leads": pl.Int64(),
}


def use_by_team_and_rep(uses: pl.DataFrame, people: pl.DataFrame, *, today: date) -> pl.DataFrame:
    """Use in the last 90 days per team and per rep: level ("team" or "rep"), team_id, team, user_id
    (null on a team row), name, uses, assets (distinct), leads (distinct). A team row counts its reps'
    uses; distinct assets and leads are counted over the team (not summed over its reps). Someone with no
    team is under team null, "(no team)". Each team's row comes first, then its reps by uses."""
    start, end = _window(today)
    who = people.select("user_id", "name", "team_id", "team")
    recent = (
        uses.filter((pl.col("used_at") >= start) & (pl.col("used_at") < end))
        .select("asset_id", "lead_id", "user_id")
        .join(who, on="user_id", how="left")
        .with_columns(pl.col("team").fill_null("(no team)"))
    )
    counts = [
        pl.len().cast(pl.Int64).alias("uses"),
        pl.col("asset_id").n_unique().cast(pl.Int64).alias("assets"),
        pl.col("lead_id").n_unique().cast(pl.Int64).alias("leads"),
    ]
    reps = recent.group_by("team_id", "team", "user_id").agg(pl.col("name").first(), *counts)
    teams = recent.group_by("team_id", "team").agg(*counts)
    schema = pl.Schema(USE_SCHEMA)
    both = pl.concat(
        [
            teams.with_columns(
                pl.lit("team").alias("level"),
                pl.lit(None, pl.Int64).alias("user_id"),
                pl.col("team").alias("name"),
            )
            .select(list(schema))
            .cast(schema),
            reps.with_columns(pl.lit("rep").alias("level")).select(list(schema)).cast(schema),
        ]
    )
    team_uses = teams.select("team", pl.col("uses").alias("_team_uses"))
    return (
        both.join(team_uses, on="team", how="left")
        .sort(["_team_uses", "team", "level", "uses", "name"], descending=[True, False, True, True, False])
        .drop("_team_uses")
    )


# ---------------------------------------------------------------- helped?


def _with_interval(frame: pl.DataFrame, num: str, den: str, prefix: str = "") -> pl.DataFrame:
    """`frame` with share, low and high of num/den (the Wilson 95% interval; null where den is 0)."""
    bounds = [
        wilson_interval(int(n), int(d)) if d else (None, None)
        for n, d in zip(frame.get_column(num), frame.get_column(den), strict=True)
    ]
    return frame.with_columns(
        pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).alias(f"{prefix}share"),
        pl.Series(f"{prefix}low", [b[0] for b in bounds], dtype=pl.Float64),
        pl.Series(f"{prefix}high", [b[1] for b in bounds], dtype=pl.Float64),
    )


def helped_by_asset(ratings: pl.DataFrame) -> pl.DataFrame:
    """Per asset rated: n (current ratings), helped (4-5 stars), share, low, high (95% Wilson) and
    small_sample (n under 30); the least helpful first."""
    per_asset = ratings.group_by("asset_id").agg(
        pl.len().cast(pl.Int64).alias("n"),
        (pl.col("stars") >= HELPED_STARS).sum().cast(pl.Int64).alias("helped"),
    )
    return (
        _with_interval(per_asset, "helped", "n")
        .with_columns((pl.col("n") < SMALL_SAMPLE).alias("small_sample"))
        .sort(["share", "n", "asset_id"], descending=[False, True, False])
    )


# ---------------------------------------------------------------- stale


def stale_assets(
    assets: pl.DataFrame, ratings: pl.DataFrame, *, today: date, review_days: int = REVIEW_DAYS
) -> pl.DataFrame:
    """Live assets that a current rating calls out of date, or whose last review (the day it was added
    when never reviewed) is more than `review_days` days before `today`: asset_id, title, kind,
    reviewed_on, never_reviewed, days_since_review, past_review, out_of_date (how many current ratings
    give the reason). Most out-of-date ratings first, then the longest unreviewed."""
    flagged = (
        ratings.filter(pl.col("reasons").list.contains(OUT_OF_DATE))
        .group_by("asset_id")
        .agg(pl.len().cast(pl.Int64).alias("out_of_date"))
    )
    return (
        _live(assets, today)
        .join(flagged, on="asset_id", how="left")
        .with_columns(
            pl.coalesce(pl.col("last_reviewed_on"), pl.col("created_at").cast(pl.Date)).alias("reviewed_on"),
            pl.col("last_reviewed_on").is_null().alias("never_reviewed"),
            pl.col("out_of_date").fill_null(0),
        )
        .with_columns(_age_days("reviewed_on", today).alias("days_since_review"))
        .with_columns((pl.col("days_since_review") > review_days).alias("past_review"))
        .filter((pl.col("out_of_date") > 0) | pl.col("past_review"))
        .select(
            "asset_id",
            "title",
            "kind",
            "reviewed_on",
            "never_reviewed",
            "days_since_review",
            "past_review",
            "out_of_date",
        )
        .sort(["out_of_date", "days_since_review", "asset_id"], descending=[True, True, False])
    )


# ---------------------------------------------------------------- requests


def open_requests(requests: pl.DataFrame, *, today: date) -> pl.DataFrame:
    """Requests not yet answered (open, accepted or in progress), the most voted first and, at equal
    votes, the oldest: every column of the frame plus age_days (days since asked). Votes are other
    people's; the requester's own ask is not counted as a vote (the order would not change if it were)."""
    return (
        requests.filter(pl.col("status").is_in(OPEN_STATUSES))
        .with_columns(_age_days("created_at", today).alias("age_days"), pl.col("votes").fill_null(0))
        .sort(["votes", "age_days", "request_id"], descending=[True, True, False])
    )


# ---------------------------------------------------------------- influence on revenue

INFLUENCE_SCHEMA: dict[str, pl.DataType] = {
    "asset_id": pl.Int64(),
    "used_n": pl.Int64(),
    "used_won": pl.Int64(),
    "used_rate": pl.Float64(),
    "used_low": pl.Float64(),
    "used_high": pl.Float64(),
    "comparison_n": pl.Int64(),
    "comparison_won": pl.Int64(),
    "comparison_raw_rate": pl.Float64(),
    "comparison_rate": pl.Float64(),
    "comparison_low": pl.Float64(),
    "comparison_high": pl.Float64(),
    "difference": pl.Float64(),
    "strata": pl.Int64(),
    "used_unmatched": pl.Int64(),
    "small_sample": pl.Boolean(),
}


def _closed(opportunities: pl.DataFrame) -> pl.DataFrame:
    """Closed opportunities with their stratum: same stage reached (every one is an opportunity), segment
    (industry × company size, null as "unknown") and the calendar quarter the opportunity opened in."""
    return opportunities.filter(
        pl.col("opportunity_at").is_not_null()
        & pl.col("closed_at").is_not_null()
        & pl.col("outcome").is_in(["won", "lost"])
    ).select(
        "lead_id",
        "closed_at",
        (pl.col("outcome") == "won").cast(pl.Int64).alias("won"),
        pl.concat_str(
            pl.col("industry").fill_null(UNKNOWN),
            pl.col("company_size").fill_null(UNKNOWN),
            pl.col("opportunity_at").dt.year().cast(pl.String),
            pl.col("opportunity_at").dt.quarter().cast(pl.String),
            separator="|",
        ).alias("stratum"),
    )


def influence(opportunities: pl.DataFrame, uses: pl.DataFrame) -> pl.DataFrame:
    """Per asset used on a closed opportunity (a use of it on the lead at or before the deal closed): the
    win rate of those deals against comparable closed deals where it was not used.

    Matched: only the strata (segment × quarter, see _closed) that hold both deals where the asset was
    used and deals where it was not count; used deals in a stratum with no comparison are left out of both
    sides (used_unmatched says how many). The comparison's win rate is standardised to the used deals'
    stratum mix: Σ w_s·p_s with w_s = used deals in s ÷ used deals, p_s = the stratum's comparison win
    rate; its 95% interval is the normal approximation p ± 1.96·√(Σ w_s²·p_s(1-p_s)/n_s) clipped to [0, 1]
    (n_s = the stratum's comparison deals). comparison_raw_rate is the comparison's plain wins ÷ deals.
    used_rate has the Wilson interval. small_sample: either side under 30 deals. Sorted by difference,
    largest first."""
    closed = _closed(opportunities)
    totals = closed.group_by("stratum").agg(pl.len().alias("total_n"), pl.col("won").sum().alias("total_won"))
    used = (
        uses.group_by("asset_id", "lead_id")
        .agg(pl.col("used_at").min())
        .join(closed, on="lead_id", how="inner")
        .filter(pl.col("used_at") <= pl.col("closed_at"))
        .group_by("asset_id", "stratum")
        .agg(pl.len().alias("u_n"), pl.col("won").sum().alias("u_won"))
        .join(totals, on="stratum", how="left")
        .with_columns(
            (pl.col("total_n") - pl.col("u_n")).alias("c_n"),
            (pl.col("total_won") - pl.col("u_won")).alias("c_won"),
        )
    )
    unmatched = (
        used.filter(pl.col("c_n") == 0).group_by("asset_id").agg(pl.col("u_n").sum().alias("used_unmatched"))
    )
    strata = (
        used.filter(pl.col("c_n") > 0)
        .with_columns((pl.col("u_n") / pl.col("u_n").sum().over("asset_id")).alias("w"))
        .with_columns((pl.col("c_won") / pl.col("c_n")).alias("p"))
    )
    per_asset = strata.group_by("asset_id").agg(
        pl.col("u_n").sum().cast(pl.Int64).alias("used_n"),
        pl.col("u_won").sum().cast(pl.Int64).alias("used_won"),
        pl.col("c_n").sum().cast(pl.Int64).alias("comparison_n"),
        pl.col("c_won").sum().cast(pl.Int64).alias("comparison_won"),
        (pl.col("w") * pl.col("p")).sum().alias("comparison_rate"),
        (pl.col("w") ** 2 * pl.col("p") * (1 - pl.col("p")) / pl.col("c_n")).sum().alias("_variance"),
        pl.len().cast(pl.Int64).alias("strata"),
    )
    assets = pl.concat([per_asset.select("asset_id"), unmatched.select("asset_id")], how="vertical").unique()
    half = Z_95 * pl.col("_variance").sqrt()
    joined = (
        assets.join(per_asset, on="asset_id", how="left")
        .join(unmatched, on="asset_id", how="left")
        .with_columns(
            pl.col(
                "used_n", "used_won", "comparison_n", "comparison_won", "strata", "used_unmatched"
            ).fill_null(0)
        )
    )
    result = (
        _with_interval(joined, "used_won", "used_n", prefix="used_")
        .rename({"used_share": "used_rate"})
        .with_columns(
            pl.when(pl.col("comparison_n") > 0)
            .then(pl.col("comparison_won") / pl.col("comparison_n"))
            .alias("comparison_raw_rate"),
            (pl.col("comparison_rate") - half).clip(0.0, 1.0).alias("comparison_low"),
            (pl.col("comparison_rate") + half).clip(0.0, 1.0).alias("comparison_high"),
            ((pl.col("used_n") < SMALL_SAMPLE) | (pl.col("comparison_n") < SMALL_SAMPLE)).alias(
                "small_sample"
            ),
            (pl.col("used_rate") - pl.col("comparison_rate")).alias("difference"),
        )
    )
    return (
        result.select(list(INFLUENCE_SCHEMA))
        .cast(INFLUENCE_SCHEMA)  # type: ignore[arg-type]
        .sort(["difference", "used_n", "asset_id"], descending=[True, True, False], nulls_last=True)
    )


# ---------------------------------------------------------------- the weekly sync


@dataclass(frozen=True)
class WeekContent:
    """The weekly sync's Content section.

    new_assets / updated_assets: asset_id, title, kind, at (added / last changed in the week); an asset
    added in the week is new only. most_used: asset_id, title, kind, uses, leads, reps (uses logged in
    the week), most first. lowest_rated: helped_by_asset's columns with title and kind, the lowest
    helped share first (current ratings given by the week's end). open_requests: open_requests' rows.
    never_used: live assets never used ÷ live assets; used: used_share as of `today`."""

    new_assets: pl.DataFrame
    updated_assets: pl.DataFrame
    most_used: pl.DataFrame
    lowest_rated: pl.DataFrame
    open_requests: pl.DataFrame
    never_used: Rate
    used: Rate


def week_content(
    assets: pl.DataFrame,
    versions: pl.DataFrame,
    uses: pl.DataFrame,
    ratings: pl.DataFrame,
    requests: pl.DataFrame,
    *,
    week_start: date,
    week_end: date,
    today: date,
) -> WeekContent:
    """The week [week_start, week_end) (week_end is the first day after it, as core.periods.Period)."""
    start, end = _start(week_start), _start(week_end)

    def inside(column: str) -> pl.Expr:
        return (pl.col(column) >= start) & (pl.col(column) < end)

    names = assets.select("asset_id", "title", "kind")
    new = assets.filter(inside("created_at")).select(
        "asset_id", "title", "kind", pl.col("created_at").alias("at")
    )
    replaced = (
        versions.filter(inside("created_at") & (pl.col("version") > 1))
        .group_by("asset_id")
        .agg(pl.col("created_at").max().alias("replaced_at"))
    )
    updated = (
        assets.join(replaced, on="asset_id", how="left")
        .filter(~inside("created_at") & (inside("updated_at") | pl.col("replaced_at").is_not_null()))
        .select(
            "asset_id",
            "title",
            "kind",
            pl.max_horizontal(
                pl.when(inside("updated_at")).then(pl.col("updated_at")), pl.col("replaced_at")
            ).alias("at"),
        )
        .sort("at", descending=True)
    )
    most_used = (
        uses.filter(inside("used_at"))
        .group_by("asset_id")
        .agg(
            pl.len().cast(pl.Int64).alias("uses"),
            pl.col("lead_id").n_unique().cast(pl.Int64).alias("leads"),
            pl.col("user_id").n_unique().cast(pl.Int64).alias("reps"),
        )
        .join(names, on="asset_id", how="left")
        .sort(["uses", "asset_id"], descending=[True, False])
        .head(WEEK_TOP)
        .select("asset_id", "title", "kind", "uses", "leads", "reps")
    )
    lowest = (
        helped_by_asset(ratings.filter(pl.col("created_at") < end))
        .join(names, on="asset_id", how="left")
        .head(WEEK_TOP)
    )
    live = _live(assets, today)
    ever = live.get_column("asset_id").is_in(uses.get_column("asset_id").unique().implode())
    return WeekContent(
        new_assets=new.sort("at", descending=True),
        updated_assets=updated,
        most_used=most_used,
        lowest_rated=lowest,
        open_requests=open_requests(requests, today=today).head(WEEK_TOP),
        never_used=rate(int((~ever).sum()), live.height),
        used=used_share(assets, uses, today=today),
    )
