"""The tuning maths on frames small enough to work out by hand (answers in the comments)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import polars as pl
import pytest

from core.criteria import Criteria, Rule
from core.stats import Auc, rate
from core.tuning import (
    Backtest,
    Goal,
    Tuning,
    backtest,
    calibrated_ratings,
    evidence_table,
    lead_evidence,
    start_of_test_window,
    threshold_for_volume,
    tune,
)

PEOPLE = pl.DataFrame({"user_id": [1, 2], "team_id": [10, 10]})


def _leads(**columns: Sequence[object]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, Sequence[object]] = {
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
    assert threshold_for_volume(pl.Series([40, None, 30, 50, None, 40]), volume) == threshold, "any order"


def test_the_threshold_of_no_scores_keeps_nobody() -> None:
    assert threshold_for_volume(pl.Series([], dtype=pl.Int64), 5) == 1


def test_backtest_replays_a_window() -> None:
    leads = _leads(
        source=["A", "A", "B", "B", "A"],
        mql_at=[datetime(2026, 1, 2), datetime(2026, 1, 2), datetime(2026, 1, 2), None, datetime(2026, 1, 2)],
        sql_at=[datetime(2026, 1, 3), None, datetime(2026, 1, 3), None, None],
        outcome=["won", None, "won", "lost", "lost"],
        amount=[100.0, None, 300.0, None, None],
        created_at=[datetime(2026, 1, 1)] * 4 + [datetime(2025, 1, 1)],  # the last is outside the window
    ).with_columns(pl.Series("stars", [5.0, 2.0, None, None, 1.0]))
    only_a = Criteria((Rule("source", "eq", "A", 10),), 10)
    result = backtest(leads, only_a, start=datetime(2026, 1, 1), end=datetime(2026, 2, 1))
    # MQLs under "source A": leads 1 and 2. Rated 4-5: lead 1 of the two rated. SQL: lead 1 of 2.
    # Won in the window: leads 1 (A, 100) and 3 (B, 300): 1 of 2 kept, 100 of 400 revenue.
    # Scores: A 10, B 0. Won 1 (10) and 3 (0) against lost 4 (0): 1 + a tie 1/2 of 2 pairs = 0.75.
    # Rated: lead 1 (5 stars, 10) against lead 2 (2 stars, 10): a tie, 0.5.
    assert result == Backtest(mql_count=2, acceptance=rate(1, 2), mql_to_sql=rate(1, 2), won_recall=rate(1, 2),
                              revenue_recall=0.25, ranking_auc=Auc(0.75, 2, 1), good_auc=Auc(0.5, 1, 1))  # fmt: skip
    assert result.as_dict()["ranking_auc"] == {"value": 0.75, "n": 3}
    assert result.as_dict()["good_auc"] == {"value": 0.5, "n": 2}


def test_where_no_loss_is_recorded_an_mql_not_won_ranks_as_lost() -> None:
    leads = _leads(
        source=["A", "A", "B", "B"],
        outcome=["won", None, "won", None],
        mql_at=[datetime(2026, 1, 2)] * 3 + [None],  # lead 4 never was an MQL: it says nothing
    ).with_columns(pl.lit(None, pl.Float64).alias("stars"))
    only_a = Criteria((Rule("source", "eq", "A", 10),), 10)
    result = backtest(leads, only_a, start=datetime(2026, 1, 1), end=datetime(2026, 2, 1))
    # Won: lead 1 (10) and 3 (0); lost: lead 2 (10). Pairs: (10, 10) a tie 1/2, (0, 10) 0: 0.5 of 2 = 0.25.
    assert result.ranking_auc == Auc(0.25, 2, 1)
    # Nobody rated: no good leads to rank, null in the report.
    assert result.good_auc == Auc(None, 0, 0) and result.as_dict()["good_auc"] is None


def test_the_sentence_for_the_meeting() -> None:
    before = Backtest(100, rate(30, 100), rate(25, 100), rate(10, 10), 1.0)
    after = Backtest(88, rate(39, 100), rate(30, 88), rate(9, 10), 0.96)
    tuning = Tuning(pl.DataFrame(), Criteria((), 1), Criteria((), 1), datetime(2026, 1, 1), datetime(2026, 2, 1),
                    before, after)  # fmt: skip
    assert tuning.summary() == (
        "Goal: keep the MQL volume of the version in force — +9 points acceptance, -12% volume, keeps 96% of "
        "won revenue"
    )
    wins = replace(tuning, goal=Goal.wins, keep=0.9)
    assert wins.summary() == (
        "Goal: keep 90% of won deals with the fewest MQLs — +9 points acceptance, -12% volume, keeps 96% of "
        "won revenue"
    )
    committed = replace(tuning, goal=Goal.committed, committed=1200)
    assert committed.summary().startswith("Goal: the SLA's 1,200 committed MQLs a month — +9 points")


# ---------------------------------------------------------------- tuning again after an approval

NO_RATINGS = pl.DataFrame(schema={"lead_id": pl.Int64, "rater_id": pl.Int64, "stars": pl.Int64})
# Won of 40 leads each: Retail 8 (over-targeted), Manufacturing 30 (under-targeted), Software 16.
WON_OF_40 = {"Retail": 8, "Manufacturing": 30, "Software": 16}


def _company_history() -> pl.DataFrame:
    """The same 120 leads created in January (learnt from) and again in June (the test window)."""
    rows = []
    for created in (datetime(2026, 1, 5), datetime(2026, 6, 1)):
        for industry, won in WON_OF_40.items():
            for i in range(40):
                rows.append(
                    (created, industry, "won" if i < won else "lost", 9 if industry == "Manufacturing" else 0)
                )
    leads = _leads(
        created_at=[r[0] for r in rows],
        outcome=[r[2] for r in rows],
        amount=[100.0 if r[2] == "won" else None for r in rows],
    )
    return leads.with_columns(
        pl.Series("industry", [r[1] for r in rows]), pl.Series("page_views", [r[3] for r in rows])
    )


def _tune_twice(current: Criteria) -> tuple[Criteria, Criteria]:
    """The suggestion, then the suggestion made once that one is the version in force (same data)."""
    leads = _company_history()
    first = tune(leads, NO_RATINGS, PEOPLE, current, window_days=90).proposed
    return first, tune(leads, NO_RATINGS, PEOPLE, first, window_days=90).proposed


def _conditions(criteria: Criteria) -> list[tuple[str, str, object]]:
    return [(r.attribute, r.operator, str(r.value)) for r in criteria.rules]


def test_tuning_again_after_approval_gives_the_same_suggestion() -> None:
    """The rules are learnt from the evidence, not stacked on the version in force: approving the
    suggestion and tuning again on the same data suggests it again."""
    current = Criteria(
        (Rule("industry", "in", ["Retail", "Software"], 25), Rule("industry", "eq", "Retail", 20)), 25
    )
    first, second = _tune_twice(current)
    points = {(r.attribute, str(r.value)): r.points for r in first.rules}
    # Good shares: Manufacturing 30/40, Software 16/40, Retail 8/40 (baseline 54/120 = 0.45).
    assert points[("industry", "Manufacturing")] > 0 > points[("industry", "Retail")]
    assert ("industry", "Software") not in points  # near the baseline: worth no rule
    conditions = _conditions(second)
    assert len(conditions) == len(set(conditions)), f"a condition twice: {conditions}"
    assert second == first, "the same evidence gives the same suggestion"


def test_two_perfectly_correlated_attributes_share_their_points() -> None:
    """Page views of 9 go with Manufacturing and only with it (the same 40 leads): fitted jointly, the two
    rules together earn what the leads' good share is worth, not that twice."""
    current = Criteria(
        (
            Rule("industry", "eq", "Manufacturing", -15),
            Rule("page_views", "gte", 5, 40),
            Rule("industry", "eq", "Manufacturing", 17),  # held twice: one rule in the suggestion
        ),
        20,
    )
    first, second = _tune_twice(current)
    conditions = _conditions(first)
    assert len(conditions) == len(set(conditions))
    manufacturing = next(r.points for r in first.rules if r.value == "Manufacturing")
    page_views = next(r.points for r in first.rules if r.attribute == "page_views")
    retail = next(r.points for r in first.rules if r.value == "Retail")
    # Identical columns get identical coefficients under an L2 penalty.
    assert manufacturing == page_views > 0
    # Manufacturing against Retail: 20 * (logit(30/40) - logit(8/40)) = 20 * (1.0986 + 1.3863) = 49.7 points
    # at most (unregularised); one attribute alone would earn that gap, both together earn no more.
    assert 0 < manufacturing + page_views - retail <= 50
    assert second == first


