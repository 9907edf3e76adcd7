"""The weekly sync's reads (one WeeklySync per week, cached for everyone) and its sections, each drawn so
it also fits one projector screen in presenter mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from core.charts import reasons_chart, weekly_flow_chart
from core.criteria_marks import mark_activations
from core.definitions import help_text
from core.sla import Agreements
from core.stats import Rate
from core.weekly import (
    MIN_SEGMENT_RATINGS,
    ContentTables,
    CriteriaChange,
    VersionInForce,
    WeeklySync,
    criteria_changes,
    in_week,
    last_complete_week,
    no_content_yet,
    ratings_needed_from,
    shift_week,
    week_period,
    weekly_sync,
)
from core.weekly_report import (
    NO_CONTENT,
    answers_by_team_table,
    came_back_table,
    changed_assets_table,
    content_sentences,
    handoff_sentences,
    lowest_rated_table,
    most_used_table,
    nurture_table,
    requests_table,
    segments_table,
)
from db import clock
from db.content_frames import content_stamp
from db.engine import read_session
from db.feedback import load_rating_rows, rating_stamp
from db.models import Role
from db.report import agreements as stored_agreements
from db.report import versions_in_force as stored_versions
from db.report import week_content_tables
from ui.auth import CurrentUser
from ui.cached import DataVersion
from ui.criteria import active_version, criteria_activations, criteria_versions, targeting_data, tuning_key
from ui.data import CACHE_SECONDS, leads, people
from ui.db import engine
from ui.handoff import answers
from ui.widgets import money, plain

WEEKS_OFFERED = 26
ROWS_ON_SCREEN = 8  # a table on a projector screen: more rows would need scrolling


# ---------------------------------------------------------------- reads


def agreements() -> Agreements:
    with read_session(engine()) as session:
        return stored_agreements(session)


TUNING_WAIT = 300.0


def versions_in_force() -> list[VersionInForce]:
    with read_session(engine()) as session:
        return stored_versions(session)


def _changes(week: str) -> list[CriteriaChange]:
    period = week_period(week)
    versions = versions_in_force()
    if not any(in_week(v.activated_at, period) for v in versions):
        return []  # the backtest needs the whole evidence: only learnt when there is a change to explain
    # The week's sync is cached as a whole, so it waits for the shared tuning rather than show it half.
    data = targeting_data(tuning_key(active_version(criteria_versions())), wait_seconds=TUNING_WAIT).data
    if data is None:
        return []
    return criteria_changes(versions, data.evidence, period)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=32, show_spinner="Preparing the week…")
def _sync(
    version: DataVersion,
    week: str,
    rating_stamp: tuple[int, str],
    terms: Agreements,
    now: datetime,
    answers_stamp: tuple[int, datetime | None],
    content_stamp: tuple[object, ...],
) -> WeeklySync:
    since = ratings_needed_from(week_period(week))
    return weekly_sync(
        week,
        leads=leads(),
        ratings=load_rating_rows(engine(), since=since),
        people=people(),
        agreements=terms,
        changes=_changes(week),
        now=now,
        answers=answers(),
        content=content_tables(),
    )


def content_tables() -> ContentTables:
    """The content frames the week's Content section reads (not the opportunities nor the people)."""
    return week_content_tables(engine())


def _answers_stamp() -> tuple[int, datetime | None]:
    """Moves with every handoff answer given (the shared answers frame's size and newest answer)."""
    given = answers()
    newest = given.get_column("answered_at").max()
    return given.height, newest if isinstance(newest, datetime) else None


def week_sync(version: DataVersion, week: str) -> WeeklySync:
    """The week's numbers, judged now (to the hour, so viewers within the hour share one computation),
    computed again when a rating or a handoff answer is given or changed, or the content changes (an
    asset, a use, a helped? rating, a request or a vote: db.content_frames.content_stamp)."""
    now = clock.now().replace(tzinfo=None, minute=0, second=0, microsecond=0)
    return _sync(
        version, week, rating_stamp(engine()), agreements(), now, _answers_stamp(), content_stamp(engine())
    )


