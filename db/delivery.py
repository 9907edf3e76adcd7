"""Delivering the outbox (issue 13): claim what is due, send it outside any transaction, mark it sent.

How a message is sent once:

- **Claiming.** A sender takes a batch of due rows (queued and due, or `sending` under a claim that ran
  out: a killed sender's) in one short transaction and marks them `sending`, `claimed_by` itself, until
  `claimed_until` (now + the lease). On PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so
  two senders at once take different rows; on SQLite the engine's BEGIN IMMEDIATE lets one claim at a time.
- **Sending.** Each message is sent with no transaction open, then marked sent at once in a transaction of
  its own, and only where this sender still holds its claim. A batch stops sending well before its lease
  ends (leaving the longest a transport waits on one message) and hands back what it did not send, so no
  other sender has claimed a message it sends; only a process frozen past its lease could (mark_sent then
  finds the claim gone, and the run logs and counts it).
- **Failing.** A failed send is queued again after a back-off that doubles from a minute up to a cap; the
  sixth failure (or one that no retry can mend, like an address the server refuses for good) makes the
  row `failed`, with the reason, for the Delivery page, where an admin may retry it. A claim that ran out
  (its sender stopped) counts as an attempt too.
- **The one gap.** A sender killed after its mail server accepted a message and before it marked it sent
  leaves that message `sending`; after the lease another sender sends it again. SMTP has no way to close
  that window (at-least-once, for that one message per killed sender); it is kept to one message by
  marking each sent as soon as it went, and the re-send carries the same Message-ID (db/transports.py),
  which lets a mail server or client drop it. A chat webhook that acts on a message but answers after the
  timeout gets it again on the retry, for the same reason.

At claim time the person is looked at again: a disabled account or an email without an address makes the
row `failed` ("disabled", "no address"), never sent and never retried; so does a choice switched off
since the message was enqueued ("opted out", db.alerts.listeners). Times are db.clock's, the clock the
alerts are enqueued by (the real one, or a pinned day's under pytest and the demo): passed in.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db import audit
from db import clock as huddle_clock
from db.access import Action, Actor, authorize, person
from db.engine import write_session
from db.models import AlertKind, Channel, OutboxMessage, OutboxStatus, User
from db.transports import Outgoing, SendFailed, Transport

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(minutes=30)
LEASE = timedelta(minutes=5)
BATCH_SIZE = 50
# A batch stops sending this long before its lease ends: the longest a transport may wait on one message.
SEND_MARGIN = timedelta(seconds=30)
DISABLED = "disabled"
NO_ADDRESS = "no address"
OPTED_OUT = "opted out"
SENDER_STOPPED = "the sender stopped while it held this message"
MAX_ERROR = 1000


def new_sender_id() -> str:
    """Who a claim belongs to: this host and process, and a random part for two senders in one process."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(failed_attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: 1, 2, 4, 8, 16 minutes, never over the cap."""
    return min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, failed_attempts - 1))


# ---------------------------------------------------------------- claiming


def _due(now: datetime) -> ColumnElement[bool]:
    queued_and_due = and_(
        col(OutboxMessage.status) == OutboxStatus.queued, col(OutboxMessage.next_attempt_at) <= now
    )
    claim_ran_out = and_(
        col(OutboxMessage.status) == OutboxStatus.sending, col(OutboxMessage.claimed_until) < now
    )
    return or_(queued_and_due, claim_ran_out)


def _undeliverable_reason(
    row: OutboxMessage, user: User | None, wanted: set[tuple[int, Channel, AlertKind]]
) -> str | None:
    if user is None or not user.active:
        return DISABLED
    if row.channel is Channel.email and not (user.email or "").strip():
        return NO_ADDRESS
    if (row.user_id, row.channel, row.kind) not in wanted:
        return OPTED_OUT
    if row.attempts >= MAX_ATTEMPTS:
        return f"{row.last_error or 'failed'} ({row.attempts} attempts)"
    return None


def _still_wanted(session: Session, rows: Sequence[OutboxMessage]) -> set[tuple[int, Channel, AlertKind]]:
    """Who still hears each claimed row's kind on its channel, by their choices as they are now."""
    from db.alerts import listeners

    people: dict[AlertKind, set[int]] = {}
    for row in rows:
        people.setdefault(row.kind, set()).add(row.user_id)
    return {
        (listener.user_id, listener.channel, kind)
        for kind, user_ids in people.items()
        for listener in listeners(session, kind, user_ids)
    }


@dataclass(frozen=True)
class Claimed:
    """One claimed batch: the messages to send, and how many rows were given up instead (disabled, no
    address, opted out)."""

    messages: list[Outgoing]
    given_up: int = 0

    @property
    def picked(self) -> int:
        return len(self.messages) + self.given_up


