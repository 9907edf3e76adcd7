"""Two app servers on one PostgreSQL database, as docs/DEPLOY.md runs Huddle for a team: a load balancer
may send any request of a tab to either, so neither may keep anything the other needs to know.

A login is a cookie signed with HUDDLE_COOKIE_KEY (the same on both) naming a server-side session row that
both servers check on every rerun: a login on one is valid on the other and shows Huddle's own frame there
on the very first request, also right after a restart; a logout on one ends it on both. Ratings submitted
on both at once all land. A criteria approval on one shows on the other at its next rerun: the version in
force and the numbers it re-scored, although each server caches the leads for minutes (ui/data.py follows
the writes that change them through the audit log).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from core.criteria import Rule
from db import clock
from db.access import OPERATOR
from db.criteria import approve, propose_version
from db.demo import seed_demo
from db.demo_accounts import DEMO_PASSWORD
from db.engine import make_engine, read_session, write_session
from db.frames import changes_stamp
from db.migrate import upgrade_to_head
from db.models import Lead, LeadRating, User, UserSession
from db.ratings import RatingIn, rate_lead
from db.sla import agreement_for, current_agreements, set_agreement
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.e2e.conftest import _free_port, screenshot, settle, streamlit_server
from tests.e2e.test_fresh_server_browser import arrive, assert_huddle_frame, assert_login_frame
from tests.e2e.test_login_browser import TIMEOUT_MS, _log_in, _login_cookie

pytestmark = pytest.mark.e2e
LEADS = 1500
ROUNDS = 3  # ratings each browser submits, at the same moment as the other
SERVICE_RATINGS = 12  # written meanwhile by a third rater through the service, straight to the database


@pytest.fixture(scope="module")
def shared_database() -> Iterator[str]:
    """A throwaway PostgreSQL database, migrated, with a small demo company."""
    url = create_postgres_database()
    try:
        engine = make_engine(url)
        upgrade_to_head(engine)
        seed_demo(engine, leads=LEADS, seed=7, today=clock.today())
        # The raters below need several MQLs each inside the rating queue's window: the small demo gives
        # a rep only a few a month, so the company's terms keep unrated MQLs in the queue for a year.
        with write_session(engine) as session:
            terms = agreement_for(current_agreements(session), None)
            set_agreement(session=session, actor=OPERATOR, team_id=None,
                          mqls_per_month=int(terms.mqls_per_month or 0), follow_up_hours=terms.follow_up_hours,
                          rating_days=terms.rating_days, acceptance_target=float(terms.acceptance_target or 0),
                          rating_grace_days=365)  # fmt: skip
        engine.dispose()
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("two-servers")


@pytest.fixture(scope="module")
def server_a(shared_database: str, logs: Path) -> Iterator[str]:
    with streamlit_server(shared_database, log_folder=logs, name="server-a") as base:
        yield base


@pytest.fixture(scope="module")
def server_b(shared_database: str, logs: Path) -> Iterator[str]:
    with streamlit_server(shared_database, log_folder=logs, name="server-b") as base:
        yield base


@pytest.fixture
def contexts(browser: Any) -> Iterator[Any]:
    """New browser contexts (each its own cookie jar), all closed after the test."""
    made: list[Any] = []

    def new() -> Any:
        made.append(browser.new_context(viewport={"width": 1280, "height": 900}))
        return made[-1]

    yield new
    for context in made:
        context.close()


def _logged_in(context: Any, base: str, username: str, home: str) -> Any:
    """A tab of `context` logged in on `base` as `username`, its cookie written, at the role's home."""
    page = context.new_page()
    _log_in(page, base, username, DEMO_PASSWORD)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("heading", name=home).wait_for(timeout=2 * TIMEOUT_MS)  # a home can take a while
    settle(page, 2 * TIMEOUT_MS)
    assert _login_cookie(page, context), "the login cookie was never written"
    return page


def _go(page: Any, title: str) -> None:
    """A rerun of this tab on its server: the sidebar link to another screen."""
    page.get_by_test_id("stSidebar").get_by_role("link", name=title, exact=True).click()
    arrive(page, title)


