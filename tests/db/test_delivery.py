"""Delivering the outbox against a real SMTP server on 127.0.0.1, on SQLite and PostgreSQL: what arrives,
who gets nothing, retries with back-off, channels without settings, two senders at once, the log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db.delivery import (
    LEASE,
    MAX_ATTEMPTS,
    DeliveryRun,
    backoff,
    claim_due,
    deliver_batch,
    deliver_due,
    mark_sent,
    new_sender_id,
)
from db.engine import make_engine, read_session, write_session
from db.models import Channel, OutboxMessage, OutboxStatus, User
from db.notify import channel_problems, run_once
from db.outbox import Message
from db.settings import Settings, get_settings
from db.transports import SmtpTransport, Transport
from tests.db.mail_servers import SmtpSink, add_person, free_port, queue_messages, smtp_server

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PASSWORD = "p4ss-w0rd-never-logged"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def email_on(monkeypatch: pytest.MonkeyPatch, smtp: tuple[SmtpSink, int]) -> Iterator[Settings]:
    """This server's settings name the test's SMTP server (so the alerts see email as a channel it has)."""
    monkeypatch.setenv("HUDDLE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HUDDLE_SMTP_PORT", str(smtp[1]))
    monkeypatch.setenv("HUDDLE_SMTP_SECURITY", "none")
    monkeypatch.setenv("HUDDLE_MAIL_FROM", "Huddle <huddle@example.com>")
    monkeypatch.delenv("HUDDLE_CHAT_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _smtp(settings: Settings) -> dict[Channel, Transport]:
    return {Channel.email: SmtpTransport.from_settings(settings)}


def _rows(engine: Engine) -> list[OutboxMessage]:
    with read_session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def _at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_the_back_off_doubles_from_a_minute_up_to_its_cap() -> None:
    assert [backoff(n) // timedelta(minutes=1) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_a_mail_arrives_with_both_parts_its_link_and_a_message_id_from_its_row(
    db_engine: Engine, email_on: Settings, smtp: tuple[SmtpSink, int]
) -> None:
    sink, _ = smtp
    kim = add_person(db_engine, "kim")
    queue_messages(db_engine, kim, 1)
    run = deliver_due(db_engine, _smtp(email_on), clock=lambda: NOW)
    assert (run.sent, run.retrying, run.failed) == (1, 0, 0)
    (arrived,) = sink.arrived
    (row,) = _rows(db_engine)
    assert arrived.recipients == ["kim@example.com"]
    assert arrived.sender == "huddle@example.com"
    mail = arrived.mail
    assert (mail["Subject"], mail["To"], mail["From"]) == (
        "New MQL 0",
        "kim@example.com",
        "Huddle <huddle@example.com>",
    )
    assert mail["Message-ID"] == f"<huddle-outbox-{row.id}@example.com>"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = (mail.get_body(("plain",)), mail.get_body(("html",)))
    assert text is not None and html is not None
    assert "http://huddle.test/rate?lead=0" in text.get_content()
    assert "<a href='http://huddle.test/rate?lead=0'>rate</a>" in html.get_content()
    assert (row.status, row.attempts, row.sent_at, row.claimed_by) == (OutboxStatus.sent, 0, NOW, None)


def test_a_mail_goes_to_the_address_the_person_has_now(
    db_engine: Engine, email_on: Settings, smtp: tuple[SmtpSink, int]
) -> None:
    kim = add_person(db_engine, "kim")
    queue_messages(db_engine, kim, 1)
    with write_session(db_engine) as session:
        user = session.get(User, kim)
        assert user is not None
        user.email = "kim.new@example.com"
        session.add(user)
    deliver_due(db_engine, _smtp(email_on), clock=lambda: NOW)
    assert [a.recipients for a in smtp[0].arrived] == [["kim.new@example.com"]]


def test_a_disabled_person_one_without_an_address_and_one_who_switched_it_off_get_nothing(
    db_engine: Engine, email_on: Settings, smtp: tuple[SmtpSink, int]
) -> None:
    gone = add_person(db_engine, "gone", active=False)
    nowhere = add_person(db_engine, "nowhere", email_address="someone@example.com")
    quiet = add_person(db_engine, "quiet", email_address="quiet@example.com")
    for person in (gone, nowhere, quiet):
        queue_messages(db_engine, person, 1)
    with write_session(db_engine) as session:
        user = session.get(User, nowhere)
        assert user is not None
        user.email = None  # the address went after the message was enqueued
        session.add(user)
    from db.models import AlertKind, AlertPreference

    with write_session(db_engine) as session:
        session.add(
            AlertPreference(user_id=quiet, kind=AlertKind.new_mql, channel=Channel.email, enabled=False)
        )
    queue_messages(db_engine, add_person(db_engine, "ann", email_address="ann@example.com"), 1)
    run = deliver_due(db_engine, _smtp(email_on), clock=lambda: NOW, batch_size=3)
    # The first batch held only rows for nobody; the run went on to the next one.
    assert [a.recipients for a in smtp[0].arrived] == [["ann@example.com"]]
    assert (run.sent, run.not_for_anyone) == (1, 3)
    assert [(r.user_id, r.status, r.last_error, r.attempts) for r in _rows(db_engine)][:3] == [
        (gone, OutboxStatus.failed, "disabled", 0),
        (nowhere, OutboxStatus.failed, "no address", 0),
        (quiet, OutboxStatus.failed, "opted out", 0),
    ]


def test_a_server_that_cannot_be_reached_is_retried_with_back_off_then_given_up(
    db_engine: Engine, email_on: Settings
) -> None:
    kim = add_person(db_engine, "kim")
    queue_messages(db_engine, kim, 1)
    nobody_listens = email_on.model_copy(update={"huddle_smtp_port": free_port()})
    moment = NOW
    waits: list[timedelta] = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run = deliver_due(db_engine, _smtp(nobody_listens), clock=_at(moment))
        (row,) = _rows(db_engine)
        assert row.attempts == attempt
        assert row.last_error == "the mail server refused the connection"
        if attempt < MAX_ATTEMPTS:
            assert (row.status, run.retrying) == (OutboxStatus.queued, 1)
            waits.append(row.next_attempt_at - moment)
            early = deliver_due(
                db_engine,
                _smtp(nobody_listens),
                clock=_at(row.next_attempt_at - timedelta(seconds=1)),
            )
            assert early.claimed == 0, "nothing is tried before its back-off ends"
            moment = row.next_attempt_at
    assert (row.status, run.failed) == (OutboxStatus.failed, 1)
    assert [w // timedelta(minutes=1) for w in waits] == [1, 2, 4, 8, 16]


def test_a_channel_without_its_settings_leaves_its_messages_waiting_and_says_which_setting(
    db_engine: Engine, email_on: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    kim = add_person(db_engine, "kim", chat=True)
    queue_messages(db_engine, kim, 2, channel=Channel.chat)
    monkeypatch.setattr("db.notify.enqueue_alerts", lambda session, now: 0)
    run = run_once(db_engine, email_on, clock=lambda: NOW)
    assert run.delivery.claimed == 0
    assert run.waiting == {Channel.chat: "2 messages wait: HUDDLE_CHAT_WEBHOOK_URL is not set"}
    assert "chat: 2 messages wait: HUDDLE_CHAT_WEBHOOK_URL is not set" in run.describe()
    assert {r.status for r in _rows(db_engine)} == {OutboxStatus.queued}
    nothing = Settings(huddle_smtp_host="", huddle_mail_from="", huddle_chat_webhook_url="")
    assert channel_problems(nothing) == {
        Channel.email: "HUDDLE_SMTP_HOST and HUDDLE_MAIL_FROM are not set",
        Channel.chat: "HUDDLE_CHAT_WEBHOOK_URL is not set",
    }
    wrong = email_on.model_copy(update={"huddle_smtp_security": "ssl3"})
    assert channel_problems(wrong)[Channel.email] == "HUDDLE_SMTP_SECURITY must be one of none, starttls, tls"


def test_two_senders_at_once_deliver_each_of_200_messages_exactly_once(
    db_url: str, email_on: Settings, smtp: tuple[SmtpSink, int]
) -> None:
    engines = [make_engine(db_url), make_engine(db_url)]
    try:
        kim = add_person(engines[0], "kim")
        queue_messages(engines[0], kim, 200)
        runs: list[DeliveryRun] = []
        start = threading.Barrier(2)

        def sender(engine: Engine) -> None:
            start.wait()
            runs.append(deliver_due(engine, _smtp(email_on), sender=new_sender_id(), batch_size=10,
                                    clock=lambda: NOW))  # fmt: skip

        threads = [threading.Thread(target=sender, args=(engine,)) for engine in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        ids = smtp[0].ids()
        assert sorted(ids) == sorted({int(r.id or 0) for r in _rows(engines[0])}), (
            "each message arrived exactly once"
        )
        assert len(ids) == 200
        assert sum(run.sent for run in runs) == 200 and sum(run.lost_claims for run in runs) == 0
        assert {r.status for r in _rows(engines[0])} == {OutboxStatus.sent}
    finally:
        for engine in engines:
            engine.dispose()


def test_the_log_has_a_line_per_batch_and_per_failure_and_no_secret_or_body(
    db_engine: Engine, email_on: Settings, smtp: tuple[SmtpSink, int], caplog: pytest.LogCaptureFixture
) -> None:
    kim = add_person(db_engine, "kim")
    queue_messages(
        db_engine,
        kim,
        3,
        message=lambda n: Message(
            subject=f"New MQL {n}", text=f"BODY-TEXT-{n}", html=f"<p>BODY-HTML-{n}</p>"
        ),
    )
    wrong_login = email_on.model_copy(update={"huddle_smtp_user": "huddle", "huddle_smtp_password": PASSWORD})
    with caplog.at_level(logging.INFO, logger="db.delivery"):
        run = deliver_due(db_engine, _smtp(wrong_login), clock=lambda: NOW)
        deliver_due(db_engine, _smtp(email_on), clock=lambda: NOW + timedelta(minutes=2))
    assert run.retrying == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "db.delivery"]
    assert len([line for line in lines if "not sent" in line and "will retry" in line]) == 3
    assert len([line for line in lines if line.startswith("delivered a batch of 3")]) == 2
    everything = "\n".join(lines)
    assert PASSWORD not in everything and "BODY-" not in everything
    assert len(smtp[0].arrived) == 3


def test_a_claim_that_ran_out_is_taken_over_and_only_the_new_holder_may_mark_the_message(
    db_engine: Engine, email_on: Settings
) -> None:
    kim = add_person(db_engine, "kim")
    queue_messages(db_engine, kim, 1)
    lease = timedelta(minutes=1)
    with write_session(db_engine) as session:
        (first,) = claim_due(session, sender="a", now=NOW, channels=[Channel.email], lease=lease).messages
    with write_session(db_engine) as session:
        assert (
            claim_due(session, sender="b", now=NOW + timedelta(seconds=59), channels=[Channel.email]).picked
            == 0
        )
    with write_session(db_engine) as session:
        (again,) = claim_due(
            session, sender="b", now=NOW + timedelta(minutes=2), channels=[Channel.email]
        ).messages
    assert again.id == first.id
    with write_session(db_engine) as session:
        assert mark_sent(session, message_id=first.id, sender="a", now=NOW) is False
        assert mark_sent(session, message_id=again.id, sender="b", now=NOW + timedelta(minutes=2)) is True
    (row,) = _rows(db_engine)
    assert (row.status, row.sent_at, row.attempts) == (OutboxStatus.sent, NOW + timedelta(minutes=2), 1)


def test_a_message_whose_senders_all_stopped_while_holding_it_is_given_up_after_the_last_attempt(
    db_engine: Engine, email_on: Settings
) -> None:
    queue_messages(db_engine, add_person(db_engine, "kim"), 1)
    moment = NOW
    for _ in range(MAX_ATTEMPTS + 1):  # each sender claims it and is killed before it finishes
        with write_session(db_engine) as session:
            claimed = claim_due(session, sender=new_sender_id(), now=moment, channels=[Channel.email])
        moment += LEASE + timedelta(seconds=1)
    (row,) = _rows(db_engine)
    assert (claimed.picked, claimed.messages, claimed.given_up) == (1, [], 1)
    assert row.status is OutboxStatus.failed
    assert row.last_error == f"the sender stopped while it held this message ({MAX_ATTEMPTS} attempts)"


def test_a_batch_hands_back_what_it_cannot_send_before_its_lease_ends(
    db_engine: Engine, email_on: Settings
) -> None:
    kim = add_person(db_engine, "kim")
    queue_messages(db_engine, kim, 5)
    with smtp_server(delay=0.3) as (sink, port):
        slow = email_on.model_copy(update={"huddle_smtp_port": port})
        run = deliver_batch(
            db_engine, _smtp(slow), sender=new_sender_id(), clock=lambda: NOW, lease=timedelta(seconds=0.4)
        )
    # The lease's last half is kept free: one message went, the other four were handed back untouched.
    assert (run.sent, run.released) == (len(sink.arrived), 5 - len(sink.arrived))
    assert 1 <= run.sent < 5
    rows = _rows(db_engine)
    waiting = [r for r in rows if r.status is OutboxStatus.queued]
    assert len(waiting) == run.released and all(r.attempts == 0 and r.claimed_by is None for r in waiting)


def test_a_run_sends_what_its_batches_handed_back_in_the_next_ones(
    db_engine: Engine, email_on: Settings
) -> None:
    queue_messages(db_engine, add_person(db_engine, "kim"), 5)
    with smtp_server(delay=0.3) as (sink, port):
        slow = email_on.model_copy(update={"huddle_smtp_port": port})
        run = deliver_due(db_engine, _smtp(slow), clock=lambda: NOW, lease=timedelta(seconds=0.4))
    # A busy machine makes a batch hand messages back (as under `make test`): the run still sends all five.
    assert run.sent == 5 and run.released >= 1 and run.batches >= 2
    assert sorted(sink.ids()) == sorted(int(r.id or 0) for r in _rows(db_engine))
    assert {r.status for r in _rows(db_engine)} == {OutboxStatus.sent}


def test_a_new_mql_told_by_the_alerts_reaches_its_rep_by_mail_with_the_link_to_its_card(
    db_engine: Engine, email_on: Settings, smtp: tuple[SmtpSink, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.alerts import new_mqls, start_alerts
    from db.models import DataSource, Lead

    monkeypatch.setenv("HUDDLE_BASE_URL", "https://huddle.acme.example")
    get_settings.cache_clear()
    kim = add_person(db_engine, "kim")
    with write_session(db_engine) as session:
        start_alerts(session, NOW - timedelta(hours=1))
        session.add(DataSource(name="crm", label="CRM", stages=["created", "mql"]))
        lead = Lead(source_system="crm", external_id="L-1", created_at=NOW - timedelta(days=2),
                    mql_at=NOW - timedelta(minutes=5), owner_id=kim, source="webinar", industry="Retail")  # fmt: skip
        session.add(lead)
        session.flush()
        lead_id = int(lead.id or 0)
        assert new_mqls(session, [lead_id], NOW) == 1
    run = run_once(db_engine, get_settings(), clock=lambda: NOW)
    assert run.delivery.sent >= 1
    (mail,) = [a.mail for a in smtp[0].arrived if a.outbox_id in _ids_of_kind(db_engine, "new_mql")]
    assert mail["To"] == "kim@example.com"
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    for part in (text.get_content(), html.get_content()):
        assert f"https://huddle.acme.example/rate?lead={lead_id}" in part
        assert "https://huddle.acme.example/account" in part


def _ids_of_kind(engine: Engine, kind: str) -> set[int]:
    with read_session(engine) as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.kind) == kind)).all()
    return {int(r.id or 0) for r in rows}
