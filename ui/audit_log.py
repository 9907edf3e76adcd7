"""The admin's audit log screen: filters in, a frame and a spreadsheet-safe CSV out."""

from __future__ import annotations

from datetime import UTC, date

import polars as pl

from core.funnel import spreadsheet_safe_csv
from db.audit_search import AuditFilter, audit_action_families, search_audit
from ui.auth import signed_in_id
from ui.db import read_as

COLUMNS = ("when (UTC)", "who", "action", "object", "outcome", "detail")
ANY_ACTION = ""


def audit_frame(
    *, who: str = "", action: str = ANY_ACTION, first_day: date | None = None, last_day: date | None = None
) -> pl.DataFrame:
    """The matching audit entries, newest first; read as the signed-in admin (the service checks)."""
    filters = AuditFilter(who=who, action=action, first_day=first_day, last_day=last_day)
    entries = read_as(
        signed_in_id(), lambda session, actor: search_audit(session=session, actor=actor, filters=filters)
    )
    rows = [
        (
            entry.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if entry.at.tzinfo else str(entry.at),
            entry.actor_username or "",
            entry.action,
            f"{entry.object_type or ''} {entry.object_id or ''}".strip(),
            entry.outcome,
            entry.detail or "",
        )
        for entry in entries
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String), orient="row")


def action_choices() -> list[str]:
    families = read_as(
        signed_in_id(), lambda session, actor: audit_action_families(session=session, actor=actor)
    )
    return [ANY_ACTION, *families]


def audit_csv(frame: pl.DataFrame) -> bytes:
    """The export: a cell a spreadsheet would run as a formula (= + - @ tab CR) is made plain text."""
    return spreadsheet_safe_csv(frame).encode("utf-8")
