"""Learning a version's points jointly, so that correlated attributes are not counted twice.

The evidence (a lead is good, or not) is explained by every candidate at once with a regularised logistic
regression (scikit-learn's, L2) over:

- **text values**: one column per value with at least `min_count` leads with evidence; rarer values and
  missing ones share the reference (no column, no rule), so a value seen a handful of times never moves a
  score;
- **number bands**: each number attribute cut at quantiles of the learning rows into at most `bands` bands
  with readable edges (the lowest band "is at most", the highest "is at least", the others "is between"; for
  whole numbers the bands do not overlap); a missing number is the reference.

Before the fit, each candidate must hold in the newer part of the window too (the newest third of the
learning rows): a candidate whose effect (its log-odds ratio, good among the leads it fires for against the
rest) is clear in the older part and, in the newer part, reverses or shrinks below STABLE_SHARE of it even
at the top of its interval (STABLE_Z standard errors) gets no column: a pattern that has faded, as a
promotion that leaked to a coupon site, is not learnt. The interval makes the check significance-aware: a
genuine rule with few newer leads has a wide interval and is kept.

The regularisation is chosen where it matters: fitted on the older part of the learning window, scored
(log loss) on the newer rest, so a pattern that holds only in the older leads is shrunk; then the model is
fitted again on the whole window with that choice. Coefficients become whole points (points per unit of
log-odds, as in core.tuning), an attribute every lead has one value of reading 0 for its typical value
(the same ranking, fewer rules); small ones are dropped, the version is capped at a size a person reads in a
minute, and the kept rules are fitted once more on their own, so their points are what they earn without
the dropped ones.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from core.criteria import Rule, number_text
from core.stats import rate

if TYPE_CHECKING:
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

# scipy and scikit-learn take a second or more to import: they are imported where a version is learned,
# not by every page that imports core.

FEATURE_KINDS = ("text", "number")
# Regularisation strengths tried (scikit-learn's C: larger trusts the data more), weakest shrinkage last.
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
DEFAULT_C = 0.1  # when the window cannot be split into an older and a newer part with both outcomes
OLDER_SHARE = 2 / 3
# The stability check: a candidate clear in the older part (|effect| >= STABLE_Z standard errors) whose
# newer effect, at the top of its interval (+ STABLE_Z standard errors, in the older effect's direction),
# is under STABLE_SHARE of the older effect (it lost more than half of it, beyond doubt) has faded and gets
# no column.
STABLE_Z = 1.96
STABLE_SHARE = 1 / 2
MAX_FIT_LEADS = 200_000  # more leads than this are sampled (by outcome, seeded): the points barely move
SEED = 20_261_206
PRIOR_LEADS = 20.0  # the evidence table's shrunk rate, as core.tuning's
MAX_THIN_VALUES = 20  # rare text values listed per attribute (marked not enough), the most common first
MAX_ITERATIONS = 300
OURS = ("created_at", "good")  # the learner's own columns, never a feature
# The evidence table's columns (core.tuning names them from here: its evidence table is this one).
EVIDENCE_SCHEMA: dict[str, pl.DataType] = {
    "attribute": pl.String(),
    "value": pl.String(),
    "count": pl.Int64(),
    "good": pl.Int64(),
    "rate": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "shrunk": pl.Float64(),
    "lift": pl.Float64(),
    "points": pl.Int64(),
    "enough": pl.Boolean(),
}


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "text" or "number"

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise ValueError(f"a feature is text or number, not {self.kind!r}")


@dataclass(frozen=True)
class Learned:
    rules: tuple[Rule, ...]  # at most max_rules, the largest points (either sign) first
    evidence: pl.DataFrame  # EVIDENCE_SCHEMA: one row per candidate text value or number band
    regularisation: float  # the C chosen (0.0 when nothing was fitted)
    intercept: float  # log-odds of a lead no rule fires for
    unstable: tuple[Rule, ...] = ()  # candidates left out because their effect faded in the newer leads


@dataclass(frozen=True)
class Candidate:
    """A text value or a number band: the rule it would be (worth 0 points yet) and its support."""

    rule: Rule
    label: str  # its value in the evidence table
    count: int  # learning leads with evidence it fires for
    good: int  # of those, the good ones
    enough: bool  # count >= min_count: it gets a column in the fit


def evidence_value(rule: Rule) -> str:
    """The evidence table's value for a learned rule: the text value, or the band ("≤ 2", "3 to 4", "≥ 9")."""
    match rule.operator:
        case "lte":
            return f"≤ {number_text(rule.value)}"
        case "gte":
            return f"≥ {number_text(rule.value)}"
        case "between":
            band: list[object] = list(rule.value)  # type: ignore[call-overload]
            return f"{number_text(band[0])} to {number_text(band[1])}"
        case _:
            return str(rule.value)


