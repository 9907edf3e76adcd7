"""Who may do what, table-driven, on SQLite and PostgreSQL: every service in db/ that takes an actor is
called with no actor, as the command line, as each role and as a disabled admin.

A call the policy refuses is refused by the service itself (AccessDenied), its denial is in the audit log,
and nothing else in the database changed; a call it allows is done and leaves its own audit entry. The
tables of who may do what are written out by hand, not derived from db.access.POLICY, so they check it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

import db
import db.importing
import db.passwords
from core.criteria import Rule
from db.access import NOBODY, OPERATOR, POLICY, AccessDenied, Action, Actor
from db.action_items import ActionItemRefused, add_item, close_item, reopen_item
from db.alerts import AlertsRefused, alert_defaults, my_alert_choices, set_alert_default, set_my_alert
from db.audit_search import audit_action_families, search_audit
from db.content import (
    AssetIn,
    ContentRefused,
    add_asset,
    archive_asset,
    edit_asset,
    log_use,
    mark_reviewed,
    rate_asset,
    replace_content,
    request_content,
    triage_request,
    unvote_request,
    vote_request,
)
from db.criteria import CriteriaRefused, approve, comment, propose_version, reject, rollback_to
from db.delivery import delivery_overview, failed_messages, retry
from db.engine import read_session, write_session
from db.handoff import HandoffAnswer, answer_handoff
from db.importing.history import recent_runs
from db.importing.mapping import parse_mapping
from db.importing.run import RunOptions, import_csv, import_maven, import_olist
from db.mappings import save_mapping, saved_mappings
from db.models import (
    ActionItem,
    AlertKind,
    AuditLog,
    Cadence,
    Channel,
    ContentAsset,
    ContentKind,
    ContentRequest,
    ContentRequestStatus,
    ContentRequestVote,
    ContentVersion,
    DataSource,
    Lead,
    Role,
    Team,
    User,
    UserCreate,
    utcnow,
)
from db.quotas import parse_quota_csv, write_quotas
from db.ratings import RatingIn, rate_lead
from db.sla import set_agreement
from db.users import (
    UserError,
    change_own_password,
    change_role,
    change_team,
    create_user,
    disable_user,
    list_teams,
    list_users,
    log_out,
    reset_password,
    set_password,
)

PASSWORD = "correct-horse-battery"
# Hashed once, cheaply: a bcrypt check costs what the hash's rounds say, whatever they are.
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
WEEK = "2026-W47"
MAPPING = parse_mapping('[source]\nname = "crm"\n[columns]\nexternal_id = "id"\ncreated_date = "created"\n')
CSV = b"id,created\nA-1,2026-01-05\n"
EVERYONE = frozenset(Role)
MANAGERS_AND_ADMINS = frozenset({Role.sales_manager, Role.admin})
ADMINS = frozenset({Role.admin})
MARKETING = frozenset({Role.marketer, Role.admin})  # who keeps sales content and answers its requests
SELLERS = frozenset({Role.rep, Role.sales_manager})  # who use and rate it, on their own leads
ASKERS = frozenset({Role.rep, Role.sales_manager, Role.admin})  # who request it and vote
ASSET = AssetIn(title="Case study", kind=ContentKind.case_study, description=None, stages=(), personas=(),
                industries=(), company_sizes=(), owner_id=None, last_reviewed_on=None)  # fmt: skip


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """New passwords (set, reset, changed) hashed with bcrypt's fewest rounds: the cells run by hundreds."""
    monkeypatch.setattr(db.passwords, "BCRYPT_ROUNDS", 4)


@dataclass(frozen=True)
class World:
    """What the calls act on: "target" (a rep of team North), a lead "actor" owns, a draft criteria
    version "proposer" made, an open and a closed action item of "target"'s, an asset "proposer" added,
    and two content requests of "target"'s (one "actor" has voted for)."""

    lead_id: int
    draft_id: int
    open_item_id: int
    closed_item_id: int
    asset_id: int
    request_id: int
    voted_request_id: int


