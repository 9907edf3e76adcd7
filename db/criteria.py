"""Targeting criteria versions as a signed-off workflow: marketing proposes, a sales manager approves.

A version is a draft until a sales manager other than its proposer approves it; approving activates it
(the version in force before is retired) and re-scores the leads not yet handed to sales, of which only
those created in the NEW_LEAD_DAYS (30) before the approval become MQLs (see rescore_new_leads). Either
side may comment on a version or reject a draft. A version's rules are never edited: a change, a rollback
too, is always a new version that goes through the same approval. Every write is audited; every refusal
of a role goes through db.access.deny (logged, then AccessDenied).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import String, bindparam, case, cast, event, func, inspect, text, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from core.attributes import catalogue, entries, rule_problem, whole_count
from core.criteria import (
    COUNT_ATTRIBUTES,
    LEAD_FIELDS,
    NUMBER_OPERATORS,
    TEXT_ATTRIBUTES,
    Criteria,
    Rule,
    score_leads,
)
from db import alerts, audit, clock
from db.access import Actor, Operator, deny, person
from db.attributes import LEAD_FIELD_SCHEMA, attribute_catalogue, decode_attributes
from db.models import (
    CriteriaComment,
    CriteriaRule,
    CriteriaStatus,
    CriteriaVersion,
    Lead,
    LeadRating,
    Role,
    User,
)

MAX_TEXT = 4000
# Approving a version makes MQLs only of the never-handed leads created in these days before it: an older
# lead the new rules happen to qualify would otherwise be an MQL dated the approval day, a spike in the
# MQL flow that is the definition changing, not new demand.
NEW_LEAD_DAYS = 30
MARKETING = frozenset({Role.marketer})
SALES_MANAGERS = frozenset({Role.sales_manager})
EITHER_SIDE = MARKETING | SALES_MANAGERS
SCORED_COLUMNS = ("id", *TEXT_ATTRIBUTES, *COUNT_ATTRIBUTES)
SCORED_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    **{name: pl.String() for name in TEXT_ATTRIBUTES},
    **{name: pl.Int64() for name in COUNT_ATTRIBUTES},
}


class CriteriaRefused(ValueError):
    """The request cannot be done as asked; the message is fit to show the person who asked."""


@dataclass(frozen=True)
class CommentView:
    author: str
    kind: str  # comment, reject, approve
    text: str
    at: datetime


@dataclass(frozen=True)
class VersionView:
    """One version as the Targeting criteria page shows it, people as names."""

    id: int
    number: int
    status: str
    criteria: Criteria
    rationale: str | None
    based_on_number: int | None
    proposed_by_id: int | None
    proposed_by: str | None
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    activated_at: datetime | None
    retired_at: datetime | None
    comments: tuple[CommentView, ...]


# ---------------------------------------------------------------- versions are written once


class VersionImmutable(CriteriaRefused):
    """A version's rules or threshold were about to change; a change is always a new version."""


def _gains_rules(session: Session, rule: CriteriaRule) -> bool:
    """A new rule on a version that already has rules (a version is given all its rules at once)."""
    table = CriteriaRule.__table__  # type: ignore[attr-defined]
    query = select(func.count()).select_from(table).where(table.c.version_id == rule.version_id)
    return int(session.connection().execute(query).scalar_one()) > 0


@event.listens_for(Session, "before_flush")
def _keep_versions_immutable(session: Session, _context: object, _instances: object) -> None:
    for rule in [*session.dirty, *session.deleted]:
        if isinstance(rule, CriteriaRule) and (rule in session.deleted or session.is_modified(rule)):
            raise VersionImmutable("A criteria version's rules never change: propose a new version.")
    for version in session.dirty:
        if isinstance(version, CriteriaVersion) and inspect(version).attrs.threshold.history.deleted:
            raise VersionImmutable("A criteria version's threshold never changes: propose a new version.")
    for rule in session.new:
        if isinstance(rule, CriteriaRule) and _gains_rules(session, rule):
            raise VersionImmutable("A criteria version's rules never change: propose a new version.")


