"""My account's alerts (AppTest), as each role: the kinds of that role on email and chat, a switch that
saves at once and is audited, the "not set up" notice without SMTP or webhook settings, and the admin's
defaults per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from core.alerts import KIND_LABELS
from db.engine import make_engine, read_session
from db.models import AlertDefault, AlertKind, AlertPreference, AuditLog, Cadence, Channel, Role, User
from db.settings import get_settings
from tests.pages.conftest import logged_in_app
from ui.alerts import HOW_TO_SET_UP, NOT_SET_UP

# What each demo account is offered, in order.
OFFERED = {
    "rep": ["new_mql", "follow_up_reminder", "weekly_report", "action_items"],
    "manager": ["team_breach", "draft_waiting", "weekly_report", "action_items"],
    "marketer": ["draft_decision", "acceptance_low", "weekly_report", "action_items"],
    "exec": ["weekly_report", "action_items"],
    "admin": ["weekly_report", "action_items"],
}


@pytest.fixture
def mail_set_up(monkeypatch: pytest.MonkeyPatch, fresh_app_env: str) -> Iterator[str]:
    monkeypatch.setenv("HUDDLE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HUDDLE_MAIL_FROM", "huddle@example.com")
    monkeypatch.delenv("HUDDLE_CHAT_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    yield fresh_app_env
    get_settings.cache_clear()


@pytest.fixture
def nothing_set_up(monkeypatch: pytest.MonkeyPatch, app_env: str) -> Iterator[str]:
    monkeypatch.delenv("HUDDLE_SMTP_HOST", raising=False)
    monkeypatch.delenv("HUDDLE_CHAT_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    yield app_env
    get_settings.cache_clear()


def _account(username: str) -> AppTest:
    at = logged_in_app(username)
    at.switch_page("screens/account.py").run()
    assert not at.exception, at.exception
    return at


def _offered(at: AppTest, prefix: str = "mine") -> list[str]:
    keys = [
        t.key for t in at.toggle if t.key and t.key.startswith(f"{prefix}_") and t.key.endswith("_email_on")
    ]
    return [k.removeprefix(f"{prefix}_").removesuffix("_email_on") for k in keys]


@pytest.mark.parametrize("username", list(OFFERED))
def test_each_role_is_offered_its_own_kinds_on_both_channels(mail_set_up: str, username: str) -> None:
    at = _account(username)
    assert _offered(at) == OFFERED[username]
    for kind in OFFERED[username]:
        assert at.toggle(key=f"mine_{kind}_email_on").disabled is False
        assert at.toggle(key=f"mine_{kind}_chat_on").disabled is True  # no webhook on this server
    notice = (HOW_TO_SET_UP if username == "admin" else NOT_SET_UP)[Channel.chat]
    assert notice in [c.value for c in at.caption]
    assert at.toggle(key=f"mine_{OFFERED[username][0]}_chat_on").help == NOT_SET_UP[Channel.chat]
    markdown = [m.value for m in at.markdown]
    assert all(KIND_LABELS[kind] in markdown for kind in OFFERED[username])
    assert ("Alert defaults" in [h.value for h in at.subheader]) == (username == "admin")


def test_the_defaults_show_a_rep_new_mqls_by_email_and_a_manager_a_daily_digest(mail_set_up: str) -> None:
    rep = _account("rep")
    assert rep.toggle(key="mine_new_mql_email_on").value is True
    assert rep.toggle(key="mine_weekly_report_email_on").value is False
    manager = _account("manager")
    assert manager.toggle(key="mine_team_breach_email_on").value is True
    assert manager.selectbox(key="mine_team_breach_email_how").value == Cadence.digest


def _audit(url: str, action: str) -> list[tuple[str | None, str | None]]:
    engine = make_engine(url)
    with read_session(engine) as session:
        rows = session.exec(
            select(AuditLog).where(AuditLog.action == action).order_by(col(AuditLog.id))
        ).all()
    engine.dispose()
    return [(r.actor_username, r.detail) for r in rows]


def test_a_switch_saves_at_once_and_is_audited(mail_set_up: str) -> None:
    at = _account("rep")
    at.toggle(key="mine_weekly_report_email_on").set_value(True).run()
    assert not at.exception
    assert at.toggle(key="mine_weekly_report_email_on").value is True
    at.toggle(key="mine_new_mql_email_on").set_value(False).run()
    again = _account("rep")  # a fresh page reads what was saved
    assert again.toggle(key="mine_weekly_report_email_on").value is True
    assert again.toggle(key="mine_new_mql_email_on").value is False
    engine = make_engine(mail_set_up)
    with read_session(engine) as session:
        rep = session.exec(select(User).where(User.username == "rep")).one()
        rows = session.exec(select(AlertPreference).where(AlertPreference.user_id == rep.id)).all()
    engine.dispose()
    assert sorted((r.kind, r.channel, r.enabled) for r in rows) == [
        (AlertKind.new_mql, Channel.email, False),
        (AlertKind.weekly_report, Channel.email, True),
    ]
    assert _audit(mail_set_up, "alerts.change") == [
        ("rep", "kind=weekly_report channel=email enabled=True cadence=instant"),
        ("rep", "kind=new_mql channel=email enabled=False cadence=instant"),
    ]


def test_a_manager_switches_breaches_to_at_once(mail_set_up: str) -> None:
    at = _account("manager")
    at.selectbox(key="mine_team_breach_email_how").select(Cadence.instant).run()
    assert not at.exception
    assert _audit(mail_set_up, "alerts.change") == [
        ("manager", "kind=team_breach channel=email enabled=True cadence=instant")
    ]


def test_without_smtp_or_webhook_every_choice_says_it_is_not_set_up(nothing_set_up: str) -> None:
    at = _account("rep")
    assert all(t.disabled and t.value is False for t in at.toggle if t.key and t.key.startswith("mine_"))
    captions = [c.value for c in at.caption]
    assert NOT_SET_UP[Channel.email] in captions and NOT_SET_UP[Channel.chat] in captions
    assert [i.value for i in at.info if "not set up on this server yet" in i.value] == [
        "Alerts are not set up on this server yet: no email and no chat — ask your admin."
    ]


def test_an_admin_without_smtp_or_webhook_is_told_what_each_needs_not_to_ask_the_admin(
    nothing_set_up: str,
) -> None:
    at = _account("admin")
    assert [i.value for i in at.info if "not set up on this server yet" in i.value] == [
        "Alerts are not set up on this server yet: no email and no chat: the settings each needs are below."
    ]
    captions = " ".join(c.value for c in at.caption)
    assert "HUDDLE_SMTP_HOST" in captions and "HUDDLE_CHAT_WEBHOOK_URL" in captions


def test_an_admin_sets_a_roles_default_and_it_is_audited(mail_set_up: str) -> None:
    at = _account("admin")
    at.selectbox(key="alert_defaults_role").select(Role.rep).run()
    assert _offered(at, "defaults_rep") == OFFERED["rep"]
    # Chat is not set up here, but a default may be set before it is.
    assert at.toggle(key="defaults_rep_new_mql_chat_on").disabled is False
    at.toggle(key="defaults_rep_weekly_report_email_on").set_value(True).run()
    assert not at.exception
    engine = make_engine(mail_set_up)
    with read_session(engine) as session:
        rows = session.exec(select(AlertDefault)).all()
    engine.dispose()
    assert [(r.role, r.kind, r.channel, r.enabled) for r in rows] == [
        (Role.rep, AlertKind.weekly_report, Channel.email, True)
    ]
    assert _audit(mail_set_up, "alerts.default") == [
        ("admin", "role=rep kind=weekly_report channel=email enabled=True cadence=instant")
    ]
    rep = _account("rep")  # the rep has not chosen: the role's new default is theirs
    assert rep.toggle(key="mine_weekly_report_email_on").value is True
    assert _account("marketer").toggle(key="mine_weekly_report_email_on").value is False
