"""Revenue alignment: is revenue on target, how much of it and of the pipeline marketing brought, whether
the open pipeline covers the quota still to reach, and which sources and campaigns the money came from,
against the previous period and the same period last year."""

import polars as pl
import streamlit as st

from core.charts import attainment_chart, revenue_by_chart
from core.periods import same_period_last_year
from core.quota import bucket_period
from core.revenue import REVENUE_BREAKDOWNS
from ui.auth import demo_banner, require_role
from ui.cached import alignment_of, attainment_series, kpi_data, revenue_table, won_deals_by
from ui.drill import leads_table
from ui.filters import sidebar_filters
from ui.scopes import team_scope
from ui.widgets import (
    coverage_metric,
    money_metric,
    plain,
    selected_category,
    selected_point,
    share_metric,
    target_metric,
)

require_role("sales_manager", "executive", "marketer")
st.title("Revenue alignment")
demo_banner()
data = kpi_data("No deals yet. An admin can import a CRM export on the Import page.")
names, anchor, version = data.people, data.anchor, data.version
filters = sidebar_filters(data.leads, names, anchor)
period, previous = filters.period(anchor), filters.comparison(anchor)
last_year = same_period_last_year(period)
scope = team_scope(names, filters.team)


now, before, year_ago = (
    alignment_of(version, filters, days, scope) for days in (period, previous, last_year)
)
st.caption(
    f"{plain(scope.label)}: {period.label}, against {previous.label} and, a year earlier, {last_year.label}."
)

cells = st.columns(3)
with cells[0]:
    money_metric("Revenue", "revenue", now.revenue, before.revenue)
    st.caption(f"{now.won:,} deals won · same period last year ${year_ago.revenue:,.0f}")
with cells[1]:
    target_metric(now)
with cells[2]:
    coverage_metric(now)
halves = st.columns(2)
with halves[0]:
    share_metric("Marketing-sourced revenue", now.marketing_revenue, before.marketing_revenue,
                 recorded=now.sources_recorded)  # fmt: skip
with halves[1]:
    share_metric("Marketing-sourced pipeline", now.pipeline_created, before.pipeline_created,
                 recorded=now.sources_recorded)  # fmt: skip

st.subheader("Revenue against target")
grain = st.segmented_control("By", ["month", "quarter"], default="month", key="revenue_grain") or "month"
buckets = attainment_series(version, filters, scope, anchor, grain)
if buckets["quota"].is_null().all():
    st.info(
        "No quota is set for these months, so only revenue is drawn. An admin adds quotas with "
        "`python -m db quotas import quotas.csv`.",
        icon=":material/flag:",
    )
month_event = st.plotly_chart(
    attainment_chart(buckets, f"{scope.label}: revenue won per {grain} against target", grain),
    width="stretch",
    config={"displayModeBar": False},
    on_select="rerun",
    selection_mode="points",
    key=f"revenue_target_chart_{grain}",
)
clicked_bucket = selected_point(month_event)
drill_period = period if clicked_bucket is None else bucket_period(buckets["bucket"][clicked_bucket], grain)

st.subheader("Where the revenue came from")
by = st.segmented_control(
    "Split by", list(REVENUE_BREAKDOWNS), default="source", format_func=REVENUE_BREAKDOWNS.__getitem__,
    key="revenue_by",
) or "source"  # fmt: skip
table = revenue_table(version, filters, by, period, previous, last_year)
picked: str | None = None
if table.is_empty():
    st.info(f"No revenue in {period.label}, the period before or a year earlier.", icon=":material/payments:")
else:
    event = st.plotly_chart(
        revenue_by_chart(table, f"Revenue won by {REVENUE_BREAKDOWNS[by].lower()} of the lead, top 10"),
        width="stretch",
        config={"displayModeBar": False},
        on_select="rerun",
        selection_mode="points",
        key=f"revenue_by_chart_{by}",
    )
    picked = selected_category(event)
    st.dataframe(
        table.select(
            pl.col("key").alias(REVENUE_BREAKDOWNS[by]),
            pl.col("revenue").alias("This period"),
            pl.col("won").alias("Won deals"),
            pl.col("previous").alias("Previous period"),
            pl.col("change").alias("Change"),
            pl.col("last_year").alias("Last year"),
            pl.col("marketing").alias("Marketing channel"),
        ),
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="dollar")
            for c in ("This period", "Previous period", "Change", "Last year")
        },
    )
    st.caption(
        "Click a bar to list its deals below. A source is a marketing channel unless sales brings it in "
        "itself (outbound, SDR, partner...); blank and unknown sources belong to nobody."
    )

st.subheader("The deals behind the numbers")
rows = won_deals_by(version, filters, drill_period, by if picked else None, picked)
scope_note = f" with {REVENUE_BREAKDOWNS[by].lower()} {plain(picked)}" if picked else ""
st.markdown(f"**{rows.height:,} won deals** in {drill_period.label}{scope_note}")
st.caption("Click a month's bar or a source's bar above to narrow this list.")
leads_table(rows, key="revenue_drill", file_name=f"huddle-revenue-{drill_period.start or 'all'}.csv")
