"""Content health per role, on a copy of the demo company whose content this test writes itself (the demo's
own content is left out: the numbers below are worked out from the rows written here)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db import clock
from db.engine import make_engine, write_session
from db.models import (
    ContentAsset,
    ContentKind,
    ContentRating,
    ContentRequest,
    ContentRequestStatus,
    ContentRequestVote,
    ContentUse,
    Lead,
    Role,
    User,
)
from tests.pages.conftest import PROJECT_ROOT, logged_in_app
from ui.auth import CurrentUser

CONTENT_TABLES = (
    "content_rating_history", "content_ratings", "content_uses", "content_request_votes", "content_requests",
    "content_versions", "content_assets",
)  # fmt: skip


def _without_content(url: str) -> str:
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    with connection:
        for table in CONTENT_TABLES:
            connection.execute(f"DELETE FROM {table}")
    connection.close()
    return url


def _page(username: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/content_health.py")
    return at.run()


def _id(row: ContentAsset | ContentRequest | Lead | User) -> int:
    assert row.id is not None
    return row.id


def _seed(url: str) -> dict[str, str]:
    """Three live assets and an archived one; two used in the last 90 days by reps of two teams, one never;
    ratings; an open request with a vote and a declined one. Returns the names the page should show."""
    now = clock.now()
    engine = make_engine(url)
    try:
        with write_session(engine) as session:
            users = {u.username: u for u in session.exec(select(User)).all()}
            manager = users["manager"]
            reps = [u for u in users.values() if u.role == Role.rep and u.active]
            mine = next(u for u in reps if u.team_id == manager.team_id)
            other = next(u for u in reps if u.team_id != manager.team_id)
            closed = session.exec(
                select(Lead).where(Lead.outcome.is_not(None), Lead.opportunity_at.is_not(None),  # type: ignore[union-attr]
                                   Lead.closed_at < now - timedelta(days=120))  # type: ignore[operator]
                .order_by(Lead.id).limit(6)  # type: ignore[arg-type]
            ).all()  # fmt: skip
            case = ContentAsset(title="Case <b>study</b> =1+1", kind=ContentKind.case_study,
                                created_at=now - timedelta(days=400), updated_at=now - timedelta(days=400))  # fmt: skip
            deck = ContentAsset(title="Pricing deck", kind=ContentKind.deck, last_reviewed_on=now.date(),
                                created_at=now - timedelta(days=30), updated_at=now - timedelta(days=30))  # fmt: skip
            unused = ContentAsset(title="Nobody's one-pager", kind=ContentKind.one_pager,
                                  created_at=now - timedelta(days=20), updated_at=now - timedelta(days=20))  # fmt: skip
            gone = ContentAsset(title="Archived card", kind=ContentKind.battle_card, archived_at=now,
                                created_at=now - timedelta(days=50), updated_at=now)  # fmt: skip
            session.add_all([case, deck, unused, gone])
            session.flush()
            for lead in closed[:4]:
                assert lead.closed_at is not None
                session.add(ContentUse(asset_id=_id(case), lead_id=_id(lead), user_id=_id(mine),
                                       used_at=lead.closed_at - timedelta(days=1)))  # fmt: skip
            session.add(
                ContentUse(asset_id=_id(deck), lead_id=_id(closed[4]), user_id=_id(other), used_at=now)
            )
            session.add(ContentRating(asset_id=_id(case), lead_id=_id(closed[0]), rater_id=_id(mine), stars=2,
                                      reasons=["out_of_date"]))  # fmt: skip
            session.add(ContentRating(asset_id=_id(deck), lead_id=_id(closed[4]), rater_id=_id(other), stars=5,
                                      reasons=["won_trust"]))  # fmt: skip
            ask = ContentRequest(what="Battle card vs Acme", requested_by_id=_id(mine), persona="CFO",
                                 created_at=now - timedelta(days=12))  # fmt: skip
            session.add(ask)
            session.add(ContentRequest(what="Declined ask", requested_by_id=_id(mine), status=ContentRequestStatus.declined,
                                       answer_reason="no"))  # fmt: skip
            session.flush()
            session.add(ContentRequestVote(request_id=_id(ask), user_id=_id(other)))
            return {"mine": mine.name, "other": other.name}
    finally:
        engine.dispose()


@pytest.mark.parametrize("username", ["marketer", "manager", "exec", "admin"])
def test_an_empty_library_says_what_to_do(fresh_app_env: str, username: str) -> None:
    _without_content(fresh_app_env)
    at = _page(username)
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Content health"]
    infos = " ".join(i.value for i in at.info)
    assert "Marketers add case studies" in infos and "the Content page" in infos
    assert "No open requests" in infos
    assert not at.dataframe and not at.error


def test_a_rep_is_refused_by_the_page_itself(app_env: str) -> None:
    at = AppTest.from_file(str(PROJECT_ROOT / "screens" / "content_health.py"), default_timeout=60)
    at.session_state["huddle_user"] = CurrentUser(id=1, username="x", name="X", role=Role.rep, team_id=None)
    at.run()
    assert [e.value for e in at.error] == ["This page is not available to your role."]
    assert not at.title
    rep = logged_in_app("rep").run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        rep.switch_page("screens/content_health.py")


def _tables(at: AppTest) -> dict[str, list[str]]:
    return {", ".join(map(str, t.value.columns)): t.value for t in at.dataframe}


@pytest.mark.parametrize("username", ["marketer", "exec", "admin"])
def test_the_seeded_library_shows_every_section(fresh_app_env: str, username: str) -> None:
    _without_content(fresh_app_env)
    names = _seed(fresh_app_env)
    at = _page(username)
    assert not at.exception, at.exception
    # Live: case study, deck, one-pager (the card is archived); used in 90 days: the deck (the case study's
    # uses are a day before its deals closed, over 120 days ago) -> 1 of 3.
    metric = at.metric[0]
    assert metric.label == "Content used in the last 90 days" and metric.value == "33.3%"
    assert "Share of the live sales content" in metric.help
    tables = {frozenset(t.value.columns): t.value for t in at.dataframe}
    never = next(v for k, v in tables.items() if "Days since added" in k)
    assert never["Title"].to_list() == ["Nobody's one-pager"] and never["Days since added"].to_list() == [20]
    reps = next(v for k, v in tables.items() if "Rep" in k)
    assert reps["Rep"].to_list() == [names["other"]] and reps["Uses"].to_list() == [1]
    helped = next(v for k, v in tables.items() if "Helped %" in k)
    # The case study: 0 of 1 helped, the deck 1 of 1; the least helpful first, both small samples.
    assert helped["Title"].to_list() == ["Case <b>study</b> =1+1", "Pricing deck"]
    assert helped["Sample"].to_list() == ["small sample", "small sample"]
    stale = next(v for k, v in tables.items() if "Why" in k)
    # The case study: rated out of date and never reviewed in its 400 days.
    assert stale["Title"].to_list() == ["Case <b>study</b> =1+1"]
    assert stale["Why"].to_list() == ["rated out of date; review older than 180 days"]
    requests = next(v for k, v in tables.items() if "Votes" in k)
    assert requests[["What", "Votes", "Age (days)", "Asked by"]].values.tolist() == [
        ["Battle card vs Acme", 1, 12, names["mine"]]
    ]
    influence = next(v for k, v in tables.items() if "Deals used on" in k)
    case = influence[influence["Title"] == "Case <b>study</b> =1+1"].iloc[0]
    assert case["Deals used on"] + case["Used, nothing comparable"] == 4 and case["Sample"] == "small sample"
    assert any("Association, not proof" in c.value for c in at.caption)


def test_a_manager_sees_their_own_teams_reps(fresh_app_env: str) -> None:
    _without_content(fresh_app_env)
    names = _seed(fresh_app_env)
    at = _page("manager")
    assert not at.exception, at.exception
    columns = [list(t.value.columns) for t in at.dataframe]
    assert ["Team", "Uses", "Assets", "Leads"] not in columns  # no table of every team
    # The manager's rep used the case study 4 times, long ago: nothing in the last 90 days for the team.
    assert any("No content was used in the last 90 days by your team" in i.value for i in at.info)
    assert names["other"] not in " ".join(
        str(t.value.to_dict()) for t in at.dataframe if "Rep" in t.value.columns
    )
