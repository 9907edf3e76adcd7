"""Audit log: who did what, to which object, with what outcome and when; filter it and export it."""

import streamlit as st

from ui.admin_users import politely
from ui.audit_log import action_choices, audit_csv, audit_frame
from ui.auth import require_role
from ui.navigation import Role

require_role(Role.admin)
st.title("Audit log")
st.caption("Every login, failed login, lockout, logout, refused action, import and user change, in UTC.")

with politely():
    who_col, action_col, days_col = st.columns(3)
    who = who_col.text_input("Who (part of the username)")
    action = action_col.selectbox("Action", action_choices(), format_func=lambda a: a or "(any)")
    days = days_col.date_input(
        "Days (UTC)", value=[], help="Pick a first and a last day; empty means all days."
    )
    first_day = days[0] if len(days) > 0 else None
    last_day = days[1] if len(days) > 1 else first_day

    entries = audit_frame(who=who, action=action, first_day=first_day, last_day=last_day)
    st.caption(f"{entries.height:,} entries, newest first.")
    st.dataframe(entries, hide_index=True, width="stretch")
    st.download_button(
        "Export CSV",
        audit_csv(entries),
        file_name="huddle-audit-log.csv",
        mime="text/csv",
        icon=":material/download:",
    )
