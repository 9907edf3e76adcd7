"""The Maven CRM preset: each sales_pipeline row is an opportunity, owned by an agent in a manager's team.

Accounts and products are looked up by name. The pipeline writes `GTXPro` where products.csv says
`GTX Pro`, so product names are compared without spaces or case; a plain join would drop 1480 deals.
"""

from __future__ import annotations

import polars as pl

from db.importing.batch import TEXT_LIMITS, LeadBatch, PersonSpec, SourceSpec, TeamSpec, as_lead_rows
from db.importing.checks import (
    ROW,
    RowChecks,
    columns_of,
    employee_band,
    json_object,
    map_values,
    parse_count,
    parse_datetime,
    parse_number,
    raise_if_any,
    require_columns,
)
from db.importing.reader import CsvTable
from db.models import Role

SOURCE = SourceSpec(
    name="maven",
    label="Maven CRM sales opportunities (sample)",
    stages=("opportunity", "won"),
    has_traffic=False,
)
FILES = ("sales_pipeline.csv", "sales_teams.csv", "accounts.csv", "products.csv")
PIPELINE_COLUMNS = (
    "opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date", "close_date",
    "close_value",
)  # fmt: skip
TEAM_COLUMNS = ("sales_agent", "manager", "regional_office")
ACCOUNT_COLUMNS = (
    "account", "sector", "year_established", "revenue", "employees", "office_location", "subsidiary_of",
)  # fmt: skip
PRODUCT_COLUMNS = ("product", "series", "sales_price")
DEAL_STAGES = {"won": "won", "lost": "lost", "engaging": "open", "prospecting": "open"}
DATE_FORMAT = "%Y-%m-%d"

# The attributes each lead keeps: attribute key -> the joined column holding it.
ATTRIBUTES = {
    "account": "account",
    "account_revenue": "revenue",
    "year_established": "year_established",
    "subsidiary_of": "subsidiary_of",
    "product": "product_name",
    "series": "series",
    "sales_price": "sales_price",
    "deal_stage": "deal_stage",
}


def product_key(name: pl.Expr) -> pl.Expr:
    """'GTX Pro' and 'GTXPro' are the same product."""
    return name.str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")


def _checked_teams(table: CsvTable) -> tuple[pl.DataFrame, pl.DataFrame]:
    require_columns(table, TEAM_COLUMNS)
    frame = columns_of(table, {name: name for name in TEAM_COLUMNS})
    checks = RowChecks(table.file)
    checks.required(frame, "sales_agent", "sales_agent", "the agent")
    checks.duplicates(frame, "sales_agent", "sales_agent", "agent")
    checks.required(frame, "manager", "manager", "the manager")
    for name in ("sales_agent", "manager"):
        checks.too_long(frame, name, name, TEXT_LIMITS["team"])
    return frame, checks.problems()


def _checked_accounts(table: CsvTable) -> tuple[pl.DataFrame, pl.DataFrame]:
    require_columns(table, ACCOUNT_COLUMNS)
    frame = columns_of(table, {name: name for name in ACCOUNT_COLUMNS})
    checks = RowChecks(table.file)
    checks.required(frame, "account", "account", "the account name")
    checks.duplicates(frame, "account", "account", "account")
    typed = {
        "employees": parse_count(pl.col("employees")),
        "year_established": parse_count(pl.col("year_established")),
        "revenue": parse_number(pl.col("revenue"), thousands_separator=""),
    }
    for name, expr in typed.items():
        checks.unparsed(frame, name, expr, name, "not a number")
    checks.too_long(frame, "sector", "sector", TEXT_LIMITS["industry"])
    checks.too_long(frame, "office_location", "office_location", TEXT_LIMITS["country"])
    frame = frame.with_columns(expr.alias(name) for name, expr in typed.items())
    return frame, checks.problems()


def _checked_products(table: CsvTable) -> tuple[pl.DataFrame, pl.DataFrame]:
    require_columns(table, PRODUCT_COLUMNS)
    frame = columns_of(table, {name: name for name in PRODUCT_COLUMNS})
    checks = RowChecks(table.file)
    price = parse_number(pl.col("sales_price"), thousands_separator="")
    checks.required(frame, "product", "product", "the product name")
    checks.unparsed(frame, "sales_price", price, "sales_price", "not a number")
    frame = frame.with_columns(
        price.alias("sales_price"), product_key(pl.col("product")).alias("product_key")
    )
    checks.duplicates(frame, "product_key", "product", "product")
    return frame, checks.problems()


def _known(frame: pl.DataFrame, column: str) -> pl.Series:
    return frame.get_column(column).drop_nulls().implode()


