"""Backup and restore of a SQLite database; for PostgreSQL, the pg_dump and pg_restore commands to run.

A SQLite backup goes through SQLite's online backup API (`sqlite3.Connection.backup`) in one step: one
read transaction copies every page, so the file is the database as it stood at one moment, while the app
goes on reading and writing (WAL mode lets writers commit during the copy; none of their work is half in
it). The copy is written beside its final name and renamed when complete and checked, so a file of that
name is always a whole backup, and it is one self-contained file (journal mode DELETE, no `-wal` beside it).

A restore copies a backup, through the same API, over the configured database: only into a database that
holds no data unless forced, and only a backup made at the schema this code migrates to (its head).

PostgreSQL is backed up with `pg_dump -Fc` and restored with `pg_restore` (README, "Backup and restore"),
which take the same kind of consistent snapshot; `postgres_commands` spells them out for a URL.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Engine, make_url

from db.engine import SQLITE_BUSY_TIMEOUT_MS, safe_url
from db.migrate import VERSION_TABLE, head_revision

# What a summary of a backup counts: table, and what to call its rows.
COUNTED = {"users": "users", "leads": "leads", "lead_ratings": "ratings", "audit_log": "audit entries"}


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; the message says why in one or two sentences."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str
    size_bytes: int
    counts: Mapping[str, int]

    def describe(self) -> str:
        rows = ", ".join(f"{count:,} {COUNTED.get(name, name)}" for name, count in self.counts.items())
        return f"{self.path} ({self.size_bytes / 1e6:.1f} MB, schema {self.revision}): {rows}"


@dataclass(frozen=True)
class PostgresCommands:
    dump: str
    restore: str

    def explain(self, verb: str) -> str:
        return (
            f"`python -m db {verb}` copies SQLite files; a PostgreSQL database is backed up with pg_dump "
            "and restored into an empty database with pg_restore (README, 'Backup and restore'):\n"
            f"  {self.dump}\n  {self.restore}"
        )


def is_sqlite_engine(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_file(engine: Engine) -> Path:
    """The file of a SQLite engine; a BackupError for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"{safe_url(str(engine.url))} is not a SQLite file")
    return Path(database)


def postgres_commands(url: str | URL, dump_file: str = "huddle.dump") -> PostgresCommands:
    """The pg_dump and pg_restore lines for a PostgreSQL URL, its password left out (give it through
    ~/.pgpass or PGPASSWORD, never on a command line)."""
    given = make_url(url)
    libpq = URL.create(
        "postgresql", given.username, None, given.host, given.port, given.database, given.query
    ).render_as_string(hide_password=False)
    return PostgresCommands(
        dump=f"pg_dump -Fc --no-owner --file {dump_file} '{libpq}'",
        restore=f"pg_restore --no-owner --exit-on-error --dbname '{libpq}' {dump_file}",
    )


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    target = f"file:{path}?mode=ro" if read_only else str(path)
    return sqlite3.connect(target, uri=read_only, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)


def _counts(connection: sqlite3.Connection) -> dict[str, int]:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {
        name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608
        for name in COUNTED
        if name in tables
    }


def _revision(connection: sqlite3.Connection) -> str | None:
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
    ).fetchone()
    if found is None:
        return None
    row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()  # noqa: S608
    return str(row[0]) if row else None


def _integrity(connection: sqlite3.Connection) -> str:
    return "; ".join(str(row[0]) for row in connection.execute("PRAGMA integrity_check").fetchall())


def backup_sqlite(engine: Engine, out: Path) -> BackupSummary:
    """Copy the engine's SQLite database to `out`, a file that must not exist yet; safe while it is used."""
    source = sqlite_file(engine)
    if not source.is_file():
        raise BackupError(f"there is no database at {source} to back up")
    if out.exists():
        raise BackupError(f"{out} already exists: name a new file (a backup never overwrites one)")
    if not out.parent.is_dir():
        raise BackupError(f"no such folder: {out.parent}")
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(_connect(source)) as live, closing(_connect(partial)) as copy:
            live.backup(copy)  # pages=-1: every page in one step, one read transaction, one moment
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            revision = _revision(copy)
            integrity = _integrity(copy)
            counts = _counts(copy)
        if revision is None:
            raise BackupError(f"the database at {source} has no Huddle schema yet: nothing to back up")
        if integrity != "ok":
            raise BackupError(f"the copy of {source} failed SQLite's integrity check: {integrity}")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(path=out, revision=revision, size_bytes=out.stat().st_size, counts=counts)


def read_backup(path: Path) -> BackupSummary:
    """Check a backup file without changing it: a sound SQLite database made at this code's schema."""
    try:
        with closing(_connect(path, read_only=True)) as backup:
            integrity = _integrity(backup)
            revision = _revision(backup)
            counts = _counts(backup)
    except sqlite3.DatabaseError as error:
        raise BackupError(
            f"{path} is not a SQLite backup ({error}); a PostgreSQL dump is restored with pg_restore"
        ) from error
    if integrity != "ok":
        raise BackupError(f"{path} is damaged: SQLite's integrity check says {integrity}")
    if revision is None:
        raise BackupError(f"{path} is not a Huddle backup: it has no schema version")
    head = head_revision()
    if revision != head:
        raise BackupError(
            f"{path} was made at schema {revision}, and this version of Huddle is at schema {head}: "
            "restore it with the Huddle version that made it (then upgrade with `python -m db upgrade`)"
        )
    return BackupSummary(path=path, revision=revision, size_bytes=path.stat().st_size, counts=counts)


def rows_held(engine: Engine) -> dict[str, int]:
    """The tables of the database that hold rows, and how many (Alembic's version table left out)."""
    with engine.connect() as connection:
        names = sorted(set(inspect(connection).get_table_names()) - {VERSION_TABLE})
        counts = {
            name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())  # noqa: S608
            for name in names
        }
    return {name: count for name, count in counts.items() if count}


def restore_sqlite(engine: Engine, backup: Path, *, force: bool = False) -> BackupSummary:
    """Replace the engine's SQLite database with `backup`: refused when the database holds data (unless
    `force`) or when the backup's schema is not this code's. Stop the app first: it would keep pages of
    the old database in memory."""
    summary = read_backup(backup)
    target = sqlite_file(engine)
    held = rows_held(engine) if target.is_file() else {}
    if held and not force:
        largest = sorted(held.items(), key=lambda item: -item[1])[:3]
        listed = ", ".join(f"{count:,} rows in {name}" for name, count in largest)
        raise BackupError(
            f"the database at {target} already holds data ({listed}{', ...' if len(held) > 3 else ''}): "
            "restore replaces all of it; add --force to do that, or name an empty database in DATABASE_URL"
        )
    engine.dispose()  # none of this process's pooled connections holds the old pages
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(_connect(backup, read_only=True)) as source, closing(_connect(target)) as live:
        source.backup(live)  # one step, under the database's write lock; WAL mode stays as it was
        integrity = _integrity(live)
    if integrity != "ok":
        raise BackupError(f"the restored database at {target} failed SQLite's integrity check: {integrity}")
    return BackupSummary(
        path=target, revision=summary.revision, size_bytes=target.stat().st_size, counts=summary.counts
    )
