"""The SLA's terms as versions, on SQLite and PostgreSQL: who may set whose terms, what is refused and
logged, what a team without its own terms is held to, and the history newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.access import OPERATOR, AccessDenied
from db.engine import make_engine, read_session, write_session
from db.feedback import current_agreement
from db.models import AuditLog, Role, SlaSetting, Team, User
from db.sla import (
    Agreement,
    AgreementChange,
    SlaRefused,
    agreement_for,
    agreement_history,
    current_agreements,
    scopes_for,
    set_agreement,
)

MONDAY = datetime(2026, 11, 16, 9, tzinfo=UTC)
COMPANY_TERMS: dict[str, Any] = {
    "mqls_per_month": 400,
    "follow_up_hours": 24,
    "rating_days": 3,
    "acceptance_target": 0.4,
}


def _company(engine: Engine) -> dict[str, int]:
    """Teams East and West; a manager of each, a rep and a marketer of East, an exec and an admin."""
    with write_session(engine) as session:
        east, west = Team(name="East"), Team(name="West")
        session.add_all([east, west])
        session.flush()
        people = {
            "erin": User(username="erin", name="Erin East", role=Role.sales_manager, team_id=east.id),
            "walt": User(username="walt", name="Walt West", role=Role.sales_manager, team_id=west.id),
            "rita": User(username="rita", name="Rita Rep", role=Role.rep, team_id=east.id),
            "mark": User(username="mark", name="Mark Eting", role=Role.marketer),
            "eve": User(username="eve", name="Eve Exec", role=Role.executive),
            "ada": User(username="ada", name="Ada Admin", role=Role.admin),
        }
        session.add_all(people.values())
        session.flush()
        return {"east": int(east.id or 0), "west": int(west.id or 0)} | {
            name: int(u.id or 0) for name, u in people.items()
        }


def _actor(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def _set(engine: Engine, who: str, team_id: int | None, *, at: datetime = MONDAY, **terms: Any) -> None:
    with write_session(engine) as session:
        actor = OPERATOR if who == "operator" else _actor(session, who)
        set_agreement(session=session, actor=actor, team_id=team_id, now=at, **(COMPANY_TERMS | terms))


def _settings(engine: Engine) -> list[tuple[int | None, int, int | None]]:
    with read_session(engine) as session:
        rows = session.exec(select(SlaSetting).order_by(col(SlaSetting.id))).all()
        return [(r.team_id, r.mqls_per_month, r.set_by_id) for r in rows]


def _audit(engine: Engine) -> list[tuple[str, str | None, str]]:
    with read_session(engine) as session:
        rows = session.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
        return [(r.action, r.actor_username, r.outcome) for r in rows]


# ---------------------------------------------------------------- who may set whose terms


def test_a_manager_sets_their_own_teams_terms_and_the_companys(db_engine: Engine) -> None:
    ids = _company(db_engine)
    _set(db_engine, "erin", ids["east"], mqls_per_month=150, follow_up_hours=8)
    _set(db_engine, "erin", None, at=MONDAY + timedelta(hours=1))
    assert _settings(db_engine) == [(ids["east"], 150, ids["erin"]), (None, 400, ids["erin"])]
    assert _audit(db_engine) == [("sla.set", "erin", "ok"), ("sla.set", "erin", "ok")]


def test_a_manager_may_not_set_another_teams_terms_and_the_refusal_is_logged(db_engine: Engine) -> None:
    ids = _company(db_engine)
    with (
        pytest.raises(AccessDenied, match="may not set another team's service level agreement"),
        write_session(db_engine) as session,
    ):
        set_agreement(session=session, actor=_actor(session, "erin"), team_id=ids["west"], **COMPANY_TERMS)
    assert _settings(db_engine) == []
    assert _audit(db_engine) == [("sla.set_any_team", "erin", "denied")]


@pytest.mark.parametrize("who", ["rita", "mark", "eve"])
def test_reps_marketers_and_executives_are_refused_and_logged(db_engine: Engine, who: str) -> None:
    _company(db_engine)
    with pytest.raises(AccessDenied, match="may not set the service level agreement"):
        _set(db_engine, who, None)
    assert _settings(db_engine) == []
    assert _audit(db_engine) == [("sla.set", who, "denied")]


def test_an_admin_sets_any_teams_terms_and_the_command_line_too(db_engine: Engine) -> None:
    ids = _company(db_engine)
    _set(db_engine, "ada", ids["west"], mqls_per_month=90)
    _set(db_engine, "operator", ids["east"], mqls_per_month=80)
    assert _settings(db_engine) == [(ids["west"], 90, ids["ada"]), (ids["east"], 80, None)]
    assert _audit(db_engine) == [("sla.set", "ada", "ok"), ("sla.set", "command line", "ok")]


def test_whose_terms_each_person_may_set(db_engine: Engine) -> None:
    ids = _company(db_engine)
    with read_session(db_engine) as session:
        scopes = {who: scopes_for(session, _actor(session, who)) for who in ("erin", "ada", "rita", "mark")}
    assert scopes == {
        "erin": [None, ids["east"]],
        "ada": [None, ids["east"], ids["west"]],  # by team name
        "rita": [],
        "mark": [],
    }


# ---------------------------------------------------------------- validation and no-ops


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"follow_up_hours": 0}, "Follow-up hours must be a whole number from 1 to 720"),
        ({"follow_up_hours": 721}, "Follow-up hours must be a whole number from 1 to 720"),
        ({"rating_days": 0}, "Rating days must be a whole number from 1 to 60"),
        ({"rating_days": 61}, "Rating days must be a whole number from 1 to 60"),
        ({"mqls_per_month": -1}, "MQLs per month must be a whole number from 0 to 1,000,000"),
        ({"mqls_per_month": 1_000_001}, "MQLs per month must be a whole number from 0 to 1,000,000"),
        ({"mqls_per_month": 2.5}, "MQLs per month must be a whole number"),
        ({"acceptance_target": 1.01}, "acceptance target is a share from 0% to 100%"),
        ({"acceptance_target": -0.1}, "acceptance target is a share from 0% to 100%"),
    ],
)
def test_terms_out_of_range_are_refused_with_what_is_wrong(
    db_engine: Engine, terms: dict[str, Any], message: str
) -> None:
    _company(db_engine)
    with pytest.raises(SlaRefused, match=message):
        _set(db_engine, "ada", None, **terms)
    assert _settings(db_engine) == []
    assert _audit(db_engine) == []


def test_the_edges_of_each_range_are_accepted(db_engine: Engine) -> None:
    _company(db_engine)
    _set(db_engine, "ada", None, mqls_per_month=0, follow_up_hours=1, rating_days=60, acceptance_target=1)
    _set(db_engine, "ada", None, at=MONDAY + timedelta(1), mqls_per_month=1_000_000, follow_up_hours=720)
    assert [m for _, m, _ in _settings(db_engine)] == [0, 1_000_000]


def test_a_team_that_does_not_exist_is_refused(db_engine: Engine) -> None:
    _company(db_engine)
    with pytest.raises(SlaRefused, match="That team does not exist"):
        _set(db_engine, "ada", 999)


def test_setting_the_terms_in_force_again_records_nothing(db_engine: Engine) -> None:
    _company(db_engine)
    _set(db_engine, "ada", None)
    _set(db_engine, "erin", None, at=MONDAY + timedelta(days=1))
    assert len(_settings(db_engine)) == 1
    assert _audit(db_engine) == [("sla.set", "ada", "ok")]


def test_a_change_is_a_new_version_and_the_old_one_stays(db_engine: Engine) -> None:
    ids = _company(db_engine)
    _set(db_engine, "ada", None)
    _set(db_engine, "erin", None, at=MONDAY + timedelta(days=7), acceptance_target=0.5)
    assert _settings(db_engine) == [(None, 400, ids["ada"]), (None, 400, ids["erin"])]
    with read_session(db_engine) as session:
        assert current_agreements(session)[None].acceptance_target == 0.5


# ---------------------------------------------------------------- reading the terms in force


def test_a_team_without_its_own_terms_is_held_to_the_companys(db_engine: Engine) -> None:
    ids = _company(db_engine)
    _set(db_engine, "ada", None)
    _set(db_engine, "erin", ids["east"], at=MONDAY + timedelta(hours=1), follow_up_hours=8, rating_days=2)
    _set(db_engine, "erin", ids["east"], at=MONDAY + timedelta(hours=2), follow_up_hours=12, rating_days=2)
    fresh = make_engine(db_engine.url.render_as_string(hide_password=False))
    with read_session(fresh) as session:  # another engine, as another process, reads what was written
        agreements = current_agreements(session)
    fresh.dispose()
    company = Agreement(follow_up_hours=24, rating_days=3, mqls_per_month=400, acceptance_target=0.4)
    east = Agreement(follow_up_hours=12, rating_days=2, mqls_per_month=400, acceptance_target=0.4)
    assert agreements == {None: company, ids["east"]: east}
    assert agreement_for(agreements, ids["east"]) == east
    assert agreement_for(agreements, ids["west"]) == company
    assert agreement_for(agreements, None) == company
    assert current_agreement(db_engine) == company  # the feedback screens read the company's


def test_with_no_terms_set_everyone_gets_the_defaults(db_engine: Engine) -> None:
    _company(db_engine)
    with read_session(db_engine) as session:
        agreements = current_agreements(session)
    assert agreements == {}
    assert agreement_for(agreements, 1) == Agreement(24, 3, None, None)
    assert current_agreement(db_engine) == Agreement(24, 3, None, None)


def test_the_history_is_newest_first_with_names_and_utc_times(db_engine: Engine) -> None:
    ids = _company(db_engine)
    _set(db_engine, "operator", None)
    _set(db_engine, "walt", ids["west"], at=MONDAY + timedelta(days=2), mqls_per_month=120)
    with read_session(db_engine) as session:
        history = agreement_history(session)
    assert history == [
        AgreementChange("West", 120, 24, 3, 0.4, MONDAY + timedelta(days=2), "Walt West"),
        AgreementChange(None, 400, 24, 3, 0.4, MONDAY, None),
    ]
    assert all(change.effective_from.tzinfo is not None for change in history)


# ---------------------------------------------------------------- the words


def test_the_terms_as_one_sentence() -> None:
    assert Agreement(24, 3, 400, 0.4).describe() == (
        "Marketing delivers 400 MQLs a month; sales follows up every MQL within 24 working hours (Monday to Friday) and rates it "
        "within 3 days; at least 40% of the MQLs sales rates are rated 4-5."
    )
    assert Agreement(1, 1, 1_200, 0.35).describe() == (
        "Marketing delivers 1,200 MQLs a month; sales follows up every MQL within 1 working hour (Monday to Friday) and rates it "
        "within 1 day; at least 35% of the MQLs sales rates are rated 4-5."
    )
    assert Agreement().describe() == (
        "Marketing has not committed to a number of MQLs; sales follows up every MQL within 24 working hours (Monday to Friday) and "
        "rates it within 3 days; no acceptance target is set."
    )


# ---------------------------------------------------------------- the rating queue's grace


def _graces(engine: Engine) -> list[tuple[int | None, int]]:
    with read_session(engine) as session:
        rows = session.exec(select(SlaSetting).order_by(col(SlaSetting.id))).all()
        return [(r.team_id, r.rating_grace_days) for r in rows]


def test_the_grace_defaults_to_fourteen_days_and_new_terms_carry_the_one_in_force(db_engine: Engine) -> None:
    ids = _company(db_engine)
    _set(db_engine, "erin", None)  # first terms: the default grace
    _set(db_engine, "ada", None, at=MONDAY + timedelta(hours=1), rating_grace_days=21)
    _set(db_engine, "erin", None, at=MONDAY + timedelta(hours=2), mqls_per_month=500)  # keeps 21
    _set(db_engine, "erin", ids["east"], at=MONDAY + timedelta(hours=3))  # East's own: the company's 21
    assert _graces(db_engine) == [(None, 14), (None, 21), (None, 21), (ids["east"], 21)]
    with read_session(db_engine) as session:
        assert agreement_for(current_agreements(session), ids["west"]).rating_window_days == 3 + 21
        assert agreement_history(session)[-1].rating_grace_days == 14  # the oldest version
    with read_session(db_engine) as session:
        details = session.exec(select(AuditLog.detail).order_by(col(AuditLog.id))).all()
    assert "rating_grace_days=14" in (details[0] or "") and "rating_grace_days=21" in (details[1] or "")


def test_an_admin_changes_the_grace_alone_as_a_new_version(db_engine: Engine) -> None:
    _company(db_engine)
    _set(db_engine, "ada", None)
    _set(db_engine, "ada", None, at=MONDAY + timedelta(hours=1), rating_grace_days=0)
    _set(db_engine, "ada", None, at=MONDAY + timedelta(hours=2), rating_grace_days=0)  # the same: nothing
    assert _graces(db_engine) == [(None, 14), (None, 0)]
    assert _audit(db_engine) == [("sla.set", "ada", "ok"), ("sla.set", "ada", "ok")]


def test_only_an_admin_changes_the_grace_and_every_refusal_is_logged(db_engine: Engine) -> None:
    _company(db_engine)
    _set(db_engine, "erin", None)
    with pytest.raises(AccessDenied, match=r"Your role \(sales_manager\) may not change settings"):
        _set(db_engine, "erin", None, at=MONDAY + timedelta(hours=1), rating_grace_days=30)
    with pytest.raises(AccessDenied, match=r"Your role \(rep\) may not set the service level agreement"):
        _set(db_engine, "rita", None, at=MONDAY + timedelta(hours=2), rating_grace_days=30)
    _set(db_engine, "erin", None, at=MONDAY + timedelta(hours=3), rating_grace_days=14, mqls_per_month=450)
    assert _graces(db_engine) == [(None, 14), (None, 14)]  # the grace in force, given again, is no change
    assert _audit(db_engine) == [
        ("sla.set", "erin", "ok"),
        ("settings.change", "erin", "denied"),
        ("sla.set", "rita", "denied"),
        ("sla.set", "erin", "ok"),
    ]


@pytest.mark.parametrize("grace", [-1, 366, 2.5, True, "14"])
def test_the_grace_is_a_whole_number_of_days_from_0_to_365(db_engine: Engine, grace: Any) -> None:
    _company(db_engine)
    with pytest.raises(
        SlaRefused, match=r"^The rating queue's grace \(days\) must be a whole number from 0 to 365\.$"
    ):
        _set(db_engine, "ada", None, rating_grace_days=grace)
    assert _settings(db_engine) == []
    _set(db_engine, "ada", None, rating_grace_days=365)
    assert _graces(db_engine) == [(None, 365)]
