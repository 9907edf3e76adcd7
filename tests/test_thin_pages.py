"""A page is a short script of calls: no functions of its own (they would read the page's globals, as
`user` once was read before it was assigned), no table built or renamed with polars, and few lines. What a
page needs is built in ui/ (ui/funnel.py, ui/quota.py...), where it takes what it reads as parameters."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from core.funnel import PAIRS, STEPS, Funnel, pair_key
from core.kpis import Conversion
from core.periods import Period
from core.stats import rate
from tests.test_architecture import imported_top_levels
from ui.funnel import breakdown_rows, conversion_rows
from ui.rate_leads import waited
from ui.revenue import revenue_rows

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 70
# The Import page's layout is being reworked on its own; it joins the rule once that is done.
NOT_YET = {"import_data.py"}
SCREENS = sorted(p for p in (ROOT / "screens").glob("*.py") if p.name not in NOT_YET)


@pytest.mark.parametrize("path", SCREENS, ids=lambda p: p.name)
def test_a_page_is_a_short_script_of_calls(path: Path) -> None:
    source = path.read_text()
    tree = ast.parse(source)
    defined = [
        n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    assert defined == [], f"{path.name} defines {defined}: move them to ui/ and pass what they read"
    assert "polars" not in imported_top_levels(source), f"{path.name} builds tables itself"
    assert len(source.splitlines()) <= MAX_LINES


def _funnel(counts: dict[str, int | None]) -> Funnel:
    """A funnel in which every pair of stages the data has converts 12 of 40, in 3.5 days."""
    conversions: dict[str, Conversion | None] = {}
    velocity: dict[str, float | None] = {}
    for a, b in PAIRS:
        key = pair_key(a, b)
        known = counts.get(a) is not None and counts.get(b) is not None
        conversions[key] = Conversion(a, b, rate(12, 40), False, 3.5) if known else None
        velocity[key] = 3.5 if known else None
    return Funnel(Period(date(2026, 1, 1), date(2026, 4, 1), "Q1 2026"), None, counts, conversions, velocity)


def test_the_conversion_rows_say_missing_for_a_stage_the_data_lacks() -> None:
    counts = {s: 40 for s in STEPS} | {"sql": None}
    rows = conversion_rows(_funnel(counts))
    assert rows.columns == ["step", "conversion", "of them", "marks", "median days"]
    assert rows.height == len(PAIRS)
    by_step = {r["step"]: r for r in rows.iter_rows(named=True)}
    assert any(r["conversion"] == "not in this data" for r in by_step.values())
    known = next(r for r in by_step.values() if r["conversion"] != "not in this data")
    assert (known["conversion"], known["median days"]) == ("30.0%", "3.5")
    assert known["of them"].startswith("12 of 40")


def test_the_breakdown_rows_name_their_columns_in_words_and_leave_out_missing_stages() -> None:
    table = pl.DataFrame(
        {"key": ["Web"], **{s: [5] for s in STEPS}, "revenue": [100.0], "mql_to_sql": [0.25],
         "mql_to_sql_den": [4], "win_rate": [0.5], "win_den": [2]}
    )  # fmt: skip
    counts = {s: 5 for s in STEPS} | {"sql": None}
    shown = breakdown_rows(table, "source", _funnel(counts))
    assert shown.columns[0] == "Source" and "SQLs" not in shown.columns
    assert shown["MQL → SQL %"].to_list() == [25.0] and shown["Win rate %"].to_list() == [50.0]


def test_the_revenue_rows_name_their_columns_in_words() -> None:
    table = pl.DataFrame(
        {"key": ["Web"], "revenue": [10.0], "won": [1], "previous": [5.0], "change": [5.0], "last_year": [2.0],
         "marketing": [True]}
    )  # fmt: skip
    assert revenue_rows(table, "source").columns == [
        "Source", "This period", "Won deals", "Previous period", "Change", "Last year", "Marketing channel",
    ]  # fmt: skip


def test_waiting_reads_in_hours_then_days() -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert waited(now - timedelta(hours=5), now) == "5 hours"
    assert waited((now - timedelta(days=4)).replace(tzinfo=None), now) == "4 days"
