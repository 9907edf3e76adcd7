"""Rating coverage and calibration: are the MQLs being rated in time, per team and rep; how many left the
rating queue unrated; which raters are harsher or kinder than their team; which reasons sales gives most."""

import streamlit as st

from core.definitions import help_text
from ui.auth import demo_banner, require_role
from ui.cached import kpi_data
from ui.navigation import Role
from ui.rating_health import (
    calibration_section,
    coverage_table,
    missed_summary,
    rating_view,
    reasons_section,
)

require_role(Role.sales_manager, Role.marketer, Role.executive)
st.title("Rating coverage")
demo_banner()
view = rating_view(kpi_data("No leads yet. An admin can import a CRM export on the Import page."))
st.caption(
    f"MQLs of {view.period.label}; the agreement: every MQL rated within {view.terms.rating_days} days. "
    f"An unrated MQL stays in the rating queue {view.terms.rating_window_days} days, then counts as missed."
)
missed_summary(view)
st.subheader("Per team")
st.caption(help_text("rating_coverage"))
coverage_table(view, "team_id", "Team")
st.subheader("Per rep")
coverage_table(view, "owner_id", "Rep")
st.subheader("Calibration")
calibration_section(view)
st.subheader("Reasons given most")
reasons_section(view)
