"""What the Targeting criteria page shows around core.tuning: the evidence and the backtest as readable
tables, the reasons behind a suggestion, what changes between two versions, and rules edited as rows
(for a what-if) turned back into a version."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import polars as pl

from core.attributes import operator_problem
from core.criteria import (
    COUNT_ATTRIBUTES,
    NUMBER_OPERATORS,
    OPERATORS,
    TEXT_ATTRIBUTES,
    Criteria,
    Rule,
    attribute_label,
)
from core.learner import evidence_value
from core.stats import Auc, Rate
from core.tuning import (
    MIN_COUNT,
    Backtest,
    Tuning,
    backtest,
    describe_value,
    judged_leads,
)

RuleKey = tuple[str, str, str]


def replay_evidence(leads: pl.DataFrame, ratings: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """The leads with their calibrated ratings and `good`, as core.tuning.tune learns from them: the frame
    a what-if version is backtested on."""
    return judged_leads(leads, ratings, people)


def what_if(evidence: pl.DataFrame, tuning: Tuning, criteria: Criteria) -> Backtest:
    """`criteria` replayed on the tuning's test window, comparable with `tuning.before`."""
    return backtest(evidence, criteria, start=tuning.learn_until, end=tuning.test_until)


# ---------------------------------------------------------------- rules as editable rows


