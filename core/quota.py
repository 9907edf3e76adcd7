"""Quota attainment, the win-rate trend, the sales cycle and the leaderboard, per docs/METRICS.md.

Quotas are per rep or per team, for a month or a quarter (`period_end` is the last day, included). A
team's quota is its own where an admin set one for that month, else the sum of its reps' quotas; the
company's is the sum over its teams and the reps without a team, so nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from core.funnel import trend_buckets
from core.kpis import LeadsFrame, in_period, stage_time
from core.periods import Period, from_inclusive
from core.stats import Rate, rate

GRAINS = ("month", "quarter")
COMPANY = "company"

ATTAINMENT_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.Int64(),
    "name": pl.String(),
    "team_id": pl.Int64(),
    "team": pl.String(),
    "quota": pl.Float64(),
    "revenue": pl.Float64(),
    "attainment": pl.Float64(),
    "won": pl.Int64(),
    "closed": pl.Int64(),
}


@dataclass(frozen=True)
class Scope:
    """Whose numbers: the company, one team or one rep."""

    level: str  # "company", "team" or "rep"
    id: int | None = None
    label: str = "Company"


def _start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _won(leads: LeadsFrame) -> pl.LazyFrame:
    """Won deals: who owned them, which team, when, how much."""
    return (
        leads.lazy()
        .filter(stage_time("won").is_not_null())
        .select("owner_id", "team_id", "closed_at", pl.col("amount").fill_null(0.0))
    )


def overlapping(quotas: pl.DataFrame, period: Period) -> pl.DataFrame:
    """The quota rows whose days overlap the period."""
    overlaps = pl.lit(True)
    if period.end is not None:
        overlaps = overlaps & (pl.col("period_start") < period.end)
    if period.start is not None:
        overlaps = overlaps & (pl.col("period_end") >= period.start)
    return quotas.filter(overlaps)


def _revenue_inside_quotas(won: pl.LazyFrame, quotas: pl.DataFrame, key: str, on: str) -> pl.LazyFrame:
    """Per `key` (user_id or team_id): revenue of the deals won inside each of its quota rows' days."""
    windows = quotas.lazy().select(
        pl.col(key),
        pl.col("period_start").cast(pl.Datetime("us")).alias("window_start"),
        (pl.col("period_end") + timedelta(days=1)).cast(pl.Datetime("us")).alias("window_end"),
    )
    return (
        windows.join(won, left_on=key, right_on=on, how="inner")
        .filter(pl.col("closed_at") >= pl.col("window_start"), pl.col("closed_at") < pl.col("window_end"))
        .group_by(key)
        .agg(pl.col("amount").sum().alias("revenue"), pl.len().cast(pl.Int64).alias("won"))
    )


def _closed_in(leads: LeadsFrame, period: Period, key: str) -> pl.LazyFrame:
    """Per owner or team: deals closed (won or lost) inside the period, for the win rate beside revenue."""
    closed = in_period(stage_time("won"), period) | in_period(stage_time("lost"), period)
    return (
        leads.lazy()
        .filter(closed & pl.col(key).is_not_null())
        .group_by(key)
        .agg(pl.len().cast(pl.Int64).alias("closed"), stage_time("won").is_not_null().sum().alias("won_in"))
    )


def rep_attainment(
    leads: LeadsFrame, quotas: pl.DataFrame, people: pl.DataFrame, period: Period
) -> pl.DataFrame:
    """One row per rep with a quota overlapping the period: quota, revenue won inside those quota periods,
    attainment (null for a zero quota), and deals won and closed inside the period for the win rate."""
    reps = overlapping(quotas.filter(pl.col("user_id").is_not_null()), period)
    if reps.is_empty():
        return pl.DataFrame(schema=ATTAINMENT_SCHEMA)
    per_rep = reps.group_by("user_id").agg(pl.col("amount").sum().alias("quota"))
    revenue = _revenue_inside_quotas(_won(leads), reps, "user_id", "owner_id")
    closed = _closed_in(leads, period, "owner_id").rename({"owner_id": "user_id"})
    names = people.select("user_id", "name", "team_id", "team")
    return (
        per_rep.lazy()
        .join(revenue, on="user_id", how="left")
        .join(closed, on="user_id", how="left")
        .join(names.lazy(), on="user_id", how="left")
        .select(
            "user_id",
            pl.col("name").fill_null("(unknown rep)"),
            "team_id",
            "team",
            "quota",
            pl.col("revenue").fill_null(0.0),
            pl.when(pl.col("quota") > 0)
            .then(pl.col("revenue").fill_null(0.0) / pl.col("quota"))
            .alias("attainment"),
            pl.col("won_in").fill_null(0).cast(pl.Int64).alias("won"),
            pl.col("closed").fill_null(0),
        )
        .collect()
        .sort(["attainment", "name"], descending=[True, False], nulls_last=True)
        .cast(ATTAINMENT_SCHEMA)  # type: ignore[arg-type]
    )


