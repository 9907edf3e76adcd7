"""Who may do what, enforced where the data is: every protected service function calls `authorize`.

Pages hide what a role may not use; this is the check that holds when a page, a test or a script calls a
service directly. Every service that writes takes its `actor` as a required argument: a signed-in `User`, or
`OPERATOR` for the command line (whoever can run it on the server owns the data). There is no third kind:
a missing actor (None, say from a page that lost its signed-in user) is refused and logged like a role
that may not, never taken to mean the command line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlmodel import Session

from db import audit
from db.models import Role, User

NOBODY = "nobody signed in"  # the audit log's name for a missing actor


class AccessDenied(PermissionError):
    """The acting user may not do this; the message is fit to show them. `role` is None when nobody was
    acting (no actor given)."""

    def __init__(self, action: str, role: str | None, *, active: bool = True) -> None:
        words = ACTION_WORDS.get(action, action)
        if role is None:
            message = f"Nobody is signed in, and nobody may {words} without signing in."
        elif not active:
            message = f"Your account is disabled: it may not {words}."
        else:
            message = f"Your role ({role}) may not {words}."
        super().__init__(message)
        self.action = action
        self.role = role


@dataclass(frozen=True)
class Operator:
    """The person at the server's command line (`python -m db ...`): trusted with everything."""

    username: str = "command line"


OPERATOR = Operator()
Actor = User | Operator


class Action(enum.StrEnum):
    users_read = "users.read"
    users_manage = "users.manage"
    audit_read = "audit.read"
    import_run = "import.run"
    settings_change = "settings.change"
    sla_set = "sla.set"
    sla_set_any_team = "sla.set_any_team"
    action_items_add = "action_items.add"
    action_items_close_any = "action_items.close_any"
    quotas_set = "quotas.set"
    own_account = "account.own"
    # Issue 13: the handoff and its alerts.
    handoff_answer = "handoff.answer"  # answer an MQL handed to you (db/handoff.py checks it is yours)
    alerts_own = "alerts.own"  # choose one's own alerts
    alerts_defaults = "alerts.defaults"  # set the alert defaults of a role
    delivery_read = "delivery.read"  # the Delivery page: queued, sent and failed messages
    delivery_retry = "delivery.retry"  # send a failed message again
    # Issue 14: sales content.
    content_manage = "content.manage"  # add, edit, replace, review or archive an asset
    content_use = "content.use"  # log an asset's use on a lead and rate whether it helped (own leads only)
    content_request = "content.request"  # ask for missing content, or back someone's request
    content_triage = "content.triage"  # answer a content request


ACTION_WORDS: dict[str, str] = {
    Action.users_read: "see the list of users",
    Action.users_manage: "add or change users",
    Action.audit_read: "read the audit log",
    Action.import_run: "import data",
    Action.settings_change: "change settings",
    Action.sla_set: "set the service level agreement",
    Action.sla_set_any_team: "set another team's service level agreement",
    Action.action_items_add: "add action items",
    Action.action_items_close_any: "close or reopen someone else's action item",
    Action.quotas_set: "set quotas",
    Action.own_account: "change your own password or log out",
    Action.handoff_answer: "answer an MQL's handoff",
    Action.alerts_own: "choose your own alerts",
    Action.alerts_defaults: "set the alert defaults",
    Action.delivery_read: "see the messages Huddle sends",
    Action.delivery_retry: "send a failed message again",
    Action.content_manage: "add or change sales content",
    Action.content_use: "log or rate the use of sales content",
    Action.content_request: "request sales content",
    Action.content_triage: "answer content requests",
}

ADMIN_ONLY = frozenset({Role.admin})
MANAGERS_AND_ADMINS = frozenset({Role.sales_manager, Role.admin})
# The roles allowed each action; everything not listed here is denied.
POLICY: dict[Action, frozenset[Role]] = {
    Action.users_read: ADMIN_ONLY,
    Action.users_manage: ADMIN_ONLY,
    Action.audit_read: ADMIN_ONLY,
    Action.import_run: ADMIN_ONLY,
    Action.settings_change: ADMIN_ONLY,
    # A sales manager sets their own team's terms and the company's; another team's only an admin.
    Action.sla_set: MANAGERS_AND_ADMINS,
    Action.sla_set_any_team: ADMIN_ONLY,
    Action.action_items_add: frozenset(Role),
    # An item's owner closes it too (db/action_items.py): this is for everyone else's items.
    Action.action_items_close_any: MANAGERS_AND_ADMINS,
    Action.quotas_set: ADMIN_ONLY,
    # Their own password, their own logout: every active person.
    Action.own_account: frozenset(Role),
    # A rep answers the MQLs they own; a sales manager those of their team (db/handoff.py checks which).
    Action.handoff_answer: frozenset({Role.rep, Role.sales_manager}),
    Action.alerts_own: frozenset(Role),
    Action.alerts_defaults: ADMIN_ONLY,
    Action.delivery_read: ADMIN_ONLY,
    Action.delivery_retry: ADMIN_ONLY,
    # Marketing makes and answers content; sales uses, rates and asks (db/content.py checks the lead is
    # theirs, as for ratings); executives read.
    Action.content_manage: frozenset({Role.marketer, Role.admin}),
    Action.content_use: frozenset({Role.rep, Role.sales_manager}),
    Action.content_request: frozenset({Role.rep, Role.sales_manager, Role.admin}),
    Action.content_triage: frozenset({Role.marketer, Role.admin}),
}


def person(actor: Actor | None) -> User | None:
    """The signed-in person behind `actor`: None for the command line (and for nobody)."""
    return actor if isinstance(actor, User) else None


def is_allowed(actor: Actor | None, action: Action) -> bool:
    """Whether `actor` may do `action`; a missing actor (None) never may."""
    if isinstance(actor, Operator):
        return True
    if not isinstance(actor, User):
        return False
    return actor.active and actor.role in POLICY.get(action, frozenset())


def authorize(*, session: Session, actor: Actor, action: Action, object_id: str | int | None = None) -> None:
    """Return when `actor` may do `action`; otherwise log the denial and raise AccessDenied.

    `actor` is typed as required; a None that reaches here anyway (an untyped caller) is refused."""
    if is_allowed(actor, action):
        return
    deny(session=session, actor=person(actor), action=action.value, object_id=object_id)


def deny(*, session: Session, actor: User | None, action: str, object_id: str | int | None = None) -> None:
    """Log a denied action and raise AccessDenied; `actor` None: nobody was acting.

    The denial must outlive the rollback of the refused unit of work, so it is committed on its own:
    whatever the caller did in this session before is discarded first (it is being refused anyway)."""
    role = actor.role.value if actor is not None else None
    active = actor.active if actor is not None else True
    actor_id = actor.id if actor is not None else None
    username = actor.username if actor is not None else NOBODY
    session.rollback()
    audit.record(
        session=session,
        action=action,
        actor=session.get(User, actor_id) if actor_id is not None else None,
        actor_username=username,
        object_id=object_id,
        outcome="denied",
        detail=f"role={role or 'none'}" + ("" if active else " disabled"),
    )
    session.commit()
    raise AccessDenied(action, role, active=active)
