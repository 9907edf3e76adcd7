"""The weekly sync's handoff part on hand-made answers (week 47 of 2026: Mon 16 - Sun 22 Nov; judged on
Tue 24 Nov): the week's recycled and rejected with names, the recycled leads that came back and were won,
the report's section, and the answer counted as the first touch in the week's SLA."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from core.feedback import RATINGS_SCHEMA
from core.handoff import NurtureCounts
from core.schema import PEOPLE_SCHEMA
from core.sla import Agreements, Terms
from core.weekly import handoff_week, week_period, weekly_sync
from core.weekly_report import handoff_report, handoff_sentences
from tests.core.frames import d, leads
from tests.core.test_handoff import answers

WEEK = "2026-W47"
NOW = datetime(2026, 11, 24, 9)
PEOPLE = pl.DataFrame(
    [
        {"user_id": 1, "username": "ana", "name": "Ana", "role": "rep", "team_id": 5, "team": "SMB"},
        {
            "user_id": 2,
            "username": "ben",
            "name": "Ben",
            "role": "sales_manager",
            "team_id": 5,
            "team": "SMB",
        },
    ],
    schema=PEOPLE_SCHEMA,
)


def _leads() -> pl.DataFrame:
    return leads(
        # 1: an MQL of the week, recycled by Ana Mon 11:00 (one working hour after it became an MQL).
        {"mql_at": d("2026-11-16 10:00"), "owner_id": 1, "team_id": 5},
        # 2: an MQL of the week, rejected by Ben (the manager) Wed.
        {"mql_at": d("2026-11-17 10:00"), "owner_id": 1, "team_id": 5},
        # 3: recycled in October to Nov 1, an MQL again Nov 10, won Thu 19 Nov for 900.
        {"mql_at": d("2026-11-10 10:00"), "owner_id": 1, "team_id": 5, "outcome": "won",
         "closed_at": d("2026-11-19 15:00"), "amount": 900.0},
    )  # fmt: skip


def _answers() -> pl.DataFrame:
    return answers(
        {"lead_id": 1, "answer": "recycle", "reason": "No budget yet", "come_back_on": date(2026, 12, 16),
         "answered_at": d("2026-11-16 11:00")},
        {"lead_id": 2, "answer": "reject", "reason": "Competitor", "answered_at": d("2026-11-18 09:00"),
         "answered_by": 2},
        {"lead_id": 3, "answer": "recycle", "reason": "Later", "come_back_on": date(2026, 11, 1),
         "answered_at": d("2026-10-01 09:00")},
    )  # fmt: skip


def test_the_weeks_handoffs_name_the_owner_and_who_answered() -> None:
    week = handoff_week(_answers(), _leads(), PEOPLE, week_period(WEEK), today=NOW.date())
    assert week.nurture.select("lead_id", "status", "reason", "owner", "answered by").rows() == [
        (2, "rejected", "Competitor", "Ana", "Ben"),
        (1, "waiting", "No budget yet", "Ana", "Ana"),
    ]
    assert week.counts == NurtureCounts(recycled=1, waiting=1, due_back=0, rejected=1)
    # The week's MQLs are leads 1 and 2 (lead 3 became one again the week before): both answered.
    assert week.by_team.select("team", "mqls", "answered", "accepted", "recycled", "rejected").rows() == [
        ("SMB", 2, 2, 0, 1, 1)
    ]
    assert week.by_team.select("accepted_share", "recycled_share", "rejected_share").row(0) == (0.0, 0.5, 0.5)
    assert week.came_back_won.rows() == [(3, "Ana", 900.0, d("2026-10-01 09:00"), d("2026-11-19 15:00"))]


def test_the_weekly_sync_counts_the_answer_as_the_first_touch_and_reports_the_handoffs() -> None:
    terms = Agreements(company=Terms(follow_up_hours=8, rating_days=3))
    common = {"leads": _leads(), "ratings": pl.DataFrame(schema=RATINGS_SCHEMA), "people": PEOPLE,
              "agreements": terms, "changes": [], "now": NOW}  # fmt: skip
    sync = weekly_sync(WEEK, **common, answers=_answers())  # type: ignore[arg-type]
    # Lead 1: answered after 1 working hour; lead 2: MQL Tue 10:00, answered Wed 09:00 = 23 h > 8: late.
    assert sync.sla.speed.median_hours == pytest.approx(12.0)
    assert (sync.sla.speed.within.num, sync.sla.speed.within.den, sync.sla.speed.breaches) == (1, 2, 1)
    without = weekly_sync(WEEK, **common)  # type: ignore[arg-type]
    assert without.sla.speed.touched == 0 and without.handoffs.nurture.height == 0

    assert handoff_sentences(sync) == (
        "Sales recycled 1 lead to marketing (1 waiting for their date, 0 due back) and rejected 1.",
        "Recycled leads that came back as MQLs and were won this week: 1, $900 in all.",
    )
    section = handoff_report(sync)
    assert section.title == "Handoff answers"
    (name, table), (won_name, won), (team_name, teams) = section.tables
    assert (name, won_name, team_name) == ("Recycled and rejected", "Came back and won", "Answers per team")
    assert teams.rows() == [("SMB", 2, 2, "0 (0%)", "1 (50%)", "1 (50%)")]
    assert table.columns == ["Lead", "Answer", "Reason", "Back to sales on", "Owner", "Answered by",
                             "Answered at (UTC)"]  # fmt: skip
    assert table["Answer"].to_list() == ["Rejected", "Recycled, waiting"]
    assert won["Lead"].to_list() == ["3"]
    ((title, none_answered),) = handoff_report(without).tables
    assert (title, none_answered.rows()) == ("Answers per team", [("SMB", 2, 0, "0", "0", "0")])
    assert handoff_sentences(without)[1] == "No recycled lead came back and was won this week."


def test_the_report_shows_the_come_back_day_as_a_day_and_the_answer_to_the_minute() -> None:
    from datetime import date, datetime

    from core.weekly_report import nurture_table

    week = pl.DataFrame(
        {
            "lead_id": [7],
            "status": ["waiting"],
            "reason": ["No budget yet"],
            "come_back_on": [datetime(2027, 2, 19)],  # a loader that hands the day on as midnight
            "owner": ["Kim"],
            "answered by": ["Kim"],
            "answered_at": [datetime(2026, 12, 6, 14, 11, 44, 500)],
        }
    )
    assert nurture_table(week).rows() == [
        (
            "7",
            "Recycled, waiting",
            "No budget yet",
            date(2027, 2, 19),
            "Kim",
            "Kim",
            datetime(2026, 12, 6, 14, 11),
        )
    ]
