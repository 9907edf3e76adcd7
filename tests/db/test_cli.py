"""`python -m db` user verbs and its one-line errors."""

from __future__ import annotations

import io

import pytest

import db.__main__ as cli
from db.settings import get_settings


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
