"""A wrong mapping file is refused before any CSV is read, with a message that says what and where;
a mapping written back to TOML reads back equal."""

from __future__ import annotations

import re
from collections.abc import Mapping as Pairs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.importing.mapping import (
    FIELDS,
    Mapping,
    MappingError,
    OutcomeColumn,
    RatingColumn,
    ReadOptions,
    StageColumn,
    mapping_to_toml,
    parse_mapping,
)
from tests.conftest import PROJECT_ROOT

GOOD = """
[source]
name = "crm"

[columns]
external_id = "Id"
owner = "Owner"
"""


def _with(extra: str, base: str = GOOD) -> str:
    return base + "\n" + extra


BAD_MAPPINGS = [
    ("not-toml", "[source\nname = 'x'", "the mapping is not valid TOML"),
    ("unknown-table", _with('[sorce]\nname = "x"'), "unknown table 'sorce' at the top level"),
    ("unknown-key-at-top", 'name = "crm"\n' + GOOD, "unknown table 'name' at the top level (outside any [table])"),
    ("unknown-key-in-read", _with('[read]\ndelimeter = ";"'), "unknown key 'delimeter' in [read]; known keys: delimiter"),
    ("unknown-key-in-source", GOOD.replace('name = "crm"', 'name = "crm"\nstage = "x"'), "unknown key 'stage' in [source]"),
    ("unknown-field", GOOD.replace('owner = "Owner"', 'revenue = "Amount"'), "unknown field 'revenue' in [columns]; known fields: external_id, created_date"),
    ("missing-external-id", '[source]\nname = "crm"\n[columns]\nowner = "Owner"', "[columns] external_id is required"),
    ("blank-external-id", GOOD.replace('"Id"', '"  "'), '[columns] external_id must be text, e.g. external_id = "..."'),
    ("column-not-text", GOOD.replace('"Owner"', "5"), "[columns] owner must be text"),
    ("no-source-name", GOOD.replace('name = "crm"', ""), "[source] name must be text"),
    ("bad-source-name", GOOD.replace('"crm"', '"My CRM"'), "the source name 'My CRM' must be 1-60 lower-case letters"),
    ("reserved-source-name", GOOD.replace('"crm"', '"olist"'), "the source name 'olist' belongs to a built-in import"),
    ("unknown-source-stage", GOOD.replace('name = "crm"', 'name = "crm"\nstages = ["created", "closed"]'), "[source] stages: 'closed' is not one of created, mql, sql, opportunity, won"),
    ("bad-timezone", _with('[read]\ntimezone = "Europe/Atlantis"'), "[read] timezone 'Europe/Atlantis' is not a time zone name"),
    ("timezone-polars-does-not-know", _with('[read]\ntimezone = "localtime"'), "[read] timezone 'localtime' is not a time zone name"),
    ("timezone-offset", _with('[read]\ntimezone = "+02:00"'), "is not a time zone name"),
    ("two-character-delimiter", _with('[read]\ndelimiter = ";;"'), "[read] delimiter must be one character"),
    ("no-date-formats", _with("[read]\ndate_formats = []"), "[read] date_formats needs at least one format"),
    ("date-formats-not-a-list", _with('[read]\ndate_formats = "%Y-%m-%d"'), "[read] date_formats must be a list of text"),
    ("same-separators", _with('[read]\ndecimal_separator = ","'), "thousands_separator and decimal_separator are both ','"),
    ("no-decimal-separator", _with('[read]\ndecimal_separator = ""'), "[read] decimal_separator must be one character"),
    ("long-thousands-separator", _with('[read]\nthousands_separator = ", "'), "[read] thousands_separator must be one character"),
    ("bands-not-boolean", _with('[read]\nemployee_count_bands = "yes"'), "[read] employee_count_bands must be true or false"),
    ("stage-to-a-non-stage", _with('[stage]\ncolumn = "Status"\n[stage.values]\nNew = "created"\nWon = "closed"'), "[stage.values] 'Won' = 'closed': must be one of created, mql, sql, opportunity, won, lost"),
    ("stage-to-a-number", _with('[stage]\ncolumn = "Status"\n[stage.values]\nNew = 1'), "[stage.values] 'New' = 1: must be one of"),
    ("stage-without-values", _with('[stage]\ncolumn = "Status"'), "[stage.values] must map the column's values to stages"),
    ("stage-without-column", _with('[stage.values]\nNew = "created"'), "[stage] column must be text"),
    ("stage-bad-missing-date", _with('[stage]\ncolumn = "S"\nmissing_date = "skip"\n[stage.values]\nNew = "created"'), "[stage] missing_date must be one of created, error"),
    ("stage-values-clash-ignoring-case", _with('[stage]\ncolumn = "S"\n[stage.values]\nLead = "created"\n" lead" = "mql"'), "[stage.values] 'Lead' = 'created' and ' lead' = 'mql': values match ignoring case and spaces"),
    ("outcome-to-a-non-outcome", _with('[outcome]\ncolumn = "Status"\n[outcome.values]\nDone = "closed"'), "[outcome.values] 'Done' = 'closed': must be one of won, lost, open"),
    ("outcome-without-anything", _with("[outcome]"), "[outcome] needs a column (with values) or closed_means"),
    ("outcome-bad-closed-means", _with('[outcome]\nclosed_means = "open"'), "[outcome] closed_means must be won or lost"),
    ("rating-above-5", _with('[rating]\ncolumn = "Rating"\n[rating.values]\nHot = 6'), "[rating.values] 'Hot' = 6: must be a whole number of stars, 1 to 5"),
    ("rating-0", _with('[rating]\ncolumn = "Rating"\n[rating.values]\nCold = 0'), "[rating.values] 'Cold' = 0: must be a whole number of stars, 1 to 5"),
    ("rating-fraction", _with('[rating]\ncolumn = "Rating"\n[rating.values]\nWarm = 2.5'), "[rating.values] 'Warm' = 2.5: must be a whole number"),
    ("rating-text", _with('[rating]\ncolumn = "Rating"\n[rating.values]\nWarm = "3"'), "[rating.values] 'Warm' = '3': must be a whole number"),
    ("rating-boolean", _with('[rating]\ncolumn = "Rating"\n[rating.values]\nWarm = true'), "[rating.values] 'Warm' = True: must be a whole number"),
    ("rating-values-clash", _with('[rating]\ncolumn = "Rating"\n[rating.values]\nHot = 5\nHOT = 4'), "'Hot' = 5 and 'HOT' = 4: values match ignoring case"),
    ("rating-without-owner", GOOD.replace('owner = "Owner"', "") + '[rating]\ncolumn = "Rating"', "[rating] needs [columns] owner"),
    ("rating-rater-blank", _with('[rating]\ncolumn = "Rating"\nrater = " "'), '[rating] rater must be text, e.g. rater = "..."'),
    ("rating-rater-not-text", _with('[rating]\ncolumn = "Rating"\nrater = 5'), "[rating] rater must be text"),
    ("rating-without-owner-or-rater", GOOD.replace('owner = "Owner"', "") + '[rating]\ncolumn = "Rating"', 'name who rated, e.g. rater = "Imported rating"'),
    ("attribute-is-a-field", _with('[attributes]\n"Sector" = "industry"'), "[attributes] 'Sector' = 'industry': 'industry' is the name of a lead field; map the column in [columns] if it is that field, or give the attribute another name, e.g. 'crm_industry'"),
    ("attribute-is-a-mapping-field", _with('[attributes]\n"Deal owner" = "owner"'), "'owner' is the name of a lead field"),
    ("attribute-is-a-count-field", _with('[attributes]\n"Views" = "page_views"'), "'page_views' is the name of a lead field"),
    ("attribute-is-a-field-in-capitals", _with('[attributes]\n"Land" = " Country "'), "'Country' is the name of a lead field"),
    ("attribute-without-name", _with('[attributes]\n"Company" = " "'), "[attributes] 'Company' must name the attribute"),
    ("attribute-twice", _with('[attributes]\n"Company" = "company"\n"Account" = "company"'), "[attributes] 'Company' and 'Account' both fill the attribute 'company'"),
    ("table-not-a-table", 'read = "fast"\n' + GOOD, "read must be a table, e.g. [read]"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD_MAPPINGS], ids=[c[0] for c in BAD_MAPPINGS])
