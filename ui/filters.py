"""The sidebar filters: period, team, source and segment, kept in the URL so a link reproduces the view."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import streamlit as st

from core.filters import ALL, KEYS, Filters, filters_to_params, known_values, parse_filters
from core.periods import PRESETS

NONE_LABEL = "(none)"
REMEMBERED_KEY = "huddle_filters"


def _choices(values: pl.Series) -> list[str]:
    return sorted(values.cast(pl.String).fill_null(NONE_LABEL).unique().to_list())


def _pick(label: str, options: list[str], current: str | None, key: str) -> str | None:
    everything = [ALL, *options]
    picked = st.selectbox(
        label, everything, index=everything.index(current) if current in options else 0, key=key
    )
    return None if picked == ALL else picked


def _locked(label: str, value: str) -> str:
    st.selectbox(
        label, [value], disabled=True, key="filter_team_locked", help="Your role sees your own team."
    )
    return value


def _custom_days(filters: Filters, today: date) -> tuple[date, date]:
    default = (filters.first or today - timedelta(days=29), filters.last or today)
    chosen = st.date_input(
        "From – to", value=default, max_value=today, key="filter_days", format="YYYY-MM-DD"
    )
    if isinstance(chosen, tuple) and len(chosen) == 2:
        return chosen[0], chosen[1]
    return default  # while the second day is still being picked


def sidebar_filters(
    leads: pl.DataFrame, people: pl.DataFrame, today: date, *, team_locked: str | None = None
) -> Filters:
    """Read the filters from the URL, show them in the sidebar, and write what the user picks back.
    `team_locked`: the only team this viewer may see (a rep's or manager's own), shown but not changeable."""
    in_link = {k: st.query_params.get_all(k) for k in KEYS if k in st.query_params}
    # Moving to another screen drops the query string; the filters follow the viewer from screen to screen.
    remembered = st.session_state.get(REMEMBERED_KEY, {})
    asked, notes = parse_filters(in_link or {k: [v] for k, v in remembered.items()}, today)
    teams = sorted(people.get_column("team").drop_nulls().unique().to_list())
    sources, segments = _choices(leads.get_column("source")), _choices(leads.get_column("company_size"))
    asked = known_values(asked, teams, sources, segments)
    with st.sidebar:
        st.subheader("Filters")
        presets = list(PRESETS)
        preset = st.selectbox(
            "Period",
            presets,
            index=presets.index(asked.preset),
            format_func=PRESETS.__getitem__,
            key="filter_period",
        )
        first = last = None
        if preset == "custom":
            first, last = _custom_days(asked, today)
        chosen = Filters(
            preset=preset,
            first=first,
            last=last,
            team=_locked("Team", team_locked)
            if team_locked
            else _pick("Team", teams, asked.team, "filter_team"),
            source=_pick("Source", sources, asked.source, "filter_source"),
            segment=_pick("Segment (company size)", segments, asked.segment, "filter_segment"),
        )
    for note in notes:
        st.warning(f"This link asked for something Huddle cannot show. {note}", icon=":material/link_off:")
    wanted = filters_to_params(chosen, today)
    st.session_state[REMEMBERED_KEY] = wanted
    if wanted != {k: st.query_params.get(k) for k in KEYS if k in st.query_params}:
        st.query_params.from_dict(wanted)
    return chosen