# ---------------------------------------------------------------- checks


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _may(actor: Actor | None, roles: frozenset[Role], *, operator: bool) -> bool:
    if isinstance(actor, Operator):
        return operator
    return isinstance(actor, User) and actor.active and actor.role in roles


def _authorize(
    session: Session,
    actor: Actor,
    roles: frozenset[Role],
    action: str,
    object_id: int | None,
    *,
    operator: bool = False,
) -> User | None:
    """The acting person (None for the command line) when `actor` may do `action`; else a logged denial."""
    if _may(actor, roles, operator=operator):
        return person(actor)
    if isinstance(actor, Operator):
        raise CriteriaRefused("This needs a person's name on it: sign in to Huddle to do it.")
    deny(session=session, actor=person(actor), action=action, object_id=object_id)
    raise AssertionError("deny always raises")  # pragma: no cover


def _required_text(text: str | None, what: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise CriteriaRefused(f"Write {what} first.")
    if len(cleaned) > MAX_TEXT:
        raise CriteriaRefused(f"The {what} is {len(cleaned):,} characters; keep it under {MAX_TEXT:,}.")
    return cleaned


def _whole_counts(attribute: str, values: Sequence[Any]) -> list[int]:
    counts = [whole_count(v) for v in values]
    if any(count is None for count in counts):
        raise CriteriaRefused(f"{attribute} compares counts: give a whole number of 0 or more.")
    return [int(count or 0) for count in counts]


def _checked_value(attribute: str, operator: str, value: Any, kind: str = "text") -> Any:
    """The rule's value cleaned for an attribute of `kind` (the catalogue's "number" or "text"): whole
    numbers for the lead's counts, numbers for a number rule, trimmed text for a text one."""
    if attribute in COUNT_ATTRIBUTES and operator in ("gte", "lte", "eq", "ne"):
        return _whole_counts(attribute, [value])[0]
    if attribute in COUNT_ATTRIBUTES and operator in ("in", "between"):
        return _whole_counts(attribute, list(value))
    if operator == "between":
        return [value[0], value[1]]
    if operator in NUMBER_OPERATORS:
        return value
    if operator == "in":
        values = [str(v).strip() for v in value if str(v).strip()]
        if not values:
            raise CriteriaRefused(f"The rule on {attribute} needs at least one value.")
        return values
    if not str(value).strip():
        raise CriteriaRefused(f"The rule on {attribute} needs a value.")
    return str(value).strip()


def lead_field_catalogue() -> pl.DataFrame:
    """The catalogue of the lead's own fields alone, without reading a lead: each always offered, with
    its fixed kind (what validated_rules checks against when no catalogue is given)."""
    return catalogue(pl.DataFrame(schema={n: d for n, d in LEAD_FIELD_SCHEMA.items() if n != "id"}), leads=0)


def validated_rules(rules: Sequence[Rule], catalogue: pl.DataFrame | None = None) -> tuple[Rule, ...]:
    """The rules, checked again through core.criteria.Rule and against the attribute catalogue (an
    attribute it offers, an operator and value of its kind), their values cleaned; CriteriaRefused if
    not. Without a catalogue only the lead's own fields are known."""
    if not rules:
        raise CriteriaRefused("A version needs at least one rule.")
    known = entries(lead_field_catalogue() if catalogue is None else catalogue)
    checked = []
    for rule in rules:
        try:
            entry = known.get(rule.attribute)
            problem = rule_problem(rule, entry)
            if problem is not None:
                raise CriteriaRefused(f"Rule not valid: {problem}")
            Rule(rule.attribute, rule.operator, rule.value, rule.points)
            value = _checked_value(rule.attribute, rule.operator, rule.value, str((entry or {}).get("kind")))
            checked.append(Rule(rule.attribute, rule.operator, value, int(rule.points)))
        except CriteriaRefused:
            raise
        except (TypeError, ValueError) as error:
            raise CriteriaRefused(f"Rule not valid: {error}") from error
    return tuple(checked)


def rules_catalogue(session: Session, rules: Sequence[Rule]) -> pl.DataFrame:
    """The catalogue entries of the attributes `rules` read: the lead's own fields without reading a
    lead, imported attributes from the data as it stands."""
    imported = [r.attribute for r in rules if isinstance(r.attribute, str) and r.attribute not in LEAD_FIELDS]
    if not imported:
        return lead_field_catalogue()
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    found = attribute_catalogue(engine, names=list(dict.fromkeys(imported)))
    return pl.concat([lead_field_catalogue(), found.filter(~pl.col("name").is_in(list(LEAD_FIELDS)))])


def _version(session: Session, version_id: int, *, lock: bool = False) -> CriteriaVersion:
    # populate_existing: a row this session read before the lock is read again, as it is now.
    query = (
        select(CriteriaVersion)
        .where(CriteriaVersion.id == version_id)
        .execution_options(populate_existing=True)
    )
    found = session.exec(query.with_for_update() if lock else query).first()
    if found is None:
        raise CriteriaRefused("That criteria version does not exist.")
    return found


def _draft(session: Session, version_id: int, *, lock: bool = False) -> CriteriaVersion:
    version = _version(session, version_id, lock=lock)
    if version.status != CriteriaStatus.draft:
        raise CriteriaRefused(f"Version {version.number} is {version.status.value}, no longer a draft.")
    return version


# ---------------------------------------------------------------- proposing


def _next_number(session: Session) -> int:
    return int(session.exec(select(func.coalesce(func.max(CriteriaVersion.number), 0))).one()) + 1


def _add_rules(session: Session, version_id: int, rules: Sequence[Rule]) -> None:
    session.add_all(
        CriteriaRule(
            version_id=version_id, attribute=r.attribute, operator=r.operator, value=r.value, points=r.points
        )
        for r in rules
    )


def propose_version(
    *,
    session: Session,
    actor: Actor,
    rules: Sequence[Rule],
    threshold: int,
    rationale: str,
    based_on_id: int | None = None,
    now: datetime | None = None,
) -> CriteriaVersion:
    """A new draft version (the next number) of these rules and threshold, with the reason for it."""
    person = _authorize(session, actor, MARKETING, "criteria.propose", based_on_id, operator=True)
    checked = validated_rules(rules, rules_catalogue(session, rules) if rules else None)
    _lock_versions(session)  # two proposals at once on PostgreSQL would otherwise take the same number
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise CriteriaRefused("The threshold is a whole number of points.")
    reason = _required_text(rationale, "a rationale")
    if based_on_id is not None:
        _version(session, based_on_id)
    version = CriteriaVersion(
        number=_next_number(session),
        status=CriteriaStatus.draft,
        threshold=threshold,
        rationale=reason,
        based_on_id=based_on_id,
        proposed_by_id=person.id if person else None,
        proposed_at=_utc(now or clock.now()),
    )
    session.add(version)
    session.flush()
    _add_rules(session, int(version.id or 0), checked)
    based_on = f" based_on={based_on_id}" if based_on_id is not None else ""
    _record(
        session, actor, "criteria.propose", version, f"rules={len(checked)} threshold={threshold}{based_on}"
    )
    session.flush()
    alerts.draft_waiting(session, version, version.proposed_at)
    return version


def rollback_to(
    *, session: Session, actor: Actor, version_id: int, rationale: str, now: datetime | None = None
) -> CriteriaVersion:
    """A new draft copying an earlier version's rules and threshold; it needs the same approval."""
    _authorize(session, actor, MARKETING, "criteria.propose", version_id, operator=True)
    earlier = _version(session, version_id)
    rows = session.exec(select(CriteriaRule).where(CriteriaRule.version_id == version_id)).all()
    rules = [Rule(r.attribute, r.operator, r.value, r.points) for r in rows]
    return propose_version(
        session=session,
        actor=actor,
        rules=rules,
        threshold=earlier.threshold,
        rationale=rationale,
        based_on_id=version_id,
        now=now,
    )


# ---------------------------------------------------------------- comments, rejection


def _record(session: Session, actor: Actor, action: str, version: CriteriaVersion, detail: str) -> None:
    audit.record(
        session=session,
        action=action,
        actor=person(actor),
        actor_username=actor.username,
        object_type="criteria_version",
        object_id=version.id,
        detail=f"version={version.number} {detail}".strip(),
    )


def _add_comment(session: Session, version_id: int, author: User, kind: str, text: str, at: datetime) -> None:
    session.add(
        CriteriaComment(version_id=version_id, author_id=int(author.id or 0), kind=kind, text=text, at=at)
    )


def comment(
    *, session: Session, actor: Actor, version_id: int, text: str, now: datetime | None = None
) -> CriteriaComment:
    """A comment on any version, from marketing or a sales manager."""
    person = _authorize(session, actor, EITHER_SIDE, "criteria.comment", version_id)
    assert person is not None
    version = _version(session, version_id)
    entry = CriteriaComment(
        version_id=version_id,
        author_id=int(person.id or 0),
        kind="comment",
        text=_required_text(text, "a comment"),
        at=_utc(now or clock.now()),
    )
    session.add(entry)
    _record(session, actor, "criteria.comment", version, "")
    session.flush()
    alerts.draft_decision(
        session, version, decision="comment", by=person, text=entry.text, event=str(entry.id), now=entry.at
    )
    return entry


def reject(
    *, session: Session, actor: Actor, version_id: int, reason: str, now: datetime | None = None
) -> CriteriaVersion:
    """Either side turns a draft down; the reason is kept as a comment."""
    person = _authorize(session, actor, EITHER_SIDE, "criteria.reject", version_id)
    assert person is not None
    why = _required_text(reason, "the reason")
    version = _draft(session, version_id, lock=True)
    version.status = CriteriaStatus.rejected
    session.add(version)
    _add_comment(session, version_id, person, "reject", why, _utc(now or clock.now()))
    _record(session, actor, "criteria.reject", version, "")
    session.flush()
    moment = _utc(now or clock.now())
    alerts.draft_decision(session, version, decision="reject", by=person, text=why, event="", now=moment)
    return version


# ---------------------------------------------------------------- approval and activation


def approve(
    *, session: Session, actor: Actor, version_id: int, note: str | None = None, now: datetime | None = None
) -> CriteriaVersion:
    """A sales manager signs off a draft someone else proposed: it becomes the version in force, the one
    before is retired, and the leads not yet handed to sales are re-scored under it."""
    person = _authorize(session, actor, SALES_MANAGERS, "criteria.approve", version_id)
    assert person is not None
    moment = _utc(now or clock.now())
    _lock_versions(session)
    version = _draft(session, version_id)
    if version.proposed_by_id == person.id:
        raise CriteriaRefused("You proposed this version: another sales manager has to approve it.")
    version.approved_by_id, version.approved_at = person.id, moment
    _activate(session, version, moment)
    _add_comment(
        session, version_id, person, "approve", (note or "").strip()[:MAX_TEXT] or "Approved", moment
    )
    changed = rescore_new_leads(session, version, moment)
    _record(session, actor, "criteria.approve", version, f"rescored={changed[0]} new_mqls={changed[1]}")
    session.flush()
    alerts.draft_decision(session, version, decision="approve", by=person, text=note, event="", now=moment)
    alerts.new_mqls(session, None, moment)  # the leads the re-score made MQLs, told to their owners
    return version


def _lock_versions(session: Session) -> None:
    """Approvals take turns: on PostgreSQL every version row is locked (they are few), so two managers
    approving two drafts at once cannot leave two versions active. SQLite's write lock already does."""
    session.exec(select(CriteriaVersion.id).order_by(col(CriteriaVersion.id)).with_for_update()).all()


def _activate(session: Session, version: CriteriaVersion, moment: datetime) -> None:
    for old in session.exec(select(CriteriaVersion).where(CriteriaVersion.status == CriteriaStatus.active)):
        old.status, old.retired_at = CriteriaStatus.retired, moment
        session.add(old)
    version.status, version.activated_at = CriteriaStatus.active, moment
    session.add(version)
    session.flush()


def version_criteria(session: Session, version_id: int, threshold: int) -> Criteria:
    rows = session.exec(
        select(CriteriaRule).where(CriteriaRule.version_id == version_id).order_by(col(CriteriaRule.id))
    ).all()
    rules = tuple(Rule(r.attribute, r.operator, r.value, r.points, rule_id=r.id) for r in rows)
    return Criteria(rules=rules, threshold=threshold)


def _not_yet_with_sales(session: Session, since: datetime, names: Sequence[str] = ()) -> pl.DataFrame:
    """The leads never handed to sales (no MQL, SQL, opportunity or close recorded): the targeting
    columns, the imported attributes among `names` (typed as db.attributes.load_scoring_frame types
    them), and `recent` (1 when created on or after `since`, else 0), read in the caller's transaction."""
    table = Lead.__table__  # type: ignore[attr-defined]
    recent = case((table.c.created_at >= since, 1), else_=0).label("recent")
    imported = [name for name in names if name not in LEAD_FIELDS]
    objects = [cast(table.c.attributes, String).label("attributes")] if imported else []
    columns: list[Any] = [*(table.c[name] for name in SCORED_COLUMNS), recent, *objects]
    query = select(*columns).where(
        table.c.mql_at.is_(None),
        table.c.sql_at.is_(None),
        table.c.opportunity_at.is_(None),
        table.c.closed_at.is_(None),
    )
    rows = session.connection().execute(query).all()
    schema = {**SCORED_SCHEMA, "recent": pl.Int64(), **({"attributes": pl.String()} if imported else {})}
    frame = pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")
    if not imported:
        return frame
    attributes = decode_attributes(frame.select("id", "attributes"), imported)
    return frame.drop("attributes").join(attributes, on="id", how="left", maintain_order="left")


def rescore_new_leads(session: Session, version: CriteriaVersion, moment: datetime) -> tuple[int, int]:
    """Score the leads not yet handed to sales under `version` (score, rules fired, version recorded); of
    those reaching its threshold, the ones created in the NEW_LEAD_DAYS before `moment` become MQLs at
    `moment`, older ones do not. MQLs of earlier versions keep their MQL: history is not rewritten. The
    imported attributes the version's rules read are read with the leads; a rule on an attribute no
    lead has scores 0. Returns (re-scored, new MQLs)."""
    criteria = version_criteria(session, int(version.id or 0), version.threshold)
    frame = _not_yet_with_sales(session, moment - timedelta(days=NEW_LEAD_DAYS), criteria.attributes())
    if frame.is_empty():
        return 0, 0
    scored = (
        score_leads(frame.lazy(), criteria)
        .with_columns((pl.col("is_mql") & (pl.col("recent") == 1)).alias("is_mql"))
        .select("id", "score", "fired_rules", "is_mql")
        .collect()
    )
    if session.get_bind().dialect.name == "postgresql":
        _write_scores_postgres(session, scored, int(version.id or 0), moment)
    else:
        _write_scores(session, scored, int(version.id or 0), moment)
    return scored.height, int(scored["is_mql"].sum())


def _write_scores(session: Session, scored: pl.DataFrame, version_id: int, moment: datetime) -> None:
    """One UPDATE by id, executed for many rows (SQLite runs these in-process, fast)."""
    table = Lead.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            score=bindparam("b_score"),
            fired_rule_ids=bindparam("b_fired"),
            criteria_version_id=version_id,
            mql_at=bindparam("b_mql_at"),
            updated_at=moment,
        )
    )
    rows = [
        {"b_id": lead_id, "b_score": score, "b_fired": fired, "b_mql_at": moment if is_mql else None}
        for lead_id, score, fired, is_mql in scored.iter_rows()
    ]
    session.connection().execute(statement, rows)


