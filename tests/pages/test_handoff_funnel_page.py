"""The Funnel's *Back to marketing* section as a marketer (and an executive) read it: the leads sales
recycled or rejected in the period, with the reason, who answered and when, the counts, and the empty
state before any answer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from db import clock
from db.engine import make_engine, write_session
from db.handoff import answer_handoff
from db.models import HandoffAnswer, Lead, User
from tests.pages.conftest import logged_in_app


def _funnel(username: str, **params: str) -> AppTest:
    """The Funnel on *This month*, which holds today's answers on any day (in a month's first six days the
    page opens on last month)."""
    params = {"period": "this_month", **params}
    at = logged_in_app(username).run()
    at.switch_page("screens/funnel.py")
    at.query_params.update(params)
    return at.run()


def _section(at: AppTest) -> None:
    """The section is there, after the leads behind the numbers."""
    headers = [h.value for h in at.main.subheader]
    assert headers[-2:] == ["The leads behind the numbers", "Back to marketing"], headers


def _answer_two(engine: Engine) -> tuple[int, int, str]:
    """The demo rep recycles one of their MQLs; the manager rejects another rep's. Their ids, the rep's name."""
    with write_session(engine) as session:
        rep = session.exec(select(User).where(User.username == "rep")).one()
        boss = session.exec(select(User).where(User.username == "manager")).one()
        mine = session.exec(
            select(Lead.id).where(Lead.owner_id == rep.id, col(Lead.mql_at).is_not(None))
        ).first()
        team = select(User.id).where(User.team_id == boss.team_id, User.id != rep.id)
        theirs = session.exec(
            select(Lead.id).where(col(Lead.owner_id).in_(team), col(Lead.mql_at).is_not(None))
        ).first()
        assert mine is not None and theirs is not None
        now = clock.now()
        answer_handoff(
            session=session,
            actor=rep,
            lead_id=mine,
            answer=HandoffAnswer.recycle,
            reason="No budget yet",
            come_back_on=now.date() + timedelta(days=30),
            now=now,
        )
        answer_handoff(session=session, actor=boss, lead_id=theirs, answer=HandoffAnswer.reject,
                       reason="=HYPERLINK(\"x\") <b>competitor</b>", come_back_on=None, now=now)  # fmt: skip
        return mine, theirs, rep.name


def test_before_any_answer_the_section_says_nothing_came_back(unanswered_app_env: str) -> None:
    at = _funnel("marketer")
    assert not at.exception, at.exception
    _section(at)
    assert any(i.value.startswith("Sales sent no lead back to marketing in ") for i in at.info)


def test_a_marketer_sees_the_recycled_and_rejected_leads_with_their_reasons(unanswered_app_env: str) -> None:
    engine = make_engine(unanswered_app_env)
    recycled, rejected, rep_name = _answer_two(engine)
    at = _funnel("marketer")
    assert not at.exception, at.exception
    _section(at)
    assert any(
        m.value.startswith(
            "**1 recycled** (1 waiting for their date, 0 due back) and **1 rejected** by sales in "
        )
        and m.value.endswith("Of the 1 lead ever recycled, 0 came back as MQLs and 0 of those were won.")
        for m in at.markdown
    ), [m.value for m in at.markdown]
    table = at.dataframe[-1].value
    assert list(table.columns) == [
        "lead",
        "answer",
        "reason",
        "back to sales on",
        "answered by",
        "answered on",
    ]
    rows = {int(r["lead"]): r for r in table.to_dict("records")}
    assert set(rows) == {recycled, rejected}
    assert (rows[recycled]["answer"], rows[recycled]["reason"], rows[recycled]["answered by"]) == (
        "recycled, waiting", "No budget yet", rep_name)  # fmt: skip
    assert rows[rejected]["answer"] == "rejected"
    assert rows[rejected]["reason"] == '=HYPERLINK("x") <b>competitor</b>', "kept as text, shown as text"


def test_an_executive_sees_the_section_too_and_a_team_filter_narrows_it(unanswered_app_env: str) -> None:
    engine = make_engine(unanswered_app_env)
    _answer_two(engine)
    at = _funnel("exec")
    assert not at.exception, at.exception
    _section(at)
    assert at.dataframe[-1].value.shape[0] == 2
    teams = at.sidebar.selectbox(key="filter_team").options
    other = next(o for o in teams if o not in ("All", "SMB"))  # the demo rep and manager are SMB's
    at.sidebar.selectbox(key="filter_team").set_value(other).run()
    assert not at.exception, at.exception
    assert any(i.value.startswith("Sales sent no lead back to marketing in ") for i in at.info)
