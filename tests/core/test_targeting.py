"""The Targeting criteria page's pure helpers, on hand-made versions and backtests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import polars as pl
import pytest

from core.criteria import Criteria, Rule
from core.stats import Auc, rate
from core.targeting import (
    backtest_rows,
    criteria_from_rows,
    evidence_rows,
    rule_changes,
    rules_frame,
    suggestion_reasons,
)
from core.tuning import EVIDENCE_SCHEMA, Backtest, Tuning

CURRENT = Criteria(
    rules=(
        Rule("industry", "in", ["Retail", "Software"], 25),
        Rule("page_views", "gte", 5, 15),
        Rule("persona", "eq", "Student", -40),
    ),
    threshold=50,
)


def test_rules_survive_a_round_trip_through_editable_rows() -> None:
    rows = rules_frame(CURRENT)
    assert rows.to_dicts()[0] == {
        "attribute": "industry",
        "operator": "in",
        "value": "Retail, Software",
        "points": 25,
    }
    assert criteria_from_rows(rows.to_dicts(), 50) == CURRENT


def test_an_edited_row_is_read_back_and_an_empty_row_dropped() -> None:
    rows: list[dict[str, object]] = [
        {"attribute": "email_clicks", "operator": "gte", "value": " 2 ", "points": 10.0},
        {"attribute": None, "operator": None, "value": None, "points": None},  # a row added, left empty
        {"attribute": "country", "operator": "in", "value": "France,  Spain,", "points": 5},
    ]
    assert criteria_from_rows(rows, 30) == Criteria(
        (Rule("email_clicks", "gte", 2, 10), Rule("country", "in", ["France", "Spain"], 5)), 30
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"attribute": "page_views", "operator": "gte", "value": "five", "points": 5}, "whole number"),
        ({"attribute": "industry", "operator": "gte", "value": "3", "points": 5}, "compares numbers"),
        ({"attribute": "industry", "operator": "eq", "value": "Retail", "points": None}, "whole points"),
    ],
)
def test_a_row_that_is_not_a_rule_says_which_and_why(row: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=f"Rule 1.*{message}"):
        criteria_from_rows([row], 50)


def test_the_changes_between_two_versions_read_as_sentences() -> None:
    proposed = Criteria(
        rules=(
            Rule("industry", "in", ["Retail", "Software"], 25),  # the same
            Rule("page_views", "gte", 5, 22),  # moved
            Rule("company_size", "eq", "1-10", -13),  # new
        ),
        threshold=48,
    )  # persona is Student: removed
    assert rule_changes(CURRENT, proposed) == [
        "Changed: Page views is at least 5: +15 → +22 points",
        "New: Company size is 1-10: −13 points",
        "Removed: Persona is Student (−40 points)",
        "Threshold: 50 → 48 points",
    ]
    assert rule_changes(CURRENT, CURRENT) == []


def _evidence(rows: list[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=EVIDENCE_SCHEMA, orient="row")


def _backtest(mqls: int, accepted: int, rated: int) -> Backtest:
    return Backtest(mqls, rate(accepted, rated), rate(0, 0), rate(3, 4), 0.9)


def test_the_reasons_name_the_evidence_behind_each_added_or_moved_rule() -> None:
    evidence = _evidence(
        [
            ("company_size", "1-10", 200, 30, 0.15, 0.107, 0.206, 0.18, 0.6, -13, True),
            ("page_views", "≥ 5", 150, 60, 0.4, 0.325, 0.48, 0.39, 1.3, 7, True),
            ("country", "Spain", 10, 5, 0.5, 0.237, 0.763, 0.33, 1.1, 3, False),  # thin: no rule
        ]
    )
    proposed = Criteria(
        (
            *CURRENT.rules[:1],
            Rule("page_views", "gte", 5, 22),
            CURRENT.rules[2],
            Rule("company_size", "eq", "1-10", -13),
        ),
        48,
    )
    start, end = datetime(2026, 1, 1), datetime(2026, 4, 1)
    tuning = Tuning(evidence, CURRENT, proposed, start, end, _backtest(10, 3, 8), _backtest(9, 5, 8))
    assert suggestion_reasons(tuning) == [
        "Page views ≥ 5: 60 of 150 leads good (40%, 95% CI 32%–48%), 1.30× the average lead → +22 points",
        "Company size is 1-10: 30 of 200 leads good (15%, 95% CI 11%–21%), 0.60× the average lead → −13 points",
    ]
    shown = evidence_rows(evidence)
    assert shown.row(2) == ("Country is Spain", 10, 5, 50, "24–76", 1.1, 3, "thin: under 30 leads")


def test_the_backtest_table_puts_both_versions_side_by_side_with_counts_and_intervals() -> None:
    table = backtest_rows(_backtest(10, 3, 8), _backtest(9, 0, 0))
    assert table.to_dicts() == [
        {"Measure": "MQL volume", "Current": "10", "Proposed": "9"},
        {
            "Measure": "Share rated 4-5",
            "Current": "38% (3 of 8; 95% CI 14%–69%)",
            "Proposed": "— (none in the window)",
        },
        {"Measure": "MQL → SQL", "Current": "— (none in the window)", "Proposed": "— (none in the window)"},
        {
            "Measure": "Won deals kept",
            "Current": "75% (3 of 4; 95% CI 30%–95%)",
            "Proposed": "75% (3 of 4; 95% CI 30%–95%)",
        },
        {"Measure": "Won revenue kept", "Current": "90%", "Proposed": "90%"},
        {
            "Measure": "Ranks won above lost (AUC)",
            "Current": "— (needs both kinds of lead in the window)",
            "Proposed": "— (needs both kinds of lead in the window)",
        },
        {
            "Measure": "Ranks rated 4-5 above the rest (AUC)",
            "Current": "— (needs both kinds of lead in the window)",
            "Proposed": "— (needs both kinds of lead in the window)",
        },
    ]
    with_ranking = replace(_backtest(10, 3, 8), ranking_auc=Auc(0.7125, 40, 4))
    assert backtest_rows(with_ranking, with_ranking)["Current"][5] == "0.71 (44 leads)"
