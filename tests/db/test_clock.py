"""db.clock: HUDDLE_TODAY pins the day only where that cannot mislead (demo data, tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from db import clock
from db.settings import get_settings
from tests.conftest import PROJECT_ROOT


def test_a_pinned_day_is_today_and_its_noon_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUDDLE_TODAY", "2028-02-29")
    assert clock.today() == date(2028, 2, 29)
    first, second = clock.now(), clock.now()
    assert datetime(2028, 2, 29, 12, 0, tzinfo=UTC) <= first <= second < datetime(2028, 2, 29, 18, tzinfo=UTC)


def test_without_a_pin_the_clock_is_the_real_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUDDLE_TODAY", raising=False)
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC)
    assert clock.today() in {before.date(), datetime.now(UTC).date()}


def test_a_pin_that_is_not_a_date_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUDDLE_TODAY", "1 December")
    with pytest.raises(clock.BadPinnedDay, match="HUDDLE_TODAY='1 December' is not a date"):
        clock.today()


def _today_in_a_fresh_process(demo: str) -> str:
    env = {**os.environ, "HUDDLE_TODAY": "2001-01-01", "HUDDLE_DEMO": demo}
    code = "from db import clock; print(clock.today())"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_teams_own_data_ignores_the_pin_and_the_demo_honours_it() -> None:
    # A process that is neither pytest nor the demo: the pin must not move a real company's numbers.
    assert _today_in_a_fresh_process("0") != "2001-01-01"
    assert _today_in_a_fresh_process("1") == "2001-01-01"
    get_settings.cache_clear()
