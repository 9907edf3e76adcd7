"""`python -m db tune --json` on the demo company (which hides an over- and an under-targeted segment)
and on the real Olist data (outcomes only, no ratings), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import db.__main__ as cli
from core.goals import Goal
from db.access import OPERATOR
from db.demo import seed_demo
from db.importing.run import RunOptions, import_olist
from db.settings import get_settings


def _tune(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> Any:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        assert cli.main(["tune", "--json", *args]) == 0
    finally:
        get_settings.cache_clear()
    return json.loads(capsys.readouterr().out)


def _points(report: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(e["attribute"], e["value"]): e["points"] for e in report["evidence"]}


def test_the_demo_tuning_finds_the_planted_segments_and_beats_the_current_version(
    db_url: str, db_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_demo(db_engine, leads=20_000, seed=7, today=date(2026, 11, 23))
    report = _tune(db_url, monkeypatch, capsys)
    points = _points(report)
    # Over-targeted: Retail companies of 1-10 people are weighted down. The planted attributes (sign-up form,
    # time on website) are found among the imported attributes, beside the lead's own fields.
    assert points[("company_size", "1-10")] < 0 and points[("industry", "Retail")] < 0
    assert points[("sign_up_form", "Demo request")] > 0 > points[("sign_up_form", "Newsletter")]
    current, proposed = report["current"], report["proposed"]
    gain = proposed["acceptance_rate"]["value"] - current["acceptance_rate"]["value"]
    assert gain >= 0.03, f"acceptance only moved {gain:+.3f}"
    assert proposed["revenue_recall"] >= 0.90, "the proposal may not lose more than 10% of won revenue"
    assert 0.85 <= proposed["mql_count"] / current["mql_count"] <= 1.15, "the threshold keeps the volume"
    assert report["goal"] == "volume"  # the version in force selects: the default goal keeps its volume
    assert proposed["good_auc"]["value"] > current["good_auc"]["value"]
    assert "points acceptance" in report["summary"] and "of won revenue" in report["summary"]
    conditions = [(r["attribute"], r["operator"], json.dumps(r["value"])) for r in proposed["rules"]]
    assert len(conditions) == len(set(conditions)), "a condition is never given a second rule"
    assert len(proposed["rules"]) <= 25, "a version a person reads in a minute"
    rules = {(r["attribute"], json.dumps(r["value"])): r["points"] for r in proposed["rules"]}
    assert rules[("company_size", json.dumps("1-10"))] < 0
    assert any(r["attribute"] == "time_on_website" and r["points"] > 0 for r in proposed["rules"])
    # The trap (the promo code followed quality until it leaked, 200 days before the data ends) looks
    # predictive in the learning window but fades in its newest part: the learner leaves it out.
    assert not [r for r in proposed["rules"] if r["attribute"] == "promo_code_used"]
    # The launch's own "Manufacturing: -15" rule is not kept: the evidence does not hold Manufacturing back.
    assert rules.get(("industry", json.dumps("Manufacturing")), 0) >= 0


def test_olist_outcomes_alone_weight_down_the_weak_origins(
    db_url: str,
    db_engine: Engine,
    shared_datasets: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    olist = shared_datasets / "olist"
    assert import_olist(
        db_engine,
        olist / "olist_marketing_qualified_leads_dataset.csv",
        olist / "olist_closed_deals_dataset.csv",
        options=RunOptions(actor=OPERATOR),
    ).ok
    report = _tune(db_url, monkeypatch, capsys, "--source", "olist", "--window-days", "60")
    points = _points(report)
    strong = min(points[("source", "organic_search")], points[("source", "paid_search")])
    for weak in ("social", "email", "other"):
        assert points[("source", weak)] < 0 < strong or points[("source", weak)] < strong, weak
    assert points[("source", "social")] < 0 and points[("source", "email")] < 0
    assert report["current"]["mql_count"] > 0, "every Olist lead is an MQL by import"
    # A fresh import, no version in force: the default goal keeps 90% of won deals with clearly fewer MQLs,
    # learnt from what is known before the sale (the closed-deals columns are filled for won leads only).
    assert report["goal"] == "wins" and report["keep"] == 0.9
    proposed, current = report["proposed"], report["current"]
    assert proposed["won_recall"]["value"] >= 0.85  # 90% on the learning window; the test window is newer
    assert proposed["mql_count"] <= 0.92 * current["mql_count"]
    assert {r["attribute"] for r in proposed["rules"]} <= {"source", "page_views", "email_clicks"}
    assert proposed["ranking_auc"]["value"] > current["ranking_auc"]["value"]
    for side in ("current", "proposed"):
        assert set(report[side]) >= {
            "mql_count",
            "acceptance_rate",
            "mql_to_sql",
            "won_recall",
            "revenue_recall",
        }


def test_nothing_to_learn_from_is_one_clear_line(
    db_url: str, db_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    assert cli.main(["tune", "--json"]) == 2
    assert "no leads to learn from" in capsys.readouterr().err
    get_settings.cache_clear()


# ---------------------------------------------------------------- goals and ranking quality (issue 12)


def _auc_shape(auc: Any) -> None:
    assert auc is None or (set(auc) == {"value", "n"} and 0 <= auc["value"] <= 1 and auc["n"] > 0), auc


def _written(engine: Engine) -> tuple[int, int]:
    """What a refused command must leave as it was: the audit entries and the criteria versions."""
    with engine.connect() as connection:
        audit = connection.execute(text("SELECT COUNT(*) FROM audit_log")).scalar_one()
        versions = connection.execute(text("SELECT COUNT(*) FROM criteria_versions")).scalar_one()
    return int(audit), int(versions)


def test_the_report_names_its_goal_and_how_well_each_version_ranks(
    db_url: str, db_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_demo(db_engine, leads=3_000, seed=7, today=date(2026, 11, 23))
    wins = _tune(db_url, monkeypatch, capsys, "--goal", "wins", "--keep", "0.8")
    assert (wins["goal"], wins["keep"]) == ("wins", 0.8)
    assert wins["summary"].startswith("Goal: keep 80% of won deals with the fewest MQLs — ")
    for side in ("current", "proposed"):
        for key in ("ranking_auc", "good_auc"):
            _auc_shape(wins[side][key])
        assert wins[side]["ranking_auc"] is not None, "the demo's test window has won and lost leads"
        assert wins[side]["good_auc"] is not None, "and rated ones, good and not"
    committed = _tune(db_url, monkeypatch, capsys, "--goal", "committed")
    assert committed["goal"] == "committed" and committed["committed_per_month"] > 0
    assert "keep" not in committed
    assert committed["summary"].startswith(
        f"Goal: the SLA's {committed['committed_per_month']:,} committed MQLs"
    )
    volume = _tune(db_url, monkeypatch, capsys, "--goal", "volume")
    assert volume["goal"] == "volume" and "keep" not in volume


def test_a_keep_above_one_is_refused_before_anything_runs(
    db_url: str, db_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    before = _written(db_engine)
    try:
        with pytest.raises(SystemExit) as stopped:
            cli.main(["tune", "--json", "--keep", "1.5"])
    finally:
        get_settings.cache_clear()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--keep" in err and "at most 1" in err and "not 1.5" in err
    assert _written(db_engine) == before


def test_the_committed_goal_without_an_sla_names_the_sla_settings_page(
    db_url: str, db_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    before = _written(db_engine)
    try:
        assert cli.main(["tune", "--json", "--goal", "committed"]) == 2
    finally:
        get_settings.cache_clear()
    captured = capsys.readouterr()
    assert "No SLA is in force" in captured.err and "SLA settings page" in captured.err
    assert captured.out == ""
    assert _written(db_engine) == before


def test_the_command_line_offers_every_goal() -> None:
    assert set(cli.TUNING_GOALS) == {goal.value for goal in Goal}
