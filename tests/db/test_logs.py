"""db/logs.py: one handler on stderr at the level HUDDLE_LOG_LEVEL names, and a filter that lets no secret
through, whatever a module or a library puts in a record."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from db.logs import FORMAT, HIDDEN, Redact, _HuddleHandler, configure_logging
from db.settings import get_settings

COOKIE_KEY = "cookie-key-for-the-log-tests-0123456789abcdef"
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VybmFtZSI6InJlcCJ9.M3UvPcQM79RlANaC7QXYHeZMq"


@pytest.fixture
def fresh_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The root logger as a new process has it (no handler of ours), put back afterwards; yields the
    stream the handler configure_logging installs writes to."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _HuddleHandler)]
    level, alembic_level = root.level, logging.getLogger("alembic").level
    for handler in ours:
        root.removeHandler(handler)
    monkeypatch.setenv("HUDDLE_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://huddle:db-pass-4471@db.internal/huddle")
    get_settings.cache_clear()
    stream = io.StringIO()
    yield stream
    for handler in [h for h in root.handlers if isinstance(h, _HuddleHandler)]:
        root.removeHandler(handler)
    for handler in ours:
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(alembic_level)
    get_settings.cache_clear()


def test_one_line_a_record_with_time_level_and_logger(fresh_root: io.StringIO) -> None:
    configure_logging(stream=fresh_root)
    logging.getLogger("db.something").info("hello %s", "there")
    line = fresh_root.getvalue().strip()
    assert FORMAT == "%(asctime)s %(levelname)s %(name)s: %(message)s"
    assert line.endswith(" INFO db.something: hello there")
    assert line[:4].isdigit()  # the time comes first


@pytest.mark.parametrize(
    ("setting", "level", "warned"),
    [("warning", logging.WARNING, False), ("DEBUG", logging.DEBUG, False), ("", logging.INFO, False),
     ("chatty", logging.INFO, True)],
)  # fmt: skip
def test_the_level_comes_from_huddle_log_level(
    fresh_root: io.StringIO, monkeypatch: pytest.MonkeyPatch, setting: str, level: int, warned: bool
) -> None:
    """INFO when unset; a value that is no level says so, once, and logs at INFO."""
    monkeypatch.setenv("HUDDLE_LOG_LEVEL", setting)
    get_settings.cache_clear()
    configure_logging(stream=fresh_root)
    assert logging.getLogger().level == level
    assert ("is not a level" in fresh_root.getvalue()) is warned


def test_info_by_default(fresh_root: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUDDLE_LOG_LEVEL", raising=False)
    get_settings.cache_clear()
    configure_logging(stream=fresh_root)
    logging.getLogger("db.x").debug("not shown")
    logging.getLogger("db.x").info("shown")
    assert fresh_root.getvalue().strip().endswith("db.x: shown")


def test_configuring_again_adds_no_second_handler(fresh_root: io.StringIO) -> None:
    first = configure_logging(stream=fresh_root)
    again = configure_logging(secrets=["a-secret-added-later-9876"])
    assert first is again
    assert sum(isinstance(h, _HuddleHandler) for h in logging.getLogger().handlers) == 1
    logging.getLogger("ui.x").info("key a-secret-added-later-9876")
    assert "a-secret-added-later-9876" not in fresh_root.getvalue()


def test_the_configured_secrets_and_secret_shapes_are_redacted(fresh_root: io.StringIO) -> None:
    configure_logging(stream=fresh_root)
    log = logging.getLogger("db.x")
    log.info("the key is %s", COOKIE_KEY)
    log.info("connecting to %s", get_settings().database_url)
    log.info("password=hunter2-x and new_password: 'also-this' and {'password': 'and-this'}")
    log.info("HUDDLE_COOKIE_KEY=%s", "another-key-not-configured-1234567890")
    log.info("cookie huddle_auth=%s", TOKEN)
    log.info("mysql://root:r00t-pw@localhost/x")
    text = fresh_root.getvalue()
    for secret in (COOKIE_KEY, "db-pass-4471", "hunter2-x", "also-this", "and-this", TOKEN, "r00t-pw"):
        assert secret not in text, secret
    assert "another-key-not-configured" not in text
    assert text.count(HIDDEN) >= 8
    assert "db.internal" in text and "huddle" in text  # the rest of the line stays readable


def test_a_trace_is_redacted_too(fresh_root: io.StringIO) -> None:
    configure_logging(stream=fresh_root)
    try:
        raise ConnectionError(
            f"could not log in to postgresql://huddle:db-pass-4471@db/huddle with {COOKIE_KEY}"
        )
    except ConnectionError:
        logging.getLogger("ui.logs").exception("unexpected error on %s", "funnel")
    text = fresh_root.getvalue()
    assert "Traceback" in text and "ConnectionError" in text
    assert "db-pass-4471" not in text and COOKIE_KEY not in text


def test_the_filter_keeps_every_record_and_leaves_plain_ones_alone() -> None:
    redact = Redact()
    redact.keep_secret("short", "a-long-enough-secret")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user %s: %s", ("short", "fine"), None)
    assert redact.filter(record) is True
    assert record.getMessage() == "user short: fine"  # values under 8 characters would blank out words
    assert redact.redact("a-long-enough-secret!") == f"{HIDDEN}!"
    broken = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", ("one",), None)
    assert redact.filter(broken) is True  # a malformed call is left to the handler to report