def _world(engine: Engine, actor_role: Role, *, active: bool = True) -> World:
    with write_session(engine) as session:
        north = Team(name="North")
        session.add_all([north, DataSource(name="crm", label="CRM", stages=["created", "mql"])])
        session.flush()
        actor = User(username="actor", name="Actor", role=actor_role, team_id=north.id, active=active,
                     password_hash=PASSWORD_HASH)  # fmt: skip
        target = User(username="target", name="Target", role=Role.rep, team_id=north.id)
        proposer = User(username="proposer", name="Proposer", role=Role.marketer)
        session.add_all([actor, target, proposer])
        session.flush()
        now = utcnow()
        lead = Lead(source_system="crm", external_id="L-1", created_at=now, mql_at=now, owner_id=actor.id,
                    team_id=north.id)  # fmt: skip
        items = [
            ActionItem(title=title, owner_id=int(target.id or 0), meeting_week=WEEK, created_by_id=int(proposer.id or 0),
                       created_at=now, closed_at=closed, closed_by_id=proposer.id if closed else None)
            for title, closed in (("open", None), ("closed", now))
        ]  # fmt: skip
        asset = ContentAsset(title="Deck", kind=ContentKind.deck, created_by_id=proposer.id, created_at=now,
                             updated_at=now)  # fmt: skip
        asks = [ContentRequest(what=what, requested_by_id=int(target.id or 0), created_at=now, updated_at=now)
                for what in ("a battle card", "a case study")]  # fmt: skip
        session.add_all([lead, *items, asset, *asks])
        session.flush()
        session.add_all([
            ContentVersion(asset_id=int(asset.id or 0), version=1, link="https://example.com/deck", created_at=now),
            ContentRequestVote(request_id=int(asks[1].id or 0), user_id=int(actor.id or 0), created_at=now),
        ])  # fmt: skip
        draft = propose_version(
            session=session,
            actor=proposer,
            rules=[Rule("source", "eq", "web", 10)],
            threshold=5,
            rationale="a first version",
        )
        session.flush()
        return World(int(lead.id or 0), int(draft.id or 0), int(items[0].id or 0), int(items[1].id or 0),
                     int(asset.id or 0), int(asks[0].id or 0), int(asks[1].id or 0))  # fmt: skip


Call = Callable[[Session, Actor], object]


def _in_one_unit(call: Call) -> Callable[[Engine, World, Actor], object]:
    """A service that works in the caller's unit of work, called in one."""

    def run(engine: Engine, _world: World, actor: Actor) -> object:
        with write_session(engine) as session:
            attached = session.get(User, actor.id) if isinstance(actor, User) else actor
            return call(session, attached)  # type: ignore[arg-type]

    return run


def _on_world(call: Callable[[Session, Actor, World], object]) -> Callable[[Engine, World, Actor], object]:
    def run(engine: Engine, world: World, actor: Actor) -> object:
        return _in_one_unit(lambda s, a: call(s, a, world))(engine, world, actor)

    return run


@dataclass(frozen=True)
class Write:
    run: Callable[[Engine, World, Actor], object]
    allowed: frozenset[Role]  # written out by hand
    audited: str  # the audit entry of a call that was done
    denied: str  # the audit entry's action when refused
    operator: type[Exception] | None = None  # what the command line is refused with; None: it may


