"""A real `streamlit run` on a free port against a seeded demo database, and Debian's Chromium."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
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
# Screenshots go to HUDDLE_SCREENSHOTS, else to tests/e2e/screenshots (git-ignored). The README's pictures
# are written into the repository only by `make screenshots`, which points HUDDLE_README_SCREENSHOTS at
# docs/screenshots; a test run leaves the tree as it found it (repository_left_as_found checks).
SCREENSHOTS_DEFAULT = Path(__file__).resolve().parent / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"
# The key every test server signs login cookies with: servers started with it accept each other's logins.
COOKIE_KEY = "e" * 48


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
def streamlit_server(
    database_url: str,
    *,
    log_folder: Path | None = None,
    port: int | None = None,
    name: str = "streamlit",
    cookie_key: str = COOKIE_KEY,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`streamlit run app.py` on a free port (or `port`, to restart a server at the address its tabs know)
    in demo mode against `database_url`, signing logins with `cookie_key`; yields its address. Its output
    goes to `log_folder`/`name`.log (appended: a restarted server keeps the first run's lines), by default
    beside a SQLite database; a PostgreSQL URL needs `log_folder`. `extra_env` adds to or overrides the
    environment (say HUDDLE_TODAY, to open the app a week later)."""
    if log_folder is None:
        if not database_url.startswith("sqlite:///"):
            raise ValueError(f"streamlit_server needs a log_folder for {database_url.split(':', 1)[0]}")
        log_folder = Path(database_url.removeprefix("sqlite:///")).parent
    port = port or _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "HUDDLE_DEMO": "1", "HUDDLE_COOKIE_KEY": cookie_key,
           **(extra_env or {})}  # fmt: skip
    log = (log_folder / f"{name}.log").open("ab")
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
            server.wait()
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


def screenshots_folder() -> Path:
    return Path(os.environ.get("HUDDLE_SCREENSHOTS") or SCREENSHOTS_DEFAULT)


def readme_folder() -> Path:
    """docs/screenshots under `make screenshots`; otherwise a folder beside the other screenshots."""
    chosen = os.environ.get("HUDDLE_README_SCREENSHOTS")
    return Path(chosen) if chosen else screenshots_folder() / "readme"


def screenshot(page: object, name: str) -> Path:
    folder = screenshots_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    return path


def readme_picture(shot: Path, name: str) -> Path:
    """Keep `shot` as one of the README's pictures, `name` in docs/screenshots (see readme_folder)."""
    folder = readme_folder()
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(shot, folder / name))


def _changed_paths(listing: bytes) -> Iterable[tuple[str, str]]:
    """(status, path) from `git status --porcelain -z`; a rename's second entry (its old path) is skipped."""
    entries = iter(listing.split(b"\0"))
    for entry in entries:
        if not entry:
            continue
        status, path = entry[:2].decode(), entry[3:].decode()
        if status[0] in "RC":
            next(entries, None)
        yield status, path


def tree_state(root: Path = PROJECT_ROOT) -> dict[str, str] | None:
    """Every path git reports changed or untracked (and not ignored), with a hash of its content, so that
    a test rewriting a file that was already changed shows too. None outside a git checkout."""
    try:
        listing = subprocess.run(
            ["git", "status", "--porcelain", "-z", "--untracked-files=all"],
            cwd=root, capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    state = {}
    for status, path in _changed_paths(listing):
        file = root / path
        digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "gone"
        state[path] = f"{status} {digest}"
    return state


def tree_changes(before: dict[str, str], after: dict[str, str], allowed: Path | None = None) -> list[str]:
    """The paths whose state differs, but for those under `allowed` (the folder `make screenshots` fills)."""
    changed = [p for p in sorted(before.keys() | after.keys()) if before.get(p) != after.get(p)]
    if allowed is not None:
        changed = [p for p in changed if not (PROJECT_ROOT / p).resolve().is_relative_to(allowed.resolve())]
    return changed


@pytest.fixture(scope="package", autouse=True)
def repository_left_as_found() -> Iterator[None]:
    """The browser tests, whatever their order, leave `git status` as they found it: no picture of the
    README rewritten, nothing new that git would see."""
    before = tree_state()
    yield
    after = tree_state()
    if before is None or after is None:
        return
    readme = os.environ.get("HUDDLE_README_SCREENSHOTS")
    changed = tree_changes(before, after, Path(readme) if readme else None)
    assert changed == [], f"the browser tests changed the repository (git status): {changed}"


def settle(page: object, timeout_ms: float = 30_000) -> None:
    """Wait until Streamlit has finished the current run, so a click lands on the page as it now is."""
    page.wait_for_timeout(100)  # type: ignore[attr-defined]
    page.locator(  # type: ignore[attr-defined]
        "[data-testid=stApp][data-test-script-state=notRunning]"
    ).wait_for(timeout=timeout_ms)


def choose_option(page: object, box: object, option: str, *, tries: int = 3, wait_ms: float = 5_000) -> None:
    """Choose `option` in the Streamlit selectbox `box` by opening its list and typing the option's start
    (a long list draws only the options in view). On a loaded machine a rerun that lands while the list is
    open closes it again, and the typing then goes nowhere: open it again, up to `tries` times."""
    for attempt in range(tries):
        settle(page)
        box.click()  # type: ignore[attr-defined]
        box.locator("input").fill(option[:40])  # type: ignore[attr-defined]
        wanted = page.get_by_role("option", name=option, exact=True).first  # type: ignore[attr-defined]
        try:
            wanted.wait_for(timeout=wait_ms)
            wanted.click()
            return
        except Exception:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")  # type: ignore[attr-defined]
