"""Who may do what, enforced where the data is: every protected service function calls `authorize`.

Pages hide what a role may not use; this is the check that holds when a page, a test or a script calls a
service directly. The command line runs as `OPERATOR`: whoever can run it on the server owns the data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlmodel import Session

from db import audit
from db.models import Role, User


class AccessDenied(PermissionError):
    """The acting user may not do this; the message is fit to show them."""

    def __init__(self, action: str, role: str) -> None:
        super().__init__(f"Your role ({role}) may not {ACTION_WORDS.get(action, action)}.")
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
}


def is_allowed(actor: Actor, action: Action) -> bool:
    if isinstance(actor, Operator):
        return True
    return actor.active and actor.role in POLICY.get(action, frozenset())


def authorize(*, session: Session, actor: Actor, action: Action, object_id: str | int | None = None) -> None:
    """Return when `actor` may do `action`; otherwise log the denial and raise AccessDenied."""
    if is_allowed(actor, action):
        return
    assert isinstance(actor, User)
    deny(session=session, actor=actor, action=action.value, object_id=object_id)


def deny(*, session: Session, actor: User, action: str, object_id: str | int | None = None) -> None:
    """Log a denied action and raise AccessDenied.

    The denial must outlive the rollback of the refused unit of work, so it is committed on its own:
    whatever the caller did in this session before is discarded first (it is being refused anyway)."""
    role = actor.role.value
    actor_id, username = actor.id, actor.username
    session.rollback()
    audit.record(
        session=session,
        action=action,
        actor=session.get(User, actor_id) if actor_id is not None else None,
        actor_username=username,
        object_id=object_id,
        outcome="denied",
        detail=f"role={role}",
    )
    session.commit()
    raise AccessDenied(action, role)
