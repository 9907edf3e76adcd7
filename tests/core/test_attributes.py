"""The attribute catalogue on tiny frames whose answers are worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.attributes import (
    THIN_COUNT,
    attribute_column,
    attribute_key,
    catalogue,
    check_rules,
    rule_problem,
    typed_values,
)
from core.criteria import Criteria, Rule
from core.tuning import MIN_COUNT


def _rows(values: pl.DataFrame, leads: int) -> dict[str, dict[str, object]]:
    return {row["name"]: row for row in catalogue(values, leads=leads).to_dicts()}


def test_numbers_text_and_a_mix_of_both() -> None:
    values = pl.DataFrame(
        {
            "time_on_website": ["60", " 300 ", "12.5", "", "0", "5"],  # five numbers, one empty
            "job_title": ["VP", "Director", "VP", None, "Intern", "VP"],
            "mixed": ["12", "abc", "40", None, None, None],  # a number and a word: text
        }
    )
    rows = _rows(values, leads=6)
    time = rows["time_on_website"]
    # Sorted 0, 5, 12.5, 60, 300: min 0, quartiles at positions 1, 2, 3 (5, 12.5, 60), max 300.
    assert (time["kind"], time["filled"], time["distinct"], time["examples"]) == (
        "number",
        5,
        5,
        ["0", "5", "12.5", "60", "300"],
    )
    assert time["fill_rate"] == pytest.approx(5 / 6)
    assert (time["label"], time["offered"], time["reason"]) == ("Time on website", True, None)
    # VP three times, then Director and Intern once each (alphabetical).
    assert rows["job_title"]["examples"] == ["VP", "Director", "Intern"]
    assert (rows["job_title"]["kind"], rows["job_title"]["distinct"]) == ("text", 3)
    assert (rows["mixed"]["kind"], rows["mixed"]["examples"]) == ("text", ["12", "40", "abc"])


def test_an_attribute_on_two_percent_of_leads_is_listed_and_thin() -> None:
    # 200 of 10,000 leads have a value: 2%, under the 5% that is enough (though 200 > 30 leads).
    values = pl.DataFrame({"region": ["North", "South"] * 100})
    row = _rows(values, leads=10_000)["region"]
    assert (row["filled"], row["fill_rate"], row["offered"], row["thin"]) == (200, 0.02, True, True)
    # 29 leads of 29 is all of them, but under 30 leads: thin too; 30 is not.
    assert _rows(pl.DataFrame({"region": ["North"] * 29}), leads=29)["region"]["thin"] is True
    assert _rows(pl.DataFrame({"region": ["North"] * 30}), leads=30)["region"]["thin"] is False
    assert THIN_COUNT == MIN_COUNT


def test_an_id_and_an_email_are_listed_but_not_offered() -> None:
    # 60 leads, each its own record id (1001..1060) and email: 60 distinct of 60.
    values = pl.DataFrame(
        {
            "record_id": [str(1001 + i) for i in range(60)],
            "email": [f"person{i}@example.com" for i in range(60)],
            "plan": ["free", "pro", "team"] * 20,
        }
    )
    rows = _rows(values, leads=60)
    assert (rows["record_id"]["kind"], rows["record_id"]["offered"]) == ("number", False)
    assert (
        rows["record_id"]["reason"] == "looks like an id: each of its 60 values is a different whole number"
    )
    assert rows["email"]["offered"] is False
    assert rows["email"]["reason"] == (
        "nearly every lead has its own value (an id, an email or free text): 60 distinct of 60"
    )
    assert rows["plan"]["offered"] is True
    # 50 different values are still few enough to make rules of.
    few = _rows(pl.DataFrame({"city": [f"c{i}" for i in range(50)]}), leads=50)
    assert few["city"]["offered"] is True


def test_the_leads_own_fields_keep_their_kinds_and_are_always_offered() -> None:
    values = pl.DataFrame({"company_size": ["50", "200"], "page_views": [0, 3], "persona": [None, None]})
    rows = _rows(values, leads=2)
    assert [rows[n]["kind"] for n in ("company_size", "page_views", "persona")] == ["text", "number", "text"]
    assert all(rows[n]["offered"] for n in rows)


def test_an_attribute_named_like_a_field_is_listed_beside_it_never_offered() -> None:
    assert attribute_column("industry") == "industry (attribute)"
    assert attribute_column("job_title") == "job_title"
    assert attribute_key("industry (attribute)") == "industry"
    assert attribute_key("job_title (attribute)") == "job_title (attribute)"  # not a field's name
    row = _rows(pl.DataFrame({"industry (attribute)": ["Shops"]}), leads=1)["industry (attribute)"]
    assert (row["label"], row["offered"]) == ("Industry (attribute)", False)
    assert "rename it in the import mapping" in str(row["reason"])


def test_values_are_typed_by_the_catalogue() -> None:
    values = pl.DataFrame(
        {"id": [1, 2, 3], "seconds": ["60", "", " 7.5"], "title": [" VP", "", None], "page_views": [1, 0, 2]}
    )
    typed = typed_values(values, catalogue(values.drop("id"), leads=3))
    expected = pl.DataFrame(
        {"id": [1, 2, 3], "seconds": [60.0, None, 7.5], "title": ["VP", None, None], "page_views": [1, 0, 2]}
    )
    assert_frame_equal(typed, expected)


# 61 leads: one with an industry, a time on website and a job title; each with its own email (61
# distinct of 61: not offered).
CATALOGUE = catalogue(
    pl.DataFrame(
        {
            "industry": ["Retail", *[None] * 60],
            "page_views": [3, *[0] * 60],
            "time_on_website": ["60", *[None] * 60],
            "job_title": ["VP", *[None] * 60],
            "email": [f"p{i}@example.com" for i in range(61)],
        }
    ),
    leads=61,
)
ENTRIES = {row["name"]: row for row in CATALOGUE.to_dicts()}


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (Rule("time_on_website", "gte", 60, 10), None),
        (Rule("time_on_website", "between", [60, 300], 10), None),
        (Rule("time_on_website", "eq", "abc", 10), "is compares text; Time on website holds numbers"),
        (Rule("time_on_website", "in", ["a"], 10), "use is at least, is at most or is between"),
        (Rule("job_title", "in", ["VP", "CEO"], 10), None),
        (Rule("job_title", "eq", 5, 10), None),  # compared as the text "5"
        (Rule("job_title", "gte", 5, 10), "is at least compares numbers; Job title holds text"),
        (Rule("page_views", "eq", 2, 10), None),  # the lead's counts keep "is", as they always did
        (Rule("page_views", "in", [1, 2.5], 10), "Page views counts: 2.5 is not a whole number"),
        (Rule("email", "eq", "a@x.com", 10), "Email is not offered for rules: nearly every lead"),
        (Rule("job_level", "eq", "senior", 10), "no lead has Job level (a later import may have dropped it)"),
    ],
)
def test_a_rule_must_fit_the_attribute_it_reads(rule: Rule, problem: str | None) -> None:
    found = rule_problem(rule, ENTRIES.get(rule.attribute))
    assert found == problem if problem is None else problem in str(found)


def test_a_number_rule_with_a_word_says_so() -> None:
    # A rule made past core.criteria's own check (as stored JSON could be), read against the catalogue.
    rule = Rule("time_on_website", "gte", 60, 10)
    object.__setattr__(rule, "value", "abc")
    assert (
        rule_problem(rule, ENTRIES["time_on_website"])
        == "Time on website holds numbers: 'abc' is not a number"
    )


def test_every_rule_that_does_not_fit_is_named() -> None:
    criteria = Criteria(
        rules=(
            Rule("industry", "eq", "Retail", 10),
            Rule("gone", "eq", "x", 5),
            Rule("job_title", "lte", 1, 5),
        ),
        threshold=10,
    )
    assert check_rules(criteria, CATALOGUE) == [
        "Rule 2: no lead has Gone (a later import may have dropped it): the rule scores 0",
        "Rule 3: is at most compares numbers; Job title holds text: use is, is not or is one of",
    ]


def test_a_count_rule_saved_with_its_numbers_as_text_still_fits() -> None:
    # Versions saved before values were typed hold "is one of" counts as text: they keep working.
    assert rule_problem(Rule("page_views", "in", ["1", "2"], 5), ENTRIES["page_views"]) is None
    assert "is not a whole number" in str(
        rule_problem(Rule("page_views", "in", ["1", "x"], 5), ENTRIES["page_views"])
    )
