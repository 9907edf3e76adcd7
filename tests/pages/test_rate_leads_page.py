"""Rate my leads as a rep and a manager drive it: the queue inside the rating window, rate, submit and next,
the empty queue that says how many MQLs left it, a manager opening any lead of the team."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from db import clock
from db.access import OPERATOR
from db.engine import make_engine, read_session, write_session
from db.feedback import Queue, owners_for, rater_terms, rating_queue
from db.models import Lead, LeadRating, User
from db.ratings import RatingIn, rate_lead
from db.settings import get_settings
from db.sla import agreement_for, current_agreements, set_agreement
from tests.pages.conftest import logged_in_app


def _page(username: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/rate_leads.py")
    return at.run()


@pytest.fixture
def own_db(app_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of the demo database this test may write to."""
    target = tmp_path / "rate.db"
    source = sqlite3.connect(app_env.removeprefix("sqlite:///"))
    with sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    url = f"sqlite:///{target}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def _queue(engine: Engine, username: str, limit: int = 20) -> Queue:
    with read_session(engine) as session:
        rater_id = int(session.exec(select(User.id).where(User.username == username)).one() or 0)
    owners = owners_for(engine, rater_id)
    terms = rater_terms(engine, rater_id)
    return rating_queue(
        engine, rater_id=rater_id, owner_ids=owners, now=clock.now(), terms=terms, limit=limit
    )


def _set_grace(url: str, days: int) -> None:
    """The demo admin gives the company's terms a longer grace (the demo's small copy gives the rep only a
    few MQLs a month, so the default 17 days may hold none)."""
    with write_session(make_engine(url)) as session:
        admin = session.exec(select(User).where(User.username == "admin")).one()
        terms = agreement_for(current_agreements(session), None)
        set_agreement(session=session, actor=admin, team_id=None, mqls_per_month=int(terms.mqls_per_month or 0),
                      follow_up_hours=terms.follow_up_hours, rating_days=terms.rating_days,
                      acceptance_target=float(terms.acceptance_target or 0), rating_grace_days=days)  # fmt: skip


def test_a_reps_queue_opens_on_an_mql_inside_the_rating_window(own_db: str) -> None:
    engine = make_engine(own_db)
    assert _queue(engine, "rep").terms.rating_window_days == 3 + 14, "the demo's terms and the default grace"
    _set_grace(own_db, 60)
    queue = _queue(engine, "rep")
    assert queue.terms.rating_window_days == 63 and queue.leads, "the rep has MQLs of the last 63 days"
    assert queue.missed > 0, "the demo has older unrated MQLs: they left the queue"
    oldest = queue.leads[0].mql_at.replace(tzinfo=None)
    assert oldest >= (clock.now() - timedelta(days=63)).replace(tzinfo=None)

    at = _page("rep")
    assert not at.exception, at.exception
    assert f"{queue.waiting:,} MQLs" in at.markdown[1].value  # after the SLA status line
    assert [s.key for s in at.segmented_control if s.key and s.key.startswith("rate_")] == [
        f"rate_{queue.leads[0].id}_stars"
    ]
    captions = " ".join(c.value for c in at.caption)
    assert "The queue holds the MQLs of the last 63 days: the 3 days the SLA gives to rate them" in captions
    assert f"{queue.missed:,} older MQLs left the queue unrated" in captions
    assert "Rate any lead of your team" not in [h.value for h in at.subheader], "a manager's, not a rep's"


def test_a_rep_with_nothing_inside_the_window_is_told_how_many_left_and_why(own_db: str) -> None:
    engine = make_engine(own_db)
    inside = _queue(engine, "rep", limit=10_000)
    with write_session(engine) as session:
        for lead in inside.leads:  # the command line rates as the owner: the rep
            rate_lead(session=session, actor=OPERATOR, rating=RatingIn(lead.id, 3))
    after = _queue(engine, "rep")
    assert after.waiting == 0 and after.missed == inside.missed > 0

    at = _page("rep")
    assert not at.exception, at.exception
    assert not [s for s in at.segmented_control if s.key and s.key.startswith("rate_")], "no old card"
    (info,) = [i.value for i in at.info]
    assert info == (
        f"Nothing to rate inside the rating window. {inside.missed:,} MQLs left the queue unrated: they became "
        "MQL more than 17 days ago (3 days to rate plus 14 days' grace) and count as missed on Rating coverage."
    )


def test_a_rep_rates_the_longest_waiting_lead_and_gets_the_next(own_db: str) -> None:
    engine = make_engine(own_db)
    _set_grace(own_db, 60)
    with read_session(engine) as session:
        rep = session.exec(select(User).where(User.username == "rep")).one()
    before = _queue(engine, "rep")
    assert before.waiting > 1
    first = before.leads[0]

    at = _page("rep")
    assert not at.exception, at.exception
    assert f"{before.waiting:,} MQLs" in at.markdown[1].value  # after the SLA status line
    at.segmented_control(key=f"rate_{first.id}_stars").set_value(2)
    at.pills(key=f"rate_{first.id}_reasons").set_value(["too_small", "no_budget"])
    at.text_area(key=f"rate_{first.id}_note").input("Owner-operated shop")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.error

    after = _queue(engine, "rep")
    assert after.waiting == before.waiting - 1 and after.leads[0].id != first.id
    assert f"{after.waiting:,} MQLs" in at.markdown[1].value  # after the SLA status line
    with read_session(engine) as session:
        saved = session.exec(
            select(LeadRating).where(LeadRating.lead_id == first.id, LeadRating.rater_id == rep.id)
        ).one()
    assert (saved.stars, saved.reasons, saved.note) == (2, ["too_small", "no_budget"], "Owner-operated shop")


