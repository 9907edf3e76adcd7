"""Answering a handoff through the service, on SQLite and PostgreSQL: own leads only, a manager's team,
reasons and dates required, history with who and when, the same answer twice, two answers at once, and
the answers read back as the frame core.handoff and speed to lead use."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from threading import Barrier

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from core.periods import Period
from core.sla import Agreements, Terms, follow_ups
from db.access import OPERATOR, AccessDenied
from db.engine import read_session, write_session
from db.feedback import load_rating_rows
from db.frames import load_answers, load_leads
from db.handoff import HandoffRefused, answer_handoff, lead_handoff
from db.models import (
    AuditLog,
    DataSource,
    HandoffAnswer,
    Lead,
    LeadHandoff,
    LeadHandoffHistory,
    Role,
    Team,
    User,
)

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)  # a Monday
LATER = date(2026, 12, 23)


def _company(engine: Engine) -> dict[str, int]:
    """Team East: reps rep0 (owning the MQL "mql" and the lead "not_mql") and rep1, manager boss; team
    West's manager other_boss; a marketer. Returns the ids by name."""
    with write_session(engine) as session:
        east, west = Team(name="East"), Team(name="West")
        session.add_all([east, west, DataSource(name="crm", label="CRM", stages=["created", "mql"])])
        session.flush()
        people = {
            "rep0": User(username="rep0", name="Rep Zero", role=Role.rep, team_id=east.id),
            "rep1": User(username="rep1", name="Rep One", role=Role.rep, team_id=east.id),
            "boss": User(username="boss", name="Boss", role=Role.sales_manager, team_id=east.id),
            "other_boss": User(username="other-boss", name="Other", role=Role.sales_manager, team_id=west.id),
            "marketer": User(username="mark", name="Mark", role=Role.marketer),
        }
        session.add_all(people.values())
        session.flush()
        owner = people["rep0"].id
        leads = {
            "mql": Lead(source_system="crm", external_id="M-1", created_at=NOW, mql_at=NOW - timedelta(hours=2),
                        owner_id=owner, team_id=east.id),
            "not_mql": Lead(source_system="crm", external_id="L-2", created_at=NOW, owner_id=owner, team_id=east.id),
        }  # fmt: skip
        session.add_all(leads.values())
        session.flush()
        return {name: int(row.id or 0) for name, row in (people | leads).items()}


def _user(engine: Engine, user_id: int) -> User:
    with read_session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


def _answer(
    engine: Engine,
    user_id: int,
    lead_id: int,
    answer: HandoffAnswer,
    reason: str | None = None,
    come_back_on: date | None = None,
    now: datetime = NOW,
) -> None:
    with write_session(engine) as session:
        answer_handoff(session=session, actor=_user(engine, user_id), lead_id=lead_id, answer=answer,
                       reason=reason, come_back_on=come_back_on, now=now)  # fmt: skip


def _counts(engine: Engine) -> tuple[int, int]:
    with read_session(engine) as session:
        current = session.exec(select(func.count()).select_from(LeadHandoff)).one()
        history = session.exec(select(func.count()).select_from(LeadHandoffHistory)).one()
        return int(current), int(history)


def _audited(engine: Engine) -> list[tuple[str, str | None, str, str | None]]:
    with read_session(engine) as session:
        rows = session.exec(select(AuditLog).order_by(AuditLog.id)).all()  # type: ignore[arg-type]
        return [(r.action, r.actor_username, r.outcome, r.detail) for r in rows]


