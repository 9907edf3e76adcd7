"""`python -m db notify`: find the alerts that are due, then deliver the outbox (issue 13).

One run: in one write transaction, `db.alerts.enqueue_due` adds every message the clock has made due;
then db/delivery.py sends what is due on every channel whose settings are complete. A channel without
its settings is left alone: its messages wait, and the run says which setting is missing. `serve` runs
that every interval (a minute) until stopped; `dry_run` shows what a run would send and changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import clock as huddle_clock
from db.delivery import (
    BATCH_SIZE,
    LEASE,
    DeliveryRun,
    OutboxView,
    deliver_due,
    due_now,
    new_sender_id,
    waiting_by_channel,
)
from db.engine import WRITE_OPTION, read_session, write_session
from db.models import Channel
from db.settings import Settings
from db.transports import missing_settings, settings_problem, transports_for

logger = logging.getLogger(__name__)

SERVE_INTERVAL_SECONDS = 60.0


def enqueue_alerts(session: Session, now: datetime) -> int:
    """The alerts' own step (db/alerts.py): every time-based alert due at `now` joins the outbox."""
    from db.alerts import enqueue_due

    return enqueue_due(session, now)


def channel_problems(settings: Settings) -> dict[Channel, str]:
    """Why a channel cannot send, per channel that cannot, in the settings' own names."""
    problems: dict[Channel, str] = {}
    for channel in Channel:
        missing = missing_settings(settings, channel)
        if missing:
            problems[channel] = f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
    wrong = settings_problem(settings)
    if wrong is not None and Channel.email not in problems:
        problems[Channel.email] = wrong
    return problems


@dataclass
class NotifyRun:
    enqueued: int
    delivery: DeliveryRun
    waiting: dict[Channel, str] = field(default_factory=dict)  # a channel's waiting messages and why

    def describe(self) -> str:
        lines = [f"{self.enqueued} new messages; {self.delivery.describe()}"]
        lines += [f"{channel.value}: {why}" for channel, why in self.waiting.items()]
        return "\n".join(lines)


def _waiting(engine: Engine, problems: dict[Channel, str]) -> dict[Channel, str]:
    if not problems:
        return {}
    with read_session(engine) as session:
        counts = waiting_by_channel(session)
    return {
        channel: f"{counts.get(channel, 0)} messages wait: {problem}" for channel, problem in problems.items()
    }


def run_once(
    engine: Engine,
    settings: Settings,
    *,
    sender: str | None = None,
    clock: Callable[[], datetime] = huddle_clock.now,
    lease: timedelta = LEASE,
    batch_size: int = BATCH_SIZE,
    stop: threading.Event | None = None,
) -> NotifyRun:
    """Enqueue what is due, then deliver what is due on the channels that can send."""
    with write_session(engine) as session:
        enqueued = enqueue_alerts(session, clock())
    delivery = deliver_due(
        engine,
        transports_for(settings),
        sender=sender,
        clock=clock,
        lease=lease,
        batch_size=batch_size,
        stop=stop,
    )
    run = NotifyRun(enqueued, delivery, _waiting(engine, channel_problems(settings)))
    if enqueued or delivery.claimed:
        logger.info("notify: %s", run.describe().replace("\n", "; "))
    return run


def serve(
    engine: Engine,
    settings: Settings,
    *,
    interval: float = SERVE_INTERVAL_SECONDS,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = huddle_clock.now,
    lease: timedelta = LEASE,
    batch_size: int = BATCH_SIZE,
) -> None:
    """Run every `interval` seconds until `stop` is set. A run that fails (the database away for a
    moment) is logged by its kind alone (its text may hold a message's values) and the next one tried."""
    stop = stop or threading.Event()
    sender = new_sender_id()
    for channel, problem in channel_problems(settings).items():
        logger.warning("notify: %s messages wait: %s", channel.value, problem)
    logger.info("notify: delivering every %g s as %s", interval, sender)
    while not stop.is_set():
        started = time.monotonic()
        try:
            run_once(
                engine, settings, sender=sender, clock=clock, lease=lease, batch_size=batch_size, stop=stop
            )
        except Exception as error:
            logger.error("notify: this run failed (%s); trying again in %g s", type(error).__name__, interval)
        stop.wait(max(0.0, interval - (time.monotonic() - started)))


def dry_run(
    engine: Engine, *, clock: Callable[[], datetime] = huddle_clock.now, limit: int = 1000
) -> tuple[int, list[OutboxView]]:
    """What a run would send now: the alerts it would enqueue and what is due, all in one transaction
    that is rolled back, so nothing changes and nothing is sent. Returns (new messages, due messages)."""
    with Session(engine.execution_options(**{WRITE_OPTION: True})) as session:
        try:
            now = clock()
            enqueued = enqueue_alerts(session, now)
            session.flush()
            return enqueued, due_now(session, now=now, limit=limit)
        finally:
            session.rollback()
