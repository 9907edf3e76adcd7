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

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import exists, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from core import alerts as core
from core.sla import Terms, marketing_side
from core.weekly import last_complete_week, week_period
from db import audit
from db.access import Action, Actor, authorize, person
from db.engine import WRITE_OPTION
from db.feedback import scored_by
from db.models import (
    ActionItem,
    AlertDefault,
    AlertKind,
    AlertPreference,
    AlertState,
    Cadence,
    Channel,
    CriteriaVersion,
    DigestItem,
    Lead,
    LeadHandoff,
    LeadRating,
    OutboxMessage,
    Role,
    User,
    utcnow,
)
from db.outbox import Message, enqueue
from db.settings import get_settings
from db.sla import agreement_for, current_agreements
from db.transports import missing_settings

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
    _insert_once(
        session, AlertState, {"key": ALERTS_SINCE, "value": _utc(now).isoformat(), "updated_at": _utc(now)}
    )
    session.expire_all()
    return alerts_since(session) or _utc(now)


def _insert_once(session: Session, model: type[SQLModel], values: dict[str, Any]) -> bool:
    """Insert a row unless one with the same unique key is there (two servers doing the same at once
    included: the second waits for the first and adds nothing); whether this one was inserted."""
    table = model.__table__  # type: ignore[attr-defined]
    statement: Any
    match session.get_bind().dialect.name:
        case "postgresql":
            statement = postgresql.insert(table).values(**values).on_conflict_do_nothing()
        case "sqlite":
            statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
        case _:  # pragma: no cover - Huddle runs on SQLite and PostgreSQL only
            statement = insert(table).values(**values)
    return session.execute(statement.returning(*table.primary_key.columns)).first() is not None


# ---------------------------------------------------------------- who hears what


def configured_channels() -> frozenset[Channel]:
    """The channels this server can send on (db.transports decides: email needs an SMTP host and a sender
    address, chat a webhook)."""
    settings = get_settings()
    return frozenset(channel for channel in Channel if not missing_settings(settings, channel))


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
    return _insert_once(session, DigestItem, values)


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
    rules, thresholds = scored_by(session, leads)
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
        # An answer from before this MQL moment was to an earlier round: a recycled lead that came back
        # waits for an answer again.
        ~exists().where(
            col(LeadHandoff.lead_id) == col(Lead.id), col(LeadHandoff.answered_at) >= col(Lead.mql_at)
        ),
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


# ---------------------------------------------------------------- new MQLs


def _recent_window(now: datetime, since: datetime) -> datetime:
    return max(_utc(since), _utc(now) - NEW_MQL_RECENT)


def new_mqls(session: Session, lead_ids: Collection[int] | None, now: datetime) -> int:
    """Tell each owner of a new MQL (of `lead_ids`, or any, with None) about it, in the caller's
    transaction: an MQL with an owner, untouched, that became one since alerts are on and within a day of
    `now`. One query finds them (by the indexed MQL moment and the owners who hear of new MQLs), and none
    runs at all while alerts are off or nobody has them on, so a million-row import pays nothing for it.
    A recycled lead that comes back as an MQL again is a new event (its new MQL moment is in the key)."""
    since = alerts_since(session)
    if since is None:
        return 0
    owners = by_person(listeners(session, AlertKind.new_mql))
    if not owners or (lead_ids is not None and not lead_ids):
        return 0
    query = select(Lead).where(
        col(Lead.owner_id).in_(list(owners)),
        col(Lead.mql_at) >= _recent_window(now, since),
        col(Lead.mql_at) <= _utc(now),
        *_untouched(),
    )
    wanted = set(lead_ids) if lead_ids is not None else None
    found = [lead for lead in session.exec(query).all() if wanted is None or lead.id in wanted]
    if not found:
        return 0
    facts = lead_facts(session, found)
    base_url = get_settings().huddle_base_url
    count = 0
    for lead in found:
        lead_id = int(lead.id or 0)
        told = facts[lead_id]
        message = core.new_mql_message(told, base_url=base_url)
        event_key = f"new_mql:{lead_id}:{_event_moment(told.mql_at)}"
        line = core.new_mql_line(told)
        for listener in owners.get(lead.owner_id or 0, []):
            count += tell(session, listener, kind=AlertKind.new_mql, event_key=event_key, message=message,
                          now=now, lead_id=lead_id, digest_line=line)  # fmt: skip
    return count


