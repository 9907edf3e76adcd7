"""Shared fixtures: a freshly migrated database on SQLite and on PostgreSQL, and the shared data sets.

`db_engine` is parametrized over both backends, so every repository test runs twice. PostgreSQL tests
make a throwaway database and drop it; where no PostgreSQL answers they skip, except under CI=true.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from db.engine import make_engine
from db.migrate import upgrade_to_head

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The two public exports (docs/DATASETS.md) live outside the repository: HUDDLE_DATASETS names the folder.
DATASETS = Path(os.environ.get("HUDDLE_DATASETS") or PROJECT_ROOT.parent / "shared" / "datasets")
REQUIRE_DATASETS = os.environ.get("HUDDLE_REQUIRE_DATASETS", "") == "1"
PG_ADMIN_DSN = os.environ.get("HUDDLE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    """One "today" for the whole run: a run that crosses midnight (a Sunday into a Monday) otherwise seeds
    its demo on one day and opens the Weekly sync on the next, a new week with none of the demo's data.
    A day pinned from outside (`make test-dates`) stands. Servers the browser tests start inherit it."""
    from db import clock

    os.environ.setdefault("HUDDLE_TODAY", clock.today().isoformat())


def _pg_admin_url_for(database: str) -> str:
    base, _, _ = PG_ADMIN_DSN.rpartition("/")
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{database}"


def _postgres_or_skip() -> None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return
    except psycopg.OperationalError as error:
        message = f"no PostgreSQL answers at {PG_ADMIN_DSN}: {error}".strip()
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {message}")
        pytest.skip(f"PostgreSQL tests skipped: {message}")


def create_postgres_database() -> str:
    """Create an empty throwaway database and return its SQLAlchemy URL."""
    _postgres_or_skip()
    name = f"huddle_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return _pg_admin_url_for(name)


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test run; each test gets a copy (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = create_postgres_database()
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    yield url
    drop_postgres_database(url)


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "huddle.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty, migrated database, once per backend."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    url = str(request.getfixturevalue("postgres_url"))
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The folder HUDDLE_DATASETS names, or a skip with the reason where a clone lacks it (a failure when
    HUDDLE_REQUIRE_DATASETS=1, as .ci/run sets: a fork's CI stays green, ours never skips them)."""
    if not (DATASETS / "olist").is_dir() or not (DATASETS / "maven_crm").is_dir():
        message = f"the public CRM exports (docs/DATASETS.md) are not at {DATASETS}; set HUDDLE_DATASETS"
        if REQUIRE_DATASETS:
            pytest.fail(f"HUDDLE_REQUIRE_DATASETS=1: {message}")
        pytest.skip(message)
    return DATASETS
