"""What day it is for Huddle: the real date, or a pinned one where pinning cannot mislead anybody.

`HUDDLE_TODAY=2026-11-23` pins the day the periods, the weekly sync and the demo company are computed
from, so the test suite and the demo behave the same on every date (the first of a month, a Monday,
February 29th). It is honoured only with demo data or under pytest: a team's own numbers always run on
the real calendar. Session expiry, lockouts and audit times always use the real clock.
"""

from __future__ import annotations

import os
import sys
import time as time_module
from datetime import UTC, date, datetime, time, timedelta

from db.settings import get_settings

PINNED_DAY_VARIABLE = "HUDDLE_TODAY"
# A pinned day's "now" starts at its noon when the process starts and then runs on, so writes made one
# after another (a rating, then its change) keep their order, and each run starts at the same moment.
PINNED_TIME = time(12, 0)
_STARTED = time_module.monotonic()


class BadPinnedDay(ValueError):
    """HUDDLE_TODAY is set but is not a YYYY-MM-DD date."""


def pinning_allowed() -> bool:
    return get_settings().huddle_demo or "pytest" in sys.modules


def pinned_day() -> date | None:
    """The day HUDDLE_TODAY names, where it is set and allowed; None otherwise."""
    raw = os.environ.get(PINNED_DAY_VARIABLE, "").strip()
    if not raw or not pinning_allowed():
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise BadPinnedDay(f"{PINNED_DAY_VARIABLE}={raw!r} is not a date (YYYY-MM-DD)") from error


def today() -> date:
    """Today's date (UTC), or the pinned day."""
    return pinned_day() or datetime.now(UTC).date()


def now() -> datetime:
    """The current moment (aware, UTC); on a pinned day, its noon plus the time since this process began."""
    day = pinned_day()
    if day is None:
        return datetime.now(UTC)
    ran = timedelta(seconds=time_module.monotonic() - _STARTED)
    return datetime.combine(day, PINNED_TIME, tzinfo=UTC) + ran
