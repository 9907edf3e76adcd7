"""Benchmark: the tuning on the demo company with 30 attributes (issue 12). Not collected by pytest, no
assertion on time.

Run: `.venv/bin/python tests/bench/bench_tuning.py [--leads 100000] [--runs 3] [--database FILE]`. The
database (by default /tmp/bench-tuning/demo-<leads>.db) is seeded with the demo company (seed 7, today
2026-11-23) when it is missing, and reused when present. The demo's 5 custom attributes are joined by 25 the
benchmark adds to every lead's attributes JSON (seeded, once per database: 8 noisy text, 6 noisy numbers, 5
text copies of a demo attribute with half their values redrawn, 4 numbers that are a demo number times
noise, 2 text values a little more often "a" on won deals), so the learner sees 30 attributes beside the
lead's own 9 fields.

Each run is a fresh process (so its peak memory is the tuning's own) that measures:
- `db.tuning.load_learning_data` (leads, attributes typed by the catalogue), seconds;
- what `db.tuning.run_tuning(window_days=90)` does (the default goal), step by step: that load, the
  ratings, raters and active version, and the tuning alone (`tune_logged`), seconds (scikit-learn's first
  import, once a process, timed apart before it); the process's peak
  resident memory after it (ru_maxrss); with --profile, cProfile's top of the tuning;
- the proposed version's ROC AUC on the test window (the last 90 days): won against lost, and rated 4-5
  against rated lower, and its won-deal share at its own MQL volume;
- beside it, a plain scikit-learn LogisticRegression on the same columns (text one-hot, numbers cut at ten
  quantiles of the learning rows, a missing value its own category; values on fewer than 30 learning
  leads grouped) fitted on the won and lost leads created before the last 90 days, scored on them, its
  won-deal share taken at the same MQL volume (its top scores, as many as Huddle's MQLs).

Prints the medians of --runs (quality figures are the same each run). Aims (issue 12): AUC within 0.02 of
the reference, tuning under 10 s at 1M leads.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from db.engine import make_engine  # noqa: E402

SEED_TODAY = date(2026, 11, 23)
WINDOW_DAYS = 90
EXTRA_PREFIX = "bench_"
REFERENCE_BANDS = 10
REFERENCE_MIN_COUNT = 30


# ---------------------------------------------------------------- the database


def database_path(args: argparse.Namespace) -> Path:
    return args.database or Path(f"/tmp/bench-tuning/demo-{args.leads}.db")


def ensure_seeded(path: Path, leads: int) -> None:
    if path.exists():
        return
    from db.demo import seed_demo
    from db.migrate import upgrade_to_head

    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"seeding {leads:,} demo leads into {path} (once; later runs reuse it)…", flush=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    started = time.perf_counter()
    seed_demo(engine, leads=leads, seed=7, today=SEED_TODAY)
    engine.dispose()
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)


def _redrawn(rng: np.random.Generator, values: pl.Series, share: float) -> pl.Series:
    """`values` with `share` of them replaced by a value drawn from the others (a weaker copy)."""
    known = values.drop_nulls().unique().sort()
    if known.is_empty():
        return values
    picks = known.gather(rng.integers(0, known.len(), values.len()))
    return pl.select(
        pl.when(pl.Series(rng.random(values.len()) < share)).then(picks).otherwise(values)
    ).to_series()


def _missing(rng: np.random.Generator, values: pl.Series, share: float) -> pl.Series:
    return pl.select(
        pl.when(pl.Series(rng.random(values.len()) < share)).then(None).otherwise(values)
    ).to_series()


def extra_attributes(leads: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """25 attributes per lead (null where missing): noise, weaker copies of the demo's, a slight leak."""
    n = leads.height
    columns: dict[str, pl.Series] = {}
    for i in range(8):  # text noise, 3 to 10 values
        k = 3 + i
        values = pl.Series([f"value {j}" for j in range(k)]).gather(rng.integers(0, k, n))
        columns[f"noise_text_{i + 1}"] = values
    for i in range(6):  # number noise
        drawn = rng.lognormal(3.0, 1.0, n) if i % 2 else rng.normal(100, 15, n)
        columns[f"noise_number_{i + 1}"] = pl.Series(
            np.rint(drawn).astype(np.int64) if i < 3 else drawn.round(2)
        )
    for i, name in enumerate(("sign_up_form", "job_title", "last_activity", "sign_up_form", "job_title")):
        columns[f"weak_{name}_{i + 1}"] = _redrawn(rng, leads[name], 0.5 + 0.1 * i)
    seconds = leads["time_on_website"].cast(pl.Float64, strict=False)
    for i in range(2):
        columns[f"weak_seconds_{i + 1}"] = (seconds * rng.lognormal(0.0, 0.8 + 0.4 * i, n)).round(0)
    views = leads["page_views"].cast(pl.Float64)
    for i in range(2):
        columns[f"weak_views_{i + 1}"] = views + pl.Series(rng.poisson(3 + 3 * i, n).astype(np.float64))
    won = (leads["outcome"] == "won").fill_null(False).to_numpy()
    for i in range(2):
        a = rng.random(n) < np.where(won, 0.45 - 0.05 * i, 0.33)
        other = np.where(rng.random(n) < 0.5, "b", "c")
        columns[f"weak_leak_{i + 1}"] = pl.Series(np.where(a, "a", other))
    return pl.DataFrame(
        {
            f"{EXTRA_PREFIX}{name}": _missing(rng, values, 0.05 + 0.01 * (j % 10))
            for j, (name, values) in enumerate(columns.items())
        }
    )


