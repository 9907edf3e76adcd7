"""The tuning maths on frames small enough to work out by hand (answers in the comments)."""

from __future__ import annotations

import math
from datetime import datetime

import polars as pl
import pytest

from core.criteria import Criteria, Rule
from core.stats import rate
from core.tuning import (
    Backtest,
    Tuning,
    backtest,
    calibrated_ratings,
    evidence_table,
    lead_evidence,
    threshold_for_volume,
)

PEOPLE = pl.DataFrame({"user_id": [1, 2], "team_id": [10, 10]})


def _leads(**columns: list[object]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, list[object]] = {
        "id": list(range(1, n + 1)),
        "created_at": [datetime(2026, 1, 1)] * n,
        "mql_at": [datetime(2026, 1, 2)] * n,
        "sql_at": [None] * n,
        "outcome": [None] * n,
        "amount": [None] * n,
        "source": [None] * n,
    }
    return pl.DataFrame(
        {**base, **columns},
        schema_overrides={"sql_at": pl.Datetime("us"), "outcome": pl.String, "amount": pl.Float64,
                          "source": pl.String, "mql_at": pl.Datetime("us")},
    )  # fmt: skip


def test_a_harsh_rater_is_shifted_by_a_shrunk_offset() -> None:
    ratings = pl.DataFrame({"lead_id": [1, 2, 3, 4], "rater_id": [1, 1, 2, 2], "stars": [5, 5, 1, 1]})
    calibrated = calibrated_ratings(ratings, PEOPLE).sort("lead_id")
    # Team mean 3; rater 1 averages 5 over 2 ratings: offset (5 - 3) * 2 / (2 + 20) = 0.1818...
    assert calibrated["offset"].to_list() == pytest.approx([2 / 11, 2 / 11, -2 / 11, -2 / 11])
    assert calibrated["calibrated"].to_list() == pytest.approx(
        [5 - 2 / 11, 5 - 2 / 11, 1 + 2 / 11, 1 + 2 / 11]
    )


def test_good_is_the_rating_else_the_outcome() -> None:
    leads = _leads(outcome=[None, None, "won", "lost", None])
    ratings = pl.DataFrame({"lead_id": [1, 2], "rater_id": [1, 1], "stars": [4, 2]})
    evidence = lead_evidence(leads, calibrated_ratings(ratings, PEOPLE))
    assert evidence["good"].to_list() == [True, False, True, False, None]
    # Where losses are never recorded, an MQL that was not won is not good.
    olist_like = lead_evidence(leads, calibrated_ratings(ratings, PEOPLE), losses_recorded=False)
    assert olist_like["good"].to_list() == [True, False, True, False, False]


def test_evidence_is_shrunk_toward_the_baseline() -> None:
    evidence = _leads(source=["A", "A", "A", "B"]).with_columns(pl.Series("good", [True, True, False, False]))
    table = evidence_table(evidence, Criteria((), 50), min_count=2)
    rows = {r["value"]: r for r in table.iter_rows(named=True)}
    # Baseline 2 of 4 = 0.5. A: (2 + 20 * 0.5) / (3 + 20) = 12/23; B: (0 + 10) / (1 + 20) = 10/21.
    assert rows["A"]["shrunk"] == pytest.approx(12 / 23) and rows["B"]["shrunk"] == pytest.approx(10 / 21)
    assert rows["A"]["lift"] == pytest.approx(24 / 23)
    assert rows["A"]["points"] == round(20 * math.log(12 / 11)) == 2
    assert rows["B"]["points"] == round(20 * math.log(10 / 11)) == -2
    assert (rows["A"]["enough"], rows["B"]["enough"]) == (True, False)
    assert (rows["A"]["count"], rows["A"]["good"]) == (3, 2)
    assert (rows["A"]["ci_low"], rows["A"]["ci_high"]) == (rate(2, 3).ci_low, rate(2, 3).ci_high)


def test_count_rules_of_the_version_are_evidence_too() -> None:
    evidence = _leads(source=["A"] * 3).with_columns(
        pl.Series("good", [True, True, False]), pl.Series("page_views", [9, 6, 0])
    )
    table = evidence_table(evidence, Criteria((Rule("page_views", "gte", 5, 15),), 50), min_count=1)
    row = table.filter(pl.col("attribute") == "page_views").row(0, named=True)
    assert (row["value"], row["count"], row["good"]) == ("≥ 5", 2, 2)


@pytest.mark.parametrize(("volume", "threshold"), [(2, 41), (3, 40), (1, 50), (0, 51), (10, 30)])
def test_the_threshold_that_keeps_a_volume(volume: int, threshold: int) -> None:
    assert threshold_for_volume(pl.Series([50, 40, 40, 30]), volume) == threshold


def test_backtest_replays_a_window() -> None:
    leads = _leads(
        source=["A", "A", "B", "B", "A"],
        mql_at=[datetime(2026, 1, 2), datetime(2026, 1, 2), datetime(2026, 1, 2), None, datetime(2026, 1, 2)],
        sql_at=[datetime(2026, 1, 3), None, datetime(2026, 1, 3), None, None],
        outcome=["won", None, "won", None, "lost"],
        amount=[100.0, None, 300.0, None, None],
        created_at=[datetime(2026, 1, 1)] * 4 + [datetime(2025, 1, 1)],  # the last is outside the window
    ).with_columns(pl.Series("stars", [5.0, 2.0, None, None, 1.0]))
    only_a = Criteria((Rule("source", "eq", "A", 10),), 10)
    result = backtest(leads, only_a, start=datetime(2026, 1, 1), end=datetime(2026, 2, 1))
    # MQLs under "source A": leads 1 and 2. Rated 4-5: lead 1 of the two rated. SQL: lead 1 of 2.
    # Won in the window: leads 1 (A, 100) and 3 (B, 300): 1 of 2 kept, 100 of 400 revenue.
    assert result == Backtest(mql_count=2, acceptance=rate(1, 2), mql_to_sql=rate(1, 2), won_recall=rate(1, 2),
                              revenue_recall=0.25)  # fmt: skip


def test_the_sentence_for_the_meeting() -> None:
    before = Backtest(100, rate(30, 100), rate(25, 100), rate(10, 10), 1.0)
    after = Backtest(88, rate(39, 100), rate(30, 88), rate(9, 10), 0.96)
    tuning = Tuning(pl.DataFrame(), Criteria((), 1), Criteria((), 1), datetime(2026, 1, 1), datetime(2026, 2, 1),
                    before, after)  # fmt: skip
    assert tuning.summary() == "+9 points acceptance, -12% volume, keeps 96% of won revenue"
