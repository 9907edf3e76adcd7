"""Any CSV through a Mapping: find the mapped columns, parse and check every cell, build a LeadBatch."""

from __future__ import annotations

import polars as pl

from db.importing.batch import (
    COUNT_FIELDS,
    TEXT_FIELDS,
    TEXT_LIMITS,
    LeadBatch,
    PersonSpec,
    SourceSpec,
    TeamSpec,
    as_lead_rows,
)
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
)
from db.importing.errors import InvalidInput, Problem, ProblemReport, fix_hint
from db.importing.mapping import DATE_FIELDS, Mapping
from db.importing.reader import CsvTable
from db.importing.spelling import one_spelling_per_value
from db.importing.usernames import looks_like_email

STAGE_TIME = {
    "created": "created_at",
    "mql": "mql_at",
    "sql": "sql_at",
    "opportunity": "opportunity_at",
}
STAGE = "raw.stage"
OUTCOME = "raw.outcome"
RATING = "raw.rating"


def _raw(field: str) -> str:
    return f"raw.{field}"


def _attribute(key: str) -> str:
    return f"attr.{key}"


def _unreadable(time: str) -> str:
    return f"unreadable.{time}"


# ---------------------------------------------------------------- finding the columns


def _find_header(table: CsvTable, name: str) -> str | None:
    """The file's header for `name`: exact, else the one header equal to it ignoring case."""
    if name in table.header:
        return name
    matches = [h for h in table.header if h.casefold() == name.casefold()]
    return matches[0] if len(matches) == 1 else None


def _mapped_columns(table: CsvTable, mapping: Mapping) -> dict[str, str]:
    """Alias -> header for every column the mapping reads; InvalidInput naming any the file lacks."""
    wanted: dict[str, str] = {_raw(f): c for f, c in mapping.columns.items()}
    for alias, extra in ((STAGE, mapping.stage), (OUTCOME, mapping.outcome), (RATING, mapping.rating)):
        if extra is not None and extra.column:
            wanted[alias] = extra.column
    wanted |= {_attribute(key): column for column, key in mapping.attributes.items()}
    found: dict[str, str] = {}
    missing: list[str] = []  # each name once, though it may serve twice (a stage and an attribute)
    for alias, name in wanted.items():
        header = _find_header(table, name)
        if header is not None:
            found[alias] = header
        elif name not in missing:
            missing.append(name)
    if missing:
        report = ProblemReport()
        for name in missing:
            problem = _missing_column(table, name, mapping.read.delimiter)
            report.add(Problem(table.file, table.header_row, name, name, problem, table.header_line))
        raise InvalidInput(report)
    return found


def _missing_column(table: CsvTable, name: str, delimiter: str) -> str:
    alike = [h for h in table.header if h.casefold() == name.casefold()]
    if len(alike) > 1:
        return (
            f"the mapping names this column and {len(alike)} columns match it ignoring letter case "
            f"({', '.join(repr(h) for h in alike)}): name the one meant exactly"
        )
    known = ", ".join(repr(h) for h in table.header[:30])
    problem = f"the mapping names this column but the file has none (it has {known})"
    if len(table.header) == 1:
        others = [d for d in (",", ";", "\t", "|") if d != delimiter and d in table.header[0]]
        if others:
            problem += f"; is the file separated by {others[0]!r}, not {delimiter!r}? Set [read] delimiter"
    return problem


# ---------------------------------------------------------------- parsing the cells


def _has(frame: pl.DataFrame, alias: str) -> bool:
    return alias in frame.columns


def _stage_dates(frame: pl.DataFrame, mapping: Mapping, checks: RowChecks) -> pl.DataFrame:
    """Each stage's time: its date column, else (when the stage column says it was reached) a fallback."""
    read = mapping.read
    problem = f"not a date in any of the formats {', '.join(read.date_formats)}"
    times: dict[str, pl.Expr] = {}
    texts: dict[str, str] = {}
    for stage, date_field in DATE_FIELDS.items():
        alias = _raw(date_field)
        if stage == "lost" or not _has(frame, alias):
            continue
        parsed = parse_datetime(pl.col(alias), read.date_formats, read.timezone)
        checks.unparsed(frame, alias, parsed, mapping.columns[date_field], problem)
        time = "closed_at" if stage == "won" else STAGE_TIME[stage]
        times[time], texts[time] = parsed, alias
    all_times = (*STAGE_TIME.values(), "closed_at")
    frame = frame.with_columns(
        times.get(name, pl.lit(None, pl.Datetime("us"))).alias(name) for name in all_times
    )
    # A date that is there but unreadable is reported once, as such, and not again as a missing date.
    frame = frame.with_columns(
        (
            pl.col(texts[name]).is_not_null() & pl.col(name).is_null() if name in texts else pl.lit(False)
        ).alias(_unreadable(name))
        for name in all_times
    )
    if mapping.stage is None:
        return frame.with_columns(pl.lit(None, pl.String).alias("stage"))
    stage_named = map_values(pl.col(STAGE), mapping.stage.values, pl.String())
    known = ", ".join(repr(v) for v in mapping.stage.values)
    checks.unparsed(
        frame, STAGE, stage_named, mapping.stage.column, f"not a stage listed in [stage.values] ({known})"
    )
    frame = frame.with_columns(stage_named.alias("stage"))
    fallback = pl.col("created_at") if mapping.stage.missing_date == "created" else pl.lit(None)
    frame = frame.with_columns(
        pl.when((pl.col("stage") == stage_name) & pl.col(time).is_null())
        .then(fallback)
        .otherwise(pl.col(time))
        .alias(time)
        for stage_name, time in STAGE_TIME.items()
    )
    unreadable_fallback = pl.lit(mapping.stage.missing_date == "created") & pl.col(_unreadable("created_at"))
    for stage_name, time in STAGE_TIME.items():
        column = mapping.columns.get(DATE_FIELDS[stage_name], mapping.stage.column)
        checks.flag(
            frame,
            (pl.col("stage") == stage_name)
            & pl.col(time).is_null()
            & ~pl.col(_unreadable(time))
            & ~unreadable_fallback,
            column,
            f"the stage is {stage_name} but there is no date for it",
            pl.col(STAGE),
            fix=_stage_date_fix(mapping, stage_name),
        )
    return frame


