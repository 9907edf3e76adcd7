"""The mapping format: which column of a CRM export means what (docs/IMPORT_MAPPING.md), read from and
written to TOML. Parsing checks the mapping on its own; db/importing/generic.py applies it to a file.
"""

from __future__ import annotations

import json
import re
import tomllib
import zoneinfo
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from core.criteria import LEAD_FIELDS

FIELDS: dict[str, str] = {
    "external_id": "the record's id in the source system (required; re-imports update by it)",
    "created_date": "when the lead was created",
    "mql_date": "when it became a marketing qualified lead",
    "sql_date": "when sales accepted it (sales qualified lead)",
    "opportunity_date": "when a deal was opened on it",
    "close_date": "when the deal was won or lost",
    "amount": "deal value (revenue when won)",
    "owner": "the sales rep, matched to users by username, email or name",
    "team": "the team's name",
    "source": "lead source / channel",
    "campaign": "campaign name",
    "landing_page": "landing page",
    "industry": "industry",
    "company_size": "company size (a band such as 11-50, or a head count with employee_count_bands)",
    "country": "country",
    "persona": "persona or job title",
    "page_views": "number of page views",
    "email_clicks": "number of email clicks",
    "content_downloads": "number of content downloads",
}
DATE_FIELDS: dict[str, str] = {
    "created": "created_date",
    "mql": "mql_date",
    "sql": "sql_date",
    "opportunity": "opportunity_date",
    "won": "close_date",
    "lost": "close_date",
}
STAGE_NAMES = ("created", "mql", "sql", "opportunity", "won", "lost")
SOURCE_STAGES = ("created", "mql", "sql", "opportunity", "won")
OUTCOME_NAMES = ("won", "lost", "open")
MISSING_DATE_CHOICES = ("created", "error")
DEFAULT_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",
)
SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,59}")
RESERVED_SOURCES = frozenset({"demo", "olist", "maven"})
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# The pseudo-rater a `[rating]` section names with `rater = "Imported rating"` (db/importing/raters.py).
IMPORTED_RATER = "Imported rating"
# An attribute may not take the name of a lead field: a rule, the evidence table and the what-if editor
# name a field and an attribute alike, so the two would be one name for two things.
FIELD_NAMES = frozenset(name.casefold() for name in (*FIELDS, *LEAD_FIELDS))


class MappingError(ValueError):
    """The mapping itself is wrong (before any file is read); the message says where."""


@dataclass(frozen=True)
class ReadOptions:
    delimiter: str = ","
    null_values: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    timezone: str = "UTC"
    thousands_separator: str = ","
    decimal_separator: str = "."
    employee_count_bands: bool = False


@dataclass(frozen=True)
class StageColumn:
    """A column naming the furthest stage a lead reached, e.g. HubSpot's "Lifecycle Stage"."""

    column: str
    values: dict[str, str]  # file value -> created, mql, sql, opportunity, won or lost
    missing_date: str = "created"  # when that stage's date is blank: use the created date, or "error"


@dataclass(frozen=True)
class OutcomeColumn:
    column: str | None = None
    values: dict[str, str] = field(default_factory=dict)  # file value -> won, lost or open
    closed_means: str | None = None  # a close date with no outcome means this (won or lost)


@dataclass(frozen=True)
class RatingColumn:
    """A column of sales' quality ratings. Each rating is the owner's, or with `rater` that one person's
    (a Huddle user's username, email or name) or IMPORTED_RATER's, for exports whose column has no owner."""

    column: str
    values: dict[str, int] = field(default_factory=dict)  # file value -> 1..5 stars; empty: the number
    rater: str | None = None  # None: the lead's owner rates it

    def by_imported_rater(self) -> bool:
        return self.rater is not None and is_imported_rater(self.rater)


def is_imported_rater(name: str) -> bool:
    return name.strip().casefold() == IMPORTED_RATER.casefold()


