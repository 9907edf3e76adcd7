"""The weekly report's downloads: the page's week as one self-contained HTML file, and as a zip of that
file with a spreadsheet-safe CSV per table. Built only when clicked (a report carries plotly.js, 4 MB)."""

from __future__ import annotations

import streamlit as st

from core.report import report_csvs, report_zip
from core.weekly import WeeklySync
from core.weekly_report import report_sections
from db import clock
from db.engine import read_session
from db.report import actions_table, week_report_html
from ui.criteria import criteria_activations
from ui.db import engine


def _report_parts(sync: WeeklySync) -> tuple[str, dict[str, bytes]]:
    with read_session(engine()) as session:
        actions = actions_table(session, sync.week)
    activations = criteria_activations()
    html = week_report_html(sync, actions, activations, made_at=clock.now())
    return html, report_csvs(report_sections(sync, actions, activations))


def report_downloads(sync: WeeklySync) -> None:
    name = f"huddle-weekly-sync-{sync.week}"
    st.download_button(
        "Download this week",
        data=lambda: report_zip(name, *_report_parts(sync)),
        file_name=f"{name}.zip",
        mime="application/zip",
        icon=":material/download:",
        help="One HTML file that opens offline, charts and all, and a CSV of every table.",
        width="stretch",
    )
