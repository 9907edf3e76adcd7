"""Rates with their numerator, denominator and a 95% Wilson interval."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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