def claim_due(
    session: Session,
    *,
    sender: str,
    now: datetime,
    channels: Collection[Channel],
    limit: int = BATCH_SIZE,
    lease: timedelta = LEASE,
) -> Claimed:
    """Claim up to `limit` due messages of `channels` for `sender` in the caller's (short) transaction;
    rows for a disabled person, one without an address or one who switched the alert off are marked
    failed instead of being handed out.

    An email goes to the person's address as it is now, so a changed address is honoured."""
    if not channels:
        return Claimed([])
    picking = (
        select(OutboxMessage.id)
        .where(_due(now), col(OutboxMessage.channel).in_(list(channels)))
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        picking = picking.with_for_update(skip_locked=True)
    ids = [int(i) for i in session.exec(picking).all() if i is not None]
    if not ids:
        return Claimed([])
    # A claim that ran out counts as an attempt: a message that stops every sender that tries it (one too
    # big for the process, say) is given up after the last one instead of stopping senders forever.
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == OutboxStatus.sending)
        .values(attempts=col(OutboxMessage.attempts) + 1, last_error=SENDER_STOPPED)
    )
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .values(status=OutboxStatus.sending, claimed_by=sender, claimed_until=now + lease)
    )
    rows = session.exec(
        select(OutboxMessage, User)
        .join(User, col(User.id) == col(OutboxMessage.user_id), isouter=True)
        .where(col(OutboxMessage.id).in_(ids))
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
    ).all()
    wanted = _still_wanted(session, [row for row, _ in rows])
    claimed: list[Outgoing] = []
    for row, user in rows:
        reason = _undeliverable_reason(row, user, wanted)
        if reason is not None:
            _give_up(session, row, reason)
            continue
        recipient = (user.email or "").strip() if row.channel is Channel.email and user else None
        claimed.append(
            Outgoing(int(row.id or 0), row.channel, recipient, row.subject, row.text, row.html, row.chat)
        )
    return Claimed(claimed, len(rows) - len(claimed))


def _give_up(session: Session, row: OutboxMessage, reason: str) -> None:
    row.status, row.last_error = OutboxStatus.failed, reason
    row.claimed_by, row.claimed_until = None, None
    session.add(row)
    logger.info("outbox %s (%s, %s) not sent: %s", row.id, row.channel.value, row.kind.value, reason)


# ---------------------------------------------------------------- after sending


def _held_by(message_id: int, sender: str) -> ColumnElement[bool]:
    return and_(
        col(OutboxMessage.id) == message_id,
        col(OutboxMessage.status) == OutboxStatus.sending,
        col(OutboxMessage.claimed_by) == sender,
    )


def mark_sent(session: Session, *, message_id: int, sender: str, now: datetime) -> bool:
    """Mark one message sent where `sender` still holds its claim; False when it no longer did."""
    done = session.execute(
        update(OutboxMessage)
        .where(_held_by(message_id, sender))
        .values(status=OutboxStatus.sent, sent_at=now, claimed_by=None, claimed_until=None, last_error=None)
        .returning(col(OutboxMessage.id))
    ).first()
    return done is not None


