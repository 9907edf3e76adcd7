"""Trend charts mark the days a new targeting criteria version came into force: a change in MQL counts
that starts on such a day is the definition moving, not the market."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

import plotly.graph_objects as go

MARK_COLOUR = "#6c6c6c"


def activations_between(
    activations: Sequence[tuple[date, int]], first: date, last: date
) -> list[tuple[date, int]]:
    """The (day, version number) pairs inside [first, last], oldest first."""
    return sorted((day, number) for day, number in activations if first <= day <= last)


def mark_activations(
    figure: go.Figure, activations: Sequence[tuple[date, int]], first: date, last: date
) -> go.Figure:
    """A dotted vertical line, labelled "Criteria v2", on each day a version came into force."""
    for day, number in activations_between(activations, first, last):
        moment = datetime.combine(day, time.min)
        figure.add_shape(
            type="line",
            x0=moment,
            x1=moment,
            xref="x",
            y0=0,
            y1=1,
            yref="paper",
            line={"color": MARK_COLOUR, "width": 1.5, "dash": "dot"},
        )
        figure.add_annotation(
            x=moment,
            xref="x",
            y=1,
            yref="paper",
            text=f"Criteria v{number}",
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font={"color": MARK_COLOUR},
        )
    return figure
