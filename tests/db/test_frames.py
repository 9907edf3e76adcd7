"""Loaders give core exactly its schema, with naive UTC datetimes, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy.engine import Engine

from core.schema import LEADS_SCHEMA, PEOPLE_SCHEMA, QUOTAS_SCHEMA, TRAFFIC_SCHEMA
from db.engine import write_session
from db.frames import load_leads, load_people, load_quotas, load_traffic
from db.models import DailyTraffic, DataSource, Lead, Outcome, Quota, Role, Team, User


def _fill(engine: Engine) -> None:
    with write_session(engine) as session:
        session.add(DataSource(name="crm", label="CRM", stages=["created", "won"]))
        team = Team(name="SMB", region="West")
        session.add(team)
        session.flush()
        rep = User(username="ann", name='Ann, "the closer"', role=Role.rep, team_id=team.id)
        session.add_all([rep, User(username="max", name="Max", role=Role.marketer)])
        session.flush()
        berlin = timezone(timedelta(hours=1))
        session.add_all(
            [
                Lead(source_system="crm", external_id="a", created_at=datetime(2026, 3, 1, 9, 30, 15, 123456, UTC),
                     closed_at=datetime(2026, 3, 2, 10, 0, tzinfo=berlin), outcome=Outcome.won, amount=1200.5,
                     owner_id=rep.id, team_id=team.id, source="paid, search", campaign='Q1 "launch"', industry="Retail"),
                Lead(source_system="crm", external_id="b", created_at=datetime(2026, 3, 5, tzinfo=UTC)),
            ]
        )  # fmt: skip
        session.add(DailyTraffic(source_system="crm", day=date(2026, 3, 1), channel="seo", sessions=40))
        session.add(
            Quota(user_id=rep.id, period_start=date(2026, 3, 1), period_end=date(2026, 3, 31), amount=5000)
        )


def test_leads_frame_matches_the_rows(db_engine: Engine) -> None:
    _fill(db_engine)
    frame = load_leads(db_engine).sort("id")
    assert frame.schema == pl.Schema(LEADS_SCHEMA)
    first = frame.row(0, named=True)
    assert first["created_at"] == datetime(2026, 3, 1, 9, 30, 15, 123456)
    assert first["closed_at"] == datetime(2026, 3, 2, 9, 0)  # 10:00 in UTC+1 is 09:00 UTC
    assert (first["outcome"], first["amount"], first["source"], first["campaign"]) == (
        "won",
        1200.5,
        "paid, search",
        'Q1 "launch"',
    )
    second = frame.row(1, named=True)
    assert second["closed_at"] is None and second["outcome"] is None and second["source"] is None
    assert load_leads(db_engine, source_system="nope").is_empty()
    assert len(load_leads(db_engine, source_system="crm")) == 2


def test_people_traffic_and_quotas_frames(db_engine: Engine) -> None:
    _fill(db_engine)
    people = load_people(db_engine).sort("username")
    assert people.schema == pl.Schema(PEOPLE_SCHEMA)
    assert people.select("username", "name", "role", "team").rows() == [
        ("ann", 'Ann, "the closer"', "rep", "SMB"),
        ("max", "Max", "marketer", None),
    ]
    expected_traffic = pl.DataFrame(
        {"day": [date(2026, 3, 1)], "channel": ["seo"], "sessions": [40]}, schema=TRAFFIC_SCHEMA
    )
    assert_frame_equal(load_traffic(db_engine), expected_traffic)
    quotas = load_quotas(db_engine)
    assert quotas.schema == pl.Schema(QUOTAS_SCHEMA)
    assert quotas.select("period_start", "period_end", "amount").row(0) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        5000.0,
    )


def test_empty_database_gives_empty_frames_with_the_schema(db_engine: Engine) -> None:
    frame = load_leads(db_engine)
    assert frame.is_empty() and frame.schema == pl.Schema(LEADS_SCHEMA)


def test_leads_read_in_ranges_keep_every_value(db_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Text that needs quoting, '' against null, floats to the last digit, ids with gaps, several ranges
    on several threads: the same frame as a plain row-by-row read."""
    import db.frames

    with write_session(db_engine) as session:
        session.add(DataSource(name="crm", label="CRM", stages=["created", "won"]))
        session.add(DataSource(name="web", label="Web", stages=["created"]))
        tricky = ["", "it's", 'say "hi"', "two\nlines", "tab\there", "ünïcode ✓", "\\", "[1,2]", "null", None]
        session.add_all(
            Lead(id=3 + 7 * i, source_system="web" if i % 3 else "crm", external_id=f"x{i}",
                 created_at=datetime(2026, 3, 1, 9, 30, i % 60, i * 997 % 1_000_000, UTC),
                 amount=None if i % 4 == 0 else 0.1 * i + 0.2, campaign=tricky[i % len(tricky)],
                 outcome=Outcome.won if i % 5 == 0 else None,
                 closed_at=datetime(2026, 4, 1, tzinfo=UTC) if i % 5 == 0 else None)
            for i in range(40)
        )  # fmt: skip
    monkeypatch.setattr(db.frames, "SQLITE_RANGE_IDS", 25)
    for source in (None, "web"):
        frame = load_leads(db_engine, source_system=source)
        if db_engine.dialect.name == "sqlite":
            assert frame["id"].is_sorted()
            where = "" if source is None else f"WHERE leads.source_system = '{source}'"
            times = {t: f"leads.{t}" for t in ("created_at", "mql_at", "sql_at", "opportunity_at", "closed_at",
                                               "first_touch_at")}  # fmt: skip
            sql = db.frames.LEADS_SQL.format(leads="leads", where=where, **times).strip()
            plain = db.frames._read_sqlite(db_engine, sql, LEADS_SCHEMA).sort("id")
            assert_frame_equal(frame, plain)
        assert frame.height == (40 if source is None else 26)
    frame = load_leads(db_engine).sort("id")
    assert frame["campaign"].to_list()[:10] == tricky
    assert frame["amount"].to_list()[1] == 0.1 + 0.2
