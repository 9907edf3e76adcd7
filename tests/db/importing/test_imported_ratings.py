"""Ratings an export holds, imported in bulk: the owner's, one named user's, or the pseudo-rater's
("Imported rating") when the export's quality column has no owner; what the bulk writer stores is what the
one-rating-at-a-time writer it replaced stored; a re-import adds nothing; a rater nobody is refuses the file.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

import db.importing.upsert
from db.access import OPERATOR
from db.importing.mapping import Mapping, parse_mapping
from db.importing.raters import PSEUDO_KEY, PSEUDO_SOURCE
from db.importing.run import ImportResult, RunOptions, import_csv
from db.models import Lead, LeadRating, LeadRatingHistory, Role, User, UserCreate, utcnow
from db.users import create_user
from tests.db.importing.snapshots import assert_nothing_but_the_log_changed, snapshot

AS_OPERATOR = RunOptions(actor=OPERATOR)
BASE = """
[source]
name = "crm"

[columns]
external_id = "Id"
created_date = "Created"
{owner}

[rating]
column = "Quality"
{rater}

[rating.values]
High = 5
Medium = 3
Low = 1
"""
# Rows 2-7 of the file: four rated, one blank rating, one more rated by a second owner.
CSV = """\
Id,Created,Owner,Quality
A1,2026-01-05,Ann Lee,High
A2,2026-01-06,Ann Lee,Low
A3,2026-01-07,Bo Kim,
A4,2026-01-08,Bo Kim,Medium
A5,2026-01-09,Ann Lee,medium
A6,2026-01-10,Cy Dee,High
"""
STARS = {"A1": 5, "A2": 1, "A4": 3, "A5": 3, "A6": 5}


def mapping(*, owner: bool = True, rater: str | None = None, source: str = "crm") -> Mapping:
    text = BASE.format(
        owner='owner = "Owner"' if owner else "",
        rater=f"rater = {rater!r}".replace("'", '"') if rater is not None else "",
    )
    return parse_mapping(text).with_source(source)


def run(engine: Engine, chosen: Mapping, data: str = CSV, *, dry_run: bool = False) -> ImportResult:
    options = RunOptions(actor=OPERATOR, dry_run=dry_run)
    return import_csv(engine, data.encode(), chosen, file_name="export.csv", options=options)


def ratings(engine: Engine, source: str = "crm") -> dict[str, tuple[str, int, list[str]]]:
    """external_id -> (the rater's username, stars, reasons) of each current rating of the source."""
    with Session(engine) as session:
        rows = session.exec(
            select(Lead.external_id, User.username, LeadRating.stars, LeadRating.reasons)
            .join(Lead, Lead.id == LeadRating.lead_id)  # type: ignore[arg-type]
            .join(User, User.id == LeadRating.rater_id)  # type: ignore[arg-type]
            .where(Lead.source_system == source)
        ).all()
    return {external_id: (username, stars, list(reasons)) for external_id, username, stars, reasons in rows}


def history(engine: Engine, source: str = "crm") -> list[tuple[str, int, list[str], str | None, str]]:
    """Every history row of the source's ratings, oldest first: (lead, stars, reasons, note, changed by)."""
    query = (
        core_select(
            col(Lead.external_id),
            col(LeadRatingHistory.stars),
            col(LeadRatingHistory.reasons),
            col(LeadRatingHistory.note),
            col(User.username),
        )
        .join(LeadRating, col(LeadRating.id) == col(LeadRatingHistory.rating_id))
        .join(Lead, col(Lead.id) == col(LeadRating.lead_id))
        .join(User, col(User.id) == col(LeadRatingHistory.changed_by_id))
        .where(col(Lead.source_system) == source)
        .order_by(col(LeadRatingHistory.id))
    )
    with Session(engine) as session:
        rows = session.execute(query).all()
    return [(e, stars, list(reasons), note, by) for e, stars, reasons, note, by in rows]


def add_user(engine: Engine, username: str, name: str, role: Role = Role.rep) -> None:
    with Session(engine) as session, session.begin():
        create_user(
            session=session, actor=OPERATOR, user_in=UserCreate(username=username, name=name, role=role)
        )


# ---------------------------------------------------------------- the pseudo-rater


def test_an_export_without_owners_is_rated_by_the_pseudo_rater(db_engine: Engine) -> None:
    result = run(db_engine, mapping(owner=False, rater="Imported rating"))
    assert result.ok, result.report.first(5)
    assert result.counts is not None
    assert (result.counts.created, result.counts.ratings_written, result.counts.users_created) == (6, 5, 1)
    assert ratings(db_engine) == {key: (PSEUDO_KEY, stars, ["imported"]) for key, stars in STARS.items()}
    with Session(db_engine) as session:
        rater = session.exec(select(User).where(User.username == PSEUDO_KEY)).one()
        assert (rater.name, rater.role, rater.team_id) == ("Imported rating", Role.sales_manager, None)
        assert (rater.active, rater.password_hash) == (False, None), "it can never log in"
        assert (rater.source_system, rater.external_id) == (PSEUDO_SOURCE, PSEUDO_KEY)
        assert session.exec(select(Lead).where(Lead.owner_id == rater.id)).first() is None


def test_the_pseudo_rater_is_made_once_and_never_taken_for_an_owner(db_engine: Engine) -> None:
    assert run(db_engine, mapping(owner=False, rater="imported RATING ")).ok
    owned = CSV.replace("Cy Dee", "Imported rating")
    second = run(db_engine, mapping(rater="Imported rating", source="crm-2"), owned)
    assert second.ok and second.counts is not None
    assert second.counts.users_created == 3, "Ann Lee, Bo Kim and an owner who is called Imported rating"
    with Session(db_engine) as session:
        pseudo = session.exec(select(User).where(User.source_system == PSEUDO_SOURCE)).all()
        assert [u.username for u in pseudo] == [PSEUDO_KEY]
        owner = session.exec(
            select(User).where(User.name == "Imported rating", User.id != pseudo[0].id)
        ).one()
        assert owner.username == "imported.rating"
    assert {rater for rater, _, _ in ratings(db_engine, "crm-2").values()} == {PSEUDO_KEY}


def test_a_dry_run_with_the_pseudo_rater_creates_nobody(db_engine: Engine) -> None:
    result = run(db_engine, mapping(owner=False, rater="Imported rating"), dry_run=True)
    assert result.ok and result.counts is not None
    assert (result.counts.users_created, result.counts.ratings_written) == (1, 5)
    with Session(db_engine) as session:
        assert session.exec(select(User)).all() == []


# ---------------------------------------------------------------- a named rater


def test_a_named_rater_gives_every_rating_even_where_the_file_has_owners(db_engine: Engine) -> None:
    add_user(db_engine, "dana", "Dana Smith", Role.sales_manager)
    result = run(db_engine, mapping(rater="DANA SMITH"))
    assert result.ok and result.counts is not None
    assert ratings(db_engine) == {key: ("dana", stars, ["imported"]) for key, stars in STARS.items()}
    assert {by for *_, by in history(db_engine)} == {"dana"}
    by_username = run(db_engine, mapping(owner=False, rater="dana", source="crm-2"))
    assert by_username.ok
    assert {rater for rater, _, _ in ratings(db_engine, "crm-2").values()} == {"dana"}


def test_a_rater_who_is_an_owner_this_import_adds_is_that_owner(db_engine: Engine) -> None:
    result = run(db_engine, mapping(rater="bo kim"))
    assert result.ok, result.report.first(5)
    assert {rater for rater, _, _ in ratings(db_engine).values()} == {"bo.kim"}


def test_a_rater_nobody_is_refuses_the_file_naming_the_value(db_engine: Engine) -> None:
    add_user(db_engine, "ann", "Someone")
    before = snapshot(db_engine)
    result = run(db_engine, mapping(owner=False, rater="Zed Nobody"))
    assert not result.ok
    [problem] = result.report.problems
    assert (problem.column, problem.value) == ("[rating] rater", "Zed Nobody")
    assert "no Huddle user has this name, email or username" in problem.problem
    assert "set `rater` in [rating]" in problem.what()
    assert_nothing_but_the_log_changed(db_engine, before, "refused")


def test_a_rater_two_users_share_is_refused(db_engine: Engine) -> None:
    add_user(db_engine, "kim1", "Kim")
    add_user(db_engine, "kim2", "Kim")
    result = run(db_engine, mapping(owner=False, rater="Kim"), dry_run=True)
    assert not result.ok
    assert "2 Huddle users have this name" in result.report.problems[0].problem


# ---------------------------------------------------------------- re-imports


def test_a_re_import_adds_nothing_and_a_changed_rating_adds_one_history_row(db_engine: Engine) -> None:
    assert run(db_engine, mapping()).ok
    first = history(db_engine)
    assert [(key, stars, by) for key, stars, _, _, by in first] == [
        ("A1", 5, "ann.lee"),
        ("A2", 1, "ann.lee"),
        ("A4", 3, "bo.kim"),
        ("A5", 3, "ann.lee"),
        ("A6", 5, "cy.dee"),
    ]
    dry = run(db_engine, mapping(), dry_run=True)
    assert dry.counts is not None and dry.counts.ratings_written == 0
    before = snapshot(db_engine)
    again = run(db_engine, mapping())
    assert again.counts is not None and again.counts.ratings_written == 0
    assert_nothing_but_the_log_changed(db_engine, before, "done")
    with Session(db_engine) as session:
        first_rated = session.exec(select(LeadRating.created_at).order_by(LeadRating.id)).all()  # type: ignore[arg-type]
    other_stars = CSV.replace("A2,2026-01-06,Ann Lee,Low", "A2,2026-01-06,Ann Lee,High")
    dry = run(db_engine, mapping(), other_stars, dry_run=True)
    assert dry.counts is not None and dry.counts.ratings_written == 1
    changed = run(db_engine, mapping(), other_stars)
    assert changed.counts is not None and changed.counts.ratings_written == 1
    assert history(db_engine) == [*first, ("A2", 5, ["imported"], None, "ann.lee")]
    assert ratings(db_engine)["A2"] == ("ann.lee", 5, ["imported"])
    with Session(db_engine) as session:
        assert session.exec(select(LeadRating.created_at).order_by(LeadRating.id)).all() == first_rated  # type: ignore[arg-type]


# ---------------------------------------------------------------- the bulk writer = the one it replaced


def _one_rating_at_a_time(connection: Connection, frame: pl.DataFrame, *_: Any) -> int:
    """The writer the bulk one replaced (db/importing/upsert.py before issue 12), word for word but for
    taking the connection and the lead ids: an ORM object and a query per rating."""
    session = Session(bind=connection)
    written = 0
    for lead_id, rater_id, stars in frame.iter_rows():
        if lead_id is None or rater_id is None:
            continue
        current = session.exec(
            select(LeadRating).where(LeadRating.lead_id == lead_id, LeadRating.rater_id == rater_id)
        ).first()
        if current is not None and current.stars == stars:
            continue
        now = utcnow()
        if current is None:
            current = LeadRating(lead_id=lead_id, rater_id=rater_id, stars=stars, reasons=["imported"])
        current.stars, current.updated_at = stars, now
        session.add(current)
        session.flush()
        assert current.id is not None
        session.add(
            LeadRatingHistory(
                rating_id=current.id,
                stars=stars,
                reasons=["imported"],
                changed_by_id=rater_id,
                changed_at=now,
            )
        )
        written += 1
    session.flush()
    return written


def _stored(engine: Engine, source: str) -> tuple[Any, ...]:
    with Session(engine) as session:
        notes = session.exec(
            select(LeadRating.note, LeadRating.created_at, LeadRating.updated_at)
            .join(Lead, Lead.id == LeadRating.lead_id)  # type: ignore[arg-type]
            .where(Lead.source_system == source)
        ).all()
    # The old writer's first-rated time was a few microseconds after its update time: times are only there.
    assert all(created is not None and updated is not None for _, created, updated in notes)
    return ratings(engine, source), history(engine, source), [note for note, _, _ in notes]


def test_the_bulk_writer_stores_what_the_old_writer_stored(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [CSV, CSV.replace(",Low", ",High").replace("Bo Kim,\n", "Bo Kim,Low\n"), CSV]
    for data in files:
        assert run(db_engine, mapping(source="bulk"), data).ok
    with monkeypatch.context() as patched:
        patched.setattr(db.importing.upsert, "write_imported_ratings", _one_rating_at_a_time)
        for data in files:
            assert run(db_engine, mapping(source="old"), data).ok
    assert _stored(db_engine, "bulk") == _stored(db_engine, "old")
    assert len(history(db_engine, "bulk")) == 5 + 2 + 1, "new; A2 changed and A3 rated; A2 back"
