"""Quotas from a CSV: periods and amounts read as written, every bad row named, all rows or none, and a
re-import replaces instead of duplicating (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

import db.__main__ as cli
from db.access import OPERATOR
from db.engine import read_session, write_session
from db.models import Quota, Role, Team, User
from db.quotas import QuotaFileError, parse_amount, parse_period, parse_quota_csv, write_quotas
from db.settings import get_settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11", (date(2026, 11, 1), date(2026, 11, 30), "month")),
        ("2024-02", (date(2024, 2, 1), date(2024, 2, 29), "month")),
        ("2026-q4", (date(2026, 10, 1), date(2026, 12, 31), "quarter")),
        (" 2027-Q1 ", (date(2027, 1, 1), date(2027, 3, 31), "quarter")),
        ("2026-13", None),
        ("2026-Q5", None),
        ("Nov 2026", None),
    ],
)
def test_periods(text: str, expected: tuple[date, date, str] | None) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("50000", 50_000.0), ("$50,000", 50_000.0), ("1,234,567.5", 1_234_567.5), ("-5", None), ("1,5", None),
     ("", None)],
)  # fmt: skip
def test_amounts(text: str, expected: float | None) -> None:
    assert parse_amount(text) == expected


def test_every_bad_row_is_named() -> None:
    text = "rep,team,period,amount\nann,,2026-11,100\n,,2026-11,5\nbob,East,2026-11,5\ncy,,Nov,x\nann,,2026-11,7\n"
    with pytest.raises(QuotaFileError) as refused:
        parse_quota_csv(text)
    assert refused.value.problems == [
        "row 3: fill in exactly one of rep and team",
        "row 4: fill in exactly one of rep and team",
        "row 5: period 'Nov' is not YYYY-MM or YYYY-Qn",
        "row 5: amount 'x' is not a number of at least 0",
        "row 6: the same rep or team and period as row 2",
    ]


def test_a_header_without_the_columns_is_refused() -> None:
    with pytest.raises(QuotaFileError, match="the header needs"):
        parse_quota_csv("who,when,how much\nann,2026-11,5\n")


def _people(engine: Engine) -> None:
    with write_session(engine) as session:
        east = Team(name="East")
        session.add(east)
        session.flush()
        session.add(
            User(username="ann", name="Ann Lee", email="ann@example.com", role=Role.rep, team_id=east.id)
        )
        session.add(User(username="bob", name="Bob", role=Role.rep, team_id=east.id))


def _quotas(engine: Engine) -> list[tuple[str | None, int | None, date, str, float]]:
    with read_session(engine) as session:
        users = {u.id: u.username for u in session.exec(select(User)).all()}
        rows = session.exec(select(Quota).order_by(Quota.period_start, Quota.amount)).all()
        return [(users.get(q.user_id), q.team_id, q.period_start, q.period_kind, q.amount) for q in rows]


def test_write_then_replace(db_engine: Engine) -> None:
    _people(db_engine)
    rows = parse_quota_csv("rep,team,period,amount\nANN@example.com,,2026-11,10000\n,East,2026-Q4,90000\n")
    with write_session(db_engine) as session:
        assert write_quotas(session=session, actor=OPERATOR, rows=rows) == (2, 0)
    again = parse_quota_csv("rep,team,period,amount\nAnn Lee,,2026-11,12000\n")
    with write_session(db_engine) as session:
        assert write_quotas(session=session, actor=OPERATOR, rows=again) == (0, 1)
    quotas = _quotas(db_engine)
    assert [(u, p, k, a) for u, _, p, k, a in quotas] == [
        (None, date(2026, 10, 1), "quarter", 90_000.0),
        ("ann", date(2026, 11, 1), "month", 12_000.0),
    ]


def test_an_unknown_rep_refuses_the_whole_file(db_engine: Engine) -> None:
    _people(db_engine)
    rows = parse_quota_csv("rep,team,period,amount\nbob,,2026-11,1\nnobody,,2026-11,2\n,West,2026-11,3\n")
    with pytest.raises(QuotaFileError) as refused, write_session(db_engine) as session:
        write_quotas(session=session, actor=OPERATOR, rows=rows)
    assert refused.value.problems == [
        "row 3: no single user is called 'nobody'",
        "row 4: there is no team 'West'",
    ]
    assert _quotas(db_engine) == []


def test_the_command_line(
    db_url: str, db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    _people(db_engine)
    good, bad = tmp_path / "quotas.csv", tmp_path / "bad.csv"
    good.write_text('\ufeffrep,period,amount\nann,2026-11,"$10,000"\nbob,2026-11,8000\n', encoding="utf-8")
    bad.write_text("rep,period,amount\nann,2026-11,-1\n", encoding="utf-8")
    assert cli.main(["quotas", "import", str(good)]) == 0
    assert "2 added, 0 replaced" in capsys.readouterr().out
    assert cli.main(["quotas", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "row 2: amount '-1'" in err and "no quota was imported" in err
    assert [a for *_, a in _quotas(db_engine)] == [8_000.0, 10_000.0]
    get_settings.cache_clear()
