"""Benchmark: the Content health page and "content for this lead" at scale (issue 14). Not collected by
pytest, no assertion on time.

Run: `.venv/bin/python tests/bench/bench_content.py [--leads 1000000] [--assets 2000] [--uses 500000]
[--runs 5] [--database FILE]`. The database (by default /tmp/bench-content/demo-<leads>.db) is seeded with
the demo company (seed 7, today 2026-11-23) when it is missing, and reused when present. Its content is
replaced by the benchmark's own (seeded, numpy): --assets assets (5% archived, audiences drawn from the
demo's values), one link version each, --uses uses (unique per asset, lead and rep; 60% on leads with an
opportunity, used between the opportunity and its close, the rest after the lead was created; the rep is
the lead's owner where it has one), a helped? rating on 20% of the uses, 300 requests with votes.

Measures, as medians:
1. first open, loaders + core: db.content_frames.content_frames and ui.content_health.compute_health,
   uncached, step by step, in this process (the database file is in the OS cache after the first run);
2. the page under AppTest (screens/content_health.py as a marketer, past the login gate): its first run
   in a fresh process (cold caches: loading, the numbers and drawing) and its warm rerun (the stamp query
   and the cache), --runs fresh processes;
3. "content for this lead" for --runs × 20 random leads: (a) db.content.lead_content, the reader that
   reads the library on each call, and (b) core.content_match.content_for_lead on the library loaded once
   (what the rating card does over its cached library), each lead's row read by id.

Aims (issue 14): warm rerun under 0.5 s, first open under 3 s, content for a lead under 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from db.engine import make_engine  # noqa: E402
from tests.bench.bench_tuning import ensure_seeded  # noqa: E402  (the same seeded demo database)

SEED_TODAY = date(2026, 11, 23)
MARKETER = "marketer"
KINDS = ["case_study", "deck", "one_pager", "email_template", "battle_card", "video", "other"]
STAGES = ["lead", "mql", "sql", "opportunity"]
REASONS = ["won_trust", "answered_objection", "wrong_persona", "out_of_date", "too_long", "missing_data"]
TEXT_TIME = "%Y-%m-%d %H:%M:%S.%f"


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median milliseconds of `runs` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  " + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in
                               enumerate(zip(row, widths, strict=True))))  # fmt: skip


# ---------------------------------------------------------------- the database


def _text(moments: np.ndarray) -> list[str]:
    """numpy datetime64[us] as the naive UTC text SQLite holds."""
    return [str(m).replace("T", " ") + ("" if "." in str(m) else ".000000") for m in moments]


def fill_content(path: Path, *, assets: int, uses: int, seed: int = 14) -> None:
    """Replace the database's content with the benchmark's (the demo's own, if any, is dropped)."""
    from db.frames import load_leads, load_people

    rng = np.random.default_rng(seed)
    engine = make_engine(f"sqlite:///{path}")
    leads = load_leads(engine).select("id", "created_at", "opportunity_at", "closed_at", "owner_id", "industry",
                                      "company_size", "persona")  # fmt: skip
    people = load_people(engine)
    engine.dispose()
    reps = people.filter(pl.col("role") == "rep")["user_id"].to_numpy()
    today = np.datetime64(datetime.combine(SEED_TODAY, datetime.min.time()), "us")

    def values(column: str) -> list[str]:
        return sorted(leads[column].drop_nulls().unique().to_list())

    audiences = {c: values(c) for c in ("industry", "company_size", "persona")}

    def audience(options: list[str]) -> str:
        if rng.random() < 0.5:
            return "[]"
        return json.dumps(sorted(rng.choice(options, size=min(len(options), int(rng.integers(1, 3))),
                                            replace=False).tolist()))  # fmt: skip

    created = today - (rng.integers(1, 3 * 365, size=assets) * 86_400_000_000).astype("timedelta64[us]")
    archived = rng.random(assets) < 0.05
    asset_rows = [
        (i + 1, f"Asset {i + 1}", KINDS[int(rng.integers(len(KINDS)))], json.dumps([STAGES[int(rng.integers(4))]]),
         audience(audiences["persona"]), audience(audiences["industry"]), audience(audiences["company_size"]),
         None if rng.random() < 0.3 else str(SEED_TODAY - timedelta(days=int(rng.integers(0, 400)))),
         1, _text(np.array([today]))[0] if archived[i] else None, c, c)
        for i, c in enumerate(_text(created))
    ]  # fmt: skip

    # Uses: 60% on opportunities (between opening and close, or today), the rest after the lead was made.
    # Drawn 10% over and cut to --uses once a repeated (asset, lead, rep) is dropped.
    deals = leads.filter(pl.col("opportunity_at").is_not_null())
    drawn = int(uses * 1.1)
    on_deals = int(drawn * 0.6)
    picked = pl.concat(
        [
            deals.sample(on_deals, with_replacement=True, seed=seed),
            leads.sample(drawn - on_deals, with_replacement=True, seed=seed + 1),
        ]
    ).sample(fraction=1.0, shuffle=True, seed=seed + 2)
    start = picked["opportunity_at"].fill_null(picked["created_at"]).to_numpy().astype("datetime64[us]")
    end = picked["closed_at"].fill_null(pl.lit(today)).to_numpy().astype("datetime64[us]")
    span = np.maximum((end - start).astype("int64"), 1)
    used_at = np.minimum(
        start + (rng.random(len(picked)) * span).astype("int64").astype("timedelta64[us]"), today
    )
    owners = picked["owner_id"].to_numpy()
    user = np.where(np.isnan(owners.astype(float)), rng.choice(reps, size=len(picked)), owners).astype(
        np.int64
    )
    # 70% of the assets are ever used, the popular ones far more (a Zipf-like spread).
    in_use = max(1, int(assets * 0.7))
    weights = 1.0 / np.arange(1, in_use + 1) ** 0.8
    asset_of = rng.choice(rng.permutation(assets)[:in_use] + 1, size=len(picked), p=weights / weights.sum())
    use_frame = (
        pl.DataFrame(
            {"asset_id": asset_of, "lead_id": picked["id"].to_numpy(), "user_id": user, "used_at": used_at}
        )
        .unique(["asset_id", "lead_id", "user_id"], keep="first", maintain_order=True)
        .head(uses)
    )
    use_rows = list(zip(use_frame["asset_id"].to_list(), use_frame["lead_id"].to_list(),
                        use_frame["user_id"].to_list(), _text(use_frame["used_at"].to_numpy()), strict=True))  # fmt: skip

    rated = use_frame.sample(fraction=0.2, seed=seed)
    stars = rng.choice([1, 2, 3, 4, 5], size=rated.height, p=[0.08, 0.12, 0.25, 0.35, 0.2])
    reason = [json.dumps([REASONS[int(rng.integers(len(REASONS)))]]) if rng.random() < 0.6 else "[]"
              for _ in range(rated.height)]  # fmt: skip
    moments = _text(rated["used_at"].to_numpy())
    rating_rows = list(zip(rated["asset_id"].to_list(), rated["lead_id"].to_list(), rated["user_id"].to_list(),
                           stars.tolist(), reason, moments, moments, strict=True))  # fmt: skip

    statuses = ["open", "open", "accepted", "in_progress", "done", "declined"]
    request_rows = [
        (i + 1, f"Request {i + 1}", statuses[int(rng.integers(len(statuses)))], int(rng.choice(reps)),
         _text(np.array([today - np.timedelta64(int(rng.integers(0, 200)), "D")]))[0])
        for i in range(300)
    ]  # fmt: skip
    vote_rows = {(int(rng.integers(1, 301)), int(rng.choice(reps))) for _ in range(1000)}

    with sqlite3.connect(path) as connection:
        for name in ("content_rating_history", "content_ratings", "content_uses", "content_request_votes",
                     "content_requests", "content_versions", "content_assets"):  # fmt: skip
            connection.execute(f"DELETE FROM {name}")
        connection.executemany(
            "INSERT INTO content_assets (id, title, kind, stages, personas, industries, company_sizes, "
            "last_reviewed_on, current_version, archived_at, created_at, updated_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            asset_rows,
        )
        connection.executemany(
            "INSERT INTO content_versions (asset_id, version, link, created_at) VALUES (?, 1, ?, ?)",
            [(r[0], f"https://example.com/{r[0]}", r[10]) for r in asset_rows],
        )
        connection.executemany(
            "INSERT INTO content_uses (asset_id, lead_id, user_id, used_at) VALUES (?, ?, ?, ?)", use_rows
        )
        connection.executemany(
            "INSERT INTO content_ratings (asset_id, lead_id, rater_id, stars, reasons, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rating_rows,
        )
        connection.executemany(
            "INSERT INTO content_requests (id, what, status, requested_by_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(*r, r[4]) for r in request_rows],
        )
        connection.executemany(
            "INSERT INTO content_request_votes (request_id, user_id, created_at) VALUES (?, ?, ?)",
            [(r, u, request_rows[r - 1][4]) for r, u in sorted(vote_rows)],
        )
    print(f"content: {assets:,} assets, {len(use_rows):,} uses, {len(rating_rows):,} ratings, 300 requests",
          flush=True)  # fmt: skip


def content_count(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as connection:
        assets = connection.execute("SELECT count(*) FROM content_assets").fetchone()[0]
        uses = connection.execute("SELECT count(*) FROM content_uses").fetchone()[0]
    return int(assets), int(uses)


# ---------------------------------------------------------------- 1. loaders and core


def bench_loaders(url: str, runs: int) -> None:
    from db.content_frames import (
        content_stamp,
        load_assets,
        load_opportunities,
        load_ratings,
        load_requests,
        load_uses,
        load_versions,
    )
    from db.frames import load_people
    from ui.content_health import compute_health

    engine = make_engine(url)
    steps: dict[str, list[float]] = {}

    def step(name: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = fn()
        steps.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return result

    from db.content_frames import ContentFrames

    sizes = ""
    for _ in range(runs):
        started = time.perf_counter()
        step("content_stamp", lambda: content_stamp(engine))
        frames = ContentFrames(
            assets=step("load_assets", lambda: load_assets(engine)),
            versions=step("load_versions", lambda: load_versions(engine)),
            uses=step("load_uses", lambda: load_uses(engine)),
            ratings=step("load_ratings", lambda: load_ratings(engine)),
            requests=step("load_requests", lambda: load_requests(engine)),
            people=step("load_people", lambda: load_people(engine)),
            opportunities=step("load_opportunities", lambda: load_opportunities(engine)),
        )
        loaded = frames
        step("compute_health (every number of the page)", lambda: compute_health(loaded, SEED_TODAY))  # noqa: B023
        steps.setdefault("TOTAL first open, loaders + core (aim < 3 s)", []).append(
            (time.perf_counter() - started) * 1000
        )
        sizes = (f"{frames.assets.height:,} assets, {frames.uses.height:,} uses, {frames.ratings.height:,} "
                 f"ratings, {frames.opportunities.height:,} opportunities")  # fmt: skip
    engine.dispose()
    table(f"1. Loaders and core, uncached (median of {runs}; {sizes})", ["step", "ms"],
          [[name, f"{statistics.median(ms):.1f}"] for name, ms in steps.items()])  # fmt: skip


# ---------------------------------------------------------------- 2. the page under AppTest


def page_child(url: str, warm_runs: int) -> dict[str, Any]:
    """In a fresh process: the page's first run (cold caches) and its warm reruns, as a marketer."""
    os.environ.update(
        DATABASE_URL=url, HUDDLE_DEMO="1", HUDDLE_TODAY=str(SEED_TODAY), HUDDLE_COOKIE_KEY="b" * 48
    )
    from streamlit.testing.v1 import AppTest

    from db.models import Role
    from db.users import get_user
    from ui.auth import CurrentUser

    engine = make_engine(url)
    from db.engine import write_session

    with write_session(engine) as session:
        marketer = get_user(session=session, username=MARKETER)
        assert marketer is not None and marketer.id is not None
        user = CurrentUser(id=marketer.id, username=MARKETER, name=marketer.name, role=Role.marketer,
                           team_id=marketer.team_id)  # fmt: skip
    engine.dispose()
    at = AppTest.from_file(str(PROJECT_ROOT / "screens" / "content_health.py"), default_timeout=120)
    at.session_state["huddle_user"] = user
    started = time.perf_counter()
    at.run()
    first = (time.perf_counter() - started) * 1000
    assert not at.exception, at.exception
    titles = [t.value for t in at.title]
    warm = []
    for _ in range(warm_runs):
        started = time.perf_counter()
        at.run()
        warm.append((time.perf_counter() - started) * 1000)
    return {"first_ms": first, "warm_ms": statistics.median(warm), "titles": titles,
            "tables": len(at.dataframe), "metric": at.metric[0].value if at.metric else None}  # fmt: skip


def bench_page(url: str, runs: int) -> None:
    firsts, warms, last = [], [], {}
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, __file__, "--child-page", url],
            check=True, capture_output=True, text=True, cwd=PROJECT_ROOT,
        ).stdout  # fmt: skip
        last = json.loads(output.strip().splitlines()[-1])
        firsts.append(last["first_ms"])
        warms.append(last["warm_ms"])
    table(
        f"2. Content health under AppTest as a marketer ({runs} fresh processes; used share "
        f"{last['metric']}, {last['tables']} tables)",
        ["run", "seconds"],
        [
            ["first open, cold caches (aim < 3 s)", f"{statistics.median(firsts) / 1000:.2f}"],
            ["  each", " / ".join(f"{ms / 1000:.2f}" for ms in firsts)],
            ["warm rerun, median of 5 per process (aim < 0.5 s)", f"{statistics.median(warms) / 1000:.3f}"],
        ],
    )


# ---------------------------------------------------------------- 3. content for this lead


def bench_for_lead(url: str, runs: int) -> None:
    from core.content import helped_by_asset
    from core.content_match import LeadProfile, content_for_lead, lead_stage
    from db.content import lead_content
    from db.content_frames import load_assets, load_ratings

    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        ids = [
            r[0] for r in connection.execute("SELECT id FROM leads ORDER BY random() LIMIT ?", (runs * 20,))
        ]
    engine = make_engine(url)
    lead_content(engine, lead_id=ids[0])  # the first call imports and opens the connection
    reader = []
    for lead_id in ids:
        started = time.perf_counter()
        lead_content(engine, lead_id=lead_id)
        reader.append((time.perf_counter() - started) * 1000)
    # The library loaded once (the app keeps it per content stamp), the helped share joined.
    helped = helped_by_asset(load_ratings(engine)).select("asset_id", pl.col("share").alias("helped_share"))
    library = (
        load_assets(engine).filter(pl.col("archived_at").is_null()).join(helped, on="asset_id", how="left")
    )
    engine.dispose()
    cached = []
    with sqlite3.connect(path) as connection:
        for lead_id in ids:
            started = time.perf_counter()
            mql, sql, opportunity, closed, persona, industry, size = connection.execute(
                "SELECT mql_at, sql_at, opportunity_at, closed_at, persona, industry, company_size FROM leads "
                "WHERE id = ?",
                (lead_id,),
            ).fetchone()
            stage = lead_stage(mql_at=mql, sql_at=sql, opportunity_at=opportunity, closed_at=closed)
            content_for_lead(
                library, LeadProfile(stage=stage, persona=persona, industry=industry, company_size=size)
            )
            cached.append((time.perf_counter() - started) * 1000)
    table(
        f"3. Content for this lead ({len(ids)} random leads; aim < 100 ms)",
        ["how", "median ms", "slowest ms"],
        [
            ["db.content.lead_content: reads the library on each call", f"{statistics.median(reader):.1f}",
             f"{max(reader):.1f}"],
            ["core.content_match on the library loaded once (the rating card's way)",
             f"{statistics.median(cached):.1f}", f"{max(cached):.1f}"],
        ],
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--uses", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", type=Path)
    parser.add_argument("--child-page", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_page:
        print(json.dumps(page_child(args.child_page, warm_runs=5)))
        return
    path = args.database or Path(f"/tmp/bench-content/demo-{args.leads}.db")
    ensure_seeded(path, args.leads)
    if content_count(path) != (args.assets, args.uses):
        fill_content(path, assets=args.assets, uses=args.uses)
    url = f"sqlite:///{path}"
    print(f"database {path}; load {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    bench_loaders(url, args.runs)
    bench_page(url, args.runs)
    bench_for_lead(url, args.runs)


if __name__ == "__main__":
    main()