def test_an_attribute_filled_only_on_won_deals_is_a_leak_not_evidence() -> None:
    """A closed-deals export joined on fills its columns for won leads alone: learning from it would learn
    the outcome. 40 leads: 10 won; `segment` filled on the 10 won only (10 of 10 won), `region` on all."""
    from core.tuning import after_sale_reason

    outcome = ["won"] * 10 + ["lost"] * 20 + [None] * 10
    leads = pl.DataFrame(
        {
            "outcome": outcome,
            "segment": ["shoes"] * 10 + [None] * 30,
            "region": ["north", "south"] * 20,
        }
    )
    assert after_sale_reason(leads, "region") is None
    # Only 10 filled: under MIN_COUNT (30) leads, too few to call it a leak.
    assert after_sale_reason(leads, "segment") is None
    many = pl.concat([leads] * 3)  # 30 of 30 filled leads won, 30 won of 120 leads
    assert "only on won deals (30 of 30)" in (after_sale_reason(many, "segment") or "")
    all_won = many.with_columns(pl.lit("won").alias("outcome"))  # nothing to tell apart: no leak
    assert after_sale_reason(all_won, "segment") is None


def _judged_on(days: Sequence[int], start: datetime = datetime(2026, 3, 1)) -> pl.DataFrame:
    """One lead with evidence created on each day offset of `days` (and one without, on the last day)."""
    created = [start + timedelta(days=d) for d in days]
    return pl.DataFrame(
        {"created_at": [*created, created[-1]], "good": [*([True] * len(days)), None]},
        schema={"created_at": pl.Datetime("us"), "good": pl.Boolean},
    )


