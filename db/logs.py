"""One logging configuration for the app and the command line: the standard library, one line a record
(time, level, logger, message) on stderr, where `streamlit run` and systemd keep their logs.

Modules log through `logging.getLogger(__name__)`; nothing but `configure_logging()` adds handlers. The
level comes from HUDDLE_LOG_LEVEL (INFO by default). Every record passes `Redact` on its way out, a net
under the rule that no password, cookie key, cookie or database password is ever logged.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from db.settings import get_settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HIDDEN = "[redacted]"

# password=..., new_password: ..., "password": "...", HUDDLE_COOKIE_KEY=...: the value, up to a quote, a
# space or a separator.
_NAMED_SECRET = re.compile(
    r"(?i)(?<![a-z])((?:password|passwd|pwd|cookie_key|secret)[\"']?\s*[=:]\s*[\"']?)([^\s\"'&,;)}\]]+)"
)
# scheme://user:password@host: the password of any URL, a database's most of all.
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^:/@\s]*:)([^@\s/]+)(@)")
# A signed login cookie (a JSON web token): three base64url parts, the first a JSON header.
_WEB_TOKEN = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+")


class Redact(logging.Filter):
    """Rewrites a record's message and trace so that no secret it knows of, and nothing shaped like a
    password, a URL's password or a login cookie, leaves the process. Never drops a record."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def keep_secret(self, *values: str) -> None:
        # Short values would blank out ordinary words; the secrets worth hiding are long.
        self.secrets.update(value for value in values if len(value) >= 8)

    def redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, HIDDEN)
        text = _NAMED_SECRET.sub(lambda m: m.group(1) + HIDDEN, text)
        text = _URL_PASSWORD.sub(lambda m: m.group(1) + HIDDEN + m.group(3), text)
        return _WEB_TOKEN.sub(HIDDEN, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler reports it, as logging always does
            return True
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class _HuddleHandler(logging.StreamHandler):
    """The one handler configure_logging installs, found again by its class on later calls. Without a
    stream of its own it writes to whatever sys.stderr is at the time, as logging's last resort does."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream)
        self._own_stream = stream

    @property
    def stream(self) -> TextIO:
        return self._own_stream or sys.stderr

    @stream.setter
    def stream(self, value: TextIO | None) -> None:
        self._own_stream = value


def _level(name: str) -> int | None:
    """The level a name means (any case; empty is INFO); None for a name that is no level."""
    level = logging.getLevelName(name.strip().upper() or "INFO")
    return level if isinstance(level, int) else None


def _database_password(url: str) -> str:
    try:
        return make_url(url).password or ""
    except ArgumentError:
        return ""


def configure_logging(*, secrets: Iterable[str] = (), stream: TextIO | None = None) -> Redact:
    """Install the handler on the root logger once per process (later calls only add `secrets`); returns
    its filter. The cookie key and the database's password from the settings are always kept secret."""
    settings = get_settings()
    known = (*secrets, settings.huddle_cookie_key, _database_password(settings.database_url))
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, _HuddleHandler):
            redact = next(f for f in handler.filters if isinstance(f, Redact))
            redact.keep_secret(*known)
            return redact
    handler = _HuddleHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    redact = Redact()
    redact.keep_secret(*known)
    handler.addFilter(redact)
    root.addHandler(handler)
    level = _level(settings.huddle_log_level)
    root.setLevel(logging.INFO if level is None else level)
    if level is None:
        logging.getLogger(__name__).warning(
            "HUDDLE_LOG_LEVEL=%r is not a level (DEBUG, INFO, WARNING, ERROR): logging at INFO",
            settings.huddle_log_level,
        )
    # Alembic says at INFO which database kind it found on every schema check; `upgrade` prints its own line.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    return redact
