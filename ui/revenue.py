"""The Revenue alignment screen's sections: the headline amounts and shares, revenue against target by
month or quarter, where the revenue came from (the table's rows built here), and the deals behind it."""

from __future__ import annotations

import polars as pl
import streamlit as st

from core.charts import attainment_chart, revenue_by_chart
from core.periods import Period, same_period_last_year
from core.quota import bucket_period
from core.revenue import REVENUE_BREAKDOWNS
from ui.cached import KpiData, alignment_of, attainment_series, revenue_table, won_deals_by
from ui.drill import leads_table
from ui.filters import sidebar_filters
from ui.quota import ScopedView
from ui.scopes import team_scope
from ui.widgets import (
    clickable_chart,
    coverage_metric,
    money_metric,
    plain,
    selected_category,
    selected_point,
    share_metric,
    target_metric,
)

MONEY_COLUMNS = ("This period", "Previous period", "Change", "Last year")


def revenue_view(data: KpiData) -> ScopedView:
    """The sidebar's filters, and the company or the team they pick."""
    filters = sidebar_filters(data.leads, data.people, data.anchor)
    scope = team_scope(data.people, filters.team)
    return ScopedView(data.leads, data.people, data.version, data.anchor, filters, scope)


def last_year(view: ScopedView) -> Period:
    return same_period_last_year(view.period)


def headline_metrics(view: ScopedView) -> None:
    """Revenue, target, coverage and marketing's shares, against the period before and a year earlier."""
    now, before, year_ago = (
        alignment_of(view.version, view.filters, days, view.scope)
        for days in (view.period, view.compared, last_year(view))
    )
    st.caption(
        f"{plain(view.scope.label)}: {view.period.label}, against {view.compared.label} and, a year earlier, "
        f"{last_year(view).label}."
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


def target_section(view: ScopedView) -> Period:
    """Revenue per month or quarter against target; returns the period the deals list shows: the bar
    clicked, else the filters' period."""
    grain = st.segmented_control("By", ["month", "quarter"], default="month", key="revenue_grain") or "month"
    buckets = attainment_series(view.version, view.filters, view.scope, view.anchor, grain)
    if buckets["quota"].is_null().all():
        st.info(
            "No quota is set for these months, so only revenue is drawn. An admin adds quotas with "
            "`python -m db quotas import quotas.csv`.",
            icon=":material/flag:",
        )
    event = clickable_chart(
        attainment_chart(buckets, f"{view.scope.label}: revenue won per {grain} against target", grain),
        f"revenue_target_chart_{grain}",
    )
    clicked = selected_point(event)
    return view.period if clicked is None else bucket_period(buckets["bucket"][clicked], grain)


def revenue_rows(table: pl.DataFrame, by: str) -> pl.DataFrame:
    """core.revenue.revenue_by as shown: the breakdown's own name, then the amounts in words."""
    return table.select(
        pl.col("key").alias(REVENUE_BREAKDOWNS[by]),
        pl.col("revenue").alias("This period"),
        pl.col("won").alias("Won deals"),
        pl.col("previous").alias("Previous period"),
        pl.col("change").alias("Change"),
        pl.col("last_year").alias("Last year"),
        pl.col("marketing").alias("Marketing channel"),
    )


def sources_section(view: ScopedView) -> tuple[str, str | None]:
    """Revenue by source, campaign...: the chart and its table; returns the split and the bar clicked."""
    by = st.segmented_control(
        "Split by", list(REVENUE_BREAKDOWNS), default="source", format_func=REVENUE_BREAKDOWNS.__getitem__,
        key="revenue_by",
    ) or "source"  # fmt: skip
    period = view.period
    table = revenue_table(view.version, view.filters, by, period, view.compared, last_year(view))
    if table.is_empty():
        st.info(
            f"No revenue in {period.label}, the period before or a year earlier.", icon=":material/payments:"
        )
        return by, None
    event = clickable_chart(
        revenue_by_chart(table, f"Revenue won by {REVENUE_BREAKDOWNS[by].lower()} of the lead, top 10"),
        f"revenue_by_chart_{by}",
    )
    st.dataframe(
        revenue_rows(table, by),
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="dollar") for c in MONEY_COLUMNS},
    )
    st.caption(
        "Click a bar to list its deals below. A source is a marketing channel unless sales brings it in "
        "itself (outbound, SDR, partner...); blank and unknown sources belong to nobody."
    )
    return by, selected_category(event)


def deals_behind(view: ScopedView, period: Period, by: str, picked: str | None) -> None:
    rows = won_deals_by(view.version, view.filters, period, by if picked else None, picked)
    scope_note = f" with {REVENUE_BREAKDOWNS[by].lower()} {plain(picked)}" if picked else ""
    st.markdown(f"**{rows.height:,} won deals** in {period.label}{scope_note}")
    st.caption("Click a month's bar or a source's bar above to narrow this list.")
    leads_table(rows, key="revenue_drill", file_name=f"huddle-revenue-{period.start or 'all'}.csv")