def learning_rows(evidence: pl.DataFrame, features: Sequence[Feature], learn_until: datetime) -> pl.DataFrame:
    """The leads created before `learn_until` with evidence, oldest first: `created_at`, `good` and each
    feature the frame has, once (text as String, blank read as missing; numbers as Float64, non-numbers
    missing). Values are read as a rule reads them (core.criteria), so what is fitted is what will score."""
    names = dict.fromkeys(f.name for f in features if f.name in evidence.columns and f.name not in OURS)
    kinds = {f.name: f.kind for f in reversed(features)}  # the first kind given for a name
    columns = [
        (
            pl.col(name).cast(pl.String).replace("", None)
            if kinds[name] == "text"
            else pl.col(name).cast(pl.Float64, strict=False)
        )
        for name in names
    ]
    return (
        evidence.filter((pl.col("created_at") < learn_until) & pl.col("good").is_not_null())
        .select("created_at", pl.col("good").cast(pl.Boolean), *columns)
        .sort("created_at", maintain_order=True)
    )


def text_candidates(rows: pl.DataFrame, name: str, *, min_count: int) -> list[Candidate]:
    """Each value with at least `min_count` leads, then the MAX_THIN_VALUES most common rarer ones, each
    group most common first (ties by value)."""
    counts = (
        rows.filter(pl.col(name).is_not_null())
        .group_by(pl.col(name).alias("value"))
        .agg(pl.len().alias("count"), pl.col("good").sum().alias("good"))
        .sort(["count", "value"], descending=[True, False])
    )
    enough = counts.filter(pl.col("count") >= min_count)
    thin = counts.filter(pl.col("count") < min_count).head(MAX_THIN_VALUES)
    return [
        Candidate(Rule(name, "eq", value, 0), value, int(count), int(good), count >= min_count)
        for value, count, good in pl.concat([enough, thin]).iter_rows()
    ]


def _readable(number: float) -> float:
    """A band edge as a person writes it: three significant digits (137.42 -> 137, 0.012345 -> 0.0123)."""
    return float(f"{number:.3g}") if number else 0.0


def band_edges(values: pl.Series, bands: int) -> list[float]:
    """The edges that cut `values` into at most `bands` bands: the values at the 1/bands, 2/bands, ...
    quantiles (a value of the data, the lower one between two), readable, each once, ascending."""
    known = values.filter(values.is_finite())
    if known.is_empty() or bands < 2:
        return []
    edges = {_readable(float(known.quantile(k / bands, "lower"))) for k in range(1, bands)}  # type: ignore[arg-type]
    return sorted(edges)


def _number(value: float, whole: bool) -> int | float:
    return int(value) if whole else value


def band_rules(name: str, edges: Sequence[float], *, whole: bool) -> list[Rule]:
    """The bands between `edges` as rules: at most the first edge, between two edges, at least the last.
    For whole numbers a band starts one above the edge below it (no lead is in two bands); otherwise
    neighbouring bands share their edge."""
    if not edges:
        return []
    step = 1 if whole else 0
    rules = [Rule(name, "lte", _number(edges[0], whole), 0)]
    for low, high in pairwise(edges):
        start = low + step
        if start <= high:
            rules.append(Rule(name, "between", [_number(start, whole), _number(high, whole)], 0))
    rules.append(Rule(name, "gte", _number(edges[-1] + step, whole), 0))
    return rules


