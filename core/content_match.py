"""Which sales content fits a lead (issue 14): the lead's stage and the asset's audience. Pure polars.

An asset's audience is four lists (stages, personas, industries, company sizes); an empty list means any.
An asset is for a lead when every non-empty list holds the lead's value (compared case-insensitively and
trimmed); a lead with no value for a list that is not empty does not match it. Assets that fit are ranked
by how many lists matched specifically (an asset made for this persona before one made for anyone), then
by their helped share (rated 4-5 stars; unrated last), then newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

__all__ = [
    "CONTENT_STAGES",
    "STAGE_LABEL",
    "Audience",
    "LeadProfile",
    "content_for_lead",
    "lead_stage",
    "match_score",
]

CONTENT_STAGES: tuple[str, ...] = ("lead", "mql", "sql", "opportunity")
STAGE_LABEL: dict[str, str] = {"lead": "Lead", "mql": "MQL", "sql": "SQL", "opportunity": "Opportunity"}
AUDIENCE_LISTS: tuple[tuple[str, str], ...] = (
    ("stages", "stage"),
    ("personas", "persona"),
    ("industries", "industry"),
    ("company_sizes", "company_size"),
)
SCORE = "match_score"


@dataclass(frozen=True)
class Audience:
    """Who an asset is for: each tuple holds the values it fits; an empty tuple means any."""

    stages: tuple[str, ...] = ()
    personas: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    company_sizes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeadProfile:
    """A lead as content is matched to it: its stage (CONTENT_STAGES) and segment values (None: unknown)."""

    stage: str | None
    persona: str | None = None
    industry: str | None = None
    company_size: str | None = None


def lead_stage(
    *,
    mql_at: datetime | None,
    sql_at: datetime | None,
    opportunity_at: datetime | None,
    closed_at: datetime | None,
) -> str:
    """The furthest stage the lead reached: a closed deal (won or lost) counts as "opportunity"."""
    if opportunity_at is not None or closed_at is not None:
        return "opportunity"
    if sql_at is not None:
        return "sql"
    if mql_at is not None:
        return "mql"
    return "lead"


def _key(value: str | None) -> str | None:
    text = (value or "").strip().casefold()
    return text or None


def match_score(asset_audience: Audience, lead: LeadProfile) -> int | None:
    """How many of the asset's audience lists name the lead's value; None when one that is not empty
    does not (the asset is not for this lead). 0: an asset for anyone."""
    score = 0
    for lists, value in AUDIENCE_LISTS:
        wanted = {k for k in (_key(v) for v in getattr(asset_audience, lists)) if k is not None}
        if not wanted:
            continue
        if _key(getattr(lead, value)) not in wanted:
            return None
        score += 1
    return score


def _fits(lists: str, value: str | None) -> tuple[pl.Expr, pl.Expr]:
    """(the asset fits on this list, it fits specifically) as expressions over the `lists` column."""
    cleaned = (
        pl.col(lists)
        .cast(pl.List(pl.String))
        .list.eval(pl.element().str.strip_chars().str.to_lowercase())
        .list.drop_nulls()
    )
    empty = cleaned.list.eval(pl.element().filter(pl.element() != "")).list.len() == 0
    key = _key(value)
    if key is None:
        return empty, pl.lit(False)
    named = cleaned.list.contains(key)
    return empty | named, named & ~empty


def content_for_lead(assets: pl.DataFrame, lead: LeadProfile, *, limit: int = 5) -> pl.DataFrame:
    """The `limit` assets that fit `lead` best, best first, with their `match_score` (lists matched).

    `assets` has asset_id, title, kind, stages, personas, industries, company_sizes (lists of strings),
    helped_share (nullable) and updated_at; every column it has is kept."""
    if assets.is_empty():
        return assets.with_columns(pl.lit(None, dtype=pl.Int64).alias(SCORE)).head(0)
    fits: list[pl.Expr] = []
    specific: list[pl.Expr] = []
    for lists, value in AUDIENCE_LISTS:
        fit, named = _fits(lists, getattr(lead, value))
        fits.append(fit.fill_null(True))
        specific.append(named.fill_null(False).cast(pl.Int64))
    return (
        assets.filter(pl.all_horizontal(fits))
        .with_columns(pl.sum_horizontal(specific).cast(pl.Int64).alias(SCORE))
        .sort(
            [SCORE, "helped_share", "updated_at", "asset_id"],
            descending=[True, True, True, False],
            nulls_last=True,
        )
        .head(limit)
    )
