"""Real servers on 127.0.0.1 for the delivery tests (issue 13): an SMTP server (aiosmtpd) that keeps every
mail it accepts, and an HTTP server playing a chat webhook from a script of answers. Also the helpers
that put people and messages into a test database."""

from __future__ import annotations

import email
import email.message
import email.policy
import http.server
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.engine import Engine

from db.engine import write_session
from db.models import AlertKind, AlertPreference, Channel, Role, User
from db.outbox import Message, enqueue

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # due on every clock, the real one and a pinned day's
MESSAGE_ID = re.compile(r"<huddle-outbox-(\d+)@")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Arrived:
    sender: str
    recipients: list[str]
    mail: email.message.EmailMessage

    @property
    def outbox_id(self) -> int:
        found = MESSAGE_ID.search(str(self.mail["Message-ID"]))
        assert found is not None, self.mail["Message-ID"]
        return int(found.group(1))


@dataclass
class SmtpSink:
    """The handler aiosmtpd calls for each mail: keeps it, after `delay` seconds (a slow server)."""

    delay: float = 0.0
    arrived: list[Arrived] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            time.sleep(self.delay)
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(mail, email.message.EmailMessage)
        with self.lock:
            self.arrived.append(Arrived(str(envelope.mail_from), list(envelope.rcpt_tos), mail))
        return "250 OK"

    def ids(self) -> list[int]:
        with self.lock:
            return [a.outbox_id for a in self.arrived]

    def wait_for(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.ids()) < count:
            assert time.monotonic() < deadline, f"{len(self.ids())} of {count} mails arrived"
            time.sleep(0.02)


@contextmanager
def smtp_server(delay: float = 0.0) -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink(delay=delay)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@dataclass
class Webhook:
    """Answers POSTs from a script: a status ("500", "200") answers it, "hang" waits `hang_seconds` before
    answering 200 (after the sender gave up); the last step repeats. Keeps every body it read and
    the bodies it answered 200 to in time."""

    script: list[str]
    hang_seconds: float = 3.0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_step(self) -> str:
        with self.lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]


@contextmanager
def webhook_server(script: list[str], hang_seconds: float = 3.0) -> Iterator[tuple[Webhook, str]]:
    hook = Webhook(script, hang_seconds)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with hook.lock:
                hook.bodies.append(body)
            step = hook.next_step()
            if step == "hang":
                time.sleep(hook.hang_seconds)
            code = 200 if step == "hang" else int(step)
            heard = code == 200 and step != "hang"
            # Counted before answering: the sender may check the count the moment it hears the 200.
            if heard:
                with hook.lock:
                    hook.delivered.append(body)
            try:
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"boom")
            except OSError:
                if heard:  # the sender hung up: it did not hear this answer
                    with hook.lock:
                        hook.delivered.remove(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook, f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/s3cr3t-t0ken-xyz"
    finally:
        server.shutdown()
        server.server_close()


def add_person(
    engine: Engine,
    username: str,
    *,
    email_address: str | None = "kim@example.com",
    role: Role = Role.rep,
    active: bool = True,
    chat: bool = False,
) -> int:
    """A person; `chat` turns on their new-MQL chat alerts (a rep hears new MQLs by email by default)."""
    with write_session(engine) as session:
        user = User(username=username, name=username.title(), email=email_address, role=role, active=active)
        session.add(user)
        session.flush()
        if chat:
            session.add(
                AlertPreference(
                    user_id=user.id or 0, kind=AlertKind.new_mql, channel=Channel.chat, enabled=True
                )
            )
        return int(user.id or 0)


def queue_messages(
    engine: Engine,
    user_id: int,
    count: int,
    *,
    channel: Channel = Channel.email,
    recipient: str | None = "kim@example.com",
    message: Callable[[int], Message] | None = None,
) -> None:
    """`count` new-MQL messages for one person, due long ago."""
    make = message or (
        lambda n: Message(
            subject=f"New MQL {n}",
            text=f"Lead {n}\nhttp://huddle.test/rate?lead={n}",
            html=f"<p>Lead {n} <a href='http://huddle.test/rate?lead={n}'>rate</a></p>",
            chat={"text": f"Lead {n}"},
        )
    )
    with write_session(engine) as session:
        for n in range(count):
            enqueue(
                session,
                event_key=f"new_mql:lead:{n}",
                kind=AlertKind.new_mql,
                user_id=user_id,
                channel=channel,
                message=make(n),
                recipient=recipient if channel is Channel.email else None,
                lead_id=None,
                due_at=LONG_AGO,
            )
