"""Typed settings read from the environment (and `.env`), one place for every knob.

The alert settings (HUDDLE_SMTP_*, HUDDLE_MAIL_FROM, HUDDLE_CHAT_WEBHOOK_URL, HUDDLE_BASE_URL) may also
be kept in `.streamlit/secrets.toml`, beside the cookie key, under the same names (upper or lower case);
the environment wins over the file.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
# The settings secrets.toml may hold: the alerts' (issue 13), nothing that decides which database is used.
SECRETS_FILE_FIELDS = (
    "huddle_smtp_host",
    "huddle_smtp_port",
    "huddle_smtp_security",
    "huddle_smtp_user",
    "huddle_smtp_password",
    "huddle_mail_from",
    "huddle_chat_webhook_url",
    "huddle_base_url",
)
DEFAULT_DATABASE_URL = "sqlite:///data/app.db"
MIN_COOKIE_KEY_BYTES = 32
PLACEHOLDER_KEYS = frozenset({"", "changeme", "change-me", "secret", "some_key", "replace-me"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    huddle_demo: bool = False
    huddle_cookie_key: str = ""
    huddle_cookie_name: str = "huddle_auth"
    huddle_cookie_expiry_days: float = 7.0
    # A login ends after this long without a page being used, and this long after it began, whatever.
    huddle_session_idle_hours: float = 12.0
    huddle_session_max_days: float = 7.0
    # DEBUG, INFO, WARNING or ERROR: how much the app and the command line write to stderr (db/logs.py).
    huddle_log_level: str = "INFO"
    # Alerts (issue 13), all optional: without a host or a webhook the channel is off and says so.
    huddle_smtp_host: str = ""
    huddle_smtp_port: int = 587
    huddle_smtp_security: str = "starttls"  # none, starttls or tls
    huddle_smtp_user: str = ""
    huddle_smtp_password: str = ""
    huddle_mail_from: str = ""
    huddle_chat_webhook_url: str = ""
    # Where links in messages point: the address people open Huddle at.
    huddle_base_url: str = "http://localhost:8501"
    # Sales content (issue 14): uploaded files go into the database unless a folder is named; the size cap
    # applies before anything is stored.
    huddle_content_dir: str = ""
    huddle_content_max_mb: float = 25.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secrets_toml = StreamlitSecretsSource(settings_cls, SECRETS_FILE)
        return init_settings, env_settings, dotenv_settings, secrets_toml, file_secret_settings

    @field_validator("database_url")
    @classmethod
    def _relative_sqlite_is_relative_to_project(cls, url: str) -> str:
        # `make run` and the CLI may start from any folder: anchor relative SQLite paths at the repo.
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(PROJECT_ROOT / url[len(prefix) :])
        return url


class StreamlitSecretsSource(PydanticBaseSettingsSource):
    """The alert settings found at the top of `.streamlit/secrets.toml` (a missing file holds none; an
    unreadable one is Streamlit's to report when the app starts)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.values = read_alert_secrets(path)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


def read_alert_secrets(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    found: dict[str, Any] = {}
    for key, value in document.items():
        name = key.lower()
        if name in SECRETS_FILE_FIELDS and not isinstance(value, dict | list):
            found[name] = value
    return found


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def cookie_key_problem(key: str) -> str | None:
    """Why a cookie key is unfit to sign sessions, or None when it is fit."""
    if key.strip().lower() in PLACEHOLDER_KEYS:
        return "the cookie key is missing or a placeholder"
    if len(key.encode()) < MIN_COOKIE_KEY_BYTES:
        return f"the cookie key is shorter than {MIN_COOKIE_KEY_BYTES} bytes"
    return None