# ---------------------------------------------------------------- team breaches


def _managers(session: Session) -> dict[int, list[Listener]]:
    """The listeners of team breaches, by the team they manage."""
    heard = by_person(listeners(session, AlertKind.team_breach))
    if not heard:
        return {}
    teams: dict[int, list[Listener]] = {}
    for user in session.exec(select(User).where(col(User.id).in_(list(heard)))).all():
        if user.role == Role.sales_manager and user.team_id is not None:
            teams.setdefault(user.team_id, []).extend(heard[int(user.id or 0)])
    return teams


def _breaches(
    session: Session, now: datetime, since: datetime, teams: Collection[int]
) -> list[tuple[core.Breach, int]]:
    """The breaches of `teams` (with the lead's team) that happened within a day of `now`, of MQLs that
    arrived since alerts are on: an MQL untouched when its follow-up window ended, an MQL unrated when its
    rating days ran out. An MQL from before alerts were on is never told, not even its later breach."""
    agreements = current_agreements(session)
    terms = [agreement_for(agreements, team) for team in teams]
    longest_hours = max(t.follow_up_hours for t in terms)
    longest_days = max(t.rating_days for t in terms)
    lowest = _recent_window(now, since)
    earliest = max(_utc(since), lowest - max(core.calendar_span(longest_hours), timedelta(days=longest_days)))
    base = [col(Lead.team_id).in_(list(teams)), col(Lead.mql_at) >= earliest, col(Lead.mql_at) <= _utc(now)]
    untouched = list(session.exec(select(Lead).where(*base, *_untouched())).all())
    unrated = list(
        session.exec(
            select(Lead).where(*base, ~exists().where(col(LeadRating.lead_id) == col(Lead.id)))
        ).all()
    )
    facts = lead_facts(session, untouched + unrated)
    found: list[tuple[core.Breach, int]] = []
    for what, leads in (("untouched", untouched), ("unrated", unrated)):
        for lead in leads:
            term = agreement_for(agreements, lead.team_id)
            mql_at = _utc(lead.mql_at or now)
            due = (
                core.follow_up_deadline(mql_at, term.follow_up_hours)
                if what == "untouched"
                else mql_at + timedelta(days=term.rating_days)
            )
            if lowest <= due <= _utc(now):
                found.append((core.Breach(facts[int(lead.id or 0)], what, due), int(lead.team_id or 0)))
    return found


def team_breaches(session: Session, now: datetime, since: datetime) -> int:
    """Tell each sales manager who hears of breaches about each new breach of their team: one message
    each, or an item of their daily digest."""
    managers = _managers(session)
    if not managers:
        return 0
    base_url = get_settings().huddle_base_url
    count = 0
    for breach, team_id in _breaches(session, now, since, list(managers)):
        lead_id = breach.lead.id
        event_key = f"team_breach:{breach.what}:{lead_id}:{_event_moment(breach.lead.mql_at)}"
        message = core.team_breach_message(breach, base_url=base_url)
        for listener in managers.get(team_id, []):
            count += tell(session, listener, kind=AlertKind.team_breach, event_key=event_key, message=message,
                          now=now, lead_id=lead_id, digest_line=core.breach_line(breach))  # fmt: skip
    return count


# ---------------------------------------------------------------- the daily digest


