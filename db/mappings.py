"""Saved column mappings: the Import page keeps a mapping made by hand under a name, to use again.

Saving one and listing them are import work, so both need Action.import_run (an admin, or the command
line); every save is in the audit log.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from db import audit
from db.access import Action, Actor, authorize, person
from db.importing.mapping import Mapping, MappingError, mapping_to_toml
from db.models import SavedMapping

MAX_NAME = 120


def saved_mappings(*, session: Session, actor: Actor) -> dict[str, str]:
    """Every saved mapping's TOML text by its name, in name order."""
    authorize(session=session, actor=actor, action=Action.import_run)
    rows = session.exec(select(SavedMapping).order_by(col(SavedMapping.name))).all()
    return {row.name: row.toml for row in rows}


def save_mapping(*, session: Session, actor: Actor, name: str, mapping: Mapping) -> SavedMapping:
    """Keep `mapping` under `name`, replacing the mapping saved under that name before, if any."""
    cleaned = name.strip()
    authorize(session=session, actor=actor, action=Action.import_run, object_id=cleaned[:MAX_NAME])
    if not cleaned:
        raise MappingError("a saved mapping needs a name")
    if len(cleaned) > MAX_NAME:
        raise MappingError(f"a saved mapping's name is at most {MAX_NAME} characters")
    by = person(actor)
    row = session.exec(select(SavedMapping).where(SavedMapping.name == cleaned)).first()
    replacing = row is not None
    if row is None:
        row = SavedMapping(name=cleaned, toml="", created_by_id=by.id if by else None)
    row.toml = mapping_to_toml(mapping)
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        action="mapping.save",
        actor=by,
        actor_username=actor.username,
        object_type="saved_mapping",
        object_id=cleaned,
        detail=f"{'replaced' if replacing else 'new'} source={mapping.source_name}",
    )
    return row
