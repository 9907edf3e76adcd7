"""The handoff's reads and its one write for the screens: the answers frame shared by every viewer, a lead's
current answer with its history, and a rep's answer given as the signed-in person."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from db.frames import load_answers
from db.handoff import Handoff, HandoffRefused, answer_handoff, lead_handoff
from db.models import HandoffAnswer
from ui import clock
from ui.auth import CurrentUser
from ui.data import follow_other_writers
from ui.db import act_as, database_url, engine


# Answers change with every click: kept a minute, like the ratings, and cleared by an answer given here.
@st.cache_resource(ttl=60, show_spinner=False)
def _answers(url: str) -> pl.DataFrame:
    return load_answers(engine())


def answers() -> pl.DataFrame:
    """Every handoff answer (core.handoff.ANSWERS_SCHEMA), shared by every viewer."""
    follow_other_writers()
    return _answers(database_url())


def answers_of_lead(lead_id: int) -> Handoff | None:
    """The lead's current answer and its history; the caller shows it only on a card it may show."""
    return lead_handoff(engine(), lead_id=lead_id)


def submit_answer(
    user: CurrentUser, lead_id: int, answer: HandoffAnswer, reason: str | None, come_back_on: date | None
) -> str | None:
    """Record the answer as the signed-in person; None when done, else what to tell them."""
    now = clock.now()
    acted = act_as(
        user.id,
        lambda session, actor: answer_handoff(session=session, actor=actor, lead_id=lead_id, answer=answer,
                                              reason=reason, come_back_on=come_back_on, now=now),
        (HandoffRefused,),
    )  # fmt: skip
    if acted.refused is None:
        _answers.clear()
    return acted.refused