def ensure_extras(path: Path) -> None:
    """Add the 25 benchmark attributes to every lead's attributes JSON, once per database."""
    from db.attributes import attribute_keys, load_attribute_values

    engine = make_engine(f"sqlite:///{path}")
    if any(key.startswith(EXTRA_PREFIX) for key in attribute_keys(engine)):
        engine.dispose()
        return
    started = time.perf_counter()
    values = load_attribute_values(
        engine, names=["sign_up_form", "job_title", "last_activity", "time_on_website"]
    )
    engine.dispose()
    with sqlite3.connect(path) as connection:
        own = pl.DataFrame(
            connection.execute("SELECT id, outcome, page_views FROM leads ORDER BY id").fetchall(),
            schema={"id": pl.Int64, "outcome": pl.String, "page_views": pl.Int64},
            orient="row",
        )
        leads = own.join(values, on="id", how="left", maintain_order="left")
        extras = extra_attributes(leads, np.random.default_rng(7))
        patches = extras.select(pl.struct(pl.all()).struct.json_encode().alias("patch"))["patch"]
        connection.executemany(
            "UPDATE leads SET attributes = json_patch(coalesce(attributes, '{}'), ?) WHERE id = ?",
            zip(patches.to_list(), leads["id"].to_list(), strict=True),
        )
    print(
        f"added {extras.width} attributes to {leads.height:,} leads in {time.perf_counter() - started:.0f} s"
    )


# ---------------------------------------------------------------- the reference


def _reference_columns(
    leads: pl.DataFrame, names: list[str], kinds: dict[str, str], learning: pl.Expr
) -> pl.DataFrame:
    """Every feature as text: the text value, or the number's band among REFERENCE_BANDS quantiles of the
    learning rows; missing as its own value."""
    columns = []
    for name in names:
        if kinds[name] == "text":
            columns.append(pl.col(name).cast(pl.String).fill_null("(missing)"))
            continue
        number = pl.col(name).cast(pl.Float64, strict=False)
        known = leads.filter(learning).select(number.drop_nulls())[name]
        quantiles = (known.quantile(k / REFERENCE_BANDS, "lower") for k in range(1, REFERENCE_BANDS))
        edges = sorted({float(q) for q in quantiles if q is not None})
        band = pl.sum_horizontal([(number > edge) for edge in edges]) if edges else number
        columns.append(
            pl.when(number.is_null()).then(pl.lit("(missing)")).otherwise(band.cast(pl.String)).alias(name)
        )
    return leads.select(columns)


def reference(
    leads: pl.DataFrame, evidence: pl.DataFrame, features: Any, learn_until: datetime, volume: int
) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder

    from core.stats import roc_auc
    from core.tuning import GOOD_STARS

    kinds = {f.name: f.kind for f in features}
    names = list(kinds)
    learning = pl.col("created_at") < learn_until
    text = _reference_columns(evidence, names, kinds, learning)
    inside = evidence.select(learning.alias("learning"), (pl.col("outcome") == "won").fill_null(False).alias("won"),
                             (pl.col("outcome") == "lost").fill_null(False).alias("lost"), "stars")  # fmt: skip
    train = (inside["learning"] & (inside["won"] | inside["lost"])).to_numpy()
    test = (~inside["learning"]).to_numpy()
    started = time.perf_counter()
    encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=REFERENCE_MIN_COUNT)
    matrix = encoder.fit(text.filter(pl.Series(train)).to_numpy()).transform(text.to_numpy())
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(matrix[train], inside["won"].to_numpy()[train])
    scores = model.decision_function(matrix[test])
    seconds = time.perf_counter() - started
    window = inside.filter(pl.Series(test)).with_columns(pl.Series("score", scores))
    closed = window.filter(pl.col("won") | pl.col("lost"))
    rated = window.filter(pl.col("stars").is_not_null())
    top = window.sort("score", descending=True).head(volume)
    won = int(window["won"].sum())
    return {
        "auc": roc_auc(closed["score"], closed["won"]).value,
        "good_auc": roc_auc(rated["score"], rated["stars"] >= GOOD_STARS).value,
        "won_share": int(top["won"].sum()) / won if won else None,
        "columns": matrix.shape[1],
        "seconds": seconds,
    }


