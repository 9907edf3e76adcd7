"""My account: who I am signed in as, changing my password, my alerts (and, for admins, every role's
alert defaults)."""

import streamlit as st

from ui.account import change_password_form
from ui.alerts import alerts_sections
from ui.auth import require_role
from ui.navigation import EVERYONE

user = require_role(*EVERYONE)
st.title("My account")
st.text(f"Signed in as {user.username} ({user.role_label}).")
st.caption("Changing your password ends every login of yours, in every browser, this one too.")
change_password_form(user)
alerts_sections(user)
