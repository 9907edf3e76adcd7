from __future__ import annotations

import pytest

from core.stats import NO_AUC, Auc, rate, roc_auc, wilson_interval


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
    assert r.ci_low is not None and r.ci_high is not None and r.value is not None
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


def test_roc_auc_counts_a_tie_as_half() -> None:
    # Positives score 2 and 3, negatives 1 and 2. Pairs: (2, 1) 1, (2, 2) a tie 1/2, (3, 1) 1, (3, 2) 1:
    # 3.5 of 4 pairs = 0.875.
    auc = roc_auc([1, 2, 2, 3], [False, True, False, True])
    assert auc == Auc(value=0.875, positives=2, negatives=2)
    assert auc.n == 4 and auc.as_dict() == {"value": 0.875, "n": 4}


def test_roc_auc_of_a_larger_hand_worked_ranking() -> None:
    # Positives 5, 3, 3; negatives 4, 3, 1, 1. Against the 4 negatives: 5 beats all (4); each 3 beats 1, 1
    # and ties 3 (2.5): 4 + 2.5 + 2.5 = 9 of 3 * 4 = 12 pairs = 0.75. Missing scores or labels are left out.
    auc = roc_auc([5, 3, 3, 4, 3, 1, 1, None, 2], [True, True, True, False, False, False, False, True, None])
    assert (auc.value, auc.positives, auc.negatives) == (0.75, 3, 4)


@pytest.mark.parametrize(("scores", "labels"), [([1, 2], [True, True]), ([1], [False]), ([], [])])
def test_roc_auc_without_one_side_is_none(scores: list[int], labels: list[bool]) -> None:
    auc = roc_auc(scores, labels)
    assert auc.value is None and auc.as_dict() is None
    assert auc.n == len(scores) and NO_AUC.as_dict() is None
