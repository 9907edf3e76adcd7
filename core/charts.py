"""Plotly figures that read well on a projector: one colour per stage everywhere, titled, labelled."""

from __future__ import annotations

from datetime import date

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


REVENUE_COLOUR = STAGE_COLOURS[STAGE_LABEL["won"]]
QUOTA_COLOUR = "#333333"
PREVIOUS_COLOUR = "#bab0ac"
LAST_YEAR_COLOUR = "#d4a6c8"
# Teams keep one colour wherever they appear: picked by the team's place in the sorted list of all teams.
TEAM_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#eeca3b", "#9d755d", "#ff9da6", "#72b7b2")


def team_colours(teams: list[str]) -> dict[str, str]:
    return {team: TEAM_PALETTE[i % len(TEAM_PALETTE)] for i, team in enumerate(sorted(teams))}


def _bucket_tick(grain: str) -> str:
    return "%b %d" if grain == "week" else "%b %Y"


def attainment_chart(buckets: pl.DataFrame, title: str, grain: str) -> go.Figure:
    """Revenue bars per month or quarter against the quota as a line (frame from
    core.quota.attainment_by_bucket). Clicking a bar selects its bucket."""
    labels = [_quarter_label(b) if grain == "quarter" else f"{b:%b %Y}" for b in buckets["bucket"].to_list()]
    attainment = [("" if a is None else f"{a:.0%}") for a in buckets["attainment"].to_list()]
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=buckets["revenue"].to_list(),
            name="Revenue won",
            marker={"color": REVENUE_COLOUR},
            text=attainment,
            textposition="outside",
            customdata=[b.isoformat() for b in buckets["bucket"].to_list()],
            hovertemplate="%{x}: $%{y:,.0f} won<extra></extra>",
        )
    )
    if buckets["quota"].is_not_null().any():
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=buckets["quota"].to_list(),
                name="Quota",
                mode="lines+markers",
                line={"color": QUOTA_COLOUR, "width": 3, "dash": "dash", "shape": "hvh"},
                hovertemplate="%{x}: quota $%{y:,.0f}<extra></extra>",
            )
        )
    figure.update_layout(
        xaxis={"title": {"text": "Quarter" if grain == "quarter" else "Month"}, "type": "category"},
        yaxis={"title": {"text": "Revenue ($)"}, "rangemode": "tozero", "tickformat": "$,.0f"},
        legend={"orientation": "h", "y": -0.25},
    )
    return _layout(figure, title)


def _quarter_label(start: date) -> str:
    return f"Q{(start.month - 1) // 3 + 1} {start.year}"


