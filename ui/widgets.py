"""Shared pieces of pages: numbers with their definitions, rates with their counts and intervals."""

from __future__ import annotations

import streamlit as st

from core.definitions import help_text
from core.stats import Rate

MISSING = "not in this data"


def whole(value: float | int | None) -> str:
    return MISSING if value is None else f"{value:,.0f}"


def money(value: float | None) -> str:
    return MISSING if value is None else f"${value:,.0f}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def rate_detail(rate: Rate) -> str:
    """ "42 of 180 · 95% CI 17%–30%", and a small-sample warning when the denominator is under 30."""
    if rate.den == 0:
        return "nothing closed in this period"
    text = f"{rate.num:,} of {rate.den:,} · 95% CI {percent(rate.ci_low)}–{percent(rate.ci_high)}"
    return f"{text} · small sample" if rate.small_sample else text


def count_metric(label: str, key: str, current: int | None, previous: int | None) -> None:
    """A flow count against the previous period; a stage the data lacks says so instead of 0."""
    if current is None:
        st.metric(label, MISSING, help=help_text(key))
        return
    delta = None if previous is None else f"{current - previous:+,}"
    st.metric(label, whole(current), delta=delta, help=help_text(key))


def money_metric(label: str, key: str, current: float, previous: float) -> None:
    change = current - previous
    delta = f"{'+' if change >= 0 else '−'}${abs(change):,.0f}"
    st.metric(label, money(current), delta=delta, help=help_text(key))


def rate_metric(label: str, key: str, current: Rate, previous: Rate, *, recorded: bool = True) -> None:
    """`recorded` False: the data never records the failures (Olist keeps only won deals), so the rate
    would read 100%; it says so instead of showing a number."""
    if not recorded:
        st.metric(label, MISSING, help=help_text(key))
        st.caption("this data records no lost deals")
        return
    delta = None
    if current.value is not None and previous.value is not None:
        delta = f"{(current.value - previous.value) * 100:+.1f} pts"
    st.metric(label, percent(current.value), delta=delta, help=help_text(key))
    st.caption(rate_detail(current))