WRITES: dict[str, Write] = {
    "set_my_alert": Write(
        _in_one_unit(lambda s, a: set_my_alert(session=s, actor=a, kind=AlertKind.weekly_report, channel=Channel.email,
                                               enabled=True, cadence=Cadence.instant)),
        EVERYONE, "alerts.change", "alerts.own", operator=AlertsRefused,
    ),
    "set_alert_default": Write(
        _in_one_unit(lambda s, a: set_alert_default(session=s, actor=a, role=Role.rep, kind=AlertKind.new_mql,
                                                    channel=Channel.chat, enabled=True, cadence=Cadence.digest)),
        ADMINS, "alerts.default", "alerts.defaults",
    ),
    "create_user": Write(
        _in_one_unit(lambda s, a: create_user(session=s, actor=a, user_in=UserCreate(username="newbie", name="N"))),
        ADMINS, "user.create", "users.manage",
    ),
    "disable_user": Write(
        _in_one_unit(lambda s, a: disable_user(session=s, actor=a, username="target")),
        ADMINS, "user.disable", "users.manage",
    ),
    "change_role": Write(
        _in_one_unit(lambda s, a: change_role(session=s, actor=a, username="target", role=Role.executive)),
        ADMINS, "user.change_role", "users.manage",
    ),
    "change_team": Write(
        _in_one_unit(lambda s, a: change_team(session=s, actor=a, username="target", team_name="East")),
        ADMINS, "user.change_team", "users.manage",
    ),
    "set_password": Write(
        _in_one_unit(lambda s, a: set_password(session=s, actor=a, username="target", password="another-good-one")),
        ADMINS, "user.set_password", "users.manage",
    ),
    "reset_password": Write(
        _in_one_unit(lambda s, a: reset_password(session=s, actor=a, username="target")),
        ADMINS, "user.reset_password", "users.manage",
    ),
    "change_own_password": Write(
        _in_one_unit(lambda s, a: change_own_password(session=s, actor=a, current=PASSWORD, new="mine-and-new-1")),
        EVERYONE, "user.change_own_password", "account.own", operator=UserError,
    ),
    "log_out": Write(
        _in_one_unit(lambda s, a: log_out(session=s, actor=a)), EVERYONE, "logout", "account.own", operator=UserError
    ),
    "rate_lead": Write(
        _on_world(lambda s, a, w: rate_lead(session=s, actor=a, rating=RatingIn(w.lead_id, 4))),
        frozenset({Role.rep, Role.sales_manager}), "rating.write", "rating.write",
    ),
    "answer_handoff": Write(
        _on_world(lambda s, a, w: answer_handoff(session=s, actor=a, lead_id=w.lead_id, answer=HandoffAnswer.accept,
                                                 reason=None, come_back_on=None, now=utcnow())),
        frozenset({Role.rep, Role.sales_manager}), "handoff.answer", "handoff.answer",
    ),
    "propose_version": Write(
        _in_one_unit(lambda s, a: propose_version(session=s, actor=a, rules=[Rule("source", "eq", "ads", 5)],
                                                  threshold=5, rationale="more ads")),
        frozenset({Role.marketer}), "criteria.propose", "criteria.propose",
    ),
    "rollback_to": Write(
        _on_world(lambda s, a, w: rollback_to(session=s, actor=a, version_id=w.draft_id, rationale="back")),
        frozenset({Role.marketer}), "criteria.propose", "criteria.propose",
    ),
    "comment": Write(
        _on_world(lambda s, a, w: comment(session=s, actor=a, version_id=w.draft_id, text="why web?")),
        frozenset({Role.marketer, Role.sales_manager}), "criteria.comment", "criteria.comment",
        operator=CriteriaRefused,
    ),
    "reject": Write(
        _on_world(lambda s, a, w: reject(session=s, actor=a, version_id=w.draft_id, reason="too broad")),
        frozenset({Role.marketer, Role.sales_manager}), "criteria.reject", "criteria.reject",
        operator=CriteriaRefused,
    ),
    "approve": Write(
        _on_world(lambda s, a, w: approve(session=s, actor=a, version_id=w.draft_id)),
        frozenset({Role.sales_manager}), "criteria.approve", "criteria.approve", operator=CriteriaRefused,
    ),
    "set_agreement": Write(
        _in_one_unit(lambda s, a: set_agreement(session=s, actor=a, team_id=None, mqls_per_month=300,
                                                follow_up_hours=8, rating_days=2, acceptance_target=0.5)),
        MANAGERS_AND_ADMINS, "sla.set", "sla.set",
    ),
    "add_item": Write(
        _in_one_unit(lambda s, a: add_item(session=s, actor=a, title="call them", due_date=None, meeting_week=WEEK,
                                           owner_id=_id(s, "target"))),
        EVERYONE, "action_items.add", "action_items.add", operator=ActionItemRefused,
    ),
    "close_item": Write(
        _on_world(lambda s, a, w: close_item(session=s, actor=a, item_id=w.open_item_id)),
        MANAGERS_AND_ADMINS, "action_items.close", "action_items.close_any", operator=ActionItemRefused,
    ),
    "reopen_item": Write(
        _on_world(lambda s, a, w: reopen_item(session=s, actor=a, item_id=w.closed_item_id)),
        MANAGERS_AND_ADMINS, "action_items.reopen", "action_items.close_any", operator=ActionItemRefused,
    ),
    "write_quotas": Write(
        _in_one_unit(lambda s, a: write_quotas(session=s, actor=a, rows=parse_quota_csv(
            "rep,team,period,amount\ntarget,,2026-11,1000\n"))),
        ADMINS, "quotas.import", "quotas.set",
    ),
    "save_mapping": Write(
        _in_one_unit(lambda s, a: save_mapping(session=s, actor=a, name="CRM export", mapping=MAPPING)),
        ADMINS, "mapping.save", "import.run",
    ),
    "retry": Write(
        _in_one_unit(lambda s, a: retry(session=s, actor=a, ids=[1], now=utcnow())),
        ADMINS, "delivery.retry", "delivery.retry",
    ),
    # Sales content (db/content.py).
    "add_asset": Write(
        _in_one_unit(lambda s, a: add_asset(session=s, actor=a, asset=ASSET, link="https://example.com/cs",
                                            file=None, now=utcnow())),
        MARKETING, "content.add", "content.manage",
    ),
    "edit_asset": Write(
        _on_world(lambda s, a, w: edit_asset(session=s, actor=a, asset_id=w.asset_id, asset=ASSET, now=utcnow())),
        MARKETING, "content.edit", "content.manage",
    ),
    "replace_content": Write(
        _on_world(lambda s, a, w: replace_content(session=s, actor=a, asset_id=w.asset_id,
                                                  link="https://example.com/deck-2", file=None, now=utcnow())),
        MARKETING, "content.replace", "content.manage",
    ),
    "mark_reviewed": Write(
        _on_world(lambda s, a, w: mark_reviewed(session=s, actor=a, asset_id=w.asset_id, on=utcnow().date(),
                                                now=utcnow())),
        MARKETING, "content.review", "content.manage",
    ),
    "archive_asset": Write(
        _on_world(lambda s, a, w: archive_asset(session=s, actor=a, asset_id=w.asset_id, now=utcnow())),
        MARKETING, "content.archive", "content.manage",
    ),
    "log_use": Write(
        _on_world(lambda s, a, w: log_use(session=s, actor=a, asset_id=w.asset_id, lead_id=w.lead_id,
                                          now=utcnow())),
        SELLERS, "content.use", "content.use",
    ),
    "rate_asset": Write(
        _on_world(lambda s, a, w: rate_asset(session=s, actor=a, asset_id=w.asset_id, lead_id=w.lead_id, stars=4,
                                             reasons=("won_trust",), note=None, now=utcnow())),
        SELLERS, "content.rate", "content.use",
    ),
    "request_content": Write(
        _in_one_unit(lambda s, a: request_content(session=s, actor=a, what="an ROI one-pager", detail=None,
                                                  kind=None, persona=None, stage=None, industry=None, lead_id=None,
                                                  now=utcnow())),
        ASKERS, "content.request", "content.request", operator=ContentRefused,
    ),
    "vote_request": Write(
        _on_world(lambda s, a, w: vote_request(session=s, actor=a, request_id=w.request_id, now=utcnow())),
        ASKERS, "content.vote", "content.request", operator=ContentRefused,
    ),
    "unvote_request": Write(
        _on_world(lambda s, a, w: unvote_request(session=s, actor=a, request_id=w.voted_request_id,
                                                 now=utcnow())),
        ASKERS, "content.unvote", "content.request", operator=ContentRefused,
    ),
    "triage_request": Write(
        _on_world(lambda s, a, w: triage_request(session=s, actor=a, request_id=w.request_id,
                                                 status=ContentRequestStatus.accepted, reason=None, asset_id=None,
                                                 now=utcnow())),
        MARKETING, "content.triage", "content.triage",
    ),
    # The imports run their own transactions: called with the engine, and the actor in their options.
    "import_csv": Write(
        lambda e, _w, a: import_csv(e, CSV, MAPPING, file_name="leads.csv", options=RunOptions(actor=a)),
        ADMINS, "import.done", "import.run",
    ),
    "import_olist": Write(  # two files without Olist's columns: refused as input, and recorded as such
        lambda e, _w, a: import_olist(e, b"x\n1\n", b"y\n2\n", options=RunOptions(actor=a)),
        ADMINS, "import.refused", "import.run",
    ),
    "import_maven": Write(  # a folder without Maven's files, the same
        lambda e, _w, a: import_maven(e, Path("/no/such/folder"), options=RunOptions(actor=a)),
        ADMINS, "import.refused", "import.run",
    ),
}  # fmt: skip
# Reads that check who is asking (they write only the audit entry of a refusal).
READS: dict[str, tuple[Action, Call]] = {
    "my_alert_choices": (Action.alerts_own, lambda s, a: my_alert_choices(session=s, actor=a)),
    "alert_defaults": (Action.alerts_defaults, lambda s, a: alert_defaults(session=s, actor=a)),
    "list_users": (Action.users_read, lambda s, a: list_users(session=s, actor=a)),
    "list_teams": (Action.users_read, lambda s, a: list_teams(session=s, actor=a)),
    "search_audit": (Action.audit_read, lambda s, a: search_audit(session=s, actor=a)),
    "audit_action_families": (Action.audit_read, lambda s, a: audit_action_families(session=s, actor=a)),
    "saved_mappings": (Action.import_run, lambda s, a: saved_mappings(session=s, actor=a)),
    "recent_runs": (Action.import_run, lambda s, a: recent_runs(session=s, actor=a)),
    "delivery_overview": (Action.delivery_read, lambda s, a: delivery_overview(session=s, actor=a)),
    "failed_messages": (Action.delivery_read, lambda s, a: failed_messages(session=s, actor=a)),
}
# Functions that take an actor but are no service to check here, and why.
NOT_SERVICES = {
    "authorize": "db.access itself",
    "deny": "db.access itself",
    "is_allowed": "db.access itself",
    "person": "db.access itself",
    "may_rate": "the rule rate_lead applies, a predicate",
    "scopes_for": "a read that answers [] to whoever may set no terms",
    "record": "the audit log's writer: the entry names whoever the service found acting",
    "run_import": "the step import_csv, import_olist and import_maven share",
}
# What each role may do, written out by hand (not derived from POLICY) so the test checks the policy.
ALLOWED_READS: dict[Role, frozenset[Action]] = {
    Role.rep: frozenset({Action.alerts_own}),
    Role.sales_manager: frozenset({Action.alerts_own}),
    Role.marketer: frozenset({Action.alerts_own}),
    Role.executive: frozenset({Action.alerts_own}),
    Role.admin: frozenset(
        {
            Action.users_read,
            Action.audit_read,
            Action.import_run,
            Action.delivery_read,
            Action.alerts_own,
            Action.alerts_defaults,
        }
    ),
}
ROLES = [role.value for role in Role]
ACTORS = ["nobody", "command line", *ROLES, "disabled admin"]
WRITE_CELLS = [(actor, name) for name in WRITES for actor in ACTORS]
READ_CELLS = [(actor, name) for name in READS for actor in ACTORS]


