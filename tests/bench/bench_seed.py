"""Benchmark: how long `seed --demo` takes on SQLite (issue target: 1,000,000 leads in under 60 s).

Run: `.venv/bin/python tests/bench/bench_seed.py [--leads N] [--runs K]` (or `make bench`). Prints the median
of K runs and the rows per second; each run seeds a fresh database file. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from db.demo import seed_demo
from db.engine import make_engine
from db.migrate import upgrade_to_head


def one_run(leads: int, folder: Path, run: int) -> float:
    engine = make_engine(f"sqlite:///{folder / f'bench-{run}.db'}")
    upgrade_to_head(engine)
    started = time.perf_counter()
    seed_demo(engine, leads=leads, seed=7, today=date(2026, 11, 23))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        times = [one_run(args.leads, Path(folder), run) for run in range(args.runs)]
    median = statistics.median(times)
    print(f"seed --demo --leads {args.leads:,} on SQLite: median {median:.1f} s over {args.runs} runs "
          f"({', '.join(f'{t:.1f}' for t in times)}), {args.leads / median:,.0f} leads/s")  # fmt: skip


if __name__ == "__main__":
    main()
