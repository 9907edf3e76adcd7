"""SLA settings: the terms each side committed to, for the company and per team, set by sales managers
(their own team and the company) and admins, every version kept."""

import streamlit as st

from ui.auth import demo_banner, require_role
from ui.navigation import Role
from ui.sla import set_terms_form, show_flash, show_history, show_in_force, sla_terms

user = require_role(Role.sales_manager, Role.admin)
st.title("SLA settings")
demo_banner()
show_flash()
st.caption(
    "Marketing commits to a number of MQLs a month and the share sales will rate 4-5; sales commits to "
    "following up and rating every MQL in time. A team without its own terms follows the company's. "
    "Every change is a new version, shown in the history and on the Glossary page."
)
terms = sla_terms()
st.subheader("In force")
show_in_force(terms)
st.subheader("Set new terms")
set_terms_form(user, terms)
st.subheader("History")
show_history(terms)
