"""The demo company's handoff answers: given at the first rating, by the first rater, following the stars."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import Engine
from sqlmodel import col, func, select

from db import clock
from db.demo import make_answers, seed_demo
from db.engine import read_session
from db.models import HandoffAnswer, Lead, LeadHandoff, LeadRating

AT = datetime(2026, 11, 2, 9, 0)


def _ratings() -> pl.DataFrame:
    # Lead 2 is rated twice: its answer is its first rater's (7), at the first rating.
    return pl.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "lead_id": [1, 2, 2, 3],
            "rater_id": [7, 7, 8, 9],
            "stars": [5, 3, 5, 1],
            "created_at": [AT, AT + timedelta(hours=1), AT + timedelta(hours=2), AT + timedelta(hours=3)],
        }
    )


def test_the_stars_decide_the_answer_given_by_the_first_rater_at_the_first_rating(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("db.demo.ANSWERED_SHARE", 1.0)
    answers = make_answers(_ratings(), seed=7).sort("lead_id")
    assert answers.select("lead_id", "rep_id", "answer", "answered_at", "first_answered_at").rows() == [
        (1, 7, "accept", AT, AT),
        (2, 7, "recycle", AT + timedelta(hours=1), AT + timedelta(hours=1)),
        (3, 9, "reject", AT + timedelta(hours=3), AT + timedelta(hours=3)),
    ]
    accept, recycle, reject = answers.iter_rows(named=True)
    assert accept["reason"] is None and accept["come_back_on"] is None
    assert recycle["reason"] and date(2026, 12, 2) <= recycle["come_back_on"] <= date(2027, 1, 31)
    assert reject["reason"] and reject["come_back_on"] is None
    assert answers["id"].to_list() == [1, 2, 3]


def test_the_same_seed_gives_the_same_answers_and_not_every_rated_lead_is_answered() -> None:
    many = pl.concat(
        [_ratings().with_columns(pl.col("lead_id") + 10 * i, pl.col("id") + 10 * i) for i in range(50)]
    )
    first, again = make_answers(many, seed=7), make_answers(many, seed=7)
    assert first.equals(again)
    assert 0 < first.height < many["lead_id"].n_unique()


def test_the_seeded_demo_holds_answers_on_rated_mqls_given_when_first_rated(db_engine: Engine) -> None:
    seed_demo(db_engine, leads=2000, seed=7, today=clock.today())
    with read_session(db_engine) as session:
        answers = session.exec(select(LeadHandoff)).all()
        assert {a.answer for a in answers} == set(HandoffAnswer)
        first_rated = dict(
            session.exec(
                select(LeadRating.lead_id, func.min(LeadRating.created_at)).group_by(col(LeadRating.lead_id))
            ).all()
        )
        mql_at = dict(session.exec(select(Lead.id, Lead.mql_at)).all())
    assert all(a.answered_at == first_rated[a.lead_id] for a in answers), "speed to lead does not move"
    assert all(mql_at[a.lead_id] is not None for a in answers), "only MQLs are handed off"
