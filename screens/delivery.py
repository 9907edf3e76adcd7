"""Delivery: the messages Huddle sends (waiting, sent, failed with the reason), and Retry for failed ones."""

import streamlit as st

from ui.admin_users import politely
from ui.auth import require_role
from ui.delivery import (
    SHOWN,
    channels_off,
    failed_list,
    outbox_overview,
    queued_frame,
    sent_frame,
    show_flash,
)
from ui.delivery import totals as delivery_totals
from ui.navigation import Role

user = require_role(Role.admin)
st.title("Delivery")
st.caption(
    "The alerts Huddle sends by email and chat. `python -m db notify --serve` (or `--once` from cron) "
    "delivers them; a failed send is tried again after 1, 2, 4, 8 and 16 minutes, then given up."
)

with politely():
    show_flash()
    for sentence in channels_off():
        st.warning(sentence, icon=":material/mail_lock:")
    overview = outbox_overview()
    totals = delivery_totals(overview)
    if not any(totals.values()):
        st.info(
            "No message yet. Alerts are enqueued as MQLs arrive and reminders fall due, for whoever has them "
            "switched on (My account).",
            icon=":material/inbox:",
        )
        st.stop()
    for column, (label, count) in zip(st.columns(len(totals)), totals.items(), strict=True):
        column.metric(label, f"{count:,}")
    failed_tab, waiting_tab, sent_tab = st.tabs(
        [f"Failed ({totals['Failed']:,})", f"Waiting ({totals['Waiting']:,})", f"Sent ({totals['Sent']:,})"]
    )
    with failed_tab:
        failed_list(user, overview.failed, totals["Failed"])
    with waiting_tab:
        st.caption(f"The next {SHOWN} due, soonest first.")
        st.dataframe(queued_frame(overview), hide_index=True, width="stretch")
    with sent_tab:
        st.caption(f"The {SHOWN} sent last, newest first.")
        st.dataframe(sent_frame(overview), hide_index=True, width="stretch")
