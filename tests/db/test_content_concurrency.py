"""Many clicks at once (db/content.py), on SQLite and PostgreSQL: twenty threads, each with its own engine
and session, released together by a barrier, clicking "rate" and "log use" for the same asset, lead and
rep leave exactly one use and one rating; twenty votes at once leave one vote per person."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from db.content import AssetIn, add_asset, log_use, rate_asset, request_content, vote_request
from db.engine import make_engine, read_session, write_session
from db.models import (
    AuditLog,
    ContentKind,
    ContentRating,
    ContentRatingHistory,
    ContentRequestVote,
    ContentUse,
    DataSource,
    Lead,
    Role,
    Team,
    User,
)

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
THREADS = 20


def _setup(engine: Engine, reps: int = 1) -> dict[str, int]:
    """A team with `reps` reps (rep0 owns the lead), a marketer, one asset and one request by rep0."""
    with write_session(engine) as session:
        team = Team(name="East")
        session.add_all([team, DataSource(name="crm", label="CRM", stages=["created", "mql"])])
        session.flush()
        people = [
            User(username=f"rep{i}", name=f"Rep {i}", role=Role.rep, team_id=team.id) for i in range(reps)
        ]
        marketer = User(username="mark", name="Mark", role=Role.marketer)
        session.add_all([*people, marketer])
        session.flush()
        lead = Lead(source_system="crm", external_id="L-1", created_at=NOW, mql_at=NOW, owner_id=people[0].id,
                    team_id=team.id)  # fmt: skip
        session.add(lead)
        session.flush()
        asset = add_asset(session=session, actor=marketer, asset=AssetIn(title="Deck", kind=ContentKind.deck),
                          link="https://example.com/deck", file=None, now=NOW)  # fmt: skip
        request = request_content(session=session, actor=people[0], what="A battle card", detail=None, kind=None,
                                  persona=None, stage=None, industry=None, lead_id=None, now=NOW)  # fmt: skip
        return {"lead": int(lead.id or 0), "asset": int(asset.id or 0), "request": int(request.id or 0),
                **{f"rep{i}": int(p.id or 0) for i, p in enumerate(people)}}  # fmt: skip


def _all_at_once(
    engine: Engine, clicks: list[Callable[..., Any]], user_ids: list[int]
) -> list[BaseException]:
    """Run each click in its own thread with its own engine and session, all released together; the
    errors raised (none expected)."""
    url = engine.url.render_as_string(hide_password=False)
    barrier = Barrier(len(clicks))

    def click(index: int) -> BaseException | None:
        own = make_engine(url)
        try:
            with read_session(own) as session:
                actor = session.get(User, user_ids[index])
                assert actor is not None
                session.expunge(actor)
            barrier.wait(timeout=30)
            with write_session(own) as session:
                clicks[index](session=session, actor=actor, now=NOW + timedelta(seconds=index))
            return None
        except BaseException as error:  # reported to the test, not lost in the thread
            return error
        finally:
            own.dispose()

    with ThreadPoolExecutor(max_workers=len(clicks)) as pool:
        return [e for e in pool.map(click, range(len(clicks))) if e is not None]


def _count(engine: Engine, model: Any) -> int:
    with read_session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _actions(engine: Engine) -> list[str]:
    with read_session(engine) as session:
        return list(session.exec(select(AuditLog.action).where(AuditLog.outcome == "ok")).all())


def test_twenty_clicks_on_rate_and_log_use_at_once_leave_one_use_and_one_rating(db_engine: Engine) -> None:
    ids = _setup(db_engine)
    target: dict[str, Any] = {"asset_id": ids["asset"], "lead_id": ids["lead"]}

    def rate(**given: Any) -> None:
        rate_asset(**given, **target, stars=4, reasons=("won_trust",), note="Helped")

    def use(**given: Any) -> None:
        log_use(**given, **target)

    clicks: list[Callable[..., Any]] = [rate if i % 2 == 0 else use for i in range(THREADS)]
    errors = _all_at_once(db_engine, clicks, [ids["rep0"]] * THREADS)
    assert errors == []
    assert _count(db_engine, ContentUse) == 1
    assert _count(db_engine, ContentRating) == 1
    assert _count(db_engine, ContentRatingHistory) == 0  # the same rating each time: nothing changed
    actions = _actions(db_engine)
    assert (actions.count("content.use"), actions.count("content.rate")) == (1, 1)
    with read_session(db_engine) as session:
        rating = session.exec(select(ContentRating)).one()
        assert (rating.rater_id, rating.stars, rating.reasons, rating.note) == (
            ids["rep0"],
            4,
            ["won_trust"],
            "Helped",
        )


def test_twenty_different_ratings_at_once_leave_one_current_rating_and_the_rest_in_history(
    db_engine: Engine,
) -> None:
    ids = _setup(db_engine)

    def rating(stars: int) -> Callable[..., Any]:
        def rate(**given: Any) -> None:
            rate_asset(
                **given, asset_id=ids["asset"], lead_id=ids["lead"], stars=stars, reasons=(), note=None
            )

        return rate

    clicks = [rating(1 + i % 5) for i in range(THREADS)]
    assert _all_at_once(db_engine, clicks, [ids["rep0"]] * THREADS) == []
    assert (_count(db_engine, ContentUse), _count(db_engine, ContentRating)) == (1, 1)
    # Each write that changed the stars moved the ones it replaced into the history: one more rate entry
    # in the audit log than history rows.
    assert _actions(db_engine).count("content.rate") == _count(db_engine, ContentRatingHistory) + 1


def test_twenty_votes_at_once_leave_one_vote_per_person(db_engine: Engine) -> None:
    ids = _setup(db_engine, reps=6)
    voters = [ids[f"rep{1 + i % 5}"] for i in range(THREADS)]  # five people, four clicks each

    def vote(**given: Any) -> None:
        vote_request(**given, request_id=ids["request"])

    assert _all_at_once(db_engine, [vote] * THREADS, voters) == []
    assert _count(db_engine, ContentRequestVote) == 5
    assert _actions(db_engine).count("content.vote") == 5
