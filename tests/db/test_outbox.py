"""The outbox's one way in: an event's message for a person and channel is written once, with the event."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from db import clock
from db.engine import read_session, write_session
from db.models import AlertKind, Channel, OutboxMessage, OutboxStatus, Role, User
from db.outbox import Message, enqueue


def _rep(engine: Engine) -> int:
    with write_session(engine) as session:
        user = User(username="kim", name="Kim", email="kim@example.com", role=Role.rep)
        session.add(user)
        session.flush()
        return int(user.id or 0)


MESSAGE = Message(subject="New MQL: Ada", text="Ada from Acme", html="<p>Ada from Acme</p>")


def _enqueue(session: Session, user_id: int, channel: Channel, event_key: str = "new_mql:lead:1") -> bool:
    recipient = "kim@example.com" if channel == Channel.email else None
    return enqueue(
        session,
        event_key=event_key,
        kind=AlertKind.new_mql,
        user_id=user_id,
        channel=channel,
        message=MESSAGE,
        recipient=recipient,
    )


def test_the_same_event_for_the_same_person_and_channel_is_one_message(db_engine: Engine) -> None:
    kim = _rep(db_engine)
    with write_session(db_engine) as session:
        first, again = _enqueue(session, kim, Channel.email), _enqueue(session, kim, Channel.email)
        chat = _enqueue(session, kim, Channel.chat)
    assert (first, again, chat) == (True, False, True)
    with read_session(db_engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.channel)).all()
    assert [(r.channel, r.status, r.attempts, r.recipient) for r in rows] == [
        (Channel.chat, OutboxStatus.queued, 0, None),
        (Channel.email, OutboxStatus.queued, 0, "kim@example.com"),
    ]
    # Due on Huddle's day (the run's pinned one), not the wall clock's: senders compare with clock.now().
    assert {r.next_attempt_at.date() for r in rows} == {clock.today()}


def test_a_message_enqueued_with_an_event_that_is_rolled_back_is_gone_with_it(db_engine: Engine) -> None:
    kim = _rep(db_engine)
    try:
        with write_session(db_engine) as session:
            _enqueue(session, kim, Channel.email, "new_mql:lead:2")
            raise RuntimeError("the event failed")
    except RuntimeError:
        pass
    with read_session(db_engine) as session:
        assert session.exec(select(OutboxMessage)).all() == []
