"""Tuning the targeting criteria from what sales says (ratings, fast) and what happened (won/lost, slow).

1. Ratings are calibrated: a rater who is systematically harsher or kinder than their team is shifted by
   their offset from the team's mean, shrunk toward zero while they have rated few leads.
2. Each lead with evidence is *good* or not: its calibrated rating reads 4-5 stars, else (unrated) it was
   won rather than lost. Leads without either say nothing.
3. For each attribute value (and each count rule of the current version) the share of good leads is
   shrunk toward the baseline (a Beta prior worth PRIOR_LEADS leads), with its Wilson interval and count;
   values seen fewer than MIN_COUNT times are shown but never acted on.
4. The evidence's points (POINTS_PER_LOGIT per unit of shrunk log-odds over the baseline) are what a
   value or count rule deserves, not a step to add: the suggestion gives a rule of the current version
   whose condition the evidence measures (a text value's "is" rule, a count rule) those points, and adds
   an "is" rule only for a value with no rule of its own. So tuning again after the suggestion was
   approved gives the same rules, not a second adjustment on top of the first. Changes under MIN_POINTS
   are not worth stating. The threshold pursues a goal (core.goals): keep the learning window's MQL volume,
   hit the SLA's committed MQLs, or keep 90% of the won deals and revenue with the fewest MQLs.
5. The backtest replays a newer window under both versions: MQL volume, share rated 4-5, MQL -> SQL, the
   share of won deals and of won revenue that would still have been MQLs, and how well the score ranks
   won above lost and rated good above rated not good (ROC AUC).

Evidence exists only for leads that were MQLs under the criteria of their day (sales never sees the
others), so a value the current version keeps out gains points only when the few that got in were good.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from core.criteria import COUNT_ATTRIBUTES, TEXT_ATTRIBUTES, Criteria, Rule, attribute_label, lead_scores
from core.goals import (
    DEFAULT_KEEP,
    Goal,
    checked_keep,
    default_goal,
    goal_sentence,
    threshold_for_goal,
)
from core.goals import threshold_for_volume as threshold_for_volume  # found here before core.goals was
from core.learner import EVIDENCE_SCHEMA as EVIDENCE_SCHEMA  # one schema: the learner's evidence is the table
from core.learner import Feature, learn_rules
from core.stats import NO_AUC, Auc, Rate, rate, roc_auc

MIN_COUNT = 30
PRIOR_LEADS = 20.0
PRIOR_RATINGS = 20.0
POINTS_PER_LOGIT = 20.0
MIN_POINTS = 5
# A jointly fitted, regularised version spreads the evidence over many small rules: dropping those under 5
# points left the demo's suggestion three rules and a score too coarse to rank by (ranking AUC 0.58 against
# 0.61 at 3, with acceptance +17 points instead of +5 at the same volume).
LEARNED_MIN_POINTS = 3
GOOD_STARS = 3.5  # a mean (calibrated) rating of 3.5 or more reads as 4-5 stars


def calibrated_ratings(ratings: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """Each rating (lead_id, rater_id, stars) with the rater's `offset` from their team's mean rating
    (shrunk by n / (n + PRIOR_RATINGS)) and `calibrated` = stars - offset."""
    teams = people.select(pl.col("user_id").alias("rater_id"), "team_id")
    rated = ratings.join(teams, on="rater_id", how="left").with_columns(
        pl.col("stars").cast(pl.Float64), pl.col("team_id").fill_null(-1)
    )
    offsets = (
        rated.with_columns(pl.col("stars").mean().over("team_id").alias("team_mean"))
        .group_by("rater_id")
        .agg(
            (
                (pl.col("stars").mean() - pl.col("team_mean").first()) * pl.len() / (pl.len() + PRIOR_RATINGS)
            ).alias("offset")
        )
    )
    return (
        rated.join(offsets, on="rater_id", how="left")
        .with_columns((pl.col("stars") - pl.col("offset")).alias("calibrated"))
        .drop("team_id")
    )


def lead_evidence(
    leads: pl.DataFrame, calibrated: pl.DataFrame, *, losses_recorded: bool = True, wins_recorded: bool = True
) -> pl.DataFrame:
    """The leads with `stars` (mean raw rating), `calibrated` (mean calibrated rating) and `good`: the
    calibrated rating when rated, else won (True) or lost (False), else null. Where the data never records
    a loss (Olist keeps only won deals), an MQL that was not won counts as not good; where it records no
    outcome at all, only ratings are evidence (an MQL is not "not won" in an export without deals)."""
    per_lead = calibrated.group_by("lead_id").agg(
        pl.col("stars").mean().alias("stars"), pl.col("calibrated").mean().alias("calibrated")
    )
    if losses_recorded:
        not_won = pl.col("outcome") == "lost"
    else:
        not_won = pl.col("mql_at").is_not_null() & pl.lit(wins_recorded)
    return leads.join(per_lead, left_on="id", right_on="lead_id", how="left").with_columns(
        pl.when(pl.col("calibrated").is_not_null())
        .then(pl.col("calibrated") >= GOOD_STARS)
        .when(pl.col("outcome") == "won")
        .then(True)
        .when(not_won)
        .then(False)
        .alias("good")
    )


def judged_leads(leads: pl.DataFrame, ratings: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """lead_evidence of the leads, with whether the data records losses and wins read from the leads."""
    outcome = leads["outcome"]
    return lead_evidence(
        leads, calibrated_ratings(ratings, people), losses_recorded=bool((outcome == "lost").any()),
        wins_recorded=bool((outcome == "won").any()),
    )  # fmt: skip


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def evidence_label(rule: Rule) -> str | None:
    """The evidence table's value for the condition of `rule` (a text value, or "≥ 5" for a count rule);
    None for a rule whose condition the table does not measure on its own ("is one of", "is not")."""
    if rule.operator == "eq" and rule.attribute in TEXT_ATTRIBUTES:
        return str(rule.value)
    if rule.operator in ("gte", "lte"):
        return f"{'≥' if rule.operator == 'gte' else '≤'} {rule.value}"
    return None


def _merged(rules: Sequence[Rule]) -> list[Rule]:
    """One rule per condition (attribute, operator, value), worth the points of all its copies: a version
    approved before suggestions set points, rather than adding to them, may hold a condition twice."""
    found: dict[tuple[str, str, object], Rule] = {}
    for rule in rules:
        value = tuple(rule.value) if isinstance(rule.value, list | tuple) else rule.value
        key = (rule.attribute, rule.operator, value)
        points = rule.points + (found[key].points if key in found else 0)
        found[key] = Rule(rule.attribute, rule.operator, rule.value, points)
    return list(found.values())


def _conditions(current: Criteria) -> list[tuple[str, str, pl.Expr]]:
    """(attribute, value label, condition) for every text value and every count rule of the version."""
    found: list[tuple[str, str, pl.Expr]] = [
        (attribute, "", pl.col(attribute)) for attribute in TEXT_ATTRIBUTES
    ]  # text attributes are grouped by value below; count rules are conditions of their own
    for rule in _merged(current.rules):
        label = evidence_label(rule)
        if rule.attribute in COUNT_ATTRIBUTES and label is not None:
            found.append((rule.attribute, label, rule.condition()))
    return found


def evidence_table(evidence: pl.DataFrame, current: Criteria, *, min_count: int = MIN_COUNT) -> pl.DataFrame:
    """Per attribute value: leads with evidence, how many were good, the rate with its interval, the rate
    shrunk toward the baseline, its lift over the baseline and the points that lift is worth."""
    known = evidence.filter(pl.col("good").is_not_null())
    if known.is_empty():
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    baseline = float(known["good"].mean())  # type: ignore[arg-type]
    parts = []
    for attribute, label, condition in _conditions(current):
        if attribute not in known.columns:  # a data set without that attribute has no evidence on it
            continue
        if label:
            grouped = known.filter(condition).select(
                pl.lit(attribute).alias("attribute"),
                pl.lit(label).alias("value"),
                pl.len().cast(pl.Int64).alias("count"),
                pl.col("good").sum().cast(pl.Int64).alias("good"),
            )
        else:
            grouped = (
                known.filter(pl.col(attribute).is_not_null())
                .group_by(pl.col(attribute).cast(pl.String).alias("value"))
                .agg(
                    pl.len().cast(pl.Int64).alias("count"), pl.col("good").sum().cast(pl.Int64).alias("good")
                )
                .select(pl.lit(attribute).alias("attribute"), "value", "count", "good")
            )
        parts.append(grouped)
    table = pl.concat(parts).filter(pl.col("count") > 0)
    rows = []
    for attribute, value, count, good in table.iter_rows():
        interval = rate(good, count)
        shrunk = (good + PRIOR_LEADS * baseline) / (count + PRIOR_LEADS)
        points = round(POINTS_PER_LOGIT * (_logit(shrunk) - _logit(baseline)))
        rows.append((attribute, value, count, good, interval.value, interval.ci_low, interval.ci_high, shrunk,
                     shrunk / baseline if baseline else None, points, count >= min_count))  # fmt: skip
    return pl.DataFrame(rows, schema=EVIDENCE_SCHEMA, orient="row").sort(
        ["enough", "lift"], descending=[True, False], nulls_last=True
    )


def _deserved_points(table: pl.DataFrame) -> dict[tuple[str, str], int]:
    """(attribute, value label) -> the points the evidence says it is worth, where the evidence is enough;
    in the table's order."""
    acted = table.filter(pl.col("enough"))
    return {(a, v): int(p) for a, v, p in acted.select("attribute", "value", "points").iter_rows()}


