"""The figures of docs/DATASETS.md, read off the same core functions the pages use.

The frames are built straight from the raw CSVs here (the importer has its own tests); this checks that
the metric definitions reproduce numbers computed independently from the exports.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from core.kpis import cohort_conversion, headline, headline_by, revenue, sales_cycle_days, win_rate
from core.periods import ALL_TIME, from_inclusive
from core.schema import LEADS_SCHEMA

TODAY = date(2026, 11, 23)


def _as_leads(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [
        pl.lit(None, dtype).alias(name) for name, dtype in LEADS_SCHEMA.items() if name not in frame.columns
    ]
    return frame.with_columns(missing).select(list(LEADS_SCHEMA)).cast(LEADS_SCHEMA)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def olist(shared_datasets: Path) -> pl.DataFrame:
    folder = shared_datasets / "olist"
    mqls = pl.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv", infer_schema=False)
    deals = pl.read_csv(folder / "olist_closed_deals_dataset.csv", infer_schema=False)
    frame = mqls.join(deals.select("mql_id", "won_date"), on="mql_id", how="left").select(
        pl.int_range(1, pl.len() + 1).alias("id"),
        pl.col("first_contact_date").str.to_datetime("%Y-%m-%d").alias("created_at"),
        pl.col("first_contact_date").str.to_datetime("%Y-%m-%d").alias("mql_at"),
        pl.col("won_date").str.to_datetime("%Y-%m-%d %H:%M:%S").alias("closed_at"),
        pl.when(pl.col("won_date").is_not_null()).then(pl.lit("won")).alias("outcome"),
        pl.col("origin").alias("source"),
    )
    return _as_leads(frame)


@pytest.fixture(scope="module")
def maven(shared_datasets: Path) -> pl.DataFrame:
    pipeline = pl.read_csv(shared_datasets / "maven_crm" / "sales_pipeline.csv", infer_schema=False)
    frame = pipeline.select(
        pl.int_range(1, pl.len() + 1).alias("id"),
        pl.col("engage_date").str.to_datetime("%Y-%m-%d").alias("opportunity_at"),
        pl.col("close_date").str.to_datetime("%Y-%m-%d").alias("closed_at"),
        pl.col("deal_stage").replace_strict({"Won": "won", "Lost": "lost"}, default=None).alias("outcome"),
        pl.col("close_value").cast(pl.Float64).alias("amount"),
    )
    return _as_leads(frame)


def test_olist_totals(olist: pl.DataFrame) -> None:
    summary = headline(olist, ALL_TIME, today=TODAY)
    assert summary.stages["mql"] == 8000
    assert summary.stages["won"] == 842
    assert summary.stages["sql"] is None and summary.stages["opportunity"] is None
    mql_to_won = summary.conversion["mql_to_won"]
    assert mql_to_won is not None
    assert (mql_to_won.rate.num, mql_to_won.rate.den) == (842, 8000)
    assert round(mql_to_won.rate.value or 0, 5) == 0.10525
    assert sales_cycle_days(olist, ALL_TIME) == 14


def test_olist_by_origin(olist: pl.DataFrame) -> None:
    expected = {
        "organic_search": (2296, 271), "paid_search": (1586, 195), "social": (1350, 75), "unknown": (1099, 179),
        "direct_traffic": (499, 56), "email": (493, 15), "referral": (284, 24), "other": (150, 4),
        "display": (118, 6), "other_publicities": (65, 3), "(none)": (60, 14),
    }  # fmt: skip
    got = {}
    for key, h in headline_by(olist, ALL_TIME, "source", today=TODAY):
        conversion = h.conversion["mql_to_won"]
        assert conversion is not None
        got[key] = (conversion.rate.den, conversion.rate.num)
    assert got == expected


def test_olist_by_month_of_first_contact(olist: pl.DataFrame) -> None:
    expected = {
        "2018-01": (1141, 152),
        "2018-02": (1028, 149),
        "2018-03": (1174, 167),
        "2018-04": (1352, 183),
        "2018-05": (1303, 130),
    }
    for month, (mqls, won) in expected.items():
        year, number = map(int, month.split("-"))
        period = from_inclusive(
            date(year, number, 1), date(year, number + 1, 1) - (date(2018, 1, 2) - date(2018, 1, 1))
        )
        conversion = cohort_conversion(olist, "mql", "won", period, today=TODAY)
        assert conversion is not None
        assert (conversion.rate.den, conversion.rate.num) == (mqls, won), month


def test_maven_totals(maven: pl.DataFrame) -> None:
    assert len(maven) == 8800
    rate = win_rate(maven, ALL_TIME)
    assert (rate.num, rate.den) == (4238, 4238 + 2473)
    assert round(rate.value or 0, 4) == 0.6315
    assert maven.filter(pl.col("outcome").is_null()).height == 2089
    assert revenue(maven, ALL_TIME) == 10_005_534
    assert sales_cycle_days(maven, ALL_TIME) == 57


def test_maven_by_quarter_of_close(maven: pl.DataFrame) -> None:
    year = from_inclusive(date(2017, 1, 1), date(2017, 12, 31))
    got = {
        key: (h.win_rate.num, h.win_rate.den, h.revenue)
        for key, h in headline_by(maven, year, "quarter", today=TODAY)
    }
    assert got == {
        "2017-Q1": (531, 647, 1_134_672),
        "2017-Q2": (1254, 2032, 3_086_111),
        "2017-Q3": (1257, 2047, 2_982_255),
        "2017-Q4": (1196, 1985, 2_802_496),
    }
