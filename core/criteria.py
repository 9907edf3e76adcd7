"""Targeting criteria as data: rules that add points, and a threshold that makes a lead an MQL."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Any

import polars as pl

TEXT_ATTRIBUTES = ("source", "campaign", "industry", "company_size", "country", "persona")
COUNT_ATTRIBUTES = ("page_views", "email_clicks", "content_downloads")
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
OPERATORS = {"eq": "is", "ne": "is not", "in": "is one of", "gte": "is at least", "lte": "is at most"}


@dataclass(frozen=True)
class Rule:
    attribute: str
    operator: str
    value: object
    points: int
    rule_id: int | None = None

    def __post_init__(self) -> None:
        if self.attribute not in ATTRIBUTE_LABELS:
            raise ValueError(
                f"unknown attribute {self.attribute!r}; use one of {', '.join(ATTRIBUTE_LABELS)}"
            )
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown operator {self.operator!r}; use one of {', '.join(OPERATORS)}")
        if self.operator in ("gte", "lte") and self.attribute not in COUNT_ATTRIBUTES:
            raise ValueError(f"{self.operator} compares numbers; {self.attribute} is text")
        if self.operator == "in" and not isinstance(self.value, list | tuple):
            raise ValueError("the 'in' operator needs a list of values")

    def condition(self) -> pl.Expr:
        column = pl.col(self.attribute)
        value: Any = self.value
        fired: pl.Expr
        match self.operator:
            case "eq":
                fired = column == value
            case "ne":
                fired = column != value
            case "in":
                fired = column.is_in(list(value))
            case "gte":
                fired = column >= value
            case _:
                fired = column <= value
        # A missing value never earns or loses points.
        return fired.fill_null(False)

    def describe(self) -> str:
        value = ", ".join(map(str, self.value)) if isinstance(self.value, list | tuple) else self.value
        sign = "+" if self.points >= 0 else "−"
        return (
            f"{ATTRIBUTE_LABELS[self.attribute]} {OPERATORS[self.operator]} {value}: "
            f"{sign}{abs(self.points)} points"
        )


@dataclass(frozen=True)
class Criteria:
    rules: tuple[Rule, ...]
    threshold: int

    def describe(self) -> list[str]:
        return [rule.describe() for rule in self.rules] + [
            f"A lead with {self.threshold} points or more is a marketing qualified lead (MQL)."
        ]


def _rule_key(rule: Rule, index: int) -> int:
    return rule.rule_id if rule.rule_id is not None else index


def score_leads(leads: pl.LazyFrame, criteria: Criteria) -> pl.LazyFrame:
    """Add `score` (sum of fired rules' points), `fired_rules` (their ids) and `is_mql`."""
    if not criteria.rules:
        return leads.with_columns(
            pl.lit(0, pl.Int64).alias("score"),
            pl.lit([], pl.List(pl.Int64)).alias("fired_rules"),
            pl.lit(criteria.threshold <= 0).alias("is_mql"),
        )
    points = [
        pl.when(rule.condition()).then(pl.lit(rule.points, pl.Int64)).otherwise(pl.lit(0, pl.Int64))
        for rule in criteria.rules
    ]
    fired = [
        pl.when(rule.condition()).then(pl.lit(_rule_key(rule, i), pl.Int64))
        for i, rule in enumerate(criteria.rules)
    ]
    score = reduce(lambda a, b: a + b, points).alias("score")
    return leads.with_columns(
        score,
        pl.concat_list(fired).list.drop_nulls().alias("fired_rules"),
    ).with_columns((pl.col("score") >= criteria.threshold).alias("is_mql"))
