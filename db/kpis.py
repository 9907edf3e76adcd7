"""`python -m db kpis --json`: the headline numbers of a period as one JSON-able object."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

from core.kpis import FLOW_KEYS, Headline, headline, headline_by, records_losses, stages_present
from core.periods import Period, from_inclusive
from db import clock
from db.frames import load_leads, load_people

NAME_LOOKUPS = {"team": ("team_id", "team"), "region": ("team_id", "region"), "owner": ("owner_id", "name")}


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def headline_json(h: Headline, records_losses: bool = True) -> dict[str, Any]:
    """`records_losses` False: the data never records a lost deal (Olist), so a win rate would read 100%."""
    conversion: dict[str, Any] = {}
    for key, c in h.conversion.items():
        conversion[key] = None if c is None else {**c.rate.as_dict(), "maturing": c.maturing}
    win_rate = {
        "value": _round(h.win_rate.value),
        "won": h.win_rate.num,
        "closed": h.win_rate.den,
        "ci_low": _round(h.win_rate.ci_low),
        "ci_high": _round(h.win_rate.ci_high),
    }
    return {
        "stages": h.stages if records_losses else {**h.stages, "lost": None},
        "revenue": round(h.revenue, 2),
        "win_rate": win_rate if records_losses else None,
        "conversion": conversion,
        "median_days_to_won": _round(h.sales_cycle_days, 2),
    }


def _with_names(leads: pl.DataFrame, people: pl.DataFrame, by: str) -> tuple[pl.DataFrame, str]:
    """Group by a person's or team's name instead of an id."""
    if by not in NAME_LOOKUPS:
        return leads, by
    id_column, name_column = NAME_LOOKUPS[by]
    if by in ("team", "region"):
        names = people.select("team_id", name_column).drop_nulls("team_id").unique("team_id")
    else:
        names = people.select(pl.col("user_id").alias("owner_id"), pl.col("name"))
    return leads.join(names, on=id_column, how="left"), name_column


def record_totals(leads: pl.DataFrame) -> dict[str, int]:
    """Every record of the selection whatever its dates: an opportunity export's rows include deals with
    no date yet (Maven's Prospecting), which no dated count can show."""
    won = leads.filter(pl.col("outcome") == "won").height
    lost = leads.filter(pl.col("outcome") == "lost").height
    return {"records": leads.height, "won": won, "lost": lost, "open": leads.height - won - lost}


def kpis_report(
    engine: Engine, *, start: date | None, end: date | None, by: str | None, source: str | None = None
) -> dict[str, Any]:
    """Flow counts, revenue, win rate and conversions for [start, end] (both included; None = open)."""
    today = clock.today()
    period: Period = from_inclusive(start, end)
    leads = load_leads(engine, source_system=source)
    present = stages_present(leads)
    totals = record_totals(leads)
    losses = records_losses(leads)
    report: dict[str, Any] = {
        "period": {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None},
        "source": source,
        "all_time": totals,
        "missing_stages": [key for key, stage in FLOW_KEYS.items() if not present[stage]]
        + ([] if losses else ["lost"]),
        **headline_json(headline(leads, period, today=today), losses),
    }
    if by is not None:
        grouped, column = _with_names(leads, load_people(engine), by)
        report["groups"] = [
            {"key": key, **headline_json(h, losses)}
            for key, h in headline_by(grouped, period, column, today=today)
        ]
    return report
