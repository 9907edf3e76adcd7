"""The alert in Chromium and over a real SMTP socket: a rep switches on mail for new MQLs on My account,
an MQL is made for them, `notify` delivers it to the test's SMTP server, and the link in the mail opens
that lead's card after login. (Answering it from there is tests/e2e/test_handoff_browser.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from db.alerts import enqueue_due, set_my_alert
from db.engine import make_engine, read_session, write_session
from db.models import AlertKind, AlertPreference, Cadence, Channel, Lead, User
from db.notify import run_once
from db.settings import get_settings
from tests.db.mail_servers import SmtpSink, smtp_server
from tests.e2e.conftest import screenshot, settle, streamlit_server
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in
from tests.e2e.test_rate_leads_browser import copy_with_grace

pytestmark = pytest.mark.e2e


@pytest.fixture
def mail_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    with smtp_server() as (sink, port):
        for name, value in (("HOST", "127.0.0.1"), ("PORT", str(port)), ("SECURITY", "none")):
            monkeypatch.setenv(f"HUDDLE_SMTP_{name}", value)
        monkeypatch.setenv("HUDDLE_MAIL_FROM", "huddle@example.com")
        get_settings.cache_clear()
        yield sink
    get_settings.cache_clear()


def _rep_mail_on(url: str) -> bool:
    with read_session(make_engine(url)) as session:
        rep = session.exec(select(User).where(User.username == "rep")).one()
        row = session.exec(
            select(AlertPreference).where(
                AlertPreference.user_id == rep.id,
                AlertPreference.kind == AlertKind.new_mql,
                AlertPreference.channel == Channel.email,
            )
        ).first()
        return row is not None and row.enabled


def test_a_rep_switches_on_new_mql_mail_and_the_mails_link_opens_that_lead(
    browser: Any, demo_database: str, tmp_path: Path, mail_server: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = copy_with_grace(demo_database, tmp_path, 60)
    engine = make_engine(url)
    with write_session(engine) as session:  # the rep starts with new-MQL mail off
        rep = session.exec(select(User).where(User.username == "rep")).one()
        set_my_alert(session=session, actor=rep, kind=AlertKind.new_mql, channel=Channel.email, enabled=False,
                     cadence=Cadence.instant)  # fmt: skip
        rep_id, rep_team, rep_address = int(rep.id or 0), rep.team_id, rep.email
    with streamlit_server(url) as base:
        monkeypatch.setenv("HUDDLE_BASE_URL", base)
        get_settings.cache_clear()
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        try:
            _log_in(page, base, "rep", "huddle-demo")
            page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(
                timeout=TIMEOUT_MS
            )
            page.goto(f"{base}/account")
            switch = page.locator(".st-key-mine_new_mql_email_on")
            switch.wait_for(timeout=TIMEOUT_MS)
            settle(page)
            switch.get_by_text("Email").click()
            for _ in range(100):
                if _rep_mail_on(url):
                    break
                page.wait_for_timeout(100)
            assert _rep_mail_on(url), "the switch saved the choice"
            settle(page)
            assert page.locator(".st-key-mine_new_mql_email_how input").is_enabled()  # now it may be a digest
            screenshot(page, "alerts-account-rep")

            switched_on = datetime.now(UTC)
            with write_session(engine) as session:
                enqueue_due(session, switched_on)  # alerts on from now: the demo's MQLs are history
                lead = Lead(source_system="demo", external_id="alert-1", created_at=switched_on,
                            mql_at=switched_on + timedelta(seconds=1), owner_id=rep_id, team_id=rep_team,
                            source="paid_search", campaign="<b>Winter</b>", attributes={"company": "Mailed Co"})  # fmt: skip
                session.add(lead)
                session.flush()
                lead_id = int(lead.id or 0)
            run = run_once(engine, get_settings(), clock=lambda: switched_on + timedelta(minutes=1))
            assert run.enqueued == 1, run.describe()
            mail_server.wait_for(1)
            (arrived,) = mail_server.arrived
            assert arrived.recipients == [rep_address]
            assert arrived.mail["Subject"] == "New MQL for you: Mailed Co"
            text = arrived.mail.get_body(preferencelist=("plain",))
            html = arrived.mail.get_body(preferencelist=("html",))
            assert text is not None and html is not None
            link = f"{base}/rate?lead={lead_id}"
            assert link in text.get_content() and f'href="{link}"' in html.get_content()
            assert "&lt;b&gt;Winter&lt;/b&gt;" in html.get_content()
            assert f"{base}/account" in text.get_content()

            fresh = browser.new_context(viewport={"width": 1280, "height": 1000})  # opened from the mail
            mail_page = fresh.new_page()
            try:
                mail_page.goto(link)
                mail_page.get_by_label("Username").wait_for(timeout=TIMEOUT_MS)
                mail_page.get_by_label("Username").fill("rep")
                mail_page.get_by_role("textbox", name="Password").fill("huddle-demo")
                mail_page.get_by_role("button", name="Log in").click()
                mail_page.get_by_text("The lead your link opened").wait_for(timeout=TIMEOUT_MS)
                mail_page.get_by_role("heading", name="Mailed Co").first.wait_for(timeout=TIMEOUT_MS)
                settle(mail_page)
                assert f"lead={lead_id}" in mail_page.url
                screenshot(mail_page, "alerts-mail-link-opens-lead")
            finally:
                fresh.close()
        finally:
            context.close()
    engine.dispose()
