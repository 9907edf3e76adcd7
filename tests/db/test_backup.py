"""Backup and restore (README, "Backup and restore"), on the demo company while 20 raters write ratings
through the real rating service.

SQLite: `python -m db backup` is the database at one moment: its rating history and audit log are exactly
the source's up to some row (writers on SQLite commit one after another, ids in commit order), holding every
rating committed before the backup began and none begun after it ended, each rating whole (its history row
and audit entry with it). `python -m db restore` into an empty database gives back that file: the same
tables row for row, the same `kpis --json`.
PostgreSQL: the README's own pg_dump and pg_restore lines, run as written, into a throwaway database: every
rating whole, every row as the source holds it, the same `kpis --json`.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine

import db.__main__ as cli
from db import clock
from db.access import OPERATOR
from db.demo import seed_demo
from db.engine import make_engine, read_session, write_session
from db.migrate import head_revision, schema_state, upgrade_to_head
from db.models import Lead, LeadRating, Role, User, UserCreate
from db.ratings import RatingIn, rate_lead
from db.settings import PROJECT_ROOT, get_settings
from db.users import create_user
from tests.conftest import create_postgres_database, drop_postgres_database

LEADS = 3_000
RATERS = 20
EXTRA_REPS = 5  # the demo company has 12 reps and 3 sales managers: 5 new reps make 20 raters
LEADS_EACH = 30  # at most this many leads per rater
RATERS_GIVE_UP_AFTER = 120  # seconds: the raters stop by themselves if the test does not stop them
WRITES_AROUND_THE_BACKUP = 40  # committed before the backup begins, and again after it ends
COMPARED = ("lead_ratings", "lead_rating_history", "audit_log")


# ---------------------------------------------------------------- the company and its raters


def _demo_company(engine: Engine) -> list[tuple[User, list[int]]]:
    """The demo company and 5 new reps, each given 40 leads nobody owned; every rater with the leads they
    may rate and have not rated yet."""
    upgrade_to_head(engine)
    seed_demo(engine, leads=LEADS, seed=7, today=clock.today())
    with read_session(engine) as session:
        raters = list(
            session.exec(select(User).where(User.role.in_([Role.rep, Role.sales_manager]))).scalars()
        )
        unowned = list(
            session.exec(select(Lead.id).where(Lead.owner_id.is_(None)).order_by(Lead.id)).scalars()
        )
    teams = sorted({user.team_id for user in raters if user.team_id is not None})
    for number in range(EXTRA_REPS):
        given, unowned = unowned[:40], unowned[40:]
        team_id = teams[number % len(teams)]
        with write_session(engine) as session:
            newcomer = create_user(
                session=session,
                actor=OPERATOR,
                user_in=UserCreate(
                    username=f"new.rep{number}", name=f"New Rep {number}", role=Role.rep, team_id=team_id
                ),
            )
            session.execute(
                text(
                    f"UPDATE leads SET owner_id = :rep, team_id = :team WHERE id IN ({', '.join(map(str, given))})"
                ),
                {"rep": newcomer.id, "team": team_id},
            )
            session.flush()
            session.refresh(newcomer)
            session.expunge(newcomer)
        raters.append(newcomer)
    with read_session(engine) as session:
        rated = {(r.lead_id, r.rater_id) for r in session.exec(select(LeadRating)).scalars()}
        leads = list(session.exec(select(Lead.id, Lead.owner_id, Lead.team_id).order_by(Lead.id)).all())

    def unrated(user: User) -> list[int]:
        if user.role == Role.rep:
            mine = [lead_id for lead_id, owner, _ in leads if owner == user.id]
        else:
            mine = [lead_id for lead_id, _, team in leads if team == user.team_id]
        return [lead_id for lead_id in mine if (lead_id, user.id) not in rated][:LEADS_EACH]

    company = [(user, unrated(user)) for user in raters]
    assert len(company) == RATERS
    assert all(todo for _, todo in company), [len(todo) for _, todo in company]
    return company


class Writes:
    """How many ratings the raters have committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.stop = threading.Event()
        self.raters: list[Future[None]] = []

    def one_more(self) -> None:
        with self._lock:
            self.count += 1

    def wait_for(self, at_least: int) -> None:
        deadline = time.monotonic() + RATERS_GIVE_UP_AFTER
        while self.count < at_least:
            assert not any(f.done() for f in self.raters), "a rater stopped before the test was done"
            assert time.monotonic() < deadline, f"only {self.count} ratings in two minutes"
            time.sleep(0.005)