def _stage_date_fix(mapping: Mapping, stage_name: str) -> str:
    """When the stage's date column is not mapped: map it (or say a missing date is the created date)."""
    date_field = DATE_FIELDS[stage_name]
    if date_field in mapping.columns:
        return ""  # mapped, and blank on the row: the file, not the mapping, lacks the date
    places = [f"columns.{date_field}"]
    if stage_name != "created" and mapping.stage is not None:
        if mapping.stage.missing_date == "error":
            places.append("stage.missing_date=created")
        elif "created_date" not in mapping.columns:
            places.append("columns.created_date")
    return fix_hint(*places)


def _outcomes(frame: pl.DataFrame, mapping: Mapping, checks: RowChecks) -> pl.DataFrame:
    """won / lost / null and the close time; an 'open' outcome drops an expected close date."""
    outcome_map = mapping.outcome
    from_column = pl.lit(None, pl.String)
    if outcome_map is not None and outcome_map.column:
        from_column = map_values(pl.col(OUTCOME), outcome_map.values, pl.String())
        known = ", ".join(repr(v) for v in outcome_map.values)
        checks.unparsed(
            frame,
            OUTCOME,
            from_column,
            outcome_map.column,
            f"not an outcome listed in [outcome.values] ({known})",
        )
    from_stage = pl.when(pl.col("stage").is_in(["won", "lost"])).then(pl.col("stage"))
    said = pl.coalesce(from_column, from_stage)
    if outcome_map is not None and outcome_map.closed_means:
        said = (
            pl.when(said.is_null() & pl.col("closed_at").is_not_null())
            .then(pl.lit(outcome_map.closed_means))
            .otherwise(said)
        )
    frame = frame.with_columns(said.alias("said"))
    stage_fallback = (
        pl.col("stage").is_in(["won", "lost"])
        & pl.col("closed_at").is_null()
        & pl.lit(mapping.stage is not None and mapping.stage.missing_date == "created")
    )
    frame = frame.with_columns(
        pl.when(pl.col("said") == "open").then(None).otherwise(pl.col("said")).alias("outcome"),
        pl.when(pl.col("said") == "open")
        .then(None)
        .when(stage_fallback)
        .then(pl.col("created_at"))
        .otherwise(pl.col("closed_at"))
        .alias("closed_at"),
    )
    close_column = mapping.columns.get("close_date", "")
    checks.flag(
        frame,
        pl.col("outcome").is_not_null() & pl.col("closed_at").is_null() & ~pl.col(_unreadable("closed_at")),
        close_column,
        pl.format("a {} deal needs a close date", pl.col("outcome"))
        + pl.lit(", and the close date is blank" if close_column else ""),
        fix="" if close_column else fix_hint("columns.close_date"),
    )
    outcome_column = outcome_map.column if outcome_map is not None else None
    checks.flag(
        frame,
        pl.col("closed_at").is_not_null() & pl.col("outcome").is_null(),
        close_column,
        "a close date but no outcome (won or lost)"
        + (", and the outcome is blank" if outcome_column else ""),
        pl.col(_raw("close_date")) if _has(frame, _raw("close_date")) else None,
        fix=fix_hint("outcome.closed_means")
        if outcome_column
        else fix_hint("outcome.column", "outcome.closed_means"),
    )
    return frame


def _amounts_and_counts(frame: pl.DataFrame, mapping: Mapping, checks: RowChecks) -> pl.DataFrame:
    read = mapping.read
    parsed: dict[str, pl.Expr] = {}
    if _has(frame, _raw("amount")):
        amount = parse_number(pl.col(_raw("amount")), read.thousands_separator, read.decimal_separator)
        column = mapping.columns["amount"]
        checks.unparsed(frame, _raw("amount"), amount, column, "not a number")
        checks.flag(frame, amount < 0, column, "a negative amount", pl.col(_raw("amount")))
        parsed["amount"] = amount
    for name in COUNT_FIELDS:
        if _has(frame, _raw(name)):
            count = parse_count(pl.col(_raw(name)), read.thousands_separator, read.decimal_separator)
            checks.unparsed(
                frame, _raw(name), count, mapping.columns[name], "not a whole number of at least 0"
            )
            parsed[name] = count.fill_null(0)
    return frame.with_columns(expr.alias(name) for name, expr in parsed.items())