def suggested_rules(table: pl.DataFrame, current: Criteria) -> list[Rule]:
    """The current rules, each whose condition has enough evidence set to the points it deserves (when
    that moves it by MIN_POINTS or more; a rule worth 0 is left out), then an "is" rule for each text
    value with enough evidence and no rule of its own, worth stating."""
    deserved = _deserved_points(table)
    rules = []
    for rule in _merged(current.rules):
        label = evidence_label(rule)
        points = deserved.pop((rule.attribute, label), None) if label is not None else None
        if points is None or abs(points - rule.points) < MIN_POINTS:
            rules.append(rule)
        elif points != 0:
            rules.append(Rule(rule.attribute, rule.operator, rule.value, points))
    rules += [
        Rule(attribute, "eq", value, points)
        for (attribute, value), points in deserved.items()
        if attribute in TEXT_ATTRIBUTES and abs(points) >= MIN_POINTS
    ]
    return rules


def propose(
    evidence: pl.DataFrame,
    current: Criteria,
    table: pl.DataFrame,
    *,
    learn_until: datetime,
    volume: int | None = None,
    goal: Goal = Goal.volume,
    keep: float = DEFAULT_KEEP,
    committed: int | None = None,
    rules: Sequence[Rule] | None = None,
) -> Criteria:
    """`rules` (by default the current rules given the points the evidence says they deserve, see
    suggested_rules) at the threshold that pursues `goal` on the learning window
    (core.goals.threshold_for_goal)."""
    chosen = tuple(suggested_rules(table, current) if rules is None else rules)
    learning = evidence.filter(pl.col("created_at") < learn_until)
    threshold = threshold_for_goal(
        learning, chosen, goal, current=current, learn_until=learn_until, keep=keep, committed=committed,
        volume=volume,
    )  # fmt: skip
    return Criteria(chosen, threshold)


