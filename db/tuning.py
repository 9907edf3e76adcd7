"""What the tuning reads (leads with their targeting attributes, ratings, raters' teams, the active
criteria version) and the report `python -m db tune --json` prints."""

from __future__ import annotations

import logging
import time
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine
from sqlmodel import select

from core.criteria import COUNT_ATTRIBUTES, TEXT_ATTRIBUTES, Criteria, Rule
from core.tuning import Tuning, describe_value, tune
from db.engine import read_session
from db.frames import read_query, utc_text
from db.models import CriteriaRule, CriteriaStatus, CriteriaVersion

TIMES = ("created_at", "mql_at", "sql_at", "closed_at")
TUNING_LEADS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    **{name: pl.Datetime("us") for name in TIMES},
    "outcome": pl.String(),
    "amount": pl.Float64(),
    **{name: pl.String() for name in TEXT_ATTRIBUTES},
    **{name: pl.Int64() for name in COUNT_ATTRIBUTES},
}
RATINGS_SCHEMA: dict[str, pl.DataType] = {"lead_id": pl.Int64(), "rater_id": pl.Int64(), "stars": pl.Int64()}
RATERS_SCHEMA: dict[str, pl.DataType] = {"user_id": pl.Int64(), "team_id": pl.Int64()}

logger = logging.getLogger(__name__)


def _quoted(text: str) -> str:
    return "'{}'".format(text.replace("'", "''"))


def load_tuning_leads(engine: Engine, source_system: str | None = None) -> pl.DataFrame:
    where = "" if source_system is None else f"WHERE leads.source_system = {_quoted(source_system)}"
    columns = ", ".join(
        ["leads.id", *(utc_text(engine, t) for t in TIMES), "leads.outcome", "leads.amount"]
        + [f"leads.{name}" for name in (*TEXT_ATTRIBUTES, *COUNT_ATTRIBUTES)]
    )
    return read_query(engine, f"SELECT {columns} FROM leads {where}", TUNING_LEADS_SCHEMA)  # noqa: S608


def load_ratings(engine: Engine, source_system: str | None = None) -> pl.DataFrame:
    join = "" if source_system is None else (
        f" JOIN leads ON leads.id = lead_ratings.lead_id WHERE leads.source_system = {_quoted(source_system)}"
    )  # fmt: skip
    sql = f"SELECT lead_ratings.lead_id, lead_ratings.rater_id, lead_ratings.stars FROM lead_ratings{join}"  # noqa: S608
    return read_query(engine, sql, RATINGS_SCHEMA)


def load_raters(engine: Engine) -> pl.DataFrame:
    return read_query(engine, "SELECT users.id, users.team_id FROM users", RATERS_SCHEMA)


def active_criteria(engine: Engine) -> Criteria | None:
    """The criteria version in force, as rules; None before any version was activated."""
    with read_session(engine) as session:
        version = session.exec(
            select(CriteriaVersion).where(CriteriaVersion.status == CriteriaStatus.active)
        ).first()
        if version is None:
            return None
        rows = session.exec(select(CriteriaRule).where(CriteriaRule.version_id == version.id)).all()
        rules = tuple(Rule(r.attribute, r.operator, r.value, r.points, rule_id=r.id) for r in rows)
        return Criteria(rules=rules, threshold=version.threshold)


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "attribute": rule.attribute,
        "operator": rule.operator,
        "value": rule.value,
        "points": rule.points,
    }


def tuning_report(result: Tuning) -> dict[str, Any]:
    """The suggestion and its backtest as plain data, for a scheduled job to post."""
    evidence = result.evidence.filter(pl.col("enough")).sort("lift")
    return {
        "learned_before": result.learn_until.isoformat(),
        "tested_until": result.test_until.isoformat(),
        "summary": result.summary(),
        "current": {**result.before.as_dict(), "threshold": result.current.threshold},
        "proposed": {
            **result.after.as_dict(),
            "threshold": result.proposed.threshold,
            "rules": [_rule_json(r) for r in result.proposed.rules],
        },
        "evidence": [
            {
                "attribute": row["attribute"],
                "value": row["value"],
                "label": describe_value(row["attribute"], row["value"]),
                "count": row["count"],
                "good": row["good"],
                "rate": round(row["rate"], 6),
                "lift": round(row["lift"], 6),
                "points": row["points"],
            }
            for row in evidence.iter_rows(named=True)
        ],
    }


def run_tuning(engine: Engine, *, window_days: int, source_system: str | None = None) -> Tuning:
    """Tune the active version (or, before any, a version that makes every lead an MQL) on the data."""
    leads = load_tuning_leads(engine, source_system)
    if leads.is_empty():
        raise ValueError("there are no leads to learn from; import some or seed the demo company")
    current = active_criteria(engine) or Criteria(rules=(), threshold=0)
    return tune_logged(
        leads, load_ratings(engine, source_system), load_raters(engine), current, window_days=window_days
    )


def tune_logged(
    leads: pl.DataFrame, ratings: pl.DataFrame, raters: pl.DataFrame, current: Criteria, *, window_days: int
) -> Tuning:
    """core.tuning.tune, and a log line of what it learnt from and how long it took."""
    started = time.perf_counter()
    result = tune(leads, ratings, raters, current, window_days=window_days)
    logger.info(
        "tuning: %d leads, %d ratings, a %d-day window, %.2f s; threshold %d -> %d, %d rules proposed",
        leads.height,
        ratings.height,
        window_days,
        time.perf_counter() - started,
        result.current.threshold,
        result.proposed.threshold,
        len(result.proposed.rules),
    )
    return result
