"""The demo company's sales content: a library of about 40 assets of every kind for the demo's audiences,
uses by the deals' owners before the close, the planted effect that core.content.influence must find,
the stale asset rated out of date, requests with votes and answers; same seed and day, same content."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import polars as pl
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.content import helped_by_asset, influence, stale_assets
from db.content_frames import ContentFrames, content_frames
from db.demo import INDUSTRIES, PERSONAS, SIZES, seed_demo
from db.demo_content import (
    CONTENT_LINK,
    HELPFUL_ASSETS,
    HELPFUL_SEGMENT,
    NEVER_USED,
    NEW_ASSET,
    REPLACED_ASSET,
    STALE_ASSET,
    last_complete_monday,
    make_content,
    tiny_pdf,
)
from db.models import ContentKind

TODAY = date(2026, 11, 23)
LEADS = 20_000  # enough deals in the helpful segment for the effect to stand out of the noise
STAGES = {"lead", "mql", "sql", "opportunity"}


@pytest.fixture
def demo(db_engine: Engine) -> Engine:
    seed_demo(db_engine, leads=LEADS, seed=7, today=TODAY)
    return db_engine


def _ids(frames: ContentFrames, titles: tuple[str, ...] | list[str]) -> list[int]:
    found = frames.assets.filter(pl.col("title").is_in(list(titles)))
    assert found.height == len(titles), f"missing from the demo: {set(titles) - set(found['title'])}"
    return found.get_column("asset_id").to_list()


def _users(engine: Engine) -> dict[int, tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, username, role FROM users")).all()
    return {int(i): (str(name), str(role)) for i, name, role in rows}


def test_a_library_of_about_forty_assets_for_the_demos_audiences(demo: Engine) -> None:
    frames = content_frames(demo)
    assets = frames.assets
    assert 35 <= assets.height <= 45
    assert set(assets["kind"]) == {kind.value for kind in ContentKind}
    allowed = {
        "stages": STAGES,
        "personas": set(PERSONAS),
        "industries": set(INDUSTRIES),
        "company_sizes": set(SIZES),
    }
    for column, values in allowed.items():
        used = set(assets[column].explode().drop_nulls())
        assert used and used <= values, column
    assert (assets["company_sizes"].list.len() == 0).any(), "some assets are for any company size"
    users = _users(demo)
    assert {users[o][1] for o in assets["owner_id"]} == {"marketer"}
    assert len(set(assets["owner_id"])) == 2, "both demo marketers own content"
    first = datetime.combine(TODAY - timedelta(days=400), time())
    assert assets["created_at"].min() >= first  # type: ignore[operator]
    assert (assets["created_at"].max() - assets["created_at"].min()).days > 300  # type: ignore[operator,union-attr]
    # Reviews: most recent, a few more than 180 days ago (the stale asset among them).
    live = assets.filter(pl.col("archived_at").is_null())
    overdue = stale_assets(assets, frames.ratings, today=TODAY).filter(pl.col("past_review"))
    assert STALE_ASSET in set(overdue["title"]) and 2 <= overdue.height <= 6 < live.height
    assert assets.filter(pl.col("archived_at").is_not_null()).height == 1

    with demo.connect() as connection:
        versions = connection.execute(
            text(
                "SELECT asset_id, version, link, filename, media_type, size_bytes, data FROM content_versions"
            )
        ).all()
    links = [v.link for v in versions if v.link is not None]
    files = [v for v in versions if v.filename is not None]
    assert all(link.startswith(CONTENT_LINK) for link in links) and len(links) > 30
    assert 3 <= len({v.asset_id for v in files}) <= 8, "a handful of assets hold a real file"
    for v in files:
        data = bytes(v.data)
        assert v.media_type == "application/pdf" and v.filename.endswith(".pdf")
        assert v.size_bytes == len(data) and data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    newest = {row[0]: row[1] for row in assets.select("asset_id", "current_version").iter_rows()}
    per_asset = pl.DataFrame(
        [(v.asset_id, v.version) for v in versions], schema=["asset_id", "version"], orient="row"
    )
    counted = dict(per_asset.group_by("asset_id").agg(pl.col("version").max()).iter_rows())
    assert counted == newest, "current_version is each asset's newest version"


def test_uses_and_ratings_are_the_deals_owners_before_the_close(demo: Engine) -> None:
    frames = content_frames(demo)
    uses = frames.uses.join(frames.opportunities, on="lead_id", how="left")
    assert uses.height > 1000
    assert uses["opportunity_at"].null_count() == 0, "content is used on deals"
    assert (uses["user_id"] == uses["owner_id"]).all(), "by the deal's owner"
    assert (uses["used_at"] >= uses["opportunity_at"]).all()
    closed = uses.filter(pl.col("closed_at").is_not_null())
    assert (closed["used_at"] <= closed["closed_at"]).all(), "before the close"
    assert uses["used_at"].max() <= datetime.combine(TODAY, time(9))  # type: ignore[operator]
    born = uses.join(frames.assets.select("asset_id", "created_at", "archived_at"), on="asset_id")
    assert (born["used_at"] >= born["created_at"]).all(), "an asset is used only once it exists"
    archived = born.filter(pl.col("archived_at").is_not_null())
    assert archived.height and (archived["used_at"] < archived["archived_at"]).all()
    assert frames.uses.select("asset_id", "lead_id", "user_id").is_unique().all()
    unused = frames.assets.filter(~pl.col("asset_id").is_in(frames.uses["asset_id"].implode()))
    assert set(NEVER_USED) <= set(unused["title"]) and unused.height < frames.assets.height / 3

    ratings = frames.ratings
    share = ratings.height / frames.uses.height
    assert 0.3 < share < 0.6, "a share of the uses is rated"
    assert ratings.join(frames.uses, left_on=["asset_id", "lead_id", "rater_id"],
                        right_on=["asset_id", "lead_id", "user_id"], how="anti").is_empty()  # fmt: skip
    assert ratings["stars"].is_between(1, 5).all()
    with demo.connect() as connection:
        history = connection.execute(text("SELECT count(*) FROM content_rating_history")).scalar_one()
    assert history == ratings.height, "each rating has its history row"


def test_the_planted_effect_is_found_by_the_influence_measure(demo: Engine) -> None:
    frames = content_frames(demo)
    helpful = set(_ids(frames, HELPFUL_ASSETS))
    segment = frames.opportunities
    for column, value in HELPFUL_SEGMENT.items():
        segment = segment.filter(pl.col(column) == value)
    found = influence(segment, frames.uses)
    judged = found.filter(pl.col("used_n") >= 30)
    assert set(judged.head(2)["asset_id"]) == helpful, judged
    for row in judged.filter(pl.col("asset_id").is_in(list(helpful))).iter_rows(named=True):
        assert row["difference"] > 0.25
        assert row["used_low"] > row["comparison_high"], "not noise: the intervals do not overlap"
    # Over every deal too, the helpful assets lead the assets with enough deals on both sides.
    overall = influence(frames.opportunities, frames.uses).filter(~pl.col("small_sample"))
    assert set(overall.head(2)["asset_id"]) == helpful, overall
    assert overall.filter(~pl.col("asset_id").is_in(list(helpful)))["difference"].max() < 0.2  # type: ignore[operator]
    # Reps say so too: the helpful assets are rated helped (4-5) more often than the library as a whole.
    helped = helped_by_asset(frames.ratings)
    overall_share = (frames.ratings["stars"] >= 4).mean()
    for share in helped.filter(pl.col("asset_id").is_in(list(helpful)))["share"]:
        assert share > overall_share + 0.15  # type: ignore[operator]


def test_the_stale_asset_is_rated_out_of_date_and_the_requests_wait_with_votes(demo: Engine) -> None:
    frames = content_frames(demo)
    (stale,) = _ids(frames, (STALE_ASSET,))
    helped = helped_by_asset(frames.ratings)
    assert helped.filter(~pl.col("small_sample")).row(0, named=True)["asset_id"] == stale, "rated lowest"
    flagged = stale_assets(frames.assets, frames.ratings, today=TODAY)
    top = flagged.row(0, named=True)
    assert top["asset_id"] == stale and top["past_review"]
    mine = frames.ratings.filter(pl.col("asset_id") == stale)
    out_of_date = mine["reasons"].list.contains("out_of_date")
    assert mine.height >= 30 and out_of_date.mean() > 0.7  # type: ignore[operator]
    assert (mine["stars"] <= 3).all()

    requests = frames.requests
    waiting = requests.filter(pl.col("status").is_in(["open", "accepted", "in_progress"]))
    assert 7 <= waiting.height <= 9 and (waiting["votes"] > 0).sum() >= 6
    with demo.connect() as connection:
        answered = connection.execute(
            text(
                "SELECT r.status, r.answer_reason, a.title, r.answered_at FROM content_requests r "
                "LEFT JOIN content_assets a ON a.id = r.answer_asset_id WHERE r.status IN ('done', 'declined')"
            )
        ).all()
        self_votes = connection.execute(
            text(
                "SELECT count(*) FROM content_request_votes v JOIN content_requests r ON r.id = v.request_id "
                "WHERE v.user_id = r.requested_by_id"
            )
        ).scalar_one()
    by_status = {row.status: row for row in answered}
    assert set(by_status) == {"done", "declined"}
    assert by_status["done"].title == NEW_ASSET and by_status["done"].answered_at is not None
    assert by_status["declined"].answer_reason and by_status["declined"].title is None
    assert self_votes == 0, "a requester does not vote for their own ask"


def test_the_last_complete_week_has_a_new_and_a_replaced_asset() -> None:
    monday = last_complete_monday(TODAY)
    assert monday == date(2026, 11, 16) and monday.weekday() == 0
    content = make_content(_leads(), _people(), TODAY, seed=7, history_days=400)
    week = content.assets.filter(
        pl.col("created_at").dt.date().is_between(monday, monday + timedelta(days=6))
    )
    assert week["title"].to_list() == [NEW_ASSET]
    replaced = content.versions.filter(
        (pl.col("version") > 1)
        & pl.col("created_at").dt.date().is_between(monday, monday + timedelta(days=6))
    )
    ids = content.assets.filter(pl.col("title") == REPLACED_ASSET)["id"].to_list()
    assert replaced["asset_id"].to_list() == ids


def test_same_seed_and_day_same_content_another_seed_other_uses() -> None:
    leads, people = _leads(), _people()
    first = make_content(leads, people, TODAY, seed=7, history_days=400)
    again = make_content(leads, people, TODAY, seed=7, history_days=400)
    other = make_content(leads, people, TODAY, seed=8, history_days=400)
    for name in ("assets", "versions", "uses", "ratings", "requests", "votes"):
        assert getattr(first, name).equals(getattr(again, name)), name
    assert first.uses.height > 0 and not first.uses.equals(other.uses)
    assert first.assets["title"].equals(other.assets["title"]), "the catalogue is the same, the draws differ"


def test_the_tiny_pdf_is_a_valid_pdf_whose_cross_references_point_at_its_objects() -> None:
    data = tiny_pdf("ROI (2026) \\ one-pager é")
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    start = int(re.findall(rb"startxref\n(\d+)", data)[-1])
    assert data[start:].startswith(b"xref\n0 6\n")
    offsets = [int(n) for n in re.findall(rb"(\d{10}) 00000 n ", data)]
    assert [data[o:].split(b"\n", 1)[0] for o in offsets] == [f"{k} 0 obj".encode() for k in range(1, 6)]
    length = int(re.search(rb"/Length (\d+)", data).group(1))  # type: ignore[union-attr]
    stream = data.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0]
    assert len(stream) == length and b"\\(2026\\) \\\\ one-pager ?" in stream


# ---------------------------------------------------------------- small hand-made leads for the pure tests


def _people() -> dict[str, int]:
    names = ("rep", "dan.wright", "mia.chen", "sam.okafor", "lucas.meyer", "priya.nair", "tom.baker",
             "ines.garcia", "noah.kim", "ava.rossi", "ethan.cole", "zoe.martin", "manager", "grace.lee",
             "omar.haddad", "marketer", "lena.fischer", "exec", "admin")  # fmt: skip
    return {name: index + 1 for index, name in enumerate(names)}


def _leads() -> pl.DataFrame:
    """300 deals over the last year, a third of them of the helpful segment's size, half won."""
    n = 300
    opened = [datetime(2025, 12, 1, 10) + timedelta(days=i) for i in range(n)]
    return pl.DataFrame(
        {
            "id": list(range(1, n + 1)),
            "opportunity_at": opened,
            "closed_at": [o + timedelta(days=30) if i % 4 else None for i, o in enumerate(opened)],
            "outcome": [("won" if i % 2 else "lost") if i % 4 else None for i in range(n)],
            "owner_id": [1 + i % 12 for i in range(n)],
            "industry": [INDUSTRIES[i % len(INDUSTRIES)] for i in range(n)],
            "company_size": [SIZES[i % 3 + 2] for i in range(n)],
            "persona": [PERSONAS[i % 4] for i in range(n)],
        },
        schema_overrides={"opportunity_at": pl.Datetime("us"), "closed_at": pl.Datetime("us")},
    )
