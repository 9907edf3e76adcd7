"""Revenue alignment: is revenue on target, how much of it and of the pipeline marketing brought, whether
the open pipeline covers the quota still to reach, and which sources and campaigns the money came from,
against the previous period and the same period last year."""

import streamlit as st

from ui.auth import demo_banner, require_role
from ui.cached import kpi_data
from ui.navigation import Role
from ui.revenue import deals_behind, headline_metrics, revenue_view, sources_section, target_section

require_role(Role.sales_manager, Role.executive, Role.marketer)
st.title("Revenue alignment")
demo_banner()
view = revenue_view(kpi_data("No deals yet. An admin can import a CRM export on the Import page."))
headline_metrics(view)
st.subheader("Revenue against target")
drill_period = target_section(view)
st.subheader("Where the revenue came from")
by, picked = sources_section(view)
st.subheader("The deals behind the numbers")
deals_behind(view, drill_period, by, picked)
