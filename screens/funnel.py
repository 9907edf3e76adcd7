"""Funnel: website sessions to won deals for the chosen period, how each stage converts, how fast, where
the leads come from, the leads behind every number, and the leads sales sent back to marketing."""

import streamlit as st

from ui.auth import demo_banner
from ui.cached import funnel_pair, kpi_data
from ui.filters import sidebar_filters
from ui.funnel import (
    back_to_marketing,
    breakdown_section,
    conversion_table,
    drill_down,
    funnel_section,
    period_notes,
    stage_metrics,
    trend_section,
)

st.title("Funnel")
demo_banner()
data = kpi_data("No leads yet. An admin can import a CRM export on the Import page.")
version, anchor = data.version, data.anchor
filters = sidebar_filters(data.leads, data.people, anchor)
now, before = funnel_pair(version, filters, anchor, data.today)
period_notes(now, filters.comparison(anchor), anchor, data.today)
stage_metrics(now, before)
funnel_section(now)
st.subheader("Conversion and velocity")
conversion_table(now)
st.subheader("Trend")
trend_section(version, filters, anchor)
st.subheader("Where the leads come from")
picked = breakdown_section(version, filters, now)
st.subheader("The leads behind the numbers")
drill_down(version, filters, now, picked)
st.subheader("Back to marketing")
back_to_marketing(data.leads, data.people, filters, data.today)
