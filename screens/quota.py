"""Quota and win rate: attainment per rep and team against quota, the win-rate trend inside its interval,
the sales cycle, and a leaderboard in which a rep is named to nobody but themselves."""

import polars as pl
import streamlit as st

from core.charts import attainment_chart, team_attainment_chart, team_colours, win_rate_chart
from core.definitions import help_text
from core.kpis import records_losses
from core.periods import Period
from core.quota import Scope, bucket_period, leaderboard
from ui.auth import demo_banner, require_role
from ui.cached import (
    attainment_series,
    kpi_data,
    reps_attainment,
    sales_cycle_of,
    target_of,
    teams_attainment,
    win_rate_of,
    win_rate_series,
    won_deals,
)
from ui.drill import leads_table
from ui.filters import sidebar_filters
from ui.scopes import chosen_scope, own_team
from ui.widgets import (
    attainment_metric,
    days_metric,
    leaderboard_table,
    plain,
    rate_metric,
    selected_category,
    selected_point,
)

user = require_role("rep", "sales_manager", "executive", "marketer")
st.title("Quota and win rate")
demo_banner()
data = kpi_data("No deals yet. An admin can import a CRM export on the Import page.")
all_leads, names, anchor, version = data.leads, data.people, data.anchor, data.version
team = own_team(user, names)
filters = sidebar_filters(all_leads, names, anchor, team_locked=team)
period, compared = filters.period(anchor), filters.comparison(anchor)
scope = chosen_scope(user, names, filters.team)
st.caption(f"{plain(scope.label)}: {period.label}, against {compared.label}.")
if filters.source or filters.segment:
    st.caption("Source and segment filters narrow the deals counted, not the quota they are held against.")

cells = st.columns(4)
with cells[0]:
    attainment_metric(
        target_of(version, filters, period, scope),
        target_of(version, filters, compared, scope),
    )
with cells[1]:
    rate_metric("Win rate", "win_rate", win_rate_of(version, filters, period, scope),
                win_rate_of(version, filters, compared, scope),
                recorded=records_losses(all_leads))  # fmt: skip
with cells[2]:
    days_metric(
        "Sales cycle",
        "sales_cycle",
        sales_cycle_of(version, filters, period, scope),
        sales_cycle_of(version, filters, compared, scope),
    )
with cells[3]:
    won = won_deals(version, filters, period, scope)
    st.metric("Won deals", f"{won.height:,}", help=help_text("won"))
    st.caption(f"${won['amount'].fill_null(0).sum():,.0f} won")


def attainment_section(scope: Scope) -> Period | None:
    """The month or quarter chart against the quota line; returns the bucket whose bar was clicked."""
    grain = (
        st.segmented_control("By", ["month", "quarter"], default="month", key="attainment_grain") or "month"
    )
    buckets = attainment_series(version, filters, scope, anchor, grain)
    if buckets["quota"].is_null().all():
        whose = "the company" if scope.level == "company" else plain(scope.label)
        st.info(
            f"No quota is set for {whose} in these {grain}s, so only revenue is drawn. An admin adds quotas "
            "with `python -m db quotas import quotas.csv`.",
            icon=":material/flag:",
        )
    title = f"{scope.label}: revenue won per {grain} against quota (bar labels: attainment)"
    event = st.plotly_chart(
        attainment_chart(buckets, title, grain),
        width="stretch",
        config={"displayModeBar": False},
        on_select="rerun",
        selection_mode="points",
        key=f"attainment_chart_{grain}",
    )
    picked = selected_point(event)
    return None if picked is None else bucket_period(buckets["bucket"][picked], grain)


def teams_section() -> Scope | None:
    """Attainment per team; returns the team whose bar was clicked."""
    teams = teams_attainment(version, filters, period)
    if teams.is_empty() or teams["attainment"].is_null().all():
        return None
    colours = team_colours(names.get_column("team").drop_nulls().unique().to_list())
    event = st.plotly_chart(
        team_attainment_chart(
            teams, colours, f"Quota attainment per team, quota periods overlapping {period.label}"
        ),
        width="stretch",
        config={"displayModeBar": False},
        on_select="rerun",
        selection_mode="points",
        key="team_chart",
    )
    team = selected_category(event, "x")
    if team is None:
        return None
    chosen = teams.filter(pl.col("team") == team)
    return None if chosen.is_empty() else Scope("team", int(chosen["team_id"][0]), team)


def trend_section() -> None:
    grain = st.segmented_control("Trend by", ["week", "month"], default="month", key="win_grain") or "month"
    trend = win_rate_series(version, filters, scope, anchor, grain)
    if trend["closed"].sum() == 0:
        st.info(f"No deals closed in the last 13 {grain}s.", icon=":material/show_chart:")
        return
    if not records_losses(all_leads):
        st.info("This data records no lost deals, so a win rate cannot be drawn.", icon=":material/info:")
        return
    st.plotly_chart(
        win_rate_chart(
            trend, f"{scope.label}: win rate per {grain} by close date, with its 95% interval", grain
        ),
        width="stretch",
        config={"displayModeBar": False},
    )
    cycle = trend.filter(pl.col("cycle_days").is_not_null())
    if not cycle.is_empty():
        last = cycle.row(-1, named=True)
        when = f"the week of {last['bucket']:%b %d, %Y}" if grain == "week" else f"{last['bucket']:%B %Y}"
        st.caption(
            f"Sales cycle of the deals won in {when}: median {last['cycle_days']:,.0f} days. The shaded band "
            "is where the true rate likely lies; it is wide where few deals closed."
        )


def leaderboard_section() -> None:
    reps = reps_attainment(version, filters, period)
    if filters.team is not None:
        reps = reps.filter(pl.col("team") == filters.team)
    if reps.is_empty():
        st.info(
            f"No rep has a quota for {period.label}, so there is no ranking.", icon=":material/leaderboard:"
        )
        return
    names_shown = user.role != "rep"
    leaderboard_table(leaderboard(reps, viewer_id=user.id, names_shown=names_shown))
    if not names_shown:
        st.caption("You see your own row; the others only by rank. Managers see names.")


st.subheader("Attainment")
bucket = attainment_section(scope)
team_picked = teams_section() if scope.level == "company" else None
st.subheader("Win rate and sales cycle")
trend_section()
st.subheader("Leaderboard")
leaderboard_section()
st.subheader("The deals behind the numbers")
shown, whose = bucket or period, team_picked or scope
clicked = " (the bar you clicked)" if bucket or team_picked else ""
st.markdown(f"**Won deals, {plain(whose.label)}, {shown.label}**{clicked}")
leads_table(won_deals(version, filters, shown, whose), key="quota_drill",
            file_name=f"huddle-won-{shown.start or 'all'}.csv")  # fmt: skip
