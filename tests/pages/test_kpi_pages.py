"""The Quota and Revenue screens as each role drives them, filters coming from a shared link."""

from __future__ import annotations

from datetime import date

import polars as pl
from streamlit.testing.v1 import AppTest

from core.filters import apply_filters, parse_filters
from core.kpis import win_rate
from core.quota import Scope, scope_leads, scope_target
from core.revenue import alignment
from core.trends import latest_event_day
from db import clock
from db.engine import make_engine
from db.frames import load_leads, load_people, load_quotas
from db.models import Role
from tests.pages.conftest import PROJECT_ROOT, logged_in_app
from ui.auth import CurrentUser


def _page(username: str, path: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page(path)
    at.query_params.update(params)
    return at.run()


def _data(url: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, date]:
    engine = make_engine(url)
    leads, people, quotas = load_leads(engine), load_people(engine), load_quotas(engine)
    today = clock.today()
    return leads, people, quotas, min(today, latest_event_day(leads) or today)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _user(people: pl.DataFrame, username: str) -> dict[str, object]:
    return people.filter(pl.col("username") == username).row(0, named=True)


def test_an_executive_follows_a_link_to_one_teams_last_quarter(app_env: str) -> None:
    leads, people, quotas, anchor = _data(app_env)
    team = sorted(people["team"].drop_nulls().unique().to_list())[0]
    at = _page("exec", "screens/quota.py", period="last_quarter", team=team)
    assert not at.exception, at.exception
    scope_box = at.sidebar.selectbox(key="quota_scope")
    assert scope_box.options[0] == team and all(o.startswith("Rep: ") for o in scope_box.options[1:])

    filters, _ = parse_filters({"period": "last_quarter", "team": team}, anchor)
    period = filters.period(anchor)
    frame = apply_filters(leads, people, filters)
    team_id = people.filter(pl.col("team") == team)["team_id"][0]
    target = scope_target(frame, quotas, people, period, Scope("team", team_id, team))
    rate = win_rate(scope_leads(frame, Scope("team", team_id, team)), period)
    shown = _metrics(at)
    assert shown["Quota attainment"] == (
        f"{target.share:.0%}" if target.share is not None else "no quota set"
    )
    assert shown["Win rate"] == (f"{rate.value:.1%}" if rate.value is not None else "—")
    assert at.query_params == {"period": "last_quarter", "team": team}


def test_a_rep_sees_their_own_numbers_and_nobody_elses_name(app_env: str) -> None:
    _, people, _, _ = _data(app_env)
    me = _user(people, "rep")
    at = _page("rep", "screens/quota.py", team="Somebody else's team")
    assert not at.exception, at.exception
    locked = at.sidebar.selectbox(key="filter_team_locked")
    assert locked.disabled and locked.value == me["team"]
    assert at.sidebar.selectbox(key="quota_scope").options == ["You", f"Your team ({me['team']})"]
    board = at.dataframe[0].value
    assert "You" in board["Rep"].tolist()
    teammates = people.filter((pl.col("team_id") == me["team_id"]) & (pl.col("username") != "rep"))["name"]
    assert not set(board["Rep"]) & set(teammates.to_list()), "a rep must not see a teammate's name"
    assert set(board["Rep"]) <= {"You", "Another rep"}


def test_a_manager_picks_among_their_own_team_only(app_env: str) -> None:
    _, people, _, _ = _data(app_env)
    me = _user(people, "manager")
    at = _page("manager", "screens/quota.py")
    assert not at.exception, at.exception
    options = at.sidebar.selectbox(key="quota_scope").options
    reps = people.filter((pl.col("team_id") == me["team_id"]) & (pl.col("role") == "rep"))
    assert options == [me["team"], *[f"Rep: {n}" for n in sorted(reps["name"].to_list())]]
    at.sidebar.selectbox(key="quota_scope").set_value(1).run()
    assert not at.exception
    board = at.dataframe[0].value
    assert set(board["Rep"]) <= set(reps["name"].to_list()), "named, and only the manager's own reps"


def test_a_marketer_checks_one_sources_revenue(app_env: str) -> None:
    leads, people, quotas, anchor = _data(app_env)
    at = _page("marketer", "screens/revenue.py", period="last_quarter", source="paid_search")
    assert not at.exception, at.exception
    filters, _ = parse_filters({"period": "last_quarter", "source": "paid_search"}, anchor)
    period = filters.period(anchor)
    frame = apply_filters(leads, people, filters)
    expected = alignment(frame, period, scope_target(frame, quotas, people, period, Scope("company")))
    shown = _metrics(at)
    assert shown["Revenue"] == f"${expected.revenue:,.0f}"
    share = expected.marketing_revenue.value
    assert shown["Marketing-sourced revenue"] == ("—" if share is None else f"{share:.1%}")
    assert shown["Pipeline coverage"].endswith("×") or shown["Pipeline coverage"] in ("no target set",
                                                                                       "target reached")  # fmt: skip


def test_the_revenue_screen_itself_refuses_a_rep() -> None:
    at = AppTest.from_file(str(PROJECT_ROOT / "screens" / "revenue.py"), default_timeout=60)
    at.session_state["huddle_user"] = CurrentUser(id=1, username="x", name="X", role=Role.rep, team_id=None)
    at.run()
    assert [e.value for e in at.error] == ["This page is not available to your role."]
    assert not at.metric


def test_switching_the_split_lists_campaigns(app_env: str) -> None:
    at = _page("exec", "screens/revenue.py", period="last_quarter")
    assert not at.exception
    at.segmented_control(key="revenue_by").set_value("campaign").run()
    assert not at.exception
    assert "Campaign" in at.dataframe[0].value.columns
