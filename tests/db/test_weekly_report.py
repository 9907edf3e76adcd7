"""`python -m db report`: the weekly sync of a demo week as one offline HTML file (and CSVs), on SQLite
and PostgreSQL, with the same numbers the page computes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

import db.__main__ as cli
from core.criteria import Criteria
from core.sla import scorecard
from core.weekly import judged_at, week_period
from db.action_items import add_item
from db.criteria import approve, propose_version, versions
from db.demo import seed_demo
from db.engine import read_session, write_session
from db.feedback import load_rating_rows
from db.frames import load_leads
from db.models import User
from db.report import agreements, build_week
from db.settings import get_settings

TODAY = date(2026, 11, 23)
WEEK = "2026-W47"
NOW = datetime.combine(TODAY, time(9))


@pytest.fixture
def seeded(db_engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    seed_demo(db_engine, leads=1500, seed=7, today=TODAY)
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_engine
    get_settings.cache_clear()


def test_the_week_matches_core_on_the_same_frames(seeded: Engine) -> None:
    sync = build_week(seeded, WEEK, now=NOW)
    period = week_period(WEEK)
    with read_session(seeded) as session:
        terms = agreements(session)
    expected = scorecard(
        load_leads(seeded), load_rating_rows(seeded), period, as_of=judged_at(period, NOW), agreements=terms
    )
    assert sync.sla.marketing.mqls == expected.marketing.mqls > 0
    assert sync.sla.speed == expected.speed
    assert sync.sla.coverage == expected.coverage
    assert terms.company.follow_up_hours == 24 and terms.company.mqls_per_month is not None
    assert sync.funnel.trend["week"].n_unique() == 8
    assert sync.breaches["owner"].null_count() == 0  # every breach names its owner


def test_report_command_writes_an_offline_file_and_csvs(
    seeded: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with write_session(seeded) as session:
        owner = session.exec(select(User).where(User.username == "rep")).one()
        manager = session.exec(select(User).where(User.username == "manager")).one()
        add_item(
            session=session,
            actor=manager,
            title="=cmd|' /C calc'!A0 follow up <b>today</b>",
            owner_id=int(owner.id or 0),
            due_date=TODAY,
            meeting_week=WEEK,
        )
    out, tables = tmp_path / "week.html", tmp_path / "tables"
    assert cli.main(["report", "--week", WEEK, "--out", str(out), "--csv", str(tables)]) == 0
    assert f"weekly sync report for {WEEK} written to {out}" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    for title in (
        "The funnel",
        "The SLA, both sides",
        "Lead quality",
        "Handoff answers",
        "Criteria changes",
        "Wins to celebrate",
        "Content",  # the demo's sales content, as on the page
    ):
        assert f">{title}<" in html
    assert "=cmd|&#x27; /C calc&#x27;!A0 follow up &lt;b&gt;today&lt;/b&gt;" in html  # text, not markup
    markup = re.sub(r"<script>.*?</script>", "", html, flags=re.DOTALL)  # plotly.js's own text aside
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|\bhref=", markup)
    assert html.count('<div class="figure"') >= 1
    csv = (tables / "decisions-and-action-items-action-items.csv").read_text(encoding="utf-8")
    assert "'=cmd|" in csv  # a spreadsheet shows the formula as text instead of running it


def test_a_bad_week_is_one_line(seeded: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["report", "--week", "2026-W54", "--out", str(tmp_path / "x.html")])
    assert stopped.value.code == 2
    assert "2026 has no week 54" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["report", "--week", WEEK, "--out", str(tmp_path / "no-such-folder" / "x.html")])
    assert "no such folder" in capsys.readouterr().err


def test_a_version_approved_this_week_is_a_change_with_its_backtest(seeded: Engine) -> None:
    with write_session(seeded) as session:
        marketer = session.exec(select(User).where(User.username == "marketer")).one()
        manager = session.exec(select(User).where(User.username == "manager")).one()
        active = next(v for v in versions(session) if v.status == "active")
        stricter = Criteria(active.criteria.rules, active.criteria.threshold + 10)
        draft = propose_version(
            session=session,
            actor=marketer,
            rules=stricter.rules,
            threshold=stricter.threshold,
            rationale="Fewer, better MQLs",
            now=datetime(2026, 11, 17, 9, tzinfo=UTC),
        )
        approve(
            session=session,
            actor=manager,
            version_id=int(draft.id or 0),
            now=datetime(2026, 11, 18, 10, tzinfo=UTC),
        )
    sync = build_week(seeded, WEEK, now=NOW)
    assert [(c.number, c.approved_by, c.rationale) for c in sync.changes] == [
        (active.number + 1, "Morgan Hayes", "Fewer, better MQLs")
    ]
    # A higher threshold over the same rules: fewer MQLs, so the volume part of the sentence is negative.
    assert re.search(r"-\d+% volume", sync.changes[0].sentence), sync.changes[0].sentence
    assert build_week(seeded, "2026-W46", now=NOW).changes == []


def test_the_week_reads_only_the_ratings_it_needs(seeded: Engine) -> None:
    monday = datetime(2026, 11, 16)
    every = load_rating_rows(seeded)
    recent = load_rating_rows(seeded, since=monday)
    assert 0 < recent.height < every.height
    expected = every.filter(pl.col("created_at") >= monday).sort("lead_id", "rater_id")
    assert recent.sort("lead_id", "rater_id").equals(expected)
