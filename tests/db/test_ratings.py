"""Rating a lead through the service, on SQLite and PostgreSQL: ownership, history, the 14-day window,
idempotent submits, and 50 reps rating at once while a page reads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from db.access import AccessDenied
from db.engine import read_session, write_session
from db.frames import load_leads
from db.models import AuditLog, DataSource, Lead, LeadRating, LeadRatingHistory, Role, Team, User
from db.ratings import RatingIn, RatingRefused, rate_lead

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _company(engine: Engine, reps: int = 2, leads_each: int = 2) -> dict[str, list[int]]:
    """Team East with `reps` reps (each owning `leads_each` MQLs), a manager, a marketer, and team West's
    manager. Returns the ids by role."""
    with write_session(engine) as session:
        east, west = Team(name="East"), Team(name="West")
        session.add_all([east, west, DataSource(name="crm", label="CRM", stages=["created", "mql"])])
        session.flush()
        people = [
            User(username=f"rep{i}", name=f"Rep {i}", role=Role.rep, team_id=east.id) for i in range(reps)
        ]
        people += [
            User(username="boss", name="Boss", role=Role.sales_manager, team_id=east.id),
            User(username="other-boss", name="Other", role=Role.sales_manager, team_id=west.id),
            User(username="mark", name="Mark", role=Role.marketer),
        ]
        session.add_all(people)
        session.flush()
        leads = [
            Lead(source_system="crm", external_id=f"{rep.id}-{n}", created_at=NOW, mql_at=NOW, owner_id=rep.id,
                 team_id=east.id)
            for rep in people[:reps] for n in range(leads_each)
        ]  # fmt: skip
        session.add_all(leads)
        session.flush()
        return {
            "reps": [int(p.id or 0) for p in people[:reps]],
            "boss": [int(people[reps].id or 0)],
            "other_boss": [int(people[reps + 1].id or 0)],
            "marketer": [int(people[reps + 2].id or 0)],
            "leads": [int(lead.id or 0) for lead in leads],
        }


def _user(engine: Engine, user_id: int) -> User:
    with read_session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


def _rate(engine: Engine, user_id: int, rating: RatingIn, now: datetime = NOW) -> None:
    with write_session(engine) as session:
        rate_lead(session=session, actor=_user(engine, user_id), rating=rating, now=now)


def _counts(engine: Engine) -> tuple[int, int]:
    with read_session(engine) as session:
        current = session.exec(select(func.count()).select_from(LeadRating)).one()
        history = session.exec(select(func.count()).select_from(LeadRatingHistory)).one()
        return int(current), int(history)


def test_a_rep_rates_their_lead_and_changes_it_with_history(db_engine: Engine) -> None:
    ids = _company(db_engine)
    rep, lead = ids["reps"][0], ids["leads"][0]
    _rate(db_engine, rep, RatingIn(lead, 2, ("too_small", "too_small"), "  small shop "))
    _rate(db_engine, rep, RatingIn(lead, 2, ("too_small",), "small shop"))  # a double click: nothing new
    assert _counts(db_engine) == (1, 1)
    _rate(db_engine, rep, RatingIn(lead, 4, ("good_fit",)), now=NOW + timedelta(days=3))
    assert _counts(db_engine) == (1, 2)
    with read_session(db_engine) as session:
        current = session.exec(select(LeadRating)).one()
        assert (current.stars, current.reasons, current.note) == (4, ["good_fit"], None)


def test_after_fourteen_days_a_rating_stays_as_it_is(db_engine: Engine) -> None:
    ids = _company(db_engine)
    rep, lead = ids["reps"][0], ids["leads"][0]
    _rate(db_engine, rep, RatingIn(lead, 3))
    _rate(db_engine, rep, RatingIn(lead, 4), now=NOW + timedelta(days=14))
    with pytest.raises(RatingRefused, match="older than 14 days"):
        _rate(db_engine, rep, RatingIn(lead, 5), now=NOW + timedelta(days=14, seconds=1))


@pytest.mark.parametrize(("who", "allowed"), [("own_rep", True), ("other_rep", False), ("boss", True),
                                              ("other_boss", False), ("marketer", False)])  # fmt: skip
def test_who_may_rate_a_reps_lead(db_engine: Engine, who: str, allowed: bool) -> None:
    ids = _company(db_engine)
    lead = ids["leads"][0]  # owned by rep0
    actor = {"own_rep": ids["reps"][0], "other_rep": ids["reps"][1], "boss": ids["boss"][0],
             "other_boss": ids["other_boss"][0], "marketer": ids["marketer"][0]}[who]  # fmt: skip
    if allowed:
        _rate(db_engine, actor, RatingIn(lead, 4))
        assert _counts(db_engine) == (1, 1)
        return
    with pytest.raises(AccessDenied):
        _rate(db_engine, actor, RatingIn(lead, 4))
    assert _counts(db_engine) == (0, 0)
    with read_session(db_engine) as session:
        denied = session.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        assert [(d.action, d.object_id, d.actor_id) for d in denied] == [("rating.write", str(lead), actor)]


@pytest.mark.parametrize("stars", [0, 6])
def test_stars_outside_one_to_five_are_refused(db_engine: Engine, stars: int) -> None:
    ids = _company(db_engine)
    with pytest.raises(RatingRefused, match="1 to 5"):
        _rate(db_engine, ids["reps"][0], RatingIn(ids["leads"][0], stars))


def test_fifty_reps_rate_twenty_leads_each_at_once_while_a_page_reads(db_engine: Engine) -> None:
    ids = _company(db_engine, reps=50, leads_each=20)
    with read_session(db_engine) as session:
        owners = {lead.id: lead.owner_id for lead in session.exec(select(Lead)).all()}
    users = {rep: _user(db_engine, rep) for rep in ids["reps"]}
    errors: list[BaseException] = []
    reading = threading.Event()

    def read_like_a_page() -> None:
        while not reading.is_set():
            try:
                load_leads(db_engine)
            except BaseException as error:  # every error the reader meets fails the test
                errors.append(error)

    def rate_all(rep: int) -> None:
        for lead, owner in owners.items():
            if owner == rep:
                with write_session(db_engine) as session:
                    rate_lead(session=session, actor=users[rep], rating=RatingIn(lead, 1 + lead % 5), now=NOW)

    reader = threading.Thread(target=read_like_a_page)
    reader.start()
    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            for done in [pool.submit(rate_all, rep) for rep in ids["reps"]]:
                done.result()
    finally:
        reading.set()
        reader.join()
    assert not errors
    assert _counts(db_engine) == (1000, 1000)
