"""The Content health screen's sections: how much of the library is used, by which team and rep, whether
it helped, what is stale, what reps ask for, and each asset's association with won deals.

The frames are loaded once per version of the content data (db/content_frames.py `content_stamp`, asked on
every rerun, cheap) and shared by every viewer; the numbers are computed once per version and day, never
per viewer. Whose rows a viewer sees (a sales manager: their team's reps) is applied after the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from core.content import (
    INFLUENCE_CAPTION,
    KIND_LABEL,
    REVIEW_DAYS,
    USED_WINDOW_DAYS,
    helped_by_asset,
    influence,
    never_used,
    open_requests,
    stale_assets,
    unused_recently,
    use_by_team_and_rep,
    used_share,
)
from core.definitions import help_text
from core.stats import Rate
from db.content_frames import ContentFrames, content_frames, content_stamp
from db.models import Role
from ui import clock
from ui.auth import CurrentUser
from ui.data import CACHE_SECONDS
from ui.db import database_url, engine
from ui.widgets import percent, rate_detail

STATUS_WORDS = {"open": "Open", "accepted": "Accepted", "in_progress": "In progress"}
SMALL = "small sample"


@dataclass(frozen=True)
class Health:
    """Every number of the page, for everyone (small frames: one row per asset, rep or request)."""

    assets: int  # assets in the library, archived ones too
    used: Rate
    never_used: pl.DataFrame
    unused_recently: pl.DataFrame
    use: pl.DataFrame
    helped: pl.DataFrame
    stale: pl.DataFrame
    requests: pl.DataFrame
    influence: pl.DataFrame


# One copy of the frames per database and content version, shared (never changed in place).
@st.cache_resource(ttl=CACHE_SECONDS, max_entries=4, show_spinner="Loading content…")
def _frames(url: str, stamp: tuple[object, ...]) -> ContentFrames:
    return content_frames(engine())


def _titled(frame: pl.DataFrame, assets: pl.DataFrame) -> pl.DataFrame:
    return frame.join(assets.select("asset_id", "title", "kind"), on="asset_id", how="left")


def compute_health(frames: ContentFrames, today: date) -> Health:
    """The page's numbers from the frames as of `today` (what the cache below keeps)."""
    assets, uses, ratings = frames.assets, frames.uses, frames.ratings
    names = frames.people.select(pl.col("user_id").alias("requested_by_id"), pl.col("name").alias("asked_by"))
    return Health(
        assets=assets.height,
        used=used_share(assets, uses, today=today),
        never_used=never_used(assets, uses, today=today),
        unused_recently=unused_recently(assets, uses, today=today),
        use=use_by_team_and_rep(uses, frames.people, today=today),
        helped=_titled(helped_by_asset(ratings), assets),
        stale=stale_assets(assets, ratings, today=today),
        requests=open_requests(frames.requests, today=today).join(names, on="requested_by_id", how="left"),
        influence=_titled(influence(frames.opportunities, uses), assets),
    )


@st.cache_data(ttl=CACHE_SECONDS, max_entries=16, show_spinner=False)
def _health(url: str, stamp: tuple[object, ...], today: date) -> Health:
    return compute_health(_frames(url, stamp), today)


def content_health() -> Health:
    """The numbers of the content data as it is now (one cheap stamp query, then the cache)."""
    url = database_url()
    return _health(url, content_stamp(engine()), clock.today())


# ---------------------------------------------------------------- the sections


def _kind(column: str = "kind") -> pl.Expr:
    return pl.col(column).replace_strict(KIND_LABEL, default=pl.col(column)).alias("Kind")


def _interval(low: str, high: str) -> pl.Expr:
    return (
        pl.when(pl.col(low).is_not_null())
        .then(pl.format("{}%–{}%", *((pl.col(c) * 100).round(0).cast(pl.Int64) for c in (low, high))))
        .otherwise(pl.lit("—"))
    )


def _sample(flag: str = "small_sample") -> pl.Expr:
    return pl.when(pl.col(flag)).then(pl.lit(SMALL)).otherwise(pl.lit("")).alias("Sample")


