"""Trend charts mark the days a new criteria version came into force, and only those in view."""

from __future__ import annotations

from datetime import date, datetime

import plotly.graph_objects as go

from core.criteria_marks import activations_between, mark_activations

ACTIVATIONS = [(date(2026, 9, 2), 2), (date(2025, 10, 19), 1), (date(2026, 11, 20), 3)]


def test_only_the_versions_in_view_are_marked_oldest_first() -> None:
    assert activations_between(ACTIVATIONS, date(2026, 8, 24), date(2026, 11, 23)) == [
        (date(2026, 9, 2), 2),
        (date(2026, 11, 20), 3),
    ]
    assert activations_between(ACTIVATIONS, date(2026, 11, 21), date(2026, 11, 23)) == []


def test_each_mark_is_a_dotted_line_with_the_version_number() -> None:
    figure = go.Figure(go.Scatter(x=[datetime(2026, 8, 24), datetime(2026, 11, 23)], y=[10, 12]))
    marked = mark_activations(figure, ACTIVATIONS, date(2026, 8, 24), date(2026, 11, 23))
    assert [(s.x0, s.line.dash) for s in marked.layout.shapes] == [
        (datetime(2026, 9, 2), "dot"),
        (datetime(2026, 11, 20), "dot"),
    ]
    assert [a.text for a in marked.layout.annotations] == ["Criteria v2", "Criteria v3"]
