"""The rating queue and the coverage, calibration and reasons views, on five leads worked out by hand."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from core.feedback import (
    RATINGS_SCHEMA,
    can_still_change,
    left_the_queue,
    queue_cutoff,
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


WINDOW = 17  # the defaults: 3 rating days plus 14 days' grace


def test_the_queue_holds_my_unrated_mqls_longest_waiting_first() -> None:
    queue = rating_queue(LEADS, RATINGS.filter(pl.col("lead_id") != 1), rater_id=REP, owner_ids=[REP],
                         now=datetime(2026, 11, 3, 9), follow_up_hours=24, window_days=WINDOW)  # fmt: skip
    # Lead 4 is no MQL and lead 5 is rated; lead 2 was rated by the manager, not by the rep.
    assert queue.select("id", "hours_waiting", "overdue").rows() == [(1, 48.0, True), (2, 24.0, False)]


def test_a_manager_queue_spans_the_team() -> None:
    queue = rating_queue(LEADS, RATINGS, rater_id=MANAGER, owner_ids=[REP, OTHER_REP], now=datetime(2026, 11, 3, 9),
                         follow_up_hours=24, window_days=WINDOW)  # fmt: skip
    assert queue["id"].to_list() == [5, 1, 3]


# The rating window on its own frame: now is Dec 1, 12:00, the window 17 days, so its first moment is
# Nov 14, 12:00 (Dec 1 minus 17 days). Lead 11 is inside, 12 exactly on the boundary (inside), 13 a minute
# before it (outside), 14 outside but rated, 15 two months old and unrated.
NOW = datetime(2026, 12, 1, 12)
WINDOW_LEADS = pl.DataFrame(
    {
        "id": [11, 12, 13, 14, 15],
        "mql_at": [datetime(2026, 11, 20, 9), datetime(2026, 11, 14, 12), datetime(2026, 11, 14, 11, 59),
                   datetime(2026, 11, 1, 9), datetime(2026, 10, 1, 9)],
        "owner_id": [REP] * 5,
        "team_id": [10] * 5,
    }
)  # fmt: skip
WINDOW_RATINGS = _ratings((14, REP, 3, [], datetime(2026, 11, 2, 9)))


def test_the_window_starts_exactly_window_days_back() -> None:
    assert queue_cutoff(NOW, WINDOW) == datetime(2026, 11, 14, 12)


def test_the_queue_keeps_only_mqls_inside_the_rating_window_oldest_first() -> None:
    queue = rating_queue(WINDOW_LEADS, WINDOW_RATINGS, rater_id=REP, owner_ids=[REP], now=NOW,
                         follow_up_hours=24, window_days=WINDOW)  # fmt: skip
    # 12 (on the boundary) waited longer than 11; 13 and 15 left the queue, 14 is rated.
    assert queue["id"].to_list() == [12, 11]


def test_unrated_mqls_older_than_the_window_left_the_queue() -> None:
    left = left_the_queue(WINDOW_LEADS, WINDOW_RATINGS, rater_id=REP, owner_ids=[REP], now=NOW,
                          window_days=WINDOW)  # fmt: skip
    assert left == 2  # 13 (a minute too old) and 15; 14 is old too but rated
    # A day later the boundary lead 12 has left as well: 3.
    later = left_the_queue(WINDOW_LEADS, WINDOW_RATINGS, rater_id=REP, owner_ids=[REP],
                           now=datetime(2026, 12, 2, 12), window_days=WINDOW)  # fmt: skip
    assert later == 3


def test_a_longer_grace_keeps_older_mqls_in_the_queue() -> None:
    queue = rating_queue(WINDOW_LEADS, WINDOW_RATINGS, rater_id=REP, owner_ids=[REP], now=NOW,
                         follow_up_hours=24, window_days=3 + 365)  # fmt: skip
    assert queue["id"].to_list() == [15, 13, 12, 11]


def test_coverage_counts_ratings_within_the_agreed_days() -> None:
    coverage = rating_coverage(LEADS, RATINGS, NOVEMBER, rating_days=7, grace_days=14, now=datetime(2026, 12, 1),
                               by="owner_id")  # fmt: skip
    # November MQLs: rep's 1 (rated the next day) and 2 (rated on day 8: late); the other rep's 3 (never).
    assert coverage.select("key", "mqls", "rated", "share").rows() == [
        (REP, 2, 1, 0.5),
        (OTHER_REP, 1, 0, 0.0),
    ]
    assert coverage["ci_low"][0] == rate(1, 2).ci_low
    # The window is 7 + 14 = 21 days: MQLs before Nov 10 that nobody rated are missed, so the other rep's
    # lead 3 (Nov 3); lead 2 was rated late, but rated.
    assert coverage.select("key", "missed", "missed_share").rows() == [(REP, 0, 0.0), (OTHER_REP, 1, 1.0)]


def test_coverage_counts_the_mqls_that_left_the_queue_unrated_as_missed() -> None:
    coverage = rating_coverage(WINDOW_LEADS, WINDOW_RATINGS, NOVEMBER, rating_days=3, grace_days=14, now=NOW,
                               by="team_id")  # fmt: skip
    # November's MQLs 11, 12, 13, 14 (15 is October's). Rated within 3 days: 14 (the next day): 1 of 4.
    # Missed: 13 only (11 and 12 can still be rated inside the window): 1 of 4.
    row = coverage.row(0, named=True)
    assert (row["mqls"], row["rated"], row["missed"], row["missed_share"]) == (4, 1, 1, 0.25)
    assert (row["missed_ci_low"], row["missed_ci_high"]) == (rate(1, 4).ci_low, rate(1, 4).ci_high)


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
