"""The alert settings come from the environment or `.streamlit/secrets.toml`, the environment first."""

from __future__ import annotations

from pathlib import Path

import pytest

import db.settings
from db.settings import Settings


@pytest.fixture
def secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "secrets.toml"
    monkeypatch.setattr(db.settings, "SECRETS_FILE", path)
    for name in ("HUDDLE_SMTP_HOST", "HUDDLE_SMTP_PORT", "HUDDLE_SMTP_PASSWORD", "HUDDLE_CHAT_WEBHOOK_URL",
                 "HUDDLE_BASE_URL", "DATABASE_URL", "HUDDLE_DEMO"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return path


def test_the_alert_settings_are_read_from_secrets_toml_in_either_case(secrets_file: Path) -> None:
    secrets_file.write_text(
        'cookie_key = "not one of these"\n'
        'HUDDLE_SMTP_HOST = "mail.acme.example"\n'
        "huddle_smtp_port = 465\n"
        'HUDDLE_SMTP_PASSWORD = "from-the-secrets-file"\n'
        'huddle_chat_webhook_url = "https://hooks.slack.com/services/T/B/x"\n'
        'HUDDLE_BASE_URL = "https://huddle.acme.example"\n'
    )
    settings = Settings()
    assert (settings.huddle_smtp_host, settings.huddle_smtp_port) == ("mail.acme.example", 465)
    assert settings.huddle_smtp_password == "from-the-secrets-file"
    assert settings.huddle_chat_webhook_url == "https://hooks.slack.com/services/T/B/x"
    assert settings.huddle_base_url == "https://huddle.acme.example"


def test_the_environment_wins_over_secrets_toml(secrets_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets_file.write_text('HUDDLE_SMTP_HOST = "from-the-file"\nHUDDLE_SMTP_PORT = 2525\n')
    monkeypatch.setenv("HUDDLE_SMTP_HOST", "from-the-environment")
    settings = Settings()
    assert (settings.huddle_smtp_host, settings.huddle_smtp_port) == ("from-the-environment", 2525)


def test_secrets_toml_decides_nothing_but_the_alerts_and_a_broken_or_missing_one_is_none(
    secrets_file: Path,
) -> None:
    assert Settings().huddle_smtp_host == ""
    secrets_file.write_text('DATABASE_URL = "postgresql://elsewhere/db"\nhuddle_demo = true\n')
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///") and settings.huddle_demo is False
    secrets_file.write_text("HUDDLE_SMTP_HOST = \n")
    assert Settings().huddle_smtp_host == ""
