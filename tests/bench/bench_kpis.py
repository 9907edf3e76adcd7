"""Benchmark: the KPI screens at a million leads (issue #4). Not collected by pytest, no assertion on time.

Run: `.venv/bin/python tests/bench/bench_kpis.py [--database /tmp/bench-kpis/huddle.db] [--leads 1000000]
[--runs 7] [--viewers 3] [--skip-pages] [--skip-server]`. The database file is seeded with the demo company
(seed 7, today 2026-11-23) only when it is missing, then reused. Prints, as tables:

1. loading the leads: the row-by-row fetchall Huddle used before against the loader it uses now;
2. every number the Funnel page computes for its default filters, step by step, from loaded frames;
3. the Funnel numbers (per period and its comparison: flow counts, cohort conversion num/den and median
   lag, median velocity, win rate, revenue) by Huddle, by plain pandas and by SQL in DuckDB over the same
   frame, checked equal, with each one's median time and its ratio to the fastest;
4. each KPI page of ui/navigation.PAGES (not admin-only ones) under AppTest as an executive: the first run
   in a fresh process (cold caches, loading included) and the median warm rerun;
5. the resident memory of a real `streamlit run` server after one, two and three browsers (Debian's
   Chromium through Playwright) have opened the Funnel page as the demo executive.

Targets (issue #4): 2. under 150 ms; 3. Huddle fastest or within 1.5x of the fastest; 4. first under 3 s,
warm under 0.5 s; 5. peak under 1.5 GB, viewers two and three adding almost nothing. The machine is
shared and timings are noisy: medians, and the comparisons side by side in one process.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

import polars as pl  # noqa: E402

from core.filters import Filters, apply_filters  # noqa: E402
from core.funnel import PAIRS, STEPS, breakdown, funnel_steps, funnels, leads_behind, pair_key, trend  # noqa: E402
from core.kpis import revenue, win_rate  # noqa: E402
from core.periods import Period  # noqa: E402
from core.schema import LEADS_SCHEMA  # noqa: E402
from core.trends import latest_event_day  # noqa: E402
from db.engine import make_engine  # noqa: E402

SEED_TODAY = date(2026, 11, 23)
DEFAULT_DATABASE = Path("/tmp/bench-kpis/huddle.db")
EXECUTIVE, PASSWORD = "exec", "huddle-demo"
COOKIE_KEY = "b" * 48
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STAGE_COLUMN = {"created": "created_at", "mql": "mql_at", "sql": "sql_at", "opportunity": "opportunity_at"}


# ---------------------------------------------------------------- helpers


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median milliseconds of `runs` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def _cells(row: list[str], widths: list[int]) -> str:
    return "  ".join(
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(row, widths, strict=True))
    )


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  " + _cells(header, widths))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print("  " + _cells([*row, *[""] * (len(header) - len(row))], widths))


def ensure_database(path: Path, leads: int) -> str:
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    from db.demo import seed_demo
    from db.migrate import upgrade_to_head

    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"seeding {leads:,} demo leads into {path} (once; later runs reuse it)…", flush=True)
    engine = make_engine(url)
    upgrade_to_head(engine)
    started = time.perf_counter()
    seed_demo(engine, leads=leads, seed=7, today=SEED_TODAY)
    engine.dispose()
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


# ---------------------------------------------------------------- 1. loading


def bench_loading(url: str, runs: int) -> pl.DataFrame:
    from db import frames

    engine = make_engine(url)
    times = ("created_at", "mql_at", "sql_at", "opportunity_at", "closed_at", "first_touch_at")
    plain_sql = frames.LEADS_SQL.format(leads="leads", where="", **{t: f"leads.{t}" for t in times})
    before_ms, before = timed(lambda: frames.read_query(engine, plain_sql, LEADS_SCHEMA), max(1, runs // 3))
    now_ms, leads = timed(lambda: frames.load_leads(engine), max(1, runs // 3))
    people_ms, _ = timed(lambda: frames.load_people(engine), runs)
    traffic_ms, _ = timed(lambda: frames.load_traffic(engine), runs)
    same = "identical" if before.sort("id").equals(leads) else "DIFFERENT"
    table(
        f"1. Loading {leads.height:,} leads from SQLite (median of {max(1, runs // 3)}; frames {same})",
        ["loader", "seconds"],
        [
            ["load_leads before: one fetchall, row tuples to columns", f"{before_ms / 1000:.2f}"],
            ["load_leads now: json_group_array per id range", f"{now_ms / 1000:.2f}"],
            ["load_people", f"{people_ms / 1000:.3f}"],
            ["load_traffic", f"{traffic_ms / 1000:.3f}"],
        ],
    )
    engine.dispose()
    return leads


# ---------------------------------------------------------------- 2. the Funnel page's numbers


def bench_funnel_page(leads: pl.DataFrame, people: pl.DataFrame, traffic: pl.DataFrame, runs: int) -> None:
    today = datetime.now(UTC).date()
    steps: dict[str, list[float]] = {}

    def step(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        steps.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return result

    totals = []
    filters = Filters()
    for _ in range(runs):
        started = time.perf_counter()
        anchor = min(today, step("latest_event_day", latest_event_day, leads))
        frame = step("apply_filters", apply_filters, leads, people, filters)
        period, compared = filters.period(anchor), filters.comparison(anchor)
        now, _ = step("funnels(period, comparison)", funnels, frame, traffic, [period, compared], today=today)
        step("funnel_steps", funnel_steps, now)
        step("trend (week)", trend, frame, last_day=anchor, grain="week")
        step("breakdown (source)", breakdown, frame, people, now.period, "source")
        step("leads_behind (leads)", leads_behind, frame, people, now.period, "created")
        totals.append((time.perf_counter() - started) * 1000)
    rows = [[name, f"{statistics.median(ms):.1f}"] for name, ms in steps.items()]
    rows.append(["TOTAL (target < 150 ms)", f"{statistics.median(totals):.1f}"])
    table(
        f"2. The Funnel page's numbers, default filters, from loaded frames (median of {runs})",
        ["step", "ms"],
        rows,
    )


# ---------------------------------------------------------------- 3. Huddle against pandas and DuckDB


def _bounds(period: Period) -> tuple[datetime, datetime]:
    assert period.start is not None and period.end is not None
    return datetime.combine(period.start, datetime.min.time()), datetime.combine(
        period.end, datetime.min.time()
    )


def huddle_numbers(
    leads: pl.DataFrame, traffic: pl.DataFrame, periods: list[Period], today: date
) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, (period, result) in enumerate(
        zip(periods, funnels(leads, traffic, periods, today=today), strict=True)
    ):
        for s in STEPS:
            out[f"p{i}_flow_{s}"] = result.counts[s] or 0
        for a, b in PAIRS:
            conversion = result.conversions[pair_key(a, b)]
            assert conversion is not None
            out[f"p{i}_{a}_{b}_num"], out[f"p{i}_{a}_{b}_den"] = conversion.rate.num, conversion.rate.den
            lag, velocity = conversion.median_lag_days, result.velocity_days[pair_key(a, b)]
            out[f"lag_{a}_{b}"] = math.nan if lag is None else lag
            out[f"p{i}_{a}_{b}_velocity"] = math.nan if velocity is None else velocity
        wins = win_rate(leads, period)
        out[f"p{i}_win_num"], out[f"p{i}_win_den"] = wins.num, wins.den
        out[f"p{i}_revenue"] = revenue(leads, period)
    return out


def pandas_numbers(df: Any, periods: list[Period]) -> dict[str, float]:
    """The same numbers written plainly in pandas."""
    import pandas as pd

    won_at = df["closed_at"].where(df["outcome"] == "won")
    lost_at = df["closed_at"].where(df["outcome"] == "lost")
    at = {**{s: df[c] for s, c in STAGE_COLUMN.items()}, "won": won_at}
    out: dict[str, float] = {}
    for a, b in PAIRS:
        both = at[a].notna() & at[b].notna()
        seconds = (at[b][both] - at[a][both]) // pd.Timedelta(seconds=1)
        out[f"lag_{a}_{b}"] = float((seconds / 86_400).median())
    for i, period in enumerate(periods):
        start, end = _bounds(period)
        inside = {s: (t >= start) & (t < end) for s, t in at.items()}
        for s in STEPS:
            out[f"p{i}_flow_{s}"] = int(inside[s].sum())
        for a, b in PAIRS:
            cohort = inside[a]
            out[f"p{i}_{a}_{b}_den"] = int(cohort.sum())
            out[f"p{i}_{a}_{b}_num"] = int((cohort & at[b].notna()).sum())
            arrived = inside[b] & at[a].notna()
            days = (at[b][arrived].dt.floor("D") - at[a][arrived].dt.floor("D")).dt.days
            out[f"p{i}_{a}_{b}_velocity"] = float(days.median()) if len(days) else math.nan
        lost = int(((lost_at >= start) & (lost_at < end)).sum())
        won = int(inside["won"].sum())
        out[f"p{i}_win_num"], out[f"p{i}_win_den"] = won, won + lost
        out[f"p{i}_revenue"] = float(df["amount"][inside["won"]].sum())
    return out


def duckdb_sql(periods: list[Period]) -> str:
    """The same numbers as one SQL query."""
    at = {**STAGE_COLUMN, "won": "CASE WHEN outcome = 'won' THEN closed_at END"}
    lost = "CASE WHEN outcome = 'lost' THEN closed_at END"
    parts = []
    for a, b in PAIRS:
        parts.append(f"median((epoch_us({at[b]}) - epoch_us({at[a]})) // 1000000 / 86400) "
                     f"FILTER (WHERE {at[a]} IS NOT NULL AND {at[b]} IS NOT NULL) AS lag_{a}_{b}")  # fmt: skip
    for i, period in enumerate(periods):
        start, end = (f"TIMESTAMP '{t:%Y-%m-%d %H:%M:%S}'" for t in _bounds(period))

        def inside(expr: str) -> str:
            return f"({expr} >= {start} AND {expr} < {end})"  # noqa: B023 - used at once

        for s in STEPS:
            parts.append(f"count(*) FILTER (WHERE {inside(at[s])}) AS p{i}_flow_{s}")
        for a, b in PAIRS:
            parts.append(f"count(*) FILTER (WHERE {inside(at[a])}) AS p{i}_{a}_{b}_den")
            parts.append(
                f"count(*) FILTER (WHERE {inside(at[a])} AND {at[b]} IS NOT NULL) AS p{i}_{a}_{b}_num"
            )
            parts.append(f"median(date_diff('day', CAST({at[a]} AS DATE), CAST({at[b]} AS DATE))) "
                         f"FILTER (WHERE {inside(at[b])} AND {at[a]} IS NOT NULL) AS p{i}_{a}_{b}_velocity")  # fmt: skip
        parts.append(f"count(*) FILTER (WHERE {inside(at['won'])}) AS p{i}_win_num")
        parts.append(f"count(*) FILTER (WHERE {inside(at['won'])} OR {inside(lost)}) AS p{i}_win_den")
        parts.append(f"coalesce(sum(amount) FILTER (WHERE {inside(at['won'])}), 0) AS p{i}_revenue")
    return "SELECT " + ",\n  ".join(parts) + " FROM leads"


def _same(a: dict[str, float], b: dict[str, float]) -> list[str]:
    wrong = []
    for key, value in a.items():
        other = b.get(key)
        if other is None or not (
            (math.isnan(value) and math.isnan(other))
            or math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-9)
        ):
            wrong.append(f"{key}: {value} vs {other}")
    return wrong


def bench_engines(leads: pl.DataFrame, traffic: pl.DataFrame, runs: int) -> None:
    import duckdb

    today = datetime.now(UTC).date()
    anchor = min(today, latest_event_day(leads) or today)
    filters = Filters()
    periods = [filters.period(anchor), filters.comparison(anchor)]
    df = leads.to_pandas()  # not timed
    connection = duckdb.connect()
    connection.register("leads", leads.to_arrow())  # not timed
    sql = duckdb_sql(periods)

    def via_duckdb() -> dict[str, float]:
        cursor = connection.execute(sql)
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        assert row is not None
        return {n: (math.nan if v is None else float(v)) for n, v in zip(names, row, strict=True)}

    engines: dict[str, Callable[[], dict[str, float]]] = {
        "Huddle (polars, core.funnel.funnels + kpis)": lambda: huddle_numbers(leads, traffic, periods, today),
        "pandas 3, written plainly": lambda: pandas_numbers(df, periods),
        "DuckDB 2, one SQL query": via_duckdb,
    }
    for fn in engines.values():
        fn()  # warm up each once, outside the timings
    times: dict[str, list[float]] = {name: [] for name in engines}
    results: dict[str, dict[str, float]] = {}
    for _ in range(runs):  # side by side, round after round
        for name, fn in engines.items():
            started = time.perf_counter()
            results[name] = fn()
            times[name].append((time.perf_counter() - started) * 1000)
    reference = results[next(iter(engines))]
    medians = {name: statistics.median(ms) for name, ms in times.items()}
    fastest = min(medians.values())
    rows = []
    for name, ms in medians.items():
        wrong = _same(reference, results[name])
        check = "same numbers" if not wrong else f"{len(wrong)} differ: {wrong[:2]}"
        rows.append([name, f"{ms:.1f}", f"{ms / fastest:.2f}x", check])
    table(
        f"3. The Funnel numbers ({periods[0].label} and {periods[1].label}; {len(reference)} numbers), "
        f"median of {runs}, ratio to the fastest (target: Huddle <= 1.5x)",
        ["engine", "ms", "ratio", "check"],
        rows,
    )


# ---------------------------------------------------------------- 4. pages under AppTest


def page_worker(url: str, page_path: str, runs: int) -> None:
    """In a fresh process: the page's first run (cold caches) and its warm reruns, as JSON on stdout."""
    os.environ.update(DATABASE_URL=url, HUDDLE_COOKIE_KEY=COOKIE_KEY, HUDDLE_DEMO="0")
    from tests.pages.conftest import logged_in_app  # logs in exactly as the page tests do

    at = logged_in_app(EXECUTIVE)
    at.default_timeout = 300
    # The first run logs in and lands on the Overview, as a person does: that is "first load after start"
    # (cold caches, the leads loaded). The page is then opened from the navigation the login built.
    started = time.perf_counter()
    at.run()
    start_up = time.perf_counter() - started
    at.switch_page(page_path)
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    problems = [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
    problem = problems[0] if problems else ""
    # A page that learns on a worker thread (Targeting criteria) says so and polls: warm reruns are timed
    # once what it learns is on the page, and how long that took is reported too.
    started, learning = time.perf_counter(), still_learning(at)
    while still_learning(at) and time.perf_counter() - started < LEARNING_LIMIT_S:
        time.sleep(1.0)
        at.run()
    ready = time.perf_counter() - started if learning else None
    warm = []
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - started)
    titles = [t.value for t in at.title]
    print(
        json.dumps(
            {
                "start_up": start_up,
                "first": first,
                "ready": ready,
                "warm": warm,
                "titles": titles,
                "problem": problem,
            }
        )
    )


