"""The catalogue of the attributes Huddle has seen: the lead's own fields and every imported attribute, with
what each holds (numbers or text), how many leads have a value, its distinct values and examples, and
whether rules may use it (an id, an email or free text is listed, never offered, and says why).

An attribute is a number when every non-empty value reads as a number, else text (a column mixing
numbers and text is text). The lead's own fields keep their fixed kinds: the six text fields are text
and the three counts numbers, whatever a data set holds in them, so versions written on them keep working.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import polars as pl

from core.criteria import (
    COUNT_ATTRIBUTES,
    LEAD_FIELDS,
    NUMBER_OPERATORS,
    OPERATORS,
    TEXT_ATTRIBUTES,
    TEXT_OPERATORS,
    Criteria,
    Rule,
    attribute_label,
    is_number,
)
from core.schema import LEADS_SCHEMA

# Fewer leads with a value than this (core.tuning.MIN_COUNT, kept equal by a test; not imported, so
# core.tuning may import this module), or under THIN_SHARE of the leads, is thin evidence.
THIN_COUNT = 30
THIN_SHARE = 0.05
# Text with more distinct values than OWN_VALUES_MIN that are over OWN_VALUE_SHARE of its values gives
# nearly every lead its own value (an id, an email, free text); over MANY_VALUES is too many to make rules
# of even where values repeat.
OWN_VALUES_MIN = 50
OWN_VALUE_SHARE = 0.5
MANY_VALUES = 1000
MAX_EXAMPLES = 20
# An imported attribute whose key is the name of a column Huddle keeps for every lead is read under this
# suffix ("industry (attribute)"), so it never shadows the lead's own field in a frame.
ATTRIBUTE_SUFFIX = " (attribute)"
RESERVED_NAMES = frozenset(
    {
        *LEADS_SCHEMA,
        *LEAD_FIELDS,
        "external_id",
        "attributes",
        "landing_page",
        "score",
        "fired_rules",
        "is_mql",
        "recent",
        "lead_id",
        "stars",
        "calibrated",
        "good",
    }
)
CATALOGUE_SCHEMA: dict[str, pl.DataType] = {
    "name": pl.String(),
    "label": pl.String(),
    "kind": pl.String(),  # "number" or "text"
    "filled": pl.Int64(),
    "fill_rate": pl.Float64(),
    "distinct": pl.Int64(),
    "examples": pl.List(pl.String()),
    "offered": pl.Boolean(),
    "reason": pl.String(),  # why not offered; null when offered
    "thin": pl.Boolean(),
}
Entry = Mapping[str, Any]


# ---------------------------------------------------------------- names


def attribute_column(key: str) -> str:
    """The frame column an imported attribute is read into: its key, or "<key> (attribute)" where the key
    is the name of a column Huddle keeps for every lead."""
    return f"{key}{ATTRIBUTE_SUFFIX}" if key in RESERVED_NAMES else key


def attribute_key(column: str) -> str:
    """The imported attribute's key behind a frame column (attribute_column's inverse)."""
    base = column.removesuffix(ATTRIBUTE_SUFFIX)
    return base if column.endswith(ATTRIBUTE_SUFFIX) and base in RESERVED_NAMES else column


def _renamed_key(name: str) -> str | None:
    """The reserved name an attribute was renamed from ("industry" for "industry (attribute)"), or None."""
    key = attribute_key(name)
    return key if key != name else None


def _label(name: str) -> str:
    renamed = _renamed_key(name)
    return f"{attribute_label(renamed)}{ATTRIBUTE_SUFFIX}" if renamed else attribute_label(name)


# ---------------------------------------------------------------- reading values


def _cleaned(column: pl.Expr) -> pl.Expr:
    """Text with its spaces trimmed; an empty value is a missing one."""
    text = column.cast(pl.String).str.strip_chars()
    return pl.when(text != "").then(text)


def _texts(values: pl.DataFrame) -> pl.DataFrame:
    """Each column as trimmed text, null where missing or empty (a column of numbers as it is)."""
    return values.select(
        pl.col(name) if dtype.is_numeric() else _cleaned(pl.col(name)).alias(name)
        for name, dtype in values.schema.items()
    )


def _numbers(texts: pl.DataFrame) -> pl.DataFrame:
    """Each column of `_texts` as numbers: null where a value is missing or no finite number ("nan" is
    text). All columns in one select, which polars spreads over the cores (a million leads, dozens of
    attributes)."""
    numbers = [pl.col(name).cast(pl.Float64, strict=False) for name in texts.columns]
    return texts.select(pl.when(number.is_finite()).then(number) for number in numbers)


def _kind(name: str, filled: int, parsed: int) -> str:
    if name in COUNT_ATTRIBUTES:
        return "number"
    if name in TEXT_ATTRIBUTES:
        return "text"
    return "number" if filled > 0 and parsed == filled else "text"


def _plain(number: float) -> str:
    """A number as a person types it: 300 for 300.0, 2.5 for 2.5 (no thousands separators)."""
    return str(int(number)) if number.is_integer() else f"{number:.15g}"


def _nearest(ordered: pl.Series, share: float) -> float:
    """The value at `share` of the way through the sorted values: a value of the data, not interpolated
    (halfway between two, the upper)."""
    return float(ordered[int(share * (ordered.len() - 1) + 0.5)])


def _number_facts(numbers: pl.Series) -> tuple[int, bool, list[str]]:
    """Distinct values, whether all are whole, and min, the three quartiles and max as text."""
    ordered = numbers.drop_nulls().sort()
    if ordered.is_empty():
        return 0, False, []
    whole = bool((ordered == ordered.floor()).all())
    marks = [_nearest(ordered, share) for share in (0.0, 0.25, 0.5, 0.75, 1.0)]
    return ordered.n_unique(), whole, [_plain(mark) for mark in marks]


def _text_facts(texts: pl.Series) -> tuple[int, list[str]]:
    """Distinct values and the most frequent ones, most frequent first (ties alphabetical)."""
    counts = texts.drop_nulls().value_counts(name="n")
    top = counts.sort(["n", texts.name], descending=[True, False]).head(MAX_EXAMPLES)
    return counts.height, [str(value) for value in top.get_column(texts.name).to_list()]


def _not_offered(name: str, kind: str, filled: int, distinct: int, whole: bool) -> str | None:
    """Why rules may not use this attribute, or None when they may."""
    renamed = _renamed_key(name)
    if renamed is not None:
        return (
            f"its name is that of a field Huddle keeps for every lead ({attribute_label(renamed)}): "
            "rename it in the import mapping's [attributes] to use it in rules"
        )
    if name in LEAD_FIELDS:
        return None
    if filled == 0:
        return "no lead has a value"
    if kind == "text" and distinct > OWN_VALUES_MIN and distinct > OWN_VALUE_SHARE * filled:
        return (
            "nearly every lead has its own value (an id, an email or free text): "
            f"{distinct:,} distinct of {filled:,}"
        )
    if kind == "text" and distinct > MANY_VALUES:
        return f"too many different values to make rules of: {distinct:,} distinct of {filled:,}"
    if kind == "number" and whole and distinct == filled and filled > OWN_VALUES_MIN:
        return f"looks like an id: each of its {filled:,} values is a different whole number"
    return None


def _entry(texts: pl.Series, numbers: pl.Series, leads: int) -> dict[str, Any]:
    name = texts.name
    filled = texts.len() - texts.null_count()
    kind = _kind(name, filled, numbers.len() - numbers.null_count())
    if kind == "number":
        distinct, whole, examples = _number_facts(numbers)
    else:
        (distinct, examples), whole = _text_facts(texts.cast(pl.String)), False
    fill_rate = filled / leads if leads > 0 else 0.0
    reason = _not_offered(name, kind, filled, distinct, whole)
    return {
        "name": name,
        "label": _label(name),
        "kind": kind,
        "filled": filled,
        "fill_rate": fill_rate,
        "distinct": distinct,
        "examples": examples,
        "offered": reason is None,
        "reason": reason,
        "thin": filled < THIN_COUNT or fill_rate < THIN_SHARE,
    }


def catalogue(values: pl.DataFrame, *, leads: int) -> pl.DataFrame:
    """One row per column of `values` (raw values, as text or numbers; null or empty is missing) in
    column order, of CATALOGUE_SCHEMA. `leads` is how many leads there are: the denominator of
    `fill_rate` (a lead without the attribute may be missing from `values`)."""
    texts = _texts(values)
    numbers = _numbers(texts)
    entries = [_entry(texts.get_column(name), numbers.get_column(name), leads) for name in values.columns]
    return pl.DataFrame(entries, schema=CATALOGUE_SCHEMA)


def kinds(table: pl.DataFrame) -> dict[str, str]:
    """name -> "number" or "text", for every attribute of a catalogue."""
    return dict(zip(table["name"].to_list(), table["kind"].to_list(), strict=True))


def entries(table: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """name -> its catalogue row, for every attribute of a catalogue."""
    return {row["name"]: row for row in table.to_dicts()}


def typed_values(values: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """`values` with each catalogued column typed by its kind: numbers as Float64 (a column already of
    whole numbers keeps its type), text as trimmed String; an empty value is null. Other columns (the
    lead id) as they are."""
    kind_of = kinds(table)
    typed = []
    for name, dtype in values.schema.items():
        kind = kind_of.get(name)
        if kind == "number" and dtype.is_integer():
            continue
        if kind == "number":
            source = pl.col(name) if dtype.is_numeric() else _cleaned(pl.col(name))
            typed.append(source.cast(pl.Float64, strict=False).alias(name))
        elif kind == "text":
            typed.append(_cleaned(pl.col(name)).alias(name))
    return values.with_columns(typed) if typed else values


# ---------------------------------------------------------------- rules against the catalogue


def operator_problem(attribute: str, operator: str, kind: str, label: str | None = None) -> str | None:
    """Why `operator` does not fit an attribute of `kind`, or None. The lead's count fields also take
    "is", "is not" and "is one of" (of whole numbers), as they always did."""
    name = label or _label(attribute)
    if kind == "text" and operator in NUMBER_OPERATORS:
        return f"{OPERATORS[operator]} compares numbers; {name} holds text: use is, is not or is one of"
    if kind == "number" and operator in TEXT_OPERATORS and attribute not in COUNT_ATTRIBUTES:
        return (
            f"{OPERATORS[operator]} compares text; {name} holds numbers: "
            "use is at least, is at most or is between"
        )
    return None


def _values(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [value]


def whole_count(value: object) -> int | None:
    """A count rule's value as a whole number of 0 or more, or None. Digits as text count too: versions
    saved before values were typed hold "is one of" counts as text, and they keep working."""
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() and number >= 0 else None


def _number_problem(rule: Rule, label: str) -> str | None:
    counted = rule.attribute in COUNT_ATTRIBUTES and rule.operator in TEXT_OPERATORS
    for item in _values(rule.value):
        if counted and whole_count(item) is None:
            return f"{label} counts: {item!r} is not a whole number of 0 or more"
        if not counted and not is_number(item):
            return f"{label} holds numbers: {item!r} is not a number"
    return None


def unknown_attribute(name: str) -> str:
    return f"no lead has {_label(name)} (a later import may have dropped it): the rule scores 0"


def rule_problem(rule: Rule, entry: Entry | None) -> str | None:
    """Why `rule` does not fit the attribute it reads (its catalogue row `entry`, None when no lead has
    it), in words fit to show a person; None when it fits."""
    if entry is None:
        return unknown_attribute(rule.attribute)
    label = str(entry.get("label") or _label(rule.attribute))
    if not entry.get("offered", True):
        return f"{label} is not offered for rules: {entry.get('reason')}"
    kind = str(entry.get("kind"))
    mismatch = operator_problem(rule.attribute, rule.operator, kind, label)
    if mismatch is not None:
        return mismatch
    return _number_problem(rule, label) if kind == "number" else None


def check_rules(criteria: Criteria, table: pl.DataFrame) -> list[str]:
    """One message ("Rule 2: ...") for each rule of `criteria` that does not fit the catalogue `table`."""
    found = entries(table)
    problems = []
    for n, rule in enumerate(criteria.rules, start=1):
        problem = rule_problem(rule, found.get(rule.attribute))
        if problem is not None:
            problems.append(f"Rule {n}: {problem}")
    return problems
