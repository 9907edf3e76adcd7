from __future__ import annotations

import pytest

from core.stats import rate, wilson_interval


@pytest.mark.parametrize(
    ("num", "den", "low", "high"),
    [
        # Worked by hand with z = 1.96: centre = (p + z²/2n)/(1 + z²/n), half = z·sqrt(p(1-p)/n + z²/4n²)/(1 + z²/n)
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
        (1, 2, 0.0945, 0.9055),
    ],
)
def test_wilson_interval_matches_hand_worked_values(num: int, den: int, low: float, high: float) -> None:
    got_low, got_high = wilson_interval(num, den)
    assert got_low == pytest.approx(low, abs=1e-4)
    assert got_high == pytest.approx(high, abs=1e-4)


def test_nothing_to_go_on_is_the_whole_range() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_rate_carries_num_den_and_interval() -> None:
    r = rate(81, 263)
    assert (r.num, r.den) == (81, 263)
    assert r.value == pytest.approx(0.30798, abs=1e-5)
    assert r.ci_low is not None and r.ci_high is not None
    assert r.ci_low < r.value < r.ci_high
    assert not r.small_sample
    assert r.as_dict()["num"] == 81


def test_empty_rate_has_no_value_and_is_a_small_sample() -> None:
    r = rate(0, 0)
    assert r.value is None and r.ci_low is None and r.ci_high is None
    assert r.small_sample


def test_denominator_under_thirty_is_a_small_sample() -> None:
    assert rate(3, 29).small_sample
    assert not rate(3, 30).small_sample
