"""Accounts in the app (AppTest): one login message for every refusal, sessions ended elsewhere, the forced
password change, and the admin screens for users and the audit log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.access import OPERATOR
from db.engine import make_engine, read_session, write_session
from db.models import AuditLog, Role
from db.passwords import verify_password
from db.sessions import end_all_sessions
from db.users import get_user, reset_password
from tests.pages.conftest import PROJECT_ROOT, logged_in_app, new_app
from ui.audit_log import audit_csv
from ui.auth import WRONG_LOGIN, CurrentUser

ADMIN_PAGES = ("screens/admin_users.py", "screens/audit_log.py")


def _log_in(username: str, password: str) -> AppTest:
    at = new_app().run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception
    return at


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_unknown_user_wrong_password_and_locked_account_get_the_same_message(fresh_app_env: str) -> None:
    unknown = _errors(_log_in("nobody-here", "huddle-demo"))
    wrong = _errors(_log_in("rep", "not-the-password"))
    for _ in range(4):
        _log_in("rep", "not-the-password")
    locked = _log_in("rep", "huddle-demo")  # the right password, but the account is locked
    assert unknown == wrong == _errors(locked) == [WRONG_LOGIN]
    assert not locked.metric and "Overview" not in [t.value for t in locked.title]


def _is_login_form(at: AppTest) -> bool:
    return [t.value for t in at.title] == ["Huddle"] and {w.label for w in at.text_input} == {
        "Username",
        "Password",
    }


def _next_run(at: AppTest) -> AppTest:
    """A fresh run of app.py with this tab's session state: what the tab's next rerun sees. (After its
    first run, AppTest reruns only the page, not the entry point around it; the browser tests in
    tests/e2e cover the real rerun.)"""
    again = new_app()
    for key in ("authentication_status", "username", "huddle_session_key"):
        again.session_state[key] = at.session_state[key]
    return again.run()


def test_a_session_ended_elsewhere_ends_this_tab(fresh_app_env: str) -> None:
    at = logged_in_app("exec").run()
    assert "Weekly sync" in [t.value for t in at.title]  # an executive's home
    assert "Weekly sync" in [t.value for t in _next_run(at).title], "a live session goes on"
    engine = make_engine(fresh_app_env)
    with write_session(engine) as session:
        exec_user = get_user(session=session, username="exec")
        assert exec_user is not None
        assert end_all_sessions(session=session, user=exec_user, reason="logout") == 1
    engine.dispose()
    after = _next_run(at)
    assert not after.exception
    assert _is_login_form(after)


def test_a_login_without_a_server_side_session_is_refused(app_env: str) -> None:
    at = new_app()
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "exec"
    at.run()
    assert _is_login_form(at)


def _reset(url: str, username: str) -> str:
    engine = make_engine(url)
    with write_session(engine) as session:
        one_time = reset_password(session=session, actor=OPERATOR, username=username)
    engine.dispose()
    return one_time


def test_after_a_reset_the_one_time_password_opens_only_the_change_form(fresh_app_env: str) -> None:
    one_time = _reset(fresh_app_env, "rep")
    at = _log_in("rep", one_time)
    assert [t.value for t in at.title] == ["Choose your password"]
    assert not at.metric and not at.sidebar.text
    by_label = {w.label: w for w in at.text_input}
    by_label["Current password"].input(one_time)
    by_label["New password"].input("rep-chose-a-new-one")
    by_label["New password again"].input("rep-chose-a-new-one")
    at.button[0].click().run()
    assert not at.exception
    assert _is_login_form(at)
    assert [s.value for s in at.success] == ["Password changed. Log in again with your new password."]
    assert "Rate my leads" in [t.value for t in _log_in("rep", "rep-chose-a-new-one").title]


def test_a_wrong_current_password_is_said_on_the_change_form(fresh_app_env: str) -> None:
    one_time = _reset(fresh_app_env, "marketer")
    at = _log_in("marketer", one_time)
    by_label = {w.label: w for w in at.text_input}
    by_label["Current password"].input("not-the-one-time-one")
    by_label["New password"].input("a-brand-new-password")
    by_label["New password again"].input("a-brand-new-password")
    at.button[0].click().run()
    assert _errors(at) == ["The current password is not right."]
    assert [t.value for t in at.title] == ["Choose your password"]


@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize("role", [r for r in Role if r is not Role.admin])
def test_admin_pages_themselves_refuse_other_roles(app_env: str, role: Role, page: str) -> None:
    at = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=60)
    at.session_state["huddle_user"] = CurrentUser(id=1, username="x", name="X", role=role, team_id=None)
    at.run()
    assert _errors(at) == ["This page is not available to your role."]
    assert not at.title


def _admin_page(page: str) -> AppTest:
    at = logged_in_app("admin").run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_admin_adds_a_user_and_sees_the_one_time_password_once(fresh_app_env: str) -> None:
    at = _admin_page("screens/admin_users.py")
    inputs = {w.label: w for w in at.text_input}
    inputs["Username"].input("Dana")
    inputs["Full name"].input("Dana Diaz")
    at.selectbox[0].select(Role.sales_manager)
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert not at.exception and not at.error
    (code,) = at.code
    engine = make_engine(fresh_app_env)
    with read_session(engine) as session:
        dana = get_user(session=session, username="dana")
        assert dana is not None and dana.password_hash is not None
        assert dana.role == Role.sales_manager and dana.must_change_password
        assert verify_password(code.value, dana.password_hash)
    engine.dispose()
    assert "dana" in at.dataframe[0].value["username"].to_list()
    at.run()
    assert not at.code, "shown once: the next rerun does not show it again"


def test_admin_disables_a_user_and_their_login_ends(fresh_app_env: str) -> None:
    rep = logged_in_app("rep").run()
    at = _admin_page("screens/admin_users.py")
    at.selectbox(key="account_user").select("rep")
    at.button(key="FormSubmitter:disable_or_reset-Disable user").click().run()
    assert not at.exception and not at.error
    assert "rep is disabled" in at.success[0].value
    assert _is_login_form(_next_run(rep))


def test_admin_changes_a_role(fresh_app_env: str) -> None:
    at = _admin_page("screens/admin_users.py")
    at.selectbox(key="change_user").select("marketer")
    at.selectbox(key="change_role").select(Role.executive)
    at.button(key="FormSubmitter:change_user-Save changes").click().run()
    assert not at.exception and not at.error
    engine = make_engine(fresh_app_env)
    with read_session(engine) as session:
        marketer = get_user(session=session, username="marketer")
        assert marketer is not None and marketer.role == Role.executive
        entry = session.exec(select(AuditLog).where(AuditLog.action == "user.change_role")).one()
    engine.dispose()
    assert (entry.actor_username, entry.object_id, entry.detail) == (
        "admin",
        "marketer",
        "marketer -> executive",
    )


def test_the_audit_log_page_lists_and_filters(fresh_app_env: str) -> None:
    _log_in("manager", "wrong-password-here")
    at = _admin_page("screens/audit_log.py")
    shown = at.dataframe[0].value
    assert {"login.failed", "demo.seed"} <= set(shown["action"])
    at.text_input[0].input("manag").run()
    filtered = at.dataframe[0].value
    assert set(filtered["who"]) == {"manager"} and "login.failed" in set(filtered["action"])
    at.selectbox[0].select("demo").run()
    assert at.dataframe[0].value.empty
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    at.text_input[0].input("").run()
    at.date_input[0].set_value((tomorrow, tomorrow)).run()
    assert at.dataframe[0].value.empty


def test_the_export_makes_formula_cells_plain_text() -> None:
    frame = pl.DataFrame(
        {
            "who": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "ana"],
            "action": ["login.failed"] * 7,
        }
    )
    rows = list(csv.reader(io.StringIO(audit_csv(frame).decode())))
    assert [row[0] for row in rows] == [
        "who",
        "'=cmd|' /C calc'!A0",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ana",
    ]


def test_control_characters_in_a_logged_username_are_escaped(fresh_app_env: str) -> None:
    _log_in("evil\nlogin ok admin\x1b[31m", "whatever-password")
    engine = make_engine(fresh_app_env)
    with read_session(engine) as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "login.failed")).one()
    engine.dispose()
    assert entry.actor_username == "evil\\nlogin ok admin\\x1b[31m"


@pytest.mark.parametrize(
    ("page", "refusal"), [(ADMIN_PAGES[0], "see the list of users"), (ADMIN_PAGES[1], "read the audit log")]
)
def test_a_denial_by_the_service_is_shown_politely_and_logged(
    fresh_app_env: str, page: str, refusal: str
) -> None:
    """A session that still says admin for someone the database now knows as a rep: the page's check
    passes, the service refuses, and the page says so in one line."""
    engine = make_engine(fresh_app_env)
    with read_session(engine) as session:
        rep = get_user(session=session, username="rep")
        assert rep is not None and rep.id is not None
        rep_id = rep.id
    at = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=60)
    at.session_state["huddle_user"] = CurrentUser(
        id=rep_id, username="rep", name="R", role=Role.admin, team_id=None
    )
    at.run()
    assert not at.exception
    assert _errors(at) == [f"Your role (rep) may not {refusal}."]
    with read_session(engine) as session:
        denied = session.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
    engine.dispose()
    assert [(d.actor_username, d.outcome) for d in denied] == [("rep", "denied")]