AFTER_SALE_SHARE = 0.95  # of the leads an attribute is filled for, the share won that marks it as a leak


def after_sale_reasons(leads: pl.DataFrame, names: Sequence[str]) -> dict[str, str]:
    """Why each of `names` that cannot pick leads before the sale cannot: an attribute filled in (almost)
    only on won deals is recorded by the sale itself (a closed-deals export joined on), so learning from it
    would learn the outcome. Data that is all wins (nothing to tell apart) has no such leak. One pass
    over the leads for every name."""
    present = [name for name in dict.fromkeys(names) if name in leads.columns]
    if not present or "outcome" not in leads.columns:
        return {}
    won = pl.col("outcome") == "won"

    def filled(name: str) -> pl.Expr:
        return pl.col(name).is_not_null() & (pl.col(name).cast(pl.String) != "")

    counts = leads.select(
        won.sum().alias("__all_won"),
        *(filled(name).sum().alias(f"filled {i}") for i, name in enumerate(present)),
        *((filled(name) & won).sum().alias(f"won {i}") for i, name in enumerate(present)),
    ).row(0, named=True)
    if int(counts["__all_won"] or 0) > leads.height / 2:
        return {}
    reasons = {}
    for i, name in enumerate(present):
        count, won_count = int(counts[f"filled {i}"] or 0), int(counts[f"won {i}"] or 0)
        if count >= MIN_COUNT and won_count >= AFTER_SALE_SHARE * count:
            reasons[name] = (
                f"filled in almost only on won deals ({won_count:,} of {count:,}): recorded with the sale, "
                "it cannot pick leads before it"
            )
    return reasons


