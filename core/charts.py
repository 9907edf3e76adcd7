"""Plotly figures that read well on a projector: one colour per stage everywhere, titled, labelled."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from core.schema import STAGE_LABEL

STAGE_COLOURS: dict[str, str] = {
    STAGE_LABEL["traffic"]: "#9aa5b1",
    STAGE_LABEL["created"]: "#4c78a8",
    STAGE_LABEL["mql"]: "#f58518",
    STAGE_LABEL["sql"]: "#e45756",
    STAGE_LABEL["opportunity"]: "#72b7b2",
    STAGE_LABEL["won"]: "#54a24b",
}
FONT_SIZE = 16


def weekly_flow_chart(weekly: pl.DataFrame, title: str) -> go.Figure:
    """One line per stage of weekly flow counts (frame from core.trends.weekly_flow)."""
    return trend_chart(weekly.rename({"week": "bucket"}), title, "week")


def _layout(figure: go.Figure, title: str, height: int = 420) -> go.Figure:
    figure.update_layout(
        title={"text": title},
        font={"size": FONT_SIZE},
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        height=height,
    )
    return figure


def funnel_chart(steps: pl.DataFrame, title: str) -> go.Figure:
    """The funnel's bars (frame from core.funnel.funnel_steps: stage, count), one colour per stage."""
    stages = steps["stage"].to_list()
    figure = go.Figure(
        go.Funnel(
            y=stages,
            x=steps["count"].to_list(),
            marker={"color": [STAGE_COLOURS.get(s, "#888888") for s in stages]},
            textinfo="value",
            texttemplate="%{value:,}",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    return _layout(figure, title, height=80 + 60 * max(len(stages), 1))


def trend_chart(trend: pl.DataFrame, title: str, grain: str) -> go.Figure:
    """One line per stage of flow counts per bucket (frame from core.funnel.trend)."""
    figure = go.Figure()
    tick = "%b %d" if grain == "week" else "%b %Y"
    for stage in trend["stage"].unique(maintain_order=True).to_list():
        rows = trend.filter(pl.col("stage") == stage)
        figure.add_trace(
            go.Scatter(
                x=rows["bucket"].to_list(),
                y=rows["count"].to_list(),
                name=stage,
                mode="lines+markers",
                line={"color": STAGE_COLOURS.get(stage), "width": 3},
                hovertemplate=f"%{{x|{tick}}}: %{{y:,}} {stage.lower()}<extra></extra>",
            )
        )
    figure.update_layout(
        xaxis={"title": {"text": "Week starting" if grain == "week" else "Month"}, "tickformat": tick},
        yaxis={"title": {"text": "Count"}, "rangemode": "tozero", "tickformat": ","},
        legend={"orientation": "h", "y": -0.25},
    )
    return _layout(figure, title)
