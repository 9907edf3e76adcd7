"""Whose numbers a viewer may pick on the quota screen: reps their own and their team's, managers their
team and its reps, executives and marketers anyone."""

from __future__ import annotations

import polars as pl
import streamlit as st

from core.quota import Scope
from db.models import Role
from ui.auth import CurrentUser

TEAM_BOUND = (Role.rep, Role.sales_manager)
ANOTHER_REP = "Another rep"  # how a rep sees a colleague: on the leaderboard, in the deals, in the breaches


def own_team(user: CurrentUser, people: pl.DataFrame) -> str | None:
    """The team name a rep or manager is held to (None for the roles that see every team)."""
    if user.role not in TEAM_BOUND or user.team_id is None:
        return None
    found = people.filter(pl.col("team_id") == user.team_id).get_column("team").drop_nulls()
    return str(found[0]) if found.len() else None


def _reps_of(people: pl.DataFrame, team_id: int | None) -> list[Scope]:
    reps = people.filter(pl.col("role") == Role.rep.value)
    if team_id is not None:
        reps = reps.filter(pl.col("team_id") == team_id)
    return [Scope("rep", int(i), str(n)) for i, n in reps.sort("name").select("user_id", "name").iter_rows()]


def _team_id(people: pl.DataFrame, team: str) -> int | None:
    found = people.filter(pl.col("team") == team).get_column("team_id").drop_nulls()
    return int(found[0]) if found.len() else None


def scope_choices(user: CurrentUser, people: pl.DataFrame, team_filter: str | None) -> list[Scope]:
    if user.role == Role.rep:
        mine = [Scope("rep", user.id, "You")]
        team = own_team(user, people)
        return mine + ([Scope("team", user.team_id, f"Your team ({team})")] if team else [])
    if user.role == Role.sales_manager:
        team = own_team(user, people)
        if team is None:
            return []
        return [Scope("team", user.team_id, team), *_reps_of(people, user.team_id)]
    if team_filter is not None:
        team_id = _team_id(people, team_filter)
        return [Scope("team", team_id, team_filter), *_reps_of(people, team_id)]
    teams = people.select("team_id", "team").drop_nulls().unique().sort("team")
    return [
        Scope("company"),
        *[Scope("team", int(i), str(n)) for i, n in teams.iter_rows()],
        *_reps_of(people, None),
    ]


def chosen_scope(user: CurrentUser, people: pl.DataFrame, team_filter: str | None) -> Scope:
    """A sidebar pick of whose numbers to show; stops the page for a manager who has no team yet."""
    choices = scope_choices(user, people, team_filter)
    if not choices:
        st.info(
            "You are not in a team yet, so there is nothing to show. An admin sets teams.",
            icon=":material/group_off:",
        )
        st.stop()
    labels = [c.label if c.level != "rep" or c.label == "You" else f"Rep: {c.label}" for c in choices]
    picked = st.sidebar.selectbox("Whose numbers", range(len(choices)), format_func=labels.__getitem__,
                                  key="quota_scope")  # fmt: skip
    return choices[picked or 0]


def team_scope(people: pl.DataFrame, team_filter: str | None) -> Scope:
    """The company, or the team the sidebar filter picked."""
    if team_filter is None:
        return Scope("company")
    return Scope("team", _team_id(people, team_filter), team_filter)


def deals_as_seen_by(deals: pl.DataFrame, user: CurrentUser, leads: pl.DataFrame) -> pl.DataFrame:
    """The deals behind a number as `user` may see them: a rep sees their own deals under their name and a
    teammate's (their team's numbers) as "Another rep", as on the leaderboard; everyone else sees names.
    Applied after the cache (the cached deals are everyone's), by lead id: two people may share a name."""
    if user.role != Role.rep or "owner" not in deals.columns:
        return deals
    mine = leads.filter(pl.col("owner_id") == user.id).get_column("id").to_list()
    return deals.with_columns(
        pl.when(pl.col("id").is_in(mine) | pl.col("owner").is_null())
        .then(pl.col("owner"))
        .otherwise(pl.lit(ANOTHER_REP))
        .alias("owner")
    )
