"""`python -m db` user verbs and its one-line errors; only `upgrade` migrates: every other command refuses a
database behind the code, changing nothing."""

from __future__ import annotations

import io
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from alembic.config import Config
from sqlalchemy import inspect

import db.__main__ as cli
import db.migrate
from db.access import OPERATOR
from db.engine import make_engine, write_session
from db.models import Role, UserCreate
from db.settings import PROJECT_ROOT, get_settings
from db.users import create_user
from tests.conftest import create_postgres_database, drop_postgres_database


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, db_url: str) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def _run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(argv)


def test_users_add_list_disable_set_password(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _run(monkeypatch, ["users", "add", "root", "--role", "admin", "--team", "Ops"], "first-admin-pw\n")
        == 0
    )
    assert _run(monkeypatch, ["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "added root (admin)" in out
    assert "root" in out and "admin" in out and "active" in out
    assert _run(monkeypatch, ["users", "set-password", "root"], "another-long-pw\n") == 0
    assert _run(monkeypatch, ["users", "disable", "root"]) == 0
    assert _run(monkeypatch, ["users", "list"]) == 0
    assert "disabled" not in capsys.readouterr().out.split("disabled root")[-1]
    assert _run(monkeypatch, ["users", "list", "--all"]) == 0
    assert "disabled" in capsys.readouterr().out


def test_weak_password_from_stdin_is_refused(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, ["users", "add", "root", "--role", "admin"], "short\n") == 2
    assert "at least 10 characters" in capsys.readouterr().err


def test_empty_database_list_says_how_to_add_the_first_admin(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, ["users", "list"]) == 0
    assert "python -m db users add --role admin" in capsys.readouterr().out


def test_password_is_never_an_argument() -> None:
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["users", "add", "root", "--password", "x"])


def test_unreachable_database_is_one_line_naming_the_url_without_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://huddle:pw-123@127.0.0.1:1/huddle")
    get_settings.cache_clear()
    try:
        assert cli.main(["users", "list"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(
        "error: cannot reach the database at postgresql+psycopg://huddle:***@127.0.0.1:1/huddle"
    )
    assert "pw-123" not in err


def test_seed_needs_to_be_told_what(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["seed"]) == 2
    assert "--demo" in capsys.readouterr().err


# ---------------------------------------------------------------- only `upgrade` migrates

NEXT_MIGRATION = '''"""a migration this test adds after the real head

Revision ID: 9001
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("cli_probe", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("cli_probe")
'''
# Every command but `upgrade`, `backup` and `restore`, as an operator would type it.
USING_COMMANDS = [
    ["users", "list"],
    ["users", "add", "someone", "--role", "rep"],
    ["users", "disable", "someone"],
    ["kpis", "--json"],
    ["tune", "--json"],
    ["report", "--week", "2026-W47", "--out", "{tmp}/week.html"],
    ["quotas", "import", "{tmp}/quotas.csv"],
    ["import", "csv", "{tmp}/leads.csv", "--mapping", "{tmp}/crm.toml"],
    ["seed", "--demo", "--leads", "100"],
]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (never migrated), once per backend: these tests migrate it up and down."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def code_one_migration_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """This code as it will be after one more migration: the real migrations plus 9001 (a new table)."""
    scripts = tmp_path / "migrations"
    shutil.copytree(PROJECT_ROOT / "db" / "migrations", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = db.migrate.head_revision()
    (scripts / "versions" / "9001_cli_probe.py").write_text(NEXT_MIGRATION.format(head=head))

    def config() -> Config:
        made = Config(str(PROJECT_ROOT / "alembic.ini"))
        made.set_main_option("script_location", str(scripts))
        return made

    monkeypatch.setattr(db.migrate, "alembic_config", config)
    return head


def _inputs(tmp_path: Path) -> None:
    (tmp_path / "quotas.csv").write_text("rep,period,amount\nsomeone,2026-11,1000\n")
    (tmp_path / "leads.csv").write_text("Id,Created\nL-1,2026-11-02\n")
    (tmp_path / "crm.toml").write_text('[source]\nname = "crm"\n\n[columns]\nexternal_id = "Id"\n')


def _schema(url: str) -> tuple[list[str], list[str], list[str] | None]:
    """The alembic_version rows, the table names and, on SQLite, the whole database as SQL text."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = sorted(inspect(connection).get_table_names())
            versions = (
                sorted(
                    str(v)
                    for v in connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()
                )
                if "alembic_version" in tables
                else []
            )
    finally:
        engine.dispose()
    dump = None
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            dump = list(connection.iterdump())
    return versions, tables, dump


def _refused_everywhere(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str
) -> None:
    before = _schema(url)
    for argv in USING_COMMANDS:
        assert _run(monkeypatch, [a.format(tmp=tmp_path) for a in argv]) == 2, argv
        err = capsys.readouterr().err
        assert "run `python -m db upgrade` first" in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, err
        assert _schema(url) == before, argv


def test_a_database_one_migration_behind_is_refused_unchanged_until_upgrade(
    fresh_url: str,
    code_one_migration_ahead: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The code gains migration 9001; the database, with data in it, is still at the real head."""
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    get_settings.cache_clear()
    engine = make_engine(fresh_url)
    db.migrate.upgrade_to(engine, code_one_migration_ahead)
    with write_session(engine) as session:
        create_user(
            session=session,
            actor=OPERATOR,
            user_in=UserCreate(username="root", name="Root", role=Role.admin, password="first-admin-pw"),
        )
    engine.dispose()
    assert _run(monkeypatch, ["users", "list"]) == 2
    assert _run(monkeypatch, ["seed", "--demo", "--leads", "100"]) == 2  # not empty: seed does not migrate it
    err = capsys.readouterr().err
    assert f"is at schema {code_one_migration_ahead}, 1 migration behind this code's 9001" in err
    _inputs(tmp_path)
    _refused_everywhere(monkeypatch, capsys, tmp_path, fresh_url)
    assert _schema(fresh_url)[0] == [code_one_migration_ahead]

    assert _run(monkeypatch, ["upgrade"]) == 0
    assert f"migrated the database from schema {code_one_migration_ahead} to 9001" in capsys.readouterr().out
    versions, tables, _ = _schema(fresh_url)
    assert versions == ["9001"] and "cli_probe" in tables
    assert _run(monkeypatch, ["users", "add", "alice", "--role", "rep"], "second-user-pw\n") == 0
    assert _run(monkeypatch, ["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "root" in out and "alice" in out
    assert _run(monkeypatch, ["upgrade"]) == 0
    assert "already at the newest schema (9001)" in capsys.readouterr().out
    get_settings.cache_clear()


def test_a_database_downgraded_one_step_is_refused_unchanged_until_upgrade(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The real migrations, the database taken one step down from head with Alembic itself."""
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    get_settings.cache_clear()
    assert _run(monkeypatch, ["upgrade"]) == 0
    assert _run(monkeypatch, ["users", "add", "root", "--role", "admin"], "first-admin-pw\n") == 0
    engine = make_engine(fresh_url)
    db.migrate.downgrade_to(engine, "-1")
    state = db.migrate.schema_state(engine)
    engine.dispose()
    assert not state.at_head
    capsys.readouterr()
    _inputs(tmp_path)
    for argv in USING_COMMANDS[:-1]:  # seed migrates a database without tables, see below
        before = _schema(fresh_url)
        assert _run(monkeypatch, [a.format(tmp=tmp_path) for a in argv]) == 2, argv
        assert "run `python -m db upgrade` first" in capsys.readouterr().err, argv
        assert _schema(fresh_url) == before, argv
    assert _run(monkeypatch, ["upgrade"]) == 0
    assert _schema(fresh_url)[0] == [db.migrate.head_revision()]
    assert _run(monkeypatch, ["users", "list"]) == 0
    get_settings.cache_clear()


def test_a_database_newer_than_the_code_is_refused(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(cli_db)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d'")
    try:
        for argv in (["users", "list"], ["upgrade"]):
            assert _run(monkeypatch, argv) == 2
            err = capsys.readouterr().err
            assert "at schema f00d, which this version of Huddle does not know" in err, argv
        with engine.connect() as connection:
            assert (
                connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "f00d"
            )
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                f"UPDATE alembic_version SET version_num = '{db.migrate.head_revision()}'"
            )
        engine.dispose()


def test_a_missing_sqlite_file_is_named_not_made(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "data" / "app.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    try:
        for argv in (["users", "list"], ["kpis", "--json"], ["backup", "--out", str(tmp_path / "b.db")]):
            assert _run(monkeypatch, argv) == 2
            assert (
                f"there is no database at {path}: make it with `python -m db upgrade`"
                in capsys.readouterr().err
            )
        assert not path.parent.exists()
        assert _run(monkeypatch, ["upgrade"]) == 0
        assert "from schema none to" in capsys.readouterr().out
        assert _run(monkeypatch, ["users", "list"]) == 0
    finally:
        get_settings.cache_clear()


def test_seed_migrates_a_database_without_tables(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    get_settings.cache_clear()
    try:
        assert _run(monkeypatch, ["seed", "--demo", "--leads", "200"]) == 0
        assert _schema(fresh_url)[0] == [db.migrate.head_revision()]
        assert _run(monkeypatch, ["users", "list"]) == 0
        assert "admin" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


def test_backup_and_restore_on_postgresql_name_pg_dump_and_pg_restore(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://huddle:pw-123@db.internal:5432/huddle")
    monkeypatch.setattr(cli, "check_reachable", lambda _engine: None)
    get_settings.cache_clear()
    try:
        backup = tmp_path / "b.db"
        backup.write_bytes(b"")
        assert _run(monkeypatch, ["backup", "--out", "huddle.dump"]) == 2
        err = capsys.readouterr().err
        assert (
            "pg_dump -Fc --no-owner --file huddle.dump 'postgresql://huddle@db.internal:5432/huddle'" in err
        )
        assert _run(monkeypatch, ["restore", str(backup)]) == 2
        err = capsys.readouterr().err
        assert (
            f"pg_restore --no-owner --exit-on-error --dbname 'postgresql://huddle@db.internal:5432/huddle' {backup}"
            in err
        )
        assert "pw-123" not in err
    finally:
        get_settings.cache_clear()
