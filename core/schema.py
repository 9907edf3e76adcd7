"""The frames `core` works on: column names and dtypes, shared by the loaders (db/frames.py) and tests.

Every datetime is naive UTC. A stage time is null when the lead never reached that stage.
"""

from __future__ import annotations

import polars as pl

STAGES: tuple[str, ...] = ("created", "mql", "sql", "opportunity", "won")
STAGE_COLUMN: dict[str, str] = {
    "created": "created_at",
    "mql": "mql_at",
    "sql": "sql_at",
    "opportunity": "opportunity_at",
    "won": "closed_at",
}
STAGE_LABEL: dict[str, str] = {
    "traffic": "Website sessions",
    "created": "Leads",
    "mql": "MQLs",
    "sql": "SQLs",
    "opportunity": "Opportunities",
    "won": "Won deals",
}

LEADS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "source_system": pl.String(),
    "created_at": pl.Datetime("us"),
    "mql_at": pl.Datetime("us"),
    "sql_at": pl.Datetime("us"),
    "opportunity_at": pl.Datetime("us"),
    "closed_at": pl.Datetime("us"),
    "outcome": pl.String(),  # "won", "lost" or null (open / never an opportunity)
    "amount": pl.Float64(),
    "owner_id": pl.Int64(),
    "team_id": pl.Int64(),
    "source": pl.String(),
    "campaign": pl.String(),
    "industry": pl.String(),
    "company_size": pl.String(),
    "country": pl.String(),
    "persona": pl.String(),
    "first_touch_at": pl.Datetime("us"),
}

TRAFFIC_SCHEMA: dict[str, pl.DataType] = {
    "day": pl.Date(),
    "channel": pl.String(),
    "sessions": pl.Int64(),
}

PEOPLE_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.Int64(),
    "username": pl.String(),
    "name": pl.String(),
    "role": pl.String(),
    "team_id": pl.Int64(),
    "team": pl.String(),
    "region": pl.String(),
}

QUOTAS_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.Int64(),
    "team_id": pl.Int64(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "period_kind": pl.String(),
    "amount": pl.Float64(),
}


def empty_leads() -> pl.DataFrame:
    return pl.DataFrame(schema=LEADS_SCHEMA)