def after_sale_reason(leads: pl.DataFrame, name: str) -> str | None:
    """after_sale_reasons for one name: why it cannot pick leads before the sale, or None."""
    return after_sale_reasons(leads, [name]).get(name)


def lead_features(leads: pl.DataFrame) -> list[Feature]:
    """The lead's own targeting fields the frame holds: what is learnt from when no catalogue says more."""
    return [Feature(name, "text") for name in TEXT_ATTRIBUTES if name in leads.columns] + [
        Feature(name, "number") for name in COUNT_ATTRIBUTES if name in leads.columns
    ]


@dataclass(frozen=True)
class Backtest:
    mql_count: int
    acceptance: Rate  # of the MQLs that were rated, the share rated 4-5 (raw stars, as sales saw them)
    mql_to_sql: Rate  # of the MQLs that sales saw at the time, the share it accepted
    won_recall: Rate  # of the won deals, the share that would be MQLs
    revenue_recall: float | None  # of the won revenue, the share that would be MQLs'
    ranking_auc: Auc = NO_AUC  # how well the score ranks the window's won leads above its lost ones
    good_auc: Auc = NO_AUC  # how well it ranks the leads rated 4-5 above the other rated ones

    def as_dict(self) -> dict[str, object]:
        return {
            "mql_count": self.mql_count,
            "acceptance_rate": self.acceptance.as_dict(),
            "mql_to_sql": self.mql_to_sql.as_dict(),
            "won_recall": self.won_recall.as_dict(),
            "revenue_recall": None if self.revenue_recall is None else round(self.revenue_recall, 6),
            "ranking_auc": self.ranking_auc.as_dict(),
            "good_auc": self.good_auc.as_dict(),
        }


def _lost(evidence: pl.DataFrame) -> pl.Expr:
    """A lost lead; where the data never records a loss (Olist), an MQL that was not won, as lead_evidence
    reads it."""
    if bool((evidence["outcome"] == "lost").any()):
        return pl.col("outcome") == "lost"
    return pl.col("mql_at").is_not_null() & (pl.col("outcome") != "won").fill_null(True)


def ranking_quality(scored: pl.DataFrame, lost: pl.Expr) -> tuple[Auc, Auc]:
    """(won against lost, rated 4-5 against rated lower): the ROC AUC of `scored`'s score for each."""
    won = (pl.col("outcome") == "won").fill_null(False)
    closed = scored.filter(won | lost).with_columns(won.alias("won"))
    rated = scored.filter(pl.col("stars").is_not_null())
    return (
        roc_auc(closed["score"], closed["won"]),
        roc_auc(rated["score"], rated["stars"] >= GOOD_STARS),
    )


