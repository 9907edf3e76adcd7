"""Revenue alignment on eight hand-made deals (November 1-24, 2026 against October and November 2025)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from core.periods import Period
from core.quota import Attainment
from core.revenue import alignment, is_marketing_source, revenue_by
from core.stats import rate
from tests.core.frames import d, leads

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 25), "Nov 1 – 24")
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 25), "Oct 1 – 24")
LAST_NOVEMBER = Period(date(2025, 11, 1), date(2025, 11, 25), "Nov 1 – 24 2025")


def _deal(source: str | None, campaign: str | None, opened: str, closed: str | None, outcome: str | None,
          amount: float) -> dict[str, object]:  # fmt: skip
    return {
        "source": source,
        "campaign": campaign,
        "created_at": d("2025-01-01"),
        "opportunity_at": d(opened),
        "closed_at": d(closed) if closed else None,
        "outcome": outcome,
        "amount": amount,
    }


DEALS = leads(
    _deal("paid_search", "Search A", "2026-10-20", "2026-11-03", "won", 5_000.0),
    _deal("outbound", None, "2026-11-02", "2026-11-05", "won", 3_000.0),
    _deal(None, None, "2026-11-01", "2026-11-07", "won", 2_000.0),
    _deal("email", "Newsletter", "2026-10-01", "2026-10-10", "won", 4_000.0),
    _deal("paid_search", "Search A", "2025-11-01", "2025-11-10", "won", 1_000.0),
    _deal("paid_search", None, "2026-11-15", None, None, 10_000.0),  # open
    _deal("outbound", None, "2026-10-01", None, None, 6_000.0),  # open, opened before November
    _deal("email", None, "2026-11-03", "2026-11-12", "lost", 2_000.0),
)


def test_marketing_channels_are_every_named_source_but_sales_own() -> None:
    sources = pl.Series(["Paid_Search ", "referral", "Outbound", "unknown", None, "events"])
    assert pl.select(is_marketing_source(pl.lit(sources))).to_series().to_list() == [
        True,
        True,
        False,
        False,
        False,
        True,
    ]


def test_alignment_of_one_period() -> None:
    numbers = alignment(DEALS, NOVEMBER, Attainment(quota=20_000.0, revenue=10_000.0))
    assert (numbers.revenue, numbers.won) == (10_000.0, 3)
    share = numbers.marketing_revenue
    assert (share.amount, share.total, share.value, share.deals) == (5_000.0, 10_000.0, 0.5, rate(1, 3))
    pipeline = (
        numbers.pipeline_created
    )  # opened in November: outbound 3,000, blank 2,000, paid 10,000, email 2,000
    assert (pipeline.amount, pipeline.total, pipeline.deals) == (12_000.0, 17_000.0, rate(2, 4))
    assert (numbers.open_pipeline, numbers.open_deals) == (16_000.0, 2)
    assert numbers.remaining == 10_000.0
    assert numbers.coverage == pytest.approx(1.6)


def test_coverage_needs_a_quota_still_to_reach() -> None:
    assert alignment(DEALS, NOVEMBER, Attainment(quota=None, revenue=0.0)).coverage is None
    reached = alignment(DEALS, NOVEMBER, Attainment(quota=8_000.0, revenue=10_000.0))
    assert (reached.remaining, reached.coverage) == (0.0, None)


def test_a_data_set_without_sources_says_so() -> None:
    numbers = alignment(DEALS.with_columns(pl.lit(None, pl.String).alias("source")), NOVEMBER,
                        Attainment(None, 0.0))  # fmt: skip
    assert not numbers.sources_recorded
    assert numbers.marketing_revenue.value == 0.0


def test_revenue_by_source_against_previous_period_and_last_year() -> None:
    table = revenue_by(DEALS, "source", period=NOVEMBER, previous=OCTOBER, last_year=LAST_NOVEMBER)
    assert table.select("key", "revenue", "won", "previous", "last_year", "change", "marketing").rows() == [
        ("paid_search", 5_000.0, 1, 0.0, 1_000.0, 5_000.0, True),
        ("outbound", 3_000.0, 1, 0.0, 0.0, 3_000.0, False),
        ("(none)", 2_000.0, 1, 0.0, 0.0, 2_000.0, False),
        ("email", 0.0, 0, 4_000.0, 0.0, -4_000.0, True),
    ]


def test_revenue_by_campaign_keeps_blank_campaigns_as_their_own_row() -> None:
    table = revenue_by(DEALS, "campaign", period=NOVEMBER, previous=OCTOBER, last_year=LAST_NOVEMBER)
    assert table.select("key", "revenue", "previous", "last_year").rows() == [
        ("(none)", 5_000.0, 0.0, 0.0),
        ("Search A", 5_000.0, 0.0, 1_000.0),
        ("Newsletter", 0.0, 4_000.0, 0.0),
    ]


def test_an_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match="source, campaign"):
        revenue_by(DEALS, "owner", period=NOVEMBER, previous=OCTOBER, last_year=LAST_NOVEMBER)
