"""The Delivery page under AppTest: an admin sees what waits, went and failed (with the reason and the
attempts), which setting a channel lacks, and retries one failed message or all of them (audited); an
empty outbox says so; every other role is refused, even past the navigation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, read_session, write_session
from db.models import AlertKind, AuditLog, Channel, DigestItem, OutboxMessage, OutboxStatus, Role, User
from db.settings import get_settings
from tests.pages.conftest import DEMO_USERS, PROJECT_ROOT, logged_in_app
from ui.auth import CurrentUser

PAGE = "screens/delivery.py"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def outbox(fresh_app_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The app's own database with an empty outbox, and no channel set up (both channels' messages wait)."""
    for name in ("HUDDLE_SMTP_HOST", "HUDDLE_MAIL_FROM", "HUDDLE_CHAT_WEBHOOK_URL"):
        monkeypatch.setenv(name, "")
    get_settings.cache_clear()
    engine = make_engine(fresh_app_env)
    with write_session(engine) as session:
        session.execute(delete(DigestItem))
        session.execute(delete(OutboxMessage))
    yield engine
    engine.dispose()


def _message(
    engine: Engine, n: int, status: OutboxStatus, *, error: str | None = None, attempts: int = 0
) -> int:
    with write_session(engine) as session:
        rep = session.exec(select(User).where(User.username == DEMO_USERS["rep"])).one()
        row = OutboxMessage(
            event_key=f"new_mql:lead:{n}", kind=AlertKind.new_mql, user_id=int(rep.id or 0),
            channel=Channel.email, recipient=rep.email, subject=f"New MQL: <b>Lead {n}</b>", text="t",
            status=status, attempts=attempts, next_attempt_at=LONG_AGO, last_error=error,
            sent_at=LONG_AGO if status is OutboxStatus.sent else None,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return int(row.id or 0)


def _delivery_page() -> AppTest:
    at = logged_in_app(DEMO_USERS["admin"]).run()
    return at.switch_page(PAGE).run()


def _row(engine: Engine, message_id: int) -> OutboxMessage:
    with read_session(engine) as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        return row


def test_an_admin_sees_waiting_sent_and_failed_with_the_reason_and_which_setting_is_missing(
    outbox: Engine,
) -> None:
    _message(outbox, 1, OutboxStatus.queued)
    _message(outbox, 2, OutboxStatus.sent)
    failed = _message(
        outbox, 3, OutboxStatus.failed, error="the mail server refused the address (550)", attempts=6
    )
    at = _delivery_page()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["1", "1", "1"]
    assert [m.label for m in at.metric] == ["Waiting", "Sent", "Failed"]
    warnings = [w.value for w in at.warning]
    assert any(
        w.startswith("Email is off: HUDDLE_SMTP_HOST and HUDDLE_MAIL_FROM are not set.") for w in warnings
    )
    assert any(w.startswith("Chat is off: HUDDLE_CHAT_WEBHOOK_URL is not set.") for w in warnings)
    (line,) = [m.value for m in at.markdown if f"#{failed}" in m.value]
    assert "refused the address \\(550\\)" in line and "6 attempts" in line
    assert "\\<b\\>Lead 3\\</b\\>" in line, "a subject from the data is shown as typed, never as markup"
    waiting, sent = at.dataframe[0].value, at.dataframe[1].value
    assert list(waiting["subject"]) == ["New MQL: <b>Lead 1</b>"]
    assert list(sent["subject"]) == ["New MQL: <b>Lead 2</b>"]


def test_retry_queues_one_failed_message_again_and_the_audit_log_says_who(outbox: Engine) -> None:
    first = _message(outbox, 1, OutboxStatus.failed, error="the mail server answered 451", attempts=6)
    second = _message(outbox, 2, OutboxStatus.failed, error="disabled")
    at = _delivery_page()
    at.button(key=f"retry_{first}").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["1 message queued again: the next delivery run sends them."]
    row = _row(outbox, first)
    assert (row.status, row.attempts) == (OutboxStatus.queued, 0)
    assert _row(outbox, second).status is OutboxStatus.failed
    with read_session(outbox) as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "delivery.retry")).one()
    assert (entry.actor_username, entry.object_id, entry.outcome) == (DEMO_USERS["admin"], str(first), "ok")


def test_retry_all_failed_queues_every_failed_message_again(
    outbox: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ui.delivery.SHOWN", 2)  # the page lists two: the button still takes all three
    ids = [
        _message(outbox, n, OutboxStatus.failed, error="the chat webhook answered 500", attempts=6)
        for n in range(3)
    ]
    sent = _message(outbox, 9, OutboxStatus.sent)
    at = _delivery_page()
    assert at.button(key="retry_all").label == "Retry all failed (3)"
    at.button(key="retry_all").click().run()
    assert [s.value for s in at.success] == ["3 messages queued again: the next delivery run sends them."]
    assert [_row(outbox, i).status for i in ids] == [OutboxStatus.queued] * 3
    assert _row(outbox, sent).status is OutboxStatus.sent
    assert [m.value for m in at.metric] == ["3", "1", "0"]
    assert any(c.value == "No message has failed." for c in at.caption)


def test_an_empty_outbox_says_what_fills_it(outbox: Engine) -> None:
    at = _delivery_page()
    assert not at.exception, at.exception
    assert next(i.value for i in at.info).startswith("No message yet.")
    assert not at.metric and not at.dataframe


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.admin])
def test_every_other_role_is_refused_even_past_the_navigation(outbox: Engine, role: Role) -> None:
    _message(outbox, 1, OutboxStatus.failed, error="disabled")
    at = AppTest.from_file(str(PROJECT_ROOT / PAGE), default_timeout=60)
    at.session_state["huddle_user"] = CurrentUser(id=1, username="x", name="X", role=role, team_id=None)
    at.run()
    assert [e.value for e in at.error] == ["This page is not available to your role."]
    assert not at.title and not at.button


def test_a_non_admin_calling_the_retry_service_is_refused_and_it_is_logged(outbox: Engine) -> None:
    from db.access import AccessDenied
    from db.delivery import retry

    failed = _message(outbox, 1, OutboxStatus.failed, error="disabled")
    with pytest.raises(AccessDenied), write_session(outbox) as session:
        rep = session.exec(select(User).where(User.username == DEMO_USERS["rep"])).one()
        retry(session=session, actor=rep, ids=[failed], now=LONG_AGO)
    assert _row(outbox, failed).status is OutboxStatus.failed
    with read_session(outbox) as session:
        denied = session.exec(select(AuditLog).where(col(AuditLog.outcome) == "denied")).all()
    assert [(d.action, d.actor_username) for d in denied][-1] == ("delivery.retry", DEMO_USERS["rep"])
