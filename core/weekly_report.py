"""The weekly sync as a report: the same WeeklySync the page shows, as sections for core.report (one
self-contained HTML file and a CSV per table), so the mailed report and the room see the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from core.charts import reasons_chart, weekly_flow_chart
from core.content import KIND_LABEL, WeekContent
from core.criteria_marks import mark_activations
from core.report import ReportSection
from core.stats import Rate
from core.weekly import WeeklySync, no_content_yet

ACTIONS_SCHEMA: dict[str, pl.DataType] = {
    "title": pl.String(),
    "owner": pl.String(),
    "due_date": pl.Date(),
    "raised_in": pl.String(),
    "status": pl.String(),
}


def _percent(column: str) -> pl.Expr:
    return (pl.col(column) * 100).round(1)


def _interval() -> pl.Expr:
    low, high = ((pl.col(c) * 100).round(0).cast(pl.Int64) for c in ("ci_low", "ci_high"))
    return pl.format("{}%–{}%", low, high)


def movers_table(movers: pl.DataFrame) -> pl.DataFrame:
    return movers.select(
        pl.col("stage").alias("Stage"),
        pl.col("this_week").alias("This week"),
        pl.col("last_week").alias("Last week"),
        pl.col("change").alias("Change"),
        _percent("change_pct").alias("Change (%)"),
    )


def breaches_by_owner_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("owner").alias("Owner"),
        pl.col("mqls").alias("MQLs this week"),
        pl.col("breaches").alias("Breaches"),
        pl.col("untouched").alias("Still untouched"),
    )


def breaches_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("owner").alias("Owner"),
        pl.col("lead_id").cast(pl.String).alias("Lead"),  # an id, not a quantity: no thousands separator
        pl.col("mql_at").alias("MQL at (UTC)"),
        pl.col("hours").round(1).alias("Waited (working hours)"),
        pl.col("agreed_hours").alias("Agreed (hours)"),
        pl.col("status").alias("Status"),
    )


def segments_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("segment").alias("Segment"),
        pl.col("ratings").alias("Leads rated"),
        pl.col("mean_stars").round(2).alias("Mean stars"),
        _percent("good_share").alias("Rated 4-5 (%)"),
        _interval().alias("95% interval"),
    )


def reasons_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("label").alias("Reason"),
        pl.col("count").alias("Times given"),
        _percent("share").alias("Share of ratings (%)"),
    )


def wins_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("rep").fill_null("(no owner)").alias("Won by"),
        pl.col("amount").alias("Amount ($)"),
        pl.col("source").alias("Source"),
        pl.col("campaign").alias("Campaign"),
        pl.col("team").alias("Team"),
        pl.col("closed_at").alias("Won at (UTC)"),
        pl.col("days_from_mql").round(0).alias("Days from MQL"),
        pl.col("lead_id").cast(pl.String).alias("Lead"),
    )


STATUS_WORDS = {"waiting": "Recycled, waiting", "due back": "Recycled, due back", "rejected": "Rejected"}


def nurture_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The week's recycled and rejected leads (core.weekly.HandoffWeek.nurture) as the report shows them."""
    return frame.select(
        pl.col("lead_id").cast(pl.String).alias("Lead"),
        pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("Answer"),
        pl.col("reason").alias("Reason"),
        # A day, not a moment: the rep picked a date (some loaders hand it on as a midnight datetime).
        pl.col("come_back_on").cast(pl.Date).alias("Back to sales on"),
        pl.col("owner").alias("Owner"),
        pl.col("answered by").alias("Answered by"),
        pl.col("answered_at").dt.truncate("1m").alias("Answered at (UTC)"),
    )


def came_back_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("lead_id").cast(pl.String).alias("Lead"),
        pl.col("owner").alias("Won by"),
        pl.col("amount").alias("Amount ($)"),
        pl.col("recycled_at").alias("Recycled at (UTC)"),
        pl.col("closed_at").alias("Won at (UTC)"),
    )


def answers_by_team_table(frame: pl.DataFrame) -> pl.DataFrame:
    """How each team answered the week's MQLs: counts, and each answer's share of the answered."""
    return frame.select(
        pl.col("team").alias("Team"),
        pl.col("mqls").alias("MQLs"),
        pl.col("answered").alias("Answered"),
        *(
            _count_and_share(name).alias(title)
            for name, title in (("accepted", "Accepted"), ("recycled", "Recycled"), ("rejected", "Rejected"))
        ),
    )


