"""The Funnel screen's sections: the stage counts, the funnel chart a click on which picks the leads listed,
conversion and velocity, the trend, the breakdown table and the leads behind it, and the leads sales sent
back to marketing (recycled or rejected, with their reasons). The tables' rows are built
here (conversion_rows, breakdown_rows), so the page is only the order of the sections."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from core.charts import funnel_chart, trend_chart
from core.criteria_marks import activations_between, mark_activations
from core.filters import Filters, apply_filters
from core.funnel import BREAKDOWNS, PAIRS, STEPS, Funnel, funnel_steps, pair_key, trend_buckets
from core.handoff import NurtureCounts, ReturnCounts, nurture_counts, nurture_list, return_counts, returns
from core.periods import Period
from core.schema import STAGE_LABEL
from ui.cached import DataVersion, breakdown_table, leads_behind_rows, trend_series
from ui.criteria import criteria_activations
from ui.drill import leads_table
from ui.handoff import answers
from ui.widgets import MISSING, clickable_chart, count_metric, percent, plain, rate_detail, selected_point


def period_notes(now: Funnel, compared: Period, anchor: date, today: date) -> None:
    """Which periods these are, where the data ends, and which stages it does not have."""
    st.caption(f"{now.period.label}, against {compared.label}.")
    if anchor < today:
        st.caption(f"This data ends on {anchor:%B %d, %Y}, so periods end there.")
    if now.missing:
        st.info(
            f"This data has no {' or '.join(now.missing)}: they are left out, not drawn as zero.",
            icon=":material/info:",
        )


def stage_metrics(now: Funnel, before: Funnel) -> None:
    cells = st.columns(len(STEPS) + 1)
    with cells[0]:
        if now.traffic is None:
            st.metric(STAGE_LABEL["traffic"], MISSING)
        else:
            count_metric(STAGE_LABEL["traffic"], "traffic", now.traffic, before.traffic)
    for cell, stage in zip(cells[1:], STEPS, strict=True):
        with cell:
            count_metric(STAGE_LABEL[stage], "leads" if stage == "created" else stage, now.counts[stage],
                         before.counts[stage])  # fmt: skip


def funnel_section(now: Funnel) -> None:
    """The funnel chart; a click on a stage picks it for the leads list at the bottom."""
    steps = funnel_steps(now)
    if steps.get_column("count").sum() == 0:
        st.info(
            f"Nothing reached any stage in {now.period.label}. Try a longer period.",
            icon=":material/filter_alt_off:",
        )
        return
    clicked = clickable_chart(
        funnel_chart(steps, f"Reached each stage in {now.period.label} (flow counts)"),
        "funnel_chart",
    )
    follow_clicked_stage(now, selected_point(clicked))
    st.caption("Click a stage to list its leads at the bottom of the page.")


def conversion_rows(now: Funnel) -> pl.DataFrame:
    """One row a pair of stages: the rate, its counts and interval, its marks and the median days."""
    rows = []
    for a, b in PAIRS:
        key = pair_key(a, b)
        conversion = now.conversions[key]
        step = f"{STAGE_LABEL[a]} → {STAGE_LABEL[b]}"
        if conversion is None:
            rows.append({"step": step, "conversion": MISSING, "of them": "", "marks": "",
                         "median days": MISSING})  # fmt: skip
            continue
        marks = [m for m, on in (("small sample", conversion.rate.small_sample), ("still maturing",
                 conversion.maturing)) if on]  # fmt: skip
        velocity = now.velocity_days[key]
        rows.append(
            {
                "step": step,
                "conversion": percent(conversion.rate.value),
                "of them": rate_detail(conversion.rate),
                "marks": ", ".join(marks),
                "median days": "—" if velocity is None else f"{velocity:,.1f}",
            }
        )
    return pl.DataFrame(rows)


def conversion_table(now: Funnel) -> None:
    st.dataframe(conversion_rows(now), hide_index=True, width="stretch")
    st.caption(
        "Conversion follows the leads that reached the first stage in the period, whenever they reached "
        "the next. *Still maturing*: the typical time between the two stages has not yet passed. Median "
        "days: how long the step took for the leads that reached the second stage in the period. Website "
        "sessions are visits, not people, so no rate leads from them to leads."
    )


def trend_section(version: DataVersion, filters: Filters, last: date) -> None:
    """Leads reaching each stage per week or month up to `last`, new criteria versions marked."""
    grain = st.segmented_control("Trend by", ["week", "month"], default="week", key="trend_grain") or "week"
    series = trend_series(version, filters, last, grain)
    if series.is_empty():
        st.info("No stage has any leads to draw.", icon=":material/show_chart:")
        return
    title = f"Leads reaching each stage per {grain}, last 13 {grain}s (the last one may be partial)"
    first = trend_buckets(last, grain)[0]
    activations = criteria_activations()
    figure = mark_activations(trend_chart(series, title, grain), activations, first, last)
    st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
    if activations_between(activations, first, last):
        st.caption(
            "A dotted line marks the day a new targeting criteria version came into force: MQL counts that "
            "move from that day on may be the definition changing, not the market."
        )


def breakdown_rows(table: pl.DataFrame, by: str, now: Funnel) -> pl.DataFrame:
    """The breakdown as shown: the dimension's own name, a column a stage the data has, rates in %."""
    return table.select(
        pl.col("key").alias(BREAKDOWNS[by]),
        *[pl.col(s).alias(STAGE_LABEL[s]) for s in STEPS if now.counts[s] is not None],
        pl.col("revenue").alias("Revenue"),
        (pl.col("mql_to_sql") * 100).alias("MQL → SQL %"),
        pl.col("mql_to_sql_den").alias("MQLs in cohort"),
        (pl.col("win_rate") * 100).alias("Win rate %"),
        pl.col("win_den").alias("Closed"),
    )


