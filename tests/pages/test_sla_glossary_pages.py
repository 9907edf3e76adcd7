"""The Glossary, SLA settings and the weekly sync's action items as people drive them: everyone reads the
glossary generated from the registry and the database; a sales manager sets their team's terms and the
glossary says them; an admin sets the company's; a rep never gets SLA settings; an item's owner (or a
manager) ticks it off."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from core.definitions import DEFINITIONS
from db import clock
from db.access import OPERATOR
from db.action_items import week_monday, week_of
from db.criteria import VersionView, versions
from db.engine import make_engine, read_session, write_session
from db.migrate import upgrade_to_head
from db.models import ActionItem, Role, SlaSetting, Team, User, UserCreate
from db.settings import get_settings
from db.sla import Agreement, AgreementChange, agreement_history, current_agreements
from db.users import create_user
from tests.pages.conftest import DEMO_USERS, PROJECT_ROOT, logged_in_app
from ui.auth import CurrentUser
from ui.widgets import plain

GLOSSARY = "screens/glossary.py"
SLA_PAGE = "screens/sla_settings.py"


def _page(username: str, path: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page(path)
    return at.run()


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _versions(url: str) -> list[VersionView]:
    engine = make_engine(url)
    try:
        with read_session(engine) as session:
            return versions(session)
    finally:
        engine.dispose()


def _team_id(url: str, name: str) -> int:
    engine = make_engine(url)
    try:
        with read_session(engine) as session:
            return int(session.exec(select(Team.id).where(Team.name == name)).one() or 0)
    finally:
        engine.dispose()


def _history(url: str) -> list[AgreementChange]:
    engine = make_engine(url)
    try:
        with read_session(engine) as session:
            return agreement_history(session)
    finally:
        engine.dispose()


def _set_terms(at: AppTest, scope: int | None, mqls: int, hours: int, days: int, target_pct: int) -> AppTest:
    at.selectbox(key="sla_scope").select(scope).run()
    key = f"sla_{'company' if scope is None else scope}"
    at.number_input(key=f"{key}_mqls").set_value(mqls)
    at.number_input(key=f"{key}_hours").set_value(hours)
    at.number_input(key=f"{key}_days").set_value(days)
    at.number_input(key=f"{key}_target").set_value(target_pct)
    next(b for b in at.button if b.label == "Set these terms").click()
    return at.run()


# ---------------------------------------------------------------- the glossary


@pytest.mark.parametrize("role", list(DEMO_USERS))
def test_the_glossary_shows_every_metric_and_the_mql_definition_to_every_role(
    app_env: str, role: str
) -> None:
    at = _page(DEMO_USERS[role], GLOSSARY)
    assert not at.exception, at.exception
    assert not at.error
    assert [h.value for h in at.header] == [
        "Metrics",
        "What makes an MQL",
        "SLA terms",
        "Criteria history",
        "SLA history",
    ]
    text = _markdown(at)
    for definition in DEFINITIONS.values():
        assert f"- **{plain(definition.label)}**: {plain(definition.definition)}" in text

    listed = _versions(app_env)
    active = next(v for v in listed if v.status == "active")
    assert f"In force: version {active.number}" in [s.value for s in at.subheader]
    for sentence in active.criteria.describe():  # the rules and the threshold, read from the database
        assert f"- {plain(sentence)}" in text
    assert f"A lead with {active.criteria.threshold} points or more" in text
    who = next(c.value for c in at.caption if "approved by" in c.value)
    assert f"Proposed by {plain('Jordan Blake')}" in who and f"approved by {plain('Morgan Hayes')}" in who

    (company,) = [line for line in text.splitlines() if line.startswith(f"- **{plain('The company')}**")]
    engine = make_engine(app_env)
    with read_session(engine) as session:
        seeded = current_agreements(session)[None]
        seeded_count = len(session.exec(select(SlaSetting)).all())
    engine.dispose()
    assert company == f"- **The company**: {plain(seeded.describe())}"
    assert (
        "within 24 working hours \\(Monday to Friday\\) and rates it within 3 days; at least 40% of the MQLs sales rates are rated 4\\-5"
        in company
    )

    criteria_history, sla_history = (d.value for d in at.dataframe)
    assert list(criteria_history["Version"]) == [v.number for v in listed]
    assert criteria_history[criteria_history["Version"] == active.number]["Approved by"].tolist() == [
        "Morgan Hayes"
    ]
    assert len(sla_history) == seeded_count
    assert list(sla_history["Set by"]) == ["Morgan Hayes"]


@pytest.fixture
def empty_company(app_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database with one rep and no criteria version, no SLA, no leads."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with write_session(engine) as session:
        create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(username="rep", name="Ren", role=Role.rep, password="long-enough-pw"),
        )
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def test_with_nothing_agreed_yet_the_glossary_says_so_and_what_to_do(empty_company: str) -> None:
    at = _page("rep", GLOSSARY)
    assert not at.exception, at.exception
    infos = [i.value for i in at.info]
    assert infos[0].startswith("No criteria version is in force yet")
    assert "Targeting criteria page" in infos[0]
    assert infos[1] == (
        "No service level agreement is set yet, so Huddle measures against the defaults: Marketing has not "
        "committed to a number of MQLs; sales follows up every MQL within 24 working hours (Monday to Friday) and rates it within 3 "
        "days; no acceptance target is set. A sales manager or an admin sets the terms on the SLA settings "
        "page."
    )
    captions = [c.value for c in at.caption]
    assert "No criteria version has been proposed yet." in captions
    assert "The terms have never been set." in captions
    assert not at.dataframe


# ---------------------------------------------------------------- SLA settings


def test_a_manager_sets_their_teams_terms_and_history_and_glossary_show_them(fresh_app_env: str) -> None:
    smb = _team_id(fresh_app_env, "SMB")
    at = _page("manager", SLA_PAGE)
    assert not at.exception, at.exception
    assert at.selectbox(key="sla_scope").options == [
        "The company (every team without its own terms)",
        "SMB",
    ]  # their own team and the company's, no other team
    in_force = at.dataframe[0].value
    assert list(in_force["Whose"]) == ["The company", "Enterprise", "Mid-Market", "SMB"]
    assert list(in_force["Terms"]) == ["its own", "the company's", "the company's", "the company's"]

    at = _set_terms(at, smb, mqls=150, hours=8, days=2, target_pct=50)
    assert not at.exception, at.exception
    assert not at.error
    expected = (
        "Marketing delivers 150 MQLs a month; sales follows up every MQL within 8 working hours (Monday to Friday) and rates it "
        "within 2 days; at least 50% of the MQLs sales rates are rated 4-5."
    )
    assert [s.value for s in at.success] == [f"New terms for SMB: {plain(expected)}"]
    newest = _history(fresh_app_env)[0]
    assert (newest.team, newest.mqls_per_month, newest.follow_up_hours, newest.rating_days) == (
        "SMB",
        150,
        8,
        2,
    )
    assert (newest.acceptance_target, newest.set_by) == (0.5, "Morgan Hayes")
    assert timedelta(0) <= clock.now() - newest.effective_from < timedelta(minutes=5), "in force from now"

    in_force, history = at.dataframe[0].value, at.dataframe[1].value
    smb_row = in_force[in_force["Whose"] == "SMB"].iloc[0]
    assert (smb_row["Terms"], smb_row["MQLs a month"], smb_row["Follow-up hours"]) == ("its own", 150, 8)
    assert (smb_row["Rating days"], smb_row["Acceptance target"], smb_row["Set by"]) == (
        2,
        "50%",
        "Morgan Hayes",
    )
    first = history.iloc[0]
    assert (first["Whose"], first["MQLs a month"], first["Acceptance target"]) == ("SMB", 150, "50%")
    assert len(history) == 2

    glossary = _page("rep", GLOSSARY)
    assert f"- **SMB**: {plain(expected)}" in _markdown(glossary)
    sla_history = glossary.dataframe[1].value
    assert list(sla_history["Whose"]) == ["SMB", "The company"]


def test_setting_the_terms_in_force_again_changes_nothing(fresh_app_env: str) -> None:
    at = _page("manager", SLA_PAGE)
    next(b for b in at.button if b.label == "Set these terms").click()  # the company's, as they stand
    at.run()
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == ["Those are the terms in force already: nothing changed."]
    assert len(_history(fresh_app_env)) == 1


def test_an_admin_sets_the_companys_terms(fresh_app_env: str) -> None:
    at = _page("admin", SLA_PAGE)
    assert at.selectbox(key="sla_scope").options == [
        "The company (every team without its own terms)",
        "Enterprise",
        "Mid-Market",
        "SMB",
    ]
    at = _set_terms(at, None, mqls=420, hours=12, days=4, target_pct=45)
    assert not at.exception, at.exception
    assert not at.error
    newest = _history(fresh_app_env)[0]
    assert newest == AgreementChange(None, 420, 12, 4, 0.45, newest.effective_from, "Casey Admin")
    engine = make_engine(fresh_app_env)
    with read_session(engine) as session:
        assert current_agreements(session) == {None: Agreement(12, 4, 420, 0.45)}
    engine.dispose()
    sentence = (
        "Marketing delivers 420 MQLs a month; sales follows up every MQL within 12 working hours (Monday to Friday) and rates it "
        "within 4 days; at least 45% of the MQLs sales rates are rated 4-5."
    )
    assert f"- **The company**: {plain(sentence)}" in _markdown(_page("exec", GLOSSARY))


def test_a_rep_cannot_open_sla_settings(app_env: str) -> None:
    at = logged_in_app("rep").run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(SLA_PAGE)
    direct = AppTest.from_file(str(PROJECT_ROOT / SLA_PAGE), default_timeout=60)
    direct.session_state["huddle_user"] = CurrentUser(
        id=1, username="rep", name="R", role=Role.rep, team_id=None
    )
    direct.run()
    assert [e.value for e in direct.error] == ["This page is not available to your role."]
    assert not direct.title


# ---------------------------------------------------------------- the weekly sync's action items


def _actions() -> None:
    import streamlit as st

    from ui.action_items import action_items_section

    action_items_section(st.session_state["viewer"], st.session_state["week"])


def _actions_app(url: str, username: str, week: str) -> AppTest:
    engine = make_engine(url)
    with read_session(engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        viewer = CurrentUser(int(user.id or 0), user.username, user.name, user.role, user.team_id)
    engine.dispose()
    at = AppTest.from_function(_actions, default_timeout=60)
    at.session_state["viewer"] = viewer
    at.session_state["week"] = week
    return at.run()


def _user_id(url: str, username: str) -> int:
    engine = make_engine(url)
    with read_session(engine) as session:
        user_id = session.exec(select(User.id).where(User.username == username)).one()
    engine.dispose()
    return int(user_id or 0)


def _items(url: str) -> dict[str, ActionItem]:
    engine = make_engine(url)
    with read_session(engine) as session:
        rows = {item.title: item for item in session.exec(select(ActionItem).order_by(col(ActionItem.id)))}
    engine.dispose()
    return rows


def test_the_owner_ticks_off_their_item_and_sees_only_their_own_done_buttons(fresh_app_env: str) -> None:
    """The demo raised two items one and two weeks ago that are still open: this week's meeting sees both,
    carried over; the rep owns one of them."""
    today = clock.today()
    week = week_of(today)
    items = _items(fresh_app_env)
    mine, theirs = items["Call back every MQL older than 24 h"], items["Refresh the Retail promo targeting"]
    at = _actions_app(fresh_app_env, "rep", week)
    assert not at.exception, at.exception
    lines = [m.value for m in at.markdown]
    assert lines[0].startswith(f":material/radio_button_unchecked: **{plain(theirs.title)}** · Jordan Blake")
    assert lines[1].startswith(f":material/radio_button_unchecked: **{plain(mine.title)}** · Riley Parker")
    assert all("carried over from" in line for line in lines[:2])
    assert ":red[overdue]" in lines[0]  # due a week ago
    assert [b.key for b in at.button if b.label == "Done"] == [f"actions_done_{mine.id}"]

    at.button(key=f"actions_done_{mine.id}").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [f"Done: {plain(mine.title)}"]
    closed = _items(fresh_app_env)[mine.title]
    assert closed.closed_at is not None and closed.closed_by_id == mine.owner_id
    line = next(m.value for m in at.markdown if plain(mine.title) in m.value)
    assert line.startswith(":material/check_circle:") and "by Riley Parker" in line


def test_a_manager_may_tick_off_anyones_item_and_anyone_adds_one(fresh_app_env: str) -> None:
    week = week_of(clock.today())
    theirs = _items(fresh_app_env)["Refresh the Retail promo targeting"]
    at = _actions_app(fresh_app_env, "manager", week)
    assert f"actions_done_{theirs.id}" in [b.key for b in at.button if b.label == "Done"]

    marketer = _actions_app(fresh_app_env, "marketer", week)
    assert marketer.date_input(key="actions_due").value == week_monday(week) + timedelta(days=7)
    marketer.text_input(key="actions_title").input("Send sales the webinar attendee list")
    assert marketer.selectbox(key="actions_owner").value == _user_id(fresh_app_env, "marketer")  # by default
    marketer.selectbox(key="actions_owner").select(_user_id(fresh_app_env, "rep"))
    next(b for b in marketer.button if b.label == "Add").click()
    marketer.run()
    assert not marketer.exception, marketer.exception
    added = _items(fresh_app_env)["Send sales the webinar attendee list"]
    assert (added.meeting_week, added.due_date) == (week, week_monday(week) + timedelta(days=7))
    engine = make_engine(fresh_app_env)
    with read_session(engine) as session:
        owner, creator = session.get(User, added.owner_id), session.get(User, added.created_by_id)
    engine.dispose()
    assert owner is not None and owner.username == "rep"
    assert creator is not None and creator.username == "marketer"
    assert any(
        m.value.startswith(f":material/radio_button_unchecked: **{plain(added.title)}** · Riley Parker")
        for m in marketer.markdown
    )
    # The marketer does not own it, so they get no Done button for it.
    assert f"actions_done_{added.id}" not in [b.key for b in marketer.button]
