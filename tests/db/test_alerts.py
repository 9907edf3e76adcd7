"""Who hears what, and the events that make messages, on SQLite and PostgreSQL (issue 13)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db.alerts import alerts_since, enqueue_due, start_alerts
from db.engine import read_session, write_session
from db.models import AlertKind, Channel, DataSource, Lead, LeadRating, OutboxMessage, Role, Team, User
from db.settings import get_settings

# A Wednesday: the company's default terms give 24 working hours to follow up.
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


@pytest.fixture
def mail_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HUDDLE_SMTP_HOST", "127.0.0.1")
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

    assert _due(db_engine, NOW) == 1
    assert _due(db_engine, NOW + timedelta(minutes=10)) == 0  # the same event: never twice
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
