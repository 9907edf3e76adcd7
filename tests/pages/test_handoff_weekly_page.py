"""The weekly sync's *Handoff answers* section as the room sees it: the week's recycled and rejected leads
with their reasons, on the page and in presenter mode; a rep sees colleagues as "Another rep"; an empty
week says so."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from core.weekly import last_complete_week, week_period
from db import clock
from db.engine import make_engine, read_session, write_session
from db.handoff import answer_handoff
from db.models import HandoffAnswer, Lead, User
from tests.pages.conftest import logged_in_app


def _weekly(username: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/weekly_sync.py")
    at.query_params.update(params)
    return at.run()


def _answer_in_the_week(engine: Engine) -> str:
    """On the Tuesday of the week the page opens on, the demo rep recycles an MQL of theirs and the manager
    rejects one of another rep's. The rep's name."""
    monday = week_period(last_complete_week(clock.today())).start
    assert monday is not None
    now = datetime.combine(monday + timedelta(days=1), time(10), UTC)
    with write_session(engine) as session:
        rep = session.exec(select(User).where(User.username == "rep")).one()
        boss = session.exec(select(User).where(User.username == "manager")).one()
        team = select(User.id).where(User.team_id == boss.team_id, User.id != rep.id)
        mine, theirs = (
            session.exec(select(Lead.id).where(where, col(Lead.mql_at).is_not(None))).first()
            for where in (Lead.owner_id == rep.id, col(Lead.owner_id).in_(team))
        )
        assert mine is not None and theirs is not None
        answer_handoff(
            session=session,
            actor=rep,
            lead_id=mine,
            answer=HandoffAnswer.recycle,
            reason="Not the right time",
            come_back_on=now.date() + timedelta(days=30),
            now=now,
        )
        answer_handoff(session=session, actor=boss, lead_id=theirs, answer=HandoffAnswer.reject,
                       reason="Competitor", come_back_on=None, now=now)  # fmt: skip
        return rep.name


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_an_empty_week_says_nothing_was_sent_back(unanswered_app_env: str) -> None:
    at = _weekly("manager")
    assert not at.exception, at.exception
    assert "Handoff answers" in [h.value for h in at.header]
    assert "Sales recycled and rejected no lead this week." in [i.value for i in at.info]
    assert _metric(at, "Recycled to marketing") == "0"


def test_the_manager_sees_the_weeks_recycled_and_rejected_with_reasons(unanswered_app_env: str) -> None:
    rep_name = _answer_in_the_week(make_engine(unanswered_app_env))
    at = _weekly("manager")
    assert not at.exception, at.exception
    assert (_metric(at, "Recycled to marketing"), _metric(at, "Rejected")) == ("1", "1")
    said = [m.value for m in at.markdown if m.value.startswith("Sales recycled")]
    assert said == [
        r"Sales recycled 1 lead to marketing \(1 waiting for their date, 0 due back\) and rejected 1\."
    ]
    table = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    assert sorted(table["Reason"]) == ["Competitor", "Not the right time"]
    assert rep_name in set(table["Owner"])
    assert "#### How each team answered the week's MQLs" in [m.value for m in at.markdown]
    teams = next(d.value for d in at.dataframe if "Accepted" in d.value.columns)
    assert list(teams.columns) == ["Team", "MQLs", "Answered", "Accepted", "Recycled", "Rejected"]
    week = week_period(last_complete_week(clock.today()))
    assert week.start is not None and week.end is not None
    with read_session(make_engine(unanswered_app_env)) as session:
        mqls = session.exec(
            select(func.count()).where(
                col(Lead.mql_at) >= datetime.combine(week.start, time(), UTC),
                col(Lead.mql_at) < datetime.combine(week.end, time(), UTC),
            )
        ).one()
    assert teams["MQLs"].sum() == mqls, "each of the week's MQLs counted under its team"


def test_a_rep_sees_their_colleagues_as_another_rep(unanswered_app_env: str) -> None:
    rep_name = _answer_in_the_week(make_engine(unanswered_app_env))
    at = _weekly("rep")
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    rows = {r["Reason"]: (r["Owner"], r["Answered by"]) for r in table.to_dict("records")}
    assert rows == {"Not the right time": (rep_name, rep_name), "Competitor": ("Another rep", "Another rep")}


def test_presenter_mode_shows_the_handoff_answers_on_their_own_screen(unanswered_app_env: str) -> None:
    _answer_in_the_week(make_engine(unanswered_app_env))
    at = _weekly("manager", present="1", section="4")
    assert not at.exception, at.exception
    assert next(t.value for t in at.title).startswith("Handoff answers — Week ")
    assert not at.header
    assert _metric(at, "Rejected") == "1"
