"""Benchmark: importing a 1,000,000-row generic CSV through a mapping (issue target: under 60 s, peak
memory under 2 GB).

Run: `.venv/bin/python tests/bench/bench_import.py [--rows N] [--runs K] [--reference read_csv|seed|both]
[--postgres] [--rated [--rated-by owner|imported]]`. Not collected by pytest (bench_*.py is not a test
file name).

With `--rated` the file gains a sales-quality column filled on half the rows (High / Medium / Low), and
each run also imports it through the same mapping with a `[rating]` section, into a database of its own:
the rated first import and re-import stand beside the unrated ones of the same run. The ratings are the
owner's (`--rated-by owner`, the default) or the pseudo-rater's (`--rated-by imported`: rater =
"Imported rating", as for an export whose quality column has no owner).

It writes one realistic CSV (ids, dates, outcomes, amounts, 50 owners, sources, industries, a quoted
company name; fixed seed) into a temporary folder, then for each of K runs, on a fresh database:
the first import (every lead created), a re-import of the same file (every lead unchanged), and a
reference operation on the same machine at the same moment, because a shared 2-core machine is noisy:
`polars.read_csv` of the same file and/or the demo seeder writing the same number of leads.

Each of these runs in its own Python process, which reports the seconds spent in the call being measured
and its own peak resident memory (`ru_maxrss`: the whole process, interpreter and imports included).
The table shows the median of the K runs and every run's figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SEED = 20261123
PG_ADMIN_DSN = os.environ.get("HUDDLE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MAPPING = """
[source]
name = "bench"
label = "Benchmark CRM"

[columns]
external_id = "Record ID"
created_date = "Create Date"
mql_date = "MQL Date"
close_date = "Close Date"
amount = "Amount"
owner = "Owner"
source = "Lead Source"
industry = "Industry"

[outcome]
column = "Deal Stage"

[outcome.values]
"Closed Won" = "won"
"Closed Lost" = "lost"
"Open" = "open"
"" = "open"
"""
RATING = """
[rating]
column = "Quality"
{rater}

[rating.values]
High = 5
Medium = 3
Low = 1
"""
FIRST_NAMES = (
    "Ana", "Ben", "Carla", "David", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Kemal", "Lena", "Marco", "Nadia", "Omar", "Paula", "Quentin", "Rosa", "Sami", "Tess",
    "Umar", "Vera", "Walter", "Xenia", "Yusuf",
)  # fmt: skip
LAST_NAMES = ("Keller", "Okafor")
SOURCES = ("Organic Search", "Paid Search", "Paid Social", "Email", "Referral", "Direct", "Events", "Partner")
INDUSTRIES = (
    "Software", "Retail", "Manufacturing", "Healthcare", "Finance", "Education",
    "Logistics", "Media", "Energy", "Hospitality", "Construction", "Public Sector",
)  # fmt: skip
COMPANY_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Tyrell")
COMPANY_SUFFIXES = (" GmbH", " Ltd", " Inc.", ", Inc.", " & Sons", ' "North"', " S.A.", " BV")


# ---------------------------------------------------------------- the file


def mapping_text(rated_by: str | None) -> str:
    """The benchmark's mapping; with `rated_by` ("owner" or "imported") its [rating] section too."""
    if rated_by is None:
        return MAPPING
    return MAPPING + RATING.format(rater='rater = "Imported rating"' if rated_by == "imported" else "")


