"""The joint learner on frames small enough to work out by hand (answers in the comments), and on seeded
synthetic frames of a few thousand leads where a planted signal must be found."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from core import tuning
from core.criteria import Criteria, Rule, score_leads
from core.learner import (
    C_GRID,
    EVIDENCE_SCHEMA,
    STABLE_SHARE,
    Feature,
    _model,
    band_edges,
    band_rules,
    choose_regularisation,
    design,
    evidence_value,
    fit_sample,
    learn_rules,
    learning_rows,
    log_odds_ratio,
    number_candidates,
    stable_columns,
    text_candidates,
)
from core.stats import rate

START = datetime(2026, 1, 1)
AFTER_ALL = datetime(2030, 1, 1)


def _frame(good: Sequence[bool | None], **columns: Sequence[object]) -> pl.DataFrame:
    """Leads created a minute apart, oldest first."""
    created = [START + timedelta(minutes=i) for i in range(len(good))]
    return pl.DataFrame({"created_at": created, "good": list(good), **columns})


def _synthetic(n: int, seed: int) -> pl.DataFrame:
    """`job` plants the signal (good 70% for A, 40% for B, 15% for C); `colour` and `noise` are noise;
    `visits` (0-19, whole) plants a rising share good."""
    generator = np.random.default_rng(seed)
    job = generator.choice(np.array(["A", "B", "C"]), n)
    visits = generator.integers(0, 20, n)
    chance = np.select([job == "A", job == "B"], [0.7, 0.4], 0.15) + (visits - 9.5) * 0.012
    good = generator.random(n) < chance
    return _frame(
        good.tolist(),
        job=job.tolist(),
        colour=generator.choice(np.array(["red", "green", "blue"]), n).tolist(),
        noise=generator.normal(50, 10, n).tolist(),
        visits=visits.tolist(),
    )


def _points(rules: Sequence[Rule], attribute: str) -> dict[object, int]:
    return {str(r.value): r.points for r in rules if r.attribute == attribute}


def test_the_evidence_table_has_the_tuning_columns() -> None:
    assert EVIDENCE_SCHEMA == tuning.EVIDENCE_SCHEMA


def test_a_number_attribute_becomes_bands_cut_at_its_quantiles() -> None:
    # Values 1..10: the 1/5..4/5 quantiles (the lower value) sit at positions floor(q * 9) = 1, 3, 5, 7,
    # so the edges are 2, 4, 6, 8 and the bands <= 2, 3-4, 5-6, 7-8, >= 9, two leads each.
    values = list(range(1, 11))
    rows = _frame([v >= 7 for v in values], score=[float(v) for v in values])
    assert band_edges(rows["score"], 5) == [2, 4, 6, 8]
    bands = number_candidates(rows, "score", bands=5, min_count=2)
    assert [c.rule for c in bands] == [
        Rule("score", "lte", 2, 0),
        Rule("score", "between", [3, 4], 0),
        Rule("score", "between", [5, 6], 0),
        Rule("score", "between", [7, 8], 0),
        Rule("score", "gte", 9, 0),
    ]
    assert [c.label for c in bands] == ["≤ 2", "3 to 4", "5 to 6", "7 to 8", "≥ 9"]
    assert [(c.count, c.good) for c in bands] == [(2, 0), (2, 0), (2, 0), (2, 2), (2, 2)]
    assert all(c.enough for c in bands)


def test_the_evidence_of_a_band_is_its_count_rate_interval_and_lift() -> None:
    values = list(range(1, 11))
    learned = learn_rules(
        _frame([v >= 7 for v in values], score=values),
        [Feature("score", "number")],
        learn_until=AFTER_ALL,
        min_count=2,
    )
    row = learned.evidence.filter(pl.col("value") == "7 to 8").row(0, named=True)
    # Baseline 4 good of 10 = 0.4; the band 7-8 holds 2 leads, both good: rate 1 with the Wilson interval
    # of 2/2; shrunk (2 + 20 * 0.4) / (2 + 20) = 10/22; lift (10/22) / 0.4 = 1.1364.
    interval = rate(2, 2)
    assert (row["count"], row["good"], row["rate"]) == (2, 2, 1.0)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((interval.ci_low, interval.ci_high))
    assert row["shrunk"] == pytest.approx(10 / 22)
    assert row["lift"] == pytest.approx(10 / 22 / 0.4)
    assert row["enough"] is True
    assert set(learned.evidence["value"]) == {"≤ 2", "3 to 4", "5 to 6", "7 to 8", "≥ 9"}


def test_equal_quantiles_make_one_edge() -> None:
    # Seven zeros then 1, 2, 3: the quantiles at positions 1, 3, 5 are all 0 and at 7 it is 1, so the
    # edges are 0 and 1 and the bands <= 0 (7 leads), 1 to 1 (1 lead) and >= 2 (2 leads).
    values = [0] * 7 + [1, 2, 3]
    rows = _frame([False] * 10, visits=[float(v) for v in values])
    bands = number_candidates(rows, "visits", bands=5, min_count=2)
    assert [(c.rule.operator, c.rule.value, c.count, c.enough) for c in bands] == [
        ("lte", 0, 7, True),
        ("between", [1, 1], 1, False),
        ("gte", 2, 2, True),
    ]


def test_bands_of_fractions_share_their_readable_edges() -> None:
    # The median of three (the lower value at position floor(0.5 * 2) = 1) is 137.4216, read as 137 (three
    # significant digits); fractions cannot start a band one above the edge below it, so bands share it.
    assert band_edges(pl.Series([512.5, 1.0, 137.4216]), 2) == [137.0]
    assert band_rules("seconds", [137.0, 300.5], whole=False) == [
        Rule("seconds", "lte", 137.0, 0),
        Rule("seconds", "between", [137.0, 300.5], 0),
        Rule("seconds", "gte", 300.5, 0),
    ]
    assert evidence_value(Rule("seconds", "between", [137.0, 300.5], 0)) == "137 to 300.5"


def test_two_identical_attributes_share_the_points_of_one() -> None:
    leads = _synthetic(3000, seed=1).with_columns(pl.col("job").alias("job_copy"))
    alone = learn_rules(leads, [Feature("job", "text")], learn_until=AFTER_ALL, min_points=1)
    both = learn_rules(
        leads, [Feature("job", "text"), Feature("job_copy", "text")], learn_until=AFTER_ALL, min_points=1
    )
    one = _points(alone.rules, "job")["A"]
    first, second = _points(both.rules, "job")["A"], _points(both.rules, "job_copy")["A"]
    assert one >= 20
    # Counted once: the two together earn about what one earns alone, not twice as much.
    assert abs(first - second) <= 1
    assert first + second == pytest.approx(one, rel=0.25)


def test_a_planted_signal_earns_points_and_noise_none() -> None:
    leads = _synthetic(4000, seed=2)
    features = [Feature("job", "text"), Feature("colour", "text"), Feature("noise", "number"),
                Feature("visits", "number")]  # fmt: skip
    learned = learn_rules(leads, features, learn_until=AFTER_ALL)
    job = _points(learned.rules, "job")
    assert job["A"] > 0 and job["C"] < 0
    assert {r.attribute for r in learned.rules} >= {"job", "visits"}
    visits = {r.operator: r.points for r in learned.rules if r.attribute == "visits"}
    assert visits.get("gte", 0) > 0 and visits.get("lte", 0) < 0
    assert not [r for r in learned.rules if r.attribute in ("colour", "noise")]
    assert learned.regularisation in C_GRID
    # The learned rules rank the good leads above the others.
    scored = score_leads(leads.lazy(), Criteria(learned.rules, 0)).collect()
    means = scored.group_by("good").agg(pl.col("score").mean()).sort("good")["score"].to_list()
    assert means[1] > means[0] + 10


def test_rare_values_get_no_rule_but_are_listed_as_not_enough() -> None:
    leads = _synthetic(2000, seed=3)
    # Ten leads of a job nobody else has, all good: a perfect record that is too thin to act on.
    rare = _frame(
        [True] * 10, job=["Astronaut"] * 10, colour=["red"] * 10, noise=[50.0] * 10, visits=[5] * 10
    )
    learned = learn_rules(pl.concat([leads, rare]), [Feature("job", "text")], learn_until=AFTER_ALL)
    assert "Astronaut" not in _points(learned.rules, "job")
    row = learned.evidence.filter(pl.col("value") == "Astronaut").row(0, named=True)
    assert (row["count"], row["good"], row["points"], row["enough"]) == (10, 10, 0, False)


def test_at_most_max_rules_the_largest_first() -> None:
    leads = _synthetic(3000, seed=4)
    features = [Feature("job", "text"), Feature("visits", "number")]
    learned = learn_rules(leads, features, learn_until=AFTER_ALL, max_rules=2)
    assert len(learned.rules) == 2
    sizes = [abs(r.points) for r in learned.rules]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] >= 5
    # The evidence gives each rule's points beside its value and 0 to the values without a rule.
    kept = {(r.attribute, evidence_value(r)): r.points for r in learned.rules}
    table = {(a, v): p for a, v, p in learned.evidence.select("attribute", "value", "points").iter_rows()}
    assert {key: p for key, p in table.items() if p} == kept


def test_only_leads_created_before_learn_until_are_learned_from() -> None:
    older = _synthetic(1500, seed=5).with_columns(pl.lit("same").alias("job"))
    newer = _synthetic(1500, seed=6).with_columns(pl.col("created_at") + timedelta(days=30))
    learned = learn_rules(
        pl.concat([older, newer]), [Feature("job", "text")], learn_until=START + timedelta(days=20)
    )
    assert learned.rules == ()
    assert learned.evidence["count"].to_list() == [1500]


def test_no_evidence_learns_no_rules() -> None:
    features = [Feature("job", "text"), Feature("visits", "number")]
    empty = _frame([], job=[], visits=[]).cast({"good": pl.Boolean, "job": pl.String, "visits": pl.Int64})
    unknown = _frame([None] * 40, job=["A"] * 40, visits=[1] * 40).cast({"good": pl.Boolean})
    for leads in (empty, unknown):
        learned = learn_rules(leads, features, learn_until=AFTER_ALL)
        assert learned.rules == ()
        assert learned.evidence.schema == pl.Schema(EVIDENCE_SCHEMA) and learned.evidence.is_empty()


def test_one_outcome_only_learns_no_rules_but_keeps_the_evidence() -> None:
    leads = _frame([True] * 40, job=["A"] * 20 + ["B"] * 20, visits=list(range(40)))
    learned = learn_rules(leads, [Feature("job", "text"), Feature("visits", "number")], learn_until=AFTER_ALL)
    assert learned.rules == ()
    assert learned.evidence.filter(pl.col("attribute") == "job")["count"].to_list() == [20, 20]
    assert set(learned.evidence["points"]) == {0}


def test_a_missing_attribute_or_missing_values_are_no_rule() -> None:
    leads = _synthetic(2000, seed=7).with_columns(
        pl.when(pl.int_range(pl.len()) % 4 == 0).then(None).otherwise(pl.col("job")).alias("job")
    )
    learned = learn_rules(
        leads, [Feature("job", "text"), Feature("not_in_this_data", "number")], learn_until=AFTER_ALL
    )
    assert {r.attribute for r in learned.rules} == {"job"}
    assert set(learned.evidence["value"]) == {"A", "B", "C"}


def test_the_same_leads_learn_the_same_rules() -> None:
    leads = _synthetic(3000, seed=8)
    features = [Feature("job", "text"), Feature("visits", "number"), Feature("noise", "number")]
    first = learn_rules(leads, features, learn_until=AFTER_ALL)
    again = learn_rules(leads, features, learn_until=AFTER_ALL)
    assert first.rules == again.rules and first.evidence.equals(again.evidence)
    assert first.intercept == again.intercept


def test_a_large_window_is_sampled_by_outcome_the_same_way_each_time() -> None:
    # 100 leads, 30 good: a sample of 10 keeps 10 * 30 / 100 = 3 good and 7 others, in time order.
    rows = _frame([i % 10 < 3 for i in range(100)], job=["A"] * 100)
    sample = fit_sample(rows, limit=10)
    assert (sample.height, int(sample["good"].sum())) == (10, 3)
    assert sample["created_at"].is_sorted()
    assert sample.equals(fit_sample(rows, limit=10))


def test_a_feature_is_text_or_number() -> None:
    with pytest.raises(ValueError, match="text or number"):
        Feature("job", "date")


def test_each_rule_fires_for_the_leads_its_evidence_counts() -> None:
    # What is fitted is what will score: a text attribute stored as numbers (plan 1-3), one with padded
    # values, a number attribute stored as text with a non-number in it, and one with an infinity.
    leads = _synthetic(3000, seed=9).with_columns(
        pl.col("job").replace_strict({"A": 1, "B": 2, "C": 3}, return_dtype=pl.Int64).alias("plan"),
        (pl.lit(" ") + pl.col("job")).alias("padded"),
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("n/a"))
        .otherwise(pl.col("visits").cast(pl.String))
        .alias("visits_text"),
        pl.when(pl.int_range(pl.len()) == 1).then(float("inf")).otherwise(pl.col("noise")).alias("noise"),
    )
    features = [Feature("plan", "text"), Feature("padded", "text"), Feature("visits_text", "number"),
                Feature("noise", "number"), Feature("plan", "text"), Feature("good", "text")]  # fmt: skip
    learned = learn_rules(leads, features, learn_until=AFTER_ALL, min_points=1, max_rules=100)
    assert {r.attribute for r in learned.rules} >= {"plan", "padded", "visits_text"}
    counts = {(a, v): c for a, v, c in learned.evidence.select("attribute", "value", "count").iter_rows()}
    for rule in learned.rules:
        fired = leads.filter(rule.condition(leads.schema[rule.attribute])).height
        assert fired == counts[(rule.attribute, evidence_value(rule))], rule
    assert "good" not in set(learned.evidence["attribute"])
    assert not learned.evidence.select("attribute", "value").is_duplicated().any()


def test_a_yes_no_attribute_is_one_rule_for_its_less_usual_value() -> None:
    # Every lead is yes or no, so both columns can shift by the same amount without changing any ranking:
    # the usual value (no, 70% of the leads, the weighted median) reads 0 and yes carries the difference.
    generator = np.random.default_rng(11)
    consent = np.where(generator.random(2000) < 0.3, "yes", "no")
    good = generator.random(2000) < np.where(consent == "yes", 0.7, 0.3)
    learned = learn_rules(
        _frame(good.tolist(), consent=consent.tolist()), [Feature("consent", "text")], learn_until=AFTER_ALL
    )
    assert [(r.attribute, r.value) for r in learned.rules] == [("consent", "yes")]
    # log(0.7/0.3) - log(0.3/0.7) = 1.69 log-odds, about 34 points before shrinkage.
    assert 25 <= learned.rules[0].points <= 40


def test_a_pattern_of_the_older_leads_only_is_shrunk_hardest() -> None:
    # `trap` tells good from bad in the older two thirds of the window and nothing in the newer third:
    # the newer leads choose the strongest shrinkage; a signal that holds throughout chooses a weaker one.
    generator = np.random.default_rng(10)
    trap = generator.choice(np.array(["yes", "no"]), 3000)
    older = np.arange(3000) < 2000
    good = generator.random(3000) < np.where(older, np.where(trap == "yes", 0.8, 0.2), 0.5)

    def chosen_c(leads: pl.DataFrame, name: str) -> float:
        rows = learning_rows(leads, [Feature(name, "text")], AFTER_ALL)
        matrix = design(rows, text_candidates(rows, name, min_count=30))
        return choose_regularisation(matrix, rows["good"].to_numpy(), _model(C_GRID[0]))

    assert chosen_c(_frame(good.tolist(), trap=trap.tolist()), "trap") == C_GRID[0]
    assert chosen_c(_synthetic(3000, seed=12), "job") > C_GRID[0]


def test_the_log_odds_ratio_and_its_error_by_hand() -> None:
    # 100 leads, 50 good; the candidate fires for 40, 30 of them good. Cells plus a half: 30.5 fired good,
    # 10.5 fired not good, 20.5 other good, 40.5 other not good.
    effect, error = log_odds_ratio(np.array([30.0]), np.array([40.0]), 50.0, 100.0)
    assert effect[0] == pytest.approx(np.log(30.5 * 40.5 / (10.5 * 20.5)))  # 1.747
    assert error[0] == pytest.approx(np.sqrt(1 / 30.5 + 1 / 10.5 + 1 / 20.5 + 1 / 40.5))  # 0.449


def _fading_trap(n: int, seed: int, *, fades: bool = True) -> pl.DataFrame:
    """`job` plants a signal that holds throughout (as _synthetic); `promo` (yes for a third) doubles the
    odds of good... in the older two thirds only: in the newest third it is noise, as a leaked code."""
    generator = np.random.default_rng(seed)
    job = generator.choice(np.array(["A", "B", "C"]), n)
    promo = np.where(generator.random(n) < 1 / 3, "yes", "no")
    older = np.arange(n) < (n * 2 // 3 if fades else n)
    chance = np.select([job == "A", job == "B"], [0.6, 0.35], 0.15)
    chance = np.where(older & (promo == "yes"), np.minimum(chance * 1.6, 0.95), chance)
    good = generator.random(n) < chance
    return _frame(good.tolist(), job=job.tolist(), promo=promo.tolist())


def test_a_trap_that_fades_in_the_newer_leads_gets_no_rule_and_the_signal_keeps_its() -> None:
    leads = _fading_trap(9000, seed=21)
    features = [Feature("job", "text"), Feature("promo", "text")]
    learned = learn_rules(leads, features, learn_until=AFTER_ALL, min_points=3)
    job = _points(learned.rules, "job")
    assert job.get("A", 0) > 0 and job.get("C", 0) < job.get("A", 0)
    assert not [r for r in learned.rules if r.attribute == "promo"]
    assert {(r.attribute, r.value) for r in learned.unstable} == {("promo", "yes"), ("promo", "no")}
    # The trap's evidence stays in the table, worth 0 points.
    promo = learned.evidence.filter(pl.col("attribute") == "promo")
    assert promo.height == 2 and promo["points"].to_list() == [0, 0]
    # Without the fade (the trap throughout) the check keeps it: it is a signal then.
    steady = learn_rules(
        _fading_trap(9000, seed=21, fades=False), features, learn_until=AFTER_ALL, min_points=3
    )
    assert not steady.unstable and _points(steady.rules, "promo")


def test_a_steady_rule_with_few_newer_leads_is_kept() -> None:
    # Older 2000 leads: "vip" on 300 (210 good, 70%), the other 1700 30% good (510): an effect of
    # log(0.7/0.3) * 2 = 1.69 log-odds, error about 0.14, clear. Newer 1000 leads: "vip" on only 6, 1 good,
    # the other 994 30% good (298). The newer effect log(1.5 * 698.5 / (5.5 * 295.5)) = -0.44 looks reversed
    # but its error is 0.92: the top of its interval, -0.44 + 1.96 * 0.92 = 1.37, is above half of 1.69.
    def part(
        vip: int, vip_good: int, other: int, other_good: int, seed: int
    ) -> tuple[list[str | None], list[bool]]:
        order = np.random.default_rng(seed).permutation(vip + other)
        tier = np.array(["vip"] * vip + [None] * other, dtype=object)[order]
        good = np.array([True] * vip_good + [False] * (vip - vip_good) + [True] * other_good
                        + [False] * (other - other_good))[order]  # fmt: skip
        return tier.tolist(), good.tolist()

    old_tier, old_good = part(300, 210, 1700, 510, seed=1)
    new_tier, new_good = part(6, 1, 994, 298, seed=2)
    leads = _frame(old_good + new_good, tier=old_tier + new_tier)
    rows = learning_rows(leads, [Feature("tier", "text")], AFTER_ALL)
    matrix = design(rows, text_candidates(rows, "tier", min_count=30))
    assert stable_columns(matrix, rows["good"].to_numpy()).tolist() == [True]
    learned = learn_rules(leads, [Feature("tier", "text")], learn_until=AFTER_ALL)
    assert [(r.attribute, r.value) for r in learned.rules] == [("tier", "vip")] and not learned.unstable
    assert learned.rules[0].points > 0
    # The same six newer vip leads as a thousand (167 good): the effect has faded, at a clear margin.
    faded_tier, faded_good = part(1000, 167, 994, 298, seed=3)
    faded = _frame(old_good + faded_good[:1000], tier=old_tier + faded_tier[:1000])
    rows = learning_rows(faded, [Feature("tier", "text")], AFTER_ALL)
    matrix = design(rows, text_candidates(rows, "tier", min_count=30))
    assert STABLE_SHARE < 1 and stable_columns(matrix, rows["good"].to_numpy()).tolist() == [False]