def test_a_bad_mapping_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MappingError) as raised:
        parse_mapping(text)
    assert message in str(raised.value)
    assert "Traceback" not in str(raised.value)


def test_the_good_base_parses() -> None:
    mapping = parse_mapping(GOOD)
    assert mapping == Mapping(
        source_name="crm", source_label="crm", columns={"external_id": "Id", "owner": "Owner"}
    )


def test_a_rating_may_name_its_rater_instead_of_the_owner() -> None:
    text = GOOD.replace('owner = "Owner"', "") + '[rating]\ncolumn = "Quality"\nrater = " Imported rating "'
    mapping = parse_mapping(text)
    assert mapping.rating == RatingColumn("Quality", {}, "Imported rating")
    assert mapping.rating.by_imported_rater()
    assert parse_mapping(mapping_to_toml(mapping)) == mapping
    named = parse_mapping(_with('[rating]\ncolumn = "Quality"\nrater = "dana"'))
    assert named.rating == RatingColumn("Quality", {}, "dana")
    assert not named.rating.by_imported_rater()


def test_attributes_may_hold_names_close_to_a_field() -> None:
    mapping = parse_mapping(_with('[attributes]\n"Sector" = "industry_detail"\n"Job" = "job_title"'))
    assert mapping.attributes == {"Sector": "industry_detail", "Job": "job_title"}