def _rater(engine: Engine, writes: Writes, user: User, todo: list[int]) -> None:
    """Rate each lead, then go round again changing those fresh ratings (each change a history row and an
    audit entry of its own), until the test stops the raters (or gives up)."""
    stars = dict.fromkeys(todo, random.Random(user.id).randint(1, 5))
    deadline = time.monotonic() + RATERS_GIVE_UP_AFTER
    for lead_id in itertools.cycle(todo):
        if writes.stop.is_set() or time.monotonic() > deadline:
            return
        with write_session(engine) as session:
            rating = RatingIn(lead_id, stars[lead_id], note=f"by {user.username}")
            rate_lead(session=session, actor=user, rating=rating)
        writes.one_more()
        stars[lead_id] = stars[lead_id] % 5 + 1  # the next round changes it


@contextmanager
def raters_writing(engine: Engine, company: list[tuple[User, list[int]]]) -> Iterator[Writes]:
    """20 threads rating through db.ratings while the block runs; they stop when it ends."""
    writes = Writes()
    with ThreadPoolExecutor(max_workers=RATERS) as pool:
        futures = [pool.submit(_rater, engine, writes, user, todo) for user, todo in company]
        writes.raters = futures
        try:
            yield writes
        finally:
            writes.stop.set()
        for future in futures:
            future.result()  # a rater that failed fails the test


def _around(writes: Writes, take_backup: Callable[[], None]) -> tuple[int, int]:
    """Ratings committed before the backup began and by the time it ended, the raters writing throughout."""
    writes.wait_for(WRITES_AROUND_THE_BACKUP)
    before = writes.count
    take_backup()
    after = writes.count
    writes.wait_for(after + WRITES_AROUND_THE_BACKUP)
    assert not any(f.done() for f in writes.raters), "every rater wrote until the end"
    return before, after


# ---------------------------------------------------------------- reading databases


def _rows(engine: Engine) -> dict[str, dict[int, dict[str, Any]]]:
    """The ratings, their history and the audit log, by id."""
    metadata = MetaData()
    metadata.reflect(engine, only=COMPARED)
    with engine.connect() as connection:
        return {
            name: {row.id: dict(row._mapping) for row in connection.execute(select(metadata.tables[name]))}
            for name in COMPARED
        }


def _made_by_the_test(rows: dict[str, dict[int, dict[str, Any]]], first_audit: int) -> list[dict[str, Any]]:
    return [
        row
        for row in rows["audit_log"].values()
        if row["id"] >= first_audit and row["action"] == "rating.write"
    ]


def _assert_every_rating_whole(
    rows: dict[str, dict[int, dict[str, Any]]], first_audit: int, first_history: int
) -> int:
    """Each rating written in the test has its history row and its audit entry, and its current stars are
    its newest history row's: no write is half in a backup. The number of such writes."""
    ratings = rows["lead_ratings"]
    history = [row for row in rows["lead_rating_history"].values() if row["id"] >= first_history]
    audited = sorted(
        (row["actor_id"], int(row["object_id"]), row["at"], row["detail"])
        for row in _made_by_the_test(rows, first_audit)
    )
    written = sorted(
        (
            row["changed_by_id"],
            ratings[row["rating_id"]]["lead_id"],
            row["changed_at"],
            f"stars={row['stars']}",
        )
        for row in history
    )
    assert written == audited
    newest: dict[int, dict[str, Any]] = {}
    for row in sorted(history, key=lambda r: r["id"]):
        newest[row["rating_id"]] = row
    for rating_id, row in newest.items():
        assert ratings[rating_id]["stars"] == row["stars"], rating_id
        assert ratings[rating_id]["updated_at"] == row["changed_at"], rating_id
    return len(history)


def _first_ids(engine: Engine) -> tuple[int, int]:
    """The ids the test's history rows and audit entries start from."""
    with engine.connect() as connection:
        history = connection.execute(
            text("SELECT coalesce(max(id), 0) FROM lead_rating_history")
        ).scalar_one()
        audit = connection.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one()
    return int(history) + 1, int(audit) + 1


@contextmanager
def _database(url: str) -> Iterator[None]:
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        get_settings.cache_clear()