def _user_id(database: str, username: str) -> int:
    engine = make_engine(database)
    with read_session(engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
    engine.dispose()
    return int(user.id or 0)


# ---------------------------------------------------------------- logins


def test_a_login_on_one_server_opens_huddle_on_a_fresh_other_and_after_its_restart(
    contexts: Any, shared_database: str, logs: Path, server_a: str
) -> None:
    context = contexts()
    _logged_in(context, server_a, "admin", "Overview")
    port = _free_port()
    with streamlit_server(shared_database, log_folder=logs, name="server-b-restarted", port=port) as fresh:
        tab = context.new_page()
        tab.goto(f"{fresh}/funnel")  # the fresh server's very first request
        arrive(tab, "Funnel")
        assert_huddle_frame(tab, "admin", "Casey Admin")
        screenshot(tab, "two-servers-fresh-deep-link")
        other = context.new_page()
        other.goto(f"{fresh}/audit-log")
        arrive(other, "Audit log")
        assert_huddle_frame(other, "admin", "Casey Admin")
        other.goto(f"{fresh}/audit_log")  # the screen's file name is no address
        arrive(other, "Overview")
        assert_huddle_frame(other, "admin", "Casey Admin")
        other.close()
    # The server is gone: the tab left open says so, and reconnects to the same address once it is back.
    tab.get_by_text("Connection error").wait_for(timeout=TIMEOUT_MS)
    with streamlit_server(shared_database, log_folder=logs, name="server-b-restarted", port=port):
        tab.get_by_text("Connection error").wait_for(state="hidden", timeout=TIMEOUT_MS)
        arrive(tab, "Funnel")  # the restarted server's first session: the reconnected tab's rerun
        assert_huddle_frame(tab, "admin", "Casey Admin")
        _go(tab, "Audit log")
        assert_huddle_frame(tab, "admin", "Casey Admin")
        screenshot(tab, "two-servers-after-restart")


def test_a_server_with_another_cookie_key_takes_no_login_from_the_first(
    contexts: Any, shared_database: str, logs: Path, server_a: str
) -> None:
    """The cookie is checked against the key: a server that signs with another key asks to log in."""
    context = contexts()
    _logged_in(context, server_a, "exec", "Weekly sync")
    with streamlit_server(shared_database, log_folder=logs, name="other-key", cookie_key="k" * 48) as other:
        page = context.new_page()
        page.goto(f"{other}/funnel")
        assert_login_frame(page)
        assert not page.get_by_role("heading", name="Funnel").count()


def test_a_logout_on_one_server_ends_the_login_on_both(
    contexts: Any, shared_database: str, server_a: str, server_b: str
) -> None:
    first = contexts()
    page = _logged_in(first, server_a, "marketer", "Targeting criteria")
    # A second browser holding a copy of the cookie, on the other server: it is the session row in the
    # database that both servers ask, not the cookie alone.
    second = contexts()
    second.add_cookies(_login_cookie(page, first))
    replay = second.new_page()
    replay.goto(f"{server_b}/funnel")
    arrive(replay, "Funnel")
    assert_huddle_frame(replay, "marketer", "Jordan Blake")
    same_browser = first.new_page()
    same_browser.goto(f"{server_b}/glossary")
    arrive(same_browser, "Glossary")

    page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for(timeout=TIMEOUT_MS)

    replay.get_by_test_id("stSidebar").get_by_role("link", name="Glossary").click()  # its next rerun
    assert_login_frame(replay)
    assert not replay.get_by_role("heading", name="Glossary").count()
    replay.reload()
    assert_login_frame(replay)
    same_browser.goto(f"{server_b}/funnel")
    assert_login_frame(same_browser)
    screenshot(replay, "two-servers-after-logout")
    engine = make_engine(shared_database)
    with read_session(engine) as session:
        open_sessions = session.exec(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == _user_id(shared_database, "marketer"))
            .where(col(UserSession.ended_at).is_(None))
        ).one()
    engine.dispose()
    assert open_sessions == 0


# ---------------------------------------------------------------- ratings


def _waiting(page: Any) -> int:
    text = page.get_by_text(re.compile(r"MQLs\s+wait for your rating")).first.inner_text()
    found = re.search(r"([\d,]+) MQLs", text)
    assert found, text
    return int(found.group(1).replace(",", ""))