def test_submitting_without_stars_asks_for_them(own_db: str) -> None:
    _set_grace(own_db, 60)
    at = _page("rep")
    at.button[0].click().run()
    assert [w.value for w in at.warning] == ["Pick 1 to 5 stars first."]


def test_a_manager_sees_the_team_queue(own_db: str) -> None:
    engine = make_engine(own_db)
    with read_session(engine) as session:
        boss = session.exec(select(User).where(User.username == "manager")).one()
    queue = _queue(engine, "manager")
    at = _page("manager")
    assert not at.exception
    assert f"{queue.waiting:,} MQLs" in at.markdown[1].value  # after the SLA status line
    assert len(owners_for(engine, int(boss.id or 0))) == 4, "the SMB team's four reps"


def test_a_manager_opens_a_lead_that_left_the_queue_and_rates_it(own_db: str) -> None:
    engine = make_engine(own_db)
    queue = _queue(engine, "manager")
    cutoff = clock.now() - timedelta(days=queue.terms.rating_window_days)
    with read_session(engine) as session:
        boss = session.exec(select(User).where(User.username == "manager")).one()
        owners = owners_for(engine, int(boss.id or 0))
        rated = select(LeadRating.lead_id).where(LeadRating.rater_id == boss.id)
        old = session.exec(
            select(Lead)
            .where(col(Lead.owner_id).in_(owners), col(Lead.mql_at) < cutoff, col(Lead.id).not_in(rated))
            .order_by(col(Lead.mql_at))
        ).first()
    assert old is not None, "the demo's SMB team has MQLs that left the manager's queue"
    assert old.id not in {lead.id for lead in queue.leads}

    at = _page("manager")
    assert "Rate any lead of your team" in [h.value for h in at.subheader]
    at.text_input(key="pick_search").input(old.external_id).run()
    picker = at.selectbox(key="pick_lead")
    assert any(option.startswith(f"{old.external_id} · ") for option in picker.options), picker.options
    picker.set_value(old.id).run()
    assert not at.exception, at.exception
    at.segmented_control(key=f"pick_{old.id}_stars").set_value(4)
    next(b for b in at.button if b.label == "Save the rating").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    with read_session(engine) as session:
        saved = session.exec(
            select(LeadRating).where(LeadRating.lead_id == old.id, LeadRating.rater_id == boss.id)
        ).one()
    assert saved.stars == 4


def test_a_manager_cannot_pick_another_teams_lead(own_db: str) -> None:
    engine = make_engine(own_db)
    with read_session(engine) as session:
        boss = session.exec(select(User).where(User.username == "manager")).one()
        owners = owners_for(engine, int(boss.id or 0))
        elsewhere = session.exec(
            select(Lead).where(col(Lead.owner_id).not_in(owners), col(Lead.mql_at).is_not(None))
        ).first()
    assert elsewhere is not None
    at = _page("manager")
    at.text_input(key="pick_search").input(elsewhere.external_id).run()
    assert not at.exception, at.exception
    assert "No MQL of your team matches." in [c.value for c in at.caption]


def approve_a_rule_on_an_imported_attribute(url: str) -> None:
    """The rep owns the demo's unhanded Demo request sign-ups (a CRM export names an owner on every lead,
    handed over or not; the demo's unhanded leads have none), and a version whose only rule reads the
    imported attribute sign_up_form (+60, threshold 60) is proposed by the marketer and approved by the
    manager: those leads become MQLs in the rep's queue."""
    from core.criteria import Rule
    from db.criteria import approve, propose_version

    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        connection.execute(
            "UPDATE leads SET owner_id = (SELECT id FROM users WHERE username = 'rep'), "
            "team_id = (SELECT team_id FROM users WHERE username = 'rep') "
            "WHERE mql_at IS NULL AND sql_at IS NULL AND closed_at IS NULL "
            "AND json_extract(attributes, '$.sign_up_form') = 'Demo request'"
        )
    engine = make_engine(url)
    with write_session(engine) as session:
        marketer = session.exec(select(User).where(User.username == "marketer")).one()
        draft = propose_version(
            session=session, actor=marketer, rules=(Rule("sign_up_form", "eq", "Demo request", 60),),
            threshold=60, rationale="Demo requests rate 4-5",
        )  # fmt: skip
        draft_id = int(draft.id or 0)
    with write_session(engine) as session:
        manager = session.exec(select(User).where(User.username == "manager")).one()
        approve(session=session, actor=manager, version_id=draft_id)
    engine.dispose()


def test_the_card_says_why_an_mql_with_a_rule_on_an_imported_attribute(own_db: str) -> None:
    """A version whose only rule reads an imported attribute is approved: the leads it makes MQLs reach the
    rep's queue, and the card's *Why an MQL* names that rule in words."""
    approve_a_rule_on_an_imported_attribute(own_db)
    engine = make_engine(own_db)
    queue = _queue(engine, "rep")
    assert queue.leads, "the approval made MQLs of the rep's new Demo request leads"
    at = _page("rep")
    assert not at.exception, at.exception
    (why,) = [e for e in at.expander if e.label.startswith("Why an MQL")]
    assert why.label == "Why an MQL: 60 points, 60 needed"
    assert "• Sign up form is Demo request: +60 points" in [t.value for t in why.text]