def test_a_rep_accepts_then_recycles_with_history_and_the_first_answer_kept(db_engine: Engine) -> None:
    ids = _company(db_engine)
    rep, lead = ids["rep0"], ids["mql"]
    _answer(db_engine, rep, lead, HandoffAnswer.accept, reason="  ignored for an accept ")
    _answer(db_engine, rep, lead, HandoffAnswer.accept)  # a double click: nothing new
    assert _counts(db_engine) == (1, 0)
    _answer(
        db_engine,
        ids["boss"],
        lead,
        HandoffAnswer.recycle,
        " No budget yet ",
        LATER,
        now=NOW + timedelta(days=1),
    )
    assert _counts(db_engine) == (1, 1)
    handoff = lead_handoff(db_engine, lead_id=lead)
    assert handoff is not None
    current = handoff.current
    assert (current.answer, current.reason, current.come_back_on, current.answered_by) == (
        HandoffAnswer.recycle, "No budget yet", LATER, "Boss")  # fmt: skip
    assert current.answered_at == NOW + timedelta(days=1)
    assert handoff.first_answered_at == NOW
    assert [(e.answer, e.reason, e.answered_by, e.answered_at) for e in handoff.earlier] == [
        (HandoffAnswer.accept, None, "Rep Zero", NOW)
    ]
    assert _audited(db_engine) == [
        ("handoff.answer", "rep0", "ok", "answer=accept"),
        ("handoff.answer", "boss", "ok", "answer=recycle"),
    ]
    assert lead_handoff(db_engine, lead_id=ids["not_mql"]) is None


def test_the_answers_frame_holds_current_and_earlier_answers(db_engine: Engine) -> None:
    ids = _company(db_engine)
    rep, lead = ids["rep0"], ids["mql"]
    _answer(db_engine, rep, lead, HandoffAnswer.reject, "Competitor")
    _answer(
        db_engine, rep, lead, HandoffAnswer.recycle, "Not the right time", LATER, now=NOW + timedelta(hours=3)
    )
    frame = load_answers(db_engine).sort("answered_at")
    naive = NOW.replace(tzinfo=None)
    assert frame.rows() == [
        (lead, rep, "reject", "Competitor", None, naive, None, False),
        (lead, rep, "recycle", "Not the right time", LATER, naive + timedelta(hours=3), naive, True),
    ]


def test_no_answers_is_an_empty_frame(db_engine: Engine) -> None:
    _company(db_engine)
    frame = load_answers(db_engine)
    assert frame.height == 0
    assert frame.columns[0] == "lead_id"


@pytest.mark.parametrize(("who", "allowed"), [("rep0", True), ("rep1", False), ("boss", True),
                                              ("other_boss", False), ("marketer", False)])  # fmt: skip
def test_who_may_answer_a_reps_mql(db_engine: Engine, who: str, allowed: bool) -> None:
    ids = _company(db_engine)
    if allowed:
        _answer(db_engine, ids[who], ids["mql"], HandoffAnswer.accept)
        assert _counts(db_engine) == (1, 0)
        return
    with pytest.raises(AccessDenied) as refused:
        _answer(db_engine, ids[who], ids["mql"], HandoffAnswer.accept)
    assert _counts(db_engine) == (0, 0)
    if who != "marketer":  # a role that answers handoffs, on a lead that is not theirs: told so
        assert str(refused.value).startswith("This lead is not yours to answer")
    else:
        assert str(refused.value) == "Your role (marketer) may not answer an MQL's handoff."
    with read_session(db_engine) as session:
        denied = session.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        assert [(d.action, d.object_id, d.actor_id) for d in denied] == [
            ("handoff.answer", str(ids["mql"]), ids[who])
        ]


@pytest.mark.parametrize(
    ("answer", "reason", "come_back_on", "problem"),
    [
        (HandoffAnswer.recycle, None, LATER, "Give a reason"),
        (HandoffAnswer.recycle, "   ", LATER, "Give a reason"),
        (HandoffAnswer.recycle, "Later", None, "Pick the date"),
        (HandoffAnswer.recycle, "Later", NOW.date(), "after today"),
        (HandoffAnswer.recycle, "Later", NOW.date() - timedelta(days=1), "after today"),
        (HandoffAnswer.reject, None, None, "Give a reason"),
        (HandoffAnswer.reject, "x" * 501, None, "keep it under 500"),
    ],
)
def test_recycle_and_reject_need_their_reason_and_date(
    db_engine: Engine, answer: HandoffAnswer, reason: str | None, come_back_on: date | None, problem: str
) -> None:
    ids = _company(db_engine)
    with pytest.raises(HandoffRefused, match=problem):
        _answer(db_engine, ids["rep0"], ids["mql"], answer, reason, come_back_on)
    assert _counts(db_engine) == (0, 0)