def _count_and_share(name: str) -> pl.Expr:
    """ "3 (50%)"; the count alone where nothing was answered (no share to give)."""
    share = _percent(f"{name}_share").round(0).cast(pl.Int64)
    return (
        pl.when(pl.col(f"{name}_share").is_null())
        .then(pl.col(name).cast(pl.String))
        .otherwise(pl.format("{} ({}%)", pl.col(name), share))
    )


def handoff_sentences(sync: WeeklySync) -> tuple[str, str]:
    """What sales sent back to marketing this week, and the recycled leads that came back and were won."""
    counts, won = sync.handoffs.counts, sync.handoffs.came_back_won
    leads = "1 lead" if counts.recycled == 1 else f"{counts.recycled:,} leads"
    back = (
        f"Sales recycled {leads} to marketing ({counts.waiting:,} waiting for their date, "
        f"{counts.due_back:,} due back) and rejected {counts.rejected:,}."
    )
    amount = float(won["amount"].fill_null(0).sum()) if won.height else 0.0
    returned = (
        f"Recycled leads that came back as MQLs and were won this week: {won.height:,}, "
        f"${amount:,.0f} in all."
        if won.height
        else "No recycled lead came back and was won this week."
    )
    return back, returned


NO_CONTENT = "No content yet: marketers add it on the Content page."
REQUEST_STATUS = {"open": "Open", "accepted": "Accepted", "in_progress": "In progress"}
REQUEST_STAGE = {"lead": "Lead", "mql": "MQL", "sql": "SQL", "opportunity": "Opportunity"}


def _kind() -> pl.Expr:
    return pl.col("kind").replace_strict(KIND_LABEL, default=pl.col("kind"), return_dtype=pl.String)


def changed_assets_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The week's new or updated assets (core.content.WeekContent.new_assets / updated_assets)."""
    return frame.select(
        pl.col("title").alias("Asset"),
        _kind().alias("Kind"),
        pl.col("at").dt.truncate("1m").alias("At (UTC)"),
    )


def most_used_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("title").alias("Asset"),
        _kind().alias("Kind"),
        pl.col("uses").alias("Uses"),
        pl.col("leads").alias("Leads and deals"),
        pl.col("reps").alias("Reps"),
    )


def lowest_rated_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Helped? per asset, the lowest share first: the share with its count and interval, and whether the
    sample is too small to read much into."""
    interval = pl.format("{}%–{}%", *((pl.col(c) * 100).round(0).cast(pl.Int64) for c in ("low", "high")))
    return frame.select(
        pl.col("title").alias("Asset"),
        _kind().alias("Kind"),
        pl.col("n").alias("Ratings"),
        pl.col("helped").alias("Helped (4-5)"),
        _percent("share").alias("Helped (%)"),
        interval.alias("95% interval"),
        pl.when(pl.col("small_sample")).then(pl.lit("small sample")).otherwise(pl.lit("")).alias("Note"),
    )


def requests_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The open requests by votes (core.content.open_requests): what is asked, for whom, how long it waits."""
    stage = pl.col("stage").replace_strict(REQUEST_STAGE, default=pl.col("stage"), return_dtype=pl.String)
    audience = pl.concat_str(pl.col("persona"), stage, pl.col("industry"), separator=" · ", ignore_nulls=True)
    return frame.select(
        pl.col("what").alias("Request"),
        _kind().fill_null("Any").alias("Kind"),
        pl.when(audience == "").then(pl.lit("Anyone")).otherwise(audience).alias("For"),
        pl.col("votes").alias("Votes"),
        pl.col("status").replace_strict(REQUEST_STATUS, default=pl.col("status")).alias("Status"),
        pl.col("age_days").alias("Waiting (days)"),
    )


def _titles(frame: pl.DataFrame) -> str:
    titles = frame.get_column("title").to_list()
    return "; ".join(str(t) for t in titles)