def value_text(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def rules_frame(criteria: Criteria) -> pl.DataFrame:
    """One row per rule: attribute, operator, value (as typed: "a, b" for a list) and points."""
    return pl.DataFrame(
        {
            "attribute": [r.attribute for r in criteria.rules],
            "operator": [r.operator for r in criteria.rules],
            "value": [value_text(r.value) for r in criteria.rules],
            "points": [r.points for r in criteria.rules],
        },
        schema={"attribute": pl.String, "operator": pl.String, "value": pl.String, "points": pl.Int64},
    )


_BAND = re.compile(r"^(?P<low>-?\S+?)\s*(?:-|–|—|\band\b|\bto\b)\s*(?P<high>-?\S+)$", re.IGNORECASE)


def _kind_of(attribute: str, operator: str, kinds: Mapping[str, str] | None) -> str:
    """The catalogue's kind of `attribute`; without one, the lead's own fields' fixed kinds, and for any
    other attribute the kind its operator compares (so a number rule reads its numbers)."""
    if kinds and attribute in kinds:
        return kinds[attribute]
    if attribute in COUNT_ATTRIBUTES or (attribute not in TEXT_ATTRIBUTES and operator in NUMBER_OPERATORS):
        return "number"
    return "text"


def _number(attribute: str, text: str) -> int | float:
    """A typed number: a whole one for the lead's counts; 1,200 reads as 1200."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if attribute in COUNT_ATTRIBUTES:
        try:
            return int(cleaned)
        except ValueError:
            raise ValueError(
                f"{attribute_label(attribute)} needs a whole number, not {text.strip()!r}"
            ) from None
    try:
        number = float(cleaned)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{attribute_label(attribute)} holds numbers: {text.strip()!r} is not a number")
    return int(number) if number.is_integer() else number


def _band(attribute: str, text: str) -> list[int | float]:
    """ "60 - 300", "60 and 300", "60 to 300" or "60, 300" as [60, 300], the lower first."""
    cleaned = text.strip()
    found = _BAND.match(cleaned)
    parts = [found["low"], found["high"]] if found else [p for p in cleaned.split(",") if p.strip()]
    if len(parts) != 2:
        raise ValueError(
            f"{attribute_label(attribute)}: is between needs two numbers, as 60 - 300, not {cleaned!r}"
        )
    low, high = sorted(_number(attribute, part) for part in parts)
    return [low, high]


def parse_value(attribute: str, operator: str, text: str, kinds: Mapping[str, str] | None = None) -> object:
    """A typed value back into a rule's value, by the attribute's kind (`kinds`: name -> "number" or
    "text", from core.attributes.kinds): a list for "is one of", [low, high] for "is between", numbers
    for a number attribute (whole ones for the lead's counts), text for a text one."""
    cleaned = text.strip()
    number = _kind_of(attribute, operator, kinds) == "number"
    if operator == "between":
        return _band(attribute, cleaned)
    if operator == "in":
        items = [item.strip() for item in cleaned.split(",") if item.strip()]
        return [_number(attribute, i) for i in items] if number else items
    return _number(attribute, cleaned) if number else cleaned


def criteria_from_rows(
    rows: Sequence[Mapping[str, object]], threshold: int, kinds: Mapping[str, str] | None = None
) -> Criteria:
    """Edited rows back into a version, each value typed by its attribute's kind (see parse_value); a
    row left without an attribute is dropped. ValueError (fit to show) for a row that is not a rule, or
    whose operator does not fit the kind its catalogue gives."""
    rules = []
    for n, row in enumerate(rows, start=1):
        attribute, operator = str(row.get("attribute") or ""), str(row.get("operator") or "")
        if not attribute:
            continue
        points = row.get("points")
        if not isinstance(points, int | float) or isinstance(points, bool):
            raise ValueError(f"Rule {n} needs whole points")
        try:
            mismatch = operator_problem(attribute, operator, _kind_of(attribute, operator, kinds))
            if mismatch is not None and operator in OPERATORS:
                raise ValueError(mismatch)
            value = parse_value(attribute, operator, str(row.get("value") or ""), kinds)
            rules.append(Rule(attribute, operator, value, int(points)))
        except ValueError as error:
            raise ValueError(f"Rule {n}: {error}") from None
    return Criteria(rules=tuple(rules), threshold=int(threshold))


# ---------------------------------------------------------------- what changes, and why


def rule_key(rule: Rule) -> RuleKey:
    return (rule.attribute, rule.operator, value_text(rule.value))


def _points_by_key(criteria: Criteria) -> dict[RuleKey, int]:
    found: dict[RuleKey, int] = {}
    for rule in criteria.rules:
        found[rule_key(rule)] = found.get(rule_key(rule), 0) + rule.points
    return found


def signed(points: int) -> str:
    """ "+12" or "−12" (a true minus sign, as Rule.describe writes it)."""
    return f"+{points}" if points >= 0 else f"−{abs(points)}"


def _condition(key: RuleKey) -> str:
    attribute, operator, value = key
    if operator == "between":
        value = " and ".join(part.strip() for part in value.split(","))
    return f"{attribute_label(attribute)} {OPERATORS.get(operator, operator)} {value}"


def rule_changes(current: Criteria, proposed: Criteria) -> list[str]:
    """What `proposed` changes against `current`, one sentence a change, in the order of the rules."""
    before, after = _points_by_key(current), _points_by_key(proposed)
    changes = []
    for key, points in after.items():
        if key not in before:
            changes.append(f"New: {_condition(key)}: {signed(points)} points")
        elif before[key] != points:
            changes.append(f"Changed: {_condition(key)}: {signed(before[key])} → {signed(points)} points")
    changes += [
        f"Removed: {_condition(key)} ({signed(points)} points)"
        for key, points in before.items()
        if key not in after
    ]
    if current.threshold != proposed.threshold:
        changes.append(f"Threshold: {current.threshold} → {proposed.threshold} points")
    return changes


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _evidence_label(rule: Rule) -> str | None:
    """The evidence table's value for the condition of `rule` (a text value, or a band: "≥ 5", "3 to 4");
    None for a condition the table does not measure on its own ("is one of", "is not")."""
    if rule.operator in ("ne", "in"):
        return None
    return evidence_value(rule)


def _added_or_moved(current: Criteria, proposed: Criteria) -> list[Rule]:
    """The rules of `proposed` that are not (with the same points) rules of `current`."""
    kept = Counter((rule_key(r), r.points) for r in current.rules)
    found = []
    for rule in proposed.rules:
        if kept[(rule_key(rule), rule.points)] > 0:
            kept[(rule_key(rule), rule.points)] -= 1
        else:
            found.append(rule)
    return found


def suggestion_reasons(tuning: Tuning) -> list[str]:
    """For each rule the suggestion adds or moves, the evidence behind it: how many leads, how many good,
    against the average lead."""
    evidence = {
        (a, v): row
        for a, v, *row in tuning.evidence.select(
            "attribute", "value", "count", "good", "rate", "ci_low", "ci_high", "lift"
        ).iter_rows()
    }
    reasons = []
    for rule in _added_or_moved(tuning.current, tuning.proposed):
        label = _evidence_label(rule)
        found = evidence.get((rule.attribute, label)) if label is not None else None
        if found is None:
            continue
        count, good, share, low, high, lift = found
        reasons.append(
            f"{describe_value(rule.attribute, str(label))}: {good:,} of {count:,} leads good "
            f"({_percent(share)}, 95% CI {_percent(low)}–{_percent(high)}), {lift:.2f}× the average lead "
            f"→ {signed(rule.points)} points"
        )
    return reasons


# ---------------------------------------------------------------- tables for the page


def evidence_rows(table: pl.DataFrame) -> pl.DataFrame:
    """The evidence table in the page's words; thin evidence (under MIN_COUNT leads) says so."""
    return table.select(
        pl.struct("attribute", "value")
        .map_elements(lambda r: describe_value(r["attribute"], r["value"]), return_dtype=pl.String)
        .alias("Attribute value"),
        pl.col("count").alias("Leads with evidence"),
        pl.col("good").alias("Good"),
        (pl.col("rate") * 100).round(0).cast(pl.Int64).alias("Share good (%)"),
        pl.format(
            "{}–{}",
            (pl.col("ci_low") * 100).round(0).cast(pl.Int64),
            (pl.col("ci_high") * 100).round(0).cast(pl.Int64),
        ).alias("95% interval (%)"),
        pl.col("lift").alias("Lift"),
        pl.col("points").alias("Suggested points"),
        pl.when(pl.col("enough"))
        .then(pl.lit("enough"))
        .otherwise(pl.lit(f"thin: under {MIN_COUNT} leads"))
        .alias("Evidence"),
    )


def rate_text(rate: Rate) -> str:
    if rate.value is None:
        return "— (none in the window)"
    interval = f"95% CI {_percent(rate.ci_low)}–{_percent(rate.ci_high)}"
    return f"{rate.value:.0%} ({rate.num:,} of {rate.den:,}; {interval})"


def backtest_rows(
    before: Backtest, after: Backtest, labels: tuple[str, str] = ("Current", "Proposed")
) -> pl.DataFrame:
    """The two versions side by side on the same window, each rate with its count and interval."""
    measures = [
        ("MQL volume", f"{before.mql_count:,}", f"{after.mql_count:,}"),
        ("Share rated 4-5", rate_text(before.acceptance), rate_text(after.acceptance)),
        ("MQL → SQL", rate_text(before.mql_to_sql), rate_text(after.mql_to_sql)),
        ("Won deals kept", rate_text(before.won_recall), rate_text(after.won_recall)),
        ("Won revenue kept", _percent(before.revenue_recall), _percent(after.revenue_recall)),
        ("Ranks won above lost (AUC)", auc_text(before.ranking_auc), auc_text(after.ranking_auc)),
        ("Ranks rated 4-5 above the rest (AUC)", auc_text(before.good_auc), auc_text(after.good_auc)),
    ]
    return pl.DataFrame(measures, schema=["Measure", *labels], orient="row")


def auc_text(auc: Auc) -> str:
    """ "0.71 (144 leads)": 0.5 ranks no better than chance, 1 puts every good lead first."""
    if auc.value is None:
        return "— (needs both kinds of lead in the window)"
    return f"{auc.value:.2f} ({auc.n:,} leads)"
