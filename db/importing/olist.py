"""The Olist marketing-funnel preset: every MQL of the leads file, the closed deals marking some as won.

Olist records no SQL or opportunity stage and no deal amount; the SR who closed a deal is its owner and
everything else a deal row says is kept in the lead's attributes.
"""

from __future__ import annotations

import polars as pl

from db.importing.batch import TEXT_LIMITS, LeadBatch, PersonSpec, SourceSpec, as_lead_rows
from db.importing.checks import (
    ROW,
    RowChecks,
    columns_of,
    json_object,
    parse_boolean,
    parse_datetime,
    parse_number,
    raise_if_any,
    require_columns,
)
from db.importing.reader import CsvTable

SOURCE = SourceSpec(
    name="olist",
    label="Olist marketing funnel (Kaggle)",
    stages=("created", "mql", "won"),
    has_traffic=False,
)
LEAD_COLUMNS = ("mql_id", "first_contact_date", "landing_page_id", "origin")
DEAL_COLUMNS = (
    "mql_id", "seller_id", "sdr_id", "sr_id", "won_date", "business_segment", "lead_type",
    "lead_behaviour_profile", "has_company", "has_gtin", "average_stock", "business_type",
    "declared_product_catalog_size", "declared_monthly_revenue",
)  # fmt: skip
BOOLEAN_COLUMNS = ("has_company", "has_gtin")
NUMBER_COLUMNS = ("declared_product_catalog_size", "declared_monthly_revenue")
TEXT_ATTRIBUTES = (
    "seller_id", "sdr_id", "sr_id", "business_segment", "lead_type", "lead_behaviour_profile",
    "average_stock", "business_type",
)  # fmt: skip
USERNAME_ID_CHARS = 10


def _checked_leads(table: CsvTable) -> tuple[pl.DataFrame, pl.DataFrame]:
    require_columns(table, LEAD_COLUMNS)
    frame = columns_of(table, {name: name for name in LEAD_COLUMNS})
    checks = RowChecks(table.file)
    first_contact = parse_datetime(pl.col("first_contact_date"), ["%Y-%m-%d"])
    checks.required(frame, "mql_id", "mql_id", "the id")
    checks.duplicates(frame, "mql_id", "mql_id")
    checks.too_long(frame, "mql_id", "mql_id", TEXT_LIMITS["external_id"])
    checks.required(frame, "first_contact_date", "first_contact_date", "the first contact date")
    checks.unparsed(
        frame, "first_contact_date", first_contact, "first_contact_date", "not a date like 2018-02-01"
    )
    checks.too_long(frame, "origin", "origin", TEXT_LIMITS["source"])
    checks.too_long(frame, "landing_page_id", "landing_page_id", TEXT_LIMITS["landing_page"])
    return frame.with_columns(first_contact.alias("first_contact")), checks.problems()


def _checked_deals(table: CsvTable, lead_ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    require_columns(table, DEAL_COLUMNS)
    frame = columns_of(table, {name: name for name in DEAL_COLUMNS})
    checks = RowChecks(table.file)
    won_at = parse_datetime(pl.col("won_date"), ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"])
    checks.required(frame, "mql_id", "mql_id", "the id")
    checks.duplicates(frame, "mql_id", "mql_id")
    checks.flag(
        frame,
        pl.col("mql_id").is_not_null() & ~pl.col("mql_id").is_in(lead_ids.implode()),
        "mql_id",
        "no lead in the leads file has this mql_id",
        pl.col("mql_id"),
    )
    checks.required(frame, "won_date", "won_date", "the won date")
    checks.unparsed(frame, "won_date", won_at, "won_date", "not a date and time like 2018-02-26 19:58:54")
    typed: dict[str, pl.Expr] = {"won_at": won_at}
    for name in BOOLEAN_COLUMNS:
        typed[name] = parse_boolean(pl.col(name))
        checks.unparsed(frame, name, typed[name], name, "not True or False")
    for name in NUMBER_COLUMNS:
        typed[name] = parse_number(pl.col(name), thousands_separator="")
        checks.unparsed(frame, name, typed[name], name, "not a number")
    frame = frame.with_columns(expr.alias(name) for name, expr in typed.items())
    attributes = json_object(
        {name: pl.col(name) for name in (*TEXT_ATTRIBUTES, *BOOLEAN_COLUMNS, *NUMBER_COLUMNS)}
    )
    return frame.with_columns(attributes.alias("attributes")), checks.problems()


def _people(deals: pl.DataFrame) -> tuple[PersonSpec, ...]:
    """One person per distinct id, whether they worked as SDR, SR or both."""
    roles: dict[str, set[str]] = {}
    for column, role in (("sdr_id", "SDR"), ("sr_id", "SR")):
        for person_id in deals.get_column(column).drop_nulls().unique().sort().to_list():
            roles.setdefault(person_id, set()).add(role)
    return tuple(
        PersonSpec(
            key=person_id,
            name=f"Olist {' and '.join(sorted(worked_as))} {person_id[:8]}",
            username_hint=f"olist-{person_id[:USERNAME_ID_CHARS]}",
        )
        for person_id, worked_as in sorted(roles.items())
    )


def batch_from_olist(leads: CsvTable, deals: CsvTable) -> LeadBatch:
    """The Olist files as leads: created = MQL at first contact (midnight UTC), won at the deal's date."""
    lead_rows, lead_problems = _checked_leads(leads)
    deal_rows, deal_problems = _checked_deals(deals, lead_rows.get_column("mql_id").drop_nulls())
    raise_if_any(lead_problems, deal_problems)
    joined = lead_rows.sort(ROW).join(
        deal_rows.select("mql_id", "won_at", "sr_id", "attributes"), on="mql_id", how="left"
    )
    rows = joined.select(
        pl.col("mql_id").alias("external_id"),
        pl.col("first_contact").alias("created_at"),
        pl.col("first_contact").alias("mql_at"),
        pl.col("won_at").alias("closed_at"),
        pl.when(pl.col("won_at").is_not_null()).then(pl.lit("won")).alias("outcome"),
        pl.col("sr_id").alias("owner"),
        pl.col("origin").alias("source"),
        pl.col("landing_page_id").alias("landing_page"),
        "attributes",
        pl.lit(True).alias("mql_by_import"),
    )
    return LeadBatch(
        source=SOURCE,
        file_name=f"{leads.file} + {deals.file}",
        rows_read=leads.height,
        leads=as_lead_rows(rows),
        people=_people(deal_rows),
        encoding=leads.encoding,
    )
