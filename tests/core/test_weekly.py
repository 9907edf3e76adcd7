"""The weekly sync's parts on hand-made weeks (week 47 of 2026 is Mon 16 - Sun 22 Nov)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from core.criteria import Criteria, Rule
from core.feedback import RATINGS_SCHEMA
from core.schema import PEOPLE_SCHEMA
from core.weekly import (
    VersionInForce,
    criteria_changes,
    funnel_week,
    last_complete_week,
    lead_quality,
    rated_segments,
    shift_week,
    week_label,
    week_period,
    week_title,
    wins,
)
from tests.core.frames import d, leads

WEEK = week_period("2026-W47")


def test_weeks_are_iso_weeks() -> None:
    assert (WEEK.start, WEEK.end) == (date(2026, 11, 16), date(2026, 11, 23))
    assert week_label(date(2026, 11, 22)) == "2026-W47"
    assert week_label(date(2027, 1, 1)) == "2026-W53"  # 2026 has 53 ISO weeks
    assert last_complete_week(date(2026, 11, 23)) == "2026-W47"  # on the Monday: last week
    assert last_complete_week(date(2026, 11, 22)) == "2026-W46"  # on the Sunday: the week is not over
    assert shift_week("2026-W01", -1) == "2025-W52"


@pytest.mark.parametrize(
    ("text", "problem"),
    [("2026-47", "write it like 2026-W47"), ("2025-W53", "2025 has no week 53"), ("", "is not a week")],
)
def test_a_bad_week_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        week_period(text)


def _funnel_leads() -> pl.DataFrame:
    old = d("2026-10-01 09:00")
    last_week = [{"created_at": old, "mql_at": d("2026-11-10 10:00"), "source": "ads"}] * 6 + [
        {"created_at": old, "mql_at": d("2026-11-11 10:00"), "source": "web"}
    ] * 4
    this_week = [{"created_at": old, "mql_at": d("2026-11-17 10:00"), "source": "ads"}] + [
        {"created_at": old, "mql_at": d("2026-11-18 10:00"), "source": "web"}
    ] * 4
    return leads(*last_week, *this_week)


def test_funnel_week_says_what_moved_most() -> None:
    funnel = funnel_week(_funnel_leads(), WEEK, today=date(2026, 11, 23))
    mqls = funnel.movers.filter(pl.col("stage") == "MQLs").row(0, named=True)
    assert (mqls["this_week"], mqls["last_week"], mqls["change"]) == (5, 10, -5)
    assert mqls["change_pct"] == pytest.approx(-0.5)
    assert (
        funnel.moved_most == "MQLs moved most: 5 against 10 last week (-50%). Most of it came from ads (-5)."
    )
    trend = funnel.trend.filter(pl.col("stage") == "MQLs")
    assert trend.height == 8 and trend["count"].to_list()[-2:] == [10, 5]


def test_too_few_leads_to_say_what_moved() -> None:
    funnel = funnel_week(_funnel_leads().head(3), WEEK, today=date(2026, 11, 23))
    assert funnel.moved_most == "Too few leads in these two weeks to say what moved."


def _rated_leads() -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = leads(
        *[{"source": "ads", "industry": "Retail", "company_size": "1-10"}] * 5,
        *[{"source": "web", "industry": "Retail", "company_size": "1000+"}] * 5,
        {"source": "web", "industry": "Software", "company_size": "1000+"},
    )
    stars = [1, 2, 2, 1, 4, 5, 4, 5, 3, 5, 1]
    ratings = pl.DataFrame(
        [
            (i + 1, 7, s, ["too_small"] if s < 3 else ["good_fit"], d("2026-11-18 12:00"))
            for i, s in enumerate(stars)
        ]
        + [(1, 7, 5, [], d("2026-11-02 12:00"))],  # another week's rating: not this week's evidence
        schema=RATINGS_SCHEMA,
        orient="row",
    )
    return frame, ratings


def test_rated_segments_need_five_ratings() -> None:
    frame, ratings = _rated_leads()
    segments = rated_segments(frame, ratings, WEEK)
    # Software (1 rating) is left out, and so is lead 1's rating from another week.
    assert segments.select("segment", "ratings", "good").rows() == [
        ("Company size is 1-10", 5, 1),
        ("Source is ads", 5, 1),
        ("Industry is Retail", 10, 5),
        ("Company size is 1000+", 6, 4),
        ("Source is web", 6, 4),
    ]
    assert segments["mean_stars"].to_list() == pytest.approx([2.0, 2.0, 3.2, 23 / 6, 23 / 6])


def test_lead_quality_splits_at_the_weeks_mean() -> None:
    frame, ratings = _rated_leads()
    quality = lead_quality(frame, ratings, WEEK)
    assert quality.ratings == 11
    assert quality.mean_stars == pytest.approx(3.0)  # 1, 2, 2, 1, 4, 5, 4, 5, 3, 5, 1
    assert quality.lowest["segment"].to_list() == ["Company size is 1-10", "Source is ads"]
    assert quality.highest["segment"].to_list() == [
        "Company size is 1000+",
        "Source is web",
        "Industry is Retail",
    ]
    assert quality.reasons.select("reason", "count").rows() == [("good_fit", 6), ("too_small", 5)]


def test_an_unrated_week_has_no_segments() -> None:
    frame, ratings = _rated_leads()
    quality = lead_quality(frame, ratings.head(0), WEEK)
    assert quality.ratings == 0 and quality.mean_stars is None
    assert quality.lowest.is_empty() and quality.highest.is_empty() and quality.reasons.is_empty()


def test_wins_credit_the_rep_and_the_campaign() -> None:
    people = pl.DataFrame(
        [(7, "kim", "Kim Lee", "rep", 1, "SMB", "EMEA")], schema=PEOPLE_SCHEMA, orient="row"
    )
    frame = leads(
        {"mql_at": d("2026-11-06 12:00"), "closed_at": d("2026-11-18 12:00"), "outcome": "won",
         "amount": 9000.0, "owner_id": 7, "source": "events", "campaign": "SaaStr booth"},
        {"closed_at": d("2026-11-19 12:00"), "outcome": "lost", "amount": 50000.0, "owner_id": 7},
        {"mql_at": d("2026-11-01 12:00"), "closed_at": d("2026-11-20 12:00"), "outcome": "won",
         "amount": 20000.0, "source": "web"},
        {"closed_at": d("2026-11-24 12:00"), "outcome": "won", "amount": 1.0},
    )  # fmt: skip
    won = wins(frame, people, WEEK)
    assert won.select("lead_id", "amount", "rep", "team", "source", "campaign").rows() == [
        (3, 20000.0, None, None, "web", None),
        (1, 9000.0, "Kim Lee", "SMB", "events", "SaaStr booth"),
    ]
    assert won["days_from_mql"].to_list() == pytest.approx([19.0, 12.0])


def test_criteria_changes_of_the_week_with_their_backtest() -> None:
    launch = Criteria((Rule("source", "eq", "ads", 10),), 10)
    wider = Criteria((Rule("source", "eq", "ads", 10), Rule("source", "eq", "web", 10)), 10)
    versions = [
        VersionInForce(1, launch, datetime(2026, 1, 5), "Mia", "Sam", "launch"),
        VersionInForce(2, wider, datetime(2026, 11, 18, 15), "Mia", "Sam", "web leads are good"),
    ]
    # Ten leads in the 90 days before v2: four from ads (rated 2), six from the web (rated 5).
    evidence = leads(
        *[{"created_at": d("2026-11-01 10:00"), "mql_at": d("2026-11-01 10:00"), "source": "ads"}] * 4,
        *[{"created_at": d("2026-11-02 10:00"), "source": "web"}] * 6,
    ).with_columns(pl.Series("stars", [2.0] * 4 + [5.0] * 6))
    changes = criteria_changes(versions, evidence, WEEK)
    assert [c.number for c in changes] == [2]
    # Under v1: 4 MQLs, 0 of 4 accepted. Under v2: 10 MQLs, 6 of 10 accepted.
    assert changes[0].sentence == "+60 points acceptance, +150% volume"
    assert criteria_changes(versions[:1], evidence, week_period("2026-W02"))[0].sentence.startswith(
        "The first"
    )


def test_week_titles_read_like_a_calendar() -> None:
    assert week_title("2026-W47") == "Week 47 · Nov 16–22, 2026"
    assert week_title("2026-W49") == "Week 49 · Nov 30 – Dec 6, 2026"
