"""The Rating coverage screen's sections: coverage per team and per rep (the table's rows built here), the
MQLs that left the rating queue unrated (missed), how each rater spreads their stars against their team,
and the reasons given most."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl
import streamlit as st

from core.charts import rating_distribution_chart, reasons_chart
from core.feedback import rater_calibration, rating_coverage, top_reasons
from core.filters import apply_filters
from core.periods import Period
from core.stats import rate
from db.feedback import Agreement
from ui import clock
from ui.cached import KpiData
from ui.data import agreement, ratings
from ui.filters import sidebar_filters
from ui.widgets import percent, plain, rate_detail

HARSH = -0.3  # stars below the team's mean (after shrinking) before a rater is called harsher


@dataclass(frozen=True)
class RatingView:
    """The filtered leads, every rating, the people, the period, the agreed days to rate in (and the
    queue's grace), and the moment (naive UTC, as the frames) the queue's window is judged at."""

    leads: pl.DataFrame
    ratings: pl.DataFrame
    people: pl.DataFrame
    period: Period
    terms: Agreement
    now: datetime


def rating_view(data: KpiData) -> RatingView:
    filters = sidebar_filters(data.leads, data.people, data.anchor)
    frame = apply_filters(data.leads, data.people, filters)
    now = clock.now().replace(tzinfo=None)
    return RatingView(frame, ratings(), data.people, filters.period(data.anchor), agreement(), now)


def _coverage(view: RatingView, by: str) -> pl.DataFrame:
    terms = view.terms
    return rating_coverage(
        view.leads,
        view.ratings,
        view.period,
        rating_days=terms.rating_days,
        grace_days=terms.rating_grace_days,
        now=view.now,
        by=by,
    )


def _interval(low: str, high: str) -> pl.Expr:
    return pl.format("{}%–{}%", *((pl.col(c) * 100).round(0).cast(pl.Int64) for c in (low, high)))


MISSED = "Missed (left the queue unrated)"


def coverage_rows(view: RatingView, by: str, label: str) -> pl.DataFrame:
    """Coverage per team (`by` "team_id") or per rep ("owner_id"), named, least covered first, with the
    MQLs that left the rating queue unrated."""
    days = view.terms.rating_days
    table = _coverage(view, by)
    names = view.people
    key_names = (
        names.select(pl.col("user_id").alias("key"), pl.col("name").alias(label))
        if by == "owner_id"
        else names.select(pl.col("team_id").alias("key"), pl.col("team").alias(label)).unique("key")
    )
    return (
        table.join(key_names, on="key", how="left")
        .select(
            pl.col(label).fill_null("(nobody)"),
            pl.col("mqls").alias("MQLs"),
            pl.col("rated").alias(f"Rated within {days} days"),
            (pl.col("share") * 100).alias("Coverage %"),
            _interval("ci_low", "ci_high").alias("95% interval"),
            pl.col("missed").alias(MISSED),
            (pl.col("missed_share") * 100).alias("Missed %"),
            _interval("missed_ci_low", "missed_ci_high").alias("Missed 95% interval"),
        )
        .sort("Coverage %", nulls_last=True)
    )


def missed_sentence(view: RatingView) -> str | None:
    """The period's MQLs nobody rated before they left the rating queue, as one sentence with their share
    and its interval; None when the period has no MQLs."""
    table = _coverage(view, "team_id")
    missed = rate(int(table["missed"].sum()), int(table["mqls"].sum()))
    if missed.den == 0:
        return None
    days, grace = view.terms.rating_days, view.terms.rating_grace_days
    return (
        f"**{missed.num:,} MQLs missed** ({percent(missed.value)}, {rate_detail(missed)}): nobody rated them "
        f"within the rating window ({days:,} days to rate plus {grace:,} days' grace), so they left the "
        "rating queue unrated; they are never offered as the next lead to rate."
    )


def missed_summary(view: RatingView) -> None:
    sentence = missed_sentence(view)
    if sentence is not None:
        st.markdown(sentence)


def coverage_table(view: RatingView, by: str, label: str) -> None:
    shown = coverage_rows(view, by, label)
    if shown.is_empty():
        st.info(f"No MQLs in {view.period.label}.", icon=":material/inbox:")
        return
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "Coverage %": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f%%"),
            "Missed %": st.column_config.NumberColumn(format="%.0f%%"),
        },
    )


def calibration_section(view: RatingView) -> None:
    raters = rater_calibration(view.ratings, view.people.select("user_id", "team_id"))
    if raters.is_empty():
        st.info("Nobody has rated a lead yet.", icon=":material/star_border:")
        return
    named = raters.join(
        view.people.select(pl.col("user_id").alias("rater_id"), "name", "team"), on="rater_id", how="left"
    )
    st.plotly_chart(
        rating_distribution_chart(named, "How each rater spreads their stars (all ratings)"),
        width="stretch",
        config={"displayModeBar": False},
    )
    unusual = named.filter(pl.col("offset").abs() >= -HARSH).sort("offset")
    for row in unusual.iter_rows(named=True):
        side = "harsher" if row["offset"] < 0 else "kinder"
        who, team = plain(row["name"]), plain(row["team"])
        st.caption(
            f"{who} rates {abs(row['offset']):.1f} stars {side} than the {team} team ({row['ratings']:,} "
            "ratings); the tuning corrects for it."
        )


def reasons_section(view: RatingView) -> None:
    reasons = top_reasons(view.ratings, view.period)
    if reasons.is_empty():
        st.info(f"No ratings were given in {view.period.label}.", icon=":material/chat_bubble_outline:")
        return
    st.plotly_chart(
        reasons_chart(reasons, f"Reasons given with the ratings of {view.period.label}"),
        width="stretch",
        config={"displayModeBar": False},
    )
    st.caption(
        f"{percent(float(reasons['share'][0]))} of the period's ratings gave “{plain(reasons['label'][0])}”."
    )
