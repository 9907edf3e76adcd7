from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.criteria import Criteria, Rule, score_leads

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


def test_score_is_the_sum_of_the_rules_that_fire() -> None:
    leads = pl.LazyFrame(
        {
            "industry": ["Retail", None, "Software", "Retail"],
            "page_views": [6, 10, 1, 5],
            "source": ["events", "events", None, "ads"],
            "persona": ["Manager", "Student", None, "Manager"],
            "email_clicks": [3, 0, None, 1],
        }
    )
    scored = score_leads(leads, CRITERIA).select("score", "fired_rules", "is_mql").collect()
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
        (lambda: Rule("favourite_colour", "eq", "blue", 5), "unknown attribute"),
        (lambda: Rule("source", "like", "ads", 5), "unknown operator"),
        (lambda: Rule("industry", "gte", 5, 5), "compares numbers"),
        (lambda: Rule("source", "in", "ads", 5), "needs a list"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(rule: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule()  # type: ignore[operator]
