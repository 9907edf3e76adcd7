"""Importing the two real exports reproduces every figure of docs/DATASETS.md, on both backends.

The figures are read back through `python -m db kpis --json` (the CLI) and the same core functions the
pages use; re-importing a data set changes nothing.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import func, select

import db.__main__ as cli
from core.kpis import headline_by
from core.periods import ALL_TIME
from db.access import OPERATOR
from db.engine import read_session
from db.frames import load_leads
from db.importing.run import ImportResult, RunOptions, import_maven, import_olist
from db.models import DataSource, ImportRun, Role, Team, User
from db.settings import get_settings

TODAY = date(2026, 11, 23)
AS_OPERATOR = RunOptions(actor=OPERATOR)  # the command line's import
OLIST_BY_ORIGIN = {
    "organic_search": (2296, 271), "paid_search": (1586, 195), "social": (1350, 75), "unknown": (1099, 179),
    "direct_traffic": (499, 56), "email": (493, 15), "referral": (284, 24), "other": (150, 4),
    "display": (118, 6), "other_publicities": (65, 3), "(none)": (60, 14),
}  # fmt: skip
OLIST_BY_MONTH = {
    "2018-01": (1141, 152), "2018-02": (1028, 149), "2018-03": (1174, 167), "2018-04": (1352, 183),
    "2018-05": (1303, 130),
}  # fmt: skip
MAVEN_BY_MANAGER = {
    "Cara Losch": (480, 745), "Celia Rouche": (610, 962), "Dustin Brinkmann": (747, 1186),
    "Melvin Marxen": (882, 1418), "Rocco Neubert": (691, 1113), "Summer Sewald": (828, 1287),
}  # fmt: skip
MAVEN_BY_QUARTER = {
    "2017-Q1": (531, 647, 1_134_672), "2017-Q2": (1254, 2032, 3_086_111), "2017-Q3": (1257, 2047, 2_982_255),
    "2017-Q4": (1196, 1985, 2_802_496),
}  # fmt: skip
MAVEN_BY_REGION = {"Central": 3_346_293, "East": 3_090_594, "West": 3_568_647}


def _olist(engine: Engine, folder: Path) -> ImportResult:
    return import_olist(
        engine,
        folder / "olist" / "olist_marketing_qualified_leads_dataset.csv",
        folder / "olist" / "olist_closed_deals_dataset.csv",
        options=AS_OPERATOR,
    )


def _kpis(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> Any:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    assert cli.main(["kpis", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _groups(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["key"]: group for group in report["groups"]}


def test_olist_figures(
    db_url: str,
    db_engine: Engine,
    shared_datasets: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = _olist(db_engine, shared_datasets)
    assert result.ok, result.describe()
    assert result.counts is not None and result.counts.created == 8000
    assert result.counts.users_created == 41, "22 SRs and 32 SDRs, 13 of them both"

    report = _kpis(db_url, monkeypatch, capsys, "--source", "olist")
    assert report["all_time"] == {"records": 8000, "won": 842, "lost": 0, "open": 7158}
    assert report["stages"]["mql"] == 8000 and report["stages"]["won"] == 842
    # Olist records no SQL, opportunity or lost stage: the report says so instead of drawing zero.
    assert report["stages"]["sql"] is None and report["stages"]["opportunity"] is None
    assert report["stages"]["lost"] is None and report["win_rate"] is None
    assert set(report["missing_stages"]) == {"sql", "opportunity", "lost"}
    mql_to_won = report["conversion"]["mql_to_won"]
    assert (mql_to_won["num"], mql_to_won["den"], mql_to_won["value"]) == (842, 8000, 0.10525)
    assert report["median_days_to_won"] == 14

    by_origin = _groups(_kpis(db_url, monkeypatch, capsys, "--source", "olist", "--by", "source"))
    assert {k: (g["conversion"]["mql_to_won"]["den"], g["conversion"]["mql_to_won"]["num"])
            for k, g in by_origin.items()} == OLIST_BY_ORIGIN  # fmt: skip
    by_month = _groups(_kpis(db_url, monkeypatch, capsys, "--source", "olist", "--by", "month"))
    for month, (mqls, won) in OLIST_BY_MONTH.items():
        cohort = by_month[month]["conversion"]["mql_to_won"]
        assert (cohort["den"], cohort["num"]) == (mqls, won), month

    with read_session(db_engine) as session:
        users = session.exec(select(User)).all()
        assert all(not u.active and u.password_hash is None and u.role == Role.rep for u in users)
        source = session.get(DataSource, "olist")
        assert source is not None and source.stages == ["created", "mql", "won"]


def test_olist_reimport_changes_nothing(db_engine: Engine, shared_datasets: Path) -> None:
    assert _olist(db_engine, shared_datasets).ok
    again = _olist(db_engine, shared_datasets)
    assert again.counts is not None
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 8000)
    assert again.counts.users_created == 0
    assert "nothing changed" in again.describe()
    with read_session(db_engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 41
        runs = session.exec(select(ImportRun).order_by(ImportRun.id)).all()  # type: ignore[arg-type]
        assert [r.status for r in runs] == ["done", "done"] and runs[1].unchanged == 8000


def test_maven_figures(
    db_url: str,
    db_engine: Engine,
    shared_datasets: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = import_maven(db_engine, shared_datasets / "maven_crm", options=AS_OPERATOR)
    assert result.ok, result.describe()
    assert result.counts is not None and result.counts.created == 8800

    report = _kpis(db_url, monkeypatch, capsys, "--source", "maven")
    assert report["all_time"] == {"records": 8800, "won": 4238, "lost": 2473, "open": 2089}
    win = report["win_rate"]
    assert (win["won"], win["closed"], round(win["value"] * 100, 2)) == (4238, 6711, 63.15)
    assert report["revenue"] == 10_005_534
    assert report["median_days_to_won"] == 57
    assert report["stages"]["mql"] is None, "Maven has no MQL stage"

    by_team = _groups(_kpis(db_url, monkeypatch, capsys, "--source", "maven", "--by", "team"))
    assert {
        k: (g["win_rate"]["won"], g["win_rate"]["closed"]) for k, g in by_team.items()
    } == MAVEN_BY_MANAGER
    by_region = _groups(_kpis(db_url, monkeypatch, capsys, "--source", "maven", "--by", "region"))
    assert {k: g["revenue"] for k, g in by_region.items()} == MAVEN_BY_REGION
    by_quarter = _groups(_kpis(db_url, monkeypatch, capsys, "--source", "maven", "--by", "quarter"))
    for quarter, (won, closed, revenue) in MAVEN_BY_QUARTER.items():
        group = by_quarter[quarter]
        assert (group["win_rate"]["won"], group["win_rate"]["closed"], group["revenue"]) == (
            won,
            closed,
            revenue,
        )

    with read_session(db_engine) as session:
        teams = session.exec(select(Team)).all()
        assert {t.name for t in teams} == set(MAVEN_BY_MANAGER)
        assert {t.region for t in teams} == set(MAVEN_BY_REGION)
        agents = session.exec(select(User).where(User.role == Role.rep)).all()
        assert len(agents) == 35, "every agent, the 5 without deals too"


def test_maven_through_the_core_functions_the_pages_use(db_engine: Engine, shared_datasets: Path) -> None:
    assert import_maven(db_engine, shared_datasets / "maven_crm", options=AS_OPERATOR).ok
    leads = load_leads(db_engine, source_system="maven")
    assert leads.height == 8800
    quarters = dict(headline_by(leads, ALL_TIME, "quarter", today=TODAY))
    assert quarters["2017-Q2"].win_rate.num == 1254 and quarters["2017-Q2"].revenue == 3_086_111
    assert leads["source"].null_count() == 8800, "Maven has no lead source"


def test_the_maven_product_spelling_is_joined(db_engine: Engine, shared_datasets: Path) -> None:
    assert import_maven(db_engine, shared_datasets / "maven_crm", options=AS_OPERATOR).ok
    with db_engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT attributes FROM leads WHERE external_id = '1C1I7A6R'").all()
    attributes = json.loads(rows[0][0]) if isinstance(rows[0][0], str) else rows[0][0]
    assert attributes["product"] in {"GTX Plus Basic", "GTX Pro", "MG Special", "GTX Basic", "GTX Plus Pro",
                                     "MG Advanced", "GTK 500"}  # fmt: skip
    gtx_pro = connection_count(db_engine, '%"product":"GTX Pro"%')
    assert gtx_pro == 1480, "the pipeline's GTXPro rows find products.csv's GTX Pro"


def connection_count(engine: Engine, pattern: str) -> int:
    column = "attributes" if engine.dialect.name == "sqlite" else "attributes::text"
    with engine.connect() as connection:
        query = text(f"SELECT count(*) FROM leads WHERE {column} LIKE :pattern")
        return int(connection.execute(query, {"pattern": pattern}).scalar_one())
