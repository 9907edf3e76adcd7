"""No frame or number cached for one viewer's scope is served to another.

Huddle's caches (ui/data.py's frames, ui/cached.py's numbers, the weekly sync's WeeklySync) are shared by
every viewer and keyed by the data and the filters, never by the user; whatever depends on who is looking
(a rep's own numbers, the anonymised leaderboard and breach list, the rating queue) is applied after the
cache. These tests open the same pages as rep A, then rep B of the same team (then a rep of another team,
then their manager, then a rep again) in one process, so every st.cache_data and st.cache_resource value
one of them filled is there for the next, and check that each sees their own scope only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core.filters import apply_filters, parse_filters
from core.funnel import leads_behind
from core.kpis import win_rate
from core.quota import Scope, scope_leads
from core.sla import owner_status
from core.trends import latest_event_day
from db import clock
from db.engine import make_engine, read_session
from db.feedback import load_rating_rows, owners_for, rater_terms, rating_queue, recent_ratings
from db.frames import load_leads, load_people
from db.report import agreements
from tests.pages.conftest import logged_in_app
from ui.widgets import percent

REP_A, REP_B, REP_ELSEWHERE, MANAGER = "rep", "dan.wright", "lucas.meyer", "manager"
QUOTA, WEEKLY, RATE = "screens/quota.py", "screens/weekly_sync.py", "screens/rate_leads.py"
YEAR = 365  # the period the quota pages are opened on: the last year, in which every demo rep won deals
ANONYMOUS = "Another rep"


def _open(username: str, path: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page(path)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


def _person(people: pl.DataFrame, username: str) -> dict[str, Any]:
    return people.filter(pl.col("username") == username).row(0, named=True)


def _frames(at: AppTest) -> list[pl.DataFrame]:
    return [pl.from_pandas(element.value) for element in at.dataframe]


def _with_column(at: AppTest, column: str) -> list[pl.DataFrame]:
    return [frame for frame in _frames(at) if column in frame.columns]


def _everything_shown(at: AppTest) -> str:
    """Every text the page shows: titles, markdown, captions, metrics, tables, the sidebar's options."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "success", "warning"):
        parts += [str(element.value) for element in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for frame in _frames(at):
        parts += [" ".join(str(v) for v in row) for row in frame.iter_rows()]
    for box in [*at.selectbox, *at.sidebar.selectbox]:
        parts += [str(option) for option in box.options]
    return "\n".join(parts)


@pytest.fixture
def data(app_env: str) -> Iterator[dict[str, Any]]:
    engine = make_engine(app_env)
    leads, people = load_leads(engine), load_people(engine)
    anchor = min(clock.today(), latest_event_day(leads) or clock.today())
    yield {"engine": engine, "leads": leads, "people": people, "anchor": anchor}
    engine.dispose()


# ---------------------------------------------------------------- Quota and win rate


def _period(data: dict[str, Any]) -> dict[str, str]:
    last = data["anchor"]
    return {"period": "custom", "from": f"{last - timedelta(days=YEAR):%Y-%m-%d}", "to": f"{last:%Y-%m-%d}"}


def _own_numbers(data: dict[str, Any], person: dict[str, Any]) -> dict[str, str]:
    """The rep's own win rate and won deals in the period, from core, as the page writes them."""
    filters, _ = parse_filters({**_period(data), "team": person["team"]}, data["anchor"])
    period = filters.period(data["anchor"])
    frame = apply_filters(data["leads"], data["people"], filters)
    mine = scope_leads(frame, Scope("rep", person["user_id"], person["name"]))
    rate = win_rate(mine, period)
    won = leads_behind(mine, data["people"], period, "won")
    return {
        "Win rate": f"{rate.value:.1%}" if rate.value is not None else "—",
        "Won deals": f"{won.height:,}",
    }


def _quota_as_rep(data: dict[str, Any], username: str) -> AppTest:
    """The rep's Quota page, checked: their own numbers and deals, nobody else's name."""
    people = data["people"]
    me = _person(people, username)
    at = _open(username, QUOTA, **_period(data))
    assert at.sidebar.selectbox(key="filter_team_locked").value == me["team"]
    assert at.sidebar.selectbox(key="quota_scope").options == ["You", f"Your team ({me['team']})"]
    shown = {m.label: m.value for m in at.metric}
    expected = _own_numbers(data, me)
    assert shown["Win rate"] == expected["Win rate"], username
    assert shown["Won deals"] == expected["Won deals"], username

    (board,) = _with_column(at, "Rank")
    assert board.filter(pl.col("Rep") == "You").height == 1
    assert set(board["Rep"]) <= {"You", ANONYMOUS}
    assert set(board.filter(pl.col("Rep") == ANONYMOUS)["Revenue"]) <= {"—"}, "others' revenue stays hidden"
    (deals,) = _with_column(at, "owner")
    assert deals.height > 0 and set(deals["owner"]) == {me["name"]}, "the deals behind the numbers are mine"

    others = people.filter((pl.col("role") == "rep") & (pl.col("username") != username))["name"].to_list()
    assert [name for name in others if name in _everything_shown(at)] == [], f"{username} saw a colleague"

    # Their team's numbers: the team's deals, a colleague's among them as "Another rep", as on the board.
    at.sidebar.selectbox(key="quota_scope").set_value(1).run()
    assert not at.exception
    (deals,) = _with_column(at, "owner")
    own = set(data["leads"].filter(pl.col("owner_id") == me["user_id"])["id"].to_list())
    assert ANONYMOUS in set(deals["owner"]), "the team's deals include a colleague's"
    assert all((row["owner"] == me["name"]) == (row["id"] in own) for row in deals.iter_rows(named=True))
    assert [name for name in others if name in _everything_shown(at)] == [], f"{username} saw a colleague"
    return at


def test_each_rep_sees_their_own_quota_numbers_and_no_other_reps_name(data: dict[str, Any]) -> None:
    people = data["people"]
    a, b = _person(people, REP_A), _person(people, REP_B)
    assert a["team_id"] == b["team_id"], "rep A and rep B share a team, so they share its cached numbers"

    # Rep A opens the page (their numbers, then their team's), then rep B of the same team the same way:
    # every number and frame rep B is shown was cached by rep A's runs first.
    for username in (REP_A, REP_B, REP_ELSEWHERE):
        _quota_as_rep(data, username)

    # Their manager, after them, sees names: what got cached was not the reps' anonymised board or deals.
    boss = _open(MANAGER, QUOTA, **_period(data))
    (board,) = _with_column(boss, "Rank")
    team = people.filter((pl.col("team_id") == a["team_id"]) & (pl.col("role") == "rep"))["name"].to_list()
    assert set(board["Rep"]) == set(team) and ANONYMOUS not in set(board["Rep"])
    (deals,) = _with_column(boss, "owner")
    assert len(set(deals["owner"])) >= 2 and set(deals["owner"]) <= set(team)
    scope = boss.sidebar.selectbox(key="quota_scope")
    for rep in (a, b):
        scope.set_value(scope.options.index(f"Rep: {rep['name']}")).run()
        assert not boss.exception
        # The same numbers as the rep saw of themselves, and the deals are theirs.
        expected = _own_numbers(data, rep)
        shown = {m.label: m.value for m in boss.metric}
        assert (shown["Win rate"], shown["Won deals"]) == (expected["Win rate"], expected["Won deals"])
        (deals,) = _with_column(boss, "owner")
        assert set(deals["owner"]) == {rep["name"]}
        scope = boss.sidebar.selectbox(key="quota_scope")

    # And rep A once more, after the manager's named views: still anonymised, still only their own.
    _quota_as_rep(data, REP_A)


# ---------------------------------------------------------------- the weekly sync's breaches


def _breaches(at: AppTest) -> tuple[pl.DataFrame, pl.DataFrame]:
    by_owner = next(f for f in _with_column(at, "owner") if "breaches" in f.columns)
    each = next(f for f in _with_column(at, "owner") if "lead_id" in f.columns)
    return by_owner, each


def test_each_rep_sees_their_own_breaches_by_name_and_nobody_elses(data: dict[str, Any]) -> None:
    people = data["people"]
    views = {
        username: _breaches(_open(username, WEEKLY)) for username in (REP_A, REP_B, MANAGER, REP_ELSEWHERE)
    }
    views["manager again"] = _breaches(_open(MANAGER, WEEKLY))

    _, everyone = views[MANAGER]
    named = set(everyone["owner"].drop_nulls())
    assert len(named) >= 2 and ANONYMOUS not in named, "the manager, after two reps, sees every owner's name"
    assert views["manager again"][1].equals(everyone)
    for username in (REP_A, REP_B, REP_ELSEWHERE):
        me = _person(people, username)["name"]
        by_owner, each = views[username]
        assert set(each["owner"].drop_nulls()) <= {me, ANONYMOUS}, username
        assert set(by_owner["owner"].drop_nulls()) <= {me, ANONYMOUS}, username
        # Exactly my breaches carry my name (not rep A's view of them, cached), every other one is anonymous.
        mine = sorted(each.filter(pl.col("owner") == me)["lead_id"].to_list())
        assert mine == sorted(everyone.filter(pl.col("owner") == me)["lead_id"].to_list()), username
        assert each.height == everyone.height
    assert any(
        me in set(everyone["owner"])
        for me in (_person(people, REP_A)["name"], _person(people, REP_B)["name"])
    )


# ---------------------------------------------------------------- Rate my leads


def _queue_shown(at: AppTest) -> tuple[int, int, str]:
    """(MQLs waiting, the id of the lead on the card, its owner) as the page shows them."""
    waiting = next(m.value for m in at.markdown if "for your rating, the longest" in m.value)
    count = int(waiting.split("**")[1].split()[0].replace(",", ""))
    form = next(s.key for s in at.segmented_control if s.key and s.key.startswith("rate_"))
    owner = next(c.value for c in at.caption if "owned by" in c.value).split("owned by ")[-1]
    return count, int(form.removeprefix("rate_").removesuffix("_stars")), owner


def test_each_rater_gets_their_own_queue_and_sla_status(data: dict[str, Any]) -> None:
    engine, people = data["engine"], data["people"]
    with read_session(engine) as session:
        terms = agreements(session)
    ratings = load_rating_rows(engine)
    for username in (REP_A, REP_B, MANAGER, REP_ELSEWHERE, REP_A):
        me = _person(people, username)
        owners = owners_for(engine, me["user_id"])
        window = rater_terms(engine, me["user_id"])
        queue = rating_queue(engine, rater_id=me["user_id"], owner_ids=owners, now=clock.now(), terms=window)
        at = _open(username, RATE)
        if not queue.leads:  # nothing inside their rating window: told how many of their own left it
            assert f"{queue.missed:,} MQLs left the queue unrated" in " ".join(i.value for i in at.info), (
                username
            )
        else:
            count, lead_id, owner = _queue_shown(at)
            assert (count, lead_id) == (queue.waiting, queue.leads[0].id), username
            names = set(people.filter(pl.col("user_id").is_in(owners))["name"])
            assert owner in names and (me["role"] != "rep" or owner == me["name"]), username

        status = owner_status(
            data["leads"], ratings, owners, now=clock.now().replace(tzinfo=None), agreements=terms
        )
        line = next(m.value for m in at.markdown if "followed up in time" in m.value)
        within = status.within
        assert f"followed up in time: {percent(within.value)} ({within.num:,} of {within.den:,})" in line, (
            username
        )

        recent = recent_ratings(engine, rater_id=me["user_id"], since=clock.now() - timedelta(days=14))
        if recent:
            offered = at.selectbox(key="change_pick").options
            assert len(offered) == len(recent) + 1, username
            assert all(any(r.external_id in option for r in recent) for option in offered[1:]), username
