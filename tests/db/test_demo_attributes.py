"""The demo company's custom attributes: stored as an import stores them, the same for the same seed, with
the signal planted in them and the trap that holds only in the learning window, on both backends.

The margins below were measured on the seeds used here (20,000 leads, seed 7, 2026-11-23): "Demo request"
sign-ups were good 50% of the time against 16% for "Newsletter"; the promo code's gap was +0.19 in the
learning window and +0.00 in the last 90 days."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.tuning import calibrated_ratings, lead_evidence
from db.attributes import attribute_catalogue
from db.demo import (
    JOB_TITLES,
    LAST_ACTIVITIES,
    MISSING_SHARE,
    PROMO_TRAP,
    SIGN_UP_FORMS,
    TRAP_DAYS,
    seed_demo,
)
from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import Lead, LeadRating, User

TODAY = date(2026, 11, 23)
TEST_WINDOW_DAYS = 90  # core.tuning.tune's window_days: the test window, after the learning window
TEXT_VALUES = {
    "job_title": {title for options in JOB_TITLES.values() for title, _, _ in options},
    "last_activity": {value for value, _, _ in LAST_ACTIVITIES},
    "sign_up_form": {value for value, _, _ in SIGN_UP_FORMS},
    PROMO_TRAP: {"yes", "no"},
}
SENIOR_PERSONAS = ("C-level", "VP/Director")
JUNIOR_TITLES = ("Analyst", "Sales Representative", "Marketing Specialist", "Consultant", "Student", "Intern")


def _stored_attributes(engine: Engine) -> list[tuple[int, dict[str, Any] | None]]:
    leads = Lead.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(select(leads.id, leads.attributes).order_by(leads.id)).all()
    return [(int(lead_id), attributes) for lead_id, attributes in rows]


def _attributes_frame(engine: Engine) -> pl.DataFrame:
    rows = [{"id": lead_id, **(attributes or {})} for lead_id, attributes in _stored_attributes(engine)]
    return pl.DataFrame(rows, schema_overrides={"time_on_website": pl.Int64}, infer_schema_length=None)


def _evidence(engine: Engine) -> pl.DataFrame:
    """Every lead that has evidence (rated, or won or lost), with `good` as the tuning reads it, its
    attributes, and `learning`: created before the last 90 days of the data, as core.tuning.tune splits."""
    leads, ratings, users = Lead.__table__.c, LeadRating.__table__.c, User.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as connection:
        lead_rows = connection.execute(select(leads.id, leads.created_at, leads.mql_at, leads.outcome)).all()
        rating_rows = connection.execute(select(ratings.lead_id, ratings.rater_id, ratings.stars)).all()
        user_rows = connection.execute(select(users.id, users.team_id)).all()
    frame = pl.DataFrame(
        [(i, created.replace(tzinfo=None), mql and mql.replace(tzinfo=None), str(outcome.value) if outcome else None)
         for i, created, mql, outcome in lead_rows],
        schema={"id": pl.Int64, "created_at": pl.Datetime("us"), "mql_at": pl.Datetime("us"), "outcome": pl.String},
        orient="row",
    )  # fmt: skip
    rated = pl.DataFrame(
        rating_rows, schema={"lead_id": pl.Int64, "rater_id": pl.Int64, "stars": pl.Int64}, orient="row"
    )
    people = pl.DataFrame(user_rows, schema={"user_id": pl.Int64, "team_id": pl.Int64}, orient="row")
    evidence = lead_evidence(frame, calibrated_ratings(rated, people))
    last = evidence["created_at"].max()
    assert last is not None
    learn_until = last + timedelta(microseconds=1) - timedelta(days=TEST_WINDOW_DAYS)  # type: ignore[operator]
    return (
        evidence.join(_attributes_frame(engine), on="id", how="left")
        .with_columns((pl.col("created_at") < learn_until).alias("learning"))
        .filter(pl.col("good").is_not_null())
    )


def _share_good(evidence: pl.DataFrame, condition: pl.Expr) -> tuple[float, int]:
    part = evidence.filter(condition)
    return float(part["good"].mean() or 0.0), part.height  # type: ignore[arg-type]


@pytest.fixture
def big_demo(db_engine: Engine) -> Engine:
    seed_demo(db_engine, leads=20_000, seed=7, today=TODAY)
    return db_engine


def test_the_attributes_are_typed_have_gaps_titles_that_fit_and_are_offered_for_rules(
    db_engine: Engine,
) -> None:
    seed_demo(db_engine, leads=3000, seed=7, today=TODAY)
    stored = _stored_attributes(db_engine)
    assert len(stored) == 3000
    assert all(isinstance(attributes, dict) and attributes for _, attributes in stored)
    for name, share in MISSING_SHARE.items():
        values = [attributes[name] for _, attributes in stored if attributes and name in attributes]
        missing = 1 - len(values) / len(stored)
        assert share - 0.03 < missing < share + 0.03, (name, missing)
        if name == "time_on_website":
            assert all(type(value) is int and 5 <= value <= 4 * 3600 for value in values)
        else:
            assert {type(value) for value in values} == {str} and set(values) <= TEXT_VALUES[name]
    leads = Lead.__table__.c  # type: ignore[attr-defined]
    with db_engine.connect() as connection:
        personas = connection.execute(select(leads.persona).order_by(leads.id)).scalars().all()
    titles_by_persona = {
        persona: {title for title, _, _ in options} for persona, options in JOB_TITLES.items()
    }
    assert all(
        attributes["job_title"] in titles_by_persona[persona]
        for persona, (_, attributes) in zip(personas, stored, strict=True)
        if attributes and "job_title" in attributes
    )
    offered = attribute_catalogue(db_engine).filter(
        pl.col("name").is_in(list(MISSING_SHARE)) & pl.col("offered")
    )
    assert dict(offered.select("name", "kind").iter_rows()) == {
        name: "number" if name == "time_on_website" else "text" for name in MISSING_SHARE
    }
    seconds = pl.Series([a["time_on_website"] for _, a in stored if a and "time_on_website" in a])
    # Skewed as visit times are: the mean well above the median, a long tail past ten minutes.
    assert seconds.mean() > 1.4 * seconds.median()  # type: ignore[operator]
    assert 0.05 < (seconds > 600).mean() < 0.25  # type: ignore[operator]


def test_same_seed_same_attributes_other_seed_other_attributes(tmp_path: Path) -> None:
    def seeded(name: str, seed: int) -> list[tuple[int, dict[str, Any] | None]]:
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        upgrade_to_head(engine)
        seed_demo(engine, leads=500, seed=seed, today=TODAY)
        stored = _stored_attributes(engine)
        engine.dispose()
        return stored

    first, again, other = seeded("a.db", 3), seeded("b.db", 3), seeded("c.db", 4)
    assert first == again
    assert first != other


def test_the_planted_signal_shows_in_ratings_and_outcomes(big_demo: Engine) -> None:
    evidence = _evidence(big_demo)
    demo_request, demo_count = _share_good(evidence, pl.col("sign_up_form") == "Demo request")
    newsletter, newsletter_count = _share_good(evidence, pl.col("sign_up_form") == "Newsletter")
    assert demo_count > 500 and newsletter_count > 500
    assert demo_request > newsletter + 0.25  # measured: 0.50 (1,031 leads) against 0.16 (1,605)
    # The real signal holds in the last 90 days too, unlike the trap below.
    recent = evidence.filter(~pl.col("learning"))
    assert _share_good(recent, pl.col("sign_up_form") == "Demo request")[0] > (
        _share_good(recent, pl.col("sign_up_form") == "Newsletter")[0] + 0.2
    )  # measured: 0.52 against 0.15

    pricing, _ = _share_good(evidence, pl.col("last_activity") == "Pricing page")
    blog, _ = _share_good(evidence, pl.col("last_activity") == "Blog post")
    assert pricing > blog + 0.12  # measured: 0.45 against 0.23

    seconds = evidence["time_on_website"]
    long_visits, long_count = _share_good(evidence, pl.col("time_on_website") >= seconds.quantile(0.8))
    short_visits, short_count = _share_good(evidence, pl.col("time_on_website") <= seconds.quantile(0.2))
    assert long_count > 500 and short_count > 500
    assert long_visits > short_visits + 0.25  # measured: 0.51 against 0.12

    senior_titles = {title for persona in SENIOR_PERSONAS for title, _, _ in JOB_TITLES[persona]}
    senior, _ = _share_good(evidence, pl.col("job_title").is_in(senior_titles))
    junior, _ = _share_good(evidence, pl.col("job_title").is_in(JUNIOR_TITLES))
    assert senior > junior + 0.08  # measured: 0.37 against 0.23


def test_the_promo_code_looks_predictive_in_the_learning_window_only(big_demo: Engine) -> None:
    evidence = _evidence(big_demo)

    def gap(window: pl.DataFrame) -> float:
        used, used_count = _share_good(window, pl.col(PROMO_TRAP) == "yes")
        unused, unused_count = _share_good(window, pl.col(PROMO_TRAP) == "no")
        assert used_count > 150 and unused_count > 500
        return used - unused

    last = evidence["created_at"].max()
    leaked = last + timedelta(microseconds=1) - timedelta(days=TRAP_DAYS)  # type: ignore[operator]
    before_the_leak = evidence.filter(pl.col("created_at") < leaked)
    assert gap(before_the_leak) > 0.12  # most of the learning window: the code follows quality
    assert gap(evidence.filter(pl.col("learning"))) > 0.05  # so it looks predictive in the learning window
    assert abs(gap(evidence.filter(~pl.col("learning")))) < 0.06  # and is noise in the test window
