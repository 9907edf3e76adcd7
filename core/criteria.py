"""Targeting criteria as data: rules that add points, and a threshold that makes a lead an MQL."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import polars as pl

# The lead's own fields a rule can use; any other name is an imported attribute (core.attributes).
TEXT_ATTRIBUTES = ("source", "campaign", "industry", "company_size", "country", "persona")
COUNT_ATTRIBUTES = ("page_views", "email_clicks", "content_downloads")
LEAD_FIELDS = (*TEXT_ATTRIBUTES, *COUNT_ATTRIBUTES)
ATTRIBUTE_LABELS = {
    "source": "Source",
    "campaign": "Campaign",
    "industry": "Industry",
    "company_size": "Company size",
    "country": "Country",
    "persona": "Persona",
    "page_views": "Page views",
    "email_clicks": "Email clicks",
    "content_downloads": "Content downloads",
}
OPERATORS = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "gte": "is at least",
    "lte": "is at most",
    "between": "is between",
}
TEXT_OPERATORS = ("eq", "ne", "in")
NUMBER_OPERATORS = ("gte", "lte", "between")
MAX_ATTRIBUTE_NAME = 100


def attribute_label(name: str) -> str:
    """ "Job title" for job_title; the lead's own fields by their usual names."""
    return ATTRIBUTE_LABELS.get(name) or (name.replace("_", " ").strip().capitalize() or name)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def number_text(value: object) -> str:
    """5 for 5.0, 2.5 for 2.5, 1,200 for 1200: how a rule's number reads."""
    if not is_number(value):
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    return f"{int(number):,}" if number.is_integer() else f"{number:,.6g}"


def value_text(operator: str, value: object) -> str:
    """A rule's value as a sentence has it: "a, b" for a list, "60 and 300" for a band."""
    if operator == "between" and isinstance(value, list | tuple):
        return " and ".join(number_text(v) for v in value)
    if isinstance(value, list | tuple):
        return ", ".join(number_text(v) for v in value)
    return number_text(value)


@dataclass(frozen=True)
class Rule:
    """`attribute` is a lead field (LEAD_FIELDS) or the key of an imported attribute. Whether an attribute
    holds numbers or text is the data's (core.attributes); the rule checks only the shape of its value."""

    attribute: str
    operator: str
    value: object
    points: int
    rule_id: int | None = None

    def __post_init__(self) -> None:
        name = self.attribute.strip() if isinstance(self.attribute, str) else ""
        if not name or len(name) > MAX_ATTRIBUTE_NAME:
            raise ValueError(f"unknown attribute {self.attribute!r}: a rule needs the name of a field")
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown operator {self.operator!r}; use one of {', '.join(OPERATORS)}")
        if self.operator in NUMBER_OPERATORS and self.attribute in TEXT_ATTRIBUTES:
            raise ValueError(f"{self.operator} compares numbers; {self.attribute} is text")
        if self.operator in ("gte", "lte") and not is_number(self.value):
            raise ValueError(f"{OPERATORS[self.operator]} compares numbers, not {self.value!r}")
        if self.operator == "between":
            band = list(self.value) if isinstance(self.value, list | tuple) else []
            if len(band) != 2 or not all(is_number(v) for v in band) or band[0] > band[1]:
                raise ValueError(f"is between needs two numbers, the lower first, not {self.value!r}")
        if self.operator == "in" and (not isinstance(self.value, list | tuple) or not self.value):
            raise ValueError("the 'in' operator needs a list of values")

    def condition(self, dtype: pl.DataType | None = None) -> pl.Expr:
        """Whether the rule fires, for a column of `dtype` (text compares as text, numbers as numbers; a
        text column holding numbers is read as numbers by the number operators)."""
        numeric = dtype is not None and dtype.is_numeric()
        value: Any = self.value
        if self.operator in NUMBER_OPERATORS:
            column = (
                pl.col(self.attribute) if numeric else pl.col(self.attribute).cast(pl.Float64, strict=False)
            )
        elif numeric:
            column = pl.col(self.attribute).cast(pl.Float64)
            value = _as_numbers(value)
        else:
            column = pl.col(self.attribute).cast(pl.String)
            value = (
                [number_text(v) if is_number(v) else str(v) for v in value]
                if isinstance(value, list | tuple)
                else (number_text(value) if is_number(value) else str(value))
            )
        fired: pl.Expr
        match self.operator:
            case "eq":
                fired = column == value if value is not None else pl.lit(False)
            case "ne":
                fired = column != value if value is not None else pl.lit(False)
            case "in":
                fired = column.is_in([v for v in value if v is not None])
            case "gte":
                fired = column >= value
            case "lte":
                fired = column <= value
            case _:
                fired = column.is_between(value[0], value[1], closed="both")
        # A missing value never earns or loses points.
        return fired.fill_null(False)

    def describe(self) -> str:
        sign = "+" if self.points >= 0 else "−"
        return (
            f"{attribute_label(self.attribute)} {OPERATORS[self.operator]} "
            f"{value_text(self.operator, self.value)}: {sign}{abs(self.points)} points"
        )