def test_a_reject_keeps_no_come_back_date_and_tomorrow_is_a_fine_one(db_engine: Engine) -> None:
    ids = _company(db_engine)
    _answer(db_engine, ids["rep0"], ids["mql"], HandoffAnswer.reject, "Duplicate", LATER)
    _answer(db_engine, ids["rep0"], ids["mql"], HandoffAnswer.reject, "Duplicate")  # the same answer
    assert _counts(db_engine) == (1, 0)
    tomorrow = NOW.date() + timedelta(days=1)
    _answer(db_engine, ids["rep0"], ids["mql"], HandoffAnswer.recycle, "Call back", tomorrow)
    handoff = lead_handoff(db_engine, lead_id=ids["mql"])
    assert handoff is not None and handoff.current.come_back_on == tomorrow
    assert [e.come_back_on for e in handoff.earlier] == [None]


def test_only_an_mql_is_answered_and_a_gone_lead_says_so(db_engine: Engine) -> None:
    ids = _company(db_engine)
    with pytest.raises(HandoffRefused, match="not an MQL"):
        _answer(db_engine, ids["rep0"], ids["not_mql"], HandoffAnswer.accept)
    with pytest.raises(HandoffRefused, match="no longer exists"):
        _answer(db_engine, ids["rep0"], 999_999, HandoffAnswer.accept)


def test_the_command_line_answers_for_the_owner_under_its_own_name(db_engine: Engine) -> None:
    ids = _company(db_engine)
    with write_session(db_engine) as session:
        answer_handoff(session=session, actor=OPERATOR, lead_id=ids["mql"], answer=HandoffAnswer.accept,
                       reason=None, come_back_on=None, now=NOW)  # fmt: skip
    handoff = lead_handoff(db_engine, lead_id=ids["mql"])
    assert handoff is not None and handoff.current.answered_by == "Rep Zero"
    assert _audited(db_engine) == [("handoff.answer", "command line", "ok", "answer=accept")]


@pytest.mark.parametrize("answers", [("accept", "accept"), ("accept", "reject")])
def test_two_tabs_answering_at_once_leave_one_current_answer(
    db_engine: Engine, answers: tuple[str, str]
) -> None:
    ids = _company(db_engine)
    start = Barrier(2)

    def answer(kind: str) -> None:
        start.wait()
        _answer(db_engine, ids["rep0"], ids["mql"], HandoffAnswer(kind), "Competitor")

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(answer, answers))
    same = answers[0] == answers[1]
    assert _counts(db_engine) == ((1, 0) if same else (1, 1))
    handoff = lead_handoff(db_engine, lead_id=ids["mql"])
    assert handoff is not None and handoff.first_answered_at == NOW


def test_the_loaded_answers_are_the_first_touch_for_speed_to_lead(db_engine: Engine) -> None:
    # The MQL arrived Monday 07:00; recycled at 09:00 (2 working hours), changed to a reject at 12:00.
    ids = _company(db_engine)
    _answer(db_engine, ids["rep0"], ids["mql"], HandoffAnswer.recycle, "Not the right time", LATER)
    _answer(
        db_engine, ids["rep0"], ids["mql"], HandoffAnswer.reject, "Competitor", now=NOW + timedelta(hours=3)
    )
    week = Period(NOW.date(), NOW.date() + timedelta(days=7), "the week")
    follow = follow_ups(
        load_leads(db_engine),
        load_rating_rows(db_engine),
        week,
        as_of=(NOW + timedelta(days=1)).replace(tzinfo=None),
        agreements=Agreements(company=Terms(follow_up_hours=4)),
        answers=load_answers(db_engine),
    )
    assert follow.select("id", "touched_at", "hours", "in_time").rows() == [
        (ids["mql"], NOW.replace(tzinfo=None), 2.0, True)
    ]
