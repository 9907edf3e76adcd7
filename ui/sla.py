"""The SLA's terms on screen: what is in force for the company and each team, the form that sets new
terms (through db/sla.py, which checks who may set whose), and every version since the first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl
import streamlit as st

from db import clock
from db.engine import read_session
from db.sla import (
    MAX_FOLLOW_UP_HOURS,
    MAX_MQLS_PER_MONTH,
    MAX_RATING_DAYS,
    MAX_RATING_GRACE_DAYS,
    Agreement,
    AgreementChange,
    SlaRefused,
    agreement_for,
    agreement_history,
    current_agreements,
    scopes_for,
    set_agreement,
    team_names,
)
from ui.auth import CurrentUser
from ui.data import forget_loaded_data
from ui.db import act_as, engine, read_as
from ui.navigation import Role
from ui.widgets import plain

FLASH = "sla_flash"
COMPANY = "The company"
GRACE = "Queue grace days"


@dataclass(frozen=True)
class SlaTerms:
    """Everything the SLA screens show, read in one unit of work."""

    agreements: dict[int | None, Agreement]
    teams: dict[int, str]
    history: list[AgreementChange]

    def scope_name(self, team_id: int | None) -> str:
        return COMPANY if team_id is None else self.teams.get(team_id, f"team {team_id}")

    def teams_by_name(self) -> list[int]:
        return sorted(self.teams, key=self.teams.__getitem__)


def sla_terms() -> SlaTerms:
    """Read fresh on every run: a handful of rows, and a change must show at once."""
    with read_session(engine()) as session:
        return SlaTerms(current_agreements(session), team_names(session), agreement_history(session))


def settable_scopes(user: CurrentUser) -> list[int | None]:
    """Whose terms the signed-in person may set (None: the company's)."""
    return read_as(user.id, scopes_for)


# ---------------------------------------------------------------- in force and history


def _since(terms: SlaTerms, team_id: int | None) -> AgreementChange | None:
    name = None if team_id is None else terms.teams.get(team_id)
    return next((change for change in terms.history if change.team == name), None)


def _when(moment: datetime) -> str:
    return f"{moment:%b %d, %Y %H:%M} UTC"


def in_force_table(terms: SlaTerms) -> pl.DataFrame:
    """One row for the company and one per team: its own terms, or the company's it follows."""
    rows = []
    for team_id in [None, *terms.teams_by_name()]:
        own = team_id in terms.agreements
        agreement = agreement_for(terms.agreements, team_id)
        change = _since(terms, team_id) if own else None
        rows.append(
            {
                "Whose": terms.scope_name(team_id),
                "Terms": "its own" if own else _followed(terms, team_id),
                "MQLs a month": agreement.mqls_per_month,
                "Follow-up hours": agreement.follow_up_hours,
                "Rating days": agreement.rating_days,
                GRACE: agreement.rating_grace_days,
                "Acceptance target": _percent(agreement.acceptance_target),
                "Since": _when(change.effective_from) if change else "",
                "Set by": (change.set_by or "command line") if change else "",
            }
        )
    return pl.DataFrame(rows, schema=_IN_FORCE_SCHEMA)


def _followed(terms: SlaTerms, team_id: int | None) -> str:
    return "the company's" if team_id is not None and None in terms.agreements else "the defaults"


_IN_FORCE_SCHEMA: dict[str, pl.DataType] = {
    "Whose": pl.String(),
    "Terms": pl.String(),
    "MQLs a month": pl.Int64(),
    "Follow-up hours": pl.Int64(),
    "Rating days": pl.Int64(),
    GRACE: pl.Int64(),
    "Acceptance target": pl.String(),
    "Since": pl.String(),
    "Set by": pl.String(),
}


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def history_table(history: list[AgreementChange]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "From": [_when(c.effective_from) for c in history],
            "Whose": [c.team or COMPANY for c in history],
            "MQLs a month": [c.mqls_per_month for c in history],
            "Follow-up hours": [c.follow_up_hours for c in history],
            "Rating days": [c.rating_days for c in history],
            GRACE: [c.rating_grace_days for c in history],
            "Acceptance target": [_percent(c.acceptance_target) for c in history],
            "Set by": [c.set_by or "command line" for c in history],
        },
        schema={
            "From": pl.String,
            "Whose": pl.String,
            "MQLs a month": pl.Int64,
            "Follow-up hours": pl.Int64,
            "Rating days": pl.Int64,
            GRACE: pl.Int64,
            "Acceptance target": pl.String,
            "Set by": pl.String,
        },
    )