def test_no_built_in_import_keeps_an_attribute_named_as_a_field() -> None:
    from db.importing import maven, olist
    from db.importing.mapping import FIELD_NAMES

    kept = (*olist.TEXT_ATTRIBUTES, *olist.BOOLEAN_COLUMNS, *olist.NUMBER_COLUMNS, *maven.ATTRIBUTES)
    assert not FIELD_NAMES & {name.casefold() for name in kept}


EXAMPLES = sorted((PROJECT_ROOT / "mappings").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_mapping_survives_toml(path: Path) -> None:
    mapping = parse_mapping(path.read_text(encoding="utf-8"))
    assert parse_mapping(mapping_to_toml(mapping)) == mapping
    assert mapping_to_toml(parse_mapping(mapping_to_toml(mapping))) == mapping_to_toml(mapping)
    assert mapping.with_source("crm-2") == parse_mapping(mapping_to_toml(mapping.with_source("crm-2")))


def test_with_source_checks_the_name() -> None:
    mapping = parse_mapping(GOOD)
    with pytest.raises(MappingError, match="belongs to a built-in import"):
        mapping.with_source("demo")


# ---------------------------------------------------------------- any mapping survives TOML

# Column headers as CRMs write them, and worse: quotes, backslashes, dots, brackets, '=', '#', control
# characters, DEL, non-ASCII. Surrounding spaces are stripped on reading, so none are generated.
HEADER_CHARACTERS = st.sampled_from(list("aZ09 _-.\"'\\[]=#,;/\t\x01\x7fé€日\u2028"))
headers = st.text(HEADER_CHARACTERS, min_size=1, max_size=12).filter(lambda t: t == t.strip() and t != "")
texts = st.text(HEADER_CHARACTERS, max_size=8)
source_names = st.from_regex(re.compile(r"[a-z0-9][a-z0-9_.-]{0,10}"), fullmatch=True).filter(
    lambda n: n not in {"demo", "olist", "maven"}
)


def _distinct_ignoring_case(values: Pairs[str, object]) -> bool:
    return len({k.strip().lower() for k in values}) == len(values)


@st.composite
def mappings(draw: st.DrawFn) -> Mapping:
    fields = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=6))
    columns = {field: draw(headers) for field in ["external_id", *[f for f in fields if f != "external_id"]]}
    thousands, decimal = draw(st.sampled_from([(",", "."), (".", ","), ("", "."), (" ", ","), ("'", ".")]))
    read = ReadOptions(
        delimiter=draw(st.sampled_from([",", ";", "\t", "|"])),
        null_values=tuple(draw(st.lists(texts, max_size=3))),
        date_formats=tuple(
            draw(
                st.lists(st.sampled_from(["%Y-%m-%d", "%d/%m/%Y %H:%M", "%m/%d/%Y"]), min_size=1, max_size=3)
            )
        ),
        timezone=draw(st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"])),
        thousands_separator=thousands,
        decimal_separator=decimal,
        employee_count_bands=draw(st.booleans()),
    )
    stage_values = draw(
        st.dictionaries(
            texts,
            st.sampled_from(["created", "mql", "sql", "opportunity", "won", "lost"]),
            min_size=1,
            max_size=4,
        ).filter(_distinct_ignoring_case)
    )
    stage = draw(
        st.none()
        | st.builds(StageColumn, headers, st.just(stage_values), st.sampled_from(["created", "error"]))
    )
    outcome_values = draw(
        st.dictionaries(texts, st.sampled_from(["won", "lost", "open"]), max_size=3).filter(
            _distinct_ignoring_case
        )
    )
    closed_means = draw(st.none() | st.sampled_from(["won", "lost"]))
    outcome = draw(
        st.none()
        | st.just(OutcomeColumn(draw(headers), outcome_values or {"x": "won"}, closed_means))
        | st.just(OutcomeColumn(None, {}, closed_means or "won"))
    )
    rating = None
    rater = draw(st.none() | headers | st.just("Imported rating"))
    if "owner" in columns or rater is not None:
        rating_values = draw(
            st.dictionaries(texts, st.integers(1, 5), max_size=3).filter(_distinct_ignoring_case)
        )
        rating = draw(st.none() | st.just(RatingColumn(draw(headers), rating_values, rater)))
    attribute_names = draw(st.lists(headers, unique=True, max_size=3))
    attributes = {draw(headers): name for name in attribute_names}
    name = draw(source_names)
    return Mapping(
        source_name=name,
        source_label=draw(texts),
        columns=columns,
        stages=tuple(draw(st.lists(st.sampled_from(["created", "mql", "sql", "opportunity", "won"]), unique=True, max_size=3))),
        later_stage_implies_earlier=draw(st.booleans()),
        read=read,
        stage=stage,
        outcome=outcome,
        rating=rating,
        attributes=attributes,
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(mapping=mappings())
def test_any_mapping_survives_toml(mapping: Mapping) -> None:
    assert parse_mapping(mapping_to_toml(mapping)) == mapping