def as_seen_by(sync: WeeklySync, user: CurrentUser) -> WeeklySync:
    """A rep sees their own breaches by name and everyone else's as "Another rep", as on the quota
    leaderboard: the meeting holds the team to the agreement; a rep's own screen names no colleague."""
    if user.role != Role.rep:
        return sync
    hidden = (
        pl.when(pl.col("owner") == user.name)
        .then(pl.col("owner"))
        .otherwise(pl.lit("Another rep"))
        .alias("owner")
    )
    others = {
        name: pl.when(pl.col(name) == user.name)
        .then(pl.col(name))
        .otherwise(pl.lit("Another rep"))
        .alias(name)
        for name in ("owner", "answered by")
    }
    handoffs = replace(
        sync.handoffs,
        nurture=sync.handoffs.nurture.with_columns(others["owner"], others["answered by"]),
        came_back_won=sync.handoffs.came_back_won.with_columns(others["owner"]),
    )
    return replace(
        sync,
        breaches=sync.breaches.with_columns(hidden),
        breaches_by_owner=sync.breaches_by_owner.with_columns(hidden),
        handoffs=handoffs,
    )


def weeks_offered(last_event: date, today: date) -> list[str]:
    """The last complete week of the data first, then the weeks before it."""
    newest = last_complete_week(min(today, last_event + timedelta(days=1)))
    return [shift_week(newest, -back) for back in range(WEEKS_OFFERED)]


# ---------------------------------------------------------------- sections


def _delta(now: int | float | None, before: int | float | None) -> str | None:
    if now is None or before is None:
        return None
    return f"{now - before:+,.0f} vs last week"


def _rate_text(value: Rate) -> str:
    if value.value is None:
        return "—"
    return f"{value.value:.0%}"


def _rate_help(value: Rate, what: str) -> str:
    if value.value is None:
        return f"No {what} to judge yet."
    low, high = value.ci_low or 0.0, value.ci_high or 0.0
    sample = " Small sample." if value.small_sample else ""
    return f"{value.num:,} of {value.den:,} {what}; 95% interval {low:.0%}–{high:.0%}.{sample}"


BIG_FONT = 20  # chart text read from the back of a room


def _chart(figure: go.Figure, *, big: bool, height: int, key: str) -> None:
    figure.update_layout(height=height)
    if not big:
        st.plotly_chart(figure, width="stretch", config={"displayModeBar": False}, key=key)
        return
    # On the projector: plotly's own theme with black text at BIG_FONT (Streamlit's theme greys and
    # shrinks the axis labels).
    figure.update_layout(
        font={"size": BIG_FONT, "color": "#000000"},
        title={"font": {"size": BIG_FONT + 4}},
        template="plotly_white",
    )
    st.plotly_chart(figure, width="stretch", config={"displayModeBar": False}, key=key, theme=None)


def funnel_section(sync: WeeklySync, big: bool = False) -> None:
    this, last = sync.funnel.this.stages, sync.funnel.last.stages
    shown = [
        (k, label)
        for k, label in (("leads", "Leads"), ("mql", "MQLs"), ("sql", "SQLs"), ("won", "Won deals"))
    ]
    columns = st.columns(len(shown) + 1)
    for column, (key, label) in zip(columns, shown, strict=False):
        value = this.get(key)
        column.metric(label, "not recorded" if value is None else f"{value:,}", _delta(value, last.get(key)),
                      help=help_text(key if key != "leads" else "leads"))  # fmt: skip
    revenue, before = sync.funnel.this.revenue, sync.funnel.last.revenue
    change = revenue - before
    # An ASCII minus before the $: Streamlit reads the sign off the text to colour the arrow.
    columns[-1].metric(
        "Revenue",
        money(revenue),
        f"{'+' if change >= 0 else '-'}${abs(change):,.0f} vs last week",
        help=help_text("revenue"),
    )
    st.markdown(f"**What moved most:** {plain(sync.funnel.moved_most)}")
    figure = weekly_flow_chart(sync.funnel.trend, "Leads, MQLs and won deals per week, last 8 weeks")
    first = sync.funnel.trend["week"].min()
    if isinstance(first, date) and sync.period.last_day is not None:
        mark_activations(figure, criteria_activations(), first, sync.period.last_day)
    _chart(figure, big=big, height=560 if big else 380, key="weekly_trend")


