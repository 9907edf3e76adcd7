"""Rate my leads: the MQLs a rep owns (a manager: their team's) still inside the rating window, longest-
waiting first, one at a time, with what a rep needs to judge them; stars, reasons and a note, then the next
one; beside the stars the rep answers the handoff (accept, recycle to marketing, reject). An alert's link
(`?lead=<id>`) opens that lead's card first. A manager can also open any lead of the team. Built for a
phone."""

import streamlit as st

from ui.auth import demo_banner, require_role
from ui.navigation import Role
from ui.rate_leads import any_team_lead, linked_lead, next_lead, recent_section, sla_status

user = require_role(Role.rep, Role.sales_manager)
st.title("Rate my leads")
demo_banner()
sla_status(user)
linked = linked_lead(user)
next_lead(user, skip=linked)
any_team_lead(user)
recent_section(user)