# ---------------------------------------------------------------- one run


def worker(path: Path, profile: bool) -> None:
    """What run_tuning does (window_days=90, the default goal), each step timed: load_learning_data, the
    ratings, raters and active version, and tune_logged on them."""
    from core.criteria import Criteria
    from core.tuning import calibrated_ratings, lead_evidence
    from db.tuning import active_criteria, load_learning_data, load_raters, load_ratings, tune_logged

    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    data = load_learning_data(engine)
    load = time.perf_counter() - started
    started = time.perf_counter()
    ratings, raters = load_ratings(engine), load_raters(engine)
    current = active_criteria(engine) or Criteria(rules=(), threshold=0)
    load_rest = time.perf_counter() - started
    started = time.perf_counter()
    import sklearn.linear_model  # noqa: F401 - imported once per process, in the app too: timed apart

    first_import = time.perf_counter() - started
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = tune_logged(
        data.leads, ratings, raters, current, window_days=WINDOW_DAYS, features=data.features
    )
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    tune = time.perf_counter() - started
    run = load + load_rest + tune
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    after, before = result.after, result.before
    evidence = lead_evidence(data.leads, calibrated_ratings(ratings, raters))
    ref = reference(data.leads, evidence, data.features, result.learn_until, after.mql_count)
    engine.dispose()
    print(json.dumps({
        "leads": data.leads.height, "features": len(data.features), "catalogue": data.catalogue.height,
        "load": load, "run": run, "tune": tune, "import": first_import, "peak_mb": peak_mb,
        "goal": result.goal.value, "rules": len(result.proposed.rules), "threshold": result.proposed.threshold,
        "mql": after.mql_count, "current_mql": before.mql_count,
        "auc": after.ranking_auc.value, "good_auc": after.good_auc.value, "won_share": after.won_recall.value,
        "current_auc": before.ranking_auc.value, "current_good_auc": before.good_auc.value,
        "current_won_share": before.won_recall.value,
        "trap_rules": [r.points for r in result.proposed.rules if r.attribute == "promo_code_used"],
        "proposed": [f"{r.attribute} {r.operator} {r.value}: {r.points:+d}" for r in result.proposed.rules],
        "reference": ref,
    }))  # fmt: skip


# ---------------------------------------------------------------- the table


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
        print("  " + _cells(row, widths))


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", type=Path)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top of the tuning (stderr)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = database_path(args)
    if args.worker:
        worker(path, args.profile)
        return
    ensure_seeded(path, args.leads)
    ensure_extras(path)
    print(f"database {path}; load average {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    runs = []
    for i in range(args.runs):
        command = [sys.executable, __file__, "--worker", "--database", str(path)]
        done = subprocess.run(
            [*command, *(["--profile"] if args.profile else [])], check=True, capture_output=True, text=True
        )
        output = done.stdout
        if args.profile:
            print(done.stderr)
        runs.append(json.loads(output.strip().splitlines()[-1]))
        print(f"run {i + 1}: load {runs[-1]['load']:.2f} s, tuning {runs[-1]['run']:.2f} s", flush=True)
    if not runs:  # --runs 0: only prepare the database
        return
    last = runs[-1]
    ref = last["reference"]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(f"\n{last['leads']:,} leads, {last['features']} features offered ({last['catalogue']} in the catalogue); "
          f"goal {last['goal']}, {last['rules']} rules, threshold {last['threshold']}")  # fmt: skip
    table(
        f"time and memory, medians of {len(runs)} runs",
        ["step", "seconds"],
        [["load_learning_data", _f(median("load"), 2)], ["run_tuning (its loads and the tuning)", _f(median("run"), 2)],
         ["the tuning alone (tune_logged)", _f(median("tune"), 2)],
         ["(first import of scikit-learn, once a process)", _f(median("import"), 2)],
         ["peak memory, MB", _f(median("peak_mb"), 0)], ["reference fit and score", _f(ref["seconds"], 2)]],
    )  # fmt: skip
    table(
        f"the test window (last {WINDOW_DAYS} days)",
        ["", "AUC won/lost", "AUC good/not", "won share", "MQLs"],
        [["current version", _f(last["current_auc"]), _f(last["current_good_auc"]), _f(last["current_won_share"]),
          str(last["current_mql"])],
         ["Huddle's suggestion", _f(last["auc"]), _f(last["good_auc"]), _f(last["won_share"]), str(last["mql"])],
         [f"scikit-learn reference ({ref['columns']} columns)", _f(ref["auc"]), _f(ref["good_auc"]),
          _f(ref["won_share"]), str(last["mql"])]],
    )  # fmt: skip
    print(f"\nproposed rules: {'; '.join(last['proposed'])}")
    print(f"trap (promo_code_used) rules: {last['trap_rules'] or 'none'}")


if __name__ == "__main__":
    main()
