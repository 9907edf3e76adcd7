"""The events that make messages, on SQLite and PostgreSQL: criteria drafts and decisions told in their
own transaction, an import's and an approval's new MQLs, the week's acceptance and report, the daily
action items, and one's choices as services (issue 13)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.criteria import Rule
from db import clock
from db.access import OPERATOR
from db.action_items import add_item, close_item
from db.alerts import (
    AlertsRefused,
    alert_defaults,
    enqueue_due,
    my_alert_choices,
    set_alert_default,
    set_my_alert,
    start_alerts,
    week_acceptance,
)
from db.criteria import approve, comment, propose_version, reject
from db.demo import seed_demo
from db.engine import read_session, write_session
from db.handoff import answer_handoff
from db.importing.mapping import parse_mapping
from db.importing.run import RunOptions, import_csv
from db.models import (
    AlertKind,
    Cadence,
    Channel,
    DataSource,
    HandoffAnswer,
    Lead,
    LeadRating,
    OutboxMessage,
    Role,
    SlaSetting,
    Team,
    User,
)
from db.settings import get_settings

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def mail_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HUDDLE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HUDDLE_MAIL_FROM", "huddle@example.com")
    monkeypatch.setenv("HUDDLE_BASE_URL", "https://huddle.example.com")
    monkeypatch.delenv("HUDDLE_CHAT_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _people(engine: Engine) -> dict[str, int]:
    with write_session(engine) as session:
        east = Team(name="East")
        session.add_all([east, DataSource(name="crm", label="CRM", stages=["created", "mql"])])
        session.flush()
        people = {
            name: User(username=name, name=name.title(), email=f"{name}@example.com", role=role, team_id=east.id)
            for name, role in (("mara", Role.marketer), ("erin", Role.sales_manager), ("sam", Role.sales_manager),
                               ("rita", Role.rep), ("ada", Role.admin))
        }  # fmt: skip
        session.add_all(people.values())
        session.flush()
        return {key: int(u.id or 0) for key, u in people.items()} | {"east": int(east.id or 0)}


def _user(session: object, name: str) -> User:
    return session.exec(select(User).where(User.username == name)).one()  # type: ignore[attr-defined]


def _outbox(engine: Engine) -> list[OutboxMessage]:
    with read_session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def _switch_on(engine: Engine, now: datetime = NOW) -> None:
    with write_session(engine) as session:
        start_alerts(session, now)


def test_a_draft_tells_the_other_managers_and_each_decision_tells_its_proposer(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _people(db_engine)
    _switch_on(db_engine, NOW - timedelta(days=1))
    with write_session(db_engine) as session:
        draft = propose_version(session=session, actor=_user(session, "mara"), rules=[Rule("source", "eq", "web", 10)],
                                threshold=5, rationale="web <converts>", now=NOW)  # fmt: skip
        draft_id = int(draft.id or 0)
    with write_session(db_engine) as session:
        comment(session=session, actor=_user(session, "erin"), version_id=draft_id, text="why web?", now=NOW)
        comment(
            session=session, actor=_user(session, "mara"), version_id=draft_id, text="it converts", now=NOW
        )
    with write_session(db_engine) as session:
        approve(session=session, actor=_user(session, "sam"), version_id=draft_id, note="fine", now=NOW)
    told = [(m.kind, m.user_id, m.subject) for m in _outbox(db_engine)]
    assert told == [
        (AlertKind.draft_waiting, ids["erin"], "Criteria draft waiting for your approval: Version 1"),
        (AlertKind.draft_waiting, ids["sam"], "Criteria draft waiting for your approval: Version 1"),
        (AlertKind.draft_decision, ids["mara"], "Your criteria draft was commented on: Version 1"),
        (AlertKind.draft_decision, ids["mara"], "Your criteria draft was approved: Version 1"),
    ]  # mara's own comment tells nobody
    waiting = _outbox(db_engine)[0]
    assert "<strong>Note:</strong> web &lt;converts&gt;" in (waiting.html or "")
    assert "https://huddle.example.com/criteria" in waiting.text


def test_a_rejection_is_told_and_nothing_is_told_before_alerts_are_on(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _people(db_engine)
    with write_session(db_engine) as session:
        first = propose_version(session=session, actor=_user(session, "mara"), rules=[Rule("source", "eq", "web", 10)],
                                threshold=5, rationale="one", now=NOW)  # fmt: skip
        first_id = int(first.id or 0)
    assert _outbox(db_engine) == []  # alerts were never switched on
    _switch_on(db_engine)
    with write_session(db_engine) as session:
        reject(session=session, actor=_user(session, "erin"), version_id=first_id, reason="too broad")
    (told,) = _outbox(db_engine)
    assert (told.kind, told.user_id, told.subject) == (
        AlertKind.draft_decision, ids["mara"], "Your criteria draft was rejected: Version 1",
    )  # fmt: skip
    assert "By: Erin\nNote: too broad" in told.text


def test_an_approval_tells_the_owners_of_the_leads_its_re_score_made_mqls(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _people(db_engine)
    _switch_on(db_engine, NOW - timedelta(days=1))
    with write_session(db_engine) as session:
        for external_id, source in (("W-1", "web"), ("A-1", "ads")):
            session.add(Lead(source_system="crm", external_id=external_id, created_at=NOW - timedelta(days=2),
                             source=source, owner_id=ids["rita"], team_id=ids["east"]))  # fmt: skip
        draft = propose_version(session=session, actor=_user(session, "mara"), rules=[Rule("source", "eq", "web", 10)],
                                threshold=5, rationale="web", now=NOW)  # fmt: skip
        draft_id = int(draft.id or 0)
    with write_session(db_engine) as session:
        approve(session=session, actor=_user(session, "erin"), version_id=draft_id, now=NOW)
    (mql,) = [m for m in _outbox(db_engine) if m.kind == AlertKind.new_mql]
    assert (mql.user_id, mql.subject) == (ids["rita"], "New MQL for you: Lead W-1")
    assert "Why an MQL: 10 points, 5 needed\n  - Source is web: +10 points" in mql.text


MAPPING = parse_mapping(
    '[source]\nname = "crm"\n[columns]\nexternal_id = "id"\ncreated_date = "created"\nmql_date = "mql"\n'
    'owner = "owner"\n'
)


def test_an_import_tells_the_owners_of_its_new_mqls_in_its_own_transaction(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _people(db_engine)
    now = clock.now()  # the import tells on this clock too: the run's pinned day
    today = now.date()
    _switch_on(db_engine, now - timedelta(days=3))
    old = (today - timedelta(days=40)).isoformat()
    csv = (
        f"id,created,mql,owner\nN-1,{today},{today},rita\nO-1,{old},{old},rita\nX-1,{today},,rita\n".encode()
    )
    result = import_csv(db_engine, csv, MAPPING, file_name="leads.csv", options=RunOptions(actor=OPERATOR))
    assert result.ok, result.describe()
    told = [(m.kind, m.user_id, m.subject) for m in _outbox(db_engine)]
    assert told == [(AlertKind.new_mql, ids["rita"], "New MQL for you: Lead N-1")]


def _terms(engine: Engine, target: float) -> None:
    with write_session(engine) as session:
        session.add(SlaSetting(mqls_per_month=100, follow_up_hours=24, rating_days=3, acceptance_target=target,
                               effective_from=NOW - timedelta(days=60)))  # fmt: skip


def test_the_weeks_acceptance_under_target_is_told_once_the_morning_after(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _people(db_engine)
    _terms(db_engine, 0.5)
    _switch_on(db_engine, datetime(2026, 11, 20, tzinfo=UTC))
    # Week 2026-W48 (Nov 23-29): four MQLs, three rated: one 4-5 star, two 2 stars. 1 of 3 = 33% < 50%.
    with write_session(db_engine) as session:
        for n, stars in enumerate((5, 2, 2, None)):
            lead = Lead(source_system="crm", external_id=f"W48-{n}", created_at=datetime(2026, 11, 24, tzinfo=UTC),
                        mql_at=datetime(2026, 11, 24, 10, tzinfo=UTC), owner_id=ids["rita"], team_id=ids["east"],
                        first_touch_at=datetime(2026, 11, 24, 11, tzinfo=UTC))  # fmt: skip
            session.add(lead)
            session.flush()
            if stars is not None:
                session.add(LeadRating(lead_id=int(lead.id or 0), rater_id=ids["rita"], stars=stars,
                                       created_at=datetime(2026, 11, 25, tzinfo=UTC)))  # fmt: skip
        assert week_acceptance(session, "2026-W48") == (1, 3)
    monday = datetime(2026, 11, 30, 7, 59, tzinfo=UTC)
    for moment in (monday, monday + timedelta(minutes=1), monday + timedelta(hours=3)):
        with write_session(db_engine) as session:
            enqueue_due(session, moment)
    low = [m for m in _outbox(db_engine) if m.kind == AlertKind.acceptance_low]
    assert [(m.user_id, m.event_key, m.subject) for m in low] == [
        (ids["mara"], "acceptance_low:2026-W48", "MQL acceptance in 2026-W48: 33%, under the 50% target")
    ]


def test_acceptance_on_target_tells_nobody(db_engine: Engine, mail_on: None) -> None:
    ids = _people(db_engine)
    _terms(db_engine, 0.3)
    _switch_on(db_engine, datetime(2026, 11, 20, tzinfo=UTC))
    with write_session(db_engine) as session:
        lead = Lead(source_system="crm", external_id="W48", created_at=datetime(2026, 11, 24, tzinfo=UTC),
                    mql_at=datetime(2026, 11, 24, 10, tzinfo=UTC), owner_id=ids["rita"], team_id=ids["east"])  # fmt: skip
        session.add(lead)
        session.flush()
        session.add(LeadRating(lead_id=int(lead.id or 0), rater_id=ids["rita"], stars=4,
                               created_at=datetime(2026, 11, 25, tzinfo=UTC)))  # fmt: skip
    with write_session(db_engine) as session:
        enqueue_due(session, datetime(2026, 11, 30, 9, tzinfo=UTC))
    assert [m for m in _outbox(db_engine) if m.kind == AlertKind.acceptance_low] == []


def test_open_action_items_go_once_a_day_to_those_who_opted_in(db_engine: Engine, mail_on: None) -> None:
    ids = _people(db_engine)
    _switch_on(db_engine, NOW - timedelta(days=1))
    with write_session(db_engine) as session:
        mara = _user(session, "mara")
        for title in ("Call Acme", "Fix the <form>"):
            add_item(session=session, actor=mara, title=title, due_date=date(2026, 12, 1), meeting_week="2026-W48",
                     owner_id=ids["rita"])  # fmt: skip
        done = add_item(session=session, actor=mara, title="Done already", due_date=None, meeting_week="2026-W48",
                        owner_id=ids["rita"])  # fmt: skip
        close_item(session=session, actor=_user(session, "rita"), item_id=int(done.id or 0))
        add_item(session=session, actor=mara, title="Erin's", due_date=None, meeting_week="2026-W48",
                 owner_id=ids["erin"])  # fmt: skip
        set_my_alert(session=session, actor=_user(session, "rita"), kind=AlertKind.action_items,
                     channel=Channel.email, enabled=True, cadence=Cadence.instant)  # fmt: skip
    for moment in (NOW.replace(hour=7), NOW, NOW + timedelta(hours=3)):
        with write_session(db_engine) as session:
            enqueue_due(session, moment)
    (items,) = [m for m in _outbox(db_engine) if m.kind == AlertKind.action_items]
    assert (items.user_id, items.event_key, items.subject) == (ids["rita"], "action_items:2026-12-02",
                                                               "You have 2 open action items")  # fmt: skip
    assert "Fix the &lt;form&gt; (overdue since Dec 01" in (items.html or "")
    assert "Done already" not in items.text


def test_the_weekly_report_goes_the_morning_after_the_week_to_those_who_opted_in(
    db_engine: Engine, mail_on: None
) -> None:
    seed_demo(db_engine, leads=600, seed=7, today=date(2026, 11, 23))
    _switch_on(db_engine, datetime(2026, 11, 10, tzinfo=UTC))
    with write_session(db_engine) as session:
        admin = session.exec(select(User).where(User.role == Role.admin)).first()
        assert admin is not None
        set_my_alert(session=session, actor=admin, kind=AlertKind.weekly_report, channel=Channel.email,
                     enabled=True, cadence=Cadence.instant)  # fmt: skip
        admin_id = int(admin.id or 0)
    for moment in (datetime(2026, 11, 23, 7, tzinfo=UTC), datetime(2026, 11, 23, 9, tzinfo=UTC),
                   datetime(2026, 11, 23, 10, tzinfo=UTC)):  # fmt: skip
        with write_session(db_engine) as session:
            enqueue_due(session, moment)
    (report,) = [m for m in _outbox(db_engine) if m.kind == AlertKind.weekly_report]
    assert (report.user_id, report.event_key, report.subject) == (
        admin_id, "weekly_report:2026-W47", "Weekly sync report, 2026-W47",
    )  # fmt: skip
    assert "Huddle weekly sync" in (report.html or "")
    settings_link = (
        '<p><a href="https://huddle.example.com/account">Change which alerts you get</a></p></body>'
    )
    assert settings_link in (report.html or "")


def test_ones_choices_and_a_roles_defaults_are_read_and_refused_as_services(
    db_engine: Engine, mail_on: None
) -> None:
    _people(db_engine)
    with write_session(db_engine) as session:
        rita = _user(session, "rita")
        mine = {(c.kind, c.channel): (c.enabled, c.cadence, c.source, c.set_up) for c in
                my_alert_choices(session=session, actor=rita)}  # fmt: skip
        assert mine[(AlertKind.new_mql, Channel.email)] == (True, Cadence.instant, "built-in", True)
        assert mine[(AlertKind.new_mql, Channel.chat)] == (False, Cadence.instant, "built-in", False)
        with pytest.raises(AlertsRefused, match="not one for a rep"):
            set_my_alert(session=session, actor=rita, kind=AlertKind.team_breach, channel=Channel.email,
                         enabled=True, cadence=Cadence.instant)  # fmt: skip
        with pytest.raises(AlertsRefused, match="only as it happens"):
            set_my_alert(session=session, actor=rita, kind=AlertKind.follow_up_reminder, channel=Channel.email,
                         enabled=True, cadence=Cadence.digest)  # fmt: skip
        with pytest.raises(AlertsRefused, match="command line"):
            set_my_alert(session=session, actor=OPERATOR, kind=AlertKind.weekly_report, channel=Channel.email,
                         enabled=True, cadence=Cadence.instant)  # fmt: skip
        changed = set_alert_default(session=session, actor=OPERATOR, role=Role.rep, kind=AlertKind.new_mql,
                                    channel=Channel.email, enabled=True, cadence=Cadence.digest)  # fmt: skip
        assert (changed.enabled, changed.cadence, changed.source) == (True, Cadence.digest, "admin default")
        assert my_alert_choices(session=session, actor=OPERATOR) == []
        defaults = alert_defaults(session=session, actor=OPERATOR)
        assert {c.kind for c in defaults[Role.executive]} == {AlertKind.weekly_report, AlertKind.action_items}
        mine_now = {(c.kind, c.channel): c.cadence for c in my_alert_choices(session=session, actor=rita)}
        assert mine_now[(AlertKind.new_mql, Channel.email)] == Cadence.digest


def test_a_recycled_lead_that_comes_back_is_a_new_mql_and_an_answered_one_is_not_told(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _people(db_engine)
    _switch_on(db_engine, NOW - timedelta(days=10))
    first = NOW - timedelta(days=5)
    with write_session(db_engine) as session:
        back = Lead(source_system="crm", external_id="R-1", created_at=first, mql_at=first, owner_id=ids["rita"],
                    team_id=ids["east"])  # fmt: skip
        answered = Lead(source_system="crm", external_id="A-1", created_at=NOW - timedelta(hours=3),
                        mql_at=NOW - timedelta(hours=3), owner_id=ids["rita"], team_id=ids["east"])  # fmt: skip
        session.add_all([back, answered])
        session.flush()
        back_id, answered_id = int(back.id or 0), int(answered.id or 0)
        rita = _user(session, "rita")
        answer_handoff(session=session, actor=rita, lead_id=back_id, answer=HandoffAnswer.recycle, reason="not now",
                       come_back_on=(NOW - timedelta(days=1)).date(), now=first + timedelta(hours=1))  # fmt: skip
        answer_handoff(session=session, actor=rita, lead_id=answered_id, answer=HandoffAnswer.accept, reason=None,
                       come_back_on=None, now=NOW - timedelta(hours=2))  # fmt: skip
    with write_session(db_engine) as session:
        returned = session.get(Lead, back_id)
        assert returned is not None
        returned.mql_at = NOW - timedelta(hours=1)  # marketing's nurture brought it back
        session.add(returned)
    with write_session(db_engine) as session:
        enqueue_due(session, NOW)
    told = [(m.lead_id, m.event_key) for m in _outbox(db_engine) if m.kind == AlertKind.new_mql]
    assert told == [(back_id, f"new_mql:{back_id}:{NOW - timedelta(hours=1):%Y%m%dT%H%M%S}")]
