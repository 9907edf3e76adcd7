from __future__ import annotations

from datetime import date

import polars as pl

from core.trends import last_complete_week_end, latest_event_day, weekly_flow
from tests.core.frames import d, leads


def test_last_complete_week_ends_on_the_previous_sunday() -> None:
    assert last_complete_week_end(date(2026, 11, 23)) == date(2026, 11, 22)  # a Monday
    assert last_complete_week_end(date(2026, 11, 22)) == date(2026, 11, 22)  # a Sunday
    assert last_complete_week_end(date(2026, 11, 26)) == date(2026, 11, 22)


def test_weekly_flow_fills_empty_weeks_with_zero() -> None:
    frame = leads(
        {"created_at": d("2026-11-02 10:00"), "mql_at": d("2026-11-03")},
        {"created_at": d("2026-11-04"), "closed_at": d("2026-11-20"), "outcome": "won"},
        {"created_at": d("2026-11-18"), "closed_at": d("2026-11-19"), "outcome": "lost"},
    )
    weekly = weekly_flow(frame, last_day=date(2026, 11, 22), weeks=3)
    leads_rows = weekly.filter(pl.col("stage") == "Leads").sort("week")
    assert leads_rows["week"].to_list() == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    assert leads_rows["count"].to_list() == [2, 0, 1]
    won = weekly.filter(pl.col("stage") == "Won deals").sort("week")["count"].to_list()
    assert won == [0, 0, 1]  # the lost deal is not a win
    assert weekly.filter(pl.col("stage") == "MQLs")["count"].sum() == 1


def test_latest_event_day_looks_at_every_stage() -> None:
    frame = leads({"created_at": d("2018-01-01"), "closed_at": d("2018-06-03"), "outcome": "won"})
    assert latest_event_day(frame) == date(2018, 6, 3)
    assert latest_event_day(leads()) is None
