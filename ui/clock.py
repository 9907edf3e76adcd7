"""The day and moment the screens compute from: db.clock's (pinned by HUDDLE_TODAY only with demo data or
under pytest), so a screen never reads the wall clock itself."""

from db.clock import now, today

__all__ = ["now", "today"]
