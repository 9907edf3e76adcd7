"""Criteria versions as a signed-off workflow, on SQLite and PostgreSQL: who may propose, approve, reject
and comment; approval activates, retires and re-scores only the leads not yet with sales; rollback goes
through the same approval; a version, once written, never changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.criteria import Rule
from db.access import OPERATOR, AccessDenied
from db.criteria import (
    NEW_LEAD_DAYS,
    CriteriaRefused,
    VersionImmutable,
    activation_dates,
    approve,
    comment,
    propose_version,
    reject,
    rollback_to,
    versions,
)
from db.engine import read_session, write_session
from db.models import (
    AuditLog,
    CriteriaComment,
    CriteriaRule,
    CriteriaStatus,
    CriteriaVersion,
    DataSource,
    Lead,
    Outcome,
    Role,
    User,
)

LAUNCHED = datetime(2026, 1, 5, 9, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
PEOPLE = {
    "rep": Role.rep,
    "mark": Role.marketer,
    "mary": Role.marketer,
    "boss": Role.sales_manager,
    "exec": Role.executive,
    "admin": Role.admin,
}
V1_RULES = (Rule("industry", "eq", "Software", 30), Rule("page_views", "gte", 5, 20))
# The draft the tests approve: Retail leads are worth 50, five page views 10; 50 points make an MQL.
V2_RULES = (Rule("industry", "eq", "Retail", 50), Rule("page_views", "gte", 5, 10))


def _company(engine: Engine) -> dict[str, int]:
    """The people above, and version 1 in force (proposed by mark, approved by boss). Ids by name."""
    with write_session(engine) as session:
        session.add(DataSource(name="crm", label="CRM", stages=["created", "mql", "sql", "won"]))
        users = {name: User(username=name, name=name.title(), role=role) for name, role in PEOPLE.items()}
        session.add_all(users.values())
        session.flush()
        v1 = CriteriaVersion(
            number=1,
            status=CriteriaStatus.active,
            threshold=40,
            rationale="Launch",
            proposed_by_id=users["mark"].id,
            proposed_at=LAUNCHED,
            approved_by_id=users["boss"].id,
            approved_at=LAUNCHED,
            activated_at=LAUNCHED,
        )
        session.add(v1)
        session.flush()
        session.add_all(
            CriteriaRule(
                version_id=int(v1.id or 0),
                attribute=r.attribute,
                operator=r.operator,
                value=r.value,
                points=r.points,
            )
            for r in V1_RULES
        )
        return {**{name: int(u.id or 0) for name, u in users.items()}, "v1": int(v1.id or 0)}


def _actor(session: Session, name: str) -> User:
    return session.exec(select(User).where(User.username == name)).one()


def _draft(engine: Engine, by: str = "mark") -> int:
    with write_session(engine) as session:
        version = propose_version(
            session=session,
            actor=_actor(session, by),
            rules=V2_RULES,
            threshold=50,
            rationale="Retail rates 4-5 far more often",
            now=NOW,
        )
        return int(version.id or 0)


def _status(engine: Engine) -> dict[int, str]:
    with read_session(engine) as session:
        return {v.number: v.status.value for v in session.exec(select(CriteriaVersion))}


def _denied(engine: Engine) -> list[tuple[str, str | None]]:
    with read_session(engine) as session:
        rows = session.exec(select(AuditLog).where(AuditLog.outcome == "denied")).all()
        return [(r.action, r.actor_username) for r in rows]


# ---------------------------------------------------------------- who may do what

Call = Callable[[Session, User, int], object]
CALLS: dict[str, Call] = {
    "propose": lambda s, a, _v: propose_version(
        session=s, actor=a, rules=V2_RULES, threshold=50, rationale="because"
    ),
    "approve": lambda s, a, v: approve(session=s, actor=a, version_id=v),
    "reject": lambda s, a, v: reject(session=s, actor=a, version_id=v, reason="too narrow"),
    "comment": lambda s, a, v: comment(session=s, actor=a, version_id=v, text="what about Software?"),
}
# Written out by hand, not derived from the service, so the test checks the policy.
ALLOWED = {
    "propose": {"mary"},
    "approve": {"boss"},
    "reject": {"mary", "boss"},
    "comment": {"mary", "boss"},
}
ACTORS = ["rep", "mary", "boss", "exec", "admin"]


@pytest.mark.parametrize("action", list(CALLS))
@pytest.mark.parametrize("who", ACTORS)
def test_role_x_action(db_engine: Engine, who: str, action: str) -> None:
    _company(db_engine)
    draft = _draft(db_engine)  # proposed by mark; mary is the other marketer
    if who in ALLOWED[action]:
        with write_session(db_engine) as session:
            CALLS[action](session, _actor(session, who), draft)
        assert _denied(db_engine) == []
        return
    with pytest.raises(AccessDenied), write_session(db_engine) as session:
        CALLS[action](session, _actor(session, who), draft)
    assert _denied(db_engine) == [(f"criteria.{action}", who)]
    assert _status(db_engine) == {1: "active", 2: "draft"}
    with read_session(db_engine) as session:
        assert session.exec(select(CriteriaComment)).all() == []


def test_the_command_line_may_propose_but_not_sign_off(db_engine: Engine) -> None:
    _company(db_engine)
    with write_session(db_engine) as session:
        version = propose_version(
            session=session, actor=OPERATOR, rules=V2_RULES, threshold=50, rationale="scheduled tuning"
        )
        draft = int(version.id or 0)
        assert version.proposed_by_id is None
    with pytest.raises(CriteriaRefused, match="person's name"), write_session(db_engine) as session:
        approve(session=session, actor=OPERATOR, version_id=draft)
    assert _status(db_engine) == {1: "active", 2: "draft"}


# ---------------------------------------------------------------- approval


def test_approving_activates_the_draft_and_retires_the_version_before(db_engine: Engine) -> None:
    ids = _company(db_engine)
    draft = _draft(db_engine)
    approved_at = NOW + timedelta(hours=2)
    with write_session(db_engine) as session:
        approve(
            session=session,
            actor=_actor(session, "boss"),
            version_id=draft,
            note="Let's try it",
            now=approved_at,
        )
    assert _status(db_engine) == {1: "retired", 2: "active"}
    with read_session(db_engine) as session:
        old, new = session.get(CriteriaVersion, ids["v1"]), session.get(CriteriaVersion, draft)
        assert old is not None and new is not None
        assert old.retired_at is not None and old.retired_at.replace(tzinfo=UTC) == approved_at
        assert (new.proposed_by_id, new.approved_by_id) == (ids["mark"], ids["boss"])
        assert new.approved_at is not None and new.approved_at.replace(tzinfo=UTC) == approved_at
        assert new.activated_at is not None and new.activated_at.replace(tzinfo=UTC) == approved_at
        said = session.exec(select(CriteriaComment)).one()
        assert (said.kind, said.text, said.author_id) == ("approve", "Let's try it", ids["boss"])
        logged = session.exec(select(AuditLog.action).order_by(col(AuditLog.id))).all()
        assert logged == ["criteria.propose", "criteria.approve"]


def test_a_version_is_not_approved_by_its_own_proposer(db_engine: Engine) -> None:
    """Mark proposed the draft, then moved to sales management: his own draft still needs someone else."""
    ids = _company(db_engine)
    draft = _draft(db_engine)
    with write_session(db_engine) as session:
        mark = _actor(session, "mark")
        mark.role = Role.sales_manager
        session.add(mark)
    with pytest.raises(CriteriaRefused, match="another sales manager"), write_session(db_engine) as session:
        approve(session=session, actor=_actor(session, "mark"), version_id=draft)
    assert _status(db_engine) == {1: "active", 2: "draft"}
    with write_session(db_engine) as session:
        approve(session=session, actor=_actor(session, "boss"), version_id=draft)
    assert _status(db_engine) == {1: "retired", 2: "active"}
    assert ids["mark"] != ids["boss"]


def test_only_a_draft_can_be_approved_or_rejected(db_engine: Engine) -> None:
    ids = _company(db_engine)
    for call in (CALLS["approve"], CALLS["reject"]):
        with pytest.raises(CriteriaRefused, match="active, no longer a draft"), write_session(db_engine) as s:
            call(s, _actor(s, "boss"), ids["v1"])


def _lead(
    key: str, industry: str | None, page_views: int, created_at: datetime | None = None, **stages: Any
) -> Lead:
    """A lead created three days before NOW (when the tests approve), unless told otherwise."""
    return Lead(
        source_system="crm",
        external_id=key,
        created_at=created_at or NOW - timedelta(days=3),
        industry=industry,
        page_views=page_views,
        **stages,
    )


def test_approving_rescores_only_the_leads_not_yet_with_sales(db_engine: Engine) -> None:
    ids = _company(db_engine)
    earlier = LAUNCHED + timedelta(days=3)
    with write_session(db_engine) as session:
        session.add_all(
            [
                _lead("retail-quiet", "Retail", 0),  # 50 points under version 2: an MQL now
                _lead("retail-busy", "Retail", 6),  # 50 + 10 = 60: an MQL now
                _lead("software-busy", "Software", 6),  # 10: scored, not an MQL
                _lead("unknown", None, 0),  # 0
                # Already an MQL under version 1 (30 + 20): keeps its MQL, score and version.
                _lead(
                    "old-mql",
                    "Software",
                    5,
                    mql_at=earlier,
                    score=50,
                    criteria_version_id=ids["v1"],
                    fired_rule_ids=[1, 2],
                ),
                # Sales closed it without an MQL stage: handed to sales already, so left as it is.
                _lead("closed", "Retail", 0, closed_at=earlier, outcome=Outcome.lost),
            ]
        )
    draft = _draft(db_engine)
    with write_session(db_engine) as session:
        rules = session.exec(
            select(CriteriaRule.id).where(CriteriaRule.version_id == draft).order_by(col(CriteriaRule.id))
        ).all()
        retail_rule, views_rule = rules
        approve(session=session, actor=_actor(session, "boss"), version_id=draft, now=NOW)
    with read_session(db_engine) as session:
        found = {
            lead.external_id: (
                lead.score,
                lead.fired_rule_ids,
                lead.criteria_version_id,
                lead.mql_at.replace(tzinfo=UTC) if lead.mql_at else None,
            )
            for lead in session.exec(select(Lead))
        }
    assert found == {
        "retail-quiet": (50, [retail_rule], draft, NOW),
        "retail-busy": (60, [retail_rule, views_rule], draft, NOW),
        "software-busy": (10, [views_rule], draft, None),
        "unknown": (0, [], draft, None),
        "old-mql": (50, [1, 2], ids["v1"], earlier),
        "closed": (None, None, None, None),
    }


def _approve_v2_at(engine: Engine, moment: datetime) -> tuple[int, int]:
    """Version 2 approved at `moment`; (its id, its Retail rule's id)."""
    draft = _draft(engine)
    with write_session(engine) as session:
        retail_rule = session.exec(
            select(CriteriaRule.id).where(CriteriaRule.version_id == draft).order_by(col(CriteriaRule.id))
        ).first()
        approve(session=session, actor=_actor(session, "boss"), version_id=draft, now=moment)
    return draft, int(retail_rule or 0)


def test_only_leads_created_in_the_last_30_days_become_mqls_at_approval(db_engine: Engine) -> None:
    """An old lead the new rules qualify is scored, but not made an MQL dated the approval day."""
    _company(db_engine)
    created = {
        "day-before": NOW - timedelta(days=1),
        "30-days": NOW - timedelta(days=NEW_LEAD_DAYS),  # the window's first moment: still new
        "30-days-and-a-second": NOW - timedelta(days=NEW_LEAD_DAYS, seconds=1),
        "last-year": NOW - timedelta(days=300),
    }
    with write_session(db_engine) as session:
        session.add_all(_lead(key, "Retail", 0, created_at=at) for key, at in created.items())
    draft, retail_rule = _approve_v2_at(db_engine, NOW)
    with read_session(db_engine) as session:
        found = {
            lead.external_id: (
                lead.score,
                lead.fired_rule_ids,
                lead.criteria_version_id,
                lead.mql_at.replace(tzinfo=UTC) if lead.mql_at else None,
            )
            for lead in session.exec(select(Lead))
        }
        detail = session.exec(select(AuditLog.detail).where(AuditLog.action == "criteria.approve")).one()
    # All four are Retail (50 points, threshold 50): every one is scored under version 2...
    assert found == {
        "day-before": (50, [retail_rule], draft, NOW),
        "30-days": (50, [retail_rule], draft, NOW),
        "30-days-and-a-second": (50, [retail_rule], draft, None),
        "last-year": (50, [retail_rule], draft, None),
    }
    # ... and two became MQLs.
    assert detail == "version=2 rescored=4 new_mqls=2"


def test_an_approval_makes_no_spike_in_the_mql_flow(db_engine: Engine) -> None:
    """A year of never-handed Retail leads, one a day, and an approval that qualifies them all: the MQLs
    dated the approval day are the 31 of its last 30 days (both ends counted), not 365."""
    _company(db_engine)
    with write_session(db_engine) as session:
        session.add_all(
            _lead(f"lead-{n}", "Retail", 0, created_at=NOW - timedelta(days=n)) for n in range(365)
        )
    _approve_v2_at(db_engine, NOW)
    with read_session(db_engine) as session:
        mql_days = session.exec(select(Lead.mql_at).where(col(Lead.mql_at).is_not(None))).all()
    assert len(mql_days) == NEW_LEAD_DAYS + 1


# ---------------------------------------------------------------- rejection, comments, rollback


def test_rejecting_a_draft_keeps_the_reason_as_a_comment(db_engine: Engine) -> None:
    ids = _company(db_engine)
    draft = _draft(db_engine)
    with pytest.raises(CriteriaRefused, match="reason"), write_session(db_engine) as session:
        reject(session=session, actor=_actor(session, "boss"), version_id=draft, reason="   ")
    with write_session(db_engine) as session:
        comment(session=session, actor=_actor(session, "mary"), version_id=draft, text="Retail is noisy")
        reject(session=session, actor=_actor(session, "boss"), version_id=draft, reason="Retail SMBs churn")
    assert _status(db_engine) == {1: "active", 2: "rejected"}
    with read_session(db_engine) as session:
        said = session.exec(select(CriteriaComment).order_by(col(CriteriaComment.id))).all()
        assert [(c.kind, c.text, c.author_id) for c in said] == [
            ("comment", "Retail is noisy", ids["mary"]),
            ("reject", "Retail SMBs churn", ids["boss"]),
        ]
    with pytest.raises(CriteriaRefused, match="rejected"), write_session(db_engine) as session:
        approve(session=session, actor=_actor(session, "boss"), version_id=draft)


def test_rollback_proposes_a_copy_that_goes_through_the_same_approval(db_engine: Engine) -> None:
    ids = _company(db_engine)
    draft = _draft(db_engine)
    with write_session(db_engine) as session:
        approve(session=session, actor=_actor(session, "boss"), version_id=draft, now=NOW)
    with write_session(db_engine) as session:
        copy = rollback_to(
            session=session,
            actor=_actor(session, "mary"),
            version_id=ids["v1"],
            rationale="Version 2 starved the SDRs",
            now=NOW + timedelta(days=7),
        )
        copy_id = int(copy.id or 0)
        assert (copy.number, copy.status, copy.threshold, copy.based_on_id) == (3, "draft", 40, ids["v1"])
    assert _status(db_engine) == {1: "retired", 2: "active", 3: "draft"}
    with write_session(db_engine) as session:
        approve(
            session=session, actor=_actor(session, "boss"), version_id=copy_id, now=NOW + timedelta(days=8)
        )
    assert _status(db_engine) == {1: "retired", 2: "retired", 3: "active"}
    with read_session(db_engine) as session:
        listed = versions(session)
        assert [v.number for v in listed] == [3, 2, 1]
        three = listed[0]
        assert [(r.attribute, r.operator, r.value, r.points) for r in three.criteria.rules] == [
            (r.attribute, r.operator, r.value, r.points) for r in V1_RULES
        ]
        assert (three.based_on_number, three.proposed_by, three.approved_by) == (1, "Mary", "Boss")
        assert activation_dates(session) == [
            (date(2026, 1, 5), 1),
            (date(2026, 11, 23), 2),
            (date(2026, 12, 1), 3),
        ]


def test_a_rollback_needs_a_marketer(db_engine: Engine) -> None:
    ids = _company(db_engine)
    with pytest.raises(AccessDenied), write_session(db_engine) as session:
        rollback_to(session=session, actor=_actor(session, "boss"), version_id=ids["v1"], rationale="back")
    assert _denied(db_engine) == [("criteria.propose", "boss")]


@pytest.mark.parametrize(
    ("rules", "threshold", "rationale", "message"),
    [
        (V2_RULES, 50, "  ", "rationale"),
        ((), 50, "why", "at least one rule"),
        ((Rule("industry", "eq", "  ", 10),), 50, "why", "needs a value"),
        ((Rule("page_views", "gte", -1, 10),), 50, "why", "0 or more"),
    ],
)
def test_a_proposal_is_checked_before_it_is_written(
    db_engine: Engine, rules: tuple[Rule, ...], threshold: int, rationale: str, message: str
) -> None:
    _company(db_engine)
    with pytest.raises(CriteriaRefused, match=message), write_session(db_engine) as session:
        propose_version(
            session=session,
            actor=_actor(session, "mark"),
            rules=rules,
            threshold=threshold,
            rationale=rationale,
        )
    assert _status(db_engine) == {1: "active"}


# ---------------------------------------------------------------- immutability


def test_an_active_versions_rules_and_threshold_cannot_change(db_engine: Engine) -> None:
    ids = _company(db_engine)
    before = _status(db_engine)

    def change_points(session: Session) -> None:
        rule = session.exec(select(CriteriaRule).where(CriteriaRule.version_id == ids["v1"])).first()
        assert rule is not None
        rule.points = 99
        session.add(rule)

    def delete_rule(session: Session) -> None:
        rule = session.exec(select(CriteriaRule).where(CriteriaRule.version_id == ids["v1"])).first()
        session.delete(rule)

    def add_rule(session: Session) -> None:
        session.add(
            CriteriaRule(version_id=ids["v1"], attribute="country", operator="eq", value="FR", points=5)
        )

    def change_threshold(session: Session) -> None:
        version = session.get(CriteriaVersion, ids["v1"])
        assert version is not None
        version.threshold = 10
        session.add(version)

    for change in (change_points, delete_rule, add_rule, change_threshold):
        with pytest.raises(VersionImmutable), write_session(db_engine) as session:
            change(session)
    assert _status(db_engine) == before
    with read_session(db_engine) as session:
        rules = session.exec(select(CriteriaRule).order_by(col(CriteriaRule.id))).all()
        assert [(r.attribute, r.points) for r in rules] == [("industry", 30), ("page_views", 20)]
        version = session.get(CriteriaVersion, ids["v1"])
        assert version is not None and version.threshold == 40