BACKTEST_COLUMNS = ("outcome", "amount", "mql_at", "sql_at", "stars")


def backtest(evidence: pl.DataFrame, criteria: Criteria, *, start: datetime, end: datetime) -> Backtest:
    """Replay the leads created in [start, end) under `criteria`."""
    window = evidence.lazy().filter((pl.col("created_at") >= start) & (pl.col("created_at") < end))
    scored = lead_scores(window, criteria).select("score", "is_mql", *BACKTEST_COLUMNS).collect()
    mql = scored.filter(pl.col("is_mql"))
    seen = mql.filter(pl.col("mql_at").is_not_null())  # the MQLs sales saw: only they could become SQLs
    rated = mql.filter(pl.col("stars").is_not_null())
    won = scored.filter(pl.col("outcome") == "won")
    won_mql = won.filter(pl.col("is_mql"))
    revenue = float(won["amount"].fill_null(0).sum())
    ranking, good = ranking_quality(scored, _lost(evidence))
    return Backtest(
        mql_count=mql.height,
        acceptance=rate(int((rated["stars"] >= GOOD_STARS).sum()), rated.height),
        mql_to_sql=rate(int(seen["sql_at"].is_not_null().sum()), seen.height),
        won_recall=rate(won_mql.height, won.height),
        revenue_recall=float(won_mql["amount"].fill_null(0).sum()) / revenue if revenue > 0 else None,
        ranking_auc=ranking,
        good_auc=good,
    )


@dataclass(frozen=True)
class Tuning:
    evidence: pl.DataFrame  # evidence_table
    current: Criteria
    proposed: Criteria
    learn_until: datetime
    test_until: datetime
    before: Backtest  # the current version on the test window
    after: Backtest  # the proposed version on the same window
    goal: Goal = Goal.volume  # what the proposed threshold pursues (core.goals)
    keep: float = DEFAULT_KEEP  # for the wins goal: the share of won deals and revenue kept
    committed: int | None = None  # for the committed goal: the SLA's committed MQLs a month
    learned_from: int | None = None  # leads of the learning window with evidence (rated, or won or lost)

    def summary(self) -> str:
        """ "Goal: keep 90% of won deals with the fewest MQLs — +9 points acceptance, -12% volume, keeps
        96% of won revenue"; when there was nothing to learn from, that (and the version in force stays)."""
        if self.learned_from == 0 and self.proposed == self.current:
            return (
                "Nothing to learn from yet: learning needs leads that sales rated, or that were won or lost, "
                "before the test window. The version in force stays; rate MQLs or import outcomes, then tune "
                "again."
            )
        goal = goal_sentence(self.goal, keep=self.keep, committed=self.committed)
        return f"Goal: {goal} — {compare_sentence(self.before, self.after)}"


def compare_sentence(before: Backtest, after: Backtest) -> str:
    """How `after` fares against `before` on the same window, in one plain sentence."""
    parts = []
    if before.acceptance.value is not None and after.acceptance.value is not None:
        change = (after.acceptance.value - before.acceptance.value) * 100
        parts.append(f"{change:+.0f} points acceptance")
    if before.mql_count:
        volume = (after.mql_count - before.mql_count) / before.mql_count * 100
        parts.append(f"{volume:+.0f}% volume")
    if after.revenue_recall is not None:
        parts.append(f"keeps {after.revenue_recall:.0%} of won revenue")
    elif after.won_recall.value is not None:
        parts.append(f"keeps {after.won_recall.value:.0%} of won deals")
    return ", ".join(parts) if parts else "not enough evidence in the test window to compare"


