"""Benchmark: rating-submit latency while 50 reps submit 20 ratings each at once and a page reads
(issue target: p99 under 100 ms on SQLite).

Run: `.venv/bin/python tests/bench/bench_ratings.py [--reps 50] [--each 20] [--runs 3] [--postgres]`.
Each run uses a fresh database (a temporary SQLite file, or a throwaway PostgreSQL database on
127.0.0.1:5432), times every submit (its own write transaction, as the page makes it) and prints the p50
and p99 over all submits of the run, and the median of those over the runs. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import select

from db.engine import make_engine, read_session, write_session
from db.frames import load_leads
from db.migrate import upgrade_to_head
from db.models import DataSource, Lead, Role, Team, User
from db.ratings import RatingIn, rate_lead

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def _company(engine: Engine, reps: int, each: int) -> tuple[dict[int, User], dict[int, int]]:
    with write_session(engine) as session:
        team = Team(name="East")
        session.add_all([team, DataSource(name="crm", label="CRM", stages=["created", "mql"])])
        session.flush()
        people = [
            User(username=f"rep{i}", name=f"Rep {i}", role=Role.rep, team_id=team.id) for i in range(reps)
        ]
        session.add_all(people)
        session.flush()
        session.add_all(
            Lead(source_system="crm", external_id=f"{p.id}-{n}", created_at=NOW, mql_at=NOW, owner_id=p.id,
                 team_id=team.id)
            for p in people for n in range(each)
        )  # fmt: skip
    with read_session(engine) as session:
        users = {int(u.id or 0): u for u in session.exec(select(User)).all()}
        owners = {int(lead.id or 0): int(lead.owner_id or 0) for lead in session.exec(select(Lead)).all()}
    return users, owners


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def one_run(engine: Engine, reps: int, each: int, pace: float = 0.0) -> tuple[float, float]:
    upgrade_to_head(engine)
    users, owners = _company(engine, reps, each)
    latencies: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()

    def rate_all(rep: int) -> None:
        jitter = random.Random(rep)
        for lead, owner in owners.items():
            if owner != rep:
                continue
            if pace:
                time.sleep(jitter.uniform(0, 2 * pace))  # a person reads the lead before rating it
            started = time.perf_counter()
            with write_session(engine) as session:
                rate_lead(session=session, actor=users[rep], rating=RatingIn(lead, 1 + lead % 5), now=NOW)
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)

    def read_like_a_page() -> None:
        while not stop.is_set():
            load_leads(engine)

    reader = threading.Thread(target=read_like_a_page)
    reader.start()
    try:
        with ThreadPoolExecutor(max_workers=reps) as pool:
            for done in [pool.submit(rate_all, rep) for rep in users]:
                done.result()
    finally:
        stop.set()
        reader.join()
    return _percentile(latencies, 0.5), _percentile(latencies, 0.99)


def _postgres_engine() -> tuple[Engine, str]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_engine(POSTGRES + name), name


def _drop_postgres(name: str) -> None:
    admin = create_engine(POSTGRES + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--each", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432 instead of SQLite"
    )
    parser.add_argument(
        "--pace", type=float, default=0.0, help="seconds a rep takes per lead, on average (0: back to back)"
    )
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        if args.postgres:
            engine, name = _postgres_engine()
            try:
                results.append(one_run(engine, args.reps, args.each, args.pace))
            finally:
                engine.dispose()
                _drop_postgres(name)
        else:
            with tempfile.TemporaryDirectory() as folder:
                engine = make_engine(f"sqlite:///{Path(folder) / f'ratings-{run}.db'}")
                results.append(one_run(engine, args.reps, args.each, args.pace))
                engine.dispose()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    p50s, p99s = [r[0] for r in results], [r[1] for r in results]
    how = f"one every {args.pace:g} s on average each" if args.pace else "back to back, all at once"
    print(f"{args.reps} reps x {args.each} ratings ({how}) on {backend}, a page reading throughout:")
    print(f"  p50 {statistics.median(p50s):.1f} ms ({' / '.join(f'{v:.1f}' for v in p50s)}), "
          f"p99 {statistics.median(p99s):.1f} ms ({' / '.join(f'{v:.1f}' for v in p99s)}); target p99 < 100 ms")  # fmt: skip


if __name__ == "__main__":
    main()