def show_in_force(terms: SlaTerms) -> None:
    if not terms.agreements:
        st.info(
            f"No terms are set yet, so Huddle measures against the defaults: {Agreement().describe()} "
            "Set the company's terms below.",
            icon=":material/handshake:",
        )
    st.dataframe(in_force_table(terms), hide_index=True, width="stretch")


def show_history(terms: SlaTerms) -> None:
    if not terms.history:
        st.caption("No terms have been set yet.")
        return
    st.dataframe(history_table(terms.history), hide_index=True, width="stretch")


# ---------------------------------------------------------------- setting new terms


def show_flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(str(message), icon=":material/check_circle:")


def _scope_label(terms: SlaTerms) -> Callable[[int | None], str]:
    def label(team_id: int | None) -> str:
        if team_id is None:
            return f"{COMPANY} (every team without its own terms)"
        return terms.scope_name(team_id)

    return label


def _save(user: CurrentUser, team_id: int | None, new: Agreement) -> str | None:
    """Set the terms as the signed-in person; None when done, else what to tell them."""
    problem = act_as(
        user.id,
        lambda session, actor: set_agreement(
            session=session,
            actor=actor,
            team_id=team_id,
            mqls_per_month=int(new.mqls_per_month or 0),
            follow_up_hours=new.follow_up_hours,
            rating_days=new.rating_days,
            acceptance_target=float(new.acceptance_target or 0),
            rating_grace_days=new.rating_grace_days,
            now=clock.now(),
        ),
        (SlaRefused,),
    ).refused
    if problem:
        return problem
    forget_loaded_data()  # every page measuring against the terms computes afresh
    return None


def _grace_input(start: Agreement, key: str, *, admin: bool) -> int:
    """The rating queue's grace: next to the rating days it extends, changed by an admin only."""
    why = (
        "After the rating days, an unrated MQL stays in the reps' rating queue this many days more; then it "
        "leaves the queue and counts as missed on Rating coverage."
    )
    grace = st.number_input(
        "Keep an unrated MQL in the rating queue a further (days)",
        min_value=0,
        max_value=MAX_RATING_GRACE_DAYS,
        step=1,
        value=start.rating_grace_days,
        key=f"{key}_grace",
        disabled=not admin,
        help=why if admin else f"{why} Only an admin changes it.",
    )
    return int(grace)


def _terms_inputs(start: Agreement, key: str, *, admin: bool) -> Agreement:
    left, right = st.columns(2)
    with left:
        st.markdown("**Marketing commits to**")
        mqls = st.number_input(
            "MQLs a month",
            min_value=0,
            max_value=MAX_MQLS_PER_MONTH,
            step=10,
            value=start.mqls_per_month or 0,
            key=f"{key}_mqls",
        )
        target = st.number_input(
            "Acceptance target: share of MQLs rated 4-5 (%)",
            min_value=0,
            max_value=100,
            step=5,
            value=round((start.acceptance_target or 0) * 100),
            key=f"{key}_target",
        )
    with right:
        st.markdown("**Sales commits to**")
        hours = st.number_input(
            "Follow up every MQL within (working hours, Monday to Friday)",
            min_value=1,
            max_value=MAX_FOLLOW_UP_HOURS,
            step=1,
            value=start.follow_up_hours,
            key=f"{key}_hours",
        )
        days = st.number_input(
            "Rate every MQL within (days)",
            min_value=1,
            max_value=MAX_RATING_DAYS,
            step=1,
            value=start.rating_days,
            key=f"{key}_days",
        )
        grace = _grace_input(start, key, admin=admin)
    return Agreement(int(hours), int(days), int(mqls), int(target) / 100, grace)


def set_terms_form(user: CurrentUser, terms: SlaTerms) -> None:
    scopes = settable_scopes(user)
    if not scopes:
        st.caption("Your role does not set terms.")
        return
    team_id = st.selectbox("Whose terms", scopes, format_func=_scope_label(terms), key="sla_scope")
    start = agreement_for(terms.agreements, team_id)
    key = f"sla_{'company' if team_id is None else team_id}"
    with st.form(key, border=True):
        new = _terms_inputs(start, key, admin=user.role == Role.admin)
        sent = st.form_submit_button("Set these terms", type="primary", icon=":material/handshake:")
    if not sent:
        return
    if team_id in terms.agreements and new == terms.agreements[team_id]:
        st.info("Those are the terms in force already: nothing changed.", icon=":material/info:")
        return
    problem = _save(user, team_id, new)
    if problem:
        st.error(problem, icon=":material/block:")
        return
    whose = "the company" if team_id is None else terms.scope_name(team_id)
    st.session_state[FLASH] = f"New terms for {plain(whose)}: {plain(new.describe())}"
    st.rerun()
