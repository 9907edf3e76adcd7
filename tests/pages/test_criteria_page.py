"""Targeting criteria as each role drives it: a marketer reads the evidence, tries a change and proposes
it; a sales manager approves or rejects; an executive reads; a rep never gets the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

from core.criteria import Rule
from db.access import OPERATOR
from db.criteria import propose_version, versions
from db.engine import make_engine, read_session, write_session
from db.migrate import upgrade_to_head
from db.models import CriteriaStatus, CriteriaVersion, Role, User, UserCreate
from db.settings import get_settings
from db.tuning import run_tuning
from db.users import create_user
from tests.pages.conftest import PROJECT_ROOT, logged_in_app
from ui.auth import CurrentUser
from ui.widgets import plain


def _page(username: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/criteria.py")
    return at.run()


def _button(at: AppTest, label: str) -> Button:
    found = [b for b in at.button if b.label == label]
    assert found, f"no {label!r} button among {[b.label for b in at.button]}"
    return found[0]


def _what_if(at: AppTest) -> Any:
    """The live backtest of the edited version (the table with a "Your version" column)."""
    return next(d.value for d in at.dataframe if "Your version" in d.value.columns)


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _statuses(url: str) -> dict[int, str]:
    engine = make_engine(url)
    try:
        with read_session(engine) as session:
            return {v.number: v.status.value for v in session.exec(select(CriteriaVersion))}
    finally:
        engine.dispose()


def _draft_by_the_marketer(url: str) -> None:
    engine = make_engine(url)
    try:
        with write_session(engine) as session:
            marketer = session.exec(select(User).where(User.username == "marketer")).one()
            propose_version(
                session=session,
                actor=marketer,
                rules=(Rule("industry", "eq", "Manufacturing", 30), Rule("page_views", "gte", 5, 20)),
                threshold=40,
                rationale="Manufacturing VPs rate 4-5",
            )
    finally:
        engine.dispose()


# ---------------------------------------------------------------- reading


def test_a_marketer_sees_the_version_in_force_the_evidence_and_the_suggestion(app_env: str) -> None:
    tuning = run_tuning(make_engine(app_env), window_days=90)
    at = _page("marketer")
    assert not at.exception, at.exception
    assert not at.error
    headers = [h.value for h in at.subheader]
    assert headers[:4] == ["In force: version 1", "What the evidence says", "The suggestion", "Try a change"]
    text = _markdown(at)
    assert "Persona is Student\\: −40 points" in text  # a launch rule, as a sentence
    assert f"**{plain(tuning.summary())}**" in text
    assert "approved by" in at.caption[0].value and "in force since" in at.caption[0].value
    evidence = next(d.value for d in at.dataframe if "Evidence" in d.value.columns)
    backtest = next(d.value for d in at.dataframe if "Proposed" in d.value.columns)
    mine = _what_if(at)
    assert len(evidence) == tuning.evidence.height
    assert "thin: under 30 leads" in set(evidence["Evidence"])
    assert list(backtest["Measure"]) == [
        "MQL volume",
        "Share rated 4-5",
        "MQL → SQL",
        "Won deals kept",
        "Won revenue kept",
        "Ranks won above lost (AUC)",
        "Ranks rated 4-5 above the rest (AUC)",
    ]
    assert (
        backtest["Proposed"].iloc[6]
        == f"{tuning.after.good_auc.value:.2f} ({tuning.after.good_auc.n:,} leads)"
    )
    seen = next(d.value for d in at.dataframe if "Usable in rules" in d.value.columns)
    assert {"Job title", "Time on website", "Sign up form"} <= set(seen["Attribute"])
    assert backtest["Current"].iloc[0] == f"{tuning.before.mql_count:,}"
    assert backtest["Proposed"].iloc[0] == f"{tuning.after.mql_count:,}"
    assert list(mine["Your version"]) == list(backtest["Proposed"])  # the editor starts from the suggestion
    assert [b.label for b in at.main.button] == ["Add rule", "Propose"]  # no draft, no retired version yet


def test_the_what_if_backtest_follows_the_threshold(app_env: str) -> None:
    at = _page("marketer")
    at.number_input(key="whatif_threshold_suggestion").set_value(1000).run()
    assert not at.exception, at.exception
    mine = _what_if(at)
    assert mine["Your version"].iloc[0] == "0"  # no lead reaches 1,000 points
    assert "Threshold\\: " in _markdown(at)


@pytest.mark.parametrize("username", ["exec", "manager"])
def test_executives_and_managers_cannot_edit(app_env: str, username: str) -> None:
    at = _page(username)
    assert not at.exception, at.exception
    assert "Try a change" not in [h.value for h in at.subheader]
    assert not at.number_input
    assert [b.label for b in at.main.button] == []


def test_a_rep_is_refused_even_past_the_navigation(app_env: str) -> None:
    at = AppTest.from_file(str(PROJECT_ROOT / "screens" / "criteria.py"), default_timeout=60)
    at.session_state["huddle_user"] = CurrentUser(
        id=1, username="rep", name="Rep", role=Role.rep, team_id=None
    )
    at.run()
    assert [e.value for e in at.error] == ["This page is not available to your role."]


# ---------------------------------------------------------------- proposing and signing off


def test_a_marketer_proposes_the_suggestion_with_a_rationale(fresh_app_env: str) -> None:
    at = _page("marketer")
    _button(at, "Propose").click().run()
    assert [w.value for w in at.warning] == ["Write the rationale first: the sales managers decide on it."]
    assert _statuses(fresh_app_env) == {1: "active"}

    at.text_area(key="propose_rationale").input("Small shops rate 1-2; VPs rate 4-5")
    _button(at, "Propose").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "Proposed as a draft. A sales manager approves it before it is in force."
    ]
    assert _statuses(fresh_app_env) == {1: "active", 2: "draft"}
    engine = make_engine(fresh_app_env)
    with read_session(engine) as session:
        draft = versions(session)[0]
    suggested = run_tuning(engine, window_days=90).proposed
    assert (draft.rationale, draft.proposed_by, draft.criteria.threshold) == (
        "Small shops rate 1-2; VPs rate 4-5",
        "Jordan Blake",
        suggested.threshold,
    )
    assert [(r.attribute, r.value, r.points) for r in draft.criteria.rules] == [
        (r.attribute, r.value, r.points) for r in suggested.rules
    ]
    assert "**Version 2**, proposed by Jordan Blake" in _markdown(at)


def test_a_manager_approves_a_draft_and_it_is_in_force(fresh_app_env: str) -> None:
    _draft_by_the_marketer(fresh_app_env)
    at = _page("manager")
    assert "**Version 2**, proposed by Jordan Blake" in _markdown(at)
    draft_backtest = next(d.value for d in at.dataframe if "Version 2" in d.value.columns)
    assert list(draft_backtest["Measure"])[:2] == ["MQL volume", "Share rated 4-5"]
    _button(at, "Approve and put in force").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Version 2 is in force."]
    assert _statuses(fresh_app_env) == {1: "retired", 2: "active"}
    assert at.subheader[0].value == "In force: version 2"
    assert "Industry is Manufacturing\\: \\+30 points" in _markdown(at)
    assert "No draft waits for sign-off." in [c.value for c in at.caption]


def test_a_manager_rejects_with_a_reason_and_a_marketer_comments(fresh_app_env: str) -> None:
    _draft_by_the_marketer(fresh_app_env)
    at = _page("marketer")
    assert "Approve and put in force" not in [b.label for b in at.button]
    text_key = next(t.key for t in at.text_area if t.key and t.key.startswith("review_text_"))
    at.text_area(key=text_key).input("Only for North America?")
    _button(at, "Comment").click().run()
    assert [s.value for s in at.success] == ["Comment added."]

    at = _page("manager")
    _button(at, "Reject with this reason").click().run()
    assert [w.value for w in at.warning] == ["Write the comment or the reason first."]
    at.text_area(key=text_key).input("Too few Manufacturing leads to judge")
    _button(at, "Reject with this reason").click().run()
    assert [s.value for s in at.success] == ["Version 2 was rejected."]
    assert _statuses(fresh_app_env) == {1: "active", 2: "rejected"}
    said = [t.value for t in at.text]
    assert "Only for North America?" in said and "Too few Manufacturing leads to judge" in said


def test_a_marketer_proposes_a_rollback_to_a_retired_version(fresh_app_env: str) -> None:
    _draft_by_the_marketer(fresh_app_env)
    _button(_page("manager"), "Approve and put in force").click().run()
    at = _page("marketer")
    at.text_input(
        key=next(t.key for t in at.text_input if t.key and t.key.startswith("rollback_why_"))
    ).input("Version 2 starved the SDRs")
    _button(at, "Propose rollback to this version").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Proposed a copy of version 1 as a draft."]
    assert _statuses(fresh_app_env) == {1: "retired", 2: "active", 3: "draft"}
    engine = make_engine(fresh_app_env)
    with read_session(engine) as session:
        three, _, one = versions(session)
    assert (three.based_on_number, three.criteria.threshold) == (1, one.criteria.threshold)


# ---------------------------------------------------------------- empty states


@pytest.fixture
def empty_company(app_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database with one marketer and no criteria version, no leads."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with write_session(engine) as session:
        create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(username="marketer", name="Mo", role=Role.marketer, password="long-enough-pw"),
        )
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def test_with_no_version_and_no_leads_the_page_says_so(empty_company: str) -> None:
    at = _page("marketer")
    assert not at.exception, at.exception
    infos = [i.value for i in at.info]
    assert any(i.startswith("No criteria version is in force yet") for i in infos)
    assert any(i.startswith("No evidence yet") for i in infos)
    assert "No version has been signed off yet." in [c.value for c in at.caption]
    assert _statuses(empty_company) == {}
    assert CriteriaStatus.active.value == "active"


# ---------------------------------------------------------------- the tuning off the page's critical path


def test_the_page_never_waits_long_for_the_tuning_and_shows_it_once_learnt(
    fresh_app_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a million leads a tuning takes seconds: the page shows the version in force and says the
    suggestion is being learnt, then, once the shared tuning is done, the evidence and the suggestion."""
    import threading

    import ui.criteria as criteria_ui

    release = threading.Event()
    learnt = criteria_ui.learn_targeting

    def slow_learning(key: criteria_ui.TuningKey) -> criteria_ui.Targeting | None:
        release.wait(timeout=120)
        return learnt(key)

    jobs = criteria_ui.TuningJobs(slow_learning)
    monkeypatch.setattr(criteria_ui, "tuning_jobs", lambda: jobs)
    monkeypatch.setattr(criteria_ui, "WAIT_SECONDS", 0.05)
    at = _page("marketer")
    assert not at.exception, at.exception
    assert any(i.value.startswith("Learning the suggestion") for i in at.info)
    assert not [d for d in at.dataframe if "Your version" in d.value.columns]  # no editor without it
    release.set()
    monkeypatch.setattr(criteria_ui, "WAIT_SECONDS", 300.0)
    at.run()
    assert not at.exception, at.exception
    assert not any(i.value.startswith("Learning the suggestion") for i in at.info)
    assert _what_if(at) is not None  # the editor's live backtest is there