def _id(session: Session, username: str) -> int:
    return int(session.exec(select(User.id).where(User.username == username)).one() or 0)


def _acting(engine: Engine, who: str) -> tuple[Actor | None, World]:
    """Make the world, with "actor" in the role `who` names, and return the actor to call as."""
    role = Role.admin if who == "disabled admin" else Role(who) if who in ROLES else Role.rep
    world = _world(engine, role, active=who != "disabled admin")
    if who == "nobody":
        return None, world
    if who == "command line":
        return OPERATOR, world
    with read_session(engine) as session:
        user = session.exec(select(User).where(User.username == "actor")).one()
    return user, world


def _everything(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table but the audit log, to compare before and after a refused call."""
    with engine.connect() as connection:
        return {
            table.name: sorted(map(repr, connection.execute(sa_select(table)).all()))
            for table in SQLModel.metadata.sorted_tables
            if table.name != AuditLog.__tablename__
        }


def _audit_since(engine: Engine, after: int) -> list[tuple[str, str | None, str, str | None]]:
    with read_session(engine) as session:
        rows = session.exec(select(AuditLog).where(col(AuditLog.id) > after).order_by(col(AuditLog.id))).all()
    return [(r.action, r.actor_username, r.outcome, r.detail) for r in rows]


def _last_audit_id(engine: Engine) -> int:
    with read_session(engine) as session:
        return max(session.exec(select(AuditLog.id)).all(), default=None) or 0


def _denial_detail(who: str) -> str:
    return {"nobody": "role=none", "disabled admin": "role=admin disabled"}.get(who, f"role={who}")


def _expect_refused(engine: Engine, who: str, denied: str, call: Callable[[], object]) -> None:
    before, last = _everything(engine), _last_audit_id(engine)
    with pytest.raises(AccessDenied):
        call()
    assert _everything(engine) == before, "a refused call changes nothing"
    name = NOBODY if who == "nobody" else "actor"
    assert _audit_since(engine, last) == [(denied, name, "denied", _denial_detail(who))]


@pytest.mark.parametrize(("who", "service"), WRITE_CELLS, ids=[f"{s}-{w}" for w, s in WRITE_CELLS])
def test_every_writing_service_checks_its_actor(db_engine: Engine, who: str, service: str) -> None:
    write = WRITES[service]
    actor, world = _acting(db_engine, who)
    call = lambda: write.run(db_engine, world, actor)  # type: ignore[arg-type]  # noqa: E731
    if who == "command line" and write.operator is not None:
        before = _everything(db_engine)
        with pytest.raises(write.operator):
            call()
        assert _everything(db_engine) == before
        return
    if who == "command line" or (who in ROLES and Role(who) in write.allowed):
        last = _last_audit_id(db_engine)
        call()
        done = _audit_since(db_engine, last)
        # The command line's rating is its lead owner's, under their name.
        name = "actor" if who != "command line" or service == "rate_lead" else OPERATOR.username
        assert (write.audited, name) in [(action, username) for action, username, _, _ in done], done
        assert all(outcome != "denied" for _, _, outcome, _ in done), done
        return
    _expect_refused(db_engine, who, write.denied, call)


@pytest.mark.parametrize(("who", "service"), READ_CELLS, ids=[f"{s}-{w}" for w, s in READ_CELLS])
def test_every_read_that_checks_who_asks_refuses_the_others(
    sqlite_engine: Engine, who: str, service: str
) -> None:
    action, read = READS[service]
    actor, _ = _acting(sqlite_engine, who)

    def call() -> object:
        with read_session(sqlite_engine) as session:
            return read(session, session.get(User, actor.id) if isinstance(actor, User) else actor)  # type: ignore[arg-type]

    if who == "command line" or (who in ROLES and action in ALLOWED_READS[Role(who)]):
        call()
        return
    _expect_refused(sqlite_engine, who, action.value, call)


def test_the_policy_is_the_tables() -> None:
    for action, _ in READS.values():
        assert POLICY[action] == {role for role, allowed in ALLOWED_READS.items() if action in allowed}
    by_denial = {write.denied: write.allowed for write in WRITES.values()}
    for action in Action:
        if action.value in by_denial:
            assert POLICY[action] == by_denial[action.value], action


def _services_taking_an_actor() -> dict[str, inspect.Parameter]:
    found: dict[str, inspect.Parameter] = {}
    for package in (db, db.importing):
        for info in pkgutil.iter_modules(package.__path__):
            if info.name in {"__main__", "migrations"}:
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if function.__module__ != module.__name__ or name.startswith("_"):
                    continue
                parameters = inspect.signature(function).parameters
                for key in ("actor", "options"):
                    if key in parameters:
                        found[name] = parameters[key]
    return found


def test_every_service_that_takes_an_actor_is_in_the_tables_and_requires_it() -> None:
    found = _services_taking_an_actor()
    assert set(found) - set(NOT_SERVICES) == set(WRITES) | set(READS)
    optional = [name for name, p in found.items() if p.default is not inspect.Parameter.empty]
    assert optional == ["record"], "an actor (or the import's options) is never left out"
    (actor,) = [f for f in dataclasses.fields(RunOptions) if f.name == "actor"]
    assert actor.default is dataclasses.MISSING and actor.default_factory is dataclasses.MISSING


def test_a_denial_is_logged_on_postgresql_too_and_the_refused_work_is_undone(db_engine: Engine) -> None:
    _world(db_engine, Role.rep)
    with pytest.raises(AccessDenied), write_session(db_engine) as session:
        actor = session.exec(select(User).where(User.username == "actor")).one()
        actor.name = "changed in the refused unit of work"
        session.add(actor)
        disable_user(session=session, actor=actor, username="target")
    with read_session(db_engine) as session:
        assert session.exec(select(User.name).where(User.username == "actor")).one() == "Actor"
        rows = session.exec(select(AuditLog).where(col(AuditLog.outcome) == "denied")).all()
    assert [(r.action, r.object_id) for r in rows] == [("users.manage", "target")]


def test_the_refusals_say_who_was_refused() -> None:
    assert str(AccessDenied("import.run", "rep")) == "Your role (rep) may not import data."
    assert str(AccessDenied("import.run", "admin", active=False)) == (
        "Your account is disabled: it may not import data."
    )
    assert str(AccessDenied("import.run", None)) == (
        "Nobody is signed in, and nobody may import data without signing in."
    )
