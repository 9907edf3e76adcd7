"""The SLA on hand-made leads whose waits were counted by hand (week 47 of 2026: Mon 16 - Sun 22 Nov)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from core.feedback import RATINGS_SCHEMA
from core.periods import Period
from core.sla import (
    Agreements,
    Terms,
    committed_mqls,
    follow_ups,
    judged_at,
    owner_status,
    scorecard,
    working_hours_between,
)
from tests.core.frames import d, leads

WEEK = Period(date(2026, 11, 16), date(2026, 11, 23), "week 47")
AS_OF = judged_at(WEEK, datetime(2026, 12, 1))  # Tuesday 24 Nov, 00:00: the end of the meeting day
AGREEMENTS = Agreements(
    company=Terms(follow_up_hours=24, rating_days=3, mqls_per_month=130, acceptance_target=0.5),
    teams={2: Terms(follow_up_hours=4, rating_days=3)},
)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-11-16 10:00", "2026-11-16 14:00", 4.0),  # inside one Monday
        ("2026-11-20 18:00", "2026-11-23 09:00", 15.0),  # Friday evening to Monday morning: 6 + 9
        ("2026-11-21 10:00", "2026-11-23 09:00", 9.0),  # from a Saturday: the clock starts on Monday
        ("2026-11-21 10:00", "2026-11-22 23:00", 0.0),  # a whole weekend
        ("2026-11-20 12:00", "2026-11-30 12:00", 144.0),  # across a weekend: 12 + 5 x 24 + 12
        ("2026-11-16 10:00", "2026-11-16 09:00", 0.0),  # a touch before the MQL waited nothing
    ],
)
def test_working_hours_skip_weekends(start: str, end: str, hours: float) -> None:
    frame = pl.DataFrame({"start": [d(start)], "end": [d(end)]})
    got = frame.select(working_hours_between(pl.col("start"), pl.col("end"))).item()
    assert got == pytest.approx(hours)


def _leads() -> pl.DataFrame:
    return leads(
        {
            "mql_at": d("2026-11-16 10:00"),
            "first_touch_at": d("2026-11-16 14:00"),
            "owner_id": 1,
            "team_id": 1,
        },
        {
            "mql_at": d("2026-11-20 18:00"),
            "first_touch_at": d("2026-11-23 09:00"),
            "owner_id": 1,
            "team_id": 1,
        },
        {"mql_at": d("2026-11-21 10:00"), "owner_id": 1, "team_id": 1},  # 3: touched by its rating
        {"mql_at": d("2026-11-17 09:00"), "owner_id": 2, "team_id": 1},  # 4: never touched
        {"mql_at": d("2026-11-18 08:00"), "sql_at": d("2026-11-20 08:00"), "owner_id": 2, "team_id": 1},
        {"mql_at": d("2026-11-22 20:00"), "owner_id": 1, "team_id": 1},  # 6: Sunday night, still in time
        {
            "mql_at": d("2026-11-19 10:00"),
            "first_touch_at": d("2026-11-19 15:00"),
            "owner_id": 3,
            "team_id": 2,
        },
        {"mql_at": d("2026-11-10 10:00"), "owner_id": 1, "team_id": 1},  # 8: the week before
        {
            "mql_at": d("2026-11-16 09:00"),
            "first_touch_at": d("2026-11-16 08:00"),
            "owner_id": 1,
            "team_id": 1,
        },
        {"created_at": d("2026-11-18 08:00"), "owner_id": 1, "team_id": 1},  # 10: never an MQL
    )


def _ratings() -> pl.DataFrame:
    return pl.DataFrame(
        [
            (1, 11, 2, ["too_small"], d("2026-11-16 16:00")),
            (2, 11, 4, ["good_fit"], d("2026-11-24 10:00")),  # after the meeting: not a touch by then
            (2, 12, 3, [], d("2026-11-24 11:00")),
            (3, 11, 5, ["good_fit"], d("2026-11-23 09:00")),
        ],
        schema=RATINGS_SCHEMA,
        orient="row",
    )


def test_follow_ups_time_each_mql_of_the_week() -> None:
    follow = follow_ups(_leads(), _ratings(), WEEK, as_of=AS_OF, agreements=AGREEMENTS).sort("id")
    assert follow["id"].to_list() == [1, 2, 3, 4, 5, 6, 7, 9]
    assert follow["hours"].to_list() == pytest.approx([4, 15, 9, 111, 48, 24, 5, 0])
    assert follow["agreed_hours"].to_list() == [24, 24, 24, 24, 24, 24, 4, 24]
    assert follow["in_time"].to_list() == [True, True, True, False, False, False, False, True]
    assert follow["breach"].to_list() == [False, False, False, True, True, False, True, False]
    # Lead 6 waited exactly its 24 hours and is untouched: not yet a breach, not yet judged.
    assert follow["judged"].to_list() == [True, True, True, True, True, False, True, True]


def test_scorecard_both_sides() -> None:
    card = scorecard(_leads(), _ratings(), WEEK, as_of=AS_OF, agreements=AGREEMENTS)
    speed = card.speed
    assert speed.median_hours == pytest.approx(7.0)  # touched: 0, 4, 5, 9, 15, 48
    assert (speed.within.num, speed.within.den) == (4, 7)
    assert (speed.touched, speed.breaches, speed.waiting) == (6, 3, 1)
    assert card.marketing.mqls == 8
    assert card.marketing.committed == pytest.approx(30.0)  # 130 a month x 12 / 52
    # Rated MQLs: 1 (2 stars), 2 (mean 3.5 reads as 4-5), 3 (5 stars).
    assert (card.marketing.acceptance.num, card.marketing.acceptance.den) == (2, 3)
    # Rated within 3 days: 1 and 3 (lead 2's first rating came 3 days 16 hours after its MQL).
    assert (card.coverage.num, card.coverage.den) == (2, 8)


def test_breaches_listed_by_owner() -> None:
    card = scorecard(_leads(), _ratings(), WEEK, as_of=AS_OF, agreements=AGREEMENTS)
    assert card.breaches.select("owner_id", "lead_id", "status").rows() == [
        (2, 4, "not touched yet"),
        (2, 5, "touched late"),
        (3, 7, "touched late"),
    ]
    assert card.by_owner.rows() == [(2, 2, 2, 1), (3, 1, 1, 0)]


def test_a_week_is_judged_at_its_meeting_not_later() -> None:
    assert judged_at(WEEK, datetime(2027, 1, 1)) == datetime(2026, 11, 24)
    assert judged_at(WEEK, datetime(2026, 11, 23, 9)) == datetime(2026, 11, 23, 9)


def test_no_mqls_means_nothing_to_judge() -> None:
    card = scorecard(_leads().head(0), _ratings().head(0), WEEK, as_of=AS_OF, agreements=AGREEMENTS)
    assert card.speed.median_hours is None
    assert card.speed.within.den == 0 and card.speed.within.value is None
    assert card.marketing.mqls == 0 and card.coverage.den == 0
    assert card.breaches.is_empty() and card.by_owner.is_empty()


def test_commitment_is_prorated_and_optional() -> None:
    assert committed_mqls(None, WEEK) is None
    assert committed_mqls(520, Period(date(2026, 1, 1), date(2026, 1, 15))) == pytest.approx(240.0)


def test_a_reps_status_now() -> None:
    # Rep 1 on Tuesday 24 Nov at 00:00: leads 1, 2, 3, 9 touched in time; lead 8 (10 Nov) never touched;
    # lead 6 (Sunday night) waits, still inside its 24 working hours. Rep 2: lead 4 untouched past its
    # hours, lead 5 touched late.
    one = owner_status(_leads(), _ratings(), [1], now=AS_OF, agreements=AGREEMENTS, days=30)
    assert (one.overdue, one.waiting) == (1, 1)
    assert (one.within.num, one.within.den) == (4, 5)
    # Rated within 3 days: 1 and 3 of the six MQLs 1, 2, 3, 6, 8 and 9 (lead 8 is from 10 Nov).
    assert (one.coverage.num, one.coverage.den) == (2, 6)
    two = owner_status(_leads(), _ratings(), [2], now=AS_OF, agreements=AGREEMENTS, days=30)
    assert (two.overdue, two.waiting, two.within.num, two.within.den) == (1, 0, 0, 2)
