"""The app's side of db/logs.py: the one logging configuration, with the cookie key in use kept secret,
and unexpected errors logged with their trace on the server while the person sees only the short message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from db.logs import configure_logging
from ui.auth import CookieKeyMissing, cookie_key

logger = logging.getLogger(__name__)


def start_logging() -> None:
    """Called by app.py on every run: the handler is installed once per process, and the cookie key in
    use (secrets.toml, the environment or the demo key) is added to what the log never shows."""
    try:
        key = cookie_key()
    except CookieKeyMissing:
        key = ""  # app.py refuses to start with this key, so there is nothing to hide
    configure_logging(secrets=(key,))


@contextmanager
def errors_logged(where: str) -> Iterator[None]:
    """Log an unexpected error with its trace, then let it go on to Streamlit, which shows the person only
    "This app has encountered an error" (client.showErrorDetails = "none") and no stack trace. st.stop and
    st.rerun are not errors (they are BaseExceptions) and pass untouched."""
    try:
        yield
    except Exception:
        logger.exception("unexpected error on %s", where)
        raise