def _mqls(count: int) -> str:
    return "1 MQL is" if count == 1 else f"{count:,} MQLs are"


def _target_delta(value: float | None, target: float | None) -> str | None:
    if value is None or target is None:
        return None
    return f"{(value - target) * 100:+.0f} points vs target {target:.0%}"


def sla_section(sync: WeeklySync, big: bool = False) -> None:
    card = sync.sla
    terms, marketing, speed = card.terms, card.marketing, card.speed
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("#### Marketing's side")
        a, b = st.columns(2)
        committed = marketing.committed
        a.metric(
            "MQLs delivered",
            f"{marketing.mqls:,}",
            None
            if committed is None
            else f"{marketing.mqls - committed:+,.0f} vs {committed:,.0f} committed",
            help=help_text("mqls_delivered"),
        )
        b.metric(
            "Accepted (rated 4-5)",
            _rate_text(marketing.acceptance),
            _target_delta(marketing.acceptance.value, marketing.acceptance_target),
            help=_rate_help(marketing.acceptance, "rated MQLs rated 4-5"),
        )
    with right:
        st.markdown("#### Sales' side")
        a, b, c = st.columns(3)
        median = "—" if speed.median_hours is None else f"{speed.median_hours:,.1f} h"
        a.metric("Speed to lead (median)", median, help=help_text("speed_to_lead"))
        b.metric(
            f"Within {terms.follow_up_hours} h",
            _rate_text(speed.within),
            help=_rate_help(speed.within, "MQLs that can be judged followed up in time"),
        )
        c.metric(
            f"Rated within {terms.rating_days} days",
            _rate_text(card.coverage),
            help=_rate_help(card.coverage, "MQLs rated in time"),
        )
    st.caption(
        f"Judged as of {card.as_of:%a %b %d, %H:%M} UTC. Hours are working hours (Monday to Friday). "
        f"{_mqls(speed.waiting)} untouched but still inside the agreed hours."
    )
    if sync.breaches.is_empty():
        st.success(
            "No breaches: every MQL was followed up within the agreed hours.", icon=":material/verified:"
        )
        return
    st.markdown(f"#### {speed.breaches:,} breaches, by owner")
    st.dataframe(
        sync.breaches_by_owner.head(ROWS_ON_SCREEN),
        hide_index=True,
        width="stretch",
        column_config={
            "owner": "Owner",
            "mqls": "MQLs this week",
            "breaches": "Breaches",
            "untouched": "Still untouched",
        },
    )
    with st.expander(f"Every breached MQL ({sync.breaches.height:,})"):
        st.dataframe(
            sync.breaches,
            hide_index=True,
            width="stretch",
            column_config={
                "owner": "Owner",
                "lead_id": st.column_config.NumberColumn("Lead", format="%d"),
                "mql_at": st.column_config.DatetimeColumn("MQL at", format="ddd MMM D, HH:mm"),
                "hours": st.column_config.NumberColumn("Waited (h)", format="%.1f"),
                "agreed_hours": "Agreed (h)",
                "status": "Status",
            },
        )


def _segments_table(frame: pl.DataFrame, empty: str) -> None:
    if frame.is_empty():
        st.caption(empty)
        return
    st.dataframe(
        segments_table(frame),  # the report's table: same columns, same words
        hide_index=True,
        width="stretch",
        column_config={
            "Mean stars": st.column_config.NumberColumn(format="%.1f ★"),
            "Rated 4-5 (%)": st.column_config.NumberColumn(format="%.0f%%"),
        },
    )


