"""One engine per process; SQLite tuned so concurrent writers queue instead of failing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "huddle_write"


class DatabaseUnreachable(RuntimeError):
    """The configured database cannot be opened; the message names the URL without its password."""


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that BEGIN is ours to choose (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that later writes fails with SQLITE_BUSY instead of waiting;
        # IMMEDIATE takes the write lock up front, so concurrent writers queue on busy_timeout.
        mode = "IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build the engine for `url`; SQLite gets WAL, foreign keys, a busy timeout and IMMEDIATE writes."""
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _install_sqlite_pragmas(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def check_reachable(engine: Engine) -> None:
    """Raise DatabaseUnreachable with a one-line reason when the database does not answer."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseUnreachable(
            f"cannot reach the database at {safe_url(str(engine.url))}: {reason}"
        ) from error


class _TakeATicket:
    """A first-come, first-served lock that a thread may hold more than once (a write inside a write).

    Python's own locks let the thread that just released take the lock straight back, so under load some
    writers waited many turns; a ticket keeps the queue in arrival order."""

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> _TakeATicket:
        me = threading.get_ident()
        with self._turn:
            if self._owner == me:
                self._depth += 1
                return self
            ticket = self._next_ticket
            self._next_ticket += 1
            self._turn.wait_for(lambda: self._serving == ticket)
            self._owner, self._depth = me, 1
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._turn:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._serving += 1
                self._turn.notify_all()


_WRITERS: dict[str, _TakeATicket] = {}
_WRITERS_GUARD = threading.Lock()


def _one_writer_at_a_time(engine: Engine) -> AbstractContextManager[object]:
    """On SQLite, this process's writers take turns, in arrival order, before BEGIN IMMEDIATE.

    SQLite lets one writer in and makes the others poll with growing sleeps (up to 100 ms a try), so with
    fifty reps submitting at once a few waited seconds. Queued here, each waits only for the writes ahead
    of it. Other processes (the command line) still queue on SQLite's busy timeout."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(str(engine.url), _TakeATicket())


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One unit of work that writes: commits on success, rolls back on any error."""
    with (
        _one_writer_at_a_time(engine),
        Session(engine.execution_options(**{WRITE_OPTION: True})) as session,
    ):
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