def number_candidates(rows: pl.DataFrame, name: str, *, bands: int, min_count: int) -> list[Candidate]:
    """The bands of a number attribute with at least one lead, lowest first."""
    known = rows[name].filter(rows[name].is_finite())
    whole = bool(known.is_empty() or (known == known.round(0)).all())
    rules = band_rules(name, band_edges(known, bands), whole=whole)
    if not rules:
        return []
    dtype = rows.schema[name]
    fired = [rule.condition(dtype) for rule in rules]
    sums = rows.select(
        *(f.sum().alias(f"count{i}") for i, f in enumerate(fired)),
        *((f & pl.col("good")).sum().alias(f"good{i}") for i, f in enumerate(fired)),
    ).row(0, named=True)
    found = []
    for i, rule in enumerate(rules):
        count, good = int(sums[f"count{i}"]), int(sums[f"good{i}"])
        if count:
            found.append(Candidate(rule, evidence_value(rule), count, good, count >= min_count))
    return found


def candidates(rows: pl.DataFrame, *, min_count: int, bands: int) -> list[Candidate]:
    """Every text value and number band of the features of `learning_rows`, in the features' order."""
    found: list[Candidate] = []
    for name, dtype in rows.schema.items():
        if name in OURS:
            continue
        if dtype == pl.String:
            found += text_candidates(rows, name, min_count=min_count)
        else:
            found += number_candidates(rows, name, bands=bands, min_count=min_count)
    return found


def fit_sample(rows: pl.DataFrame, limit: int = MAX_FIT_LEADS) -> pl.DataFrame:
    """At most `limit` of the rows, the same share of the good and of the other leads (seeded, so the same
    rows give the same sample), in their order."""
    if rows.height <= limit:
        return rows
    generator = np.random.default_rng(SEED)
    good = rows["good"].to_numpy()
    picked = [
        generator.choice(where, size=round(len(where) * limit / rows.height), replace=False)
        for where in (np.flatnonzero(good), np.flatnonzero(~good))
    ]
    return rows[np.sort(np.concatenate(picked))]


def design(rows: pl.DataFrame, chosen: Sequence[Candidate]) -> sparse.csr_matrix:
    """A lead per row, a 1 where a candidate's rule fires for it."""
    from scipy import sparse

    if not chosen:
        return sparse.csr_matrix((rows.height, 0))
    fired = rows.select(
        *(c.rule.condition(rows.schema[c.rule.attribute]).alias(str(i)) for i, c in enumerate(chosen))
    )
    lead_index = [np.flatnonzero(fired[str(i)].to_numpy()) for i in range(len(chosen))]
    rows_at = np.concatenate(lead_index)
    columns_at = np.repeat(np.arange(len(chosen)), [len(r) for r in lead_index])
    ones = np.ones(len(rows_at))
    return sparse.csr_matrix((ones, (rows_at, columns_at)), shape=(rows.height, len(chosen)))


def _model(c: float) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    # l1_ratio 0 is the L2 penalty: correlated columns share the points instead of one taking them all.
    return LogisticRegression(C=c, l1_ratio=0.0, solver="lbfgs", max_iter=MAX_ITERATIONS, warm_start=True)


def _fit(model: LogisticRegression, matrix: sparse.csr_matrix, good: np.ndarray) -> LogisticRegression:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # A fit that stops at MAX_ITERATIONS is still a fine set of points, to the nearest point.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(matrix, good)


def both_outcomes(good: np.ndarray) -> bool:
    return bool(good.any() and not good.all())


