"""Content health: how much of marketing's sales content is used and by whom, whether it helped, what is
stale, what reps ask for, and how the deals it was used on closed against comparable ones."""

import streamlit as st

from core.definitions import help_text
from ui.auth import demo_banner, require_role
from ui.content_health import (
    content_health,
    empty_library,
    helped_section,
    influence_section,
    requests_section,
    stale_section,
    unused_section,
    use_section,
    used_metric,
)
from ui.navigation import Role

user = require_role(Role.marketer, Role.sales_manager, Role.executive, Role.admin)
st.title("Content health")
demo_banner()
health = content_health()
if not empty_library(health):
    used_metric(health)
    st.subheader("Never used")
    unused_section(health)
    st.subheader("Use per team and rep")
    use_section(health, user)
    st.subheader("Helped?")
    helped_section(health)
    st.subheader("Stale")
    stale_section(health)
st.subheader("Requests by votes")
requests_section(health)
if health.assets:
    st.subheader("Influence on revenue", help=help_text("content_influence"))
    influence_section(health)