def test_a_long_history_is_tested_on_its_last_90_days() -> None:
    """A judged lead on each of 300 days: the last 90 days hold 90 of 300, under half."""
    evidence = _judged_on(range(300))
    until = datetime(2026, 3, 1) + timedelta(days=300)
    assert start_of_test_window(evidence, until, 90) == until - timedelta(days=90)


def test_a_short_export_keeps_half_its_judged_leads_to_learn_from() -> None:
    """60 days, a judged lead each day (days 0-59): all of it is inside 90 days, so the test window starts
    at day 30, the lead with 30 judged leads before it and 30 from it on. The unjudged lead counts for
    neither side."""
    evidence = _judged_on(range(60))
    until = datetime(2026, 3, 1) + timedelta(days=60)
    assert start_of_test_window(evidence, until, 90) == datetime(2026, 3, 1) + timedelta(days=30)
    # 61 judged leads: 31 before the start, 30 from it on (the learner gets the odd one).
    assert start_of_test_window(_judged_on(range(61)), until, 90) == datetime(2026, 3, 1) + timedelta(days=31)


def test_a_short_export_learns_rules_and_reports_where_it_tested() -> None:
    """The same 120 leads per month for January and February only (a CRM's first two months): with a
    fixed 90-day test window nothing was older than it and nothing was learnt."""
    history = _company_history()
    leads = history.with_columns(
        pl.when(pl.col("created_at") > datetime(2026, 2, 1))
        .then(pl.lit(datetime(2026, 2, 20)))
        .otherwise(pl.col("created_at"))
        .alias("created_at")
    )
    result = tune(leads, NO_RATINGS, PEOPLE, Criteria((), 0), window_days=90)
    assert result.learn_until == datetime(2026, 2, 20)
    assert {str(r.value) for r in result.proposed.rules} >= {"Manufacturing", "Retail"}
    assert result.after.ranking_auc.positives == 54  # the February half: 30 + 16 + 8 won


def test_with_nothing_judged_the_version_in_force_stays_and_the_summary_says_why() -> None:
    """500 leads and not one rated, won or lost (an export of open leads): keeping the volume of an empty
    learning window used to suggest a threshold that makes nobody an MQL."""
    leads = _leads(created_at=[datetime(2026, 3, 1) + timedelta(days=i % 60) for i in range(500)])
    current = Criteria((Rule("source", "eq", "Web", 10),), 5)
    result = tune(leads, NO_RATINGS, PEOPLE, current, window_days=90)
    assert result.proposed == current
    assert result.learned_from == 0
    assert result.summary().startswith("Nothing to learn from yet")
    assert result.after.mql_count == result.before.mql_count


def test_a_commitment_needs_no_evidence_only_leads_to_count() -> None:
    """200 leads over 200 days, none judged, every one an MQL under the version in force (threshold 0),
    half of them from Web: committing 16 MQLs a month (16 / (52/12) weeks, about 0.53 a day, so 52 over
    the 99 days from the first lead to the test window) raises the threshold from 0 to 1, the lowest that
    makes at most 52 MQLs: the 50
    Web leads (10 points); the 50 others score 0."""
    leads = _leads(
        created_at=[datetime(2026, 1, 1) + timedelta(days=i) for i in range(200)],
        source=["Web" if i % 2 else "Ads" for i in range(200)],
    )
    current = Criteria((Rule("source", "eq", "Web", 10),), 0)
    result = tune(leads, NO_RATINGS, PEOPLE, current, window_days=100, goal=Goal.committed, committed=16)
    assert result.learned_from == 0
    assert result.proposed.threshold == 1
    assert not result.summary().startswith("Nothing to learn from")
