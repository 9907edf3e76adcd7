"""core/content_match.py worked by hand on tiny frames: a lead's stage, which assets are for a lead (every
non-empty audience list must hold its value, case-insensitively), and their ranking (lists matched, then
helped share, then newest)."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from core.content_match import (
    CONTENT_STAGES,
    STAGE_LABEL,
    Audience,
    LeadProfile,
    content_for_lead,
    lead_stage,
    match_score,
)

T = datetime(2026, 11, 1)
CFO_MQL = LeadProfile(stage="mql", persona="CFO", industry="Retail", company_size="51-200")


def assets(*rows: dict[str, object]) -> pl.DataFrame:
    """A library frame: each row gives asset_id and whatever differs from an asset for anyone."""
    base: dict[str, object] = {"title": "x", "kind": "deck", "stages": [], "personas": [], "industries": [], "company_sizes": [],
            "helped_share": None, "updated_at": T}  # fmt: skip
    return pl.DataFrame(
        [base | {"title": f"asset {r['asset_id']}"} | r for r in rows],
        schema={"asset_id": pl.Int64, "title": pl.String, "kind": pl.String, "stages": pl.List(pl.String),
                "personas": pl.List(pl.String), "industries": pl.List(pl.String),
                "company_sizes": pl.List(pl.String), "helped_share": pl.Float64, "updated_at": pl.Datetime("us")},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mql", "sql", "opportunity", "closed", "stage"),
    [
        (None, None, None, None, "lead"),
        (T, None, None, None, "mql"),
        (T, T, None, None, "sql"),
        (None, T, None, None, "sql"),  # an SQL that skipped MQL
        (T, T, T, None, "opportunity"),
        (T, T, T, T, "opportunity"),  # won or lost: still an opportunity's content
        (T, None, None, T, "opportunity"),  # closed without an opportunity date
    ],
)
def test_lead_stage_is_the_furthest_reached(
    mql: datetime | None,
    sql: datetime | None,
    opportunity: datetime | None,
    closed: datetime | None,
    stage: str,
) -> None:
    assert lead_stage(mql_at=mql, sql_at=sql, opportunity_at=opportunity, closed_at=closed) == stage
    assert stage in CONTENT_STAGES and stage in STAGE_LABEL


def test_match_score_counts_the_lists_that_name_the_lead() -> None:
    assert match_score(Audience(), CFO_MQL) == 0  # for anyone
    assert match_score(Audience(stages=("mql",)), CFO_MQL) == 1
    assert match_score(Audience(stages=("mql", "sql"), personas=("cfo",)), CFO_MQL) == 2  # case-insensitive
    assert match_score(Audience(("MQL",), (" CFO ",), ("retail",), ("51-200",)), CFO_MQL) == 4
    assert match_score(Audience(stages=("sql",)), CFO_MQL) is None  # wrong stage
    assert match_score(Audience(personas=("CTO",)), CFO_MQL) is None
    unknown = LeadProfile(stage="mql")  # no persona known
    assert match_score(Audience(personas=("CFO",)), unknown) is None
    assert match_score(Audience(stages=("mql",)), unknown) == 1


def test_content_for_lead_keeps_only_assets_for_the_lead() -> None:
    frame = assets(
        {"asset_id": 1},  # anyone
        {"asset_id": 2, "stages": ["sql"]},  # another stage
        {"asset_id": 3, "personas": ["cfo", "CEO"]},
        {"asset_id": 4, "industries": ["Healthcare"]},  # another industry
        {"asset_id": 5, "stages": ["MQL"], "company_sizes": ["51-200"]},
    )
    found = content_for_lead(frame, CFO_MQL)
    assert found["asset_id"].to_list() == [5, 3, 1]
    assert found["match_score"].to_list() == [2, 1, 0]
    assert found.columns == [*frame.columns, "match_score"]


def test_ties_on_lists_go_to_the_better_helped_then_the_newest() -> None:
    frame = assets(
        {"asset_id": 1, "personas": ["CFO"], "helped_share": 0.5, "updated_at": datetime(2026, 1, 1)},
        {"asset_id": 2, "personas": ["CFO"], "helped_share": None, "updated_at": datetime(2026, 12, 1)},
        {"asset_id": 3, "personas": ["CFO"], "helped_share": 0.9, "updated_at": datetime(2025, 1, 1)},
        {"asset_id": 4, "personas": ["CFO"], "helped_share": 0.5, "updated_at": datetime(2026, 6, 1)},
        {"asset_id": 5, "helped_share": 1.0},  # for anyone: after every specific one however well it helped
    )
    assert content_for_lead(frame, CFO_MQL)["asset_id"].to_list() == [3, 4, 1, 2, 5]


def test_the_limit_and_frames_without_rows() -> None:
    frame = assets(*({"asset_id": i, "updated_at": datetime(2026, 1, i)} for i in range(1, 9)))
    assert content_for_lead(frame, CFO_MQL, limit=3)["asset_id"].to_list() == [8, 7, 6]
    empty = content_for_lead(frame.head(0), CFO_MQL)
    assert empty.is_empty() and "match_score" in empty.columns
    nothing_fits = content_for_lead(assets({"asset_id": 1, "stages": ["opportunity"]}), CFO_MQL)
    assert nothing_fits.is_empty()


def test_lists_that_came_untyped_from_the_database_still_match() -> None:
    """Every audience list empty: polars types the column List(Null), which must not break the match."""
    frame = pl.DataFrame({"asset_id": [1], "title": ["a"], "kind": ["deck"], "stages": [[]], "personas": [[]],
                          "industries": [[]], "company_sizes": [[]], "helped_share": [None],
                          "updated_at": [T]})  # fmt: skip
    assert content_for_lead(frame, LeadProfile(stage=None))["asset_id"].to_list() == [1]