def _rate_by_service(database: str, username: str, count: int, failures: list[BaseException]) -> None:
    """A third rater writing through the service while the two browsers submit."""
    try:
        engine = make_engine(database)
        with read_session(engine) as session:
            rater = session.exec(select(User).where(User.username == username)).one()
            lead_ids = session.exec(
                select(Lead.id)
                .where(Lead.owner_id == rater.id, col(Lead.mql_at).is_not(None))
                .where(col(Lead.id).not_in(select(LeadRating.lead_id).where(LeadRating.rater_id == rater.id)))
                .order_by(col(Lead.id))
                .limit(count)
            ).all()
        assert len(lead_ids) == count, f"{username} owns only {len(lead_ids)} MQLs"
        for lead_id in lead_ids:
            with write_session(engine) as session:
                actor = session.exec(select(User).where(User.username == username)).one()
                rate_lead(session=session, actor=actor, rating=RatingIn(int(lead_id or 0), 3, ("good_fit",)))
        engine.dispose()
    except BaseException as error:  # handed to the test, which fails with it
        failures.append(error)


def _pick(page: Any) -> str:
    """Fill the rating form of the lead on screen; its heading."""
    lead = page.get_by_role("heading", name=re.compile("^Lead ")).first.inner_text()
    star = page.get_by_role("radio", name="★★★★", exact=True).first
    star.click()
    expect(star).to_have_attribute("aria-checked", "true", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Good fit").first.click()
    return lead


def _ratings_by(database: str, username: str) -> int:
    engine = make_engine(database)
    with read_session(engine) as session:
        count = session.exec(
            select(func.count()).select_from(LeadRating).join(User, col(User.id) == col(LeadRating.rater_id))
            .where(User.username == username)
        ).one()  # fmt: skip
    engine.dispose()
    return int(count)


def test_ratings_submitted_on_both_servers_at_once_all_land(
    contexts: Any, shared_database: str, server_a: str, server_b: str
) -> None:
    raters = {"rep": server_a, "dan.wright": server_b}
    before = {username: _ratings_by(shared_database, username) for username in [*raters, "mia.chen"]}
    pages = {}
    for username, base in raters.items():
        page = _logged_in(contexts(), base, username, "Rate my leads")
        pages[username] = page
    waiting = {username: _waiting(page) for username, page in pages.items()}
    assert all(count >= ROUNDS for count in waiting.values()), waiting
    failures: list[BaseException] = []
    writer = threading.Thread(
        target=_rate_by_service, args=(shared_database, "mia.chen", SERVICE_RATINGS, failures)
    )
    writer.start()
    try:
        for n in range(ROUNDS):
            shown = {username: _pick(page) for username, page in pages.items()}
            for page in pages.values():  # both submits leave before either server answers
                page.get_by_role("button", name="Submit and next").click(no_wait_after=True)
            for username, page in pages.items():
                page.get_by_text(f"{waiting[username] - n - 1:,} MQLs").first.wait_for(timeout=TIMEOUT_MS)
                expect(page.get_by_role("heading", name=re.compile("^Lead ")).first).not_to_have_text(
                    shown[username], timeout=TIMEOUT_MS
                )
                settle(page)
    finally:
        writer.join(timeout=120)
    assert not failures, failures
    assert _ratings_by(shared_database, "rep") == before["rep"] + ROUNDS
    assert _ratings_by(shared_database, "dan.wright") == before["dan.wright"] + ROUNDS
    assert _ratings_by(shared_database, "mia.chen") == before["mia.chen"] + SERVICE_RATINGS
    for username, page in pages.items():
        page.reload()
        arrive(page, "Rate my leads")
        assert _waiting(page) == waiting[username] - ROUNDS


# ---------------------------------------------------------------- criteria


def _mqls(page: Any) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text="MQLs").first
    return str(metric.get_by_test_id("stMetricValue").inner_text()).strip()


def _propose_everything_is_an_mql(database: str) -> int:
    """A draft under which every new lead not yet with sales is an MQL (so approving it moves numbers);
    its number."""
    engine = make_engine(database)
    with write_session(engine) as session:
        marketer = session.exec(select(User).where(User.username == "marketer")).one()
        version = propose_version(
            session=session,
            actor=marketer,
            rules=(Rule("page_views", "gte", 0, 10),),
            threshold=10,
            rationale="Two-server test: every new lead counts",
        )
        number = version.number
    engine.dispose()
    return number