POSTGRES_UPDATE = text("""
UPDATE leads AS l
SET score = v.score, fired_rule_ids = CAST(v.fired AS json), criteria_version_id = :version_id,
    mql_at = CASE WHEN v.is_mql THEN CAST(:moment AS timestamptz) END, updated_at = :moment
FROM unnest(CAST(:ids AS bigint[]), CAST(:scores AS bigint[]), CAST(:fired AS text[]),
            CAST(:is_mql AS boolean[])) AS v(id, score, fired, is_mql)
WHERE l.id = v.id
""")
POSTGRES_CHUNK = 50_000


def _write_scores_postgres(session: Session, scored: pl.DataFrame, version_id: int, moment: datetime) -> None:
    """On PostgreSQL, a statement per 50,000 leads joined to arrays of the new values: a round trip per
    row would make a million-lead approval take minutes."""
    fired = scored.select(
        pl.format("[{}]", pl.col("fired_rules").cast(pl.List(pl.String)).list.join(",")).alias("fired")
    )["fired"]
    for start in range(0, scored.height, POSTGRES_CHUNK):
        part = scored.slice(start, POSTGRES_CHUNK)
        session.connection().execute(
            POSTGRES_UPDATE,
            {
                "version_id": version_id,
                "moment": moment,
                "ids": part["id"].to_list(),
                "scores": part["score"].to_list(),
                "fired": fired.slice(start, POSTGRES_CHUNK).to_list(),
                "is_mql": part["is_mql"].to_list(),
            },
        )