@dataclass(frozen=True)
class Mapping:
    source_name: str  # the source system the leads belong to; re-imports update within it
    source_label: str
    columns: dict[str, str]  # field (FIELDS) -> column header in the file
    stages: tuple[str, ...] = ()  # empty: the stages the mapped columns can fill
    later_stage_implies_earlier: bool = False
    read: ReadOptions = ReadOptions()
    stage: StageColumn | None = None
    outcome: OutcomeColumn | None = None
    rating: RatingColumn | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # column header -> attribute key

    def with_source(self, name: str) -> Mapping:
        """The same mapping writing into another source system (e.g. a second HubSpot portal)."""
        _check_source_name(name)
        return Mapping(**{**self.__dict__, "source_name": name})

    def file_columns(self) -> list[str]:
        """Every column header the mapping reads, in a stable order."""
        names = list(self.columns.values())
        for extra in (self.stage, self.outcome, self.rating):
            if extra is not None and extra.column:
                names.append(extra.column)
        names += list(self.attributes)
        return list(dict.fromkeys(names))

    def source_stages(self) -> tuple[str, ...]:
        if self.stages:
            return self.stages
        reached = {stage for stage, date_field in DATE_FIELDS.items() if date_field in self.columns}
        if self.stage is not None:
            reached |= set(self.stage.values.values())
        if self.outcome is not None:
            reached.add("won")
        reached = {"won" if s == "lost" else s for s in reached}
        return tuple(s for s in SOURCE_STAGES if s in reached)


# ---------------------------------------------------------------- reading TOML