def test_a_criteria_approval_on_one_server_shows_on_the_other_at_its_next_rerun(
    contexts: Any, shared_database: str, server_a: str, server_b: str
) -> None:
    number = _propose_everything_is_an_mql(shared_database)
    # On B, a marketer reads the Funnel of this month and the Glossary: B's caches now hold them.
    watcher = _logged_in(contexts(), server_b, "lena.fischer", "Targeting criteria")
    watcher.goto(f"{server_b}/funnel?period=this_month")
    arrive(watcher, "Funnel")
    before = _mqls(watcher)
    _go(watcher, "Glossary")
    watcher.get_by_role("heading", name=f"In force: version {number - 1}").wait_for(timeout=TIMEOUT_MS)

    # On A, a sales manager approves it.
    manager = _logged_in(contexts(), server_a, "manager", "Weekly sync")
    _go(manager, "Targeting criteria")
    approve_button = manager.get_by_role("button", name="Approve and put in force")
    approve_button.scroll_into_view_if_needed()
    approve_button.click()
    manager.get_by_text(f"Version {number} is in force.").wait_for(timeout=TIMEOUT_MS)
    # A marketer on A sees the numbers the approval re-scored (A cleared its own caches).
    on_a = _logged_in(contexts(), server_a, "marketer", "Targeting criteria")
    on_a.goto(f"{server_a}/funnel?period=this_month")
    arrive(on_a, "Funnel")
    after = _mqls(on_a)
    assert after != before, "the approval made new MQLs this month"

    # B's next reruns: the version in force, and the Funnel's numbers from the re-scored leads.
    _go(watcher, "Targeting criteria")
    watcher.get_by_role("heading", name=f"In force: version {number}").wait_for(timeout=TIMEOUT_MS)
    _go(watcher, "Glossary")
    watcher.get_by_role("heading", name=f"In force: version {number}").wait_for(timeout=TIMEOUT_MS)
    _go(watcher, "Funnel")
    assert _mqls(watcher) == after, f"server B still shows {before} MQLs, A shows {after}"
    screenshot(watcher, "two-servers-criteria-followed")


def test_the_changes_stamp_follows_the_writes_that_change_the_frames_and_no_others(
    sqlite_engine: Engine,
) -> None:
    """What the servers above compare (db/frames.py): it moves with an approval and new SLA terms, not
    with a rating or a draft, which leave the cached frames right."""
    seed_demo(sqlite_engine, leads=200, seed=7, today=clock.today())
    seeded = changes_stamp(sqlite_engine)
    assert seeded > 0, "seeding the demo is such a write"
    with write_session(sqlite_engine) as session:
        rep = session.exec(select(User).where(User.username == "rep")).one()
        lead_id = session.exec(
            select(Lead.id).where(Lead.owner_id == rep.id, col(Lead.mql_at).is_not(None))
        ).first()
        rate_lead(session=session, actor=rep, rating=RatingIn(int(lead_id or 0), 4))
    with write_session(sqlite_engine) as session:
        marketer = session.exec(select(User).where(User.username == "marketer")).one()
        draft = propose_version(
            session=session, actor=marketer, rules=(Rule("page_views", "gte", 0, 10),), threshold=10,
            rationale="a draft changes nothing yet",
        )  # fmt: skip
        draft_id = int(draft.id or 0)
    assert changes_stamp(sqlite_engine) == seeded
    with write_session(sqlite_engine) as session:
        manager = session.exec(select(User).where(User.username == "manager")).one()
        approve(session=session, actor=manager, version_id=draft_id)
    approved = changes_stamp(sqlite_engine)
    assert approved > seeded
    with write_session(sqlite_engine) as session:
        manager = session.exec(select(User).where(User.username == "manager")).one()
        set_agreement(
            session=session, actor=manager, team_id=manager.team_id, mqls_per_month=40,
            follow_up_hours=8, rating_days=3, acceptance_target=0.5,
        )  # fmt: skip
    assert changes_stamp(sqlite_engine) > approved
