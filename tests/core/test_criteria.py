from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.criteria import Criteria, Rule, lead_scores, score_leads

CRITERIA = Criteria(
    rules=(
        Rule("industry", "eq", "Retail", 30, rule_id=11),
        Rule("page_views", "gte", 5, 20, rule_id=12),
        Rule("source", "in", ["events", "referral"], 10, rule_id=13),
        Rule("persona", "ne", "Student", 5, rule_id=14),
        Rule("email_clicks", "lte", 0, -15, rule_id=15),
    ),
    threshold=40,
)
FOUR_LEADS = pl.LazyFrame(
    {
        "industry": ["Retail", None, "Software", "Retail"],
        "page_views": [6, 10, 1, 5],
        "source": ["events", "events", None, "ads"],
        "persona": ["Manager", "Student", None, "Manager"],
        "email_clicks": [3, 0, None, 1],
    }
)


def test_score_is_the_sum_of_the_rules_that_fire() -> None:
    scored = score_leads(FOUR_LEADS, CRITERIA).select("score", "fired_rules", "is_mql").collect()
    expected = pl.DataFrame(
        {
            # 30+20+10+5 = 65; 20+10-15 = 15 (Student: "ne" does not fire; null industry never fires);
            # nothing fires on nulls = 0; 30+20+5 = 55 (exactly at page_views 5).
            "score": [65, 15, 0, 55],
            "fired_rules": [[11, 12, 13, 14], [12, 13, 15], [], [11, 12, 14]],
            "is_mql": [True, False, False, True],
        },
        schema={"score": pl.Int64, "fired_rules": pl.List(pl.Int64), "is_mql": pl.Boolean},
    )
    assert_frame_equal(scored, expected)


def test_lead_scores_gives_the_same_score_and_mql_without_the_fired_rules() -> None:
    scored = lead_scores(FOUR_LEADS, CRITERIA).collect()
    assert "fired_rules" not in scored.columns
    assert scored.select("score", "is_mql").rows() == [(65, True), (15, False), (0, False), (55, True)]
    nothing = lead_scores(FOUR_LEADS, Criteria(rules=(), threshold=0)).collect()
    assert nothing.select("score", "is_mql").unique().rows() == [(0, True)], "no rules, threshold 0: all pass"


def test_threshold_is_inclusive() -> None:
    leads = pl.LazyFrame(
        {
            "industry": ["Retail"],
            "page_views": [0],
            "source": ["ads"],
            "persona": ["Manager"],
            "email_clicks": [1],
        }
    )
    at_threshold = Criteria(rules=CRITERIA.rules, threshold=35)  # 30 + 5
    assert score_leads(leads, at_threshold).collect()["is_mql"].to_list() == [True]


def test_rules_without_ids_report_their_position() -> None:
    criteria = Criteria(rules=(Rule("source", "eq", "ads", 1), Rule("source", "eq", "x", 1)), threshold=1)
    scored = score_leads(pl.LazyFrame({"source": ["ads"]}), criteria).collect()
    assert scored["fired_rules"].to_list() == [[0]]


def test_no_rules_scores_zero() -> None:
    scored = score_leads(pl.LazyFrame({"source": ["ads"]}), Criteria(rules=(), threshold=1)).collect()
    assert scored.select("score", "is_mql").row(0) == (0, False)


def test_rules_read_as_sentences() -> None:
    assert CRITERIA.describe() == [
        "Industry is Retail: +30 points",
        "Page views is at least 5: +20 points",
        "Source is one of events, referral: +10 points",
        "Persona is not Student: +5 points",
        "Email clicks is at most 0: −15 points",
        "A lead with 40 points or more is a marketing qualified lead (MQL).",
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (lambda: Rule(" ", "eq", "blue", 5), "unknown attribute"),
        (lambda: Rule("time_on_site", "between", [300, 60], 5), "the lower first"),
        (lambda: Rule("time_on_site", "gte", "lots", 5), "compares numbers"),
        (lambda: Rule("source", "like", "ads", 5), "unknown operator"),
        (lambda: Rule("industry", "gte", 5, 5), "compares numbers"),
        (lambda: Rule("source", "in", "ads", 5), "needs a list"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(rule: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule()  # type: ignore[operator]


def test_rules_on_imported_attributes_of_either_type() -> None:
    # Attributes arrive from JSON as text even when they hold numbers: the number operators read them as
    # numbers, "is" compares text with text and numbers with numbers.
    leads = pl.LazyFrame(
        {
            "job_title": ["CTO", "Intern", None, "CTO"],
            "time_on_site": ["300", "59", "61.5", "n/a"],
            "visits": [2, 7, None, 3],
        }
    )
    criteria = Criteria(
        rules=(
            Rule("job_title", "eq", "CTO", 10, rule_id=1),
            Rule("time_on_site", "between", [60, 300], 20, rule_id=2),  # both ends inclusive
            Rule("visits", "eq", "3", 5, rule_id=3),
            Rule("visits", "in", [2, 7], 1, rule_id=4),
        ),
        threshold=25,
    )
    scored = score_leads(leads, criteria).select("score", "fired_rules").collect()
    # 10+20+1; 1 (59 is under the band); 20 (61.5 in the band, null title and visits never fire);
    # 10+5 ("n/a" is no number: the band does not fire).
    assert scored["score"].to_list() == [31, 1, 20, 15]
    assert scored["fired_rules"].to_list() == [[1, 2, 4], [4], [2], [1, 3]]


def test_a_rule_on_an_attribute_the_data_lacks_scores_zero_and_is_named() -> None:
    from core.criteria import missing_attributes

    criteria = Criteria(
        rules=(Rule("source", "eq", "ads", 10), Rule("job_title", "eq", "CTO", 50)), threshold=10
    )
    leads = pl.LazyFrame({"source": ["ads", "web"]})
    assert score_leads(leads, criteria).collect()["score"].to_list() == [10, 0]
    assert missing_attributes(criteria, leads.collect_schema().names()) == ["job_title"]


def test_rules_read_in_the_users_words() -> None:
    assert Rule("time_on_site", "between", [60, 300.5], 12).describe() == (
        "Time on site is between 60 and 300.5: +12 points"
    )
    assert (
        Rule("annual_revenue", "gte", 1200000.0, -5).describe()
        == "Annual revenue is at least 1,200,000: −5 points"
    )