def test_one_tuning_per_data_version_is_shared_and_a_failure_is_tried_again() -> None:
    import ui.criteria as criteria_ui

    calls: list[int] = []

    def learn(key: criteria_ui.TuningKey) -> criteria_ui.Targeting | None:
        calls.append(key.generation)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return None

    jobs = criteria_ui.TuningJobs(learn, keep=2)
    key = criteria_ui.TuningKey("sqlite:///x.db", None, 1, (0, 0, ""))
    assert jobs.job(key).exception(timeout=30) is not None  # the first try failed
    assert jobs.job(key).result(timeout=30) is None  # asked again: learnt again
    assert jobs.job(key).result(timeout=30) is None  # asked a third time: shared, not learnt again
    assert calls == [1, 1]
    for generation in (2, 3):
        jobs.job(criteria_ui.TuningKey("sqlite:///x.db", None, generation, (0, 0, ""))).result(timeout=30)
    assert jobs.job(key).result(timeout=30) is None  # generation 1 was dropped (keep=2): learnt anew
    assert calls == [1, 1, 2, 3, 1]


def test_the_leads_are_read_once_per_data_version_whatever_goal_or_rating_comes_next() -> None:
    """A new goal or a new rating tunes again on the leads already read; an import (a new generation), a
    new lead count or the frames' age reads them afresh."""
    import ui.criteria as criteria_ui

    reads: list[int] = []
    now = [0.0]

    def read() -> criteria_ui.LearningData:
        reads.append(len(reads))
        return criteria_ui.LearningData(pl.DataFrame({"n": [len(reads)]}), pl.DataFrame(), ())

    cache = criteria_ui.LearningCache(read, max_age=300, clock=lambda: now[0])
    first = cache.get(("sqlite:///x.db", 1, 10))
    assert cache.get(("sqlite:///x.db", 1, 10)) is first and reads == [0], "the same leads: read once"
    cache.get(("sqlite:///x.db", 2, 10))  # an import moved the generation
    cache.get(("sqlite:///x.db", 2, 11))  # a lead more
    assert len(reads) == 3
    now[0] = 299.0
    cache.get(("sqlite:///x.db", 2, 11))
    now[0] = 301.0
    cache.get(("sqlite:///x.db", 2, 11))
    assert len(reads) == 4, "kept at most five minutes, as the frames"


