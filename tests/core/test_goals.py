"""The goals a suggested threshold pursues, on frames small enough to work out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from core.criteria import Criteria, Rule, score_leads
from core.goals import (
    Goal,
    checked_keep,
    committed_volume,
    default_goal,
    threshold_for_goal,
    threshold_for_wins,
)
from core.tuning import tune

START = datetime(2026, 1, 1)
RULES = (Rule("source", "eq", "A", 20), Rule("source", "eq", "B", 10))  # A scores 20, B 10, C 0
NO_RATINGS = pl.DataFrame(schema={"lead_id": pl.Int64, "rater_id": pl.Int64, "stars": pl.Int64})
PEOPLE = pl.DataFrame({"user_id": [1], "team_id": [10]})


def _scored(scores: list[int], outcomes: list[str | None], amounts: list[float | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"score": scores, "outcome": outcomes, "amount": amounts},
        schema={"score": pl.Int64, "outcome": pl.String, "amount": pl.Float64},
    )


def _learning(created_at: datetime = START) -> pl.DataFrame:
    """Ten leads: A won, won, won, lost (100 each won); B won, lost, lost, lost (100); C won (50), lost."""
    rows = [("A", "won", 100.0)] * 3 + [("A", "lost", None), ("B", "won", 100.0)] + [("B", "lost", None)] * 3
    rows += [("C", "won", 50.0), ("C", "lost", None)]
    return pl.DataFrame(
        {
            "id": list(range(1, len(rows) + 1)),
            "created_at": [created_at + timedelta(hours=i) for i in range(len(rows))],
            "mql_at": [created_at] * len(rows),
            "sql_at": [None] * len(rows),
            "source": [r[0] for r in rows],
            "outcome": [r[1] for r in rows],
            "amount": [r[2] for r in rows],
        },
        schema_overrides={"sql_at": pl.Datetime("us"), "amount": pl.Float64},
    )


# ---------------------------------------------------------------- wins


WON = _scored(
    [50, 40, 40, 30, 20, 10, 10],
    ["won", "won", "lost", "won", "won", "lost", "won"],
    [100.0, 100.0, None, 100.0, 700.0, None, None],
)


@pytest.mark.parametrize(
    ("keep", "threshold"),
    [
        # 5 won deals, 1000 of revenue. Kept at or above 50: 1 deal, 100; 40: 2, 200; 30: 3, 300; 20: 4, 1000;
        # 10: 5, 1000. keep 0.8 needs 4 deals and 800: 20. keep 0.6 needs 3 deals (30 has them) and 600
        # (only 20 has it): 20, the revenue decides. keep 1 needs all 5 deals: 10. keep 0.2 needs 1 and 200: 40.
        (0.8, 20),
        (0.6, 20),
        (1.0, 10),
        (0.2, 40),
    ],
)
def test_wins_keeps_the_share_of_deals_and_of_revenue(keep: float, threshold: int) -> None:
    assert threshold_for_wins(WON, keep) == threshold


def test_without_amounts_the_deals_alone_decide() -> None:
    # keep 0.6 of 5 deals is 3: the 3 deals at or above 30.
    assert threshold_for_wins(WON.with_columns(pl.lit(None, pl.Float64).alias("amount")), 0.6) == 30


def test_a_share_that_is_not_a_whole_count_of_deals_is_rounded_up() -> None:
    # keep 0.7 of 10 deals is 7 (7.000000000000001 in floating point), not 8: the 7 scoring 4 or more.
    ten = _scored(list(range(10, 0, -1)), ["won"] * 10, [None] * 10)
    assert threshold_for_wins(ten, 0.7) == 4


def test_no_won_deals_is_no_wins_threshold() -> None:
    assert threshold_for_wins(_scored([5, 3], ["lost", None], [None, None])) is None


@pytest.mark.parametrize(("keep", "threshold", "mqls"), [(0.75, 10, 8), (0.6, 20, 4)])
def test_the_wins_goal_keeps_at_least_the_asked_share_on_the_learning_window(
    keep: float, threshold: int, mqls: int
) -> None:
    learning = _learning()
    # Won: A 3 (300), B 1 (100), C 1 (50): 5 deals, 450. keep 0.75 needs 4 deals and 337.5: A and B (4,
    # 400), threshold 10, 8 MQLs. keep 0.6 needs 3 deals and 270: A alone (3, 300), threshold 20, 4 MQLs.
    got = threshold_for_goal(
        learning, RULES, Goal.wins, current=Criteria((), 0), learn_until=START + timedelta(days=1), keep=keep
    )
    assert got == threshold
    scored = score_leads(learning.lazy(), Criteria(RULES, got)).collect()
    won = scored.filter(pl.col("outcome") == "won")
    kept = won.filter(pl.col("is_mql"))
    assert kept.height >= keep * won.height
    assert float(kept["amount"].sum()) >= keep * float(won["amount"].sum())
    assert int(scored["is_mql"].sum()) == mqls


def test_the_wins_goal_without_won_deals_says_so() -> None:
    lost_only = _learning().with_columns(pl.lit("lost").alias("outcome"))
    with pytest.raises(ValueError, match="no won deals"):
        threshold_for_goal(lost_only, RULES, Goal.wins, current=Criteria((), 0), learn_until=START)


# ---------------------------------------------------------------- volume and committed


def test_the_volume_goal_keeps_the_current_versions_mql_count() -> None:
    # The version in force ("source is B", 8 points, threshold 5) makes the 4 B leads MQLs; under RULES the
    # 4 leads of A score 20 and are exactly 4: threshold 20.
    current = Criteria((Rule("source", "eq", "B", 8),), 5)
    got = threshold_for_goal(_learning(), RULES, Goal.volume, current=current, learn_until=START)
    assert got == 20


def test_committed_is_the_monthly_number_spread_over_the_window() -> None:
    # 1300 a month is 1300 * 12 / 52 = 300 a week; 28 days are 4 weeks: 1200.
    assert committed_volume(1300, 28) == 1200
    # 26 a month is 6 a week. The learning window runs 7 days from its first lead: at most 6 MQLs of the
    # scores 20 x4, 10 x4, 0 x2, so only the 4 of A pass: threshold 11.
    got = threshold_for_goal(
        _learning(), RULES, Goal.committed, current=Criteria((), 0), learn_until=START + timedelta(days=7),
        committed=26,
    )  # fmt: skip
    assert got == 11


def test_the_committed_goal_needs_a_commitment() -> None:
    with pytest.raises(ValueError, match="committed MQLs a month"):
        threshold_for_goal(_learning(), RULES, Goal.committed, current=Criteria((), 0), learn_until=START)


# ---------------------------------------------------------------- the default goal and keep


def test_the_default_goal_is_wins_without_a_version_and_volume_for_a_selective_one() -> None:
    learning = _learning()
    assert default_goal(Criteria((), 0), learning) is Goal.wins  # no version in force: every lead passes
    assert default_goal(Criteria((Rule("source", "eq", "A", 10),), 10), learning) is Goal.volume  # 4 of 10
    # "source is not C" passes 8 of 10 (80%): volume; "source is not Z" passes all 10: wins.
    assert default_goal(Criteria((Rule("source", "ne", "C", 10),), 10), learning) is Goal.volume
    assert default_goal(Criteria((Rule("source", "ne", "Z", 10),), 10), learning) is Goal.wins


def test_the_default_goal_without_won_deals_is_volume() -> None:
    lost_only = _learning().with_columns(pl.lit("lost").alias("outcome"))
    assert default_goal(Criteria((), 0), lost_only) is Goal.volume


@pytest.mark.parametrize("keep", [0, -0.1, 1.5, 1.0000001])
def test_a_keep_outside_zero_to_one_is_refused(keep: float) -> None:
    with pytest.raises(ValueError, match="at most 1"):
        checked_keep(keep)
    with pytest.raises(ValueError, match="at most 1"):
        tune(_learning(), NO_RATINGS, PEOPLE, Criteria((), 0), keep=keep)


def test_tune_records_the_goal_it_pursued() -> None:
    # The ten leads, then the same ten days later (tested): no version in force, so the default goal is wins.
    leads = pl.concat([_learning(), _learning(START + timedelta(days=10)).with_columns(pl.col("id") + 10)])
    result = tune(leads, NO_RATINGS, PEOPLE, Criteria((), 0), window_days=5, keep=0.8, min_count=1)
    assert (result.goal, result.keep) == (Goal.wins, 0.8)
    assert result.summary().startswith("Goal: keep 80% of won deals with the fewest MQLs — ")
    explicit = tune(leads, NO_RATINGS, PEOPLE, Criteria((), 0), window_days=5, goal=Goal.volume, min_count=1)
    assert explicit.goal is Goal.volume and explicit.after.mql_count == 10  # every lead, as all passed
    with pytest.raises(ValueError, match="volume goal"):
        tune(leads, NO_RATINGS, PEOPLE, Criteria((), 0), volume=5, goal=Goal.wins)
