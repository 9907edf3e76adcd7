"""Soak benchmark: does the server's memory level off under many page loads, or grow with their number?

Run: `.venv/bin/python tests/bench/bench_soak.py [--leads 20000] [--loads 2000] [--every 100]
[--contexts 5] [--max-minutes 75] [--database FILE]` (`make bench-soak`).

Seeds a demo database (a temporary SQLite file, or `--database FILE`, seeded when empty), starts a real
`streamlit run app.py` on a free port of 127.0.0.1, logs in once per headless Chromium context (one per
demo role: rep, manager, marketer, exec, admin), then makes `--loads` page loads between them: each a full
navigation to one of the role's pages, with the sidebar filters (period, team, source) of the KPI pages and
the week of the Weekly sync varied, waited on until the page's title shows and its run has ended. Every
load is a new Streamlit session (the old one is dropped once its websocket closes and
`server.disconnectedSessionTTL` passes), so what a session leaves behind adds up here.

The server's resident memory (psutil when installed, else VmRSS in /proc/<pid>/status) is read before the
first load and every `--every` loads; the curve (loads → MB) is printed, and a verdict that compares the
growth over the last quarter of the loads with the growth over the first (which includes loading the
frames and filling the caches). Bounded in count (`--loads`) and time (`--max-minutes`: the run stops
there and judges what it has); talks to 127.0.0.1 only. Exit status 1 when memory still grows, 2 when too
many loads failed. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from db import clock
from db.demo import DEMO_PASSWORD, TEAMS, seed_demo
from db.engine import make_engine
from db.frames import load_leads
from db.migrate import upgrade_to_head
from ui.navigation import pages_for

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# (username, role) of the demo people the contexts log in as, one context each.
ACCOUNTS = (("rep", "rep"), ("manager", "sales_manager"), ("marketer", "marketer"), ("exec", "executive"),
            ("admin", "admin"))  # fmt: skip
FILTERED = {"funnel", "quota", "revenue", "rating-coverage"}  # the pages with the sidebar filters
PERIODS = ("this_month", "last_month", "quarter_to_date", "last_quarter", "this_week", "last_week")
TIMEOUT_MS = 60_000
LOGIN_TRIES = 3
MB = 1024 * 1024


# ---------------------------------------------------------------- the server and its memory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def resident_mb(pid: int) -> float:
    """The process's resident set size in MB."""
    try:
        import psutil  # type: ignore[import-not-found]

        return float(psutil.Process(pid).memory_info().rss) / MB
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None


