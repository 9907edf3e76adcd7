"""Targeting criteria: the version in force, the evidence from sales' ratings and won/lost outcomes, the
suggestion with its backtest, what-if editing for marketing, and the joint sign-off of drafts."""

import streamlit as st

from ui.auth import demo_banner, require_role
from ui.criteria import (
    active_version,
    criteria_versions,
    drafts_section,
    goal_picker,
    history_section,
    learning_notice,
    show_active,
    show_attributes,
    show_evidence,
    show_flash,
    show_missing_attributes,
    show_suggestion,
    targeting_data,
    tuning_key,
    what_if_editor,
)
from ui.navigation import Role

user = require_role(Role.marketer, Role.sales_manager, Role.executive)
st.title("Targeting criteria")
demo_banner()
show_flash()
listed = criteria_versions()
active = active_version(listed)
show_active(active)
goal, keep = goal_picker()
key = tuning_key(active, goal, keep)
learning = targeting_data(key)
data = learning.data

st.subheader("What the evidence says")
if not learning.ready:
    learning_notice(key)  # the sections below that need the tuning appear once it is learnt
elif learning.problem:
    st.error(learning.problem, icon=":material/error:")
else:
    show_missing_attributes(active, data)
    show_evidence(data)
    show_attributes(data)
    st.subheader("The suggestion")
    show_suggestion(data)
    if user.role == Role.marketer:
        st.subheader("Try a change")
        st.caption(
            "Edit points, rules or the threshold; the backtest follows. Propose it when it reads right."
        )
        what_if_editor(user, data, active)
st.subheader("Drafts waiting for sign-off")
st.caption("A draft is in force once a sales manager other than its proposer approves it.")
drafts_section(user, listed, active, data)
st.subheader("History")
history_section(user, listed)