EXECUTIVE_ROLE = "executive"
LEARNING_LIMIT_S = 900.0


def still_learning(at: Any) -> bool:
    return any(str(i.value).startswith("Learning the suggestion") for i in at.info)


def bench_pages(url: str, runs: int) -> None:
    from ui.navigation import PAGES

    rows = []
    for spec in PAGES:
        if EXECUTIVE_ROLE not in spec.roles:  # the admin's and the reps' own screens
            continue
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--page-worker", spec.path, "--database-url", url, "--runs", str(runs)],
            capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
        )  # fmt: skip
        process = time.perf_counter() - started
        try:
            report = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            rows.append(
                [spec.title, "failed", "", "", "", "", " ".join(done.stderr.strip().splitlines()[-1:])]
            )
            continue
        warm = report["warm"]
        note = report["problem"] or ("" if spec.title in report["titles"] else f"titles {report['titles']}")
        if report.get("ready") is not None:
            note = (
                f"{note + '; ' if note else ''}what it learns on the page after {report['ready']:.1f} s more"
            )
        rows.append([spec.title, f"{report['start_up']:.2f}", f"{report['first']:.2f}",
                     f"{statistics.median(warm):.3f}", f"{min(warm):.3f}-{max(warm):.3f}", f"{process:.1f}",
                     note or "ok"])  # fmt: skip
    table(
        f"4. KPI pages under AppTest as {EXECUTIVE!r}, each in a fresh process: login and the first screen "
        f"(cold caches), then the page opened, then warm reruns (median of {runs}); targets: first load "
        "< 3 s, warm < 0.5 s",
        ["page", "login + first screen s", "page opened s", "warm s", "warm range", "process s", "note"],
        rows,
    )