def _table(frame: pl.DataFrame, **config: Any) -> None:
    """A table; its date columns read as days ("Jan 18, 2026"), not as midnight timestamps."""
    days = {name: st.column_config.DateColumn(format="MMM D, YYYY") for name, kind in frame.schema.items()
            if kind == pl.Date() and name not in config}  # fmt: skip
    st.dataframe(frame, hide_index=True, width="stretch", column_config={**days, **config} or None)


def empty_library(health: Health) -> bool:
    """Says what to do when there is no content yet; True then."""
    if health.assets:
        return False
    st.info(
        "No sales content yet. Marketers add case studies, decks and one-pagers on the Content page; "
        "once reps use and rate them, their numbers show here.",
        icon=":material/library_add:",
    )
    return True


def used_metric(health: Health) -> None:
    st.metric(
        f"Content used in the last {USED_WINDOW_DAYS} days",
        percent(health.used.value),
        help=help_text("content_used_share"),
    )
    if health.used.den:
        st.caption(f"{rate_detail(health.used)} live assets used at least once.")


def never_used_rows(health: Health) -> pl.DataFrame:
    return health.never_used.select(
        pl.col("title").alias("Title"),
        _kind(),
        pl.col("created_at").cast(pl.Date).alias("Added"),
        pl.col("age_days").alias("Days since added"),
    )


def unused_recently_rows(health: Health) -> pl.DataFrame:
    return health.unused_recently.select(
        pl.col("title").alias("Title"),
        _kind(),
        pl.col("last_used_at").cast(pl.Date).alias("Last used"),
        pl.col("days_since_use").alias("Days since last use"),
    )


def unused_section(health: Health) -> None:
    if health.never_used.is_empty():
        st.success("Every live asset has been used at least once.", icon=":material/check_circle:")
    else:
        st.caption(f"{health.never_used.height:,} live assets nobody has used yet, the oldest first.")
        _table(never_used_rows(health))
    if not health.unused_recently.is_empty():
        st.caption(f"Used before, but not in the last {USED_WINDOW_DAYS} days:")
        _table(unused_recently_rows(health))


def scoped_use(use: pl.DataFrame, user: CurrentUser) -> pl.DataFrame:
    """A sales manager sees their own team's rows (none without a team); the other roles every team's."""
    if user.role != Role.sales_manager:
        return use
    return use.filter(pl.col("team_id") == user.team_id) if user.team_id is not None else use.clear()


def use_rows(health: Health, user: CurrentUser, level: str) -> pl.DataFrame:
    rows = scoped_use(health.use, user).filter(pl.col("level") == level)
    counts = [pl.col("uses").alias("Uses"), pl.col("assets").alias("Assets"), pl.col("leads").alias("Leads")]
    if level == "team":
        return rows.select(pl.col("team").alias("Team"), *counts)
    return rows.select(
        pl.col("name").fill_null("(unknown)").alias("Rep"), pl.col("team").alias("Team"), *counts
    )


def use_section(health: Health, user: CurrentUser) -> None:
    teams, reps = use_rows(health, user, "team"), use_rows(health, user, "rep")
    if reps.is_empty():
        st.info(
            f"No content was used in the last {USED_WINDOW_DAYS} days"
            + (" by your team" if user.role == Role.sales_manager else "")
            + ". Reps log a use from the Content page or from a lead's card.",
            icon=":material/touch_app:",
        )
        return
    st.caption(help_text("content_use"))
    if user.role != Role.sales_manager:
        _table(teams)
    _table(reps)


def helped_rows(health: Health) -> pl.DataFrame:
    return health.helped.select(
        pl.col("title").alias("Title"),
        _kind(),
        pl.col("n").alias("Ratings"),
        pl.col("helped").alias("Helped (4-5)"),
        (pl.col("share") * 100).alias("Helped %"),
        _interval("low", "high").alias("95% interval"),
        _sample(),
    )


