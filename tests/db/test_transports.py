"""The transports against real servers on 127.0.0.1: the chat webhook answering 500, then hanging past the
timeout, then 200 (the message arrives once), a Teams card, and SMTP with a login, STARTTLS and TLS."""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy.engine import Engine
from sqlmodel import select

from db.delivery import deliver_due
from db.engine import read_session
from db.models import Channel, OutboxMessage, OutboxStatus
from db.settings import get_settings
from db.transports import (
    Outgoing,
    SendFailed,
    SmtpTransport,
    WebhookTransport,
    email_for,
    message_id,
    teams_card,
)
from tests.db.mail_servers import SmtpSink, add_person, free_port, queue_messages, webhook_server

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
USER, PASSWORD = "huddle", "a-long-smtp-password"
MAIL = Outgoing(
    7, Channel.email, "kim@example.com", "New MQL: Ada", "Ada\nhttp://h/rate?lead=3", "<p>Ada</p>", None
)


def _at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


@pytest.fixture
def chat_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The alerts see chat as a channel this server has (any URL: the transport is given its own)."""
    monkeypatch.setenv("HUDDLE_CHAT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_webhook_answering_500_then_hanging_then_200_gets_the_message_exactly_once(
    db_engine: Engine, chat_on: None, caplog: pytest.LogCaptureFixture
) -> None:
    kim = add_person(db_engine, "kim", chat=True)
    queue_messages(db_engine, kim, 1, channel=Channel.chat)
    caplog.set_level(logging.INFO, logger="db.delivery")
    with webhook_server(["500", "hang", "200"], hang_seconds=2.5) as (hook, url):
        moment = NOW
        reasons = []
        for _ in range(3):
            run = deliver_due(
                db_engine, {Channel.chat: WebhookTransport(url, timeout=1.0)}, clock=_at(moment)
            )
            with read_session(db_engine) as session:
                row = session.exec(select(OutboxMessage)).one()
            reasons.append(row.last_error)
            moment = row.next_attempt_at
        assert run.sent == 1
        assert hook.delivered == [{"text": "Lead 0"}], "one 200 answered in time: delivered exactly once"
        assert len(hook.bodies) == 3
    assert reasons == ["the chat webhook answered 500", "the chat webhook did not answer within 1 s", None]
    assert (row.status, row.attempts) == (OutboxStatus.sent, 2)
    assert "s3cr3t" not in " ".join(r for r in reasons if r), "the webhook's token is in no reason"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "not sent: the chat webhook answered 500 (will retry)" in logged
    assert "s3cr3t" not in logged and "Lead 0" not in logged, "neither the token nor the body is logged"


def test_a_webhook_that_is_gone_is_given_up_and_one_out_of_reach_is_retried() -> None:
    with webhook_server(["404"]) as (_hook, url), pytest.raises(SendFailed) as gone:
        WebhookTransport(url, timeout=1.0).send(MAIL)
    with pytest.raises(SendFailed) as away:
        WebhookTransport(f"http://127.0.0.1:{free_port()}/x", timeout=1.0).send(MAIL)
    assert (str(gone.value), gone.value.permanent) == ("the chat webhook answered 404", True)
    assert (str(away.value), away.value.permanent) == (
        "cannot reach the chat webhook (ConnectionRefusedError)",
        False,
    )


def test_a_teams_webhook_gets_a_message_card_with_the_same_content() -> None:
    transport = WebhookTransport("https://acme.webhook.office.com/webhookb2/abc")
    chat = Outgoing(3, Channel.chat, None, "New MQL: Ada", "Ada from Acme\nRate: http://h/rate?lead=3", None,
                    {"text": "slack"})  # fmt: skip
    card = teams_card(chat)
    assert card["@type"] == "MessageCard" and card["title"] == "New MQL: Ada"
    assert card["text"] == "Ada from Acme\n\nRate: http://h/rate?lead=3"
    named = Outgoing(4, Channel.chat, None, "s", "<img src=x> [x](javascript:alert(1)) *b* http://h/rate?lead=4_a",
                     None, None)  # fmt: skip
    assert teams_card(named)["text"] == (
        "&lt;img src=x&gt; \\[x\\]\\(javascript:alert\\(1\\)\\) \\*b\\* http://h/rate?lead=4_a"
    ), "a lead's name is shown as typed; the link is left whole"
    assert b"MessageCard" in transport.body(chat)
    assert WebhookTransport("https://hooks.slack.com/services/x").body(chat) == b'{"text": "slack"}'


def test_a_mail_is_multipart_alternative_with_a_message_id_that_names_its_outbox_row() -> None:
    mail = email_for(MAIL, mail_from="Huddle <alerts@acme.example>")
    assert mail["Message-ID"] == "<huddle-outbox-7@acme.example>" == message_id(7, "alerts@acme.example")
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    with pytest.raises(SendFailed, match="no address"):
        email_for(Outgoing(8, Channel.email, None, "s", "t", None, None), mail_from="a@b.c")


class _Logins:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.seen.append((data.login.decode(), data.password.decode()))
        return AuthResult(
            success=data.login.decode() == USER and data.password.decode() == PASSWORD, handled=False
        )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_logs_in_when_a_user_is_set_and_a_wrong_password_is_a_reason_without_it() -> None:
    sink, logins, port = SmtpSink(), _Logins(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=logins, auth_require_tls=False,
                            auth_required=True, auth_exclude_mechanism=["LOGIN"])  # fmt: skip
    controller.start()
    try:
        good = SmtpTransport(host="127.0.0.1", port=port, security="none", user=USER, password=PASSWORD,
                             mail_from="huddle@example.com")  # fmt: skip
        good.send(MAIL)
        good.close()
        bad = SmtpTransport(host="127.0.0.1", port=port, security="none", user=USER, password="wrong-one-here",
                            mail_from="huddle@example.com")  # fmt: skip
        with pytest.raises(SendFailed) as refused:
            bad.send(MAIL)
    finally:
        controller.stop()
    assert logins.seen[0] == (USER, PASSWORD)
    assert len(sink.arrived) == 1
    assert str(refused.value) == "the mail server refused the login (535)"


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted by this test's default SSL context."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_smtp_starttls_and_tls_deliver_over_an_encrypted_connection(certificate: tuple[Path, Path]) -> None:
    context = _server_context(*certificate)
    sink = SmtpSink()
    starttls_port, tls_port = free_port(), free_port()
    starttls = Controller(
        sink, hostname="127.0.0.1", port=starttls_port, tls_context=context, require_starttls=True
    )
    tls = Controller(sink, hostname="127.0.0.1", port=tls_port, ssl_context=context)
    starttls.start()
    tls.start()
    try:
        for security, port in (("starttls", starttls_port), ("tls", tls_port)):
            transport = SmtpTransport(host="127.0.0.1", port=port, security=security, user="", password="",
                                      mail_from="huddle@example.com")  # fmt: skip
            transport.send(MAIL)
            transport.close()
        plain = SmtpTransport(host="127.0.0.1", port=starttls_port, security="none", user="", password="",
                              mail_from="huddle@example.com")  # fmt: skip
        with pytest.raises(SendFailed):
            plain.send(MAIL)  # the server requires STARTTLS first
    finally:
        starttls.stop()
        tls.stop()
    assert [a.recipients for a in sink.arrived] == [["kim@example.com"], ["kim@example.com"]]