def _checked_pipeline(
    table: CsvTable, teams: pl.DataFrame, accounts: pl.DataFrame, products: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    require_columns(table, PIPELINE_COLUMNS)
    frame = columns_of(table, {name: name for name in PIPELINE_COLUMNS})
    checks = RowChecks(table.file)
    typed = {
        "engage_at": parse_datetime(pl.col("engage_date"), [DATE_FORMAT]),
        "close_at": parse_datetime(pl.col("close_date"), [DATE_FORMAT]),
        "amount": parse_number(pl.col("close_value"), thousands_separator=""),
        "said": map_values(pl.col("deal_stage"), DEAL_STAGES, pl.String()),
        "product_key": product_key(pl.col("product")),
    }
    checks.required(frame, "opportunity_id", "opportunity_id", "the id")
    checks.duplicates(frame, "opportunity_id", "opportunity_id")
    checks.too_long(frame, "opportunity_id", "opportunity_id", TEXT_LIMITS["external_id"])
    checks.unparsed(frame, "engage_date", typed["engage_at"], "engage_date", "not a date like 2017-03-01")
    checks.unparsed(frame, "close_date", typed["close_at"], "close_date", "not a date like 2017-03-01")
    checks.unparsed(frame, "close_value", typed["amount"], "close_value", "not a number")
    checks.flag(frame, typed["amount"] < 0, "close_value", "a negative amount", pl.col("close_value"))
    checks.unparsed(
        frame, "deal_stage", typed["said"], "deal_stage", "not Won, Lost, Engaging or Prospecting"
    )
    checks.flag(
        frame,
        typed["said"].is_in(["won", "lost"]) & pl.col("close_date").is_null(),
        "close_date",
        "a won or lost deal needs a close date",
    )
    for column, known, problem in (
        ("sales_agent", _known(teams, "sales_agent"), "this agent is not in sales_teams.csv"),
        ("account", _known(accounts, "account"), "this account is not in accounts.csv"),
    ):
        checks.flag(
            frame,
            pl.col(column).is_not_null() & ~pl.col(column).is_in(known),
            column,
            problem,
            pl.col(column),
        )
    checks.required(frame, "sales_agent", "sales_agent", "the agent")
    checks.flag(
        frame,
        ~typed["product_key"].is_in(_known(products, "product_key")),
        "product",
        "this product is not in products.csv",
        pl.col("product"),
    )
    return frame.with_columns(expr.alias(name) for name, expr in typed.items()), checks.problems()


def _lead_rows(
    pipeline: pl.DataFrame, teams: pl.DataFrame, accounts: pl.DataFrame, products: pl.DataFrame
) -> pl.DataFrame:
    closed = pl.col("said").is_in(["won", "lost"])
    joined = (
        pipeline.sort(ROW)
        .join(teams.select("sales_agent", "manager"), on="sales_agent", how="left")
        .join(accounts.drop("__row", "__line"), on="account", how="left")
        .join(
            products.select("product_key", pl.col("product").alias("product_name"), "series", "sales_price"),
            on="product_key",
            how="left",
        )
    )
    attributes = json_object({key: pl.col(column) for key, column in ATTRIBUTES.items()})
    return joined.select(
        pl.col("opportunity_id").alias("external_id"),
        pl.col("engage_at").alias("created_at"),
        pl.col("engage_at").alias("opportunity_at"),
        pl.when(closed).then(pl.col("close_at")).alias("closed_at"),
        pl.when(closed).then(pl.col("said")).alias("outcome"),
        pl.when(closed).then(pl.col("amount")).alias("amount"),
        pl.col("sales_agent").alias("owner"),
        pl.col("manager").alias("team"),
        pl.col("sector").alias("industry"),
        pl.col("office_location").alias("country"),
        employee_band(pl.col("employees")).alias("company_size"),
        attributes.alias("attributes"),
        pl.lit(False).alias("mql_by_import"),
    )


def _people_and_teams(teams: pl.DataFrame) -> tuple[tuple[PersonSpec, ...], tuple[TeamSpec, ...]]:
    """Every agent (a rep, deals or not) and every manager (a sales manager), each in the manager's team."""
    team_specs = tuple(
        TeamSpec(manager, region)
        for manager, region in teams.unique("manager", keep="first", maintain_order=True)
        .select("manager", "regional_office")
        .iter_rows()
    )
    managers = {spec.name for spec in team_specs}
    people = [
        PersonSpec(key=agent, name=agent, username_hint=agent, role=Role.rep, team=manager)
        for agent, manager in teams.select("sales_agent", "manager").iter_rows()
        if agent not in managers
    ]
    people += [
        PersonSpec(key=name, name=name, username_hint=name, role=Role.sales_manager, team=name)
        for name in managers
    ]
    return tuple(sorted(people, key=lambda p: p.key)), team_specs


def batch_from_maven(
    pipeline: CsvTable, teams: CsvTable, accounts: CsvTable, products: CsvTable
) -> LeadBatch:
    team_rows, team_problems = _checked_teams(teams)
    account_rows, account_problems = _checked_accounts(accounts)
    product_rows, product_problems = _checked_products(products)
    deal_rows, deal_problems = _checked_pipeline(pipeline, team_rows, account_rows, product_rows)
    raise_if_any(deal_problems, team_problems, account_problems, product_problems)
    people, team_specs = _people_and_teams(team_rows)
    return LeadBatch(
        source=SOURCE,
        file_name=" + ".join(t.file for t in (pipeline, teams, accounts, products)),
        rows_read=pipeline.height,
        leads=as_lead_rows(_lead_rows(deal_rows, team_rows, account_rows, product_rows)),
        people=people,
        teams=team_specs,
        encoding=pipeline.encoding,
    )
