"""Rule values typed on the Targeting criteria page read back by the attribute's kind (core.targeting's
parse_value and criteria_from_rows with a catalogue's kinds)."""

from __future__ import annotations

import pytest

from core.criteria import Criteria, Rule
from core.targeting import criteria_from_rows, parse_value

KINDS = {"time_on_website": "number", "job_title": "text", "zip": "text", "page_views": "number"}


@pytest.mark.parametrize(
    ("attribute", "operator", "text", "value"),
    [
        ("time_on_website", "between", "60 - 300", [60, 300]),
        ("time_on_website", "between", "60 and 300", [60, 300]),
        ("time_on_website", "between", " 60, 300 ", [60, 300]),
        ("time_on_website", "between", "60 to 300", [60, 300]),
        ("time_on_website", "between", "300-60", [60, 300]),  # a band is a band: the lower first
        ("time_on_website", "between", "-5 - 2.5", [-5, 2.5]),
        ("time_on_website", "between", "1,200 - 3,000", [1200, 3000]),
        ("time_on_website", "gte", " 90.5 ", 90.5),
        ("time_on_website", "lte", "1,200", 1200),
        ("job_title", "in", "VP, Director,", ["VP", "Director"]),
        ("zip", "eq", " 75001 ", "75001"),  # a text attribute keeps digits as text
        ("page_views", "between", "2 - 5", [2, 5]),
        ("page_views", "in", "1, 2", [1, 2]),
    ],
)
def test_a_typed_value_reads_back_by_its_kind(
    attribute: str, operator: str, text: str, value: object
) -> None:
    assert parse_value(attribute, operator, text, KINDS) == value


def test_without_kinds_the_leads_fields_read_as_before_and_an_attribute_by_its_operator() -> None:
    assert parse_value("page_views", "eq", " 3 ") == 3
    assert parse_value("industry", "eq", " 3 ") == "3"
    assert parse_value("seconds", "gte", "60") == 60
    assert parse_value("seconds", "between", "60 and 300") == [60, 300]
    assert parse_value("job_title", "eq", " VP ") == "VP"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "Time on website holds numbers: 'abc' is not a number"),
        ("60", "is between needs two numbers, as 60 - 300, not '60'"),
        ("60 - 300 - 900", "is between needs two numbers"),
        ("nan - 5", "'nan' is not a number"),
    ],
)
def test_a_band_that_is_not_two_numbers_says_so(text: str, message: str) -> None:
    operator = "gte" if text == "abc" else "between"
    with pytest.raises(ValueError, match=message):
        parse_value("time_on_website", operator, text, KINDS)


def test_rows_become_a_version_typed_by_the_catalogue() -> None:
    rows: list[dict[str, object]] = [
        {"attribute": "time_on_website", "operator": "between", "value": "60 - 300", "points": 40},
        {"attribute": "job_title", "operator": "in", "value": "VP, Director", "points": 20},
    ]
    assert criteria_from_rows(rows, 50, KINDS) == Criteria(
        (Rule("time_on_website", "between", [60, 300], 40), Rule("job_title", "in", ["VP", "Director"], 20)),
        50,
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"attribute": "time_on_website", "operator": "eq", "value": "abc", "points": 5},
            "Rule 1: is compares text; Time on website holds numbers: use is at least, is at most or is between",
        ),
        (
            {"attribute": "job_title", "operator": "gte", "value": "3", "points": 5},
            "Rule 1: is at least compares numbers; Job title holds text: use is, is not or is one of",
        ),
        (
            {"attribute": "time_on_website", "operator": "gte", "value": "soon", "points": 5},
            "Rule 1: Time on website holds numbers: 'soon' is not a number",
        ),
    ],
)
def test_a_row_whose_operator_or_value_does_not_fit_its_kind_is_refused(
    row: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        criteria_from_rows([row], 50, KINDS)
    assert str(refused.value) == message
