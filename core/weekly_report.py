"""The weekly sync as a report: the same WeeklySync the page shows, as sections for core.report (one
self-contained HTML file and a CSV per table), so the mailed report and the room see the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from core.charts import reasons_chart, weekly_flow_chart
from core.criteria_marks import mark_activations
from core.report import ReportSection
from core.stats import Rate
from core.weekly import WeeklySync

ACTIONS_SCHEMA: dict[str, pl.DataType] = {
    "title": pl.String(),
    "owner": pl.String(),
    "due_date": pl.Date(),
    "raised_in": pl.String(),
    "status": pl.String(),
}


def _rate(value: Rate, what: str) -> str:
    if value.value is None:
        return f"no {what} to judge yet"
    interval = f"95% interval {value.ci_low:.0%}–{value.ci_high:.0%}"
    return f"{value.value:.0%} ({value.num:,} of {value.den:,}, {interval})"


def funnel_report(sync: WeeklySync, activations: Sequence[tuple[date, int]]) -> ReportSection:
    figure = weekly_flow_chart(sync.funnel.trend, "Leads, MQLs and won deals per week, last 8 weeks")
    first = sync.funnel.trend["week"].min()
    if isinstance(first, date) and sync.period.last_day is not None:
        mark_activations(figure, activations, first, sync.period.last_day)
    revenue, before = sync.funnel.this.revenue, sync.funnel.last.revenue
    return ReportSection(
        "The funnel",
        lines=(sync.funnel.moved_most, f"Revenue won: ${revenue:,.0f} (last week ${before:,.0f})."),
        tables=(("This week against last week", sync.funnel.movers),),
        figures=(figure,),
    )


def sla_report(sync: WeeklySync) -> ReportSection:
    card = sync.sla
    marketing, speed, terms = card.marketing, card.speed, card.terms
    committed = (
        "no commitment set" if marketing.committed is None else f"{marketing.committed:,.0f} committed"
    )
    target = "" if marketing.acceptance_target is None else f" (target {marketing.acceptance_target:.0%})"
    median = (
        "no MQL touched yet"
        if speed.median_hours is None
        else f"median {speed.median_hours:,.1f} working hours"
    )
    lines = (
        f"Marketing: {marketing.mqls:,} MQLs delivered, {committed}; accepted (rated 4-5): "
        f"{_rate(marketing.acceptance, 'rated MQLs')}{target}.",
        f"Sales: speed to lead {median}; within {terms.follow_up_hours} working hours: "
        f"{_rate(speed.within, 'MQLs')}; rated within {terms.rating_days} days: "
        f"{_rate(card.coverage, 'MQLs')}.",
        f"{speed.breaches:,} breaches; {speed.waiting:,} MQLs untouched but still inside their agreed hours. "
        f"Judged as of {card.as_of:%Y-%m-%d %H:%M} UTC.",
    )
    return ReportSection(
        "The SLA, both sides",
        lines=lines,
        tables=(("Breaches by owner", sync.breaches_by_owner), ("Every breached MQL", sync.breaches)),
    )


def quality_report(sync: WeeklySync) -> ReportSection:
    quality = sync.quality
    if quality.ratings == 0:
        return ReportSection("Lead quality", lines=("No MQL was rated this week.",))
    figures = () if quality.reasons.is_empty() else (reasons_chart(quality.reasons, "The reasons reps gave"),)
    return ReportSection(
        "Lead quality",
        lines=(
            f"{quality.ratings:,} leads rated this week, {quality.mean_stars or 0:.1f} stars on average.",
        ),
        tables=(
            ("Rated lowest", quality.lowest),
            ("Rated highest", quality.highest),
            ("Reasons given", quality.reasons.select("label", "count", "share")),
        ),
        figures=figures,
    )


def changes_report(sync: WeeklySync) -> ReportSection:
    if not sync.changes:
        return ReportSection("Criteria changes", lines=("The MQL criteria did not change this week.",))
    lines = tuple(
        f"Version {c.number} in force since {c.activated_at:%Y-%m-%d %H:%M} UTC, proposed by "
        f"{c.proposed_by or 'the command line'}, approved by {c.approved_by or '—'}: {c.sentence}."
        + (f" Why: {c.rationale}" if c.rationale else "")
        for c in sync.changes
    )
    return ReportSection("Criteria changes", lines=lines)


def wins_report(sync: WeeklySync) -> ReportSection:
    won = sync.wins
    if won.is_empty():
        return ReportSection("Wins to celebrate", lines=("No deal was won this week.",))
    total = float(won["amount"].fill_null(0).sum())
    return ReportSection(
        "Wins to celebrate",
        lines=(f"{won.height:,} deals won, ${total:,.0f} in all.",),
        tables=(("Deals won", won),),
    )


def actions_report(actions: pl.DataFrame) -> ReportSection:
    if actions.is_empty():
        return ReportSection("Decisions and action items", lines=("No action items this week.",))
    still_open = int((actions["status"] == "open").sum())
    return ReportSection(
        "Decisions and action items",
        lines=(f"{still_open:,} open, {actions.height - still_open:,} done.",),
        tables=(("Action items", actions),),
    )


def report_sections(
    sync: WeeklySync, actions: pl.DataFrame, activations: Sequence[tuple[date, int]]
) -> list[ReportSection]:
    return [
        funnel_report(sync, activations),
        sla_report(sync),
        quality_report(sync),
        changes_report(sync),
        wins_report(sync),
        actions_report(actions),
    ]
