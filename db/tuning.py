"""What the tuning reads (leads with their targeting attributes, ratings, raters' teams, the active
criteria version) and the report `python -m db tune --json` prints."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine
from sqlmodel import select

from core.attributes import catalogue, typed_values
from core.criteria import COUNT_ATTRIBUTES, TEXT_ATTRIBUTES, Criteria, Rule
from core.goals import DEFAULT_KEEP, Goal, checked_keep
from core.learner import Feature
from core.tuning import Tuning, after_sale_reasons, describe_value, lead_features, tune
from db.attributes import load_attribute_values
from db.engine import read_session
from db.frames import read_query, utc_text
from db.models import CriteriaRule, CriteriaStatus, CriteriaVersion
from db.sla import current_agreements

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
NO_COMMITMENT = "No SLA is in force: set the committed monthly MQLs on the SLA settings page first"

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


@dataclass(frozen=True)
class LearningData:
    """The leads as the tuning learns from them (times, outcome, amount, the lead's own fields and every
    imported attribute, typed), the catalogue of those fields and attributes, and the features it offers."""

    leads: pl.DataFrame
    catalogue: pl.DataFrame  # core.attributes.CATALOGUE_SCHEMA
    features: tuple[Feature, ...]


def offered_features(table: pl.DataFrame) -> tuple[Feature, ...]:
    """The catalogue's entries a rule may use (not ids, emails or free text), as learner features."""
    offered = table.filter(pl.col("offered"))
    return tuple(Feature(name, kind) for name, kind in offered.select("name", "kind").iter_rows())


def load_learning_data(engine: Engine, source_system: str | None = None) -> LearningData:
    """load_tuning_leads with every imported attribute beside the lead's own fields, typed by the
    catalogue (numbers as Float64, text as String)."""
    leads = load_tuning_leads(engine, source_system)
    values = load_attribute_values(engine, source_system)
    present = values.select(
        "id", *(name for name in values.columns[1:] if values[name].null_count() < values.height)
    )
    fields = catalogue(leads.select(*TEXT_ATTRIBUTES, *COUNT_ATTRIBUTES), leads=leads.height)
    attributes = catalogue(present.drop("id"), leads=leads.height)
    if present.width > 1:
        leads = leads.join(typed_values(present, attributes), on="id", how="left", maintain_order="left")
    table = without_after_sale(pl.concat([fields, attributes]), leads)
    return LearningData(leads, table, offered_features(table))


def without_after_sale(table: pl.DataFrame, leads: pl.DataFrame) -> pl.DataFrame:
    """The catalogue with every attribute recorded only with the sale listed but not offered, and why."""
    leaked = after_sale_reasons(leads, table["name"].to_list())
    if not leaked:
        return table
    is_leak = pl.col("name").is_in(list(leaked))
    return table.with_columns(
        pl.when(is_leak).then(False).otherwise(pl.col("offered")).alias("offered"),
        pl.when(is_leak)
        .then(pl.col("name").replace_strict(leaked, default=None))
        .otherwise(pl.col("reason"))
        .alias("reason"),
    )


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


class NoCommitment(ValueError):
    """The committed goal asked for without a committed number of MQLs; the message names where to set it."""


def committed_per_month(engine: Engine) -> int:
    """The company's committed MQLs a month under the SLA in force; NoCommitment when no SLA is in force
    or it commits to none."""
    with read_session(engine) as session:
        company = current_agreements(session).get(None)
    if company is None or not company.mqls_per_month:
        raise NoCommitment(NO_COMMITMENT)
    return int(company.mqls_per_month)


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "attribute": rule.attribute,
        "operator": rule.operator,
        "value": rule.value,
        "points": rule.points,
    }


def _goal_json(result: Tuning) -> dict[str, Any]:
    """What the threshold pursued: the goal, and the share kept (wins) or the commitment (committed)."""
    if result.goal is Goal.wins:
        return {"goal": result.goal.value, "keep": result.keep}
    if result.goal is Goal.committed:
        return {"goal": result.goal.value, "committed_per_month": result.committed}
    return {"goal": result.goal.value}


def tuning_report(result: Tuning) -> dict[str, Any]:
    """The suggestion and its backtest as plain data, for a scheduled job to post."""
    evidence = result.evidence.filter(pl.col("enough")).sort("lift")
    return {
        **_goal_json(result),
        "learned_before": result.learn_until.isoformat(),
        "tested_until": result.test_until.isoformat(),
        "learned_from": result.learned_from,
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


def run_tuning(
    engine: Engine,
    *,
    window_days: int,
    source_system: str | None = None,
    goal: Goal | None = None,
    keep: float = DEFAULT_KEEP,
) -> Tuning:
    """Tune the active version (or, before any, a version that makes every lead an MQL) on the data, its
    threshold pursuing `goal` (None: core.goals.default_goal). ValueError, fit to show, for nothing to
    learn from, a `keep` outside (0, 1], or the committed goal without an SLA in force (NoCommitment)."""
    keep = checked_keep(keep)
    committed = committed_per_month(engine) if goal is Goal.committed else None
    data = load_learning_data(engine, source_system)
    if data.leads.is_empty():
        raise ValueError("there are no leads to learn from; import some or seed the demo company")
    current = active_criteria(engine) or Criteria(rules=(), threshold=0)
    return tune_logged(
        data.leads, load_ratings(engine, source_system), load_raters(engine), current,
        window_days=window_days, goal=goal, keep=keep, committed=committed, features=data.features,
    )  # fmt: skip


def tune_logged(
    leads: pl.DataFrame,
    ratings: pl.DataFrame,
    raters: pl.DataFrame,
    current: Criteria,
    *,
    window_days: int,
    goal: Goal | None = None,
    keep: float = DEFAULT_KEEP,
    committed: int | None = None,
    features: Sequence[Feature] | None = None,
) -> Tuning:
    """core.tuning.tune, and a log line of what it learnt from, what it pursued and how long it took."""
    started = time.perf_counter()
    result = tune(
        leads, ratings, raters, current, window_days=window_days, goal=goal, keep=keep, committed=committed,
        features=features,
    )  # fmt: skip
    logger.info(
        "tuning: %d leads, %d features, %d ratings, a %d-day test window, goal %s, %.2f s; "
        "threshold %d -> %d, %d rules",
        leads.height,
        len(features) if features is not None else len(lead_features(leads)),
        ratings.height,
        (result.test_until - result.learn_until).days,
        result.goal.value,
        time.perf_counter() - started,
        result.current.threshold,
        result.proposed.threshold,
        len(result.proposed.rules),
    )
    return result
