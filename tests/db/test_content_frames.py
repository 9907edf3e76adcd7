"""The content loaders give core/content.py exactly its schemas, with naive UTC datetimes, on both
backends, and the content stamp moves with every write the frames would show."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
from sqlalchemy.engine import Engine
from sqlmodel import select

from core.content import (
    ASSETS_SCHEMA,
    OPPORTUNITIES_SCHEMA,
    RATINGS_SCHEMA,
    REQUESTS_SCHEMA,
    USES_SCHEMA,
    VERSIONS_SCHEMA,
    used_share,
)
from core.schema import PEOPLE_SCHEMA
from db.content_frames import content_frames, content_stamp
from db.engine import write_session
from db.models import (
    ContentAsset,
    ContentKind,
    ContentRating,
    ContentRatingHistory,
    ContentRequest,
    ContentRequestStatus,
    ContentRequestVote,
    ContentUse,
    ContentVersion,
    DataSource,
    Lead,
    Outcome,
    Role,
    Team,
    User,
)

BERLIN = timezone(timedelta(hours=1))


def _fill(engine: Engine) -> dict[str, int]:
    with write_session(engine) as session:
        session.add(DataSource(name="crm", label="CRM", stages=["created", "won"]))
        team = Team(name="SMB")
        session.add(team)
        session.flush()
        ann = User(username="ann", name="Ann", role=Role.rep, team_id=team.id)
        bob = User(username="bob", name="Bob", role=Role.rep, team_id=team.id)
        session.add_all([ann, bob])
        session.flush()
        won = Lead(source_system="crm", external_id="w", created_at=datetime(2026, 1, 1, tzinfo=UTC),
                   opportunity_at=datetime(2026, 2, 1, 10, tzinfo=BERLIN),
                   closed_at=datetime(2026, 3, 1, tzinfo=UTC), outcome=Outcome.won, amount=900.5,
                   industry="Retail", company_size=None, owner_id=ann.id, team_id=team.id)  # fmt: skip
        plain = Lead(source_system="crm", external_id="p", created_at=datetime(2026, 1, 2, tzinfo=UTC))
        session.add_all([won, plain])
        session.flush()
        deck = ContentAsset(title='The "big" <deck>', kind=ContentKind.deck, stages=["opportunity"],
                            personas=["CFO", "CTO"], owner_id=None, last_reviewed_on=date(2026, 1, 15),
                            created_at=datetime(2026, 1, 10, 9, 30, tzinfo=UTC),
                            updated_at=datetime(2026, 1, 10, 9, 30, tzinfo=UTC))  # fmt: skip
        old = ContentAsset(title="Old", kind=ContentKind.case_study, archived_at=datetime(2026, 2, 1, tzinfo=UTC),
                           created_at=datetime(2025, 1, 1, tzinfo=UTC), updated_at=datetime(2026, 2, 1, tzinfo=UTC))  # fmt: skip
        session.add_all([deck, old])
        session.flush()
        assert deck.id is not None and won.id is not None and ann.id is not None and bob.id is not None
        session.add(ContentVersion(asset_id=deck.id, version=1, link="https://example.com/deck",
                                   created_at=datetime(2026, 1, 10, tzinfo=UTC)))  # fmt: skip
        session.add(ContentUse(asset_id=deck.id, lead_id=won.id, user_id=ann.id,
                               used_at=datetime(2026, 2, 10, 12, tzinfo=BERLIN)))  # fmt: skip
        rating = ContentRating(asset_id=deck.id, lead_id=won.id, rater_id=ann.id, stars=2,
                               reasons=["out_of_date", "too_long"], created_at=datetime(2026, 2, 11, tzinfo=UTC),
                               updated_at=datetime(2026, 2, 11, tzinfo=UTC))  # fmt: skip
        request = ContentRequest(what="A battle card", requested_by_id=ann.id, persona="CFO",
                                 created_at=datetime(2026, 2, 12, tzinfo=UTC))  # fmt: skip
        done = ContentRequest(what="Done", requested_by_id=ann.id, status=ContentRequestStatus.done,
                              answer_asset_id=deck.id, answered_at=datetime(2026, 2, 14, tzinfo=UTC))  # fmt: skip
        session.add_all([rating, request, done])
        session.flush()
        assert request.id is not None
        session.add(ContentRequestVote(request_id=request.id, user_id=bob.id))
        return {"deck": deck.id, "won": won.id, "ann": ann.id, "bob": bob.id, "request": request.id}


def test_the_frames_hold_the_rows_with_core_schemas(db_engine: Engine) -> None:
    ids = _fill(db_engine)
    frames = content_frames(db_engine)
    assert frames.assets.schema == pl.Schema(ASSETS_SCHEMA)
    assert frames.versions.schema == pl.Schema(VERSIONS_SCHEMA)
    assert frames.uses.schema == pl.Schema(USES_SCHEMA)
    assert frames.ratings.schema == pl.Schema(RATINGS_SCHEMA)
    assert frames.requests.schema == pl.Schema(REQUESTS_SCHEMA)
    assert frames.people.schema == pl.Schema(PEOPLE_SCHEMA)
    assert frames.opportunities.schema == pl.Schema(OPPORTUNITIES_SCHEMA)

    deck, old = frames.assets.rows(named=True)
    assert (deck["title"], deck["kind"], deck["stages"], deck["personas"], deck["industries"]) == (
        'The "big" <deck>', "deck", ["opportunity"], ["CFO", "CTO"], [],
    )  # fmt: skip
    assert (deck["last_reviewed_on"], deck["created_at"]) == (date(2026, 1, 15), datetime(2026, 1, 10, 9, 30))
    assert old["archived_at"] == datetime(2026, 2, 1)
    assert frames.uses.rows() == [(ids["deck"], ids["won"], ids["ann"], datetime(2026, 2, 10, 11))]  # UTC
    assert frames.ratings.select("stars", "reasons").rows() == [(2, ["out_of_date", "too_long"])]
    requests = frames.requests.select("what", "status", "votes", "persona", "answered_at").rows()
    assert requests == [
        ("A battle card", "open", 1, "CFO", None),
        ("Done", "done", 0, None, datetime(2026, 2, 14)),
    ]
    # Only the lead with an opportunity, its times in naive UTC.
    assert frames.opportunities.rows() == [
        (ids["won"], datetime(2026, 2, 1, 9), datetime(2026, 3, 1), "won", 900.5, "Retail", None, ids["ann"],
         frames.people.filter(pl.col("username") == "ann")["team_id"][0]),
    ]  # fmt: skip
    # The frames feed core as they are: one live asset, used 2026-02-10, within 90 days of 2026-03-01.
    share = used_share(frames.assets, frames.uses, today=date(2026, 3, 1))
    assert (share.num, share.den) == (1, 1)


def test_an_empty_library_loads_empty_frames(db_engine: Engine) -> None:
    frames = content_frames(db_engine)
    assert frames.assets.is_empty() and frames.uses.is_empty() and frames.opportunities.is_empty()
    assert frames.assets.schema == pl.Schema(ASSETS_SCHEMA)


def test_the_stamp_moves_with_each_content_write(db_engine: Engine) -> None:
    ids = _fill(db_engine)
    seen = {content_stamp(db_engine)}

    def changed() -> bool:
        stamp = content_stamp(db_engine)
        new = stamp not in seen
        seen.add(stamp)
        return new

    assert not changed()  # asking again without a write gives the same stamp
    with write_session(db_engine) as session:
        session.add(ContentUse(asset_id=ids["deck"], lead_id=ids["won"], user_id=ids["bob"]))
    assert changed()
    with write_session(db_engine) as session:
        rating = session.get(ContentRating, 1)
        assert rating is not None and rating.id is not None
        session.add(ContentRatingHistory(rating_id=rating.id, stars=rating.stars, reasons=rating.reasons,
                                         changed_by_id=ids["ann"]))  # fmt: skip
        rating.stars = 5
    assert changed()
    with write_session(db_engine) as session:
        vote = session.exec(select(ContentRequestVote)).one()
        session.delete(vote)
    assert changed()
    with write_session(db_engine) as session:
        deck = session.get(ContentAsset, ids["deck"])
        assert deck is not None
        deck.updated_at = datetime(2026, 3, 5, tzinfo=UTC)
    assert changed()
