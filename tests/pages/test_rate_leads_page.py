"""Rate my leads as a rep and a manager drive it: rate, submit and next, change a rating."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, read_session
from db.feedback import owners_for, rating_queue
from db.models import LeadRating, User
from db.settings import get_settings
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


def test_a_rep_rates_the_longest_waiting_lead_and_gets_the_next(own_db: str) -> None:
    engine = make_engine(own_db)
    with read_session(engine) as session:
        rep = session.exec(select(User).where(User.username == "rep")).one()
    before = rating_queue(engine, rater_id=int(rep.id or 0), owner_ids=owners_for(engine, int(rep.id or 0)))
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

    after = rating_queue(engine, rater_id=int(rep.id or 0), owner_ids=owners_for(engine, int(rep.id or 0)))
    assert after.waiting == before.waiting - 1 and after.leads[0].id != first.id
    assert f"{after.waiting:,} MQLs" in at.markdown[1].value  # after the SLA status line
    with read_session(engine) as session:
        saved = session.exec(
            select(LeadRating).where(LeadRating.lead_id == first.id, LeadRating.rater_id == rep.id)
        ).one()
    assert (saved.stars, saved.reasons, saved.note) == (2, ["too_small", "no_budget"], "Owner-operated shop")


def test_submitting_without_stars_asks_for_them(own_db: str) -> None:
    at = _page("rep")
    at.button[0].click().run()
    assert [w.value for w in at.warning] == ["Pick 1 to 5 stars first."]


def test_a_manager_sees_the_team_queue(own_db: str) -> None:
    engine = make_engine(own_db)
    with read_session(engine) as session:
        boss = session.exec(select(User).where(User.username == "manager")).one()
    queue = rating_queue(engine, rater_id=int(boss.id or 0), owner_ids=owners_for(engine, int(boss.id or 0)))
    at = _page("manager")
    assert not at.exception
    assert f"{queue.waiting:,} MQLs" in at.markdown[1].value  # after the SLA status line
    assert len(owners_for(engine, int(boss.id or 0))) == 4, "the SMB team's four reps"
