"""Revenue alignment: revenue against target, the marketing-sourced share of pipeline and revenue,
pipeline coverage of the quota still to reach, and revenue by the source and campaign that brought the
lead, each against the previous period and the same period last year (docs/METRICS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from core.kpis import NONE_KEY, LeadsFrame, in_period, stage_time
from core.periods import Period
from core.quota import Attainment
from core.stats import Rate, rate

# Lead sources that sales brings in itself. METRICS.md says "a marketing channel" without naming them:
# every other named source is marketing's (inbound search, social, email, events, web referrals...), and a
# blank or "unknown" source is nobody's, so it counts in the denominator only.
SALES_SOURCES = frozenset(
    {"outbound", "sales", "sdr", "prospecting", "cold_call", "cold_calling", "self_sourced", "partner"}
)
UNATTRIBUTED = frozenset({"unknown", "other", NONE_KEY.lower(), ""})
REVENUE_BREAKDOWNS: dict[str, str] = {"source": "Source", "campaign": "Campaign"}


def is_marketing_source(source: pl.Expr) -> pl.Expr:
    """True where the lead's source is a marketing channel (see SALES_SOURCES); false for blank."""
    name = source.str.strip_chars().str.to_lowercase()
    return name.is_not_null() & ~name.is_in(list(SALES_SOURCES | UNATTRIBUTED))


@dataclass(frozen=True)
class MoneyShare:
    """A share of money with the deal counts behind it: the amount share has no sampling interval, the
    count share gets its Wilson interval like every rate."""

    amount: float
    total: float
    deals: Rate

    @property
    def value(self) -> float | None:
        return self.amount / self.total if self.total > 0 else None


@dataclass(frozen=True)
class Alignment:
    period: Period
    revenue: float
    won: int
    target: Attainment
    marketing_revenue: MoneyShare
    pipeline_created: MoneyShare  # opportunities opened in the period; amount = marketing-sourced part
    open_pipeline: float  # every opportunity still open (amount), whenever it opened
    open_deals: int
    sources_recorded: bool  # False when no lead has a source: the marketing share cannot be told

    @property
    def remaining(self) -> float | None:
        """Quota still to reach in the quota periods the period falls in (their revenue so far counts)."""
        if self.target.quota is None:
            return None
        return max(self.target.quota - self.target.revenue, 0.0)

    @property
    def coverage(self) -> float | None:
        """Open pipeline ÷ quota still to reach; None without a quota or once the quota is reached."""
        remaining = self.remaining
        return None if not remaining else self.open_pipeline / remaining


def _sum(expr: pl.Expr, name: str) -> pl.Expr:
    return expr.sum().cast(pl.Float64).fill_null(0.0).alias(name)


def alignment(leads: LeadsFrame, period: Period, target: Attainment) -> Alignment:
    """The period's alignment numbers in one pass. `target` is the company's (or the chosen team's)
    quota for the period from core.quota, with the revenue it counts."""
    marketing = is_marketing_source(pl.col("source"))
    won_inside = in_period(stage_time("won"), period)
    opened_inside = in_period(pl.col("opportunity_at"), period)
    is_open = pl.col("opportunity_at").is_not_null() & pl.col("closed_at").is_null()
    amount = pl.col("amount").fill_null(0.0)
    row = (
        leads.lazy()
        .select(
            _sum(amount.filter(won_inside), "revenue"),
            won_inside.sum().alias("won"),
            _sum(amount.filter(won_inside & marketing), "marketing_revenue"),
            (won_inside & marketing).sum().alias("marketing_won"),
            _sum(amount.filter(opened_inside), "pipeline"),
            opened_inside.sum().alias("opened"),
            _sum(amount.filter(opened_inside & marketing), "marketing_pipeline"),
            (opened_inside & marketing).sum().alias("marketing_opened"),
            _sum(amount.filter(is_open), "open_pipeline"),
            is_open.sum().alias("open_deals"),
            pl.col("source").is_not_null().any().alias("sources_recorded"),
        )
        .collect()
        .row(0, named=True)
    )
    return Alignment(
        period=period,
        revenue=row["revenue"],
        won=int(row["won"]),
        target=target,
        marketing_revenue=MoneyShare(
            row["marketing_revenue"], row["revenue"], rate(int(row["marketing_won"]), int(row["won"]))
        ),
        pipeline_created=MoneyShare(
            row["marketing_pipeline"], row["pipeline"], rate(int(row["marketing_opened"]), int(row["opened"]))
        ),
        open_pipeline=row["open_pipeline"],
        open_deals=int(row["open_deals"]),
        sources_recorded=bool(row["sources_recorded"]),
    )


def revenue_by(
    leads: LeadsFrame, by: str, *, period: Period, previous: Period, last_year: Period
) -> pl.DataFrame:
    """Per source or campaign that brought the lead: revenue and won deals in the period, revenue in the
    previous period and the same period last year, whether it is a marketing channel. Groups with no
    revenue in any of the three are left out; a blank is its own group, "(none)"."""
    if by not in REVENUE_BREAKDOWNS:
        raise ValueError(f"cannot split revenue by {by!r}; choose one of {', '.join(REVENUE_BREAKDOWNS)}")
    won_at = stage_time("won")
    amount = pl.col("amount").fill_null(0.0)
    return (
        leads.lazy()
        .with_columns(
            pl.col(by).cast(pl.String).fill_null(NONE_KEY).alias("key"),
            is_marketing_source(pl.col("source")).alias("marketing"),
        )
        .group_by("key")
        .agg(
            _sum(amount.filter(in_period(won_at, period)), "revenue"),
            in_period(won_at, period).sum().cast(pl.Int64).alias("won"),
            _sum(amount.filter(in_period(won_at, previous)), "previous"),
            _sum(amount.filter(in_period(won_at, last_year)), "last_year"),
            pl.col("marketing").all().alias("marketing"),
        )
        .filter((pl.col("revenue") > 0) | (pl.col("previous") > 0) | (pl.col("last_year") > 0))
        .with_columns((pl.col("revenue") - pl.col("previous")).alias("change"))
        .sort(["revenue", "key"], descending=[True, False])
        .collect()
    )