def win_rate_chart(trend: pl.DataFrame, title: str, grain: str) -> go.Figure:
    """Win rate per bucket as a line inside its 95% interval band (frame from core.quota.win_rate_trend);
    buckets where nothing closed are gaps, not zeros."""
    tick = _bucket_tick(grain)
    x = trend["bucket"].to_list()
    low = [None if v is None else v * 100 for v in trend["ci_low"].to_list()]
    high = [None if v is None else v * 100 for v in trend["ci_high"].to_list()]
    value = [None if v is None else v * 100 for v in trend["win_rate"].to_list()]
    colour = STAGE_COLOURS[STAGE_LABEL["won"]]
    figure = go.Figure(
        [
            go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"),
            go.Scatter(
                x=x,
                y=low,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(84, 162, 75, 0.2)",
                name="95% interval",
                hoverinfo="skip",
            ),
            go.Scatter(
                x=x,
                y=value,
                mode="lines+markers",
                name="Win rate",
                line={"color": colour, "width": 3},
                customdata=list(zip(trend["won"].to_list(), trend["closed"].to_list(), strict=True)),
                hovertemplate=f"%{{x|{tick}}}: %{{y:.1f}}% (%{{customdata[0]:,}} of %{{customdata[1]:,}})"
                "<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        xaxis={
            "title": {"text": "Week starting" if grain == "week" else "Month of close"},
            "tickformat": tick,
        },
        yaxis={"title": {"text": "Won ÷ closed (%)"}, "range": [0, 100], "ticksuffix": "%"},
        legend={"orientation": "h", "y": -0.25},
    )
    return _layout(figure, title)


def revenue_by_chart(table: pl.DataFrame, title: str, top: int = 10) -> go.Figure:
    """Horizontal bars of revenue per source or campaign (frame from core.revenue.revenue_by), this period
    against the previous one and the same period last year; the `top` largest, largest on top."""
    shown = table.head(top).reverse()
    keys = shown["key"].to_list()
    figure = go.Figure()
    for column, name, colour in (
        ("last_year", "Same period last year", LAST_YEAR_COLOUR),
        ("previous", "Previous period", PREVIOUS_COLOUR),
        ("revenue", "This period", REVENUE_COLOUR),
    ):
        figure.add_trace(
            go.Bar(
                y=keys,
                x=shown[column].to_list(),
                name=name,
                orientation="h",
                marker={"color": colour},
                customdata=keys,
                hovertemplate=f"%{{y}}: $%{{x:,.0f}} ({name.lower()})<extra></extra>",
            )
        )
    figure.update_layout(
        barmode="group",
        xaxis={"title": {"text": "Revenue won ($)"}, "tickformat": "$,.0f", "rangemode": "tozero"},
        yaxis={"automargin": True},
        legend={"orientation": "h", "y": -0.2, "traceorder": "reversed"},
    )
    return _layout(figure, title, height=160 + 70 * max(len(keys), 1))


def team_attainment_chart(teams: pl.DataFrame, colours: dict[str, str], title: str) -> go.Figure:
    """Attainment per team as bars in each team's own colour, with the 100% mark (frame from
    core.quota.team_attainment). Clicking a bar selects its team."""
    shown = teams.filter(pl.col("attainment").is_not_null()).sort("team")
    names = shown["team"].to_list()
    figure = go.Figure(
        go.Bar(
            x=names,
            y=[a * 100 for a in shown["attainment"].to_list()],
            marker={"color": [colours.get(n, "#888888") for n in names]},
            text=[f"{a:.0%}" for a in shown["attainment"].to_list()],
            textposition="outside",
            customdata=list(zip(shown["revenue"].to_list(), shown["quota"].to_list(), strict=True)),
            hovertemplate="%{x}: %{y:.0f}% ($%{customdata[0]:,.0f} of $%{customdata[1]:,.0f})<extra></extra>",
            showlegend=False,
        )
    )
    figure.add_hline(y=100, line={"color": QUOTA_COLOUR, "dash": "dash"}, annotation_text="quota")
    figure.update_layout(
        xaxis={"title": {"text": "Team"}, "type": "category"},
        yaxis={"title": {"text": "Revenue ÷ quota (%)"}, "rangemode": "tozero", "ticksuffix": "%"},
    )
    return _layout(figure, title, height=380)


STAR_COLOURS = {1: "#d62728", 2: "#ff9896", 3: "#c7c7c7", 4: "#98df8a", 5: "#2ca02c"}


def rating_distribution_chart(raters: pl.DataFrame, title: str) -> go.Figure:
    """Per rater (frame from core.feedback.rater_calibration with a `name`), the share of each star count
    as one stacked bar: a harsh or kind rater stands out at a glance."""
    shown = raters.sort("name", descending=True)
    names = shown["name"].to_list()
    totals = [max(t, 1) for t in shown["ratings"].to_list()]
    figure = go.Figure()
    for stars in (1, 2, 3, 4, 5):
        counts = shown[f"stars_{stars}"].to_list()
        figure.add_trace(
            go.Bar(
                y=names,
                x=[c / t * 100 for c, t in zip(counts, totals, strict=True)],
                name="★" * stars,
                orientation="h",
                marker={"color": STAR_COLOURS[stars]},
                customdata=counts,
                hovertemplate="%{y}: %{x:.0f}% gave " + "★" * stars + " (%{customdata:,})<extra></extra>",
            )
        )
    figure.update_layout(
        barmode="stack",
        xaxis={"title": {"text": "Share of the rater's ratings (%)"}, "range": [0, 100], "ticksuffix": "%"},
        yaxis={"automargin": True},
        legend={"orientation": "h", "y": -0.2},
    )
    return _layout(figure, title, height=160 + 32 * max(len(names), 1))


def reasons_chart(reasons: pl.DataFrame, title: str) -> go.Figure:
    """How often each reason was given (frame from core.feedback.top_reasons), most given on top."""
    shown = reasons.reverse()
    figure = go.Figure(
        go.Bar(
            y=shown["label"].to_list(),
            x=[s * 100 for s in shown["share"].to_list()],
            orientation="h",
            marker={"color": "#4c78a8"},
            customdata=shown["count"].to_list(),
            hovertemplate="%{y}: %{x:.0f}% of ratings (%{customdata:,})<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={"title": {"text": "Share of the period's ratings that gave it (%)"}, "ticksuffix": "%"},
        yaxis={"automargin": True},
    )
    return _layout(figure, title, height=140 + 40 * max(shown.height, 1))
