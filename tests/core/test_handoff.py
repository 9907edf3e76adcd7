"""The handoff on hand-made answers whose answers were worked out by hand (week 47 of 2026: Mon 16 - Sun
22 Nov; "today" is Tuesday 24 Nov)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from core.feedback import RATINGS_SCHEMA
from core.handoff import (
    ANSWERS_SCHEMA,
    NurtureCounts,
    ReturnCounts,
    answer_shares,
    came_back_and_won,
    first_answers,
    nurture_counts,
    nurture_list,
    return_counts,
    returns,
)
from core.periods import Period
from core.sla import Agreements, Terms, follow_ups, owner_status, scorecard
from tests.core.frames import d, leads

WEEK = Period(date(2026, 11, 16), date(2026, 11, 23), "week 47")
TODAY = date(2026, 11, 24)
AGREEMENTS = Agreements(company=Terms(follow_up_hours=8, rating_days=3))


def answers(*rows: dict[str, Any]) -> pl.DataFrame:
    """An ANSWERS_SCHEMA frame from partial rows: current unless told, first answered when answered."""
    full = [
        {"current": True, "answered_by": 1, **row}
        | ({"first_answered_at": row.get("first_answered_at", row["answered_at"])} if row.get("current", True) else {})
        for row in rows
    ]  # fmt: skip
    return pl.DataFrame(full, schema=ANSWERS_SCHEMA)


def _no_ratings() -> pl.DataFrame:
    return pl.DataFrame(schema=RATINGS_SCHEMA)


def test_the_first_answer_is_the_first_touch_whatever_the_answer() -> None:
    # Lead 1: MQL Mon 10:00, untouched otherwise, rejected Mon 12:00: touched after 2 working hours.
    # Lead 2: MQL Mon 10:00, activity Tue 09:00 (23 h), recycled Mon 15:00 (5 h): the answer is first.
    # Lead 3: MQL Mon 10:00, no answer: untouched; judged Tue 10:00 it waited 24 h > 8: a breach.
    frame = leads(
        {"mql_at": d("2026-11-16 10:00"), "owner_id": 1},
        {"mql_at": d("2026-11-16 10:00"), "first_touch_at": d("2026-11-17 09:00"), "owner_id": 1},
        {"mql_at": d("2026-11-16 10:00"), "owner_id": 1},
    )
    given = answers(
        {"lead_id": 1, "answer": "reject", "reason": "Competitor", "answered_at": d("2026-11-16 12:00")},
        {"lead_id": 2, "answer": "recycle", "reason": "Later", "come_back_on": date(2026, 12, 16),
         "answered_at": d("2026-11-16 15:00")},
    )  # fmt: skip
    follow = follow_ups(
        frame, _no_ratings(), WEEK, as_of=d("2026-11-17 10:00"), agreements=AGREEMENTS, answers=given
    ).sort("id")
    assert follow["touched_at"].to_list() == [d("2026-11-16 12:00"), d("2026-11-16 15:00"), None]
    assert follow["hours"].to_list() == pytest.approx([2.0, 5.0, 24.0])
    assert follow["in_time"].to_list() == [True, True, False]
    assert follow["breach"].to_list() == [False, False, True]
    # Without the answers the first lead is untouched (a breach) and the second was touched at 23 h.
    without = follow_ups(frame, _no_ratings(), WEEK, as_of=d("2026-11-17 10:00"), agreements=AGREEMENTS).sort(
        "id"
    )
    assert without["breach"].to_list() == [True, True, True]


def test_a_changed_answer_keeps_its_first_answer_as_the_touch() -> None:
    # Accepted Mon 11:00, changed to reject Wed: the history row holds the accept, the current row the
    # reject with first_answered_at Mon 11:00. One working hour after the MQL.
    frame = leads({"mql_at": d("2026-11-16 10:00"), "owner_id": 1})
    given = answers(
        {"lead_id": 1, "answer": "accept", "answered_at": d("2026-11-16 11:00"), "current": False},
        {"lead_id": 1, "answer": "reject", "reason": "Duplicate", "answered_at": d("2026-11-18 09:00"),
         "first_answered_at": d("2026-11-16 11:00")},
    )  # fmt: skip
    assert first_answers(given, frame).to_dicts() == [
        {"lead_id": 1, "first_answered_at": d("2026-11-16 11:00")}
    ]
    card = scorecard(
        frame, _no_ratings(), WEEK, as_of=d("2026-11-24 00:00"), agreements=AGREEMENTS, answers=given
    )
    assert card.speed.median_hours == pytest.approx(1.0)
    assert (card.speed.within.num, card.speed.within.den, card.speed.breaches) == (1, 1, 0)


def test_an_answer_to_an_earlier_handoff_is_no_touch_of_the_new_one() -> None:
    # Recycled on Oct 1 with Nov 1 to come back; an MQL again on Mon 16 Nov 10:00, not answered since:
    # untouched, and judged Tue 10:00 (24 working hours) a breach.
    frame = leads({"mql_at": d("2026-11-16 10:00"), "owner_id": 1})
    given = answers({"lead_id": 1, "answer": "recycle", "reason": "Later", "come_back_on": date(2026, 11, 1),
                     "answered_at": d("2026-10-01 09:00")})  # fmt: skip
    assert first_answers(given, frame).height == 0
    status = owner_status(
        frame, _no_ratings(), [1], now=d("2026-11-17 10:00"), agreements=AGREEMENTS, answers=given
    )
    assert (status.overdue, status.waiting) == (1, 0)


def _nurture_leads() -> pl.DataFrame:
    return leads(*({"mql_at": d("2026-11-02 10:00"), "owner_id": 7} for _ in range(5)))


def _nurture_answers() -> pl.DataFrame:
    return answers(
        # 1: recycled in the week, back on Dec 24: waiting.
        {"lead_id": 1, "answer": "recycle", "reason": "No budget yet", "come_back_on": date(2026, 12, 24),
         "answered_at": d("2026-11-17 09:00")},
        # 2: recycled in the week with Nov 24 to come back: due back today.
        {"lead_id": 2, "answer": "recycle", "reason": "Not the right time", "come_back_on": date(2026, 11, 24),
         "answered_at": d("2026-11-18 09:00")},
        # 3: rejected in the week.
        {"lead_id": 3, "answer": "reject", "reason": "Competitor", "answered_at": d("2026-11-20 16:00"),
         "answered_by": 9},
        # 4: accepted in the week: not on the list.
        {"lead_id": 4, "answer": "accept", "answered_at": d("2026-11-19 09:00")},
        # 5: rejected the week before: outside the period.
        {"lead_id": 5, "answer": "reject", "reason": "Duplicate", "answered_at": d("2026-11-13 09:00")},
    )  # fmt: skip


def test_the_nurture_list_holds_the_weeks_recycled_and_rejected_newest_first() -> None:
    nurture = nurture_list(_nurture_answers(), _nurture_leads(), WEEK, TODAY)
    assert nurture.select("lead_id", "status", "reason", "answered_by").rows() == [
        (3, "rejected", "Competitor", 9),
        (2, "due back", "Not the right time", 1),
        (1, "waiting", "No budget yet", 1),
    ]
    assert nurture["owner_id"].to_list() == [7, 7, 7]
    assert nurture_counts(nurture) == NurtureCounts(recycled=2, waiting=1, due_back=1, rejected=1)


def test_the_nurture_list_of_leads_filtered_away_is_empty() -> None:
    nurture = nurture_list(_nurture_answers(), _nurture_leads().head(0), WEEK, TODAY)
    assert nurture.height == 0
    assert nurture_counts(nurture) == NurtureCounts(0, 0, 0, 0)


def test_a_recycled_lead_returns_when_its_date_came_and_it_is_an_mql_again() -> None:
    frame = leads(
        # 1: recycled Oct 1 to Nov 1, an MQL again Nov 16, won Nov 20: returned and won.
        {"mql_at": d("2026-11-16 10:00"), "outcome": "won", "closed_at": d("2026-11-20 12:00")},
        # 2: recycled Oct 1 to Nov 1, its MQL moment still the old one (Sep 30): not back.
        {"mql_at": d("2026-09-30 10:00")},
        # 3: recycled Nov 10 to Dec 10, qualified again Nov 20 but its date has not come: not yet.
        {"mql_at": d("2026-11-20 10:00")},
        # 4: recycled Oct 1 to Nov 1, back Nov 5, then recycled again Nov 9 to Dec 9: judged by the latest.
        {"mql_at": d("2026-11-05 10:00")},
        # 5: recycled Oct 1 to Nov 1, back Nov 3, accepted then (current), lost: returned, not won.
        {"mql_at": d("2026-11-03 10:00"), "outcome": "lost", "closed_at": d("2026-11-19 10:00")},
        # 6: never recycled.
        {"mql_at": d("2026-11-03 10:00"), "outcome": "won", "closed_at": d("2026-11-19 10:00")},
    )
    old = {
        "answer": "recycle",
        "reason": "Later",
        "come_back_on": date(2026, 11, 1),
        "answered_at": d("2026-10-01 09:00"),
    }
    given = answers(
        {"lead_id": 1, **old},
        {"lead_id": 2, **old},
        {"lead_id": 3, "answer": "recycle", "reason": "Later", "come_back_on": date(2026, 12, 10),
         "answered_at": d("2026-11-10 09:00")},
        {"lead_id": 4, **old, "current": False},
        {"lead_id": 4, "answer": "recycle", "reason": "Again", "come_back_on": date(2026, 12, 9),
         "answered_at": d("2026-11-09 09:00")},
        {"lead_id": 5, **old, "current": False},
        {"lead_id": 5, "answer": "accept", "answered_at": d("2026-11-03 11:00")},
        {"lead_id": 6, "answer": "accept", "answered_at": d("2026-11-03 11:00")},
    )  # fmt: skip
    back = returns(given, frame, TODAY)
    assert back.select("lead_id", "returned", "won").rows() == [
        (1, True, True),
        (2, False, False),
        (3, False, False),
        (4, False, False),
        (5, True, False),
    ]
    assert back.filter(pl.col("lead_id") == 4)["recycled_at"].item() == d("2026-11-09 09:00")
    assert return_counts(back) == ReturnCounts(recycled=5, returned=2, won=1)
    assert came_back_and_won(back, WEEK)["lead_id"].to_list() == [1]
    assert came_back_and_won(back, Period(date(2026, 11, 9), date(2026, 11, 16))).height == 0


def test_answer_shares_count_each_answer_of_the_answered_mqls() -> None:
    # Rep 1: four MQLs in the week, three answered (accept, accept, reject): 2/3, 0/3, 1/3.
    # Rep 2: one MQL in the week, unanswered: shares null. An MQL of the week before is left out.
    frame = leads(
        *({"mql_at": d("2026-11-17 10:00"), "owner_id": 1, "team_id": 5} for _ in range(4)),
        {"mql_at": d("2026-11-18 10:00"), "owner_id": 2, "team_id": 5},
        {"mql_at": d("2026-11-10 10:00"), "owner_id": 2, "team_id": 5},
    )
    at = d("2026-11-18 09:00")
    given = answers(
        {"lead_id": 1, "answer": "accept", "answered_at": at},
        {"lead_id": 2, "answer": "accept", "answered_at": at},
        {"lead_id": 3, "answer": "reject", "reason": "Competitor", "answered_at": at},
        {"lead_id": 6, "answer": "reject", "reason": "Competitor", "answered_at": at},
    )
    shares = answer_shares(given, frame, WEEK)
    assert shares.select("owner_id", "mqls", "answered", "accepted", "recycled", "rejected").rows() == [
        (1, 4, 3, 2, 0, 1),
        (2, 1, 0, 0, 0, 0),
    ]
    assert shares["accepted_share"].to_list() == pytest.approx([2 / 3, None], nan_ok=True)
    assert shares["rejected_share"].to_list()[1] is None
    team = answer_shares(given, frame, WEEK, by="team_id")
    assert team.select("team_id", "mqls", "answered", "accepted", "rejected").rows() == [(5, 5, 3, 2, 1)]
    assert team["accepted_share"].item() == pytest.approx(2 / 3)


def test_answer_shares_of_nothing_is_an_empty_frame() -> None:
    shares = answer_shares(answers(), leads(), WEEK)
    assert shares.height == 0
    assert shares.columns[:6] == ["owner_id", "mqls", "answered", "accepted", "recycled", "rejected"]