def peak_mb(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def start_server(database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "HUDDLE_DEMO": "1", "HUDDLE_COOKIE_KEY": "s" * 48}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return server, base
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError(f"streamlit did not answer on {base} within 90 s; see {log}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def demo_database(path: Path, leads: int) -> tuple[str, list[str]]:
    """The database's URL (seeded with `leads` demo leads when empty) and its three commonest sources."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        frame = load_leads(engine)
        if frame.is_empty():
            started = time.perf_counter()
            seed_demo(engine, leads=leads, seed=7, today=clock.today())
            print(f"seeded {leads:,} demo leads into {path} in {time.perf_counter() - started:.1f} s")
            frame = load_leads(engine)
        counts = frame.get_column("source").drop_nulls().value_counts(sort=True)
        return url, [str(s) for s in counts.get_column("source").head(3).to_list()]
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the loads


@dataclass
class Soak:
    total: int
    every: int
    pid: int
    deadline: float
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    failed: int = 0
    curve: list[tuple[int, float, float]] = field(default_factory=list)  # (loads, MB, seconds)
    issued: itertools.count[int] = field(default_factory=itertools.count)
    out_of_time: bool = False

    def next_load(self) -> int | None:
        if time.monotonic() > self.deadline:
            self.out_of_time = True
            return None
        number = next(self.issued)
        return number if number < self.total else None

    def record(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self.done % self.every == 0 or self.done == self.total:
            self.sample()

    def sample(self) -> None:
        mb, seconds = resident_mb(self.pid), time.monotonic() - self.started
        self.curve.append((self.done, mb, seconds))
        rate = self.done / seconds if seconds else 0.0
        print(f"  {self.done:>6,} loads  {mb:8.1f} MB  {seconds:7.0f} s  ({rate:.1f} loads/s)", flush=True)


def addresses(role: str, sources: list[str], rng: random.Random) -> list[tuple[str, str]]:
    """A role's mix of (address, page title): every page of the role, the filtered ones under many
    filter combinations, the Weekly sync in the last few weeks."""
    out: list[tuple[str, str]] = []
    today = clock.today()
    weeks = [today - timedelta(weeks=back) for back in range(1, 5)]
    for spec in pages_for(role):
        if spec.url_path in FILTERED:
            teams = [None] if role in ("rep", "sales_manager") else [None, *(name for name, _ in TEAMS)]
            for period, team, source in itertools.product(PERIODS, teams, [None, *sources]):
                query = {
                    "period": period,
                    **({"team": team} if team else {}),
                    **({"source": source} if source else {}),
                }
                out.append((f"{spec.url_path}?{urlencode(query)}", spec.title))
        elif spec.url_path == "weekly-sync":
            for day in weeks:
                year, week, _ = day.isocalendar()
                out.append((f"{spec.url_path}?week={year}-W{week:02d}", spec.title))
        else:
            out.append((spec.url_path, spec.title))
    rng.shuffle(out)
    return out


async def log_in(page: Any, base: str, username: str) -> None:
    await page.goto(base)
    await page.get_by_label("Username").wait_for(timeout=TIMEOUT_MS)
    await page.get_by_label("Username").fill(username)
    await page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").wait_for(timeout=TIMEOUT_MS)


async def load(page: Any, base: str, address: str, title: str) -> bool:
    try:
        await page.goto(f"{base}/{address}")
        await page.get_by_role("heading", name=title).first.wait_for(timeout=TIMEOUT_MS)
        await page.wait_for_timeout(100)
        await page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(
            timeout=TIMEOUT_MS
        )
        return not await page.get_by_test_id("stException").count()
    except Exception as problem:  # a slow or broken load counts as failed; the soak goes on
        print(f"  load of /{address} failed: {type(problem).__name__}: {str(problem).splitlines()[0]}")
        return False


async def logged_in(page: Any, base: str, username: str, logins: asyncio.Lock) -> bool:
    """Logged in within LOGIN_TRIES tries: on a busy machine the first page can outlast the timeout, and
    a role that sits out would leave its pages out of the soak."""
    for attempt in range(1, LOGIN_TRIES + 1):
        try:
            async with logins:  # people arrive one at a time: a login is a deliberately slow bcrypt check
                await log_in(page, base, username)
            return True
        except Exception as problem:
            print(f"  {username}: login try {attempt} failed ({type(problem).__name__})")
    return False


async def worker(browser: Any, base: str, username: str, role: str, mix: list[tuple[str, str]],
                 soak: Soak, logins: asyncio.Lock) -> None:  # fmt: skip
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    # 127.0.0.1 only: anything else is refused (and the no-outside-requests test fails on it).
    await context.route(lambda url: not url.startswith(base) and not url.startswith(("data:", "blob:")),
                        lambda route: route.abort())  # fmt: skip
    page = await context.new_page()
    try:
        if not await logged_in(page, base, username, logins):
            print(f"  {username} could not log in in {LOGIN_TRIES} tries; this context sits out")
            return
        for address, title in itertools.cycle(mix):
            if soak.next_load() is None:
                return
            soak.record(await load(page, base, address, title))
    finally:
        await context.close()


async def drive(base: str, soak: Soak, contexts: int, sources: list[str], seed: int) -> None:
    from playwright.async_api import async_playwright

    rng = random.Random(seed)
    accounts = [ACCOUNTS[i % len(ACCOUNTS)] for i in range(contexts)]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        logins = asyncio.Lock()
        try:
            await asyncio.gather(
                *(worker(browser, base, username, role, addresses(role, sources, rng), soak, logins)
                  for username, role in accounts)
            )  # fmt: skip
        finally:
            await browser.close()


# ---------------------------------------------------------------- the verdict


def at_loads(curve: list[tuple[int, float, float]], loads: float) -> tuple[int, float]:
    """The sample nearest to `loads` loads."""
    nearest = min(curve, key=lambda point: abs(point[0] - loads))
    return nearest[0], nearest[1]


def verdict(curve: list[tuple[int, float, float]]) -> tuple[bool, str]:
    """Levels off when the last quarter of the loads grew memory by at most half what the first quarter
    did, or by under 2% of the resident size (noise: the allocator, a cache entry's TTL)."""
    last_loads = curve[-1][0]
    if last_loads < 4:
        return False, "too few loads to judge"
    start, start_mb = curve[0][0], curve[0][1]
    q1, q1_mb = at_loads(curve, last_loads / 4)
    q3, q3_mb = at_loads(curve, last_loads * 3 / 4)
    first, last = q1_mb - start_mb, curve[-1][1] - q3_mb
    steady = last <= max(first / 2, 0.02 * curve[-1][1])
    per_thousand = last / max(last_loads - q3, 1) * 1000
    words = "LEVELS OFF" if steady else "STILL GROWS"
    # The first quarter holds the warm-up (the frames loaded, the modules imported, the caches filled):
    # say also what the loads after the first sample added, so a slow creep is not hidden behind it.
    warm, warm_mb = curve[min(1, len(curve) - 1)][0], curve[min(1, len(curve) - 1)][1]
    after = curve[-1][1] - warm_mb
    return steady, (
        f"{words}: loads {start:,}-{q1:,} added {first:+.1f} MB, loads {q3:,}-{last_loads:,} added "
        f"{last:+.1f} MB ({per_thousand:+.1f} MB per 1,000 loads at the end); after the warm-up, loads "
        f"{warm:,}-{last_loads:,} added {after:+.1f} MB in all"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000, help="demo leads to seed (default 20,000)")
    parser.add_argument("--loads", type=int, default=2_000, help="page loads in all (default 2,000)")
    parser.add_argument("--every", type=int, help="read memory every N loads (default: loads / 20)")
    parser.add_argument("--contexts", type=int, default=len(ACCOUNTS), help="browser contexts, one role each")
    parser.add_argument("--max-minutes", type=float, default=75.0, help="stop after this long (default 75)")
    parser.add_argument("--database", type=Path, help="SQLite file to use (seeded when empty)")
    parser.add_argument("--seed", type=int, default=7, help="order of the page mix")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    every = args.every or max(args.loads // 20, 1)

    with tempfile.TemporaryDirectory(prefix="huddle-soak-") as folder:
        path = args.database or Path(folder) / "soak.db"
        url, sources = demo_database(path, args.leads)
        log = Path(folder) / "streamlit.log"
        server, base = start_server(url, log)
        load_before = os.getloadavg()[0]
        print(f"server pid {server.pid} on {base}; {args.loads:,} loads from {args.contexts} contexts, memory "
              f"every {every:,} loads; load average {load_before:.1f}")  # fmt: skip
        soak = Soak(args.loads, every, server.pid, time.monotonic() + args.max_minutes * 60)
        try:
            soak.sample()
            asyncio.run(drive(base, soak, args.contexts, sources, args.seed))
            if soak.curve[-1][0] != soak.done:
                soak.sample()
            peak = peak_mb(server.pid)
        finally:
            stop_server(server)
            if server.returncode not in (0, -15):
                print(log.read_text()[-3000:], file=sys.stderr)

    minutes = (time.monotonic() - soak.started) / 60
    print(f"\n{soak.done:,} loads in {minutes:.1f} min ({soak.failed:,} failed), load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after; peak resident {peak or 0:.0f} MB")  # fmt: skip
    if soak.out_of_time:
        print(f"stopped at the time limit of {args.max_minutes:g} minutes")
    print("curve (loads → MB): " + ", ".join(f"{n:,} → {mb:.0f}" for n, mb, _ in soak.curve))
    steady, sentence = verdict(soak.curve)
    print(sentence)
    if soak.failed > max(soak.done // 20, 5):
        print(f"too many failed loads ({soak.failed:,} of {soak.done:,}) for the curve to mean much")
        return 2
    return 0 if steady else 1


if __name__ == "__main__":
    sys.exit(main())