def digests(session: Session, now: datetime) -> int:
    """At or after 08:00 UTC, once a day per person and channel: one message holding every digest item
    not yet in a digest; the items then point at it, so no later digest repeats them."""
    if _utc(now).hour < core.DIGEST_HOUR:
        return 0
    pending = list(session.exec(select(DigestItem).where(col(DigestItem.outbox_id).is_(None))).all())
    if not pending:
        return 0
    grouped: dict[tuple[int, Channel], list[DigestItem]] = {}
    for item in sorted(pending, key=lambda i: (i.created_at, i.id or 0)):
        grouped.setdefault((item.user_id, Channel(item.channel)), []).append(item)
    people = {
        int(u.id or 0): u for u in session.exec(select(User).where(col(User.id).in_({k[0] for k in grouped})))
    }
    base_url = get_settings().huddle_base_url
    day = _utc(now).date()
    count = 0
    for (user_id, channel), found in grouped.items():
        user = people.get(user_id)
        address = (user.email or "").strip() if user is not None else ""
        if user is None or not user.active or (channel == Channel.email and not address):
            continue
        items = _still_wanted(session, user, channel, found)
        if not items:
            continue
        event_key = f"digest:{day:%Y-%m-%d}"
        entries = [core.DigestEntry(item.line, item.lead_id) for item in items]
        added = enqueue(
            session,
            event_key=event_key,
            kind=AlertKind(items[0].kind),
            user_id=user_id,
            channel=channel,
            message=_message(core.digest_message(day, entries, base_url=base_url)),
            recipient=address if channel == Channel.email else None,
            due_at=_utc(now),
        )
        if not added:
            continue  # today's digest went out already: these wait for tomorrow's
        outbox_id = session.exec(
            select(OutboxMessage.id).where(
                OutboxMessage.event_key == event_key,
                OutboxMessage.user_id == user_id,
                OutboxMessage.channel == channel,
            )
        ).one()
        for item in items:
            item.outbox_id = outbox_id
            session.add(item)
        count += 1
    session.flush()
    return count


def _still_wanted(
    session: Session, user: User, channel: Channel, items: list[DigestItem]
) -> list[DigestItem]:
    """The items of kinds the person still hears about on `channel`; those of a kind they switched off
    since are dropped (an opt-out holds for what was already waiting too)."""
    own = _own_rows(session, [int(user.id or 0)]).get(int(user.id or 0), {})
    chosen = core.choices_for(user.role, _admin_defaults(session).get(str(user.role), {}), own)
    kept = []
    for item in items:
        choice = chosen.get((str(item.kind), str(channel)))
        if choice is not None and choice.enabled:
            kept.append(item)
        else:
            session.delete(item)
    return kept


# ---------------------------------------------------------------- criteria drafts


def _draft_facts(session: Session, version: CriteriaVersion) -> core.DraftFacts:
    proposer = session.get(User, version.proposed_by_id) if version.proposed_by_id is not None else None
    return core.DraftFacts(
        int(version.id or 0),
        f"Version {version.number}",
        proposer.name if proposer else None,
        version.rationale,
    )


def draft_waiting(session: Session, version: CriteriaVersion, now: datetime) -> int:
    """Tell the sales managers (all but the proposer) that a draft waits for their approval; called in the
    proposal's transaction."""
    if alerts_since(session) is None:
        return 0
    facts = _draft_facts(session, version)
    message = core.draft_waiting_message(facts, base_url=get_settings().huddle_base_url)
    count = 0
    for listener in listeners(session, AlertKind.draft_waiting):
        if listener.user_id == version.proposed_by_id:
            continue
        count += tell(session, listener, kind=AlertKind.draft_waiting, event_key=f"draft_waiting:{facts.id}",
                      message=message, now=now)  # fmt: skip
    return count


def draft_decision(
    session: Session, version: CriteriaVersion, *, decision: str, by: User | None, text: str | None,
    event: str, now: datetime,
) -> int:  # fmt: skip
    """Tell a draft's proposer it was approved, rejected or commented on (`event` tells one comment from
    another); called in the decision's transaction. Nobody is told about their own comment."""
    proposer = version.proposed_by_id
    if alerts_since(session) is None or proposer is None or (by is not None and by.id == proposer):
        return 0
    facts = _draft_facts(session, version)
    message = core.draft_decision_message(
        facts, decision, by.name if by else None, text, base_url=get_settings().huddle_base_url
    )
    count = 0
    event_key = f"draft_decision:{facts.id}:{decision}:{event}"
    for listener in listeners(session, AlertKind.draft_decision, [proposer]):
        count += tell(
            session, listener, kind=AlertKind.draft_decision, event_key=event_key, message=message, now=now
        )
    return count


