"""Weekly sync: the Sales + Marketing meeting around one finished week, on screen or on the projector."""

import streamlit as st

from core.weekly import week_title
from ui.action_items import action_items_section
from ui.auth import demo_banner, require_role
from ui.cached import kpi_data
from ui.navigation import EVERYONE
from ui.presenter import (
    apply_presenter_style,
    current_section,
    deck_controls,
    presenting,
    start_presenting,
)
from ui.report import report_downloads
from ui.weekly import SECTIONS, as_seen_by, week_sync, weeks_offered

user = require_role(*EVERYONE)
data = kpi_data(
    "No leads yet, so there is no week to review. An admin can import a CRM export on the Import page."
)
offered = weeks_offered(data.last_event, data.today)
asked = st.query_params.get("week")
week = asked if asked in offered else offered[0]
sync = as_seen_by(week_sync(data.version, week), user)
sections = [*SECTIONS, ("Decisions and action items", None)]

if presenting():
    apply_presenter_style()
    number = current_section(len(sections))
    title, draw = sections[number - 1]
    st.title(f"{title} — {week_title(week)}")
    if draw is None:
        action_items_section(user, week, key="present_actions")
    else:
        draw(sync, True)
    deck_controls(number, len(sections), title)
    st.stop()

st.title("Weekly sync")
demo_banner()
pick, present, download = st.columns([3, 1, 2], vertical_alignment="bottom")
chosen = pick.selectbox("Week", offered, index=offered.index(week), format_func=week_title)
if chosen != week:
    st.query_params["week"] = chosen
    st.rerun()
present.button(
    "Present",
    icon=":material/slideshow:",
    on_click=start_presenting,
    width="stretch",
    help="Full screen for the meeting room: one section per screen, Left and Right keys to move.",
)
with download:
    report_downloads(sync)
for title, draw in sections:
    st.header(title, divider="gray")
    if draw is None:
        action_items_section(user, week)
    else:
        draw(sync, False)
