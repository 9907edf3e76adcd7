"""A real `streamlit run` on a free port against a seeded demo database, and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from db import clock
from db.demo import seed_demo
from db.engine import make_engine
from db.migrate import upgrade_to_head

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer {url}/_stcore/health within {seconds} s")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test installs it as root)"
        if IN_CI:
            pytest.fail(f"CI=true requires Chromium for the browser tests: {message}")
        pytest.skip(f"BROWSER TESTS SKIPPED: {message}")
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the seeded demo database the browser tests' server runs on."""
    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'huddle.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed_demo(engine, leads=3000, seed=7, today=clock.today())
    engine.dispose()
    return url


@contextmanager
def streamlit_server(database_url: str) -> Iterator[str]:
    """`streamlit run app.py` in demo mode on a free port against `database_url`; yields its address."""
    folder = Path(database_url.removeprefix("sqlite:///")).parent
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "HUDDLE_DEMO": "1", "HUDDLE_COOKIE_KEY": "e" * 48}
    log = (folder / "streamlit.log").open("wb")
    # No file watcher: a file saved while the tests run (by an editor, another test) must not make the
    # server re-import half of the app under the running sessions.
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def demo_server(demo_database: str) -> Iterator[str]:
    with streamlit_server(demo_database) as base:
        yield base


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def screenshot(page: object, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    return path


def settle(page: object, timeout_ms: float = 30_000) -> None:
    """Wait until Streamlit has finished the current run, so a click lands on the page as it now is."""
    page.wait_for_timeout(100)  # type: ignore[attr-defined]
    page.locator(  # type: ignore[attr-defined]
        "[data-testid=stApp][data-test-script-state=notRunning]"
    ).wait_for(timeout=timeout_ms)