# ---------------------------------------------------------------- the week closed: acceptance, the report


def _morning_after(now: datetime, since: datetime) -> str | None:
    """The week that closed last, on or after the morning after it closed (08:00 UTC on the Monday);
    None before that, or when it closed before alerts were on (that week is no news)."""
    moment = _utc(now)
    week = last_complete_week(moment.date())
    closed = datetime.combine(week_period(week).end or moment.date(), time(0), UTC)
    if moment < closed + timedelta(hours=core.DIGEST_HOUR) or closed < _utc(since):
        return None
    return week


def _not_yet_told(session: Session, found: list[Listener], event_key: str) -> list[Listener]:
    if not found:
        return []
    told = set(
        session.exec(
            select(OutboxMessage.user_id, OutboxMessage.channel).where(
                OutboxMessage.event_key == event_key,
                col(OutboxMessage.user_id).in_({x.user_id for x in found}),
            )
        ).all()
    )
    return [x for x in found if (x.user_id, x.channel) not in told]


def week_acceptance(session: Session, week: str) -> tuple[int, int]:
    """The week's MQL acceptance as core.sla's scorecard counts it: of the week's MQLs that sales rated,
    how many were rated 4-5 (accepted), and how many were rated."""
    period = week_period(week)
    start = datetime.combine(period.start or date.min, time(0), UTC)
    end = datetime.combine(period.end or date.max, time(0), UTC)
    rows = session.exec(
        select(Lead.id, Lead.mql_at).where(col(Lead.mql_at) >= start, col(Lead.mql_at) < end)
    ).all()
    leads = pl.DataFrame(
        [(int(i or 0), _naive(m)) for i, m in rows],
        schema={"id": pl.Int64, "mql_at": pl.Datetime("us")},
        orient="row",
    )
    ratings = session.exec(
        select(LeadRating.lead_id, LeadRating.stars, LeadRating.created_at).where(
            col(LeadRating.lead_id).in_(
                select(Lead.id).where(col(Lead.mql_at) >= start, col(Lead.mql_at) < end)
            )
        )
    ).all()
    rated = pl.DataFrame(
        [(lead, stars, _naive(at)) for lead, stars, at in ratings],
        schema={"lead_id": pl.Int64, "stars": pl.Int64, "created_at": pl.Datetime("us")},
        orient="row",
    )
    side = marketing_side(leads, rated, period, Terms())
    return side.acceptance.num, side.acceptance.den


def _naive(moment: datetime | None) -> datetime | None:
    return _utc(moment).replace(tzinfo=None) if moment is not None else None


ACCEPTANCE_CHECKED = "acceptance_checked"  # with a week: that week's acceptance was looked at


def acceptance_low(session: Session, now: datetime, since: datetime) -> int:
    """Once per closed week, the morning after: tell the marketers who hear of it when the week's MQL
    acceptance fell under the SLA target. The week is looked at once, low or not."""
    week = _morning_after(now, since)
    target = agreement_for(current_agreements(session), None).acceptance_target
    if week is None or not target:
        return 0
    key = f"{ACCEPTANCE_CHECKED}:{week}"
    if not _insert_once(
        session, AlertState, {"key": key, "value": _utc(now).isoformat(), "updated_at": _utc(now)}
    ):
        return 0
    accepted, rated = week_acceptance(session, week)
    if rated == 0 or accepted / rated >= target:
        return 0
    message = core.acceptance_low_message(
        week, accepted, rated, target, base_url=get_settings().huddle_base_url
    )
    count = 0
    for listener in listeners(session, AlertKind.acceptance_low):
        count += tell(session, listener, kind=AlertKind.acceptance_low, event_key=f"acceptance_low:{week}",
                      message=message, now=now)  # fmt: skip
    return count


def weekly_report(session: Session, now: datetime, since: datetime) -> int:
    """The morning after a week closes, the weekly sync report to everyone who opted in: the same
    self-contained HTML as the Weekly sync's *Download this week*, built once for all of them."""
    week = _morning_after(now, since)
    if week is None:
        return 0
    event_key = f"weekly_report:{week}"
    waiting = _not_yet_told(session, listeners(session, AlertKind.weekly_report), event_key)
    if not waiting:
        return 0
    message = core.weekly_report_message(
        week, _report_html(session, week, now), base_url=get_settings().huddle_base_url
    )
    return sum(
        tell(session, listener, kind=AlertKind.weekly_report, event_key=event_key, message=message, now=now)
        for listener in waiting
    )


