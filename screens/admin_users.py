"""Users: an admin adds people, changes their role or team, disables them and resets passwords."""

import streamlit as st

from ui.admin_users import add_user_form, change_user_form, disable_or_reset_form, politely, users_frame
from ui.auth import require_role
from ui.navigation import Role

require_role(Role.admin)
st.title("Users")
st.caption("Every change here is kept in the audit log. A new or reset password is shown once.")

with politely():
    add_tab, change_tab, access_tab = st.tabs(["Add", "Change role or team", "Disable or reset password"])
    with add_tab:
        add_user_form()
    with change_tab:
        change_user_form()
    with access_tab:
        disable_or_reset_form()

    st.subheader("Everyone")
    st.dataframe(users_frame(), hide_index=True, width="stretch")
