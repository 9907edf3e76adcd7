"""Who hears what, and the events that make messages, on SQLite and PostgreSQL (issue 13)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.alerts import alerts_since, digests, enqueue_due, new_mqls, set_my_alert, start_alerts
from db.engine import read_session, write_session
from db.models import (
    AlertKind,
    Cadence,
    Channel,
    DataSource,
    DigestItem,
    Lead,
    LeadRating,
    OutboxMessage,
    Role,
    Team,
    User,
)
from db.settings import get_settings

# A Wednesday: the company's default terms give 24 working hours to follow up.
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


@pytest.fixture
def mail_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HUDDLE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HUDDLE_MAIL_FROM", "huddle@example.com")
    monkeypatch.setenv("HUDDLE_BASE_URL", "https://huddle.example.com")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _company(engine: Engine) -> dict[str, int]:
    """Team East: a rep (Rita, with an address), a rep without one (Noel), their manager (Erin)."""
    with write_session(engine) as session:
        east = Team(name="East")
        session.add_all([east, DataSource(name="crm", label="CRM", stages=["created", "mql"])])
        session.flush()
        people = {
            "rep": User(
                username="rita", name="Rita", email="rita@example.com", role=Role.rep, team_id=east.id
            ),
            "noel": User(username="noel", name="Noel", role=Role.rep, team_id=east.id),
            "boss": User(
                username="erin",
                name="Erin",
                email="erin@example.com",
                role=Role.sales_manager,
                team_id=east.id,
            ),
        }
        session.add_all(people.values())
        session.flush()
        return {key: int(user.id or 0) for key, user in people.items()} | {"east": int(east.id or 0)}


def _lead(
    engine: Engine, external_id: str, mql_at: datetime, owner_id: int, team_id: int, **fields: object
) -> int:
    with write_session(engine) as session:
        lead = Lead(source_system="crm", external_id=external_id, created_at=mql_at, mql_at=mql_at,
                    owner_id=owner_id, team_id=team_id, **fields)  # type: ignore[arg-type]  # fmt: skip
        session.add(lead)
        session.flush()
        return int(lead.id or 0)


def _outbox(engine: Engine) -> list[OutboxMessage]:
    with read_session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def _due(engine: Engine, now: datetime) -> int:
    with write_session(engine) as session:
        return enqueue_due(session, now)


def test_alerts_start_once_and_keep_their_first_moment(db_engine: Engine) -> None:
    with write_session(db_engine) as session:
        assert alerts_since(session) is None
        assert start_alerts(session, NOW) == NOW
    with write_session(db_engine) as session:
        assert start_alerts(session, NOW + timedelta(days=3)) == NOW
        assert alerts_since(session) == NOW


def test_a_rep_is_reminded_once_in_the_last_hour_of_the_follow_up_window(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(days=2))  # alerts on since Monday noon
    # Tuesday 12:30 + 24 working hours: the window ends Wednesday 12:30, inside the hour after NOW.
    due = _lead(db_engine, "due", datetime(2026, 12, 1, 12, 30, tzinfo=UTC), ids["rep"], ids["east"])
    # Tuesday 14:00: ends Wednesday 14:00, not yet.
    _lead(db_engine, "later", datetime(2026, 12, 1, 14, tzinfo=UTC), ids["rep"], ids["east"])
    # Due too, but rated already, or touched, or owned by a rep without an address.
    rated = _lead(db_engine, "rated", datetime(2026, 12, 1, 12, 30, tzinfo=UTC), ids["rep"], ids["east"])
    _lead(db_engine, "touched", datetime(2026, 12, 1, 12, 30, tzinfo=UTC), ids["rep"], ids["east"],
          first_touch_at=datetime(2026, 12, 1, 13, tzinfo=UTC))  # fmt: skip
    _lead(db_engine, "no-address", datetime(2026, 12, 1, 12, 30, tzinfo=UTC), ids["noel"], ids["east"])
    with write_session(db_engine) as session:
        session.add(LeadRating(lead_id=rated, rater_id=ids["rep"], stars=4, created_at=NOW))

    _due(db_engine, NOW)
    _due(db_engine, NOW + timedelta(minutes=10))  # the same event: never twice
    (message,) = [m for m in _outbox(db_engine) if m.kind == AlertKind.follow_up_reminder]
    assert (message.user_id, message.channel, message.recipient, message.lead_id) == (
        ids["rep"], Channel.email, "rita@example.com", due,
    )  # fmt: skip
    assert message.subject == "Follow up Lead due by 12:30 UTC"
    assert f"https://huddle.example.com/rate?lead={due}" in message.text
    assert "https://huddle.example.com/account" in message.text


def test_nothing_is_enqueued_without_a_channel_set_up(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUDDLE_SMTP_HOST", raising=False)
    monkeypatch.delenv("HUDDLE_CHAT_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(days=2))
    _lead(db_engine, "due", datetime(2026, 12, 1, 12, 30, tzinfo=UTC), ids["rep"], ids["east"])
    assert _due(db_engine, NOW) == 0


def _mql(
    engine: Engine, external_id: str, mql_at: datetime, owner_id: int, team_id: int, **fields: object
) -> int:
    return _lead(engine, external_id, mql_at, owner_id, team_id, **fields)


def _choose(engine: Engine, username: str, kind: AlertKind, channel: Channel, enabled: bool,
            cadence: Cadence = Cadence.instant) -> None:  # fmt: skip
    with write_session(engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        set_my_alert(
            session=session, actor=user, kind=kind, channel=channel, enabled=enabled, cadence=cadence
        )


def test_a_new_mql_is_told_to_its_owner_once_with_who_where_from_and_why(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(hours=2))
    lead = _mql(db_engine, "A-1", NOW - timedelta(minutes=5), ids["rep"], ids["east"], source="<script>x</script>",
                campaign='=HYPERLINK("http://evil")', attributes={"company": "Acme & Sons"})  # fmt: skip
    with write_session(db_engine) as session:
        assert new_mqls(session, [lead], NOW) == 1
        assert new_mqls(session, [lead], NOW) == 0  # told once, however often it is found
    assert _due(db_engine, NOW + timedelta(minutes=1)) == 0  # the safety net finds it told already
    (message,) = _outbox(db_engine)
    assert (message.kind, message.user_id, message.recipient) == (
        AlertKind.new_mql,
        ids["rep"],
        "rita@example.com",
    )
    assert message.event_key == f"new_mql:{lead}:{NOW - timedelta(minutes=5):%Y%m%dT%H%M%S}"
    assert message.subject == "New MQL for you: Acme & Sons"
    assert 'Came from: <script>x</script> · \'=HYPERLINK("http://evil")' in message.text
    assert "&lt;script&gt;x&lt;/script&gt;" in (message.html or "") and "<script>" not in (message.html or "")
    assert "Acme &amp; Sons" in (message.html or "")
    assert f"https://huddle.example.com/rate?lead={lead}" in message.text


def test_the_safety_net_tells_mqls_made_by_other_means_but_none_older_than_a_day(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(days=3))
    recent = _mql(db_engine, "recent", NOW - timedelta(hours=3), ids["rep"], ids["east"])
    _mql(db_engine, "stale", NOW - timedelta(days=2), ids["rep"], ids["east"])
    _due(db_engine, NOW)
    assert [(m.kind, m.lead_id) for m in _outbox(db_engine) if m.kind == AlertKind.new_mql] == [
        (AlertKind.new_mql, recent)
    ]


def test_switching_alerts_on_after_importing_100000_old_mqls_tells_nothing(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _company(db_engine)
    start = NOW - timedelta(days=30)
    table = Lead.__table__  # type: ignore[attr-defined]
    rows = [
        {"source_system": "crm", "external_id": f"old-{i}", "created_at": start - timedelta(minutes=i),
         "mql_at": start - timedelta(minutes=i) + timedelta(days=29, hours=23, minutes=59) if i < 50 else
         start - timedelta(minutes=i), "owner_id": ids["rep"], "team_id": ids["east"],
         "page_views": 0, "email_clicks": 0, "content_downloads": 0, "mql_by_import": True,
         "updated_at": start}
        for i in range(100_000)
    ]  # fmt: skip
    with write_session(db_engine) as session:
        session.execute(insert(table), rows)
    # The first 50 became MQLs just before alerts were switched on: recent, due for reminders, breaches soon.
    assert _due(db_engine, NOW) == 0
    assert _due(db_engine, NOW + timedelta(days=2, hours=9)) == 0
    assert _outbox(db_engine) == []


def test_nobody_who_opted_out_is_disabled_or_has_no_address_is_told(db_engine: Engine, mail_on: None) -> None:
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(hours=2))
    _choose(db_engine, "rita", AlertKind.new_mql, Channel.email, False)
    first = _mql(db_engine, "opted-out", NOW - timedelta(minutes=5), ids["rep"], ids["east"])
    _mql(db_engine, "no-address", NOW - timedelta(minutes=5), ids["noel"], ids["east"])
    with write_session(db_engine) as session:
        assert new_mqls(session, None, NOW) == 0
    _choose(db_engine, "rita", AlertKind.new_mql, Channel.email, True)
    with write_session(db_engine) as session:
        session.exec(select(User).where(User.username == "rita")).one().active = False
    with write_session(db_engine) as session:
        assert new_mqls(session, [first], NOW) == 0
    assert _outbox(db_engine) == []


def _kinds(engine: Engine, user_id: int, kind: AlertKind) -> list[OutboxMessage]:
    return [m for m in _outbox(engine) if m.user_id == user_id and m.kind == kind]


def test_a_digest_holds_every_item_once_and_the_next_one_only_the_new_ones(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(days=3))
    _choose(db_engine, "rita", AlertKind.new_mql, Channel.email, True, Cadence.digest)
    a = _mql(db_engine, "A", NOW - timedelta(hours=2), ids["rep"], ids["east"])
    b = _mql(db_engine, "B", NOW - timedelta(hours=1), ids["rep"], ids["east"])
    with write_session(db_engine) as session:
        assert new_mqls(session, None, NOW) == 0  # items of the digest, not messages
        assert digests(session, NOW.replace(hour=7)) == 0  # before 08:00 UTC nothing goes out
    _due(db_engine, NOW)
    c = _mql(db_engine, "C", NOW + timedelta(hours=1), ids["rep"], ids["east"])
    _due(db_engine, NOW + timedelta(hours=2))  # one digest a day: C waits for tomorrow's
    assert len(_kinds(db_engine, ids["rep"], AlertKind.new_mql)) == 1
    _due(db_engine, NOW + timedelta(days=1))
    _due(db_engine, NOW + timedelta(days=2))  # nothing new: no empty digest
    first, second = _kinds(db_engine, ids["rep"], AlertKind.new_mql)
    assert (first.event_key, second.event_key) == ("digest:2026-12-02", "digest:2026-12-03")
    assert first.subject == "Huddle digest for Dec 02, 2026: 2 items"
    assert (
        f"rate?lead={a}" in first.text
        and f"rate?lead={b}" in first.text
        and f"rate?lead={c}" not in first.text
    )
    assert second.subject == "Huddle digest for Dec 03, 2026: 1 item"
    assert f"rate?lead={c}" in second.text and f"rate?lead={a}" not in second.text
    with read_session(db_engine) as session:
        items = session.exec(
            select(DigestItem).where(DigestItem.user_id == ids["rep"]).order_by(col(DigestItem.id))
        )
        assert [i.outbox_id for i in items.all()] == [first.id, first.id, second.id]


def test_a_manager_hears_of_each_breach_of_their_team_as_it_happens(db_engine: Engine, mail_on: None) -> None:
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(days=5))
    _choose(db_engine, "erin", AlertKind.team_breach, Channel.email, True, Cadence.instant)
    # Monday 11:00 + 24 working hours: untouched past Tuesday 11:00; not rated by Thursday 11:00 either.
    late = _mql(db_engine, "late", datetime(2026, 11, 30, 11, tzinfo=UTC), ids["rep"], ids["east"])
    # Touched in time: no follow-up breach, but unrated past the rating days all the same.
    touched = _mql(db_engine, "touched", datetime(2026, 11, 30, 11, tzinfo=UTC), ids["rep"], ids["east"],
         first_touch_at=datetime(2026, 11, 30, 12, tzinfo=UTC))  # fmt: skip
    _due(db_engine, datetime(2026, 12, 1, 10, tzinfo=UTC))
    assert _kinds(db_engine, ids["boss"], AlertKind.team_breach) == []
    _due(db_engine, datetime(2026, 12, 1, 11, 30, tzinfo=UTC))
    _due(db_engine, datetime(2026, 12, 1, 12, tzinfo=UTC))
    _due(db_engine, datetime(2026, 12, 3, 11, 30, tzinfo=UTC))  # the rating days ran out
    breaches = _kinds(db_engine, ids["boss"], AlertKind.team_breach)
    assert sorted((m.lead_id, m.event_key.split(":")[1]) for m in breaches) == [
        (late, "unrated"),
        (late, "untouched"),
        (touched, "unrated"),
    ]
    assert breaches[0].subject == "SLA breach: Lead late untouched past its follow-up window"


def test_the_managers_default_is_a_daily_digest_of_breaches(db_engine: Engine, mail_on: None) -> None:
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(days=5))
    _mql(db_engine, "late", datetime(2026, 11, 30, 11, tzinfo=UTC), ids["rep"], ids["east"])
    _due(db_engine, datetime(2026, 12, 1, 11, 30, tzinfo=UTC))
    (digest,) = _kinds(db_engine, ids["boss"], AlertKind.team_breach)
    assert digest.event_key == "digest:2026-12-01"
    assert "Lead late (owner Rita): not followed up since its window ended Dec 01 11:00 UTC" in digest.text


def test_switching_a_digested_kind_off_drops_what_was_waiting_for_the_digest(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(days=3))
    _choose(db_engine, "rita", AlertKind.new_mql, Channel.email, True, Cadence.digest)
    _mql(db_engine, "A", NOW - timedelta(hours=2), ids["rep"], ids["east"])
    with write_session(db_engine) as session:
        new_mqls(session, None, NOW.replace(hour=7))
    _choose(db_engine, "rita", AlertKind.new_mql, Channel.email, False)
    _due(db_engine, NOW)
    assert _kinds(db_engine, ids["rep"], AlertKind.new_mql) == []
    with read_session(db_engine) as session:
        assert session.exec(select(DigestItem).where(DigestItem.user_id == ids["rep"])).all() == []


def test_an_mql_from_before_alerts_were_on_is_not_told_even_when_it_breaches_later(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _company(db_engine)
    _choose(db_engine, "erin", AlertKind.team_breach, Channel.email, True, Cadence.instant)
    _mql(db_engine, "before", NOW - timedelta(minutes=1), ids["rep"], ids["east"])
    _due(db_engine, NOW)  # alerts on from now
    for hours in (1, 23, 24, 25, 26, 72):
        _due(db_engine, NOW + timedelta(hours=hours))
    assert _outbox(db_engine) == []


def _statements(engine: Engine, call: Callable[[Session], object]) -> list[str]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    with write_session(engine) as session:
        event.listen(engine, "before_cursor_execute", record)
        try:
            call(session)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    return seen


def test_an_import_pays_nothing_for_new_mqls_while_alerts_are_off_or_nobody_hears_of_them(
    db_engine: Engine, mail_on: None
) -> None:
    ids = _company(db_engine)
    _mql(db_engine, "A", NOW - timedelta(hours=1), ids["rep"], ids["east"])
    off = _statements(db_engine, lambda s: new_mqls(s, None, NOW))
    queries = [q for q in off if q.startswith("SELECT")]
    assert len(queries) == 1 and "FROM alert_state" in queries[0]  # alerts never started: one look, no more
    _due(db_engine, NOW - timedelta(hours=2))
    _choose(db_engine, "rita", AlertKind.new_mql, Channel.email, False)
    nobody = _statements(db_engine, lambda s: new_mqls(s, None, NOW))
    assert not any("FROM leads" in q for q in nobody), nobody


def test_a_chat_alert_carries_the_webhook_body_and_no_address(
    db_engine: Engine, mail_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUDDLE_CHAT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    get_settings.cache_clear()
    ids = _company(db_engine)
    _due(db_engine, NOW - timedelta(hours=2))
    _choose(db_engine, "noel", AlertKind.new_mql, Channel.chat, True)  # no address: chat still reaches him
    lead = _mql(
        db_engine, "C-1", NOW - timedelta(minutes=5), ids["noel"], ids["east"], campaign="<!channel> & co"
    )
    with write_session(db_engine) as session:
        assert new_mqls(session, [lead], NOW) == 1
    (message,) = _outbox(db_engine)
    assert (message.channel, message.recipient, message.user_id) == (Channel.chat, None, ids["noel"])
    chat = message.chat or {}
    assert "&lt;!channel&gt; &amp; co" in chat["text"] and "<!channel>" not in chat["text"]
    assert (
        f"<https://huddle.example.com/rate?lead={lead}|Open it in Huddle>"
        in chat["blocks"][1]["elements"][0]["text"]
    )
