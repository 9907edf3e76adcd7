"""The alert in Chromium and over a real SMTP socket: a rep switches on mail for new MQLs on My account,
an MQL is made for them, `notify` delivers it to the test's SMTP server, the link in the mail opens that
lead's card after login, the rep recycles it there with a reason, and the marketer finds it on the Funnel's
nurture list: issue 13's proof in one flow. (The phone version of the answer is test_handoff_browser.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from db import clock
from db.access import OPERATOR
from db.alerts import enqueue_due, set_my_alert
from db.engine import make_engine, read_session, write_session
from db.importing.mapping import parse_mapping
from db.importing.run import RunOptions, import_csv
from db.models import AlertKind, AlertPreference, Cadence, Channel, HandoffAnswer, Lead, LeadHandoff, User
from db.notify import run_once
from db.settings import get_settings
from tests.db.mail_servers import SmtpSink, smtp_server
from tests.e2e.conftest import readme_picture, screenshot, settle, streamlit_server
from tests.e2e.test_handoff_browser import marketer_finds_it_back
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in
from tests.e2e.test_rate_leads_browser import copy_with_grace
from tests.pages.conftest import without_demo_answers

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


REASON = "No budget yet"
MAPPING = parse_mapping(
    '[source]\nname = "crm"\n[columns]\nexternal_id = "id"\ncreated_date = "created"\nmql_date = "mql"\n'
    'owner = "owner"\nsource = "source"\ncampaign = "campaign"\n[attributes]\n"company" = "company"\n'
)


def _recycle(page: Any) -> None:
    """On the card the link opened: Recycle to marketing, a common reason, the default come-back date."""
    page.get_by_role("button", name="Recycle to marketing").first.click()
    settle(page)
    page.get_by_text("Comes back to sales on").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("radio", name=REASON).click()
    page.get_by_test_id("stFormSubmitButton").filter(has_text="Recycle to marketing").click()
    settle(page)
    page.get_by_text(re.compile(rf"^Recycled to marketing on .* reason: {REASON}")).first.wait_for(
        timeout=TIMEOUT_MS
    )


def _answer(engine: Engine, lead_id: int) -> LeadHandoff | None:
    with read_session(engine) as session:
        return session.exec(select(LeadHandoff).where(LeadHandoff.lead_id == lead_id)).first()


def test_new_mql_mail_links_to_the_card_where_the_rep_recycles_it_and_the_marketer_sees_it_back(
    browser: Any, demo_database: str, tmp_path: Path, mail_server: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = without_demo_answers(copy_with_grace(demo_database, tmp_path, 60))  # the Funnel counts ours
    engine = make_engine(url)
    with write_session(engine) as session:  # the rep starts with new-MQL mail off
        rep = session.exec(select(User).where(User.username == "rep")).one()
        set_my_alert(session=session, actor=rep, kind=AlertKind.new_mql, channel=Channel.email, enabled=False,
                     cadence=Cadence.instant)  # fmt: skip
        rep_address = rep.email
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
            readme_picture(screenshot(page, "alerts-account-rep"), "account-alerts.png")

            # The start of the server's day (the run's pinned one): the server's own clock, in another
            # process, must see the rep's answer after this MQL moment, as it would in real life.
            switched_on = datetime.combine(clock.today(), time(0, 0, 1), tzinfo=UTC)
            with write_session(engine) as session:
                enqueue_due(session, switched_on)  # alerts on from now: the demo's MQLs are history
            # The MQL arrives as a team's would: an import, which tells its owner in its own transaction.
            mql_at = switched_on + timedelta(seconds=4)
            export = (
                "id,created,mql,owner,source,campaign,company\n"
                f"alert-1,{mql_at:%Y-%m-%dT%H:%M:%S},{mql_at:%Y-%m-%dT%H:%M:%S},rep,paid_search,<b>Winter</b>,"
                "Mailed Co\n"
            ).encode()
            result = import_csv(
                engine, export, MAPPING, file_name="new.csv", options=RunOptions(actor=OPERATOR)
            )
            assert result.ok, result.describe()
            with read_session(engine) as session:
                lead_id = int(session.exec(select(Lead.id).where(Lead.external_id == "alert-1")).one() or 0)
            run = run_once(engine, get_settings(), clock=clock.now)
            assert (run.enqueued, run.delivery.sent) == (0, 1), run.describe()  # the import enqueued it
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
                shot = screenshot(mail_page, "alerts-mail-link-opens-lead")
                readme_picture(shot, "alert-link-card.png")
                _recycle(mail_page)
            finally:
                fresh.close()
            answer = _answer(engine, lead_id)
            assert answer is not None and (answer.answer, answer.reason) == (HandoffAnswer.recycle, REASON)
            marketer_finds_it_back(browser, base, REASON, "alerts-marketer-nurture-list")
        finally:
            context.close()
    engine.dispose()
