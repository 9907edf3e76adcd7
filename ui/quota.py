"""The Quota and win rate screen's sections. Each reads one QuotaView: the data, the sidebar's filters,
whose numbers (the scope the viewer may pick) and who is looking, which decides whether others' names show.
The Revenue screen's sections read the same view without the viewer (ScopedView)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
import streamlit as st

from core.charts import attainment_chart, team_attainment_chart, team_colours, win_rate_chart
from core.definitions import help_text
from core.filters import Filters
from core.kpis import records_losses
from core.periods import Period
from core.quota import Scope, bucket_period, leaderboard
from db.models import Role
from ui.auth import CurrentUser
from ui.cached import (
    DataVersion,
    KpiData,
    attainment_series,
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
from ui.scopes import chosen_scope, deals_as_seen_by, own_team
from ui.widgets import (
    attainment_metric,
    clickable_chart,
    days_metric,
    leaderboard_table,
    plain,
    rate_metric,
    selected_category,
    selected_point,
)


@dataclass(frozen=True)
class ScopedView:
    """What the sections of the Quota and the Revenue screens read: the data, the sidebar's filters and
    whose numbers."""

    leads: pl.DataFrame
    people: pl.DataFrame
    version: DataVersion
    anchor: date
    filters: Filters
    scope: Scope

    @property
    def period(self) -> Period:
        return self.filters.period(self.anchor)

    @property
    def compared(self) -> Period:
        return self.filters.comparison(self.anchor)


@dataclass(frozen=True)
class QuotaView(ScopedView):
    """And who is looking, which decides whether the leaderboard names the others."""

    user: CurrentUser


def quota_view(user: CurrentUser, data: KpiData) -> QuotaView:
    """The sidebar's filters (a rep's and a manager's team locked to their own) and whose numbers."""
    filters = sidebar_filters(data.leads, data.people, data.anchor, team_locked=own_team(user, data.people))
    scope = chosen_scope(user, data.people, filters.team)
    return QuotaView(data.leads, data.people, data.version, data.anchor, filters, scope, user)


def scope_notes(view: QuotaView) -> None:
    st.caption(f"{plain(view.scope.label)}: {view.period.label}, against {view.compared.label}.")
    if view.filters.source or view.filters.segment:
        st.caption(
            "Source and segment filters narrow the deals counted, not the quota they are held against."
        )


def headline_metrics(view: QuotaView) -> None:
    """Attainment, win rate, sales cycle and won deals, each against the comparison period."""
    version, filters, scope, period, compared = (
        view.version,
        view.filters,
        view.scope,
        view.period,
        view.compared,
    )
    cells = st.columns(4)
    with cells[0]:
        attainment_metric(
            target_of(version, filters, period, scope), target_of(version, filters, compared, scope)
        )
    with cells[1]:
        rate_metric("Win rate", "win_rate", win_rate_of(version, filters, period, scope),
                    win_rate_of(version, filters, compared, scope),
                    recorded=records_losses(view.leads))  # fmt: skip
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


def attainment_section(view: QuotaView) -> Period | None:
    """The month or quarter chart against the quota line; returns the bucket whose bar was clicked."""
    scope = view.scope
    grain = (
        st.segmented_control("By", ["month", "quarter"], default="month", key="attainment_grain") or "month"
    )
    buckets = attainment_series(view.version, view.filters, scope, view.anchor, grain)
    if buckets["quota"].is_null().all():
        whose = "the company" if scope.level == "company" else plain(scope.label)
        st.info(
            f"No quota is set for {whose} in these {grain}s, so only revenue is drawn. An admin adds quotas "
            "with `python -m db quotas import quotas.csv`.",
            icon=":material/flag:",
        )
    title = f"{scope.label}: revenue won per {grain} against quota (bar labels: attainment)"
    event = clickable_chart(
        attainment_chart(buckets, title, grain),
        f"attainment_chart_{grain}",
    )
    picked = selected_point(event)
    return None if picked is None else bucket_period(buckets["bucket"][picked], grain)


def teams_section(view: QuotaView) -> Scope | None:
    """Attainment per team, for the company's numbers only; returns the team whose bar was clicked."""
    if view.scope.level != "company":
        return None
    teams = teams_attainment(view.version, view.filters, view.period)
    if teams.is_empty() or teams["attainment"].is_null().all():
        return None
    colours = team_colours(view.people.get_column("team").drop_nulls().unique().to_list())
    event = clickable_chart(
        team_attainment_chart(
            teams, colours, f"Quota attainment per team, quota periods overlapping {view.period.label}"
        ),
        "team_chart",
    )
    team = selected_category(event, "x")
    if team is None:
        return None
    chosen = teams.filter(pl.col("team") == team)
    return None if chosen.is_empty() else Scope("team", int(chosen["team_id"][0]), team)


def trend_section(view: QuotaView) -> None:
    grain = st.segmented_control("Trend by", ["week", "month"], default="month", key="win_grain") or "month"
    trend = win_rate_series(view.version, view.filters, view.scope, view.anchor, grain)
    if trend["closed"].sum() == 0:
        st.info(f"No deals closed in the last 13 {grain}s.", icon=":material/show_chart:")
        return
    if not records_losses(view.leads):
        st.info("This data records no lost deals, so a win rate cannot be drawn.", icon=":material/info:")
        return
    st.plotly_chart(
        win_rate_chart(
            trend, f"{view.scope.label}: win rate per {grain} by close date, with its 95% interval", grain
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


def leaderboard_section(view: QuotaView) -> None:
    """The reps ranked; a rep sees their own name and only the others' ranks."""
    reps = reps_attainment(view.version, view.filters, view.period)
    if view.filters.team is not None:
        reps = reps.filter(pl.col("team") == view.filters.team)
    if reps.is_empty():
        st.info(
            f"No rep has a quota for {view.period.label}, so there is no ranking.",
            icon=":material/leaderboard:",
        )
        return
    names_shown = view.user.role != Role.rep
    leaderboard_table(leaderboard(reps, viewer_id=view.user.id, names_shown=names_shown))
    if not names_shown:
        st.caption("You see your own row; the others only by rank. Managers see names.")


def deals_behind(view: QuotaView, bucket: Period | None, team: Scope | None) -> None:
    """The won deals of the period and scope, or of the bar clicked above."""
    shown, whose = bucket or view.period, team or view.scope
    clicked = " (the bar you clicked)" if bucket or team else ""
    st.markdown(f"**Won deals, {plain(whose.label)}, {shown.label}**{clicked}")
    deals = deals_as_seen_by(won_deals(view.version, view.filters, shown, whose), view.user, view.leads)
    leads_table(deals, key="quota_drill",
                file_name=f"huddle-won-{shown.start or 'all'}.csv")  # fmt: skip
