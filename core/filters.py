"""The sidebar filters as data: read from and written to the URL's query string, so a link reproduces
the view, and applied to the leads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from core.periods import DEFAULT_PRESET, PRESETS, Period, comparison_period, default_preset, preset_period

ALL = "All"
# The query-string keys, short because people paste these links into chat.
KEYS = ("period", "from", "to", "team", "source", "segment")


@dataclass(frozen=True)
class Filters:
    preset: str = DEFAULT_PRESET
    first: date | None = None  # custom period only, both days included
    last: date | None = None
    team: str | None = None  # a team's name; None: every team
    source: str | None = None
    segment: str | None = None  # a company-size band

    def period(self, today: date) -> Period:
        return preset_period(self.preset, today, self.first, self.last)

    def comparison(self, today: date) -> Period:
        return comparison_period(self.preset, self.period(today))


def _one(value: str | list[str] | None) -> str | None:
    if isinstance(value, list):
        value = value[-1] if value else None
    value = value.strip() if value else None
    return value or None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_filters(params: Mapping[str, str | list[str]], today: date) -> tuple[Filters, list[str]]:
    """The filters a URL asks for on `today`, and a note for each part that could not be used (a typo in a
    shared link falls back to the default instead of breaking the page)."""
    notes: list[str] = []
    default = default_preset(today)
    preset = _one(params.get("period")) or default
    if preset not in PRESETS:
        notes.append(f"“{preset}” is not a period; showing {PRESETS[default].lower()}.")
        preset = default
    first, last = _day(_one(params.get("from"))), _day(_one(params.get("to")))
    if preset == "custom" and (first is None or last is None or last < first):
        notes.append("A custom period needs from and to dates (YYYY-MM-DD), from on or before to.")
        preset, first, last = default, None, None
    if preset != "custom":
        first = last = None
    filters = Filters(
        preset=preset,
        first=first,
        last=last,
        team=_one(params.get("team")),
        source=_one(params.get("source")),
        segment=_one(params.get("segment")),
    )
    return filters, notes


def filters_to_params(filters: Filters, today: date) -> dict[str, str]:
    """The query string of these filters on `today`; defaults are left out so links stay short."""
    params: dict[str, str] = {}
    if filters.preset != default_preset(today):
        params["period"] = filters.preset
    if filters.preset == "custom" and filters.first and filters.last:
        params["from"], params["to"] = filters.first.isoformat(), filters.last.isoformat()
    for key in ("team", "source", "segment"):
        value = getattr(filters, key)
        if value:
            params[key] = value
    return params


def known_values(filters: Filters, teams: list[str], sources: list[str], segments: list[str]) -> Filters:
    """Drop a team, source or segment the data does not have (an old link), so the page never shows an
    empty board for a name that no longer exists."""
    return replace(
        filters,
        team=filters.team if filters.team in teams else None,
        source=filters.source if filters.source in sources else None,
        segment=filters.segment if filters.segment in segments else None,
    )


def apply_filters(leads: pl.DataFrame, people: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """The leads of the chosen team, source and segment (the period is applied by each number)."""
    chosen = pl.lit(True)
    if filters.team is not None:
        ids = people.filter(pl.col("team") == filters.team).get_column("team_id").drop_nulls().unique()
        chosen = chosen & pl.col("team_id").is_in(ids.to_list())
    if filters.source is not None:
        chosen = chosen & (pl.col("source").fill_null("(none)") == filters.source)
    if filters.segment is not None:
        chosen = chosen & (pl.col("company_size").fill_null("(none)") == filters.segment)
    if filters.team is None and filters.source is None and filters.segment is None:
        return leads
    return leads.filter(chosen)