def _report_html(session: Session, week: str, now: datetime) -> str:
    # Imported here: db.report reads db.criteria, which tells its drafts through this module.
    from db.criteria import activation_dates
    from db.report import actions_table, build_week, week_report_html

    reader = session.get_bind().execution_options(**{WRITE_OPTION: False})  # plain reads beside this write
    sync = build_week(reader, week, now=_naive(now) or datetime.now())  # type: ignore[arg-type]
    return week_report_html(sync, actions_table(session, week), activation_dates(session), made_at=_utc(now))


# ---------------------------------------------------------------- action items


def action_items(session: Session, now: datetime) -> int:
    """Once a day at or after 08:00 UTC, each person who opted in and owns open action items: the list."""
    if _utc(now).hour < core.DIGEST_HOUR:
        return 0
    day = _utc(now).date()
    event_key = f"action_items:{day:%Y-%m-%d}"
    waiting = _not_yet_told(session, listeners(session, AlertKind.action_items), event_key)
    if not waiting:
        return 0
    items = session.exec(
        select(ActionItem)
        .where(
            col(ActionItem.closed_at).is_(None), col(ActionItem.owner_id).in_({x.user_id for x in waiting})
        )
        .order_by(col(ActionItem.due_date), col(ActionItem.id))
    ).all()
    owned: dict[int, list[core.OpenItem]] = {}
    for item in items:
        owned.setdefault(item.owner_id, []).append(
            core.OpenItem(item.title, item.due_date, item.meeting_week)
        )
    base_url = get_settings().huddle_base_url
    count = 0
    for listener in waiting:
        mine = owned.get(listener.user_id)
        if mine:
            message = core.action_items_message(day, mine, base_url=base_url)
            count += tell(
                session, listener, kind=AlertKind.action_items, event_key=event_key, message=message, now=now
            )
    return count


# ---------------------------------------------------------------- everything due by the clock


def enqueue_due(session: Session, now: datetime) -> int:
    """Enqueue every time-based alert due at `now`, inside the caller's transaction; how many messages
    joined the outbox. Idempotent: running it again at the same `now` (or on a second server) adds none.
    The first call switches alerts on: nothing from before that moment is ever told."""
    since = start_alerts(session, now)
    count = follow_up_reminders(session, now, since)
    count += new_mqls(session, None, now)  # the safety net: MQLs made by the demo seed, a re-score...
    count += team_breaches(session, now, since)
    count += digests(session, now)
    count += acceptance_low(session, now, since)
    count += weekly_report(session, now, since)
    count += action_items(session, now)
    return count


# ---------------------------------------------------------------- choosing one's alerts


class AlertsRefused(ValueError):
    """The choice cannot be made as asked; the message is fit to show the person who asked."""


@dataclass(frozen=True)
class AlertChoice:
    """One row of *My account*'s alerts (or of a role's defaults): a kind on a channel, on or off, how
    often, where the choice comes from, and whether this server can send on the channel at all."""

    kind: AlertKind
    channel: Channel
    enabled: bool
    cadence: Cadence
    source: str
    cadences: tuple[Cadence, ...]
    set_up: bool


def _rows(chosen: dict[tuple[str, str], core.Choice], channels: frozenset[Channel]) -> list[AlertChoice]:
    return [
        AlertChoice(
            AlertKind(kind),
            Channel(channel),
            choice.enabled,
            Cadence(choice.cadence),
            choice.source,
            tuple(Cadence(c) for c in core.cadences_for(kind)),
            Channel(channel) in channels,
        )
        for (kind, channel), choice in chosen.items()
    ]