def _as_numbers(value: object) -> Any:
    """A text rule's value as numbers, for a number column (None where a value is no number)."""

    def one(item: object) -> float | None:
        if is_number(item):
            return float(item)  # type: ignore[arg-type]
        try:
            return float(str(item).strip())
        except ValueError:
            return None

    return [one(v) for v in value] if isinstance(value, list | tuple) else one(value)


@dataclass(frozen=True)
class Criteria:
    rules: tuple[Rule, ...]
    threshold: int

    def describe(self) -> list[str]:
        return [rule.describe() for rule in self.rules] + [
            f"A lead with {self.threshold} points or more is a marketing qualified lead (MQL)."
        ]

    def attributes(self) -> list[str]:
        """The fields and attributes the rules read, each once, in rule order."""
        return list(dict.fromkeys(rule.attribute for rule in self.rules))


def missing_attributes(criteria: Criteria, columns: Sequence[str]) -> list[str]:
    """The attributes the rules read that the data no longer has: their rules score 0 until it does."""
    present = set(columns)
    return [name for name in criteria.attributes() if name not in present]


def _rule_key(rule: Rule, index: int) -> int:
    return rule.rule_id if rule.rule_id is not None else index


def score_leads(leads: pl.LazyFrame, criteria: Criteria) -> pl.LazyFrame:
    """Add `score` (sum of fired rules' points), `fired_rules` (their ids) and `is_mql`. A rule whose
    attribute the frame lacks never fires (see missing_attributes)."""
    if not criteria.rules:
        return leads.with_columns(
            pl.lit(0, pl.Int64).alias("score"),
            pl.lit([], pl.List(pl.Int64)).alias("fired_rules"),
            pl.lit(criteria.threshold <= 0).alias("is_mql"),
        )
    conditions = _conditions(leads, criteria)
    fired_ids = [
        pl.when(fired).then(pl.lit(_rule_key(rule, i), pl.Int64))
        for i, (rule, fired) in enumerate(zip(criteria.rules, conditions, strict=True))
    ]
    return leads.with_columns(
        _score(criteria, conditions),
        pl.concat_list(fired_ids).list.drop_nulls().alias("fired_rules"),
    ).with_columns((pl.col("score") >= criteria.threshold).alias("is_mql"))


def _conditions(leads: pl.LazyFrame, criteria: Criteria) -> list[pl.Expr]:
    schema = leads.collect_schema()
    return [
        rule.condition(schema[rule.attribute]) if rule.attribute in schema else pl.lit(False)
        for rule in criteria.rules
    ]


def _score(criteria: Criteria, conditions: Sequence[pl.Expr]) -> pl.Expr:
    points = [
        pl.when(fired).then(pl.lit(rule.points, pl.Int64)).otherwise(pl.lit(0, pl.Int64))
        for rule, fired in zip(criteria.rules, conditions, strict=True)
    ]
    return reduce(lambda a, b: a + b, points).alias("score")


def lead_scores(leads: pl.LazyFrame, criteria: Criteria) -> pl.LazyFrame:
    """`score` and `is_mql` as score_leads gives them, without the fired rules: what the tuning's many
    scorings of a million leads need (the list of fired rules costs more than the score itself)."""
    if not criteria.rules:
        return leads.with_columns(
            pl.lit(0, pl.Int64).alias("score"), pl.lit(criteria.threshold <= 0).alias("is_mql")
        )
    score = _score(criteria, _conditions(leads, criteria))
    return leads.with_columns(score).with_columns((pl.col("score") >= criteria.threshold).alias("is_mql"))