def breakdown_section(version: DataVersion, filters: Filters, now: Funnel) -> tuple[str, str] | None:
    """The breakdown table; returns the (dimension, value) of the row the user picked, if any."""
    by = st.selectbox(
        "Break down by", list(BREAKDOWNS), format_func=BREAKDOWNS.__getitem__, key="breakdown_by"
    )
    table = breakdown_table(version, filters, now.period, by)
    if table.is_empty():
        st.info(f"No leads reached any stage in {now.period.label}.", icon=":material/table_rows:")
        return None
    event = st.dataframe(
        breakdown_rows(table, by, now),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"breakdown_table_{by}",
        column_config={
            "Revenue": st.column_config.NumberColumn(format="dollar"),
            "MQL → SQL %": st.column_config.NumberColumn(format="%.1f%%"),
            "Win rate %": st.column_config.NumberColumn(format="%.1f%%"),
        },
    )
    st.caption("Select a row to list its leads below. Rates are empty where nothing was in the denominator.")
    selected = event.selection.rows if event is not None else []
    return (by, str(table["key"][selected[0]])) if selected else None


def follow_clicked_stage(now: Funnel, index: int | None) -> None:
    """A click on a funnel bar picks that stage for the leads list, once: a later pick in the list's own
    selector wins until another bar is clicked."""
    stages = [s for s in STEPS if now.counts[s] is not None]
    stage = stages[index] if index is not None and index < len(stages) else None
    if stage is not None and st.session_state.get("funnel_clicked") != stage:
        st.session_state["drill_stage"] = stage
    st.session_state["funnel_clicked"] = stage


def drill_down(version: DataVersion, filters: Filters, now: Funnel, group: tuple[str, str] | None) -> None:
    stages = [s for s in STEPS if now.counts[s] is not None]
    left, right = st.columns([2, 3])
    stage = left.selectbox(
        "Leads that reached", stages, format_func=STAGE_LABEL.__getitem__, key="drill_stage"
    )
    by, key = group if group else (None, None)
    rows = leads_behind_rows(version, filters, now.period, stage, by=by, key=key)
    scope = f" with {BREAKDOWNS[by].lower()} {plain(key)}" if by else ""
    right.markdown(f"**{rows.height:,} {STAGE_LABEL[stage].lower()}** in {now.period.label}{scope}")
    leads_table(rows, key="drill", file_name=f"huddle-{stage}-{now.period.start or 'all'}.csv")


STATUS_WORDS = {"waiting": "recycled, waiting", "due back": "recycled, due back", "rejected": "rejected"}


def nurture_rows(nurture: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """The nurture list as shown: the lead, what sales answered, why, until when, who and when."""
    names = people.select(pl.col("user_id").alias("answered_by"), pl.col("name").alias("answered by"))
    return nurture.join(names, on="answered_by", how="left", maintain_order="left").select(
        pl.col("lead_id").alias("lead"),
        pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("answer"),
        "reason",
        pl.col("come_back_on").alias("back to sales on"),
        "answered by",
        pl.col("answered_at").alias("answered on"),
    )


def nurture_sentence(counts: NurtureCounts, period: Period) -> str:
    """How many leads sales sent back to marketing in the period."""
    return (
        f"**{counts.recycled:,} recycled** ({counts.waiting:,} waiting for their date, "
        f"{counts.due_back:,} due back) and **{counts.rejected:,} rejected** by sales in {period.label}."
    )


def _leads(count: int) -> str:
    return "1 lead" if count == 1 else f"{count:,} leads"


def returns_sentence(back: ReturnCounts) -> str:
    """What became of every lead ever recycled; empty before the first."""
    if not back.recycled:
        return ""
    return (
        f"Of the {_leads(back.recycled)} ever recycled, {back.returned:,} came back as MQLs and "
        f"{back.won:,} of those were won."
    )


def back_to_marketing(leads: pl.DataFrame, people: pl.DataFrame, filters: Filters, today: date) -> None:
    """The leads sales answered recycle or reject in the period (of the chosen team, source and segment):
    marketing's nurture list, with the reasons."""
    period = filters.period(today)
    given = answers()
    # Only the answered leads can be on the list: filtered first, so a million leads cost nothing here.
    answered = leads.filter(pl.col("id").is_in(given.get_column("lead_id").unique().to_list()))
    chosen = apply_filters(answered, people, filters)
    nurture = nurture_list(given, chosen, period, today)
    back = return_counts(returns(given, chosen, today))
    if nurture.is_empty():
        st.info(
            f"Sales sent no lead back to marketing in {period.label}: nothing recycled, nothing rejected.",
            icon=":material/assignment_return:",
        )
        if back.recycled:
            st.caption(returns_sentence(back))
        return
    st.markdown(f"{nurture_sentence(nurture_counts(nurture), period)} {returns_sentence(back)}")
    st.dataframe(
        nurture_rows(nurture, people),
        hide_index=True,
        width="stretch",
        column_config={
            "lead": st.column_config.NumberColumn("lead", format="%d"),
            "back to sales on": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "answered on": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )
    st.caption(
        "Recycled: not now, back to marketing's nurture list until the date the rep gave; due back from that "
        "date on. Rejected: never, for the reason given. Answers are counted by the day they were given."
    )