def write_csv(rows: int, path: Path, rated: bool = False) -> None:
    """A CRM-style export of `rows` leads; the same rows for the same count, whatever the machine."""
    import numpy as np
    import polars as pl

    rng = np.random.Generator(np.random.PCG64(SEED))
    start = np.datetime64("2023-01-01T00:00:00", "s")
    created = start + rng.integers(0, 3 * 365 * 86_400, rows).astype("timedelta64[s]")
    is_mql = rng.random(rows) < 0.45
    mql = created + rng.integers(3_600, 30 * 86_400, rows).astype("timedelta64[s]")
    closes = is_mql & (rng.random(rows) < 0.55)
    won = closes & (rng.random(rows) < 0.35)
    closed = mql + rng.integers(86_400, 120 * 86_400, rows).astype("timedelta64[s]")
    amount = np.round(rng.lognormal(9.0, 0.9, rows), 2)
    owners = [f"{first} {last}" for last in LAST_NAMES for first in FIRST_NAMES]
    company = [f"{word}{suffix}" for word in COMPANY_WORDS for suffix in COMPANY_SUFFIXES]

    def pick(values: tuple[str, ...] | list[str], weights: np.ndarray | None = None) -> pl.Series:
        return pl.Series(values, dtype=pl.String).gather(rng.choice(len(values), rows, p=weights))

    def where(keep: np.ndarray, values: pl.Series) -> pl.Series:
        """`values` where `keep`, else null (written as an empty cell)."""
        return values.zip_with(pl.Series(keep), pl.Series([None] * rows, dtype=pl.String))

    def times(values: np.ndarray, keep: np.ndarray) -> pl.Series:
        return where(keep, pl.Series(values.astype("datetime64[ms]")).dt.strftime("%Y-%m-%d %H:%M:%S"))

    stage = np.where(won, "Closed Won", np.where(closes, "Closed Lost", "Open"))
    frame = pl.DataFrame(
        {
            "Record ID": pl.Series(rng.permutation(rows) + 1)
            .cast(pl.String)
            .str.zfill(8)
            .str.replace("^", "CRM-"),
            "Company": pick(company),
            "Create Date": times(created, np.ones(rows, dtype=bool)),
            "MQL Date": times(mql, is_mql),
            "Deal Stage": where(is_mql, pl.Series(stage)),
            "Close Date": times(closed, closes),
            "Amount": where(closes, pl.Series(amount).cast(pl.String)),
            "Owner": pick(owners),
            "Lead Source": pick(SOURCES, np.array([0.24, 0.22, 0.2, 0.12, 0.07, 0.09, 0.04, 0.02])),
            "Industry": pick(INDUSTRIES),
            "Country": pick(("Germany", "France", "United Kingdom", "Spain", "Netherlands", "Poland")),
            # One row in fifty has a two-line note: a quoted value spanning lines, as CRMs export them.
            "Notes": where(rng.random(rows) < 0.02, pl.Series(["Called twice.\nWants a demo in Q3"] * rows)),
        }
    )
    if rated:
        quality = pick(("High", "Medium", "Low"), np.array([0.3, 0.4, 0.3]))
        frame = frame.with_columns(where(rng.random(rows) < 0.5, quality).alias("Quality"))
    frame.write_csv(path)


# ---------------------------------------------------------------- one measured step, in its own process


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def child(step: str, url: str, csv: Path, rows: int) -> dict[str, object]:
    """Run one step and return its seconds, the process's peak RSS and what it did."""
    if step == "read_csv":
        import polars as pl

        started = time.perf_counter()
        height = pl.read_csv(csv, infer_schema=False).height
        return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "detail": f"{height:,} rows"}
    from db.engine import make_engine

    engine = make_engine(url)
    if step == "seed":
        from db.demo import seed_demo

        started = time.perf_counter()
        seed_demo(engine, leads=rows, seed=7, today=date(2026, 11, 23))
        seconds = time.perf_counter() - started
        detail = f"{rows:,} demo leads"
    else:
        from db.access import OPERATOR
        from db.importing.mapping import parse_mapping
        from db.importing.run import RunOptions, import_csv

        rated_by = step.removeprefix("import-rated-") if step.startswith("import-rated-") else None
        started = time.perf_counter()
        mapping = parse_mapping(mapping_text(rated_by))
        result = import_csv(engine, csv, mapping, options=RunOptions(actor=OPERATOR))
        seconds = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"the import was refused: {result.describe()[:2000]}")
        assert result.counts is not None
        detail = result.counts.describe()
    engine.dispose()
    return {"seconds": seconds, "peak_mb": _peak_mb(), "detail": detail}


def measure(step: str, url: str, csv: Path, rows: int) -> dict[str, object]:
    command = [
        sys.executable,
        __file__,
        "--child",
        step,
        "--url",
        url,
        "--csv",
        str(csv),
        "--rows",
        str(rows),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stdout}\n{done.stderr}")
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


# ---------------------------------------------------------------- databases


@contextmanager
def sqlite_database(folder: Path, run: int, step: str) -> Iterator[str]:
    yield f"sqlite:///{folder / f'{step}-{run}.db'}"


@contextmanager
def postgres_database(folder: Path, run: int, step: str) -> Iterator[str]:
    import psycopg

    name = f"huddle_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rpartition("/")[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated(url: str) -> str:
    from db.engine import make_engine
    from db.migrate import upgrade_to_head

    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    return url


# ---------------------------------------------------------------- the report


