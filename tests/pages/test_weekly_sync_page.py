"""The Weekly sync page for every role, its presenter mode, and where each role lands after logging in."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.sla import scorecard
from core.weekly import judged_at, last_complete_week, week_period
from db import clock
from db.engine import make_engine, read_session
from db.feedback import load_rating_rows
from db.frames import load_leads
from db.report import agreements
from tests.pages.conftest import logged_in_app

SECTIONS = [
    "The funnel",
    "The SLA, both sides",
    "Lead quality",
    "Handoff answers",
    "Criteria changes",
    "Wins to celebrate",
    "Content",
    "Decisions and action items",
]


def _weekly(username: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/weekly_sync.py")
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("rep", "Rate my leads"),
        ("marketer", "Targeting criteria"),
        ("manager", "Weekly sync"),
        ("exec", "Weekly sync"),
        ("admin", "Overview"),
    ],
)
def test_each_role_lands_on_its_home(app_env: str, username: str, home: str) -> None:
    at = logged_in_app(username).run()
    assert not at.exception
    assert home in [t.value for t in at.title]


@pytest.mark.parametrize("username", ["rep", "manager", "marketer", "exec", "admin"])
def test_every_role_sees_every_section(app_env: str, username: str) -> None:
    at = _weekly(username)
    assert not at.exception, [e.value for e in at.exception]
    assert [h.value for h in at.header] == SECTIONS
    assert {m.label for m in at.metric} >= {"MQLs delivered", "Speed to lead (median)", "Revenue"}


def test_the_sla_numbers_are_the_cores(app_env: str) -> None:
    at = _weekly("manager")
    engine = make_engine(app_env)
    week = last_complete_week(min(clock.today(), load_leads(engine)["created_at"].max().date()))  # type: ignore[union-attr]
    period = week_period(week)
    with read_session(engine) as session:
        terms = agreements(session)
    now = clock.now().replace(tzinfo=None, minute=0, second=0, microsecond=0)
    card = scorecard(
        load_leads(engine), load_rating_rows(engine), period, as_of=judged_at(period, now), agreements=terms
    )
    engine.dispose()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["MQLs delivered"] == f"{card.marketing.mqls:,}"
    assert card.speed.median_hours is not None
    assert metrics["Speed to lead (median)"] == f"{card.speed.median_hours:,.1f} h"
    assert metrics[f"Within {terms.company.follow_up_hours} h"] == f"{card.speed.within.value:.0%}"


def test_an_unknown_week_in_the_address_falls_back_to_the_last_complete_one(app_env: str) -> None:
    at = _weekly("exec", week="2026-W99")
    assert not at.exception
    assert at.selectbox[0].index == 0 and at.selectbox[0].options[0].startswith("Week ")


def test_presenter_mode_shows_one_section_and_steps_through_them(app_env: str) -> None:
    at = _weekly("manager", present="1", section="2")
    assert not at.exception
    assert next(t.value for t in at.title).startswith("The SLA, both sides — Week ")
    assert not at.header  # one section per screen: no other section's heading
    assert "**2 / 8 · The SLA, both sides**" in [m.value for m in at.markdown]
    next_button = next(b for b in at.button if b.label == "Next")
    next_button.click().run()
    assert next(t.value for t in at.title).startswith("Lead quality — Week ")
    assert at.query_params["section"] == "3"
    exit_button = next(b for b in at.button if b.label == "Exit")
    exit_button.click().run()
    assert "Weekly sync" in [t.value for t in at.title]
    assert [h.value for h in at.header] == SECTIONS


def test_presenter_mode_reaches_the_action_items(app_env: str) -> None:
    at = _weekly("manager", present="1", section="8")
    assert not at.exception
    assert next(t.value for t in at.title).startswith("Decisions and action items")
    assert next(b for b in at.button if b.label == "Next").disabled


def test_a_rep_lands_on_rating_with_their_sla_status(app_env: str) -> None:
    at = logged_in_app("rep").run()
    assert not at.exception
    line = next(m.value for m in at.markdown if "followed up in time" in m.value)
    assert ("Nothing overdue" in line) or ("waited past the agreed hours untouched" in line)
    assert any("Your SLA over the last 30 days" in c.value for c in at.caption)


def test_a_rep_sees_only_their_own_name_among_the_breaches(app_env: str) -> None:
    manager_view = _weekly("manager")
    owners = {
        row["owner"]
        for frame in manager_view.dataframe
        for row in frame.value.to_dict("records")
        if "owner" in row
    }
    assert len(owners) >= 2, "the demo week has breaches by more than one owner"
    rep_view = _weekly("rep")
    seen = {
        row["owner"]
        for frame in rep_view.dataframe
        for row in frame.value.to_dict("records")
        if "owner" in row
    }
    rep_name = "Riley Parker"
    assert seen <= {rep_name, "Another rep"}
    assert "Another rep" in seen
