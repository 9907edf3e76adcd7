"""What the server logs while people log in, an admin imports and the tuning runs: the events, with who
and why, and never a password, the cookie key or a login cookie, even at DEBUG."""

from __future__ import annotations

import logging
import re
import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from db.demo_accounts import DEMO_PASSWORD
from db.engine import make_engine, read_session
from db.importing.run import RunOptions, import_csv
from db.logs import _HuddleHandler
from db.tuning import run_tuning
from db.users import get_user
from tests.db.importing.test_broken_files import GOOD, MAPPING
from tests.pages.conftest import PROJECT_ROOT, TEST_COOKIE_KEY, new_app
from ui.logs import errors_logged

WRONG_PASSWORD = "not-the-password-Zq81x"


def _log_in(username: str, password: str) -> AppTest:
    at = new_app().run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def _cookie_value(at: AppTest) -> str:
    """The login cookie the page writes after a login (ui/cookies.py)."""
    for element in at.get("html"):
        found = re.search(r"huddle_auth=([^;]+);", element.proto.body)
        if found and found.group(1):
            return found.group(1)
    raise AssertionError("no login cookie was written")


def _everything_said(records: list[logging.LogRecord]) -> str:
    """Each record as any handler could render it: message, arguments, trace."""
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(f"{formatter.format(r)} {r.args!r} {r.exc_text or ''}" for r in records)


def test_no_password_cookie_key_or_cookie_is_logged(
    fresh_app_env: str, caplog: pytest.LogCaptureFixture
) -> None:
    new_app().run()  # app.py installs the handler first, so the level set here holds
    assert any(isinstance(h, _HuddleHandler) for h in logging.getLogger().handlers)
    caplog.set_level(logging.DEBUG)

    refused = _log_in("rep", WRONG_PASSWORD)
    assert [e.value for e in refused.error] == ["Wrong username or password."]
    signed_in = _log_in("exec", DEMO_PASSWORD)
    cookie = _cookie_value(signed_in)
    engine = make_engine(fresh_app_env)
    with read_session(engine) as session:
        admin = get_user(session=session, username="admin")
        assert admin is not None
        result = import_csv(
            engine, GOOD.encode(), MAPPING, file_name="leads.csv", options=RunOptions(actor=admin)
        )
    assert result.ok, result.report.summary()
    run_tuning(engine, window_days=90)

    said = _everything_said(caplog.records)
    assert "login refused for rep: wrong password" in said
    assert "login: exec" in said
    assert "import done" in said and "leads.csv" in said
    assert "tuning:" in said and "leads" in said
    for secret in (WRONG_PASSWORD, DEMO_PASSWORD, TEST_COOKIE_KEY, cookie):
        assert secret not in said, secret
    assert "eyJ" not in said  # nothing shaped like a login cookie either


def test_an_unexpected_error_is_logged_with_its_trace_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    """app.py runs every page inside errors_logged: the server gets the trace, Streamlit still shows the
    person only its short message (client.showErrorDetails = "none")."""
    caplog.set_level(logging.INFO)
    with pytest.raises(ZeroDivisionError), errors_logged("funnel"):
        _ = 1 / 0
    (record,) = [r for r in caplog.records if r.name == "ui.logs"]
    assert record.levelno == logging.ERROR and record.getMessage() == "unexpected error on funnel"
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
