"""What one import wants the database to hold, in one shape whatever the file looked like.

The presets (Olist, Maven) and the generic mapping each turn their files into a LeadBatch; the writer
(db/importing/upsert.py) only ever sees this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from db.models import Role

STAGE_TIMES = ("created_at", "mql_at", "sql_at", "opportunity_at", "closed_at")
TEXT_FIELDS = ("source", "campaign", "landing_page", "industry", "company_size", "country", "persona")
COUNT_FIELDS = ("page_views", "email_clicks", "content_downloads")
# The widths of the leads table (db/models.py): longer text is a problem report, not a database error.
TEXT_LIMITS: dict[str, int] = {
    "external_id": 120,
    "source": 120,
    "campaign": 200,
    "landing_page": 300,
    "industry": 120,
    "company_size": 40,
    "country": 80,
    "persona": 80,
    "owner": 200,
    "team": 120,
}

LEAD_ROWS_SCHEMA: dict[str, pl.DataType] = {
    "external_id": pl.String(),
    **{name: pl.Datetime("us") for name in STAGE_TIMES},
    "outcome": pl.String(),
    "amount": pl.Float64(),
    "owner": pl.String(),  # the key of a PersonSpec (presets) or the owner text of the file
    "team": pl.String(),  # a team name, or null to use the owner's team
    **{name: pl.String() for name in TEXT_FIELDS},
    **{name: pl.Int64() for name in COUNT_FIELDS},
    "attributes": pl.String(),  # a JSON object, keys sorted, or null
    "mql_by_import": pl.Boolean(),
    "rating": pl.Int64(),  # 1-5 stars from the owner (or the batch's rater), or null
}


@dataclass(frozen=True)
class SourceSpec:
    """The DataSource row an import registers: what the pages may say this data set lacks."""

    name: str
    label: str
    stages: tuple[str, ...]
    later_stage_implies_earlier: bool = False
    has_traffic: bool = False


@dataclass(frozen=True)
class TeamSpec:
    name: str
    region: str | None = None


@dataclass(frozen=True)
class PersonSpec:
    """Someone the leads name; found by (source system, key) or, for a mapping, by username/email/name."""

    key: str
    name: str
    username_hint: str
    role: Role = Role.rep
    team: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class LeadBatch:
    source: SourceSpec
    file_name: str
    rows_read: int
    leads: pl.DataFrame  # LEAD_ROWS_SCHEMA, every row valid
    people: tuple[PersonSpec, ...] = ()
    teams: tuple[TeamSpec, ...] = ()
    # True for mappings: an owner may be an existing Huddle user, named by username, email or name.
    match_people_by_name: bool = False
    # Who gave every rating of `leads` (a mapping's [rating] rater): None when each lead's owner did.
    rater: str | None = None
    encoding: str = "UTF-8"
    notes: tuple[str, ...] = field(default_factory=tuple)


def as_lead_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every LEAD_ROWS_SCHEMA column (absent ones null, counts 0), in schema order."""
    missing = [
        (pl.lit(0, dtype) if name in COUNT_FIELDS else pl.lit(None, dtype)).alias(name)
        for name, dtype in LEAD_ROWS_SCHEMA.items()
        if name not in frame.columns
    ]
    return frame.with_columns(missing).select(
        pl.col(name).cast(dtype) for name, dtype in LEAD_ROWS_SCHEMA.items()
    )
