"""Shared pieces of pages: numbers with their definitions, rates with their counts and intervals."""

from __future__ import annotations

from typing import Any, NoReturn

import pandas as pd
import streamlit as st

from core.definitions import help_text
from core.quota import Attainment, LeaderboardRow
from core.revenue import Alignment, MoneyShare
from core.stats import Rate

MISSING = "not in this data"
VIEWER_HIGHLIGHT = "background-color: #fff3c4; font-weight: 600"


MARKDOWN_SPECIALS = set("\\`*_{}[]()<>#+-.!|~$:")


def plain(text: object) -> str:
    """Text from the data (a team's, a rep's, a source's name) made safe to put inside Streamlit markdown:
    every character markdown would act on is escaped, so `[x](javascript:...)` or `<img ...>` shows as
    typed instead of becoming a link or a tag."""
    return "".join("\\" + ch if ch in MARKDOWN_SPECIALS else ch for ch in str(text))


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
    # An ASCII minus: Streamlit reads the sign off the text to colour the arrow.
    delta = f"{'+' if change >= 0 else '-'}${abs(change):,.0f}"
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


def attainment_metric(now: Attainment, before: Attainment) -> None:
    """Revenue ÷ quota with the quota period it is judged against; no quota says so instead of 0%."""
    help_ = help_text("quota_attainment")
    if now.share is None:
        st.metric("Quota attainment", "no quota set", help=help_)
        st.caption(f"${now.revenue:,.0f} won")
        return
    delta = None if before.share is None else f"{(now.share - before.share) * 100:+.0f} pts"
    st.metric("Quota attainment", f"{now.share:.0%}", delta=delta, help=help_)
    window = f" for {now.window.label}" if now.window else ""
    st.caption(f"${now.revenue:,.0f} of ${now.quota or 0:,.0f}{window}")


def days_metric(label: str, key: str, now: float | None, before: float | None) -> None:
    """A median number of days; shorter is better, so a drop shows green."""
    if now is None:
        st.metric(label, "—", help=help_text(key))
        st.caption("nothing won in this period")
        return
    delta = None if before is None else f"{now - before:+,.0f} days"
    st.metric(label, f"{now:,.0f} days", delta=delta, delta_color="inverse", help=help_text(key))
    st.caption("median, opportunity to won")


def leaderboard_table(rows: list[LeaderboardRow]) -> None:
    """The ranking, the viewer's own row highlighted; hidden cells (others' names for a rep) show a dash."""
    frame = pd.DataFrame(
        {
            "Rank": [r.rank for r in rows],
            "Rep": [r.who for r in rows],
            "Team": [r.team or "—" for r in rows],
            "Attainment": [percent(r.attainment) for r in rows],
            "Revenue": ["—" if r.revenue is None else f"${r.revenue:,.0f}" for r in rows],
            "Quota": ["—" if r.quota is None else f"${r.quota:,.0f}" for r in rows],
            "Win rate": [
                "—"
                if r.win_rate is None
                else f"{percent(r.win_rate.value)} ({r.win_rate.num} of {r.win_rate.den})"
                for r in rows
            ],
        }
    )
    mine = [r.is_viewer for r in rows]
    styled = frame.style.apply(lambda row: [VIEWER_HIGHLIGHT if mine[row.name] else "" for _ in row], axis=1)
    st.dataframe(styled, hide_index=True, width="stretch", height=min(38 + 35 * len(rows), 600))
    st.caption(help_text("leaderboard"))


def clickable_chart(figure: Any, key: str) -> Any:
    """A chart whose bars (or points) can be clicked: the page reruns with the click in the returned event,
    read with selected_point or selected_category."""
    return st.plotly_chart(
        figure,
        width="stretch",
        config={"displayModeBar": False},
        on_select="rerun",
        selection_mode="points",
        key=key,
    )


def selected_point(event: Any, curve: int = 0) -> int | None:
    """The index of the bar clicked in trace `curve` of a chart drawn with on_select="rerun"."""
    points = event.selection.points if event is not None else []
    indexes = [p.get("point_index") for p in points if p.get("curve_number", 0) == curve]
    return int(indexes[0]) if indexes and indexes[0] is not None else None


def selected_category(event: Any, axis: str = "y") -> str | None:
    """The category clicked in a chart drawn with on_select="rerun": the y of a horizontal bar, the x of
    an upright one."""
    points = event.selection.points if event is not None else []
    return str(points[0][axis]) if points and points[0].get(axis) is not None else None


def target_metric(now: Alignment) -> None:
    """Revenue against target for the quota periods the period falls in."""
    help_ = help_text("revenue_target")
    if now.target.share is None:
        st.metric("Against target", "no target set", help=help_)
        st.caption("no quota overlaps this period")
        return
    window = f" in {now.target.window.label}" if now.target.window else ""
    st.metric("Against target", f"{now.target.share:.0%}", help=help_)
    st.caption(f"${now.target.revenue:,.0f} of ${now.target.quota or 0:,.0f}{window}; "
               f"${now.remaining or 0:,.0f} to go")  # fmt: skip


def coverage_metric(now: Alignment) -> None:
    help_ = help_text("pipeline_coverage")
    if now.remaining is None:
        st.metric("Pipeline coverage", "no target set", help=help_)
    elif now.coverage is None:
        st.metric("Pipeline coverage", "target reached", help=help_)
    else:
        st.metric("Pipeline coverage", f"{now.coverage:.1f}×", help=help_)
    st.caption(f"${now.open_pipeline:,.0f} open in {now.open_deals:,} deals")


def share_metric(label: str, now: MoneyShare, before: MoneyShare, *, recorded: bool) -> None:
    """A money share with the amounts and the deal counts (with their interval) behind it."""
    help_ = help_text("marketing_sourced_share")
    if not recorded:
        st.metric(label, MISSING, help=help_)
        st.caption("this data records no lead sources")
        return
    delta = None
    if now.value is not None and before.value is not None:
        delta = f"{(now.value - before.value) * 100:+.1f} pts"
    st.metric(label, percent(now.value), delta=delta, help=help_)
    st.caption(f"${now.amount:,.0f} of ${now.total:,.0f} · deals: {rate_detail(now.deals)}")


TOAST_KEY = "_huddle_toasts"


def toast_and_rerun(text: str, icon: str = ":material/check:") -> NoReturn:
    """Run the page again with the change, and say `text` as a toast on that run: Streamlit (1.67) drops a
    toast made just before st.rerun, so the person would never see that their click worked."""
    st.session_state.setdefault(TOAST_KEY, []).append((text, icon))
    st.rerun()


def pending_toasts() -> None:
    """The toasts toast_and_rerun left for this run (app.py calls it before every page)."""
    for text, icon in st.session_state.pop(TOAST_KEY, []):
        st.toast(text, icon=icon)
