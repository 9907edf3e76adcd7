"""Filters from a shared link: parsed, written back, forgiving of typos, and applied to the leads."""

from __future__ import annotations

from datetime import date

import polars as pl

from core.filters import Filters, apply_filters, filters_to_params, known_values, parse_filters
from core.schema import PEOPLE_SCHEMA
from tests.core.frames import d, leads

TODAY = date(2026, 11, 23)


def test_an_empty_query_string_is_this_month() -> None:
    filters, notes = parse_filters({}, TODAY)
    assert filters == Filters() and notes == []
    assert (filters.period(TODAY).start, filters.period(TODAY).last_day) == (date(2026, 11, 1), TODAY)
    assert filters_to_params(filters, TODAY) == {}


def test_in_a_months_first_days_the_default_is_the_last_complete_month() -> None:
    # Until the 7th, month to date is under a week: the page opens on last month, and a link without a
    # period means what the page showed the day it was copied.
    for day in (date(2026, 12, 1), date(2026, 12, 6), date(2027, 1, 1)):
        filters, notes = parse_filters({}, day)
        assert (filters.preset, notes) == ("last_month", [])
        assert filters_to_params(filters, day) == {}
        assert filters_to_params(Filters(preset="this_month"), day) == {"period": "this_month"}
    december = parse_filters({}, date(2026, 12, 2))[0].period(date(2026, 12, 2))
    assert (december.start, december.last_day, december.label) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
        "November 2026",
    )
    assert parse_filters({}, date(2026, 12, 7))[0].preset == "this_month"
    assert parse_filters({"period": "fortnight"}, date(2026, 12, 1))[1] == [
        "“fortnight” is not a period; showing last month."
    ]


def test_a_custom_period_round_trips_through_the_url() -> None:
    params = {
        "period": "custom",
        "from": "2026-01-05",
        "to": "2026-01-11",
        "team": "West",
        "segment": "11-50",
    }
    filters, notes = parse_filters(params, TODAY)
    assert notes == []
    assert (filters.first, filters.last, filters.team, filters.segment) == (
        date(2026, 1, 5), date(2026, 1, 11), "West", "11-50"
    )  # fmt: skip
    assert filters_to_params(filters, TODAY) == params
    comparison = filters.comparison(TODAY)
    assert (comparison.start, comparison.last_day) == (date(2025, 12, 29), date(2026, 1, 4))


def test_a_broken_link_falls_back_with_a_note() -> None:
    filters, notes = parse_filters({"period": "fortnight", "source": ["ads", "seo"]}, TODAY)
    assert filters.preset == "this_month" and filters.source == "seo"  # the last value wins
    assert notes == ["“fortnight” is not a period; showing this month."]
    filters, notes = parse_filters({"period": "custom", "from": "2026-02-30", "to": "2026-03-01"}, TODAY)
    assert filters == Filters() and "needs from and to dates" in notes[0]
    # Dates without a custom period are ignored, not an error.
    filters, notes = parse_filters({"period": "last_week", "from": "2026-01-01"}, TODAY)
    assert (filters.preset, filters.first, notes) == ("last_week", None, [])


def test_names_the_data_lacks_are_dropped() -> None:
    filters = Filters(team="Gone", source="ads", segment="1-10")
    kept = known_values(filters, teams=["West"], sources=["ads"], segments=["11-50"])
    assert (kept.team, kept.source, kept.segment) == (None, "ads", None)


def test_filters_pick_the_team_source_and_segment() -> None:
    people = pl.DataFrame(
        [(10, "ana", "Ana", "rep", 1, "East", None), (20, "ben", "Ben", "rep", 2, "West", None)],
        schema=PEOPLE_SCHEMA,
        orient="row",
    )
    frame = leads(
        {"created_at": d("2026-04-01"), "team_id": 1, "source": "ads", "company_size": "11-50"},
        {"created_at": d("2026-04-01"), "team_id": 2, "source": "ads", "company_size": "1-10"},
        {"created_at": d("2026-04-01"), "team_id": 2, "source": None, "company_size": "11-50"},
    )
    assert apply_filters(frame, people, Filters()) is frame
    assert apply_filters(frame, people, Filters(team="West"))["id"].to_list() == [2, 3]
    assert apply_filters(frame, people, Filters(team="West", source="(none)"))["id"].to_list() == [3]
    assert apply_filters(frame, people, Filters(segment="11-50"))["id"].to_list() == [1, 3]
