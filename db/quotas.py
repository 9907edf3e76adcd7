"""Quotas from a CSV: one row per rep or team and month or quarter, all rows or none.

The file has a header and the columns `rep` or `team` (one of them filled in each row), `period`
(`2026-11` for a month, `2026-Q4` for a quarter) and `amount` (at least 0; `$` and `,` thousands
separators allowed). A rep is found by username, email or name, ignoring case; a team by name. Importing a
row for a rep or team and period that already has a quota replaces its amount.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session, select

from db import audit
from db.access import Action, Actor, authorize, person
from db.models import Quota, Team, User

PERIOD = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$", re.IGNORECASE)
AMOUNT = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$")


class QuotaFileError(Exception):
    """The file cannot be read as quotas; `problems` names each row that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported: " + "; ".join(problems[:20]))
        self.problems = problems


@dataclass(frozen=True)
class QuotaRow:
    line: int  # as a spreadsheet counts: the header is row 1
    rep: str | None
    team: str | None
    start: date
    end: date  # last day, included
    kind: str  # "month" or "quarter"
    amount: float


def parse_period(text: str) -> tuple[date, date, str] | None:
    """ "2026-11" -> November 2026, "2026-q4" -> October to December 2026; None when neither."""
    found = PERIOD.match(text.strip())
    if not found:
        return None
    year = int(found.group(1))
    first_month, months = (
        (int(found.group(2)), 1) if found.group(2) else ((int(found.group(3)) - 1) * 3 + 1, 3)
    )
    start = date(year, first_month, 1)
    after = first_month - 1 + months
    end = date(year + after // 12, after % 12 + 1, 1) - timedelta(days=1)
    return start, end, "month" if months == 1 else "quarter"


def parse_amount(text: str) -> float | None:
    found = AMOUNT.match(text.strip())
    if not found:
        return None
    return float(found.group(1).replace(",", "") + (found.group(2) or ""))


def _row(line: int, cells: dict[str, str]) -> tuple[QuotaRow | None, list[str]]:
    rep, team = (cells.get("rep") or "").strip() or None, (cells.get("team") or "").strip() or None
    period = parse_period(cells.get("period") or "")
    amount = parse_amount(cells.get("amount") or "")
    problems = []
    if (rep is None) == (team is None):
        problems.append(f"row {line}: fill in exactly one of rep and team")
    if period is None:
        problems.append(f"row {line}: period {cells.get('period')!r} is not YYYY-MM or YYYY-Qn")
    if amount is None:
        problems.append(f"row {line}: amount {cells.get('amount')!r} is not a number of at least 0")
    if problems or period is None or amount is None:
        return None, problems
    return QuotaRow(line, rep, team, period[0], period[1], period[2], amount), []


def parse_quota_csv(text: str) -> list[QuotaRow]:
    """Every row, or QuotaFileError listing every problem (with the spreadsheet row number)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {name.strip().lower() for name in reader.fieldnames or []}
    missing = {"period", "amount"} - header
    if missing or not header & {"rep", "team"}:
        raise QuotaFileError([f"the header needs period, amount and rep or team; it has {sorted(header)}"])
    rows: list[QuotaRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, str | None, date, date], int] = {}
    for line, raw in enumerate(reader, start=2):
        cells = {k.strip().lower(): (v or "") for k, v in raw.items() if k is not None}
        if not any(value.strip() for value in cells.values()):
            continue
        row, found = _row(line, cells)
        problems += found
        if row is None:
            continue
        key = ((row.rep or "").lower(), row.team, row.start, row.end)
        if key in seen:
            problems.append(f"row {line}: the same rep or team and period as row {seen[key]}")
        seen[key] = line
        rows.append(row)
    if problems:
        raise QuotaFileError(problems)
    return rows


def _find_rep(users: list[User], key: str) -> User | None:
    """Username, then email, then name, ignoring case; a key two users share finds neither."""
    for field in ("username", "email", "name"):
        found = [u for u in users if (getattr(u, field) or "").strip().lower() == key.lower()]
        if found:
            return found[0] if len(found) == 1 else None
    return None


def write_quotas(
    *, session: Session, actor: Actor, rows: list[QuotaRow], file_name: str = ""
) -> tuple[int, int]:
    """Add or replace each quota in the caller's transaction, as `actor` (an admin, or the command line);
    (added, replaced). Unknown reps or teams refuse the whole file."""
    authorize(session=session, actor=actor, action=Action.quotas_set, object_id=file_name or None)
    users = list(session.exec(select(User)).all())
    teams = {t.name: t for t in session.exec(select(Team)).all()}
    problems, targets = [], []
    for row in rows:
        rep = _find_rep(users, row.rep) if row.rep else None
        team = teams.get(row.team) if row.team else None
        if row.rep and rep is None:
            problems.append(f"row {row.line}: no single user is called {row.rep!r}")
        if row.team and team is None:
            problems.append(f"row {row.line}: there is no team {row.team!r}")
        targets.append((row, rep.id if rep else None, team.id if team else None))
    if problems:
        raise QuotaFileError(problems)
    added = replaced = 0
    for row, user_id, team_id in targets:
        existing = session.exec(
            select(Quota).where(
                Quota.user_id == user_id,
                Quota.team_id == team_id,
                Quota.period_start == row.start,
                Quota.period_end == row.end,
            )
        ).first()
        if existing is None:
            session.add(Quota(user_id=user_id, team_id=team_id, period_start=row.start, period_end=row.end,
                              period_kind=row.kind, amount=row.amount))  # fmt: skip
            added += 1
        else:
            existing.amount = row.amount
            session.add(existing)
            replaced += 1
    audit.record(
        session=session,
        action="quotas.import",
        actor=person(actor),
        actor_username=actor.username,
        object_type="quota_file",
        object_id=file_name or None,
        detail=f"added={added} replaced={replaced}",
    )
    return added, replaced


def read_quota_file(path: Path) -> list[QuotaRow]:
    try:
        return parse_quota_csv(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise QuotaFileError([f"{path} is not UTF-8 text (save it as CSV UTF-8)"]) from error
