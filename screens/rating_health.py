"""Rating coverage and calibration: are the MQLs being rated in time, per team and rep; which raters are
harsher or kinder than their team; which reasons sales gives most."""

import polars as pl
import streamlit as st

from core.charts import rating_distribution_chart, reasons_chart
from core.definitions import help_text
from core.feedback import rater_calibration, rating_coverage, top_reasons
from core.filters import apply_filters
from ui.auth import demo_banner, require_role
from ui.cached import kpi_data
from ui.data import agreement, ratings
from ui.filters import sidebar_filters
from ui.widgets import percent, plain

HARSH = -0.3  # stars below the team's mean (after shrinking) before a rater is called harsher

require_role("sales_manager", "marketer", "executive")
st.title("Rating coverage")
demo_banner()
data = kpi_data("No leads yet. An admin can import a CRM export on the Import page.")
names, all_ratings, terms = data.people, ratings(), agreement()
filters = sidebar_filters(data.leads, names, data.anchor)
frame = apply_filters(data.leads, names, filters)
period = filters.period(data.anchor)
st.caption(f"MQLs of {period.label}; the agreement: every MQL rated within {terms.rating_days} days.")


def coverage_table(by: str, label: str) -> None:
    table = rating_coverage(frame, all_ratings, period, rating_days=terms.rating_days, by=by)
    if table.is_empty():
        st.info(f"No MQLs in {period.label}.", icon=":material/inbox:")
        return
    key_names = (
        names.select(pl.col("user_id").alias("key"), pl.col("name").alias(label))
        if by == "owner_id"
        else names.select(pl.col("team_id").alias("key"), pl.col("team").alias(label)).unique("key")
    )
    shown = table.join(key_names, on="key", how="left").select(
        pl.col(label).fill_null("(nobody)"),
        pl.col("mqls").alias("MQLs"),
        pl.col("rated").alias(f"Rated within {terms.rating_days} days"),
        (pl.col("share") * 100).alias("Coverage %"),
        pl.format(
            "{}%–{}%", *((pl.col(c) * 100).round(0).cast(pl.Int64) for c in ("ci_low", "ci_high"))
        ).alias("95% interval"),
    )
    st.dataframe(
        shown.sort("Coverage %", nulls_last=True),
        hide_index=True,
        width="stretch",
        column_config={
            "Coverage %": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f%%")
        },
    )


def calibration_section() -> None:
    raters = rater_calibration(all_ratings, names.select("user_id", "team_id"))
    if raters.is_empty():
        st.info("Nobody has rated a lead yet.", icon=":material/star_border:")
        return
    named = raters.join(
        names.select(pl.col("user_id").alias("rater_id"), "name", "team"), on="rater_id", how="left"
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


st.subheader("Per team")
st.caption(help_text("rating_coverage"))
coverage_table("team_id", "Team")
st.subheader("Per rep")
coverage_table("owner_id", "Rep")
st.subheader("Calibration")
calibration_section()
st.subheader("Reasons given most")
reasons = top_reasons(all_ratings, period)
if reasons.is_empty():
    st.info(f"No ratings were given in {period.label}.", icon=":material/chat_bubble_outline:")
else:
    st.plotly_chart(
        reasons_chart(reasons, f"Reasons given with the ratings of {period.label}"),
        width="stretch",
        config={"displayModeBar": False},
    )
    st.caption(
        f"{percent(float(reasons['share'][0]))} of the period's ratings gave “{plain(reasons['label'][0])}”."
    )
