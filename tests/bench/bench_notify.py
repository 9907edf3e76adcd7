"""Benchmark: delivering alerts by email (issue 13). Not collected by pytest; no assertion on time.

Run: `.venv/bin/python tests/bench/bench_notify.py [--messages 10000] [--runs 3] [--events 10000]
[--spread 600] [--interval 60] [--url DATABASE_URL]`.

A real SMTP server (aiosmtpd) listens on 127.0.0.1 in this process; the sender is a real
`python -m db notify` process against a fresh database (a temporary SQLite file, or `--url`: an empty,
migrated database whose outbox this benchmark fills).

1. Throughput: `--messages` messages are due at once; `notify --once` delivers them all. Reported per run
   and as the median: the process's wall time (start-up included) and messages per second.
2. Event to delivery: `notify --serve --interval 60` (production's minute) runs while `--events` new
   messages join the outbox at a steady pace over `--spread` seconds, each at the moment of its event, as
   an import's or a reminder's transaction would add it. For every message: the time from joining the
   outbox to the mail server accepting it, at p50, p90, p99 and the maximum. The aim: a new MQL reaches its
   rep within 90 s (a minute's wait for the next run at worst, plus the sending).

The machine is shared: run it when it is quiet, or with fewer messages, and say which.

Measured 2026-12-07 on the shared 2-core machine, two other engineers' tests running (load 1.5 to 3.8):
SQLite, `make bench-notify` (10,000 messages, 3 runs; 10,000 events over 600 s): 56.6 s median
(63.9, 56.6, 39.4 s) = 177 messages/s, the process start-up included; event to delivery p50 28.1 s,
p90 49.4 s, p99 55.7 s, max 58.7 s. PostgreSQL 15 (one run; 2,000 events over 120 s): 60.5 s =
165 messages/s; p50 30.1 s, p90 51.1 s, p99 58.0 s, max 58.9 s. The wait is the minute between runs;
the sending itself takes milliseconds a message (each marked sent in its own transaction).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402
from sqlalchemy import delete  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from db.engine import make_engine, write_session  # noqa: E402
from db.migrate import upgrade_to_head  # noqa: E402
from db.models import AlertKind, Channel, OutboxMessage, Role, User  # noqa: E402
from db.outbox import Message, enqueue  # noqa: E402

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
MESSAGE = Message(
    subject="New MQL: Ada Lovelace (Acme, web)",
    text="Ada Lovelace, Acme\nWhy an MQL: pricing page, 3 downloads\nRate: http://localhost:8501/rate?lead=1\n",
    html="<p>Ada Lovelace, Acme</p><p><a href='http://localhost:8501/rate?lead=1'>Rate</a></p>",
)


class Arrivals:
    """The SMTP handler: when each outbox row's mail was accepted (by its Message-ID)."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        marker = raw.find(b"<huddle-outbox-")
        outbox_id = int(raw[marker + 15 : raw.find(b"@", marker)]) if marker >= 0 else -1
        with self.lock:
            self.at.setdefault(outbox_id, time.time())
            self.count += 1
        return "250 OK"


def _fresh_database(url: str | None, folder: Path, run: int) -> tuple[str, Engine]:
    url = url or f"sqlite:///{folder / f'notify-{run}.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with write_session(engine) as session:
        session.execute(delete(OutboxMessage))
        if session.exec(select(User).where(User.username == "bench-rep")).first() is None:
            session.add(User(username="bench-rep", name="Bench Rep", email="rep@example.com", role=Role.rep))
    return url, engine


def _rep_id(engine: Engine) -> int:
    with write_session(engine) as session:
        return int(session.exec(select(User.id).where(User.username == "bench-rep")).one() or 0)


def _add(engine: Engine, rep: int, first: int, count: int, due_at: datetime | None) -> dict[int, float]:
    """`count` messages, one per event; returns when each joined the outbox (epoch seconds)."""
    joined = time.time()
    with write_session(engine) as session:
        for n in range(first, first + count):
            enqueue(session, event_key=f"bench:{n}", kind=AlertKind.new_mql, user_id=rep, channel=Channel.email,
                    message=MESSAGE, recipient="rep@example.com", due_at=due_at)  # fmt: skip
        keys = [f"bench:{n}" for n in range(first, first + count)]
        ids = session.exec(select(OutboxMessage.id).where(col(OutboxMessage.event_key).in_(keys))).all()
    return {int(i or 0): joined for i in ids}