def my_alert_choices(*, session: Session, actor: Actor) -> list[AlertChoice]:
    """The signed-in person's alerts, every kind of their role on every channel; none for the command line."""
    authorize(session=session, actor=actor, action=Action.alerts_own)
    user = person(actor)
    if user is None:
        return []
    own = _own_rows(session, [int(user.id or 0)]).get(int(user.id or 0), {})
    defaults = _admin_defaults(session).get(str(user.role), {})
    return _rows(core.choices_for(user.role, defaults, own), configured_channels())


def _checked(role: str, kind: AlertKind, channel: Channel, cadence: Cadence) -> None:
    if kind not in core.kinds_for(role):
        raise AlertsRefused(f"{core.KIND_LABELS.get(kind, kind)}: that alert is not one for a {role}.")
    if cadence not in core.cadences_for(kind):
        raise AlertsRefused(f"{core.KIND_LABELS.get(kind, kind)} comes only as it happens, not as a digest.")
    if channel not in core.CHANNELS:
        raise AlertsRefused(f"There is no channel {channel!r}.")


def set_my_alert(
    *, session: Session, actor: Actor, kind: AlertKind, channel: Channel, enabled: bool, cadence: Cadence
) -> AlertChoice:
    """Turn one of one's own alerts on or off, at once or as a digest; audited as alerts.change."""
    authorize(session=session, actor=actor, action=Action.alerts_own, object_id=f"{kind}/{channel}")
    user = person(actor)
    if user is None:
        raise AlertsRefused("The command line has no alerts of its own: sign in as the person.")
    _checked(user.role, kind, channel, cadence)
    row = session.exec(
        select(AlertPreference).where(
            AlertPreference.user_id == user.id,
            AlertPreference.kind == kind,
            AlertPreference.channel == channel,
        )
    ).first() or AlertPreference(user_id=int(user.id or 0), kind=kind, channel=channel)
    row.enabled, row.cadence, row.updated_at = bool(enabled), cadence, utcnow()
    session.add(row)
    audit.record(
        session=session,
        action="alerts.change",
        actor=user,
        object_type="alert_preference",
        object_id=f"{kind}/{channel}",
        detail=f"kind={kind} channel={channel} enabled={bool(enabled)} cadence={cadence}",
    )
    session.flush()
    (changed,) = [
        c for c in my_alert_choices(session=session, actor=user) if (c.kind, c.channel) == (kind, channel)
    ]
    return changed


def alert_defaults(*, session: Session, actor: Actor) -> dict[Role, list[AlertChoice]]:
    """Every role's defaults (an admin's where set, else the built-in ones): what a person gets until they
    choose for themselves."""
    authorize(session=session, actor=actor, action=Action.alerts_defaults)
    defaults = _admin_defaults(session)
    channels = configured_channels()
    return {role: _rows(core.defaults_for(role, defaults.get(str(role), {})), channels) for role in Role}


def set_alert_default(
    *, session: Session, actor: Actor, role: Role, kind: AlertKind, channel: Channel, enabled: bool,
    cadence: Cadence,
) -> AlertChoice:  # fmt: skip
    """Set a role's default for one kind and channel (everyone of the role who has not chosen gets it);
    audited as alerts.default."""
    authorize(
        session=session, actor=actor, action=Action.alerts_defaults, object_id=f"{role}/{kind}/{channel}"
    )
    _checked(role, kind, channel, cadence)
    row = session.exec(
        select(AlertDefault).where(
            AlertDefault.role == role, AlertDefault.kind == kind, AlertDefault.channel == channel
        )
    ).first() or AlertDefault(role=role, kind=kind, channel=channel)
    who = person(actor)
    row.enabled, row.cadence, row.updated_at = bool(enabled), cadence, utcnow()
    row.set_by_id = who.id if who else None
    session.add(row)
    audit.record(
        session=session,
        action="alerts.default",
        actor=who,
        actor_username=actor.username,
        object_type="alert_default",
        object_id=f"{role}/{kind}/{channel}",
        detail=f"role={role} kind={kind} channel={channel} enabled={bool(enabled)} cadence={cadence}",
    )
    session.flush()
    (changed,) = [
        c
        for c in alert_defaults(session=session, actor=actor)[role]
        if (c.kind, c.channel) == (kind, channel)
    ]
    return changed