def start_of_test_window(evidence: pl.DataFrame, test_until: datetime, window_days: int) -> datetime:
    """Where the test window starts: `window_days` before `test_until`, or later when those days hold
    more than half of the leads with evidence, so the learner always sees at least as many judged leads
    as it is judged on. An export of a CRM's first two months would otherwise be all test window, with
    nothing left to learn from."""
    start = test_until - timedelta(days=window_days)
    judged = evidence.filter(pl.col("good").is_not_null()).get_column("created_at").sort()
    if judged.is_empty():
        return start
    # The judged lead at this index has as many judged leads before it as from it on (one more when odd).
    middle = judged[(judged.len() + 1) // 2] if judged.len() > 1 else judged[0]
    return max(start, middle)


def tune(
    leads: pl.DataFrame,
    ratings: pl.DataFrame,
    people: pl.DataFrame,
    current: Criteria,
    *,
    window_days: int = 90,
    volume: int | None = None,
    min_count: int = MIN_COUNT,
    goal: Goal | None = None,
    keep: float = DEFAULT_KEEP,
    committed: int | None = None,
    features: Sequence[Feature] | None = None,
) -> Tuning:
    """Learn on the leads created before the last `window_days` of the data, test on those days (fewer
    when they hold more than half of the leads with evidence: start_of_test_window).

    The rules are learnt jointly over `features` (core.learner; by default the lead's own targeting
    fields, lead_features): every field and imported attribute the catalogue offers, in the app.

    The threshold pursues `goal` (core.goals; by default default_goal of the version in force): `keep` is
    the wins goal's share of won deals and revenue, `committed` the committed goal's MQLs a month, and
    `volume` (the volume goal only) an MQL count for the learning window instead of the current one's.
    ValueError, fit to show, for a `keep` outside (0, 1] or a goal that cannot be pursued."""
    keep = checked_keep(keep)
    if volume is not None and goal not in (None, Goal.volume):
        raise ValueError(f"a volume to keep goes with the volume goal, not with {goal}")
    evidence = judged_leads(leads, ratings, people)
    last = evidence["created_at"].max()
    if not isinstance(last, datetime):
        raise ValueError("there are no leads to learn from")
    test_until = last + timedelta(microseconds=1)
    learn_until = start_of_test_window(evidence, test_until, window_days)
    learning = evidence.filter(pl.col("created_at") < learn_until)
    if goal is None:
        goal = Goal.volume if volume is not None else default_goal(current, learning)
    learned = learn_rules(
        evidence, lead_features(leads) if features is None else features, learn_until=learn_until,
        min_count=min_count, min_points=LEARNED_MIN_POINTS,
    )  # fmt: skip
    # Nothing learnt (no evidence, or none that tells good from not good): the version's own rules stay.
    rules = learned.rules or tuple(_merged(current.rules))
    table = learned.evidence
    judged = learning.filter(pl.col("good").is_not_null()).height
    # No judged lead to learn from: the version in force stays (keeping the volume of an empty window would
    # make nobody an MQL). A commitment needs no evidence, only leads to count.
    proposed = current
    if judged or (goal is Goal.committed and learning.height):
        proposed = propose(
            evidence, current, table, learn_until=learn_until, volume=volume, goal=goal, keep=keep,
            committed=committed, rules=rules,
        )  # fmt: skip
    return Tuning(
        evidence=table,
        current=current,
        proposed=proposed,
        learn_until=learn_until,
        test_until=test_until,
        before=backtest(evidence, current, start=learn_until, end=test_until),
        after=backtest(evidence, proposed, start=learn_until, end=test_until),
        goal=goal,
        keep=keep,
        committed=committed if goal is Goal.committed else None,
        learned_from=judged,
    )


BAND = re.compile(r"^(≤|≥) -?[\d,.]+$|^-?[\d,.]+ to -?[\d,.]+$")  # a band of core.learner.evidence_value


def describe_value(attribute: str, value: str) -> str:
    """ "Job title is CTO", "Page views ≥ 5", "Time on website 60 to 300" (a band of the evidence table)."""
    return f"{attribute_label(attribute)} {value if BAND.match(value) else 'is ' + value}"