def _rating(frame: pl.DataFrame, mapping: Mapping, checks: RowChecks) -> pl.DataFrame:
    if mapping.rating is None:
        return frame
    if mapping.rating.values:
        stars = map_values(pl.col(RATING), mapping.rating.values, pl.Int64())
        problem = "not a rating listed in [rating.values]"
    else:
        count = parse_count(pl.col(RATING))
        stars = pl.when(count.is_between(1, 5)).then(count)
        problem = "not a rating of 1 to 5 stars"
    checks.unparsed(frame, RATING, stars, mapping.rating.column, problem)
    if mapping.rating.rater is not None:
        return frame.with_columns(stars.alias("rating"))
    checks.flag(
        frame,
        stars.is_not_null() & pl.col(_raw("owner")).is_null(),
        mapping.columns["owner"],
        "a rating needs an owner (the rater), and the owner is blank",
    )
    return frame.with_columns(stars.alias("rating"))


def _texts(frame: pl.DataFrame, mapping: Mapping, checks: RowChecks) -> pl.DataFrame:
    texts: dict[str, pl.Expr] = {}
    for name in ("external_id", "owner", "team", *TEXT_FIELDS):
        alias = _raw(name)
        if not _has(frame, alias):
            continue
        value = pl.col(alias)
        if name == "company_size" and mapping.read.employee_count_bands:
            count = parse_number(value, mapping.read.thousands_separator, mapping.read.decimal_separator)
            value = pl.when(count >= 0).then(employee_band(count)).otherwise(value)
        texts[name] = value
        checks.too_long(
            frame.with_columns(value.alias(alias)), alias, mapping.columns[name], TEXT_LIMITS[name]
        )
    checks.required(frame, _raw("external_id"), mapping.columns["external_id"], "the id")
    checks.duplicates(frame, _raw("external_id"), mapping.columns["external_id"])
    attributes = json_object({key: pl.col(_attribute(key)) for key in mapping.attributes.values()})
    return frame.with_columns(*(e.alias(n) for n, e in texts.items()), attributes.alias("attributes"))


# ---------------------------------------------------------------- people and the batch


def _one_spelling_per_owner(frame: pl.DataFrame) -> pl.DataFrame:
    """Owners are matched ignoring case, so "Ann Lee" and "ann lee" in one file are one person, spelled
    as on the first row that names them (two people would make a re-import find neither)."""
    if not _has(frame, "owner"):
        return frame
    return frame.with_columns(pl.col("owner").first().over(pl.col("owner").str.to_lowercase()))


def _people(leads: pl.DataFrame) -> tuple[PersonSpec, ...]:
    owners = leads.filter(pl.col("owner").is_not_null()).unique("owner", keep="first", maintain_order=True)
    return tuple(
        PersonSpec(
            key=owner,
            name=owner,
            username_hint=owner.split("@")[0] if looks_like_email(owner) else owner,
            email=owner if looks_like_email(owner) else None,
            team=team,
        )
        for owner, team in owners.select("owner", "team").iter_rows()
    )


def _teams(leads: pl.DataFrame) -> tuple[TeamSpec, ...]:
    names = leads.get_column("team").drop_nulls().unique(maintain_order=True)
    return tuple(TeamSpec(name) for name in names.to_list())


def batch_from_mapping(table: CsvTable, mapping: Mapping) -> LeadBatch:
    """Every row checked and converted; InvalidInput lists every problem when any row is invalid."""
    columns = _mapped_columns(table, mapping)
    frame = columns_of(table, columns, mapping.read.null_values)
    checks = RowChecks(table.file)
    frame = _stage_dates(frame, mapping, checks)
    frame = _outcomes(frame, mapping, checks)
    frame = _amounts_and_counts(frame, mapping, checks)
    frame = _rating(frame, mapping, checks)
    frame = _texts(frame, mapping, checks)
    problems = checks.problems()
    if problems.height:
        report = ProblemReport()
        report.add_frame(problems)
        raise InvalidInput(report)
    leads = as_lead_rows(
        one_spelling_per_value(_one_spelling_per_owner(frame.sort(ROW))).with_columns(
            pl.col("mql_at").is_not_null().alias("mql_by_import")
        )
    )
    source = SourceSpec(
        name=mapping.source_name,
        label=mapping.source_label,
        stages=mapping.source_stages(),
        later_stage_implies_earlier=mapping.later_stage_implies_earlier,
    )
    return LeadBatch(
        source=source,
        file_name=table.file,
        rows_read=table.height,
        leads=leads,
        people=_people(leads),
        teams=_teams(leads),
        match_people_by_name=True,
        rater=mapping.rating.rater if mapping.rating is not None else None,
        encoding=table.encoding,
    )