def quality_section(sync: WeeklySync, big: bool = False) -> None:
    quality = sync.quality
    if quality.ratings == 0:
        st.info(
            "No MQL was rated this week, so there is nothing to say about lead quality yet.",
            icon=":material/star_half:",
        )
        return
    st.markdown(f"{quality.ratings:,} leads rated this week, {quality.mean_stars or 0:.1f} stars on average.")
    if quality.compared == 0:
        st.caption(
            f"Too few ratings to compare segments: a segment needs {MIN_SEGMENT_RATINGS} rated leads in the "
            "week before its average means anything."
        )
    else:
        left, right = st.columns(2, gap="large")
        with left:
            st.markdown("#### Rated lowest")
            _segments_table(quality.lowest, "No segment was rated below the week's average.")
        with right:
            st.markdown("#### Rated highest")
            _segments_table(quality.highest, "No segment was rated above the week's average.")
    if not quality.reasons.is_empty():
        reasons = quality.reasons.head(6)
        _chart(
            reasons_chart(reasons, "The reasons reps gave this week"),
            big=big,
            height=(180 if big else 140) + 44 * reasons.height,
            key="weekly_reasons",
        )


def handoff_section(sync: WeeklySync, big: bool = False) -> None:
    """What sales sent back to marketing this week, with the reasons, and the recycled leads that came
    back and were won."""
    handoffs, counts = sync.handoffs, sync.handoffs.counts
    back, returned = handoff_sentences(sync)
    cells = st.columns(3)
    cells[0].metric("Recycled to marketing", f"{counts.recycled:,}", help="Not now: back to marketing's "
                    "nurture list until the date the rep gave.")  # fmt: skip
    cells[1].metric("Rejected", f"{counts.rejected:,}", help="Never, for the reason the rep gave.")
    came_back = "Recycled leads that became MQLs again after their date and were won this week."
    cells[2].metric("Came back and won", f"{handoffs.came_back_won.height:,}", help=came_back)
    if handoffs.nurture.is_empty():
        st.info("Sales recycled and rejected no lead this week.", icon=":material/assignment_return:")
    else:
        st.markdown(plain(back))
        st.dataframe(
            nurture_table(handoffs.nurture.head(ROWS_ON_SCREEN)),
            hide_index=True,
            width="stretch",
            column_config={
                "Back to sales on": st.column_config.DateColumn(format="YYYY-MM-DD"),
                "Answered at (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            },
        )
        if handoffs.nurture.height > ROWS_ON_SCREEN:
            st.caption(f"…and {handoffs.nurture.height - ROWS_ON_SCREEN:,} more in the report.")
    st.markdown(plain(returned))
    if not handoffs.came_back_won.is_empty():
        st.dataframe(
            came_back_table(handoffs.came_back_won.head(ROWS_ON_SCREEN)),
            hide_index=True,
            width="stretch",
            column_config={"Amount ($)": st.column_config.NumberColumn(format="dollar")},
        )
    if not big and not handoffs.by_team.is_empty():  # the room's screen keeps to the week's leads
        st.markdown("#### How each team answered the week's MQLs")
        st.dataframe(answers_by_team_table(handoffs.by_team), hide_index=True, width="stretch")
        st.caption(
            "Each answer's share is of the MQLs answered; an MQL not answered yet counts in MQLs only."
        )


def changes_section(sync: WeeklySync, big: bool = False) -> None:
    if not sync.changes:
        st.info("The MQL criteria did not change this week.", icon=":material/rule:")
        return
    for change in sync.changes:
        st.markdown(f"#### Version {change.number} in force since {change.activated_at:%a %b %d, %H:%M} UTC")
        st.markdown(f"**Backtest against the version it replaced:** {plain(change.sentence)}")
        st.caption(
            f"Proposed by {plain(change.proposed_by or 'the command line')}, approved by "
            f"{plain(change.approved_by or '—')}."
        )
        if change.rationale:
            st.markdown(f"**Why:** {plain(change.rationale)}")


def wins_section(sync: WeeklySync, big: bool = False) -> None:
    won = sync.wins
    if won.is_empty():
        st.info("No deal was won this week.", icon=":material/emoji_events:")
        return
    total = float(won["amount"].fill_null(0).sum())
    st.markdown(f"### {won.height:,} deals won, {money(total)} 🎉")
    st.dataframe(
        won.head(ROWS_ON_SCREEN).select(
            pl.col("rep").fill_null("(no owner)"),
            "amount",
            pl.col("source").fill_null("—"),
            pl.col("campaign").fill_null("—"),
            "team",
            "days_from_mql",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "rep": "Won by",
            "amount": st.column_config.NumberColumn("Amount", format="dollar"),
            "source": "Brought by (source)",
            "campaign": "Campaign",
            "team": "Team",
            "days_from_mql": st.column_config.NumberColumn("Days from MQL", format="%.0f"),
        },
    )
    if won.height > ROWS_ON_SCREEN:
        st.caption(f"…and {won.height - ROWS_ON_SCREEN:,} more in the report.")


def _content_table(frame: pl.DataFrame, empty: str, config: dict[str, Any] | None = None) -> None:
    if frame.is_empty():
        st.caption(empty)
        return
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


def content_section(sync: WeeklySync, big: bool = False) -> None:
    """The library this week: what marketing added and updated, what the reps used most and rated
    lowest, how much of it nobody has used, and the requests waiting, the most voted first."""
    content = sync.content
    if content is None or no_content_yet(content):
        st.info(NO_CONTENT, icon=":material/library_books:")
        return
    changed, unused, used, asks = content_sentences(content)
    cells = st.columns(4)
    cells[0].metric("New this week", f"{content.new_assets.height:,}", help="Assets added in the week.")
    cells[1].metric(
        "Updated this week",
        f"{content.updated_assets.height:,}",
        help="Assets added before the week whose details or content (a new version) changed in it.",
    )
    cells[2].metric(
        "Used, last 90 days",
        _rate_text(content.used),
        help=_rate_help(content.used, "live assets used at least once in the last 90 days"),
    )
    cells[3].metric(
        "Never used",
        _rate_text(content.never_used),
        help=_rate_help(content.never_used, "live assets nobody has used yet"),
    )
    if big:  # one paragraph: the projector's screen has no line to spare
        st.markdown(f"{plain(changed)} {plain(unused)}")
    else:
        st.markdown(plain(changed))
        st.markdown(plain(unused))
        st.caption(f"{plain(used)} {help_text('content_used_share')}")
    percent = st.column_config.NumberColumn(format="%.0f%%")
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("#### Most used this week")
        _content_table(most_used_table(content.most_used), "No use of content was logged this week.")
    with right:
        st.markdown("#### Lowest rated (helped?)")
        lowest = lowest_rated_table(content.lowest_rated)
        _content_table(
            lowest.drop("Kind") if big else lowest,  # half a projector's width: every column readable
            "No asset has a helped? rating yet.",
            {"Helped (%)": percent},
        )
    st.markdown("#### Open requests by votes")
    _content_table(requests_table(content.open_requests), "No request for content is waiting.")
    if not big:
        st.caption(plain(asks) + " " + help_text("content_requests"))
        if not content.new_assets.is_empty() or not content.updated_assets.is_empty():
            with st.expander("New and updated assets"):
                _content_table(
                    changed_assets_table(pl.concat([content.new_assets, content.updated_assets])),
                    "Nothing changed.",
                    {"At (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
                )


Section = tuple[str, Callable[[WeeklySync, bool], None]]
SECTIONS: tuple[Section, ...] = (
    ("The funnel", funnel_section),
    ("The SLA, both sides", sla_section),
    ("Lead quality", quality_section),
    ("Handoff answers", handoff_section),
    ("Criteria changes", changes_section),
    ("Wins to celebrate", wins_section),
    ("Content", content_section),
)