def _table(data: MappingType[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise MappingError(f"{where}{key} must be a table, e.g. [{key}]")
    return value


def _only_keys(table: MappingType[str, Any], allowed: tuple[str, ...], where: str, noun: str = "key") -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        place = "at the top level (outside any [table])" if where == "top level" else f"in [{where}]"
        raise MappingError(f"unknown {noun} {unknown[0]!r} {place}; known {noun}s: {', '.join(allowed)}")


def _text(table: MappingType[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise MappingError(f'[{where}] {key} must be text, e.g. {key} = "..."')
    return value


def _texts(table: MappingType[str, Any], key: str, where: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = table.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f'[{where}] {key} must be a list of text, e.g. {key} = ["a", "b"]')
    return tuple(value)


def _flag(table: MappingType[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise MappingError(f"[{where}] {key} must be true or false")
    return value


def _check_source_name(name: str) -> None:
    if not SOURCE_NAME.fullmatch(name):
        raise MappingError(
            f"the source name {name!r} must be 1-60 lower-case letters, digits, '_', '-' or '.'"
        )
    if name in RESERVED_SOURCES:
        raise MappingError(f"the source name {name!r} belongs to a built-in import; choose another")


def _no_clashes(values: MappingType[str, object], where: str) -> None:
    """File values match ignoring case and surrounding spaces: two keys that then meet must agree."""
    seen: dict[str, str] = {}
    for key, value in values.items():
        folded = key.strip().lower()
        other = seen.setdefault(folded, key)
        if other != key and values[other] != value:
            raise MappingError(
                f"[{where}.values] {other!r} = {values[other]!r} and {key!r} = {value!r}: values match "
                "ignoring case and spaces, so these are the same value mapped two ways"
            )


def _value_map(table: MappingType[str, Any], where: str, allowed: tuple[str, ...]) -> dict[str, str]:
    values = _table(table, "values", f"[{where}] ")
    for key, value in values.items():
        if value not in allowed:
            raise MappingError(f"[{where}.values] {key!r} = {value!r}: must be one of {', '.join(allowed)}")
    _no_clashes(values, where)
    return dict(values)


def _check_timezone(name: str) -> None:
    """A zone name both Python and polars (which converts the times) know."""
    try:
        zoneinfo.ZoneInfo(name)
        pl.Series([None], dtype=pl.Datetime("us")).dt.replace_time_zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, pl.exceptions.PolarsError):
        raise MappingError(
            f"[read] timezone {name!r} is not a time zone name; use an IANA name such as "
            '"Europe/Berlin", "America/New_York" or "UTC"'
        ) from None


def _read_options(data: MappingType[str, Any]) -> ReadOptions:
    table = _table(data, "read", "")
    _only_keys(table, tuple(ReadOptions.__dataclass_fields__), "read")
    defaults = ReadOptions()
    options = ReadOptions(
        delimiter=_text(table, "delimiter", "read", defaults.delimiter),
        null_values=_texts(table, "null_values", "read", defaults.null_values),
        date_formats=_texts(table, "date_formats", "read", defaults.date_formats),
        timezone=_text(table, "timezone", "read", defaults.timezone),
        thousands_separator=_text(table, "thousands_separator", "read", defaults.thousands_separator),
        decimal_separator=_text(table, "decimal_separator", "read", defaults.decimal_separator),
        employee_count_bands=_flag(table, "employee_count_bands", "read"),
    )
    if len(options.delimiter) != 1:
        raise MappingError('[read] delimiter must be one character, e.g. "," or ";"')
    if not options.date_formats:
        raise MappingError('[read] date_formats needs at least one format, e.g. "%Y-%m-%d"')
    if len(options.decimal_separator) != 1:
        raise MappingError('[read] decimal_separator must be one character, e.g. "." or ","')
    if len(options.thousands_separator) > 1:
        raise MappingError('[read] thousands_separator must be one character or "" (none), e.g. "," or "."')
    if options.thousands_separator == options.decimal_separator:
        raise MappingError(
            f"[read] thousands_separator and decimal_separator are both {options.decimal_separator!r}; "
            'they must differ, e.g. "," and "." (12,500.00) or "." and "," (12.500,00)'
        )
    _check_timezone(options.timezone)
    return options


def _columns(data: MappingType[str, Any]) -> dict[str, str]:
    table = _table(data, "columns", "")
    _only_keys(table, tuple(FIELDS), "columns", "field")
    for key in table:
        _text(table, key, "columns")
    if "external_id" not in table:
        raise MappingError("[columns] external_id is required: the column holding each record's id")
    return {key: value.strip() for key, value in table.items()}


def _stage(data: MappingType[str, Any]) -> StageColumn | None:
    if "stage" not in data:
        return None
    table = _table(data, "stage", "")
    _only_keys(table, ("column", "values", "missing_date"), "stage")
    missing = _text(table, "missing_date", "stage", "created")
    if missing not in MISSING_DATE_CHOICES:
        raise MappingError(f"[stage] missing_date must be one of {', '.join(MISSING_DATE_CHOICES)}")
    values = _value_map(table, "stage", STAGE_NAMES)
    if not values:
        raise MappingError("[stage.values] must map the column's values to stages")
    return StageColumn(_text(table, "column", "stage").strip(), values, missing)


def _outcome(data: MappingType[str, Any]) -> OutcomeColumn | None:
    if "outcome" not in data:
        return None
    table = _table(data, "outcome", "")
    _only_keys(table, ("column", "values", "closed_means"), "outcome")
    column = _text(table, "column", "outcome").strip() if "column" in table else None
    closed_means = _text(table, "closed_means", "outcome") if "closed_means" in table else None
    if closed_means is not None and closed_means not in ("won", "lost"):
        raise MappingError("[outcome] closed_means must be won or lost")
    values = _value_map(table, "outcome", OUTCOME_NAMES)
    if column is not None and not values:
        raise MappingError("[outcome.values] must map the column's values to won, lost or open")
    if column is None and closed_means is None:
        raise MappingError("[outcome] needs a column (with values) or closed_means")
    return OutcomeColumn(column, values, closed_means)


def _rating(data: MappingType[str, Any], columns: dict[str, str]) -> RatingColumn | None:
    if "rating" not in data:
        return None
    table = _table(data, "rating", "")
    _only_keys(table, ("column", "values", "rater"), "rating")
    values = _table(table, "values", "[rating] ")
    for key, stars in values.items():
        if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
            raise MappingError(
                f"[rating.values] {key!r} = {stars!r}: must be a whole number of stars, 1 to 5"
            )
    _no_clashes(values, "rating")
    rater = _text(table, "rater", "rating").strip() if "rater" in table else None
    if rater is None and "owner" not in columns:
        raise MappingError(
            "[rating] needs [columns] owner: a rating is the owner's; for an export without owners name "
            f'who rated, e.g. rater = "{IMPORTED_RATER}" (or a Huddle user\'s username or name)'
        )
    return RatingColumn(_text(table, "column", "rating").strip(), dict(values), rater)


def _attributes(data: MappingType[str, Any]) -> dict[str, str]:
    table = _table(data, "attributes", "")
    named: dict[str, str] = {}
    for column, key in table.items():
        if not isinstance(key, str) or not key.strip():
            raise MappingError(f'[attributes] {column!r} must name the attribute, e.g. "job_title"')
        if key.strip().casefold() in FIELD_NAMES:
            raise MappingError(
                f"[attributes] {column!r} = {key!r}: {key.strip()!r} is the name of a lead field; map the "
                f"column in [columns] if it is that field, or give the attribute another name, e.g. "
                f"{_other_name(key.strip())!r}"
            )
        if key.strip() in named:
            raise MappingError(
                f"[attributes] {named[key.strip()]!r} and {column!r} both fill the attribute {key.strip()!r}"
            )
        named[key.strip()] = column
    return {column.strip(): key.strip() for column, key in table.items()}


def _other_name(key: str) -> str:
    """A name for an attribute that takes a lead field's name: "crm_industry" for "industry"."""
    return f"crm_{key.lower()}"


def parse_mapping(text: str) -> Mapping:
    """Read a mapping from TOML text; MappingError names the first thing wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"the mapping is not valid TOML: {error}") from None
    tables = ("source", "read", "columns", "stage", "outcome", "rating", "attributes")
    _only_keys(data, tables, "top level", "table")
    source = _table(data, "source", "")
    _only_keys(source, ("name", "label", "stages", "later_stage_implies_earlier"), "source")
    name = _text(source, "name", "source")
    _check_source_name(name)
    stages = _texts(source, "stages", "source", ())
    unknown = [s for s in stages if s not in SOURCE_STAGES]
    if unknown:
        raise MappingError(f"[source] stages: {unknown[0]!r} is not one of {', '.join(SOURCE_STAGES)}")
    columns = _columns(data)
    return Mapping(
        source_name=name,
        source_label=_text(source, "label", "source", name),
        columns=columns,
        stages=stages,
        later_stage_implies_earlier=_flag(source, "later_stage_implies_earlier", "source"),
        read=_read_options(data),
        stage=_stage(data),
        outcome=_outcome(data),
        rating=_rating(data, columns),
        attributes=_attributes(data),
    )


# ---------------------------------------------------------------- writing TOML (no TOML writer is installed)


def _toml_string(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; TOML also forbids a raw DEL.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_table(name: str, entries: MappingType[str, object]) -> list[str]:
    lines = [f"[{name}]"]
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in entries.items() if v is not None]
    return [*lines, ""]


def mapping_to_toml(mapping: Mapping) -> str:
    """The mapping as TOML text that parse_mapping reads back to an equal Mapping."""
    source: dict[str, object] = {"name": mapping.source_name, "label": mapping.source_label}
    if mapping.stages:
        source["stages"] = list(mapping.stages)
    source["later_stage_implies_earlier"] = mapping.later_stage_implies_earlier
    read = mapping.read
    lines = _toml_table("source", source)
    lines += _toml_table(
        "read",
        {
            "delimiter": read.delimiter,
            "null_values": list(read.null_values),
            "date_formats": list(read.date_formats),
            "timezone": read.timezone,
            "thousands_separator": read.thousands_separator,
            "decimal_separator": read.decimal_separator,
            "employee_count_bands": read.employee_count_bands,
        },
    )
    lines += _toml_table("columns", mapping.columns)
    if mapping.stage is not None:
        lines += _toml_table(
            "stage", {"column": mapping.stage.column, "missing_date": mapping.stage.missing_date}
        )
        lines += _toml_table("stage.values", mapping.stage.values)
    if mapping.outcome is not None:
        outcome = mapping.outcome
        lines += _toml_table("outcome", {"column": outcome.column, "closed_means": outcome.closed_means})
        if outcome.values:
            lines += _toml_table("outcome.values", outcome.values)
    if mapping.rating is not None:
        lines += _toml_table("rating", {"column": mapping.rating.column, "rater": mapping.rating.rater})
        if mapping.rating.values:
            lines += _toml_table("rating.values", mapping.rating.values)
    if mapping.attributes:
        lines += _toml_table("attributes", mapping.attributes)
    return "\n".join(lines)
