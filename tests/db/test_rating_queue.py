"""The rating queue read from the database, on SQLite and PostgreSQL: only the MQLs inside the rating
window (rating days plus grace back from now, the boundary moment included), oldest first; how many left it
unrated; the rater's team's terms; a manager's lead picker scoped to the team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from core.sla import Terms
from db.access import OPERATOR
from db.engine import write_session
from db.feedback import lead_to_rate, my_rating, owners_for, rater_terms, rating_queue, team_leads
from db.models import DataSource, Lead, LeadRating, Role, Team, User
from db.sla import set_agreement

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
WINDOW = Terms(rating_days=3, rating_grace_days=14)  # 17 days: the window opens on Nov 14, 12:00
# The rep's MQLs, as (external id, MQL moment, rated by the rep).
MQLS = [
    ("inside", datetime(2026, 11, 20, 9, tzinfo=UTC), False),
    ("boundary", datetime(2026, 11, 14, 12, tzinfo=UTC), False),  # exactly 17 days old: still inside
    ("just-out", datetime(2026, 11, 14, 11, 59, tzinfo=UTC), False),
    ("old-rated", datetime(2026, 11, 1, 9, tzinfo=UTC), True),
    ("old", datetime(2026, 10, 1, 9, tzinfo=UTC), False),
]


def _company(engine: Engine) -> dict[str, int]:
    """Team East (a rep owning MQLS, their manager) and team West (a rep owning one recent MQL)."""
    with write_session(engine) as session:
        east, west = Team(name="East"), Team(name="West")
        session.add_all([east, west, DataSource(name="crm", label="CRM", stages=["created", "mql"])])
        session.flush()
        rep = User(username="rita", name="Rita", role=Role.rep, team_id=east.id)
        boss = User(username="erin", name="Erin", role=Role.sales_manager, team_id=east.id)
        other = User(username="walt", name="Walt", role=Role.rep, team_id=west.id)
        session.add_all([rep, boss, other])
        session.flush()
        ids = {"rep": int(rep.id or 0), "boss": int(boss.id or 0), "other": int(other.id or 0)}
        for external_id, mql_at, rated in MQLS:
            lead = Lead(source_system="crm", external_id=external_id, created_at=mql_at, mql_at=mql_at,
                        owner_id=rep.id, team_id=east.id)  # fmt: skip
            session.add(lead)
            session.flush()
            ids[external_id] = int(lead.id or 0)
            if rated:
                session.add(LeadRating(lead_id=lead.id, rater_id=rep.id, stars=3, created_at=mql_at))  # type: ignore[arg-type]
        west_lead = Lead(source_system="crm", external_id="west-1", created_at=NOW, mql_at=NOW - timedelta(days=1),
                         owner_id=other.id, team_id=west.id)  # fmt: skip
        session.add(west_lead)
        session.flush()
        ids["west-1"] = int(west_lead.id or 0)
        return ids


def test_the_queue_holds_the_window_oldest_first_and_counts_the_ones_that_left(db_engine: Engine) -> None:
    ids = _company(db_engine)
    queue = rating_queue(db_engine, rater_id=ids["rep"], owner_ids=[ids["rep"]], now=NOW, terms=WINDOW)
    assert [lead.external_id for lead in queue.leads] == ["boundary", "inside"]
    assert (queue.waiting, queue.missed, queue.terms) == (2, 2, WINDOW)  # just-out and old left; one rated
    later = rating_queue(db_engine, rater_id=ids["rep"], owner_ids=[ids["rep"]], now=NOW + timedelta(seconds=1),
                         terms=WINDOW)  # fmt: skip
    assert ([lead.external_id for lead in later.leads], later.missed) == (["inside"], 3)


def test_the_manager_rates_from_the_same_window_and_their_ratings_are_their_own(db_engine: Engine) -> None:
    ids = _company(db_engine)
    owners = owners_for(db_engine, ids["boss"])
    queue = rating_queue(db_engine, rater_id=ids["boss"], owner_ids=owners, now=NOW, terms=WINDOW)
    # The rep's rating of old-rated is not the manager's: it left the manager's queue unrated too.
    assert ([lead.external_id for lead in queue.leads], queue.missed) == (["boundary", "inside"], 3)


def test_a_rater_is_held_to_their_teams_terms(db_engine: Engine) -> None:
    ids = _company(db_engine)
    assert rater_terms(db_engine, ids["rep"]).rating_window_days == 3 + 14  # the defaults
    with write_session(db_engine) as session:
        team_id = session.get(User, ids["rep"]).team_id  # type: ignore[union-attr]
        set_agreement(session=session, actor=OPERATOR, team_id=team_id, mqls_per_month=0, follow_up_hours=24,
                      rating_days=2, acceptance_target=0.4, rating_grace_days=30)  # fmt: skip
    assert rater_terms(db_engine, ids["rep"]).rating_window_days == 2 + 30
    assert rater_terms(db_engine, ids["other"]).rating_window_days == 3 + 14  # West follows the company


def test_a_managers_picker_lists_any_mql_of_the_team_and_nothing_else(db_engine: Engine) -> None:
    ids = _company(db_engine)
    owners = owners_for(db_engine, ids["boss"])
    total, found = team_leads(db_engine, owner_ids=owners)
    assert total == 5 and [lead.external_id for lead in found] == ["inside", "boundary", "just-out", "old-rated",
                                                                  "old"]  # fmt: skip
    assert team_leads(db_engine, owner_ids=owners, lead_id_has="OLD")[0] == 2  # any case: old-rated, old
    assert team_leads(db_engine, owner_ids=owners, lead_id_has="west")[0] == 0
    assert team_leads(db_engine, owner_ids=owners, lead_id_has="%")[0] == 0  # typed text, not a pattern
    assert team_leads(db_engine, owner_ids=owners, lead_id_has="_")[0] == 0
    assert team_leads(db_engine, owner_ids=[ids["rep"]], unrated_by=ids["rep"])[0] == 4
    card = lead_to_rate(db_engine, lead_id=ids["old"], owner_ids=owners)
    assert card is not None and (card.external_id, card.owner) == ("old", "Rita")
    assert lead_to_rate(db_engine, lead_id=ids["west-1"], owner_ids=owners) is None
    mine = my_rating(db_engine, rater_id=ids["rep"], lead_id=ids["old-rated"])
    assert mine is not None and mine.stars == 3
    assert my_rating(db_engine, rater_id=ids["boss"], lead_id=ids["old-rated"]) is None
