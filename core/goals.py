"""What the threshold of a suggested version pursues: a goal both teams chose.

- *volume*: keep the learning window's MQL volume under the version in force (sales sees as many MQLs,
  better ones).
- *committed*: the SLA's committed MQLs a month, spread over the learning window as the SLA pages spread
  a month over any period (a week is 12/52 of a month).
- *wins*: keep at least a share (`keep`, 90% unless asked) of the learning window's won deals and of its
  won revenue (where the data has amounts) with the fewest MQLs.

Each threshold is chosen on the learning window; the backtest reports what it does on the test window.
Right after a first import no version is active and every lead passes: keeping the volume would keep
everything, so the default goal is then *wins*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

import polars as pl

from core.criteria import Criteria, Rule, lead_scores

DEFAULT_KEEP = 0.9
BARELY_SELECTS = 0.9  # a version that passes this share of leads or more selects next to nothing
WEEKS_PER_MONTH = 52 / 12  # as core.sla spreads a monthly commitment (core.sla imports core.tuning)


class Goal(StrEnum):
    volume = "volume"
    committed = "committed"
    wins = "wins"


def checked_keep(keep: float) -> float:
    """`keep` when it is a share in (0, 1]; ValueError fit to show otherwise."""
    if isinstance(keep, bool) or not isinstance(keep, int | float) or not 0 < keep <= 1:
        raise ValueError(
            f"keep is the share of won deals to keep: more than 0 and at most 1 (0.9 keeps 90%), not {keep!r}"
        )
    return float(keep)


def share_text(share: float) -> str:
    """0.9 -> "90%", 0.925 -> "92.5%"."""
    percent = share * 100
    return f"{percent:.0f}%" if math.isclose(percent, round(percent)) else f"{percent:.1f}%"


def goal_sentence(goal: Goal, *, keep: float = DEFAULT_KEEP, committed: int | None = None) -> str:
    """The goal in the words of the summary: "keep 90% of won deals with the fewest MQLs"."""
    if goal is Goal.wins:
        return f"keep {share_text(keep)} of won deals with the fewest MQLs"
    if goal is Goal.committed:
        return f"the SLA's {committed or 0:,} committed MQLs a month"
    return "keep the MQL volume of the version in force"


def mql_count(leads: pl.DataFrame, criteria: Criteria) -> int:
    """How many of `leads` `criteria` makes MQLs."""
    return int(lead_scores(leads.lazy(), criteria).select(pl.col("is_mql").sum()).collect().item())


def default_goal(current: Criteria, learning: pl.DataFrame) -> Goal:
    """*volume* when the version in force passes fewer than 90% of the learning window's leads; *wins*
    when no version is in force (no rules, threshold 0: every lead passes) or it passes 90% or more, and
    the window has won deals to keep (else *volume*: there is nothing the wins goal could keep)."""
    has_wins = bool((learning["outcome"] == "won").any())
    if not has_wins:
        return Goal.volume
    if not current.rules and current.threshold <= 0:
        return Goal.wins
    passing = mql_count(learning, current) / learning.height if learning.height else 1.0
    return Goal.wins if passing >= BARELY_SELECTS else Goal.volume


def committed_volume(mqls_per_month: int, days: float) -> int:
    """The monthly commitment spread over `days` (a month is 52/12 weeks), to the nearest MQL."""
    return round(mqls_per_month / WEEKS_PER_MONTH * days / 7)


def window_days(leads: pl.DataFrame, until: datetime) -> float:
    """The length in days of the window the leads were created in: from the first one to `until`."""
    first = leads["created_at"].min()
    if not isinstance(first, datetime):
        return 0.0
    return max((until - first).total_seconds() / 86_400, 0.0)


def threshold_for_volume(scores: pl.Series, volume: int) -> int:
    """The lowest whole threshold that makes at most `volume` of these scores MQLs."""
    ordered = scores.drop_nulls().cast(pl.Int64).sort(descending=True)  # a million scores: no Python list
    if ordered.is_empty() or volume <= 0:
        return int(ordered[0] if not ordered.is_empty() else 0) + 1
    if volume >= ordered.len():
        return int(ordered[-1])
    cut = int(ordered[volume - 1])
    return cut if int((ordered >= cut).sum()) <= volume else cut + 1


def threshold_for_wins(scored: pl.DataFrame, keep: float = DEFAULT_KEEP) -> int | None:
    """The highest threshold (the fewest MQLs) under which the leads of `scored` (score, outcome, amount)
    scoring at or above it hold at least `keep` of the won deals and of the won revenue (where there is
    any); None without won deals. Only a won deal's score can be that threshold: between two of them a
    lower one keeps the same wins with more MQLs."""
    keep = checked_keep(keep)
    won = (
        scored.filter(pl.col("outcome") == "won")
        .group_by("score")
        .agg(pl.len().alias("deals"), pl.col("amount").fill_null(0).sum().alias("revenue"))
        .sort("score", descending=True)
        .with_columns(
            pl.col("deals").cum_sum().alias("kept"), pl.col("revenue").cum_sum().alias("kept_revenue")
        )
    )
    if won.is_empty():
        return None
    deals, revenue = int(won["deals"].sum()), float(won["revenue"].sum())
    enough = pl.col("kept") >= math.ceil(keep * deals - 1e-9)  # 0.7 * 10 is 7.000000000000001
    if revenue > 0:
        enough &= pl.col("kept_revenue") >= keep * revenue * (1 - 1e-12)
    return int(won.filter(enough)["score"].first())  # type: ignore[arg-type]


def threshold_for_goal(
    learning: pl.DataFrame,
    rules: Sequence[Rule],
    goal: Goal,
    *,
    current: Criteria,
    learn_until: datetime,
    keep: float = DEFAULT_KEEP,
    committed: int | None = None,
    volume: int | None = None,
) -> int:
    """The threshold for `rules` that pursues `goal` on the learning window (the leads created before
    `learn_until`): *volume* keeps the MQL count `current` made there (or `volume`, when given);
    *committed* makes the SLA's `committed` MQLs a month there (`committed_volume` over the window's
    days, from its first lead to `learn_until`); *wins* keeps at least `keep` of its won deals and won
    revenue with the fewest MQLs. ValueError (fit to show) for a goal that cannot be pursued."""
    scored = (
        lead_scores(learning.lazy(), Criteria(tuple(rules), 0)).select("score", "outcome", "amount").collect()
    )
    if goal is Goal.wins:
        threshold = threshold_for_wins(scored, keep)
        if threshold is None:
            raise ValueError("the learning window has no won deals to keep: choose the volume goal")
        return threshold
    if goal is Goal.committed:
        if committed is None or committed <= 0:
            raise ValueError("the committed goal needs the SLA's committed MQLs a month")
        volume = committed_volume(committed, window_days(learning, learn_until))
    elif volume is None:
        volume = mql_count(learning, current)
    return threshold_for_volume(scored["score"], volume)