def _cli(url: str, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """Run `python -m db ...` in this process against `url`: exit code, standard output, standard error."""
    out, err = io.StringIO(), io.StringIO()
    with _database(url), redirect_stdout(out), redirect_stderr(err), _stdin(stdin):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@contextmanager
def _stdin(content: str) -> Iterator[None]:
    kept = sys.stdin
    sys.stdin = io.StringIO(content)
    try:
        yield
    finally:
        sys.stdin = kept


def _kpis(url: str) -> list[Any]:
    found = []
    for extra in ([], ["--by", "owner"], ["--from", "2026-01-01", "--to", "2026-06-30", "--by", "team"]):
        code, out, err = _cli(url, "kpis", "--json", *extra)
        assert code == 0, err
        found.append(json.loads(out))
    return found


def _rate_once_more(engine: Engine) -> None:
    """A restored database takes new writes: its ids and sequences came back with it."""
    with read_session(engine) as session:
        rep = session.exec(select(User).where(User.username == "rep")).scalars().one()
        lead_id = (
            session.exec(select(Lead.id).where(Lead.owner_id == rep.id).order_by(Lead.id.desc()))
            .scalars()
            .first()
        )
    assert lead_id is not None
    with write_session(engine) as session:
        rate_lead(session=session, actor=rep, rating=RatingIn(lead_id, 3, note="after the restore"))


# ---------------------------------------------------------------- SQLite


def _sqlite_dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as connection:  # iterdump writes nothing
        return list(connection.iterdump())


def test_a_sqlite_backup_taken_while_20_raters_write_restores_the_same_numbers(tmp_path: Path) -> None:
    source_url = f"sqlite:///{tmp_path / 'live.db'}"
    source = make_engine(source_url)
    company = _demo_company(source)
    first_history, first_audit = _first_ids(source)
    backup = tmp_path / "backups" / "huddle.db"
    backup.parent.mkdir()

    def take_backup() -> None:
        code, out, err = _cli(source_url, "backup", "--out", str(backup))
        assert code == 0, err
        assert out.startswith(f"backed up to {backup} (") and f"schema {head_revision()}" in out

    with raters_writing(source, company) as writes:
        before, after = _around(writes, take_backup)
    assert writes.count >= after + WRITES_AROUND_THE_BACKUP

    # One self-contained, sound file.
    assert sorted(p.name for p in backup.parent.iterdir()) == ["huddle.db"]
    with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    frozen = tmp_path / "as-backed-up.db"  # opening a file through the app's engine switches it to WAL
    shutil.copyfile(backup, frozen)
    frozen_url = f"sqlite:///{frozen}"
    frozen_engine = make_engine(frozen_url)
    backed_up, live = _rows(frozen_engine), _rows(source)
    frozen_engine.dispose()

    # The source at one moment: every history row and audit entry up to one id, none after it.
    for table in ("lead_rating_history", "audit_log"):
        last = max(backed_up[table])
        assert backed_up[table] == {i: row for i, row in live[table].items() if i <= last}, table
    assert before <= _assert_every_rating_whole(backed_up, first_audit, first_history) <= after
    assert _assert_every_rating_whole(live, first_audit, first_history) == writes.count
    assert len(live["lead_rating_history"]) > len(backed_up["lead_rating_history"])  # writes went on after it

    # Into an empty database (made by `upgrade`, as a new server would be), then the same numbers.
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    assert _cli(restored_url, "upgrade")[0] == 0
    code, out, err = _cli(restored_url, "restore", str(backup))
    assert code == 0, err
    assert out.startswith(f"restored {backup} into {tmp_path / 'restored.db'}")
    restored = make_engine(restored_url)
    assert _rows(restored) == backed_up
    restored.dispose()
    assert _sqlite_dump(tmp_path / "restored.db") == _sqlite_dump(backup)
    kpis = _kpis(restored_url)
    assert kpis == _kpis(frozen_url)
    assert kpis == _kpis(source_url)  # raters change no lead: the source's numbers did not move since
    restored = make_engine(restored_url)
    assert schema_state(restored).at_head
    _rate_once_more(restored)
    restored.dispose()
    source.dispose()


@pytest.fixture
def small_backup(tmp_path: Path) -> Path:
    """A backup of a small demo company, and its source at tmp_path/source.db."""
    url = f"sqlite:///{tmp_path / 'source.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed_demo(engine, leads=200, seed=7, today=clock.today())
    engine.dispose()
    out = tmp_path / "small.db"
    assert _cli(url, "backup", "--out", str(out))[0] == 0
    return out


def test_restore_refuses_a_database_that_holds_data_unless_forced(small_backup: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.db"
    url = f"sqlite:///{target}"
    assert _cli(url, "upgrade")[0] == 0
    assert _cli(url, "users", "add", "alice", "--role", "admin", stdin="first-admin-pw\n")[0] == 0
    before = _sqlite_dump(target)
    code, _, err = _cli(url, "restore", str(small_backup))
    assert code == 2
    assert err.startswith(f"error: the database at {target} already holds data (")
    assert "add --force" in err
    assert _sqlite_dump(target) == before
    code, _, err = _cli(url, "restore", "--force", str(small_backup))
    assert code == 0, err
    assert _sqlite_dump(target) == _sqlite_dump(small_backup)


def test_restore_refuses_a_backup_of_another_schema_version(small_backup: Path, tmp_path: Path) -> None:
    with closing(sqlite3.connect(small_backup)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0000'")
        connection.commit()
    target = tmp_path / "target.db"
    code, _, err = _cli(f"sqlite:///{target}", "restore", str(small_backup))
    assert code == 2
    assert err.strip() == (
        f"error: {small_backup} was made at schema 0000, and this version of Huddle is at schema "
        f"{head_revision()}: restore it with the Huddle version that made it (then upgrade with "
        "`python -m db upgrade`)"
    )
    assert not target.exists()


def test_restore_refuses_what_is_not_a_sqlite_backup(tmp_path: Path) -> None:
    dump = tmp_path / "huddle.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 200)
    code, _, err = _cli(f"sqlite:///{tmp_path / 'target.db'}", "restore", str(dump))
    assert code == 2
    assert f"{dump} is not a SQLite backup" in err and "pg_restore" in err


def test_a_backup_never_overwrites_a_file_and_leaves_no_partial_one(
    small_backup: Path, tmp_path: Path
) -> None:
    kept = small_backup.read_bytes()
    code, _, err = _cli(f"sqlite:///{tmp_path / 'source.db'}", "backup", "--out", str(small_backup))
    assert code == 2
    assert f"{small_backup} already exists" in err
    assert small_backup.read_bytes() == kept
    assert not list(tmp_path.glob(".*.partial"))


def test_a_backup_is_taken_at_any_schema_and_restored_only_at_this_one(tmp_path: Path) -> None:
    """Back up before an upgrade: `backup` copies a database whose schema the code does not use."""
    url = f"sqlite:///{tmp_path / 'source.db'}"
    assert _cli(url, "upgrade")[0] == 0
    with closing(sqlite3.connect(tmp_path / "source.db")) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00d'")
        connection.commit()
    assert _cli(url, "users", "list")[0] == 2
    code, _, err = _cli(url, "backup", "--out", str(tmp_path / "before-upgrade.db"))
    assert code == 0, err
    code, _, err = _cli(f"sqlite:///{tmp_path / 'target.db'}", "restore", str(tmp_path / "before-upgrade.db"))
    assert code == 2 and "was made at schema f00d" in err


# ---------------------------------------------------------------- PostgreSQL


def _readme_commands() -> dict[str, str]:
    """The pg_dump and pg_restore lines of the README's "Backup and restore", as written there."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Backup and restore", 1)[1].split("\n## ", 1)[0]
    found = {line.split()[0]: line for line in section.splitlines() if re.match(r"pg_(dump|restore) ", line)}
    assert set(found) == {"pg_dump", "pg_restore"}, section
    return found


def _run_as_written(line: str, database_url: str, folder: Path) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true requires pg_dump and pg_restore (postgresql-client)")
        pytest.skip("pg_dump and pg_restore are not installed")
    completed = subprocess.run(
        ["bash", "-c", line],
        cwd=folder,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, f"{line}\n{completed.stderr}"


@pytest.fixture
def two_postgres_databases() -> Iterator[tuple[str, str]]:
    source = create_postgres_database()
    target = create_postgres_database()
    try:
        yield source, target
    finally:
        drop_postgres_database(source)
        drop_postgres_database(target)


def test_pg_dump_while_20_raters_write_and_pg_restore_give_the_same_numbers(
    two_postgres_databases: tuple[str, str], tmp_path: Path
) -> None:
    source_url, target_url = two_postgres_databases
    commands = _readme_commands()
    source = make_engine(source_url, pool_size=RATERS + 2)
    company = _demo_company(source)
    first_history, first_audit = _first_ids(source)

    with raters_writing(source, company) as writes:
        before, after = _around(writes, lambda: _run_as_written(commands["pg_dump"], source_url, tmp_path))
    _run_as_written(commands["pg_restore"], target_url, tmp_path)

    restored = make_engine(target_url)
    assert schema_state(restored).at_head
    backed_up, live = _rows(restored), _rows(source)
    assert before <= _assert_every_rating_whole(backed_up, first_audit, first_history) <= after
    assert _assert_every_rating_whole(live, first_audit, first_history) == writes.count
    for table in ("lead_rating_history", "audit_log"):  # append-only: as the source holds them
        assert backed_up[table] == {i: live[table][i] for i in backed_up[table]}, table
    assert len(live["lead_rating_history"]) > len(backed_up["lead_rating_history"])
    assert _kpis(target_url) == _kpis(source_url)  # raters change no lead
    code, out, err = _cli(target_url, "users", "list")
    assert code == 0 and "new.rep0" in out, err
    _rate_once_more(restored)
    restored.dispose()
    source.dispose()
