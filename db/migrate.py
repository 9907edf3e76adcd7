"""Run Alembic migrations from code (start-up step and tests), never from a page; and tell, without
changing anything, where a database's schema stands against this code's newest migration (the head)."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from db.settings import PROJECT_ROOT

VERSION_TABLE = "alembic_version"
UPGRADE_COMMAND = "python -m db upgrade"


def alembic_config() -> Config:
    return Config(str(PROJECT_ROOT / "alembic.ini"))


def upgrade_to_head(engine: Engine) -> None:
    upgrade_to(engine, "head")


def upgrade_to(engine: Engine, revision: str) -> None:
    """Migrate up to `revision` ("head": the newest) in one transaction."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade_to(engine: Engine, revision: str) -> None:
    """Migrate down to `revision` ("-1": one step) in one transaction; for tests and a careful operator."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def head_revision() -> str:
    """The newest migration this code has."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder holds no migration"
    return head


def current_revision(connection: Connection) -> str | None:
    """The migration the database was last brought to; None when it was never migrated (or downgraded
    to nothing). Reads only: Alembic makes no version table to answer."""
    return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: its migration, this code's newest, and the tables it holds."""

    current: str | None
    head: str
    tables: frozenset[str]  # every table but Alembic's own
    known: bool = True  # False: `current` is a migration this code does not have (a newer Huddle made it)
    behind_by: int = 0  # migrations between `current` and `head`

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    @property
    def empty(self) -> bool:
        """Never migrated and holding no table: a new database, safe to migrate without asking."""
        return self.current is None and not self.tables

    def problem(self, where: str) -> str | None:
        """Why a command that uses the schema as it is must refuse this database; None when at head."""
        if self.at_head:
            return None
        if self.current is None and self.tables:
            return (
                f"the database at {where} holds tables but no Huddle schema version; "
                "it is not a Huddle database, or was made without migrations"
            )
        if self.current is None:
            return f"the database at {where} has no Huddle tables yet: run `{UPGRADE_COMMAND}` first"
        if not self.known:
            return (
                f"the database at {where} is at schema {self.current}, which this version of Huddle does "
                f"not know (its newest is {self.head}): a newer Huddle migrated it; run that version"
            )
        steps = f"{self.behind_by} migration{'s' if self.behind_by != 1 else ''}"
        return (
            f"the database at {where} is at schema {self.current}, {steps} behind this code's {self.head}: "
            f"run `{UPGRADE_COMMAND}` first (back it up before: see `python -m db backup`)"
        )


def schema_state(engine: Engine) -> SchemaState:
    """Read the database's schema version and tables, and compare them with this code's migrations."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None, "the migrations folder holds no migration"
    with engine.connect() as connection:
        current = current_revision(connection)
        tables = frozenset(inspect(connection).get_table_names()) - {VERSION_TABLE}
    if current is None or current == head:
        return SchemaState(current=current, head=head, tables=tables)
    try:
        behind = sum(1 for _ in script.iterate_revisions(head, current))  # head included, current not
    except (CommandError, RevisionError):  # a revision this code's migrations do not have
        return SchemaState(current=current, head=head, tables=tables, known=False)
    return SchemaState(current=current, head=head, tables=tables, behind_by=behind)
