"""Quota and win rate: attainment per rep and team against quota, the win-rate trend inside its interval,
the sales cycle, and a leaderboard in which a rep is named to nobody but themselves."""

import streamlit as st

from ui.auth import demo_banner, require_role
from ui.cached import kpi_data
from ui.navigation import Role
from ui.quota import (
    attainment_section,
    deals_behind,
    headline_metrics,
    leaderboard_section,
    quota_view,
    scope_notes,
    teams_section,
    trend_section,
)

user = require_role(Role.rep, Role.sales_manager, Role.executive, Role.marketer)
st.title("Quota and win rate")
demo_banner()
view = quota_view(user, kpi_data("No deals yet. An admin can import a CRM export on the Import page."))
scope_notes(view)
headline_metrics(view)
st.subheader("Attainment")
bucket = attainment_section(view)
team_picked = teams_section(view)
st.subheader("Win rate and sales cycle")
trend_section(view)
st.subheader("Leaderboard")
leaderboard_section(view)
st.subheader("The deals behind the numbers")
deals_behind(view, bucket, team_picked)
