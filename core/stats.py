"""Rates with their numerator, denominator and a 95% Wilson interval; how well a score ranks (ROC AUC)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

Z_95 = 1.959963984540054
SMALL_SAMPLE = 30


def wilson_interval(num: int, den: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for num/den; (0, 1) when there is nothing to go on."""
    if den <= 0:
        return (0.0, 1.0)
    p = num / den
    z2 = z * z
    centre = (p + z2 / (2 * den)) / (1 + z2 / den)
    half = z * math.sqrt(p * (1 - p) / den + z2 / (4 * den * den)) / (1 + z2 / den)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Rate:
    num: int
    den: int
    value: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def small_sample(self) -> bool:
        return self.den < SMALL_SAMPLE

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": _round(self.value),
            "num": self.num,
            "den": self.den,
            "ci_low": _round(self.ci_low),
            "ci_high": _round(self.ci_high),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def rate(num: int, den: int) -> Rate:
    if den == 0:
        return Rate(num=num, den=den, value=None, ci_low=None, ci_high=None)
    low, high = wilson_interval(num, den)
    return Rate(num=num, den=den, value=num / den, ci_low=low, ci_high=high)


@dataclass(frozen=True)
class Auc:
    """How well a score ranks: the chance that a random positive scores above a random negative (a tie
    counts half), over `positives` and `negatives`; value None when either side is empty."""

    value: float | None
    positives: int
    negatives: int

    @property
    def n(self) -> int:
        return self.positives + self.negatives

    def as_dict(self) -> dict[str, Any] | None:
        return None if self.value is None else {"value": _round(self.value), "n": self.n}


NO_AUC = Auc(value=None, positives=0, negatives=0)


def roc_auc(scores: pl.Series | Sequence[float | None], labels: pl.Series | Sequence[bool | None]) -> Auc:
    """The ROC AUC of `scores` for `labels` (True: positive) as the Mann-Whitney statistic: over every
    (positive, negative) pair, 1 when the positive scores higher, 1/2 when they tie, over the pairs.
    Pairs with a missing score or label are left out."""
    pairs = pl.DataFrame(
        {"score": pl.Series(scores, dtype=pl.Float64), "positive": pl.Series(labels, dtype=pl.Boolean)}
    ).drop_nulls()
    per_score = (
        pairs.group_by("score")
        .agg(pl.col("positive").sum().alias("pos"), (~pl.col("positive")).sum().alias("neg"))
        .sort("score")
        .with_columns((pl.col("neg").cum_sum() - pl.col("neg")).alias("neg_below"))
    )
    positives, negatives = int(per_score["pos"].sum()), int(per_score["neg"].sum())
    if positives == 0 or negatives == 0:
        return Auc(value=None, positives=positives, negatives=negatives)
    # Each positive beats the negatives scored below it and ties, for half, with those at its own score.
    wins = per_score.select((pl.col("pos") * (pl.col("neg_below") + pl.col("neg") / 2)).sum()).item()
    return Auc(value=float(wins) / (positives * negatives), positives=positives, negatives=negatives)
