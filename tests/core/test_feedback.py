"""The rating queue and the coverage, calibration and reasons views, on five leads worked out by hand."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from core.feedback import (
    RATINGS_SCHEMA,
    can_still_change,
    rater_calibration,
    rating_coverage,
    rating_queue,
    top_reasons,
)
from core.periods import Period
from core.stats import rate

REP, OTHER_REP, MANAGER = 7, 8, 9
NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1), "November 2026")
LEADS = pl.DataFrame(
    {
        "id": [1, 2, 3, 4, 5],
        "mql_at": [datetime(2026, 11, 1, 9), datetime(2026, 11, 2, 9), datetime(2026, 11, 3, 9), None,
                   datetime(2026, 10, 20, 9)],
        "owner_id": [REP, REP, OTHER_REP, REP, REP],
        "team_id": [10, 10, 10, 10, 10],
    }
)  # fmt: skip


def _ratings(*rows: tuple[int, int, int, list[str], datetime]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=RATINGS_SCHEMA, orient="row")


RATINGS = _ratings(
    (5, REP, 4, ["good_fit"], datetime(2026, 10, 21)),
    (2, MANAGER, 2, ["too_small", "no_budget"], datetime(2026, 11, 10)),
    (1, REP, 5, ["good_fit"], datetime(2026, 11, 2)),
)


def test_the_queue_holds_my_unrated_mqls_longest_waiting_first() -> None:
    queue = rating_queue(LEADS, RATINGS.filter(pl.col("lead_id") != 1), rater_id=REP, owner_ids=[REP],
                         now=datetime(2026, 11, 3, 9), follow_up_hours=24)  # fmt: skip
    # Lead 4 is no MQL and lead 5 is rated; lead 2 was rated by the manager, not by the rep.
    assert queue.select("id", "hours_waiting", "overdue").rows() == [(1, 48.0, True), (2, 24.0, False)]


def test_a_manager_queue_spans_the_team() -> None:
    queue = rating_queue(LEADS, RATINGS, rater_id=MANAGER, owner_ids=[REP, OTHER_REP], now=datetime(2026, 11, 3, 9),
                         follow_up_hours=24)  # fmt: skip
    assert queue["id"].to_list() == [5, 1, 3]


def test_coverage_counts_ratings_within_the_agreed_days() -> None:
    coverage = rating_coverage(LEADS, RATINGS, NOVEMBER, rating_days=7, by="owner_id")
    # November MQLs: rep's 1 (rated the next day) and 2 (rated on day 8: late); the other rep's 3 (never).
    assert coverage.select("key", "mqls", "rated", "share").rows() == [
        (REP, 2, 1, 0.5),
        (OTHER_REP, 1, 0, 0.0),
    ]
    assert coverage["ci_low"][0] == rate(1, 2).ci_low


def test_calibration_per_rater() -> None:
    people = pl.DataFrame({"user_id": [REP, MANAGER], "team_id": [10, 10]})
    table = rater_calibration(RATINGS, people)
    rep = table.filter(pl.col("rater_id") == REP).row(0, named=True)
    assert (rep["ratings"], rep["stars_4"], rep["stars_5"], rep["mean"]) == (2, 1, 1, 4.5)
    # Team mean (4 + 2 + 5) / 3 = 11/3; the rep's offset (4.5 - 11/3) * 2 / 22.
    assert rep["offset"] == pytest.approx((4.5 - 11 / 3) * 2 / 22)


def test_the_reasons_given_most_this_month() -> None:
    reasons = top_reasons(RATINGS, NOVEMBER)
    assert reasons.rows() == [
        ("good_fit", "Good fit", 1, 0.5),
        ("no_budget", "No budget", 1, 0.5),
        ("too_small", "Too small", 1, 0.5),
    ]
    assert top_reasons(RATINGS, Period(date(2026, 1, 1), date(2026, 2, 1))).is_empty()


def test_a_rating_can_be_changed_for_fourteen_days() -> None:
    first = datetime(2026, 11, 1, 12)
    assert can_still_change(first, datetime(2026, 11, 15, 12))
    assert not can_still_change(first, datetime(2026, 11, 15, 12, 1))