def helped_section(health: Health) -> None:
    if health.helped.is_empty():
        st.info("No asset has a helped? rating yet. Reps rate an asset after using it on a lead.",
                icon=":material/star_border:")  # fmt: skip
        return
    st.caption(help_text("content_helped") + " The least helpful first.")
    _table(helped_rows(health), **{"Helped %": st.column_config.NumberColumn(format="%.0f%%")})


def stale_rows(health: Health) -> pl.DataFrame:
    return health.stale.select(
        pl.col("title").alias("Title"),
        _kind(),
        pl.when(pl.col("never_reviewed"))
        .then(pl.lit("never (added ") + pl.col("reviewed_on").cast(pl.String) + pl.lit(")"))
        .otherwise(pl.col("reviewed_on").cast(pl.String))
        .alias("Last reviewed"),
        pl.col("days_since_review").alias("Days since review"),
        pl.col("out_of_date").alias("Rated out of date"),
        pl.concat_str(
            pl.when(pl.col("out_of_date") > 0).then(pl.lit("rated out of date")),
            pl.when(pl.col("past_review")).then(pl.lit(f"review older than {REVIEW_DAYS} days")),
            separator="; ",
            ignore_nulls=True,
        ).alias("Why"),
    )


def stale_section(health: Health) -> None:
    if health.stale.is_empty():
        st.success(f"Nothing is stale: no asset is rated out of date or past its {REVIEW_DAYS}-day review.",
                   icon=":material/check_circle:")  # fmt: skip
        return
    st.caption(help_text("content_stale") + " A marketer marks an asset reviewed on the Content page.")
    _table(stale_rows(health))


def request_rows(health: Health) -> pl.DataFrame:
    return health.requests.select(
        pl.col("what").alias("What"),
        pl.col("kind").replace_strict(KIND_LABEL, default=pl.col("kind")).fill_null("").alias("Kind"),
        pl.col("persona").fill_null("").alias("Persona"),
        pl.col("stage").fill_null("").alias("Stage"),
        pl.col("industry").fill_null("").alias("Industry"),
        pl.col("asked_by").fill_null("(unknown)").alias("Asked by"),
        pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("Status"),
        pl.col("votes").alias("Votes"),
        pl.col("age_days").alias("Age (days)"),
    )


def requests_section(health: Health) -> None:
    if health.requests.is_empty():
        st.info("No open requests. Reps ask for missing content on the Content page.",
                icon=":material/inbox:")  # fmt: skip
        return
    st.caption(help_text("content_requests"))
    _table(request_rows(health))


def influence_rows(health: Health) -> pl.DataFrame:
    return health.influence.select(
        pl.col("title").alias("Title"),
        _kind(),
        pl.col("used_n").alias("Deals used on"),
        pl.col("used_won").alias("Won"),
        (pl.col("used_rate") * 100).alias("Win rate used %"),
        _interval("used_low", "used_high").alias("95% interval"),
        pl.col("comparison_n").alias("Comparable deals"),
        pl.col("comparison_won").alias("Comparable won"),
        (pl.col("comparison_rate") * 100).alias("Comparable win rate %"),
        _interval("comparison_low", "comparison_high").alias("Comparable 95% interval"),
        (pl.col("difference") * 100).alias("Difference (points)"),
        pl.col("used_unmatched").alias("Used, nothing comparable"),
        _sample(),
    )


def influence_section(health: Health) -> None:
    if health.influence.is_empty():
        st.info(
            "Nothing to compare yet: an asset shows here once it was used on a closed opportunity and a deal "
            "of the same segment and quarter closed without it. Reps log the assets they use on deals; "
            "each asset's win rate then shows against those comparable deals.",
            icon=":material/query_stats:",
        )
        return
    percent_column = st.column_config.NumberColumn(format="%.0f%%")
    _table(
        influence_rows(health),
        **{
            "Win rate used %": percent_column,
            "Comparable win rate %": percent_column,
            "Difference (points)": st.column_config.NumberColumn(format="%+.0f"),
        },
    )
    st.caption(INFLUENCE_CAPTION)
