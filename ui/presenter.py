"""Presenter mode for the meeting room: no sidebar, large high-contrast type, one section per screen.

The place in the deck lives in the address (`?present=1&section=3`), so a refresh of the projector, or
the link sent to someone joining remotely, opens the same screen.
"""

from __future__ import annotations

import streamlit as st

PRESENT_PARAM = "present"
SECTION_PARAM = "section"

# Static CSS only (no data in it): hide the chrome, enlarge type, darken the greys Streamlit uses for
# captions and metric labels so they survive a washed-out projector.
PRESENTER_CSS = """
<style>
html { font-size: 19px; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
[data-testid="stMainBlockContainer"], .block-container {
  padding-top: 1.2rem !important; padding-bottom: 0.5rem !important; max-width: 100% !important;
}
[data-testid="stAppViewContainer"], [data-testid="stMain"] { background: #ffffff; color: #000000; }
[data-testid="stMetricLabel"], [data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] p {
  color: #000000 !important; opacity: 1 !important;
}
[data-testid="stMetricValue"] { font-size: 2.6rem !important; font-weight: 700; }
h1 { font-size: 2.2rem !important; padding-bottom: 0.2rem !important; }
</style>
"""


def presenting() -> bool:
    return st.query_params.get(PRESENT_PARAM) == "1"


def start_presenting() -> None:
    st.query_params[PRESENT_PARAM] = "1"
    st.query_params[SECTION_PARAM] = "1"


def stop_presenting() -> None:
    for name in (PRESENT_PARAM, SECTION_PARAM):
        if name in st.query_params:
            del st.query_params[name]


def apply_presenter_style() -> None:
    st.html(PRESENTER_CSS)  # style only: Streamlit adds it without taking any room on the page


def current_section(count: int) -> int:
    """The 1-based section shown, from the address; anything unreadable starts at the first."""
    try:
        number = int(st.query_params.get(SECTION_PARAM, "1"))
    except ValueError:
        number = 1
    return min(max(number, 1), count)


def _go_to(number: int) -> None:
    st.query_params[SECTION_PARAM] = str(number)


def deck_controls(number: int, count: int, title: str) -> None:
    """Previous / next (also the Left and Right keys, as a presentation clicker sends) and an exit."""
    back, where, forward, leave = st.columns([1, 4, 1, 1], vertical_alignment="center")
    back.button(
        "Previous",
        icon=":material/arrow_back:",
        disabled=number <= 1,
        on_click=_go_to,
        args=(number - 1,),
        shortcut="Left",
        width="stretch",
    )
    where.markdown(f"**{number} / {count} · {title}**")
    forward.button(
        "Next",
        icon=":material/arrow_forward:",
        disabled=number >= count,
        on_click=_go_to,
        args=(number + 1,),
        shortcut="Right",
        type="primary",
        width="stretch",
    )
    leave.button("Exit", icon=":material/close:", on_click=stop_presenting, shortcut="Esc", width="stretch")