def team_attainment(
    leads: LeadsFrame, quotas: pl.DataFrame, people: pl.DataFrame, period: Period
) -> pl.DataFrame:
    """One row per team: its own quota where one is set for these days (revenue of the team's deals won
    inside it), else the sum of its reps' rows. Columns as rep_attainment, user_id null."""
    own = overlapping(quotas.filter(pl.col("team_id").is_not_null()), period)
    teams = people.select("team_id", "team").drop_nulls("team_id").unique("team_id")
    closed = _closed_in(leads, period, "team_id")
    explicit = (
        own.group_by("team_id")
        .agg(pl.col("amount").sum().alias("quota"))
        .lazy()
        .join(_revenue_inside_quotas(_won(leads), own, "team_id", "team_id"), on="team_id", how="left")
        .join(closed, on="team_id", how="left")
        .select(
            "team_id",
            "quota",
            pl.col("revenue").fill_null(0.0),
            pl.col("won_in").fill_null(0).cast(pl.Int64).alias("won"),
            pl.col("closed").fill_null(0).cast(pl.Int64),
        )
        .collect()
    )
    from_reps = (
        rep_attainment(leads, quotas, people, period)
        .filter(pl.col("team_id").is_not_null() & ~pl.col("team_id").is_in(explicit["team_id"].to_list()))
        .group_by("team_id")
        .agg(pl.col("quota").sum(), pl.col("revenue").sum(), pl.col("won").sum(), pl.col("closed").sum())
    )
    rows = pl.concat([explicit, from_reps.select(explicit.columns)], how="vertical_relaxed")
    return (
        rows.join(teams, on="team_id", how="left")
        .select(
            pl.lit(None, dtype=pl.Int64).alias("user_id"),
            pl.col("team").fill_null("(unknown team)").alias("name"),
            "team_id",
            pl.col("team").fill_null("(unknown team)"),
            "quota",
            "revenue",
            pl.when(pl.col("quota") > 0).then(pl.col("revenue") / pl.col("quota")).alias("attainment"),
            "won",
            "closed",
        )
        .sort(["attainment", "name"], descending=[True, False], nulls_last=True)
        .cast(ATTAINMENT_SCHEMA)  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Attainment:
    quota: float | None  # None: no quota overlaps the period
    revenue: float  # won inside the quota periods (a month's quota counts the whole month's deals)
    window: Period | None = None  # from the first quota period's first day to the last one's end

    @property
    def share(self) -> float | None:
        return None if not self.quota else self.revenue / self.quota


def company_attainment(
    leads: LeadsFrame, quotas: pl.DataFrame, people: pl.DataFrame, period: Period
) -> Attainment:
    """The company's quota and revenue: every team's row plus the reps without a team."""
    teams = team_attainment(leads, quotas, people, period)
    teamless = rep_attainment(leads, quotas, people, period).filter(pl.col("team_id").is_null())
    rows = pl.concat([teams, teamless])
    if rows.is_empty():
        return Attainment(quota=None, revenue=0.0)
    return Attainment(
        quota=float(rows["quota"].sum()),
        revenue=float(rows["revenue"].sum()),
        window=quota_window(quotas, period),
    )


def team_target(
    leads: LeadsFrame, quotas: pl.DataFrame, people: pl.DataFrame, period: Period, team_id: int
) -> Attainment:
    """One team's quota and revenue for the period (the team rule of the module docstring)."""
    row = team_attainment(leads, quotas, people, period).filter(pl.col("team_id") == team_id)
    if row.is_empty():
        return Attainment(quota=None, revenue=0.0)
    members = people.filter(pl.col("team_id") == team_id).get_column("user_id").to_list()
    own = quotas.filter((pl.col("team_id") == team_id) | pl.col("user_id").is_in(members))
    return Attainment(
        quota=float(row["quota"][0]), revenue=float(row["revenue"][0]), window=quota_window(own, period)
    )


def scope_target(
    leads: LeadsFrame, quotas: pl.DataFrame, people: pl.DataFrame, period: Period, scope: Scope
) -> Attainment:
    """The company's, a team's or a rep's quota and revenue for the period."""
    if scope.level == "company":
        return company_attainment(leads, quotas, people, period)
    if scope.level == "team" and scope.id is not None:
        return team_target(leads, quotas, people, period, scope.id)
    row = rep_attainment(leads, quotas, people, period).filter(pl.col("user_id") == scope.id)
    if row.is_empty():
        return Attainment(quota=None, revenue=0.0)
    rep_quotas = quotas.filter(pl.col("user_id") == scope.id)
    return Attainment(
        quota=float(row["quota"][0]),
        revenue=float(row["revenue"][0]),
        window=quota_window(rep_quotas, period),
    )


def quota_window(quotas: pl.DataFrame, period: Period) -> Period | None:
    """The days the quotas overlapping the period cover: "this week" may be judged against a month."""
    rows = overlapping(quotas, period)
    if rows.is_empty():
        return None
    first, last = rows["period_start"].min(), rows["period_end"].max()
    assert isinstance(first, date) and isinstance(last, date)
    window = from_inclusive(first, last)
    return Period(window.start, window.end, _calendar_label(first, last) or window.label)


def _calendar_label(first: date, last: date) -> str | None:
    """ "November 2026" or "Q4 2026" when the days are exactly that month or quarter."""
    after = last + timedelta(days=1)
    if first.day != 1 or after.day != 1:
        return None
    months = (after.year - first.year) * 12 + after.month - first.month
    if months == 1:
        return f"{first:%B %Y}"
    if months == 3 and first.month % 3 == 1:
        return f"Q{(first.month - 1) // 3 + 1} {first.year}"
    return None


def monthly_quotas(quotas: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Each quota spread evenly over the calendar months it covers: user_id, team_id (the rep's team for
    a rep's quota), month, amount. A quarter's quota of 30,000 is 10,000 a month."""
    if quotas.is_empty():
        return pl.DataFrame(
            schema={"user_id": pl.Int64, "team_id": pl.Int64, "month": pl.Date, "amount": pl.Float64}
        )
    rep_team = people.select("user_id", pl.col("team_id").alias("rep_team"))
    months = quotas.with_columns(
        pl.date_ranges(
            pl.col("period_start").dt.month_start(), pl.col("period_end").dt.month_start(), "1mo"
        ).alias("month")
    )
    return (
        months.with_columns(pl.col("month").list.len().alias("months"))
        .explode("month")
        .join(rep_team, on="user_id", how="left")
        .select(
            "user_id",
            pl.coalesce("team_id", "rep_team").alias("team_id"),
            "month",
            (pl.col("amount") / pl.col("months")).alias("amount"),
            pl.col("user_id").is_null().alias("team_quota"),
        )
    )


def _scope_quota_months(months: pl.DataFrame, scope: Scope) -> pl.DataFrame:
    """month -> quota for the scope, with the team rule of the module docstring applied per month."""
    if scope.level == "rep":
        chosen = months.filter(pl.col("user_id") == scope.id)
        return chosen.group_by("month").agg(pl.col("amount").sum().alias("quota"))
    if scope.level == "team":
        months = months.filter(pl.col("team_id") == scope.id)
    per_team = months.group_by("team_id", "month").agg(
        pl.when(pl.col("team_quota").any())
        .then(pl.col("amount").filter(pl.col("team_quota")).sum())
        .otherwise(pl.col("amount").sum())
        .alias("quota")
    )
    return per_team.group_by("month").agg(pl.col("quota").sum())


def scope_leads(leads: LeadsFrame, scope: Scope) -> pl.LazyFrame:
    if scope.level == "rep":
        return leads.lazy().filter(pl.col("owner_id") == scope.id)
    if scope.level == "team":
        return leads.lazy().filter(pl.col("team_id") == scope.id)
    return leads.lazy()


def _bucket(day: pl.Expr, grain: str) -> pl.Expr:
    return day.dt.truncate("1mo" if grain == "month" else "1q").cast(pl.Date)


def attainment_by_bucket(
    leads: LeadsFrame,
    quotas: pl.DataFrame,
    people: pl.DataFrame,
    scope: Scope,
    *,
    last_day: date,
    grain: str,
    count: int = 6,
) -> pl.DataFrame:
    """Revenue and quota per month or quarter for the `count` buckets ending with the one holding
    `last_day`: columns bucket (first day), revenue, quota (null where none was set), attainment."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}")
    first = _quarter_or_month_starts(last_day, grain, count)
    start, end = _start(first[0]), _start(last_day + timedelta(days=1))
    revenue = (
        _won(scope_leads(leads, scope))
        .filter(pl.col("closed_at") >= start, pl.col("closed_at") < end)
        .group_by(_bucket(pl.col("closed_at"), grain).alias("bucket"))
        .agg(pl.col("amount").sum().alias("revenue"))
        .collect()
    )
    quota = (
        _scope_quota_months(monthly_quotas(quotas, people), scope)
        .group_by(_bucket(pl.col("month"), grain).alias("bucket"))
        .agg(pl.col("quota").sum())
    )
    return (
        pl.DataFrame({"bucket": first}, schema={"bucket": pl.Date})
        .join(revenue, on="bucket", how="left")
        .join(quota, on="bucket", how="left")
        .select(
            "bucket",
            pl.col("revenue").fill_null(0.0),
            "quota",
            pl.when(pl.col("quota") > 0)
            .then(pl.col("revenue").fill_null(0.0) / pl.col("quota"))
            .alias("attainment"),
        )
    )


def bucket_period(start: date, grain: str) -> Period:
    """The month or quarter starting on `start`, as a period."""
    months = 1 if grain == "month" else 3
    index = start.month - 1 + months
    end = date(start.year + index // 12, index % 12 + 1, 1)
    label = f"{start:%B %Y}" if months == 1 else f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return Period(start, end, label)


def _quarter_or_month_starts(last_day: date, grain: str, count: int) -> list[date]:
    if grain == "month":
        return trend_buckets(last_day, "month", count)
    quarter = date(last_day.year, (last_day.month - 1) // 3 * 3 + 1, 1)
    starts = []
    for _ in range(count):
        starts.append(quarter)
        month = quarter.month - 3
        quarter = date(quarter.year, month, 1) if month >= 1 else date(quarter.year - 1, month + 12, 1)
    return list(reversed(starts))


def win_rate_trend(leads: LeadsFrame, *, last_day: date, grain: str, count: int = 13) -> pl.DataFrame:
    """Per week or month: deals won and closed (won + lost) by close date, the win rate with its 95%
    Wilson interval (null where nothing closed), and the median sales cycle of that bucket's won deals."""
    buckets = trend_buckets(last_day, grain, count)
    start, end = _start(buckets[0]), _start(last_day + timedelta(days=1))
    truncate = "1w" if grain == "week" else "1mo"
    cycle_from = _cycle_from(leads)
    counted = (
        leads.lazy()
        .filter(
            pl.col("outcome").is_in(["won", "lost"]), pl.col("closed_at") >= start, pl.col("closed_at") < end
        )
        .group_by(pl.col("closed_at").dt.truncate(truncate).cast(pl.Date).alias("bucket"))
        .agg(
            (pl.col("outcome") == "won").sum().cast(pl.Int64).alias("won"),
            pl.len().cast(pl.Int64).alias("closed"),
            _cycle_days(cycle_from).filter(pl.col("outcome") == "won").median().alias("cycle_days"),
        )
        .collect()
    )
    grid = pl.DataFrame({"bucket": buckets}, schema={"bucket": pl.Date}).join(
        counted, on="bucket", how="left"
    )
    grid = grid.with_columns(pl.col("won").fill_null(0), pl.col("closed").fill_null(0))
    rates = [rate(w, c) for w, c in zip(grid["won"].to_list(), grid["closed"].to_list(), strict=True)]
    return grid.with_columns(
        pl.Series("win_rate", [r.value for r in rates], dtype=pl.Float64),
        pl.Series("ci_low", [r.ci_low for r in rates], dtype=pl.Float64),
        pl.Series("ci_high", [r.ci_high for r in rates], dtype=pl.Float64),
    ).select("bucket", "won", "closed", "win_rate", "ci_low", "ci_high", "cycle_days")


def _cycle_from(leads: LeadsFrame) -> str:
    """The sales cycle starts at the opportunity, or at the MQL where the data never opens one."""
    has_opportunity = leads.lazy().select(pl.col("opportunity_at").is_not_null().any()).collect().item()
    return "opportunity_at" if has_opportunity else "mql_at"


def _cycle_days(cycle_from: str) -> pl.Expr:
    return (pl.col("closed_at") - pl.col(cycle_from)).dt.total_seconds() / 86_400


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    who: str
    team: str | None
    attainment: float | None
    revenue: float | None  # None when hidden from this viewer
    quota: float | None
    win_rate: Rate | None
    is_viewer: bool


def leaderboard(reps: pl.DataFrame, *, viewer_id: int | None, names_shown: bool) -> list[LeaderboardRow]:
    """Reps ranked by attainment (ties share a rank). With `names_shown` False (a rep looking) the others
    are only their rank and attainment: the viewer finds themselves without anyone being named."""
    ranked = reps.sort(
        ["attainment", "revenue", "name"], descending=[True, True, False], nulls_last=True
    ).with_columns(
        pl.col("attainment").fill_null(-1.0).rank("min", descending=True).cast(pl.Int64).alias("rank")
    )
    rows = []
    for row in ranked.iter_rows(named=True):
        mine = row["user_id"] == viewer_id
        shown = names_shown or mine
        rows.append(
            LeaderboardRow(
                rank=int(row["rank"]),
                who=("You" if mine else row["name"]) if shown else "Another rep",
                team=row["team"] if shown else None,
                attainment=row["attainment"],
                revenue=row["revenue"] if shown else None,
                quota=row["quota"] if shown else None,
                win_rate=rate(row["won"], row["closed"]) if shown else None,
                is_viewer=mine,
            )
        )
    return rows