def content_sentences(content: WeekContent) -> tuple[str, ...]:
    """The Content section in words: what changed in the library this week, how much of it is used (the
    never-used share with its count and interval), and what the reps are asking for."""
    new, updated = content.new_assets, content.updated_assets
    if new.is_empty() and updated.is_empty():
        changed = "No asset was added or updated this week."
    else:
        parts = []
        if new.height:
            parts.append(f"added {new.height:,} ({_titles(new)})")
        if updated.height:
            parts.append(f"updated {updated.height:,} ({_titles(updated)})")
        changed = f"This week marketing {' and '.join(parts)}."
    never = content.never_used
    if never.value is None:
        unused = NO_CONTENT
    else:
        interval = f"95% interval {never.ci_low or 0:.0%}–{never.ci_high or 0:.0%}"
        unused = f"Never used: {never.num:,} of {never.den:,} live assets ({never.value:.0%}, {interval})."
    used = f"Used in the last 90 days: {_rate(content.used, 'live assets')}."
    waiting = content.open_requests
    asks = (
        "No request for content is waiting."
        if waiting.is_empty()
        else f"Most wanted: {waiting.row(0, named=True)['what']} "
        f"({_votes(int(waiting.row(0, named=True)['votes']))})."
    )
    return changed, unused, used, asks


def _votes(count: int) -> str:
    return "1 vote" if count == 1 else f"{count:,} votes"


def actions_table(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("title").alias("Action item"),
        pl.col("owner").alias("Owner"),
        pl.col("due_date").alias("Due"),
        pl.col("raised_in").alias("Raised in"),
        pl.col("status").alias("Status"),
    )


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
        tables=(("This week against last week", movers_table(sync.funnel.movers)),),
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
        tables=(
            ("Breaches by owner", breaches_by_owner_table(sync.breaches_by_owner)),
            ("Every breached MQL", breaches_table(sync.breaches)),
        ),
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
            ("Rated lowest", segments_table(quality.lowest)),
            ("Rated highest", segments_table(quality.highest)),
            ("Reasons given", reasons_table(quality.reasons)),
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
        tables=(("Deals won", wins_table(won)),),
    )


def handoff_report(sync: WeeklySync) -> ReportSection:
    handoffs = sync.handoffs
    tables = []
    if handoffs.nurture.height:
        tables.append(("Recycled and rejected", nurture_table(handoffs.nurture)))
    if handoffs.came_back_won.height:
        tables.append(("Came back and won", came_back_table(handoffs.came_back_won)))
    if handoffs.by_team.height:
        tables.append(("Answers per team", answers_by_team_table(handoffs.by_team)))
    return ReportSection("Handoff answers", lines=handoff_sentences(sync), tables=tuple(tables))


def actions_report(actions: pl.DataFrame) -> ReportSection:
    if actions.is_empty():
        return ReportSection("Decisions and action items", lines=("No action items this week.",))
    still_open = int((actions["status"] == "open").sum())
    return ReportSection(
        "Decisions and action items",
        lines=(f"{still_open:,} open, {actions.height - still_open:,} done.",),
        tables=(("Action items", actions_table(actions)),),
    )


def content_report(content: WeekContent) -> ReportSection:
    if no_content_yet(content):
        return ReportSection("Content", lines=(NO_CONTENT,))
    tables = []
    changed = pl.concat(
        [
            changed_assets_table(content.new_assets).with_columns(pl.lit("New").alias("Change")),
            changed_assets_table(content.updated_assets).with_columns(pl.lit("Updated").alias("Change")),
        ]
    )
    if changed.height:
        tables.append(("New and updated", changed.select("Change", "Asset", "Kind", "At (UTC)")))
    if content.most_used.height:
        tables.append(("Most used this week", most_used_table(content.most_used)))
    if content.lowest_rated.height:
        tables.append(("Lowest rated (helped?)", lowest_rated_table(content.lowest_rated)))
    if content.open_requests.height:
        tables.append(("Open requests by votes", requests_table(content.open_requests)))
    return ReportSection("Content", lines=content_sentences(content), tables=tuple(tables))


def report_sections(
    sync: WeeklySync, actions: pl.DataFrame, activations: Sequence[tuple[date, int]]
) -> list[ReportSection]:
    return [
        funnel_report(sync, activations),
        sla_report(sync),
        quality_report(sync),
        handoff_report(sync),
        changes_report(sync),
        wins_report(sync),
        *(() if sync.content is None else (content_report(sync.content),)),
        actions_report(actions),
    ]