def test_the_people_who_sign_pick_the_goal_and_the_summary_names_it(app_env: str) -> None:
    at = _page("marketer")
    assert not at.exception, at.exception
    goal = next(s for s in at.selectbox if s.label == "Goal of the suggestion")
    assert goal.value == "default"
    goal.set_value("wins").run()
    assert not at.exception, at.exception
    keep = next(s for s in at.slider if s.label == "Share of won deals to keep")
    keep.set_value(80).run()
    assert not at.exception, at.exception
    assert "Goal\\: keep 80% of won deals with the fewest MQLs" in _markdown(at)
    next(s for s in at.selectbox if s.label == "Goal of the suggestion").set_value("volume").run()
    assert "Goal\\: keep the MQL volume of the version in force" in _markdown(at)
    assert not [s for s in at.slider if s.label == "Share of won deals to keep"]


def test_the_committed_goal_without_an_sla_says_where_to_set_it(fresh_app_env: str) -> None:
    import sqlite3

    with sqlite3.connect(fresh_app_env.removeprefix("sqlite:///")) as connection:
        connection.execute("DELETE FROM sla_settings")
    at = _page("marketer")
    next(s for s in at.selectbox if s.label == "Goal of the suggestion").set_value("committed").run()
    assert not at.exception, at.exception
    (error,) = at.error
    assert "No SLA is in force" in error.value and "SLA settings page" in error.value
    assert not [d for d in at.dataframe if "Your version" in d.value.columns]  # nothing half-shown