def log_odds_ratio(
    fired_good: np.ndarray, fired: np.ndarray, good: float, total: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate, the log odds of good among the leads it fires for over those among the rest, and its
    standard error (Woolf's, each cell of the two-by-two table plus a half, so an empty cell is finite)."""
    cells = (
        fired_good + 0.5,
        fired - fired_good + 0.5,
        good - fired_good + 0.5,
        total - fired - good + fired_good + 0.5,
    )
    effect = np.log(cells[0]) + np.log(cells[3]) - np.log(cells[1]) - np.log(cells[2])
    return effect, np.sqrt(sum(1 / cell for cell in cells))


def _effects(matrix: sparse.csr_matrix, good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fired = np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel()
    fired_good = np.asarray(matrix.T @ good.astype(np.float64), dtype=np.float64).ravel()
    return log_odds_ratio(fired_good, fired, float(good.sum()), float(len(good)))


def stable_columns(matrix: sparse.csr_matrix, good: np.ndarray) -> np.ndarray:
    """True for each column whose effect holds in the newer rows (the last 1 - OLDER_SHARE, in time order):
    False only where the older effect is clear and the newer one, even at the top of its interval, is
    below STABLE_SHARE of it (reversed, or shrunk to near nothing). All True when a part lacks an
    outcome."""
    cut = int(len(good) * OLDER_SHARE)
    if not (both_outcomes(good[:cut]) and both_outcomes(good[cut:])):
        return np.ones(matrix.shape[1], dtype=bool)
    older, older_error = _effects(matrix[:cut], good[:cut])
    newer, newer_error = _effects(matrix[cut:], good[cut:])
    clear = np.abs(older) >= STABLE_Z * older_error
    faded = np.sign(older) * newer + STABLE_Z * newer_error < STABLE_SHARE * np.abs(older)
    return np.asarray(~(clear & faded), dtype=bool)


def choose_regularisation(matrix: sparse.csr_matrix, good: np.ndarray, model: LogisticRegression) -> float:
    """The C of C_GRID whose model, fitted on the older OLDER_SHARE of the rows (in time order), predicts
    the newer rest best (lowest log loss; ties to the stronger shrinkage). The grid is walked from the
    weakest shrinkage down and left at the first C that predicts worse than the best so far (the loss of
    a ridge path has one low point: a window that wants little shrinkage takes two or three fits,
    not six). Each fit of `model` starts from the last one's points (a few iterations instead of twenty)."""
    from sklearn.metrics import log_loss

    cut = int(len(good) * OLDER_SHARE)
    older, newer = good[:cut], good[cut:]
    if not (both_outcomes(older) and both_outcomes(newer)):
        return DEFAULT_C
    older_rows, newer_rows = matrix[:cut], matrix[cut:]
    best, best_loss = DEFAULT_C, math.inf
    for c in reversed(C_GRID):
        model.set_params(C=c)
        _fit(model, older_rows, older)
        loss = float(log_loss(newer, model.predict_proba(newer_rows)[:, 1], labels=[False, True]))
        if loss > best_loss + 1e-9:
            break
        best, best_loss = c, loss
    return best


def fitted(
    matrix: sparse.csr_matrix, good: np.ndarray, model: LogisticRegression
) -> tuple[np.ndarray, float]:
    """The log-odds per column and the intercept of `model` fitted to the rows."""
    model = _fit(model, matrix, good)
    return np.array(model.coef_[0], dtype=np.float64), float(model.intercept_[0])


def whole_points(weights: np.ndarray, per_logit: float) -> list[int]:
    return [round(per_logit * float(w)) for w in weights]


def weighted_median(values: Sequence[float], weights: Sequence[int]) -> float:
    """The value at which half the weight lies at or below it (the lower one on a tie)."""
    half = sum(weights) / 2
    running = 0
    for i in sorted(range(len(values)), key=lambda i: (values[i], i)):
        running += weights[i]
        if running >= half:
            return values[i]
    return 0.0


def typical_at_zero(chosen: Sequence[Candidate], weights: np.ndarray, leads: int) -> np.ndarray:
    """The weights with each attribute that every lead has exactly one column of (no missing or rare value,
    no lead in two bands) shifted so that its typical lead (the weighted median) earns 0. Shifting every
    value of such an attribute by the same amount changes no ranking; this shift states the fewest points
    (a yes/no attribute becomes one rule, not +9 for yes and -9 for no)."""
    shifted = weights.copy()
    by_attribute: dict[str, list[int]] = {}
    for i, candidate in enumerate(chosen):
        by_attribute.setdefault(candidate.rule.attribute, []).append(i)
    for indexes in by_attribute.values():
        if sum(chosen[i].count for i in indexes) == leads:
            typical = weighted_median(
                [float(weights[i]) for i in indexes], [chosen[i].count for i in indexes]
            )
            shifted[indexes] -= typical
    return shifted


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def worth_stating(
    chosen: Sequence[Candidate], points: Sequence[int], *, min_points: int, max_rules: int
) -> list[int]:
    """Indexes of the columns worth a rule: |points| >= min_points, the largest first (ties: more support,
    then the candidates' order), at most max_rules."""
    kept = [i for i, p in enumerate(points) if abs(p) >= min_points]
    kept.sort(key=lambda i: (-abs(points[i]), -chosen[i].count, i))
    return kept[:max_rules]


def evidence_table(found: Sequence[Candidate], points: dict[int, int], baseline: float) -> pl.DataFrame:
    """Per candidate: its support, the share good with its interval, that share shrunk toward the baseline
    (a prior worth PRIOR_LEADS leads) and its lift over the baseline, and the points of its rule (0 for a
    candidate without one). Candidates with a rule first, largest points first."""
    rows = []
    for i, c in enumerate(found):
        interval = rate(c.good, c.count)
        shrunk = (c.good + PRIOR_LEADS * baseline) / (c.count + PRIOR_LEADS)
        rows.append((c.rule.attribute, c.label, c.count, c.good, interval.value, interval.ci_low,
                     interval.ci_high, shrunk, shrunk / baseline if baseline else None, points.get(i, 0),
                     c.enough))  # fmt: skip
    table = pl.DataFrame(rows, schema=EVIDENCE_SCHEMA, orient="row")
    return (
        table.with_row_index("order")
        .sort([pl.col("points").abs(), "order"], descending=[True, False])
        .drop("order")
    )


def _nothing(found: Sequence[Candidate], baseline: float | None, unstable: tuple[Rule, ...] = ()) -> Learned:
    """No rules: nothing to learn from, or nothing that tells good from not good (or holds)."""
    table = (
        evidence_table(found, {}, baseline) if baseline is not None else pl.DataFrame(schema=EVIDENCE_SCHEMA)
    )
    return Learned((), table, 0.0, _logit(baseline) if baseline is not None else 0.0, unstable)


def learn_rules(
    evidence: pl.DataFrame,
    features: Sequence[Feature],
    *,
    learn_until: datetime,
    min_count: int = 30,
    max_rules: int = 25,
    points_per_logit: float = 20.0,
    min_points: int = 5,
    bands: int = 5,
) -> Learned:
    """The rules (and their evidence) that tell good leads from the others among those created before
    `learn_until`, their points fitted jointly (see the module's docstring)."""
    rows = learning_rows(evidence, features, learn_until)
    if rows.is_empty():
        return _nothing([], None)
    baseline = float(rows["good"].mean())  # type: ignore[arg-type]
    found = candidates(rows, min_count=min_count, bands=bands)
    columns = [i for i, c in enumerate(found) if c.enough]
    if not columns or not both_outcomes(rows["good"].to_numpy()):
        return _nothing(found, baseline)
    sample = fit_sample(rows)
    good = sample["good"].to_numpy()
    chosen = [found[i] for i in columns]
    matrix = design(sample, chosen)
    stable = stable_columns(matrix, good)
    unstable = tuple(chosen[i].rule for i in np.flatnonzero(~stable))
    if unstable:
        held = np.flatnonzero(stable)
        columns, chosen = [columns[i] for i in held], [chosen[i] for i in held]
        matrix = matrix[:, held]
        if not columns:
            return _nothing(found, baseline, unstable)
    model = _model(C_GRID[0])
    c = choose_regularisation(matrix, good, model)
    model.set_params(C=c)
    weights, _ = fitted(matrix, good, model)
    points = whole_points(typical_at_zero(chosen, weights, rows.height), points_per_logit)
    kept = worth_stating(chosen, points, min_points=min_points, max_rules=max_rules)
    final: dict[int, int] = {}
    intercept = _logit(baseline)
    if kept:  # once more on the kept rules alone: the points the version's rules earn without the others
        weights, intercept = fitted(matrix[:, kept], good, _model(c))
        final = dict(zip(kept, whole_points(weights, points_per_logit), strict=True))
        kept = worth_stating(
            chosen, [final.get(i, 0) for i in range(len(chosen))], min_points=min_points, max_rules=max_rules
        )
    rules = tuple(
        Rule(chosen[i].rule.attribute, chosen[i].rule.operator, chosen[i].rule.value, final[i]) for i in kept
    )
    table = evidence_table(found, {columns[i]: final[i] for i in kept}, baseline)
    return Learned(rules, table, c, intercept, unstable)