def run_backend(backend: str, args: argparse.Namespace, csv: Path, folder: Path) -> list[tuple[str, list]]:
    database = postgres_database if backend == "PostgreSQL" else sqlite_database
    steps = ["first import", "re-import"]
    if args.rated:
        steps += ["first import, rated", "re-import, rated"]
    if args.reference in ("read_csv", "both"):
        steps.append("polars.read_csv")
    if args.reference in ("seed", "both"):
        steps.append("seed_demo")
    results: dict[str, list[dict[str, object]]] = {step: [] for step in steps}
    for run in range(args.runs):
        with database(folder, run, "import") as url:
            migrated(url)
            results["first import"].append(measure("import", url, csv, args.rows))
            results["re-import"].append(measure("import", url, csv, args.rows))
        if args.rated:
            with database(folder, run, "rated") as url:
                migrated(url)
                rated = f"import-rated-{args.rated_by}"
                results["first import, rated"].append(measure(rated, url, csv, args.rows))
                results["re-import, rated"].append(measure(rated, url, csv, args.rows))
        if "polars.read_csv" in results:
            results["polars.read_csv"].append(measure("read_csv", "", csv, args.rows))
        if "seed_demo" in results:
            with database(folder, run, "seed") as url:
                results["seed_demo"].append(measure("seed", migrated(url), csv, args.rows))
        done = ", ".join(f"{step} {results[step][-1]['seconds']:.1f} s" for step in steps)
        print(f"  {backend} run {run + 1}/{args.runs}: {done}", flush=True)
    return list(results.items())


def print_table(backend: str, rows: int, results: list[tuple[str, list]]) -> None:
    medians = {step: statistics.median(float(r["seconds"]) for r in runs) for step, runs in results}
    print(f"\n{backend}, {rows:,} rows, median of {len(results[0][1])} runs")
    print(f"| {'step':<19} | {'median s':>8} | {'runs (s)':<22} | {'peak RSS MB':>11} | {'runs (MB)':<22} |")
    print(f"|{'-' * 21}|{'-' * 10}|{'-' * 24}|{'-' * 13}|{'-' * 24}|")
    for step, runs in results:
        seconds = [float(r["seconds"]) for r in runs]
        peaks = [float(r["peak_mb"]) for r in runs]
        print(
            f"| {step:<19} | {statistics.median(seconds):>8.1f} | {' / '.join(f'{s:.1f}' for s in seconds):<22} "
            f"| {statistics.median(peaks):>11,.0f} | {' / '.join(f'{p:,.0f}' for p in peaks):<22} |"
        )
    done = dict(results)
    print(
        f"what the import did: {done['first import'][-1]['detail']}; re-import: {done['re-import'][-1]['detail']}"
    )
    if "first import, rated" in done:
        print(
            f"rated: {done['first import, rated'][-1]['detail']}; "
            f"re-import: {done['re-import, rated'][-1]['detail']}"
        )
        for step in ("first import", "re-import"):
            plain, rated = medians[step], medians[f"{step}, rated"]
            print(f"{step}: rated {rated:.1f} s against {plain:.1f} s unrated ({rated - plain:+.1f} s)")
    for reference in ("polars.read_csv", "seed_demo"):
        if reference in medians:
            measured = [step for step, _ in results if step in ("first import", "first import, rated")]
            ratios = ", ".join(f"{step} {medians[step] / medians[reference]:.1f}x" for step in measured)
            print(f"relative to {reference} of the same rows ({medians[reference]:.1f} s): {ratios}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reference", choices=("read_csv", "seed", "both", "none"), default="read_csv")
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL (HUDDLE_TEST_PG, trust)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite (with --postgres)")
    parser.add_argument("--rated", action="store_true", help="also import with half the rows rated")
    parser.add_argument("--rated-by", choices=("owner", "imported"), default="owner")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--csv", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, Path(args.csv), args.rows)))
        return
    backends = ([] if args.no_sqlite else ["SQLite"]) + (["PostgreSQL"] if args.postgres else [])
    with tempfile.TemporaryDirectory(prefix="huddle-bench-") as name:
        folder = Path(name)
        csv = folder / "crm-export.csv"
        started = time.perf_counter()
        write_csv(args.rows, csv, rated=args.rated)
        size = csv.stat().st_size / 2**20
        print(
            f"wrote {csv.name}: {args.rows:,} rows, {size:,.0f} MB in {time.perf_counter() - started:.1f} s"
        )
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        tables = [(backend, run_backend(backend, args, csv, folder)) for backend in backends]
    for backend, results in tables:
        print_table(backend, args.rows, results)


if __name__ == "__main__":
    main()