# ---------------------------------------------------------------- reading


def _names(session: Session) -> dict[int, str]:
    return {int(i or 0): n for i, n in session.exec(select(User.id, User.name)).all()}


def _comments(session: Session, names: dict[int, str]) -> dict[int, list[CommentView]]:
    found: dict[int, list[CommentView]] = {}
    rows = session.exec(select(CriteriaComment).order_by(col(CriteriaComment.at), col(CriteriaComment.id)))
    for c in rows:
        found.setdefault(c.version_id, []).append(
            CommentView(names.get(c.author_id, "someone"), c.kind, c.text, _utc(c.at))
        )
    return found


def versions(session: Session) -> list[VersionView]:
    """Every version, newest first, with its rules, comments and people's names."""
    names = _names(session)
    comments = _comments(session, names)
    rows = session.exec(select(CriteriaVersion).order_by(col(CriteriaVersion.number).desc())).all()
    numbers = {v.id: v.number for v in rows}
    return [
        VersionView(
            id=int(v.id or 0),
            number=v.number,
            status=v.status.value,
            criteria=version_criteria(session, int(v.id or 0), v.threshold),
            rationale=v.rationale,
            based_on_number=numbers.get(v.based_on_id) if v.based_on_id else None,
            proposed_by_id=v.proposed_by_id,
            proposed_by=names.get(v.proposed_by_id) if v.proposed_by_id else None,
            proposed_at=_utc(v.proposed_at),
            approved_by=names.get(v.approved_by_id) if v.approved_by_id else None,
            approved_at=_optional_utc(v.approved_at),
            activated_at=_optional_utc(v.activated_at),
            retired_at=_optional_utc(v.retired_at),
            comments=tuple(comments.get(int(v.id or 0), [])),
        )
        for v in rows
    ]


def _optional_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else _utc(moment)


def activation_dates(session: Session) -> list[tuple[date, int]]:
    """(day it became active, version number) for every version that was ever in force, oldest first."""
    rows = session.exec(
        select(CriteriaVersion.activated_at, CriteriaVersion.number)
        .where(col(CriteriaVersion.activated_at).is_not(None))
        .order_by(col(CriteriaVersion.activated_at))
    ).all()
    return [(_utc(at).date(), number) for at, number in rows if at is not None]


def evidence_stamp(session: Session) -> tuple[int, int, str]:
    """How many leads and ratings there are and when a rating last changed: what tuning learns from, as a
    small value a cache can be keyed by (a new rating or import moves it)."""
    leads = session.exec(select(func.count()).select_from(Lead)).one()
    ratings, changed = session.exec(select(func.count(), func.max(LeadRating.updated_at))).one()
    return int(leads), int(ratings), str(changed or "")
