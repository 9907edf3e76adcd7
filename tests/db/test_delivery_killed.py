"""`python -m db notify` as a real process, on a SQLite file and on PostgreSQL: `--serve` killed with SIGKILL
in the middle of its batches loses nothing on restart and duplicates at most the one message it had in
flight; `--once` delivers; `--dry-run` sends nothing and changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db.__main__ import main
from db.engine import make_engine, read_session
from db.models import OutboxMessage, OutboxStatus
from db.settings import get_settings
from tests.db.mail_servers import SmtpSink, add_person, queue_messages, smtp_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3


@pytest.fixture
def slow_smtp() -> Iterator[tuple[SmtpSink, int]]:
    """A mail server that takes 15 ms a message, so a batch is in flight long enough to be killed in."""
    with smtp_server(delay=0.015) as server:
        yield server


def _environment(db_url: str, smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        HUDDLE_DEMO="0",
        HUDDLE_SMTP_HOST="127.0.0.1",
        HUDDLE_SMTP_PORT=str(smtp_port),
        HUDDLE_SMTP_SECURITY="none",
        HUDDLE_MAIL_FROM="huddle@example.com",
        HUDDLE_LOG_LEVEL="INFO",
    )
    env.pop("HUDDLE_CHAT_WEBHOOK_URL", None)
    return env


def _notify(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "db", "notify", *args, "--lease", str(LEASE_SECONDS), "--batch", "20"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _statuses(engine: Engine) -> Counter[OutboxStatus]:
    with read_session(engine) as session:
        return Counter(OutboxStatus(s) for s in session.exec(select(OutboxMessage.status)).all())


def _ids(engine: Engine) -> list[int]:
    with read_session(engine) as session:
        return sorted(int(i or 0) for i in session.exec(select(OutboxMessage.id)).all())


def test_a_sender_killed_mid_batch_loses_nothing_and_duplicates_at_most_the_message_in_flight(
    db_url: str, slow_smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = slow_smtp
    engine = make_engine(db_url)
    try:
        kim = add_person(engine, "kim")
        queue_messages(engine, kim, 300)
        env = _environment(db_url, port)
        serving = _notify(env, "--serve", "--interval", "0.5")
        try:
            sink.wait_for(60, timeout=120)
        finally:
            serving.send_signal(signal.SIGKILL)
            serving.wait(timeout=30)
        arrived_before = len(sink.ids())
        left = _statuses(engine)
        assert left[OutboxStatus.sending] + left[OutboxStatus.queued] > 0, "killed before it was done"
        time.sleep(LEASE_SECONDS + 0.5)  # the killed sender's claim runs out
        restarted = _notify(env, "--once")
        out, err = restarted.communicate(timeout=300)
        assert restarted.returncode == 0, err.decode()
        arrivals = Counter(sink.ids())
        assert set(arrivals) == set(_ids(engine)), "every message arrived"
        duplicated = sum(n - 1 for n in arrivals.values())
        assert duplicated <= 1, f"{duplicated} messages arrived twice; only the one in flight may"
        assert _statuses(engine) == Counter({OutboxStatus.sent: 300})
        assert arrived_before < 300 <= len(sink.ids())
        assert f"{300 - left[OutboxStatus.sent]} sent".encode() in out, "the restart sent only what was left"
    finally:
        engine.dispose()


@pytest.fixture
def cli_env(
    db_url: str, monkeypatch: pytest.MonkeyPatch, slow_smtp: tuple[SmtpSink, int]
) -> Iterator[Engine]:
    for name, value in _environment(db_url, slow_smtp[1]).items():
        if name.startswith(("HUDDLE_", "DATABASE_")):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("HUDDLE_CHAT_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    engine = make_engine(db_url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_dry_run_prints_what_would_be_sent_and_sends_and_changes_nothing(
    cli_env: Engine, slow_smtp: tuple[SmtpSink, int], capsys: pytest.CaptureFixture[str]
) -> None:
    kim = add_person(cli_env, "kim")
    queue_messages(cli_env, kim, 2)
    with read_session(cli_env) as session:
        before = [r.model_dump() for r in session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))]
    assert main(["notify", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "would send 2 (nothing sent, nothing changed)" in printed
    assert "email to kim <kim@example.com>: New MQL 0" in printed
    assert "chat is off: HUDDLE_CHAT_WEBHOOK_URL is not set; its messages wait" in printed
    with read_session(cli_env) as session:
        after = [r.model_dump() for r in session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))]
    assert after == before and slow_smtp[0].arrived == []


def test_once_delivers_what_is_due_and_says_so(
    cli_env: Engine, slow_smtp: tuple[SmtpSink, int], capsys: pytest.CaptureFixture[str]
) -> None:
    kim = add_person(cli_env, "kim")
    queue_messages(cli_env, kim, 3)
    assert main(["notify", "--once"]) == 0
    printed = capsys.readouterr().out
    assert "3 sent, 0 to retry, 0 failed" in printed
    assert "chat: 0 messages wait: HUDDLE_CHAT_WEBHOOK_URL is not set" in printed
    assert sorted(slow_smtp[0].ids()) == _ids(cli_env)


def test_two_sender_processes_at_once_deliver_each_message_exactly_once(
    db_url: str, slow_smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = slow_smtp
    engine = make_engine(db_url)
    try:
        queue_messages(engine, add_person(engine, "kim"), 200)
        env = _environment(db_url, port)
        senders = [_notify(env, "--once"), _notify(env, "--once")]
        outputs = [sender.communicate(timeout=300) for sender in senders]
        assert [sender.returncode for sender in senders] == [0, 0], [err.decode() for _, err in outputs]
        assert sorted(sink.ids()) == _ids(engine), "each of the 200 arrived exactly once"
        assert _statuses(engine) == Counter({OutboxStatus.sent: 200})
    finally:
        engine.dispose()


def test_serve_stops_cleanly_on_sigterm_as_systemd_stops_it(
    db_url: str, slow_smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = slow_smtp
    engine = make_engine(db_url)
    try:
        queue_messages(engine, add_person(engine, "kim"), 5)
        serving = _notify(_environment(db_url, port), "--serve", "--interval", "60")
        sink.wait_for(5, timeout=120)
        serving.send_signal(signal.SIGTERM)
        out, err = serving.communicate(timeout=60)
        assert serving.returncode == 0, err.decode()
        assert out.decode().strip().endswith("stopped")
        assert _statuses(engine) == Counter({OutboxStatus.sent: 5})
    finally:
        engine.dispose()
