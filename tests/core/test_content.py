"""The content numbers (core/content.py) on tiny frames whose answers are worked out by hand below.

Wilson by hand with z = 1.96: centre = (p + z²/2n)/(1 + z²/n), half = z·sqrt(p(1-p)/n + z²/4n²)/(1 + z²/n).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import pytest

from core.content import (
    ASSETS_SCHEMA,
    CONTENT_REASONS,
    INFLUENCE_CAPTION,
    KIND_LABEL,
    OPPORTUNITIES_SCHEMA,
    RATINGS_SCHEMA,
    REQUESTS_SCHEMA,
    USES_SCHEMA,
    VERSIONS_SCHEMA,
    helped_by_asset,
    influence,
    never_used,
    open_requests,
    stale_assets,
    unused_recently,
    use_by_team_and_rep,
    used_share,
    week_content,
)
from core.schema import PEOPLE_SCHEMA
from db.models import ContentKind

TODAY = date(2026, 6, 30)  # the 90 days ending today: 2026-04-02 .. 2026-06-30


def d(text: str) -> datetime:
    return datetime.fromisoformat(text)


def frame(schema: dict[str, pl.DataType], *rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=schema)


def asset(asset_id: int, **row: Any) -> dict[str, Any]:
    base = {"asset_id": asset_id, "title": f"Asset {asset_id}", "kind": "deck", "stages": [], "personas": [],
            "industries": [], "company_sizes": [], "current_version": 1, "created_at": d("2026-01-10"),
            "updated_at": d("2026-01-10")}  # fmt: skip
    return base | row


def use(asset_id: int, lead_id: int, at: str, user_id: int = 1) -> dict[str, Any]:
    return {"asset_id": asset_id, "lead_id": lead_id, "user_id": user_id, "used_at": d(at)}


def rating(asset_id: int, lead_id: int, stars: int, *reasons: str, at: str = "2026-05-01") -> dict[str, Any]:
    return {"asset_id": asset_id, "lead_id": lead_id, "rater_id": 1, "stars": stars, "reasons": list(reasons),
            "created_at": d(at), "updated_at": d(at)}  # fmt: skip


def test_the_labels_cover_every_kind_and_the_issues_reasons() -> None:
    assert set(KIND_LABEL) == {k.value for k in ContentKind}
    assert list(CONTENT_REASONS) == [
        "won_trust", "answered_objection", "wrong_persona", "out_of_date", "too_long", "missing_data",
    ]  # fmt: skip
    assert "not proof" in INFLUENCE_CAPTION


# ---------------------------------------------------------------- used share

ASSETS = frame(
    ASSETS_SCHEMA,
    asset(1),  # used 2026-06-01: inside the 90 days
    asset(2),  # used 2026-04-01 only: today - 90 days, just outside
    asset(3),  # used 2026-04-02 00:00: the window's first moment, inside
    asset(4, created_at=d("2025-12-31")),  # never used: 181 days old
    asset(5, archived_at=d("2026-06-10")),  # archived: not live, its use does not count
    asset(6, created_at=d("2026-07-05")),  # added after today: not there yet
)
USES = frame(
    USES_SCHEMA,
    use(1, 10, "2026-06-01 09:00"),
    use(1, 11, "2026-06-02 09:00"),
    use(2, 10, "2026-04-01 23:59"),
    use(3, 12, "2026-04-02 00:00"),
    use(5, 10, "2026-06-01"),
)


def test_used_share_counts_live_assets_used_in_the_last_90_days() -> None:
    # Live: 1, 2, 3, 4 (5 archived, 6 not yet added) -> den 4; used inside 2026-04-02..2026-06-30: 1 and 3
    # -> 2/4 = 0.5. Wilson 2/4: centre 0.5, half = 1.96·sqrt(0.0625 + 0.0600)/1.9604 = 0.3500 -> 0.150-0.850.
    share = used_share(ASSETS, USES, today=TODAY)
    assert (share.num, share.den, share.value) == (2, 4, 0.5)
    assert share.ci_low == pytest.approx(0.1500, abs=1e-4)
    assert share.ci_high == pytest.approx(0.8500, abs=1e-4)
    assert share.small_sample


def test_never_used_and_unused_recently_are_separate_lists_with_ages() -> None:
    never = never_used(ASSETS, USES, today=TODAY)
    # 2025-12-31 -> 2026-06-30 is 1 + 180 = 181 days.
    assert never.select("asset_id", "age_days").rows() == [(4, 181)]
    old = unused_recently(ASSETS, USES, today=TODAY)
    # Asset 2 was last used 2026-04-01: 90 days before today.
    assert old.select("asset_id", "days_since_use").rows() == [(2, 90)]


def test_nothing_in_the_library_is_no_share() -> None:
    empty = used_share(frame(ASSETS_SCHEMA), frame(USES_SCHEMA), today=TODAY)
    assert (empty.num, empty.den, empty.value) == (0, 0, None)


def test_use_per_team_and_rep_counts_uses_distinct_assets_and_leads() -> None:
    people = frame(
        PEOPLE_SCHEMA,
        {"user_id": 1, "username": "ann", "name": "Ann", "role": "rep", "team_id": 7, "team": "North"},
        {"user_id": 2, "username": "bob", "name": "Bob", "role": "rep", "team_id": 7, "team": "North"},
        {"user_id": 3, "username": "cy", "name": "Cy", "role": "rep", "team_id": None, "team": None},
    )
    uses = frame(
        USES_SCHEMA,
        use(1, 10, "2026-06-01", user_id=1),
        use(2, 10, "2026-06-01", user_id=1),
        use(1, 10, "2026-06-02", user_id=2),  # same asset and lead as Ann's: the team's distinct counts
        use(1, 11, "2026-06-03", user_id=2),
        use(1, 12, "2026-01-01", user_id=2),  # before the 90 days
        use(3, 13, "2026-06-04", user_id=3),
    )
    table = use_by_team_and_rep(uses, people, today=TODAY)
    # North: 4 uses, assets {1, 2} = 2, leads {10, 11} = 2; Ann 2 uses, 2 assets, 1 lead; Bob 2, 1, 2.
    assert table.select("level", "team", "name", "uses", "assets", "leads").rows() == [
        ("team", "North", "North", 4, 2, 2),
        ("rep", "North", "Ann", 2, 2, 1),
        ("rep", "North", "Bob", 2, 1, 2),
        ("team", "(no team)", "(no team)", 1, 1, 1),
        ("rep", "(no team)", "Cy", 1, 1, 1),
    ]


# ---------------------------------------------------------------- helped?


def test_helped_is_the_share_rated_4_or_5_with_its_wilson_interval() -> None:
    ratings = frame(
        RATINGS_SCHEMA,
        *(rating(1, lead, stars) for lead, stars in enumerate([5, 4, 3, 1, 4])),
        rating(2, 1, 2),
    )
    table = helped_by_asset(ratings)
    # Asset 2: 0 of 1 helped, least helpful first. Asset 1: 3 of 5 (5, 4, 4) = 0.6;
    # Wilson 3/5: centre = (0.6 + 0.3841)/1.7683 = 0.5566, half = 1.96·sqrt(0.048 + 0.0384)/1.7683 = 0.3258.
    assert table["asset_id"].to_list() == [2, 1]
    one = table.row(1, named=True)
    assert (one["n"], one["helped"], one["share"], one["small_sample"]) == (5, 3, 0.6, True)
    assert one["low"] == pytest.approx(0.2307, abs=1e-4)
    assert one["high"] == pytest.approx(0.8824, abs=1e-4)


# ---------------------------------------------------------------- stale


def test_stale_is_rated_out_of_date_or_past_its_review() -> None:
    assets = frame(
        ASSETS_SCHEMA,
        asset(1, last_reviewed_on=date(2026, 1, 1)),  # 180 days ago: not past a 180-day review
        asset(2, last_reviewed_on=date(2025, 12, 31)),  # 181 days: past
        asset(3, created_at=d("2025-11-01")),  # never reviewed: its creation day counts, 241 days
        asset(4, last_reviewed_on=date(2026, 6, 1)),  # fresh, but two current ratings call it out of date
        asset(5, created_at=d("2025-01-01"), archived_at=d("2026-01-01")),  # archived: not listed
    )
    ratings = frame(
        RATINGS_SCHEMA,
        rating(4, 1, 2, "out_of_date", "too_long"),
        rating(4, 2, 1, "out_of_date"),
        rating(1, 3, 2, "too_long"),
    )
    table = stale_assets(assets, ratings, today=TODAY)
    assert table.select(
        "asset_id", "out_of_date", "days_since_review", "past_review", "never_reviewed"
    ).rows() == [
        (4, 2, 29, False, False),
        (3, 0, 241, True, True),
        (2, 0, 181, True, False),
    ]
    assert stale_assets(assets, ratings, today=TODAY, review_days=179)["asset_id"].to_list() == [4, 3, 2, 1]


# ---------------------------------------------------------------- requests


def test_open_requests_by_votes_then_age() -> None:
    def request(request_id: int, status: str, votes: int, at: str) -> dict[str, Any]:
        return {"request_id": request_id, "what": f"R{request_id}", "requested_by_id": 1, "status": status,
                "created_at": d(at), "votes": votes}  # fmt: skip

    requests = frame(
        REQUESTS_SCHEMA,
        request(1, "open", 1, "2026-06-20"),
        request(2, "accepted", 3, "2026-06-01"),
        request(3, "done", 9, "2026-05-01"),  # answered: not open
        request(4, "in_progress", 1, "2026-05-31"),  # as many votes as 1, older: first of the two
        request(5, "declined", 5, "2026-05-01"),
    )
    table = open_requests(requests, today=TODAY)
    assert table.select("request_id", "votes", "age_days").rows() == [(2, 3, 29), (4, 1, 30), (1, 1, 10)]


# ---------------------------------------------------------------- influence


def opportunity(
    lead_id: int, industry: str | None, size: str, opened: str, outcome: str | None
) -> dict[str, Any]:
    closed = None if outcome is None else d(opened) + (d("2026-01-20") - d("2026-01-01"))
    return {"lead_id": lead_id, "opportunity_at": d(opened), "closed_at": closed, "outcome": outcome,
            "industry": industry, "company_size": size}  # fmt: skip


def test_influence_compares_with_the_same_segment_and_quarter_weighted_to_the_used_mix() -> None:
    # Strata (industry × size × quarter of opening):
    #   A software/small Q1: used on 3 (2 won); not used on 2 (1 won), one of them used only after it closed.
    #   B unknown/small Q1 (industry null): used on 1 (lost); not used on 4 (1 won).
    #   C software/small Q2: not used on 3 (3 won): holds no used deal, so it is not a comparison.
    #   D retail/large Q1: used on 1 (won), nothing to compare it with: left out of both sides.
    opportunities = frame(
        OPPORTUNITIES_SCHEMA,
        opportunity(1, "software", "small", "2026-01-05", "won"),
        opportunity(2, "software", "small", "2026-02-05", "won"),
        opportunity(3, "software", "small", "2026-03-05", "lost"),
        opportunity(4, "software", "small", "2026-01-06", "won"),
        opportunity(5, "software", "small", "2026-01-07", "lost"),
        opportunity(6, None, "small", "2026-01-05", "lost"),
        opportunity(7, None, "small", "2026-01-05", "won"),
        opportunity(8, None, "small", "2026-01-05", "lost"),
        opportunity(9, None, "small", "2026-01-05", "lost"),
        opportunity(10, None, "small", "2026-01-05", "lost"),
        opportunity(11, "software", "small", "2026-04-05", "won"),
        opportunity(12, "software", "small", "2026-04-06", "won"),
        opportunity(13, "software", "small", "2026-04-07", "won"),
        opportunity(14, "retail", "large", "2026-01-05", "won"),
        opportunity(15, "software", "small", "2026-01-05", None),  # still open: not closed, not counted
    )
    uses = frame(
        USES_SCHEMA,
        use(1, 1, "2026-01-06"),
        use(1, 1, "2026-01-07", user_id=2),  # a second rep on the same deal: still one deal
        use(1, 2, "2026-02-06"),
        use(1, 3, "2026-03-06"),
        use(1, 5, "2026-03-01"),  # lead 5 closed 2026-01-26: used after it closed, so not used on it
        use(1, 6, "2026-01-06"),
        use(1, 14, "2026-01-06"),
        use(1, 15, "2026-01-06"),
    )
    row = influence(opportunities, uses).row(0, named=True)
    # Used (matched strata A and B): 4 deals, 2 won -> 0.5; Wilson 2/4 = 0.150-0.850. D's won deal unmatched.
    assert (row["asset_id"], row["used_n"], row["used_won"], row["used_rate"]) == (1, 4, 2, 0.5)
    assert (row["used_low"], row["used_high"]) == (
        pytest.approx(0.15, abs=1e-4),
        pytest.approx(0.85, abs=1e-4),
    )
    assert (row["used_unmatched"], row["strata"]) == (1, 2)
    # Comparison in A and B: 2 + 4 = 6 deals, 1 + 1 = 2 won: raw 2/6 = 0.3333.
    assert (row["comparison_n"], row["comparison_won"]) == (6, 2)
    assert row["comparison_raw_rate"] == pytest.approx(1 / 3)
    # Standardised to the used mix, w_A = 3/4 and w_B = 1/4: 0.75·(1/2) + 0.25·(1/4) = 0.4375, not 0.3333.
    assert row["comparison_rate"] == pytest.approx(0.4375)
    # Variance 0.75²·0.5·0.5/2 + 0.25²·0.25·0.75/4 = 0.0703125 + 0.0029297 = 0.0732422; sd 0.270633;
    # ± 1.96·sd = 0.530430 -> 0.4375 - 0.5304 clips to 0, 0.4375 + 0.5304 = 0.967930.
    assert row["comparison_low"] == 0.0
    assert row["comparison_high"] == pytest.approx(0.967930, abs=1e-5)
    assert row["difference"] == pytest.approx(0.0625)
    assert row["small_sample"] is True


def test_influence_without_closed_deals_is_empty() -> None:
    table = influence(frame(OPPORTUNITIES_SCHEMA), frame(USES_SCHEMA, use(1, 1, "2026-01-01")))
    assert table.is_empty() and "comparison_rate" in table.columns


# ---------------------------------------------------------------- the weekly sync


def test_week_content_lists_the_weeks_new_updated_used_and_rated_assets() -> None:
    week_start, week_end = date(2026, 6, 22), date(2026, 6, 29)
    assets = frame(
        ASSETS_SCHEMA,
        asset(1, created_at=d("2026-06-23"), updated_at=d("2026-06-23")),  # new this week
        asset(2, updated_at=d("2026-06-24")),  # edited this week
        asset(3, updated_at=d("2026-06-10")),  # its file replaced this week (version 2)
        asset(4),  # nothing this week, never used
    )
    versions = frame(
        VERSIONS_SCHEMA,
        {"asset_id": 1, "version": 1, "created_at": d("2026-06-23")},
        {"asset_id": 3, "version": 1, "created_at": d("2026-01-10")},
        {"asset_id": 3, "version": 2, "created_at": d("2026-06-25 10:00")},
    )
    uses = frame(
        USES_SCHEMA,
        use(2, 10, "2026-06-22 08:00"),
        use(2, 11, "2026-06-23", user_id=2),
        use(3, 10, "2026-06-28 23:00"),
        use(3, 12, "2026-06-29 00:00"),  # the next week
        use(1, 12, "2026-06-01"),
    )
    ratings = frame(RATINGS_SCHEMA, rating(2, 10, 5), rating(3, 10, 1), rating(3, 11, 4))
    requests = frame(
        REQUESTS_SCHEMA,
        {"request_id": 1, "what": "Battle card", "requested_by_id": 1, "status": "open",
         "created_at": d("2026-06-20"), "votes": 2},
    )  # fmt: skip
    week = week_content(assets, versions, uses, ratings, requests, week_start=week_start, week_end=week_end,
                        today=TODAY)  # fmt: skip
    assert week.new_assets["asset_id"].to_list() == [1]
    assert week.updated_assets.select("asset_id", "at").rows() == [
        (3, d("2026-06-25 10:00")),
        (2, d("2026-06-24")),
    ]
    assert week.most_used.select("asset_id", "uses", "leads", "reps").rows() == [(2, 2, 2, 2), (3, 1, 1, 1)]
    # Asset 3: 1 of 2 helped (0.5) before asset 2's 1 of 1.
    assert week.lowest_rated.select("asset_id", "n", "share").rows() == [(3, 2, 0.5), (2, 1, 1.0)]
    assert week.open_requests.select("request_id", "age_days").rows() == [(1, 10)]
    # Never used: asset 4 of the 4 live ones.
    assert (week.never_used.num, week.never_used.den) == (1, 4)
    # Used in the 90 days: all but 4 -> 3 of 4.
    assert (week.used.num, week.used.den) == (3, 4)
