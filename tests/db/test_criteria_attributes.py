"""Criteria versions whose rules read imported attributes, on SQLite and PostgreSQL: a rule must fit the
catalogue (nothing saved when it does not), and approval re-scores the leads on the attributes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.criteria import Rule
from db.criteria import CriteriaRefused, approve, propose_version, validated_rules
from db.engine import read_session, write_session
from db.models import CriteriaRule, Lead
from tests.db.test_criteria_service import NOW, _actor, _company, _status

RULES = (
    Rule("time_on_website", "between", [60, 300], 40),
    Rule("job_title", "in", ["VP", "Director"], 20),
    Rule("page_views", "gte", 5, 10),
)


def _lead(key: str, attributes: dict[str, Any] | None, page_views: int = 0) -> Lead:
    return Lead(
        source_system="crm",
        external_id=key,
        created_at=NOW - timedelta(days=3),
        page_views=page_views,
        attributes=attributes,
    )


def _with_leads(engine: Engine) -> None:
    _company(engine)
    with write_session(engine) as session:
        session.add_all(
            [
                _lead("vp-120s", {"time_on_website": "120", "job_title": "VP"}),  # 40 + 20 = 60
                _lead("intern-300s", {"time_on_website": 300, "job_title": "Intern"}),  # 40 (ends count)
                _lead("vp-10s", {"time_on_website": "10", "job_title": " VP "}, page_views=6),  # 20 + 10
                _lead("nothing", None, page_views=5),  # 10
            ]
        )


def _propose(engine: Engine, rules: tuple[Rule, ...]) -> int:
    with write_session(engine) as session:
        version = propose_version(
            session=session, actor=_actor(session, "mark"), rules=rules, threshold=50, rationale="attributes"
        )
        return int(version.id or 0)


def test_an_approved_version_rescores_on_the_attributes_it_reads(db_engine: Engine) -> None:
    _with_leads(db_engine)
    draft = _propose(db_engine, RULES)
    with write_session(db_engine) as session:
        band, title, views = session.exec(
            select(CriteriaRule.id).where(CriteriaRule.version_id == draft).order_by(col(CriteriaRule.id))
        ).all()
        approve(session=session, actor=_actor(session, "boss"), version_id=draft, now=NOW)
    with read_session(db_engine) as session:
        found = {
            lead.external_id: (lead.score, lead.fired_rule_ids, lead.mql_at is not None)
            for lead in session.exec(select(Lead))
        }
    assert found == {
        "vp-120s": (60, [band, title], True),
        "intern-300s": (40, [band], False),
        "vp-10s": (30, [title, views], False),
        "nothing": (10, [views], False),
    }


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Rule("time_on_website", "eq", "abc", 10), "Time on website holds numbers"),
        (Rule("job_title", "gte", 3, 10), "Job title holds text"),
        (Rule("job_level", "eq", "senior", 10), "no lead has Job level"),
    ],
)
def test_a_rule_that_does_not_fit_the_catalogue_saves_nothing(
    db_engine: Engine, rule: Rule, message: str
) -> None:
    _with_leads(db_engine)
    with pytest.raises(CriteriaRefused, match=message):
        _propose(db_engine, (rule,))
    assert _status(db_engine) == {1: "active"}


def test_a_number_rule_with_a_word_is_refused_with_the_catalogues_words(db_engine: Engine) -> None:
    _with_leads(db_engine)
    rule = Rule("time_on_website", "gte", 60, 10)
    object.__setattr__(rule, "value", "abc")  # as a hand-made request could send it
    with pytest.raises(CriteriaRefused, match="Time on website holds numbers: 'abc' is not a number"):
        _propose(db_engine, (rule,))
    assert _status(db_engine) == {1: "active"}


def test_without_a_catalogue_only_the_leads_own_fields_are_known() -> None:
    assert validated_rules((Rule("page_views", "in", [1, 2], 5),)) == (Rule("page_views", "in", [1, 2], 5),)
    with pytest.raises(CriteriaRefused, match="no lead has Job title"):
        validated_rules((Rule("job_title", "eq", "VP", 5),))
    assert datetime(2026, 1, 1, tzinfo=UTC) < NOW  # the shared clock of the criteria tests


def test_a_count_rule_saved_with_text_numbers_is_proposed_again_as_numbers() -> None:
    # A version saved before values were typed may hold page views "is one of" ["1", "2"]; a rollback to it.
    assert validated_rules((Rule("page_views", "in", ["1", "2"], 5),)) == (
        Rule("page_views", "in", [1, 2], 5),
    )


def test_a_rule_whose_attribute_a_later_import_dropped_scores_0(db_engine: Engine) -> None:
    _with_leads(db_engine)
    draft = _propose(db_engine, RULES)
    with write_session(db_engine) as session:  # a later import keeps no attributes
        for lead in session.exec(select(Lead)):
            lead.attributes = None
            session.add(lead)
    with write_session(db_engine) as session:
        approve(session=session, actor=_actor(session, "boss"), version_id=draft, now=NOW)
    with read_session(db_engine) as session:
        scores = {lead.external_id: lead.score for lead in session.exec(select(Lead))}
    # Only page views (5 or more: 10 points) still scores.
    assert scores == {"vp-120s": 0, "intern-300s": 0, "vp-10s": 10, "nothing": 10}
