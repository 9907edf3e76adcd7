"""The Glossary's sections, every word generated from where the numbers come from: the metric registry
(core/definitions.py), the criteria version in force (db/criteria.py) and the SLA's terms (db/sla.py)."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import streamlit as st

from core.definitions import DEFINITIONS
from db.criteria import VersionView
from db.sla import Agreement
from ui.criteria import STATUS_WORDS, show_active
from ui.sla import SlaTerms, history_table
from ui.widgets import plain


def show_metrics() -> None:
    st.markdown("\n".join(f"- **{plain(d.label)}**: {plain(d.definition)}" for d in DEFINITIONS.values()))


def show_mql_definition(active: VersionView | None) -> None:
    if active is None:
        st.info(
            "No criteria version is in force yet, so no lead is scored as an MQL (imports may still mark "
            "leads as MQLs). A marketer proposes a version on the Targeting criteria page; it is in force "
            "once a sales manager approves it.",
            icon=":material/rule:",
        )
        return
    show_active(active)


def sla_sentences(terms: SlaTerms) -> list[str]:
    """The company's terms, then each team's own, as "Whose: sentence" lines (markdown-safe)."""
    return [
        f"**{plain(terms.scope_name(team_id))}**: {plain(terms.agreements[team_id].describe())}"
        for team_id in [None, *terms.teams_by_name()]
        if team_id in terms.agreements
    ]


def show_sla_terms(terms: SlaTerms) -> None:
    if not terms.agreements:
        st.info(
            "No service level agreement is set yet, so Huddle measures against the defaults: "
            f"{Agreement().describe()} A sales manager or an admin sets the terms on the SLA settings page.",
            icon=":material/handshake:",
        )
        return
    st.markdown("\n".join(f"- {line}" for line in sla_sentences(terms)))
    if None in terms.agreements:
        st.caption("Every team not listed here follows the company's terms.")
    else:
        st.caption("No company-wide terms are set: the teams not listed are held to the defaults.")


def _day(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%b %d, %Y}"


def criteria_history_table(listed: list[VersionView]) -> pl.DataFrame:
    """Every version ever proposed, newest first: who proposed and approved it, when it was in force."""
    return pl.DataFrame(
        {
            "Version": [v.number for v in listed],
            "Status": [STATUS_WORDS.get(v.status, v.status) for v in listed],
            "Proposed by": [v.proposed_by or "command line" for v in listed],
            "Proposed": [_day(v.proposed_at) for v in listed],
            "Approved by": [v.approved_by or "" for v in listed],
            "Approved": [_day(v.approved_at) for v in listed],
            "In force from": [_day(v.activated_at) for v in listed],
            "Until": [_day(v.retired_at) for v in listed],
        },
        schema={
            "Version": pl.Int64,
            **{
                column: pl.String
                for column in (
                    "Status",
                    "Proposed by",
                    "Proposed",
                    "Approved by",
                    "Approved",
                    "In force from",
                    "Until",
                )
            },
        },
    )


def show_criteria_history(listed: list[VersionView]) -> None:
    if not listed:
        st.caption("No criteria version has been proposed yet.")
        return
    st.dataframe(criteria_history_table(listed), hide_index=True, width="stretch")


def show_sla_history(terms: SlaTerms) -> None:
    if not terms.history:
        st.caption("The terms have never been set.")
        return
    st.dataframe(history_table(terms.history), hide_index=True, width="stretch")
