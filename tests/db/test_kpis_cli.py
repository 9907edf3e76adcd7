"""`python -m db kpis --json` on a small known data set, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine

import db.__main__ as cli
from db.engine import make_engine, write_session
from db.models import DataSource, Lead, Outcome, Role, Team, User
from db.settings import get_settings


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def known(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Three opportunities of two teams: one won in Jan (100), one lost in Feb, one open; no MQL stage."""
    engine = make_engine(db_url)
    with write_session(engine) as session:
        session.add(DataSource(name="crm", label="CRM", stages=["opportunity", "won"]))
        east, west = Team(name="East"), Team(name="West")
        session.add_all([east, west])
        session.flush()
        ann = User(username="ann", name="Ann Lee", role=Role.rep, team_id=east.id)
        bob = User(username="bob", name="Bob Ray", role=Role.rep, team_id=west.id)
        session.add_all([ann, bob])
        session.flush()
        session.add_all(
            [
                Lead(source_system="crm", external_id="1", opportunity_at=_at("2026-01-02"), closed_at=_at("2026-01-31 23:00"),
                     outcome=Outcome.won, amount=100, owner_id=ann.id, team_id=east.id, source="ads"),
                Lead(source_system="crm", external_id="2", opportunity_at=_at("2026-01-10"), closed_at=_at("2026-02-01"),
                     outcome=Outcome.lost, amount=0, owner_id=bob.id, team_id=west.id, source="ads"),
                Lead(source_system="crm", external_id="3", opportunity_at=_at("2026-02-03"), amount=40,
                     owner_id=bob.id, team_id=west.id),
            ]
        )  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()
    engine.dispose()


def _kpis(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert cli.main(["kpis", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_all_time_numbers(known: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    report = _kpis(capsys)
    assert report["period"] == {"from": None, "to": None}
    assert report["stages"] == {
        "leads": None,
        "mql": None,
        "sql": None,
        "opportunity": 3,
        "won": 1,
        "lost": 1,
    }
    assert report["missing_stages"] == ["leads", "mql", "sql"]
    assert report["revenue"] == 100
    assert (
        report["win_rate"]["won"] == 1
        and report["win_rate"]["closed"] == 2
        and report["win_rate"]["value"] == 0.5
    )
    assert report["conversion"]["mql_to_sql"] is None
    assert report["conversion"]["opportunity_to_won"]["num"] == 1
    assert report["conversion"]["opportunity_to_won"]["den"] == 3
    assert report["median_days_to_won"] == 29  # Jan 2 -> Jan 31


def test_the_last_day_is_included(known: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    january = _kpis(capsys, "--from", "2026-01-01", "--to", "2026-01-31")
    assert (january["stages"]["won"], january["stages"]["lost"], january["stages"]["opportunity"]) == (
        1,
        0,
        2,
    )
    february = _kpis(capsys, "--from", "2026-02-01", "--to", "2026-02-28")
    assert (february["stages"]["won"], february["stages"]["lost"], february["revenue"]) == (0, 1, 0)


def test_groups_by_team_name_owner_and_month(known: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    by_team = {g["key"]: g for g in _kpis(capsys, "--by", "team")["groups"]}
    assert set(by_team) == {"East", "West"}
    assert by_team["East"]["revenue"] == 100 and by_team["West"]["win_rate"]["closed"] == 1
    by_owner = {g["key"]: g["stages"]["opportunity"] for g in _kpis(capsys, "--by", "owner")["groups"]}
    assert by_owner == {"Ann Lee": 1, "Bob Ray": 2}
    by_month = {g["key"]: g["stages"] for g in _kpis(capsys, "--by", "month")["groups"]}
    assert by_month["2026-01"]["won"] == 1 and by_month["2026-02"]["lost"] == 1
    by_source = {g["key"] for g in _kpis(capsys, "--by", "source")["groups"]}
    assert by_source == {"ads", "(none)"}


def test_bad_periods_are_refused(known: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["kpis", "--json", "--from", "2026-03-01", "--to", "2026-02-01"]) == 2
    assert "--from is after --to" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["kpis", "--json", "--from", "March"])
