"""The demo company: logins, realistic rates, the planted patterns, determinism, refusal, on both backends."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import db.__main__ as cli
from core.kpis import headline
from core.periods import ALL_TIME
from db.demo import HARSH_RATER, OVER_TARGETED, UNDER_TARGETED, DatabaseNotEmpty, seed_demo
from db.engine import make_engine
from db.frames import load_leads, load_quotas, load_traffic
from db.models import Lead, Outcome, Role, Team, User
from db.passwords import verify_password
from db.settings import get_settings

TODAY = date(2026, 11, 23)
SMALL = 3000


@pytest.fixture
def demo(db_engine: Engine) -> Engine:
    seed_demo(db_engine, leads=SMALL, seed=7, today=TODAY)
    return db_engine


def _ratings(engine: Engine) -> pl.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT r.lead_id, r.stars, u.username FROM lead_ratings r JOIN users u ON u.id = r.rater_id"
            )
        ).all()
    return pl.DataFrame(rows, schema={"id": pl.Int64, "stars": pl.Int64, "rater": pl.String}, orient="row")


def test_the_five_demo_logins_exist_with_the_demo_password(demo: Engine) -> None:
    with Session(demo) as session:
        users = {u.username: u for u in session.exec(select(User)).all()}
        teams = {t.id: t.name for t in session.exec(select(Team)).all()}
    expected = {
        "rep": Role.rep,
        "manager": Role.sales_manager,
        "marketer": Role.marketer,
        "exec": Role.executive,
        "admin": Role.admin,
    }
    for username, role in expected.items():
        user = users[username]
        assert user.role == role and user.active
        assert user.password_hash and verify_password("huddle-demo", user.password_hash)
    assert users["rep"].team_id == users["manager"].team_id
    assert len(teams) == 3
    assert sum(u.role == Role.rep for u in users.values()) == 12


def test_rates_are_in_realistic_bands(demo: Engine) -> None:
    leads = load_leads(demo)
    summary = headline(leads, ALL_TIME, today=TODAY)
    mql_to_sql = summary.conversion["mql_to_sql"]
    assert mql_to_sql is not None and 0.20 <= (mql_to_sql.rate.value or 0) <= 0.40
    assert 0.20 <= (summary.win_rate.value or 0) <= 0.30
    first = leads["created_at"].min()
    assert first is not None and (TODAY - first.date()).days >= 395  # 13 months and more  # type: ignore[union-attr]
    assert summary.stages["leads"] == SMALL


def test_traffic_every_day_per_channel_and_quotas_every_rep_every_month(demo: Engine) -> None:
    traffic = load_traffic(demo)
    days = traffic.group_by("channel").agg(pl.col("day").n_unique())
    assert days["day"].min() == 401 and len(days) == 7
    quotas = load_quotas(demo)
    per_rep = quotas.group_by("user_id").agg(pl.len())
    assert len(per_rep) == 12 and per_rep["len"].n_unique() == 1 and per_rep["len"][0] >= 14


def _segment(frame: pl.DataFrame, pattern: dict[str, str]) -> pl.Expr:
    condition = pl.lit(True)
    for column, value in pattern.items():
        condition = condition & (pl.col(column) == value)
    return condition


def test_the_planted_segments_are_there(demo: Engine) -> None:
    leads = load_leads(demo).join(_ratings(demo), on="id", how="left")
    is_mql = pl.col("mql_at").is_not_null()

    def stats(condition: pl.Expr) -> dict[str, float]:
        part = leads.filter(condition)
        return part.select(
            is_mql.mean().alias("mql_rate"),
            pl.col("stars").mean().alias("stars"),
            ((pl.col("outcome") == "won").sum() / pl.col("outcome").is_not_null().sum()).alias("win_rate"),
        ).row(0, named=True)

    over, under = _segment(leads, OVER_TARGETED), _segment(leads, UNDER_TARGETED)
    rest = stats(~over & ~under)
    over_stats, under_stats = stats(over), stats(under)
    # Over-targeted: mostly MQLs, rated low, rarely won.
    assert over_stats["mql_rate"] > 2 * rest["mql_rate"]
    assert over_stats["stars"] < rest["stars"] - 0.5
    assert over_stats["win_rate"] < rest["win_rate"] / 2
    # Under-targeted: rarely MQLs, yet rated high.
    assert under_stats["mql_rate"] < rest["mql_rate"]
    assert under_stats["stars"] > rest["stars"] + 0.5


def test_one_rater_is_harsher_than_the_team(demo: Engine) -> None:
    ratings = _ratings(demo)
    harsh = ratings.filter(pl.col("rater") == HARSH_RATER)["stars"].mean()
    teammates = ratings.filter(pl.col("rater").is_in(["rep", "mia.chen", "sam.okafor"]))["stars"].mean()
    assert harsh is not None and teammates is not None
    assert harsh < teammates - 0.3  # type: ignore[operator]


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    def seeded(name: str, seed: int) -> pl.DataFrame:
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        from db.migrate import upgrade_to_head

        upgrade_to_head(engine)
        seed_demo(engine, leads=500, seed=seed, today=TODAY)
        frame = load_leads(engine)
        engine.dispose()
        return frame

    first, again, other = seeded("a.db", 3), seeded("b.db", 3), seeded("c.db", 4)
    assert first.equals(again)
    assert not first.equals(other)


def test_a_second_seed_refuses_unless_reset(demo: Engine) -> None:
    with pytest.raises(DatabaseNotEmpty, match="--reset"):
        seed_demo(demo, leads=100, seed=7, today=TODAY)
    seed_demo(demo, leads=100, seed=8, today=TODAY, reset=True)
    assert len(load_leads(demo)) == 100


def test_leads_read_back_through_the_orm(demo: Engine) -> None:
    with Session(demo) as session:
        won = session.exec(select(Lead).where(Lead.outcome == Outcome.won)).first()
        assert won is not None and won.closed_at is not None
        assert won.closed_at.utcoffset() == timedelta(0)
        assert won.outcome == Outcome.won
        assert isinstance(won.fired_rule_ids, list) and won.score is not None and won.score >= 50
        assert won.owner_id is not None and won.team_id is not None
        session.add(Lead(source_system="demo", external_id="added-after-seed"))
        session.commit()  # ids continue after the bulk load (PostgreSQL sequences are set)


def test_the_command_line_seeds_and_then_refuses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    try:
        assert cli.main(["seed", "--demo", "--leads", "2000"]) == 0
        assert "demo company ready" in capsys.readouterr().out
        assert cli.main(["seed", "--demo", "--leads", "2000"]) == 2
        assert "--reset" in capsys.readouterr().err
        assert cli.main(["seed", "--demo", "--if-empty"]) == 0
    finally:
        get_settings.cache_clear()
