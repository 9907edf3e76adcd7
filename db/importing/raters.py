"""Who gave an import's ratings: each lead's owner, one named person, or the pseudo-rater "Imported rating".

A `[rating]` section without `rater` makes each rating its lead owner's. With `rater = "..."` every rating
of the file is that one user's (matched by name, then email, then username, ignoring letter case, as
owners are), or, with `rater = "Imported rating"`, the pseudo-rater's: the CRM's sales team as a whole,
for exports whose quality column names nobody.

The pseudo-rater is a user row, because a rating belongs to a rater (lead_ratings.rater_id) and the
learner calibrates each rater against their team. It is created by the first import that needs it:
username "imported-rating", name "Imported rating", role sales manager of no team, inactive and without a
password. So it can never log in (logins need an active user with a password, and no service makes an
inactive user active again), owns no leads, is in no team, and is offered in no rep picker, rating queue,
leaderboard or action-item owner list (those list reps, a team's people, or active users). The Users page
lists it as a disabled account, and Rating health shows its ratings under its name, which is what they
are. It is told apart from a person by source_system "huddle" and external_id "imported-rating", so a real
user called "Imported rating" is never taken for it, and owners are never matched to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from db.importing.mapping import IMPORTED_RATER
from db.importing.usernames import unique_username
from db.models import Role, User

PSEUDO_SOURCE = "huddle"
PSEUDO_KEY = "imported-rating"


def is_imported_rater_user(user: User) -> bool:
    return user.source_system == PSEUDO_SOURCE and user.external_id == PSEUDO_KEY


def imported_rater_id(users: Sequence[User]) -> int | None:
    """The pseudo-rater's id, None before an import needed it."""
    return next((user.id for user in users if is_imported_rater_user(user)), None)


def create_imported_rater(session: Session, taken: set[str]) -> int:
    """Add the pseudo-rater (in the caller's transaction; an import's audit entry covers it)."""
    user = User(
        username=unique_username(PSEUDO_KEY, taken),
        name=IMPORTED_RATER,
        role=Role.sales_manager,
        team_id=None,
        active=False,
        password_hash=None,
        source_system=PSEUDO_SOURCE,
        external_id=PSEUDO_KEY,
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    return user.id


def named_rater(users: Sequence[User], name: str) -> list[User]:
    """The users `name` names, in the order owners are matched: by name, else email, else username."""
    folded = name.strip().casefold()
    people = [user for user in users if not is_imported_rater_user(user)]
    for key_of in (lambda u: u.name, lambda u: u.email, lambda u: u.username):
        found = [user for user in people if (key_of(user) or "").strip().casefold() == folded]
        if found:
            return found
    return []
