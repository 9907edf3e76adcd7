"""The handoff on Rate my leads as a rep and a manager drive it: accept, recycle with a reason and a date,
reject, the answer and its history on the card, the reasons asked for; a link (`?lead=<id>`) opens that
lead's card, and a lead that is not theirs says so above the normal queue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from db import clock
from db.engine import make_engine, read_session, write_session
from db.feedback import owners_for
from db.handoff import answer_handoff
from db.models import HandoffAnswer, Lead, LeadHandoff, LeadHandoffHistory, User
from tests.pages.conftest import logged_in_app
from tests.pages.test_rate_leads_page import _queue, _set_grace, own_db

__all__ = ["own_db"]


def _page(username: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/rate_leads.py")
    at.query_params.update(params)
    return at.run()


def _user_id(engine: Engine, username: str) -> int:
    with read_session(engine) as session:
        return int(session.exec(select(User.id).where(User.username == username)).one() or 0)


def _handoff(engine: Engine, lead_id: int) -> tuple[LeadHandoff | None, int]:
    with read_session(engine) as session:
        current = session.exec(select(LeadHandoff).where(LeadHandoff.lead_id == lead_id)).first()
        history = session.exec(select(LeadHandoffHistory)).all()
        return current, len(history)


def _button(at: AppTest, key: str) -> object:
    return next(b for b in at.button if b.key == key)


def _no_trouble(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_a_rep_accepts_then_recycles_the_lead_on_the_card(own_db: str) -> None:
    engine = make_engine(own_db)
    _set_grace(own_db, 60)
    lead = _queue(engine, "rep").leads[0]
    key = f"rate_{lead.id}"
    at = _page("rep")
    _no_trouble(at)
    assert "Your answer to the handoff" in next(m.value for m in at.markdown if m.value.startswith("**Your"))
    assert "Not answered yet. Your first answer counts as your first touch for speed to lead." in [
        c.value for c in at.caption
    ]
    labels = [b.label for b in at.button if b.key and b.key.startswith(f"{key}_")]
    assert labels == ["Accept", "Recycle to marketing", "Reject"]

    _button(at, f"{key}_accept").click().run()  # type: ignore[attr-defined]
    _no_trouble(at)
    current, earlier = _handoff(engine, lead.id)
    assert current is not None and (current.answer, current.rep_id, earlier) == (
        HandoffAnswer.accept, _user_id(engine, "rep"), 0)  # fmt: skip
    with read_session(engine) as session:
        name = session.exec(select(User.name).where(User.username == "rep")).one()
    assert f"Accepted on {clock.now():%b %d, %Y} by {name}" in [t.value for t in at.text]

    _button(at, f"{key}_recycle").click().run()  # type: ignore[attr-defined]
    _no_trouble(at)
    back = clock.today() + timedelta(days=30)
    assert at.date_input(key=f"{key}_recycle_back").value == back, "a month from today, by default"
    at.pills(key=f"{key}_recycle_reason").set_value("No budget yet")
    next(
        b for b in at.button if b.label == "Recycle to marketing" and b.key != f"{key}_recycle"
    ).click().run()
    _no_trouble(at)
    current, earlier = _handoff(engine, lead.id)
    assert current is not None
    assert (current.answer, current.reason, current.come_back_on, earlier) == (
        HandoffAnswer.recycle, "No budget yet", back, 1)  # fmt: skip
    (history,) = [e for e in at.expander if e.label.startswith("Earlier answers")]
    assert history.label == "Earlier answers (1)"
    assert next(t.value for t in history.text).startswith("• Accepted on ")


def test_a_recycle_without_a_reason_is_asked_for_one(own_db: str) -> None:
    engine = make_engine(own_db)
    _set_grace(own_db, 60)
    lead = _queue(engine, "rep").leads[0]
    key = f"rate_{lead.id}"
    at = _page("rep")
    _button(at, f"{key}_reject").click().run()  # type: ignore[attr-defined]
    next(b for b in at.button if b.label == "Reject the lead").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Give a reason: marketing reads it on the nurture list."]
    assert _handoff(engine, lead.id) == (None, 0)
    at.text_input(key=f"{key}_reject_other").input("Works for a competitor")
    next(b for b in at.button if b.label == "Reject the lead").click().run()
    _no_trouble(at)
    current, _ = _handoff(engine, lead.id)
    assert current is not None and (current.answer, current.reason) == (
        HandoffAnswer.reject,
        "Works for a competitor",
    )


def test_a_link_opens_that_leads_card_first(own_db: str) -> None:
    engine = make_engine(own_db)
    _set_grace(own_db, 60)
    queue = _queue(engine, "rep")
    linked = queue.leads[1]  # not the one the queue shows first
    at = _page("rep", lead=str(linked.id))
    _no_trouble(at)
    assert "**The lead your link opened**" in [m.value for m in at.markdown]
    assert [s.key for s in at.segmented_control] == [
        f"link_{linked.id}_stars",
        f"rate_{queue.leads[0].id}_stars",
    ]
    _button(at, f"link_{linked.id}_accept").click().run()  # type: ignore[attr-defined]
    _no_trouble(at)
    current, _ = _handoff(engine, linked.id)
    assert current is not None and current.answer == HandoffAnswer.accept


def test_a_link_to_the_lead_the_queue_shows_first_shows_it_once(own_db: str) -> None:
    engine = make_engine(own_db)
    _set_grace(own_db, 60)
    first = _queue(engine, "rep").leads[0]
    at = _page("rep", lead=str(first.id))
    _no_trouble(at)
    assert [s.key for s in at.segmented_control] == [
        f"link_{first.id}_stars",
        f"rate_{_queue(engine, 'rep').leads[1].id}_stars",
    ]


def test_a_link_to_someone_elses_lead_says_so_and_the_queue_follows(own_db: str) -> None:
    engine = make_engine(own_db)
    _set_grace(own_db, 60)
    rep = _user_id(engine, "rep")
    with read_session(engine) as session:
        other = session.exec(
            select(Lead.id).where(col(Lead.owner_id) != rep, col(Lead.mql_at).is_not(None))
        ).first()
    assert other is not None
    for asked in (str(other), "not-a-number"):
        at = _page("rep", lead=asked)
        assert not at.exception, at.exception
        (warning,) = [w.value for w in at.warning]
        assert warning.startswith("The lead your link names is not an MQL of yours to rate and answer")
        assert [s.key for s in at.segmented_control] == [f"rate_{_queue(engine, 'rep').leads[0].id}_stars"]


def test_a_manager_rejects_a_team_leads_handoff_from_a_link(own_db: str) -> None:
    engine = make_engine(own_db)
    boss = _user_id(engine, "manager")
    owners = owners_for(engine, boss)
    with read_session(engine) as session:
        lead_id = session.exec(
            select(Lead.id).where(col(Lead.owner_id).in_(owners), col(Lead.mql_at).is_not(None))
        ).first()
    assert lead_id is not None
    key = f"link_{lead_id}"
    at = _page("manager", lead=str(lead_id))
    _no_trouble(at)
    _button(at, f"{key}_reject").click().run()  # type: ignore[attr-defined]
    at.pills(key=f"{key}_reject_reason").set_value("Duplicate")
    next(b for b in at.button if b.label == "Reject the lead").click().run()
    _no_trouble(at)
    current, _ = _handoff(engine, lead_id)
    assert current is not None and (current.answer, current.reason, current.rep_id) == (
        HandoffAnswer.reject, "Duplicate", boss)  # fmt: skip
    assert any(t.value.startswith("Rejected on ") and "reason: Duplicate" in t.value for t in at.text)


def test_a_lead_handed_to_someone_else_meanwhile_is_not_answered_and_says_why(own_db: str) -> None:
    engine = make_engine(own_db)
    _set_grace(own_db, 60)
    lead = _queue(engine, "rep").leads[0]
    at = _page("rep", lead=str(lead.id))
    _no_trouble(at)
    with write_session(engine) as session:  # reassigned in the CRM while the card was open
        row = session.get(Lead, lead.id)
        assert row is not None
        row.owner_id = session.exec(select(User.id).where(User.username == "manager")).one()
        session.add(row)
    _button(at, f"link_{lead.id}_accept").click().run()  # type: ignore[attr-defined]
    assert not at.exception, at.exception
    # The card is gone on the rerun the click makes, so nothing is answered, and the rep is told why.
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("The lead your link names is not an MQL of yours to rate and answer")
    assert _handoff(engine, lead.id) == (None, 0)


def test_changing_an_answer_offers_what_was_given_while_it_still_holds(own_db: str) -> None:
    """A recycle given 40 days ago whose date has come: opening Recycle again offers a month from today
    (not the past date); a reject in the rep's own words comes back in the words box."""
    engine = make_engine(own_db)
    _set_grace(own_db, 60)
    first, second = _queue(engine, "rep").leads[:2]
    long_ago = clock.now() - timedelta(days=40)
    with write_session(engine) as session:
        rep = session.exec(select(User).where(User.username == "rep")).one()
        answer_handoff(
            session=session,
            actor=rep,
            lead_id=first.id,
            answer=HandoffAnswer.recycle,
            reason="Not the right time",
            come_back_on=long_ago.date() + timedelta(days=30),
            now=long_ago,
        )
        answer_handoff(session=session, actor=rep, lead_id=second.id, answer=HandoffAnswer.reject,
                       reason="Works for a competitor", come_back_on=None, now=clock.now())  # fmt: skip
    at = _page("rep", lead=str(second.id))
    _no_trouble(at)
    _button(at, f"rate_{first.id}_recycle").click().run()  # type: ignore[attr-defined]
    _no_trouble(at)
    assert at.date_input(key=f"rate_{first.id}_recycle_back").value == clock.today() + timedelta(days=30)
    assert at.pills(key=f"rate_{first.id}_recycle_reason").value == "Not the right time"
    _button(at, f"link_{second.id}_reject").click().run()  # type: ignore[attr-defined]
    _no_trouble(at)
    assert at.text_input(key=f"link_{second.id}_reject_other").value == "Works for a competitor"
    assert at.pills(key=f"link_{second.id}_reject_reason").value is None