def mark_failed_attempt(
    session: Session, *, message_id: int, sender: str, now: datetime, failure: SendFailed
) -> OutboxStatus | None:
    """Count one failed attempt: queued again after the back-off, or failed for good after the last one
    (or at once, when no retry can help). None when `sender` no longer held the claim."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.status is not OutboxStatus.sending or row.claimed_by != sender:
        return None
    row.attempts += 1
    row.last_error = str(failure)[:MAX_ERROR]
    row.claimed_by, row.claimed_until = None, None
    if failure.permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = OutboxStatus.failed
    else:
        row.status, row.next_attempt_at = OutboxStatus.queued, now + backoff(row.attempts)
    session.add(row)
    return row.status


def release(session: Session, *, message_ids: Sequence[int], sender: str) -> int:
    """Hand back claimed messages this sender will not send now (its lease is nearly over), as they were."""
    if not message_ids:
        return 0
    released = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(list(message_ids)),
            col(OutboxMessage.status) == OutboxStatus.sending,
            col(OutboxMessage.claimed_by) == sender,
        )
        .values(status=OutboxStatus.queued, claimed_by=None, claimed_until=None)
        .returning(col(OutboxMessage.id))
    ).all()
    return len(released)


# ---------------------------------------------------------------- one run of a sender


@dataclass
class DeliveryRun:
    """What one run of a sender did."""

    claimed: int = 0  # rows picked, to send or to give up
    not_for_anyone: int = 0  # given up when claimed: disabled, no address, opted out
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    lost_claims: int = 0  # sent, but another sender had taken the claim by then (a lease set too short)
    batches: int = 0
    failures: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"
            + (f", {self.not_for_anyone} for nobody who may get them" if self.not_for_anyone else "")
            + (f", {self.released} handed back" if self.released else "")
            + (f", {self.lost_claims} sent after their claim ran out" if self.lost_claims else "")
        )


def _send_one(
    engine: Engine, transport: Transport, message: Outgoing, *, sender: str, clock: Callable[[], datetime],
    run: DeliveryRun,
) -> None:  # fmt: skip
    try:
        transport.send(message)
    except SendFailed as failure:
        with write_session(engine) as session:
            status = mark_failed_attempt(
                session, message_id=message.id, sender=sender, now=clock(), failure=failure
            )
        if status is OutboxStatus.failed:
            run.failed += 1
        elif status is OutboxStatus.queued:
            run.retrying += 1
        run.failures.append(str(failure))
        logger.warning(
            "outbox %s (%s) not sent: %s (%s)",
            message.id,
            message.channel.value,
            failure,
            "given up" if status is OutboxStatus.failed else "will retry",
        )
        return
    with write_session(engine) as session:
        held = mark_sent(session, message_id=message.id, sender=sender, now=clock())
    run.sent += 1
    if not held:
        run.lost_claims += 1
        logger.warning("outbox %s was sent after its claim ran out (the lease is too short)", message.id)


def deliver_batch(
    engine: Engine,
    transports: Mapping[Channel, Transport],
    *,
    sender: str,
    clock: Callable[[], datetime] = huddle_clock.now,
    batch_size: int = BATCH_SIZE,
    lease: timedelta = LEASE,
    run: DeliveryRun | None = None,
) -> DeliveryRun:
    """Claim one batch and send it; returns the run with this batch counted in."""
    run = run if run is not None else DeliveryRun()
    with write_session(engine) as session:
        claimed = claim_due(
            session, sender=sender, now=clock(), channels=list(transports), limit=batch_size, lease=lease
        )
    claimed_at = time.monotonic()
    stop_after = (lease - min(SEND_MARGIN, lease / 2)).total_seconds()
    sent_before, failed_before = run.sent, run.retrying + run.failed
    batch = claimed.messages
    run.claimed += claimed.picked
    run.not_for_anyone += claimed.given_up
    run.batches += 1 if claimed.picked else 0
    for position, message in enumerate(batch):
        if time.monotonic() - claimed_at > stop_after:
            with write_session(engine) as session:
                run.released += release(session, message_ids=[m.id for m in batch[position:]], sender=sender)
            break
        _send_one(engine, transports[message.channel], message, sender=sender, clock=clock, run=run)
    if batch:
        logger.info(
            "delivered a batch of %d: %d sent, %d not sent (sender %s)",
            len(batch),
            run.sent - sent_before,
            run.retrying + run.failed - failed_before,
            sender,
        )
    return run


def _handled(run: DeliveryRun) -> int:
    """The messages `run` has finished with so far: sent, to be retried, given up."""
    return run.sent + run.retrying + run.failed + run.not_for_anyone


def deliver_due(
    engine: Engine,
    transports: Mapping[Channel, Transport],
    *,
    sender: str | None = None,
    clock: Callable[[], datetime] = huddle_clock.now,
    batch_size: int = BATCH_SIZE,
    lease: timedelta = LEASE,
    stop: threading.Event | None = None,
) -> DeliveryRun:
    """Send everything due on the channels that have a transport, batch after batch, until nothing due
    is left (a message that failed waits for its back-off, so a run ends) or `stop` is set; what a batch
    hands back before its lease ends goes in the next batch. Transports are
    closed after."""
    sender = sender or new_sender_id()
    run = DeliveryRun()
    try:
        while stop is None or not stop.is_set():
            claimed_before, done_before = run.claimed, _handled(run)
            deliver_batch(
                engine, transports, sender=sender, clock=clock, batch_size=batch_size, lease=lease, run=run
            )
            # Handed-back messages are due again at once: the next batch takes them. A batch that handled
            # none (its claim alone outlasted the lease) ends the run rather than loop; the next run goes on.
            if run.claimed == claimed_before or _handled(run) == done_before:
                return run
        return run
    finally:
        for transport in transports.values():
            transport.close()


# ---------------------------------------------------------------- what admins see (the Delivery page)


@dataclass(frozen=True)
class OutboxView:
    id: int
    kind: AlertKind
    channel: Channel
    to: str  # the person's username, and the address for email
    subject: str
    status: OutboxStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class DeliveryOverview:
    counts: dict[tuple[OutboxStatus, Channel], int]
    queued: list[OutboxView]  # the next due first
    sent: list[OutboxView]  # the newest first
    failed: list[OutboxView]  # the newest first

    def count(self, status: OutboxStatus, channel: Channel | None = None) -> int:
        return sum(n for (s, c), n in self.counts.items() if s is status and channel in (None, c))


def _views(
    session: Session, *conditions: ColumnElement[bool], order: Sequence[ColumnElement[Any]], limit: int
) -> list[OutboxView]:
    rows = session.exec(
        select(OutboxMessage, User.username)
        .join(User, col(User.id) == col(OutboxMessage.user_id), isouter=True)
        .where(*conditions)
        .order_by(*order)
        .limit(limit)
    ).all()
    return [
        OutboxView(
            id=int(row.id or 0),
            kind=row.kind,
            channel=row.channel,
            to=f"{username or '?'} <{row.recipient}>" if row.recipient else (username or "?"),
            subject=row.subject,
            status=row.status,
            attempts=row.attempts,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
        )
        for row, username in rows
    ]


def _failed(session: Session, limit: int) -> list[OutboxView]:
    return _views(
        session,
        col(OutboxMessage.status) == OutboxStatus.failed,
        order=[col(OutboxMessage.id).desc()],
        limit=limit,
    )


def delivery_overview(*, session: Session, actor: Actor, limit: int = 100) -> DeliveryOverview:
    """How many messages wait, went and failed per channel, and the newest (next, for the queue) of each."""
    authorize(session=session, actor=actor, action=Action.delivery_read)
    counted = session.exec(
        select(OutboxMessage.status, OutboxMessage.channel, func.count()).group_by(
            col(OutboxMessage.status), col(OutboxMessage.channel)
        )
    ).all()
    waiting = col(OutboxMessage.status).in_([OutboxStatus.queued, OutboxStatus.sending])
    return DeliveryOverview(
        counts={(OutboxStatus(status), Channel(channel)): int(n) for status, channel, n in counted},
        queued=_views(
            session,
            waiting,
            order=[col(OutboxMessage.next_attempt_at).asc(), col(OutboxMessage.id).asc()],
            limit=limit,
        ),
        sent=_views(
            session,
            col(OutboxMessage.status) == OutboxStatus.sent,
            order=[col(OutboxMessage.sent_at).desc(), col(OutboxMessage.id).desc()],
            limit=limit,
        ),
        failed=_failed(session, limit),
    )


def failed_messages(*, session: Session, actor: Actor, limit: int = 500) -> list[OutboxView]:
    """The messages given up on, newest first, with the reason and the attempts made."""
    authorize(session=session, actor=actor, action=Action.delivery_read)
    return _failed(session, limit)


def retry(*, session: Session, actor: Actor, ids: Sequence[int], now: datetime) -> int:
    """Queue failed messages again, due now, with their attempts counted afresh; returns how many (ids
    that are not failed, e.g. sent meanwhile, are left alone). Audited with the ids."""
    authorize(session=session, actor=actor, action=Action.delivery_retry)
    wanted = sorted({int(i) for i in ids})
    retried: list[int] = []
    if wanted:
        retried = [
            int(i)
            for (i,) in session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(wanted), col(OutboxMessage.status) == OutboxStatus.failed)
                .values(
                    status=OutboxStatus.queued,
                    attempts=0,
                    next_attempt_at=now,
                    claimed_by=None,
                    claimed_until=None,
                )
                .returning(col(OutboxMessage.id))
            ).all()
        ]
    audit.record(
        session=session,
        action="delivery.retry",
        actor=person(actor),
        actor_username=getattr(actor, "username", None),
        object_type="outbox",
        object_id=",".join(map(str, sorted(retried)))[:120] or None,
        detail=f"{len(retried)} of {len(wanted)} messages queued again",
    )
    logger.info("%d failed messages queued again by %s", len(retried), getattr(actor, "username", "?"))
    return len(retried)


def due_now(session: Session, *, now: datetime, limit: int = 1000) -> list[OutboxView]:
    """What a sender would claim at `now` on any channel, the next due first (for `notify --dry-run`)."""
    return _views(
        session, _due(now), order=[col(OutboxMessage.next_attempt_at).asc(), col(OutboxMessage.id).asc()],
        limit=limit,
    )  # fmt: skip


def waiting_by_channel(session: Session) -> dict[Channel, int]:
    """How many messages are queued (or being sent) per channel, to say which wait for a setting."""
    rows = session.exec(
        select(OutboxMessage.channel, func.count())
        .where(col(OutboxMessage.status).in_([OutboxStatus.queued, OutboxStatus.sending]))
        .group_by(col(OutboxMessage.channel))
    ).all()
    return {Channel(channel): int(n) for channel, n in rows}