def _environment(url: str, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, HUDDLE_DEMO="0", HUDDLE_SMTP_HOST="127.0.0.1", HUDDLE_SMTP_PORT=str(port),
               HUDDLE_SMTP_SECURITY="none", HUDDLE_MAIL_FROM="huddle@example.com", HUDDLE_LOG_LEVEL="WARNING")  # fmt: skip
    env.pop("HUDDLE_CHAT_WEBHOOK_URL", None)
    env.pop("HUDDLE_TODAY", None)
    return env


def _notify(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "db", "notify", *args], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def throughput(args: argparse.Namespace, port: int, arrivals: Arrivals, folder: Path) -> None:
    seconds: list[float] = []
    for run in range(args.runs):
        url, engine = _fresh_database(args.url, folder, run)
        _add(engine, _rep_id(engine), 0, args.messages, LONG_AGO)
        before = arrivals.count
        started = time.perf_counter()
        sender = _notify(_environment(url, port), "--once")
        _, err = sender.communicate()
        took = time.perf_counter() - started
        if sender.returncode != 0:
            raise SystemExit(err.decode())
        arrived = arrivals.count - before
        seconds.append(took)
        print(
            f"  run {run + 1}/{args.runs}: {arrived:,} mails in {took:.1f} s ({arrived / took:,.0f}/s)",
            flush=True,
        )
        engine.dispose()
    median = statistics.median(seconds)
    print(f"throughput: {args.messages:,} messages, median {median:.1f} s = {args.messages / median:,.0f} "
          f"messages/s (runs: {', '.join(f'{s:.1f}' for s in seconds)} s)")  # fmt: skip


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def event_to_delivery(args: argparse.Namespace, port: int, arrivals: Arrivals, folder: Path) -> None:
    url, engine = _fresh_database(args.url, folder, args.runs)
    rep = _rep_id(engine)
    with arrivals.lock:
        arrivals.at.clear()  # the throughput runs' databases numbered their rows from 1 too
    sender = _notify(_environment(url, port), "--serve", "--interval", str(args.interval))
    joined: dict[int, float] = {}
    try:
        per_second = max(1, round(args.events / args.spread))
        started, made = time.monotonic(), 0
        while made < args.events:
            count = min(per_second, args.events - made)
            joined |= _add(engine, rep, 10_000_000 + made, count, None)
            made += count
            time.sleep(max(0.0, started + made / per_second - time.monotonic()))
        deadline = time.monotonic() + args.interval * 3 + 120
        while time.monotonic() < deadline and not all(i in arrivals.at for i in joined):
            time.sleep(0.5)
    finally:
        sender.terminate()
        sender.wait(timeout=60)
        engine.dispose()
    waits = [arrivals.at[i] - at for i, at in joined.items() if i in arrivals.at]
    missing = len(joined) - len(waits)
    print(f"event to delivery with --serve --interval {args.interval:g}: {len(waits):,} of {len(joined):,} "
          f"delivered{f' ({missing} not within the wait)' if missing else ''}")  # fmt: skip
    if waits:
        print(f"  p50 {_percentile(waits, 0.5):.1f} s, p90 {_percentile(waits, 0.9):.1f} s, "
              f"p99 {_percentile(waits, 0.99):.1f} s, max {max(waits):.1f} s (aim: within 90 s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000, help="messages due at once, for throughput")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs (the median is reported)")
    parser.add_argument("--events", type=int, default=10_000, help="events during the --serve part")
    parser.add_argument("--spread", type=float, default=600.0, help="seconds the events are spread over")
    parser.add_argument("--interval", type=float, default=60.0, help="the sender's interval (production: 60)")
    parser.add_argument("--url", help="an empty, migrated database to use instead of a temporary SQLite file")
    parser.add_argument("--skip-serve", action="store_true", help="measure throughput only")
    args = parser.parse_args()
    arrivals = Arrivals()
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        controller = Controller(arrivals, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            print(
                f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; mail server on port {port}"
            )
            throughput(args, port, arrivals, Path(folder))
            if not args.skip_serve:
                event_to_delivery(args, port, arrivals, Path(folder))
        finally:
            controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