# ---------------------------------------------------------------- 5. server memory with 1, 2, 3 viewers


def _memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB of the process and its children."""
    rss = hwm = 0.0
    pids = [pid, *[int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]]
    for one in pids:
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{one}/status").read_text().splitlines() if ":" in line
        )
        rss += int(status["VmRSS"].split()[0]) / 1024
        hwm += int(status["VmHWM"].split()[0]) / 1024
    return rss, hwm


def bench_server(url: str, viewers: int) -> None:
    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "DATABASE_URL": url, "HUDDLE_DEMO": "1", "HUDDLE_COOKIE_KEY": COOKIE_KEY}
    log = open(Path(url.removeprefix("sqlite:///")).with_name("streamlit.log"), "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless",
         "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        rss, hwm = _memory(server.pid)
        rows.append(["server started, nobody yet", f"{rss:.0f}", f"{hwm:.0f}", ""])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            contexts = []
            for n in range(1, viewers + 1):
                context = browser.new_context(viewport={"width": 1440, "height": 1000})
                contexts.append(context)
                page = context.new_page()
                started = time.perf_counter()
                page.goto(f"{base}/funnel")
                shown_page = page.get_by_text("Conversion and velocity")
                shown_page.or_(page.get_by_label("Username")).first.wait_for(timeout=120_000)
                if not shown_page.count():  # the login form (a session may already be signed in)
                    page.get_by_label("Username").fill(EXECUTIVE)
                    page.get_by_role("textbox", name="Password").fill(PASSWORD)
                    page.get_by_role("button", name="Log in").click()
                shown_page.wait_for(timeout=120_000)
                page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(
                    timeout=120_000
                )
                shown = time.perf_counter() - started
                time.sleep(1.0)
                rss, hwm = _memory(server.pid)
                rows.append([f"{n} viewer{'s' if n > 1 else ''} on the Funnel page", f"{rss:.0f}", f"{hwm:.0f}",
                             f"{shown:.1f}"])  # fmt: skip
            for context in contexts:
                context.close()
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    table(
        "5. `streamlit run app.py` server memory (MB; peak target < 1536, viewers 2 and 3 adding almost nothing)",
        ["moment", "VmRSS", "VmHWM (peak)", "login to page shown, s"],
        rows,
    )


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", type=Path, default=DEFAULT_DATABASE)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--viewers", type=int, default=3)
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--page-worker", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.page_worker:
        page_worker(args.database_url, args.page_worker, args.runs)
        return
    url = ensure_database(args.database, args.leads)
    print(
        f"database {args.database}; load average at start {load_average()}; polars threads {pl.thread_pool_size()}"
    )
    from db.frames import load_people, load_traffic

    leads = bench_loading(url, args.runs)
    engine = make_engine(url)
    people, traffic = load_people(engine), load_traffic(engine)
    engine.dispose()
    bench_funnel_page(leads, people, traffic, args.runs)
    bench_engines(leads, traffic, args.runs)
    if not args.skip_pages:
        bench_pages(url, args.runs)
    if not args.skip_server:
        bench_server(url, args.viewers)
    print(f"\nload average at the end {load_average()}")


if __name__ == "__main__":
    main()
