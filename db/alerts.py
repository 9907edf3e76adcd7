"""Who hears what, and the events that make messages (issue 13).

The choices: built-in defaults per role (core.alerts), an admin's defaults per role (AlertDefault), a
person's own (AlertPreference). The events: `new_mqls` is called inside the transaction that made the MQLs
(an import, an approval's re-score), the criteria workflow calls `draft_waiting` / `draft_decision` in its
own, and `enqueue_due` (run by `python -m db notify`) finds everything that is due by the clock. Every
message goes through db.outbox.enqueue, idempotent per event, person and channel; an event from before
`alerts_since` (the moment alerts were first switched on) is never told, so switching alerts on after
importing years of MQLs sends nothing about them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core import alerts as core
from core.criteria import Rule
from db.models import (
    AlertDefault,
    AlertKind,
    AlertPreference,
    AlertState,
    Cadence,
    Channel,
    CriteriaRule,
    CriteriaVersion,
    DigestItem,
    Lead,
    LeadHandoff,
    LeadRating,
    User,
)
from db.outbox import Message, enqueue
from db.settings import get_settings
from db.sla import agreement_for, current_agreements

ALERTS_SINCE = "alerts_since"
REMINDER_LEAD_TIME = timedelta(hours=1)  # a follow-up reminder goes out within the window's last hour
NEW_MQL_RECENT = timedelta(days=1)  # an MQL older than this is no longer news


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------- since when alerts are on


def alerts_since(session: Session) -> datetime | None:
    """The moment alerts were switched on; None while they never were."""
    row = session.get(AlertState, ALERTS_SINCE)
    return datetime.fromisoformat(row.value) if row is not None else None


def start_alerts(session: Session, now: datetime) -> datetime:
    """Switch alerts on at `now` unless they already are; the moment they are on since. Two servers that
    start them at once agree: the first row wins, the second insert is a no-op."""
    found = alerts_since(session)
    if found is not None:
        return found
    values = {"key": ALERTS_SINCE, "value": _utc(now).isoformat(), "updated_at": _utc(now)}
    table = AlertState.__table__  # type: ignore[attr-defined]
    statement: Any
    match session.get_bind().dialect.name:
        case "postgresql":
            statement = postgresql.insert(table).values(**values).on_conflict_do_nothing()
        case "sqlite":
            statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
        case _:  # pragma: no cover - Huddle runs on SQLite and PostgreSQL only
            statement = insert(table).values(**values)
    session.execute(statement)
    session.expire_all()
    return alerts_since(session) or _utc(now)


# ---------------------------------------------------------------- who hears what


def configured_channels() -> frozenset[Channel]:
    """The channels this server can send on: email with an SMTP host, chat with a webhook."""
    settings = get_settings()
    found = set()
    if settings.huddle_smtp_host.strip():
        found.add(Channel.email)
    if settings.huddle_chat_webhook_url.strip():
        found.add(Channel.chat)
    return frozenset(found)


def _admin_defaults(session: Session) -> dict[str, dict[tuple[str, str], core.Choice]]:
    chosen: dict[str, dict[tuple[str, str], core.Choice]] = {}
    for row in session.exec(select(AlertDefault)).all():
        chosen.setdefault(str(row.role), {})[(str(row.kind), str(row.channel))] = core.Choice(
            row.enabled, str(row.cadence), "admin default"
        )
    return chosen


def _own_rows(
    session: Session, user_ids: Iterable[int] | None = None
) -> dict[int, dict[tuple[str, str], core.Choice]]:
    query = select(AlertPreference)
    if user_ids is not None:
        query = query.where(col(AlertPreference.user_id).in_(list(user_ids)))
    chosen: dict[int, dict[tuple[str, str], core.Choice]] = {}
    for row in session.exec(query).all():
        chosen.setdefault(row.user_id, {})[(str(row.kind), str(row.channel))] = core.Choice(
            row.enabled, str(row.cadence), "yours"
        )
    return chosen


@dataclass(frozen=True)
class Listener:
    """One person who hears a kind on one channel, and how."""

    user_id: int
    name: str
    channel: Channel
    cadence: Cadence
    recipient: str | None  # the email address; None for chat


def listeners(session: Session, kind: AlertKind, user_ids: Iterable[int] | None = None) -> list[Listener]:
    """Everyone (or everyone of `user_ids`) who hears `kind`: active, the kind concerns their role, it is
    on for a channel this server can send on, and for email they have an address."""
    channels = configured_channels()
    if not channels:
        return []
    query = select(User).where(col(User.active).is_(True))
    if user_ids is not None:
        query = query.where(col(User.id).in_(list(user_ids)))
    people = [u for u in session.exec(query).all() if kind in core.kinds_for(u.role)]
    if not people:
        return []
    defaults = _admin_defaults(session)
    own = _own_rows(session, [int(u.id or 0) for u in people])
    found: list[Listener] = []
    for user in people:
        chosen = core.choices_for(user.role, defaults.get(str(user.role), {}), own.get(int(user.id or 0), {}))
        for channel in sorted(channels):
            choice = chosen.get((kind, channel))
            address = (user.email or "").strip() or None
            if choice is None or not choice.enabled or (channel == Channel.email and address is None):
                continue
            found.append(
                Listener(
                    int(user.id or 0),
                    user.name,
                    channel,
                    Cadence(choice.cadence),
                    address if channel == Channel.email else None,
                )
            )
    return found


def by_person(found: Iterable[Listener]) -> dict[int, list[Listener]]:
    grouped: dict[int, list[Listener]] = {}
    for listener in found:
        grouped.setdefault(listener.user_id, []).append(listener)
    return grouped


def _message(rendered: core.Message) -> Message:
    return Message(subject=rendered.subject, text=rendered.text, html=rendered.html, chat=rendered.chat)


def _add_digest_item(session: Session, listener: Listener, kind: AlertKind, event_key: str, line: str,
                     lead_id: int | None, now: datetime) -> bool:  # fmt: skip
    values = {
        "user_id": listener.user_id,
        "kind": kind,
        "channel": listener.channel,
        "event_key": event_key[:200],
        "lead_id": lead_id,
        "line": line[:1000],
        "created_at": _utc(now),
        "outbox_id": None,
    }
    table = DigestItem.__table__  # type: ignore[attr-defined]
    statement: Any
    match session.get_bind().dialect.name:
        case "postgresql":
            statement = postgresql.insert(table).values(**values).on_conflict_do_nothing()
        case "sqlite":
            statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
        case _:  # pragma: no cover
            statement = insert(table).values(**values)
    return session.execute(statement.returning(table.c.id)).first() is not None


def tell(
    session: Session,
    listener: Listener,
    *,
    kind: AlertKind,
    event_key: str,
    message: core.Message,
    now: datetime,
    lead_id: int | None = None,
    digest_line: str | None = None,
) -> int:
    """Tell one listener about one event: a message now, or an item of their next digest when they chose
    a digest (and the kind has a line for it). How many messages joined the outbox (0 or 1)."""
    if listener.cadence == Cadence.digest and digest_line is not None:
        _add_digest_item(session, listener, kind, event_key, digest_line, lead_id, now)
        return 0
    added = enqueue(
        session,
        event_key=event_key,
        kind=kind,
        user_id=listener.user_id,
        channel=listener.channel,
        message=_message(message),
        recipient=listener.recipient,
        lead_id=lead_id,
        due_at=_utc(now),
    )
    return int(added)


# ---------------------------------------------------------------- what a message says about a lead


def lead_facts(session: Session, leads: Sequence[Lead]) -> dict[int, core.LeadFacts]:
    """The leads as a message tells them: owner by name, where from, the rules that made them MQLs."""
    versions = {r.criteria_version_id for r in leads if r.criteria_version_id is not None}
    rules = {
        int(r.id or 0): Rule(r.attribute, r.operator, r.value, r.points, rule_id=r.id)
        for r in session.exec(select(CriteriaRule).where(col(CriteriaRule.version_id).in_(versions))).all()
    }
    thresholds = {
        int(v.id or 0): v.threshold
        for v in session.exec(select(CriteriaVersion).where(col(CriteriaVersion.id).in_(versions))).all()
    }
    owner_ids = {r.owner_id for r in leads if r.owner_id is not None}
    names = {
        int(u.id or 0): u.name for u in session.exec(select(User).where(col(User.id).in_(owner_ids))).all()
    }
    return {
        int(r.id or 0): core.LeadFacts(
            id=int(r.id or 0),
            name=core.lead_name(r.external_id, r.attributes),
            mql_at=_utc(r.mql_at or datetime.min.replace(tzinfo=UTC)),
            owner=names.get(r.owner_id or 0),
            source=r.source,
            campaign=r.campaign,
            landing_page=r.landing_page,
            why=tuple(rules[i].describe() for i in r.fired_rule_ids or [] if i in rules),
            score=r.score,
            threshold=thresholds.get(r.criteria_version_id or 0),
        )
        for r in leads
    }


def _event_moment(moment: datetime) -> str:
    return f"{_utc(moment):%Y%m%dT%H%M%S}"


def _untouched() -> list[Any]:
    """An MQL nobody in sales has touched: no logged touch, no sales stage, no rating, no handoff answer."""
    return [
        col(Lead.first_touch_at).is_(None),
        col(Lead.sql_at).is_(None),
        col(Lead.opportunity_at).is_(None),
        ~exists().where(col(LeadRating.lead_id) == col(Lead.id)),
        ~exists().where(col(LeadHandoff.lead_id) == col(Lead.id)),
    ]


# ---------------------------------------------------------------- follow-up reminders


def follow_up_reminders(session: Session, now: datetime, since: datetime) -> int:
    """Remind each owner of an untouched MQL whose follow-up window (working hours, the lead's team's
    terms) ends within the next hour."""
    owners = by_person(listeners(session, AlertKind.follow_up_reminder))
    if not owners:
        return 0
    agreements = current_agreements(session)
    longest = max(
        [a.follow_up_hours for a in agreements.values()] + [agreement_for(agreements, None).follow_up_hours]
    )
    earliest = max(_utc(since), _utc(now) - core.calendar_span(longest))
    query = select(Lead).where(
        col(Lead.owner_id).in_(list(owners)),
        col(Lead.mql_at) >= earliest,
        col(Lead.mql_at) <= _utc(now),
        *_untouched(),
    )
    due: list[tuple[Lead, datetime]] = []
    for lead in session.exec(query).all():
        hours = agreement_for(agreements, lead.team_id).follow_up_hours
        deadline = core.follow_up_deadline(_utc(lead.mql_at or now), hours)
        if _utc(now) < deadline <= _utc(now) + REMINDER_LEAD_TIME:
            due.append((lead, deadline))
    if not due:
        return 0
    facts = lead_facts(session, [lead for lead, _ in due])
    base_url = get_settings().huddle_base_url
    count = 0
    for lead, deadline in due:
        lead_id = int(lead.id or 0)
        message = core.follow_up_reminder_message(facts[lead_id], deadline, base_url=base_url)
        event_key = f"follow_up_reminder:{lead_id}:{_event_moment(lead.mql_at or now)}"
        for listener in owners.get(lead.owner_id or 0, []):
            count += tell(session, listener, kind=AlertKind.follow_up_reminder, event_key=event_key,
                          message=message, now=now, lead_id=lead_id)  # fmt: skip
    return count


# ---------------------------------------------------------------- everything due by the clock


def enqueue_due(session: Session, now: datetime) -> int:
    """Enqueue every time-based alert due at `now`, inside the caller's transaction; how many messages
    joined the outbox. Idempotent: running it again at the same `now` (or on a second server) adds none.
    The first call switches alerts on: nothing from before that moment is ever told."""
    since = start_alerts(session, now)
    return follow_up_reminders(session, now, since)
