"""Sales content (issue 14): marketing's assets, their versions, reps' uses and *helped?* ratings, and the
requests for content that is missing.

Writes take the caller's unit of work (`session`, from db.engine.write_session), the acting person
(`actor`) and the moment (`now`); each checks who may (db.access), validates (ContentRefused, a sentence
fit to show), and writes an audit row ("content_asset" or "content_request"; never a file's bytes).

- Marketers and admins manage assets: a replaced link or file is a new content_versions row (version + 1,
  the asset's current_version moved to it), the old ones kept. An asset is archived, never deleted: it
  leaves the library and "content for this lead" but keeps its uses and ratings.
- Reps and sales managers log uses and rate, on leads they may rate (db.ratings.may_rate): one use per
  asset, lead and person however often it is clicked, one current rating per asset, lead and rater (a
  change moves the old values into the history; 14 days from the first rating to change it). Both are
  INSERT ... ON CONFLICT, so two tabs or a double click leave one row.
- Uploaded bytes are checked (core.content_files.sniff) and capped before anything is stored; they go in
  the database, or, when the settings name a folder, into that folder under their sha256.

Reads take the engine and return polars frames (datetimes naive UTC, as everywhere in core).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import delete, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.content import CONTENT_REASONS
from core.content_files import (
    MAX_NOTE,
    MAX_REASON,
    MAX_TITLE,
    ContentFileRefused,
    check_link,
    clean_filename,
    clean_text,
    max_bytes,
    sniff,
)
from core.content_match import CONTENT_STAGES, LeadProfile, content_for_lead, lead_stage
from core.feedback import can_still_change
from db import audit
from db.access import AccessDenied, Action, Actor, authorize, deny, person
from db.engine import read_session
from db.models import (
    ContentAsset,
    ContentKind,
    ContentRating,
    ContentRatingHistory,
    ContentRequest,
    ContentRequestStatus,
    ContentRequestVote,
    ContentUse,
    ContentVersion,
    Lead,
    User,
)
from db.ratings import may_rate
from db.settings import get_settings

__all__ = [
    "ASSET_TYPE",
    "LIBRARY_SCHEMA",
    "MY_CONTENT_SCHEMA",
    "REQUESTS_SCHEMA",
    "REQUEST_TYPE",
    "AssetIn",
    "ContentRefused",
    "FileIn",
    "NotYourLead",
    "StoredFile",
    "VersionRow",
    "add_asset",
    "archive_asset",
    "asset_versions",
    "edit_asset",
    "file_of_version",
    "lead_content",
    "library",
    "log_use",
    "mark_reviewed",
    "my_content_on_lead",
    "rate_asset",
    "replace_content",
    "request_content",
    "requests",
    "triage_request",
    "unvote_request",
    "vote_request",
]

ASSET_TYPE = "content_asset"
REQUEST_TYPE = "content_request"
MAX_DESCRIPTION = 2000
MAX_DETAIL = 2000
MAX_WHAT = 200
# The longest audience value per list: the lead's column it is matched against.
_VALUE_LIMITS = {"personas": 80, "industries": 120, "company_sizes": 40}
_ONE = {"stages": "stage", "personas": "persona", "industries": "industry", "company_sizes": "company size"}
_MAX_VALUES = 50  # per audience list
_STORAGE_KEY = re.compile(r"^[0-9a-f]{64}$")


class ContentRefused(ValueError):
    """The content write cannot be taken as given; the message is fit to show the person."""


class NotYourLead(AccessDenied):
    """A rep or sales manager, on a lead that is not theirs (the refusal is logged as denied)."""

    def __init__(self, role: str | None) -> None:
        super().__init__(Action.content_use.value, role)
        self.args = (
            "This lead is not yours: a rep logs and rates content on the leads they own, a sales manager on "
            "their team's.",
        )


@dataclass(frozen=True)
class AssetIn:
    """An asset's description as marketing gives it; an empty audience tuple means any."""

    title: str
    kind: ContentKind
    description: str | None = None
    stages: tuple[str, ...] = ()
    personas: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    company_sizes: tuple[str, ...] = ()
    owner_id: int | None = None
    last_reviewed_on: date | None = None


@dataclass(frozen=True)
class FileIn:
    filename: str
    data: bytes


@dataclass(frozen=True)
class VersionRow:
    """One version of an asset's content, as the history shows it (never the bytes)."""

    id: int
    asset_id: int
    version: int
    link: str | None
    filename: str | None
    media_type: str | None
    size_bytes: int | None
    sha256: str | None
    created_by: str | None
    created_by_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class StoredFile:
    filename: str
    media_type: str
    data: bytes


# ---------------------------------------------------------------- helpers


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _naive(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _text(value: str | None, *, limit: int, what: str, required: bool = False) -> str | None:
    try:
        return clean_text(value, limit=limit, what=what, required=required)
    except ContentFileRefused as refused:
        raise ContentRefused(str(refused)) from None


def _actor_id(actor: Actor) -> int | None:
    who = person(actor)
    return who.id if who is not None else None


def _record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    detail: str | None,
    now: datetime,
) -> None:
    audit.record(
        session=session,
        action=action,
        actor=person(actor),
        actor_username=actor.username,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
        at=now,
    )


def _insert(session: Session) -> Any:
    return postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _audience_list(values: tuple[str, ...] | list[str], name: str) -> list[str]:
    """The values trimmed, blanks and repeats (case-insensitive) dropped, in the order given."""
    kept: dict[str, str] = {}
    for value in values:
        text = (value or "").strip()
        if not text:
            continue
        if name == "stages":
            text = text.lower()
            if text not in CONTENT_STAGES:
                raise ContentRefused(f"Unknown stage: {text}. Pick from {', '.join(CONTENT_STAGES)}.")
        elif len(text) > _VALUE_LIMITS[name]:
            raise ContentRefused(
                f"{text[:40]}… is too long for a {_ONE[name]}: keep it to {_VALUE_LIMITS[name]} characters."
            )
        kept.setdefault(text.casefold(), text)
    if len(kept) > _MAX_VALUES:
        raise ContentRefused(f"Name at most {_MAX_VALUES} {name.replace('_', ' ')}.")
    return list(kept.values())


def _validated_asset(session: Session, asset: AssetIn, now: datetime) -> dict[str, Any]:
    try:
        kind = ContentKind(asset.kind)
    except ValueError:
        raise ContentRefused(f"Unknown kind of content: {asset.kind}.") from None
    if asset.owner_id is not None and session.get(User, asset.owner_id) is None:
        raise ContentRefused("The owner chosen no longer exists.")
    if asset.last_reviewed_on is not None and asset.last_reviewed_on > now.date():
        raise ContentRefused("The review date is in the future: pick the day it was reviewed.")
    return {
        "title": _text(asset.title, limit=MAX_TITLE, what="title", required=True),
        "kind": kind,
        "description": _text(asset.description, limit=MAX_DESCRIPTION, what="description"),
        "stages": _audience_list(asset.stages, "stages"),
        "personas": _audience_list(asset.personas, "personas"),
        "industries": _audience_list(asset.industries, "industries"),
        "company_sizes": _audience_list(asset.company_sizes, "company_sizes"),
        "owner_id": asset.owner_id,
        "last_reviewed_on": asset.last_reviewed_on,
    }


def _content_dir() -> Path | None:
    folder = get_settings().huddle_content_dir.strip()
    return Path(folder) if folder else None


def _store_bytes(folder: Path, digest: str, data: bytes) -> None:
    """The bytes in `folder` under their sha256, written whole or not at all (a temp file, then
    os.replace); the same bytes stored before are left as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / digest
    if target.is_file() and target.stat().st_size == len(data):
        return
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _version_values(link: str | None, file: FileIn | None) -> dict[str, Any]:
    """The new version's columns: a checked link, or a checked file (capped, sniffed, stored)."""
    if (link is None or not link.strip()) == (file is None):
        raise ContentRefused("Give either a link or a file for the asset (one of the two).")
    if file is None:
        try:
            return {"link": check_link(link)}
        except ContentFileRefused as refused:
            raise ContentRefused(str(refused)) from None
    cap_mb = get_settings().huddle_content_max_mb
    if len(file.data) > max_bytes(cap_mb):
        raise ContentRefused(
            f"The file is {len(file.data) / 1_048_576:,.1f} MB; files up to {cap_mb:g} MB can be uploaded."
        )
    try:
        media_type = sniff(file.filename, file.data)
    except ContentFileRefused as refused:
        raise ContentRefused(str(refused)) from None
    filename = clean_filename(file.filename)  # sniff accepted it: folders dropped, within MAX_FILENAME
    digest = hashlib.sha256(file.data).hexdigest()
    values: dict[str, Any] = {
        "filename": filename,
        "media_type": media_type,
        "size_bytes": len(file.data),
        "sha256": digest,
    }
    folder = _content_dir()
    if folder is None:
        values["data"] = file.data
    else:
        _store_bytes(folder, digest, file.data)
        values["storage_key"] = digest
    return values


def _what_version(values: dict[str, Any]) -> str:
    if values.get("link"):
        return "link"
    return f"file {values['media_type']} {values['size_bytes']} bytes"


def _asset(session: Session, asset_id: int, *, lock: bool = False, live: bool = True) -> ContentAsset:
    query = select(ContentAsset).where(ContentAsset.id == asset_id)
    found = session.exec(query.with_for_update() if lock else query).first()
    if found is None:
        raise ContentRefused("That asset no longer exists.")
    if live and found.archived_at is not None:
        raise ContentRefused("That asset is archived: it can no longer be changed or used.")
    return found


# ---------------------------------------------------------------- managing assets


def add_asset(
    *, session: Session, actor: Actor, asset: AssetIn, link: str | None, file: FileIn | None, now: datetime
) -> ContentAsset:
    """A new asset with its first version (a link or a file)."""
    authorize(session=session, actor=actor, action=Action.content_manage)
    moment = _utc(now)
    values = _validated_asset(session, asset, moment)
    content = _version_values(link, file)
    by = _actor_id(actor)
    row = ContentAsset(**values, current_version=1, created_by_id=by, created_at=moment, updated_at=moment)
    session.add(row)
    session.flush()
    session.add(
        ContentVersion(asset_id=int(row.id or 0), version=1, created_by_id=by, created_at=moment, **content)
    )
    _record(
        session,
        actor,
        "content.add",
        ASSET_TYPE,
        row.id,
        f"kind={row.kind.value} {_what_version(content)}",
        moment,
    )
    session.flush()
    return row


def edit_asset(
    *, session: Session, actor: Actor, asset_id: int, asset: AssetIn, now: datetime
) -> ContentAsset:
    """Change an asset's title, kind, description, audience, owner or review date (not its content)."""
    authorize(session=session, actor=actor, action=Action.content_manage, object_id=asset_id)
    moment = _utc(now)
    row = _asset(session, asset_id, lock=True)
    values = _validated_asset(session, asset, moment)
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        return row
    row.sqlmodel_update({**values, "updated_at": moment})
    session.add(row)
    _record(session, actor, "content.edit", ASSET_TYPE, asset_id, "changed=" + ",".join(changed), moment)
    session.flush()
    return row


def replace_content(
    *, session: Session, actor: Actor, asset_id: int, link: str | None, file: FileIn | None, now: datetime
) -> ContentVersion:
    """A new version of the asset's link or file (the earlier ones are kept)."""
    authorize(session=session, actor=actor, action=Action.content_manage, object_id=asset_id)
    moment = _utc(now)
    row = _asset(session, asset_id, lock=True)
    content = _version_values(link, file)
    newest = session.exec(
        select(func.max(ContentVersion.version)).where(ContentVersion.asset_id == asset_id)
    ).one()
    number = int(newest or 0) + 1
    version = ContentVersion(
        asset_id=asset_id, version=number, created_by_id=_actor_id(actor), created_at=moment, **content
    )
    session.add(version)
    row.current_version = number
    row.updated_at = moment
    session.add(row)
    _record(
        session,
        actor,
        "content.replace",
        ASSET_TYPE,
        asset_id,
        f"version={number} {_what_version(content)}",
        moment,
    )
    session.flush()
    return version


def mark_reviewed(*, session: Session, actor: Actor, asset_id: int, on: date, now: datetime) -> None:
    """Record that the asset was reviewed and is still right on day `on` (not after today)."""
    authorize(session=session, actor=actor, action=Action.content_manage, object_id=asset_id)
    moment = _utc(now)
    if on > moment.date():
        raise ContentRefused("The review date is in the future: pick the day it was reviewed.")
    row = _asset(session, asset_id, lock=True)
    if row.last_reviewed_on == on:
        return
    row.last_reviewed_on = on
    session.add(row)
    _record(session, actor, "content.review", ASSET_TYPE, asset_id, f"on={on.isoformat()}", moment)
    session.flush()


def archive_asset(*, session: Session, actor: Actor, asset_id: int, now: datetime) -> None:
    """Take the asset out of the library; its versions, uses and ratings stay. Archiving twice is one."""
    authorize(session=session, actor=actor, action=Action.content_manage, object_id=asset_id)
    moment = _utc(now)
    row = _asset(session, asset_id, lock=True, live=False)
    if row.archived_at is not None:
        return
    uses = session.exec(
        select(func.count()).select_from(ContentUse).where(ContentUse.asset_id == asset_id)
    ).one()
    ratings = session.exec(
        select(func.count()).select_from(ContentRating).where(ContentRating.asset_id == asset_id)
    ).one()
    row.archived_at = moment
    session.add(row)
    _record(session, actor, "content.archive", ASSET_TYPE, asset_id, f"uses={uses} ratings={ratings}", moment)
    session.flush()


# ---------------------------------------------------------------- using and rating


def _check_may_use(session: Session, actor: Actor, asset_id: int, lead_id: int) -> int:
    """Refuse (logged) whoever may not use content on this lead; the person the use is for (the command
    line: the lead's owner)."""
    authorize(session=session, actor=actor, action=Action.content_use, object_id=lead_id)
    owner_team = aliased(User)
    found = session.exec(
        select(Lead.owner_id, Lead.team_id, owner_team.team_id)
        .outerjoin(owner_team, owner_team.id == Lead.owner_id)  # type: ignore[arg-type]
        .where(Lead.id == lead_id)
    ).first()
    if found is None:
        raise ContentRefused("That lead no longer exists.")
    owner_id, lead_team, owner_team_id = found
    if not may_rate(actor, owner_id, (lead_team, owner_team_id)):
        try:
            deny(session=session, actor=person(actor), action=Action.content_use.value, object_id=lead_id)
        except AccessDenied as refused:
            raise NotYourLead(refused.role) from None
    user_id = _actor_id(actor) or owner_id
    if user_id is None:
        raise ContentRefused("The command line can log content only on a lead that has an owner.")
    _asset(session, asset_id)
    return int(user_id)


def _insert_use(session: Session, asset_id: int, lead_id: int, user_id: int, now: datetime) -> bool:
    """The use written unless it is there already; whether this call wrote it."""
    statement = (
        _insert(session)(ContentUse)
        .values(asset_id=asset_id, lead_id=lead_id, user_id=user_id, used_at=now)
        .on_conflict_do_nothing(index_elements=["asset_id", "lead_id", "user_id"])
        .returning(ContentUse.__table__.c.id)  # type: ignore[attr-defined]
    )
    return session.connection().execute(statement).first() is not None


def _use(session: Session, asset_id: int, lead_id: int, user_id: int) -> ContentUse:
    found = session.exec(
        select(ContentUse).where(
            ContentUse.asset_id == asset_id, ContentUse.lead_id == lead_id, ContentUse.user_id == user_id
        )
    ).one()
    return found


def _log_use(
    session: Session, actor: Actor, asset_id: int, lead_id: int, user_id: int, now: datetime
) -> None:
    if _insert_use(session, asset_id, lead_id, user_id, now):
        _record(session, actor, "content.use", ASSET_TYPE, asset_id, f"lead={lead_id}", now)


def log_use(*, session: Session, actor: Actor, asset_id: int, lead_id: int, now: datetime) -> ContentUse:
    """Record that `actor` used the asset on the lead: one row however often it is logged."""
    moment = _utc(now)
    user_id = _check_may_use(session, actor, asset_id, lead_id)
    _log_use(session, actor, asset_id, lead_id, user_id, moment)
    return _use(session, asset_id, lead_id, user_id)


def _validated_rating(stars: int, reasons: tuple[str, ...], note: str | None) -> tuple[list[str], str | None]:
    if isinstance(stars, bool) or stars not in (1, 2, 3, 4, 5):
        raise ContentRefused("Pick 1 to 5 stars.")
    unknown = [r for r in reasons if r not in CONTENT_REASONS]
    if unknown:
        raise ContentRefused(f"Unknown reason: {', '.join(unknown)}.")
    return list(dict.fromkeys(reasons)), _text(note, limit=MAX_NOTE, what="note")


def _current_rating(session: Session, asset_id: int, lead_id: int, rater_id: int) -> ContentRating | None:
    return session.exec(
        select(ContentRating)
        .where(
            ContentRating.asset_id == asset_id,
            ContentRating.lead_id == lead_id,
            ContentRating.rater_id == rater_id,
        )
        .with_for_update()
    ).first()


def rate_asset(
    *,
    session: Session,
    actor: Actor,
    asset_id: int,
    lead_id: int,
    stars: int,
    reasons: tuple[str, ...],
    note: str | None,
    now: datetime,
) -> ContentRating:
    """Record whether the asset helped on the lead (1-5 stars, reasons, a note); logs the use too. The
    same rating again changes nothing; a change keeps the old values in the history and is possible for
    14 days from the first rating."""
    moment = _utc(now)
    rater_id = _check_may_use(session, actor, asset_id, lead_id)
    kept_reasons, kept_note = _validated_rating(stars, tuple(reasons), note)
    _log_use(session, actor, asset_id, lead_id, rater_id, moment)
    current = _current_rating(session, asset_id, lead_id, rater_id)
    if current is None:
        inserted = (
            _insert(session)(ContentRating)
            .values(
                asset_id=asset_id,
                lead_id=lead_id,
                rater_id=rater_id,
                stars=stars,
                reasons=kept_reasons,
                note=kept_note,
                created_at=moment,
                updated_at=moment,
            )
            .on_conflict_do_nothing(index_elements=["asset_id", "lead_id", "rater_id"])
            .returning(ContentRating.__table__.c.id)  # type: ignore[attr-defined]
        )
        if session.connection().execute(inserted).first() is not None:
            _record(
                session, actor, "content.rate", ASSET_TYPE, asset_id, f"lead={lead_id} stars={stars}", moment
            )
            found = _current_rating(session, asset_id, lead_id, rater_id)
            assert found is not None  # just written in this unit of work
            return found
        current = _current_rating(session, asset_id, lead_id, rater_id)  # another tab's rating came first
        assert current is not None
    if (current.stars, list(current.reasons), current.note) == (stars, kept_reasons, kept_note):
        return current  # the same rating again: nothing to record
    if not can_still_change(_utc(current.created_at), moment):
        raise ContentRefused("This rating is older than 14 days and can no longer be changed.")
    session.add(
        ContentRatingHistory(
            rating_id=int(current.id or 0),
            stars=current.stars,
            reasons=list(current.reasons),
            note=current.note,
            changed_by_id=current.rater_id,
            changed_at=_utc(current.updated_at),
        )
    )
    current.sqlmodel_update(
        {"stars": stars, "reasons": kept_reasons, "note": kept_note, "updated_at": moment}
    )
    session.add(current)
    _record(
        session, actor, "content.rate", ASSET_TYPE, asset_id, f"lead={lead_id} stars={stars} changed", moment
    )
    session.flush()
    return current


# ---------------------------------------------------------------- requests


def _requester(actor: Actor) -> int:
    user_id = _actor_id(actor)
    if user_id is None:
        raise ContentRefused("Sign in to ask for content or back a request: a request needs a person.")
    return user_id


def request_content(
    *,
    session: Session,
    actor: Actor,
    what: str,
    detail: str | None,
    kind: ContentKind | None,
    persona: str | None,
    stage: str | None,
    industry: str | None,
    lead_id: int | None,
    now: datetime,
) -> ContentRequest:
    """Ask marketing for content that is missing (what, in 200 characters; the rest optional)."""
    authorize(session=session, actor=actor, action=Action.content_request)
    moment = _utc(now)
    requested_by = _requester(actor)
    try:
        kind_value = ContentKind(kind) if kind is not None else None
    except ValueError:
        raise ContentRefused(f"Unknown kind of content: {kind}.") from None
    stage_value = _text(stage, limit=40, what="stage")
    if stage_value is not None:
        stage_value = stage_value.lower()
        if stage_value not in CONTENT_STAGES:
            raise ContentRefused(f"Unknown stage: {stage_value}. Pick from {', '.join(CONTENT_STAGES)}.")
    if lead_id is not None and session.get(Lead, lead_id) is None:
        raise ContentRefused("That lead no longer exists.")
    row = ContentRequest(
        what=_what(what),
        detail=_text(detail, limit=MAX_DETAIL, what="detail"),
        kind=kind_value,
        persona=_text(persona, limit=80, what="persona"),
        stage=stage_value,
        industry=_text(industry, limit=120, what="industry"),
        lead_id=lead_id,
        requested_by_id=requested_by,
        created_at=moment,
        updated_at=moment,
    )
    session.add(row)
    session.flush()
    _record(session, actor, "content.request", REQUEST_TYPE, row.id, f"kind={kind_value or '-'}", moment)
    session.flush()
    return row


def _what(what: str | None) -> str:
    text = _text(what, limit=MAX_WHAT, what="description of what you need")
    if text is None:
        raise ContentRefused("Say what content you need (a few words, up to 200 characters).")
    return text


def _request(session: Session, request_id: int, *, lock: bool = False) -> ContentRequest:
    query = select(ContentRequest).where(ContentRequest.id == request_id)
    found = session.exec(query.with_for_update() if lock else query).first()
    if found is None:
        raise ContentRefused("That request no longer exists.")
    return found


def vote_request(*, session: Session, actor: Actor, request_id: int, now: datetime) -> None:
    """Back someone's request: one vote per person however often it is clicked; not one's own."""
    authorize(session=session, actor=actor, action=Action.content_request, object_id=request_id)
    moment = _utc(now)
    user_id = _requester(actor)
    found = _request(session, request_id)
    if found.requested_by_id == user_id:
        raise ContentRefused("This is your own request: it counts already, without a vote.")
    if found.status in (ContentRequestStatus.done, ContentRequestStatus.declined):
        raise ContentRefused("This request is answered already: it takes no more votes.")
    statement = (
        _insert(session)(ContentRequestVote)
        .values(request_id=request_id, user_id=user_id, created_at=moment)
        .on_conflict_do_nothing(index_elements=["request_id", "user_id"])
        .returning(ContentRequestVote.__table__.c.id)  # type: ignore[attr-defined]
    )
    if session.connection().execute(statement).first() is not None:
        _record(session, actor, "content.vote", REQUEST_TYPE, request_id, None, moment)


def unvote_request(*, session: Session, actor: Actor, request_id: int, now: datetime) -> None:
    """Take back one's vote (nothing happens without one)."""
    authorize(session=session, actor=actor, action=Action.content_request, object_id=request_id)
    moment = _utc(now)
    user_id = _requester(actor)
    _request(session, request_id)
    removed = session.connection().execute(
        delete(ContentRequestVote).where(
            col(ContentRequestVote.request_id) == request_id, col(ContentRequestVote.user_id) == user_id
        )
    )
    if removed.rowcount:
        _record(session, actor, "content.unvote", REQUEST_TYPE, request_id, None, moment)


def triage_request(
    *,
    session: Session,
    actor: Actor,
    request_id: int,
    status: ContentRequestStatus,
    reason: str | None,
    asset_id: int | None,
    now: datetime,
) -> ContentRequest:
    """Marketing's answer: accepted, in progress, done (with the asset that answers it) or declined (with
    a reason). The reason is kept as a note for the other answers."""
    authorize(session=session, actor=actor, action=Action.content_triage, object_id=request_id)
    moment = _utc(now)
    try:
        answer = ContentRequestStatus(status)
    except ValueError:
        raise ContentRefused(f"Unknown request status: {status}.") from None
    if answer == ContentRequestStatus.open:
        raise ContentRefused("Answer a request with accepted, in progress, done or declined.")
    note = _text(reason, limit=MAX_REASON, what="reason")
    if answer == ContentRequestStatus.declined and note is None:
        raise ContentRefused("Give a reason for declining: the person who asked reads it.")
    answer_asset: int | None = None
    if answer == ContentRequestStatus.done:
        if asset_id is None:
            raise ContentRefused("Pick the asset that answers the request before marking it done.")
        _asset(session, asset_id)
        answer_asset = asset_id
    row = _request(session, request_id, lock=True)
    if (row.status, row.answer_reason, row.answer_asset_id) == (answer, note, answer_asset):
        return row
    row.sqlmodel_update(
        {
            "status": answer,
            "answer_reason": note,
            "answer_asset_id": answer_asset,
            "answered_by_id": _actor_id(actor),
            "answered_at": moment,
            "updated_at": moment,
        }
    )
    session.add(row)
    detail = f"status={answer.value}" + (f" asset={answer_asset}" if answer_asset is not None else "")
    _record(session, actor, "content.triage", REQUEST_TYPE, request_id, detail, moment)
    session.flush()
    return row


# ---------------------------------------------------------------- reads

_LIST = pl.List(pl.String)
LIBRARY_SCHEMA: dict[str, pl.DataType] = {
    "asset_id": pl.Int64(),
    "title": pl.String(),
    "kind": pl.String(),
    "description": pl.String(),
    "stages": _LIST,
    "personas": _LIST,
    "industries": _LIST,
    "company_sizes": _LIST,
    "owner": pl.String(),
    "owner_id": pl.Int64(),
    "last_reviewed_on": pl.Date(),
    "current_version": pl.Int64(),
    "link": pl.String(),
    "filename": pl.String(),
    "media_type": pl.String(),
    "size_bytes": pl.Int64(),
    "archived_at": pl.Datetime("us"),
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
    "uses": pl.Int64(),
    "ratings": pl.Int64(),
    "helped_share": pl.Float64(),
}
MY_CONTENT_SCHEMA: dict[str, pl.DataType] = {
    "asset_id": pl.Int64(),
    "title": pl.String(),
    "kind": pl.String(),
    "archived_at": pl.Datetime("us"),
    "used_at": pl.Datetime("us"),
    "rating_id": pl.Int64(),
    "stars": pl.Int64(),
    "reasons": _LIST,
    "note": pl.String(),
    "rated_at": pl.Datetime("us"),  # the first rating: it can be changed for 14 days from then
    "changed_at": pl.Datetime("us"),
}
REQUESTS_SCHEMA: dict[str, pl.DataType] = {
    "request_id": pl.Int64(),
    "what": pl.String(),
    "detail": pl.String(),
    "kind": pl.String(),
    "persona": pl.String(),
    "stage": pl.String(),
    "industry": pl.String(),
    "lead_id": pl.Int64(),
    "requested_by": pl.String(),
    "requested_by_id": pl.Int64(),
    "status": pl.String(),
    "answer_reason": pl.String(),
    "answer_asset_id": pl.Int64(),
    "answer_title": pl.String(),
    "answered_by": pl.String(),
    "answered_at": pl.Datetime("us"),
    "created_at": pl.Datetime("us"),
    "votes": pl.Int64(),
    "voter_ids": pl.List(pl.Int64),
    "i_voted": pl.Boolean(),
}


def _columns(*columns: Any) -> list[Any]:
    """The columns of a select with more than sqlmodel's typed four (typed as Any for mypy)."""
    return list(columns)


def _enum_value(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _counts(session: Session, model: Any, helped: bool = False) -> dict[int, int]:
    query = select(model.asset_id, func.count()).group_by(model.asset_id)
    if helped:
        query = query.where(model.stars >= 4)
    return {int(a): int(n) for a, n in session.exec(query).all()}


def library(engine: Engine, *, include_archived: bool = False) -> pl.DataFrame:
    """One row per asset (live ones only unless `include_archived`), newest first: its description,
    audience, owner, current version's link or file, and its uses, ratings and helped share (the share
    of its ratings with 4-5 stars; null when it has none)."""
    owner = aliased(User)
    with read_session(engine) as session:
        query = (
            sa_select(
                *_columns(
                    ContentAsset,
                    owner.name,
                    ContentVersion.link,
                    ContentVersion.filename,
                    ContentVersion.media_type,
                    ContentVersion.size_bytes,
                )
            )
            .outerjoin(owner, owner.id == ContentAsset.owner_id)  # type: ignore[arg-type]
            .outerjoin(
                ContentVersion,
                (ContentVersion.asset_id == ContentAsset.id)  # type: ignore[arg-type]
                & (ContentVersion.version == ContentAsset.current_version),
            )
            .order_by(col(ContentAsset.updated_at).desc(), col(ContentAsset.id).desc())
        )
        if not include_archived:
            query = query.where(col(ContentAsset.archived_at).is_(None))
        rows = session.execute(query).all()
        uses = _counts(session, ContentUse)
        ratings = _counts(session, ContentRating)
        helped = _counts(session, ContentRating, helped=True)
    records = []
    for asset, owner_name, link, filename, media_type, size_bytes in rows:
        asset_id = int(asset.id or 0)
        n = ratings.get(asset_id, 0)
        records.append(
            {
                "asset_id": asset_id,
                "title": asset.title,
                "kind": _enum_value(asset.kind),
                "description": asset.description,
                "stages": list(asset.stages or []),
                "personas": list(asset.personas or []),
                "industries": list(asset.industries or []),
                "company_sizes": list(asset.company_sizes or []),
                "owner": owner_name,
                "owner_id": asset.owner_id,
                "last_reviewed_on": asset.last_reviewed_on,
                "current_version": asset.current_version,
                "link": link,
                "filename": filename,
                "media_type": media_type,
                "size_bytes": size_bytes,
                "archived_at": _naive(asset.archived_at),
                "created_at": _naive(asset.created_at),
                "updated_at": _naive(asset.updated_at),
                "uses": uses.get(asset_id, 0),
                "ratings": n,
                "helped_share": helped.get(asset_id, 0) / n if n else None,
            }
        )
    return pl.DataFrame(records, schema=LIBRARY_SCHEMA, orient="row")


def asset_versions(engine: Engine, *, asset_id: int) -> list[VersionRow]:
    """Every version of an asset, newest first (without the bytes)."""
    by = aliased(User)
    with read_session(engine) as session:
        rows = session.execute(
            sa_select(
                *_columns(
                    ContentVersion.id,
                    ContentVersion.asset_id,
                    ContentVersion.version,
                    ContentVersion.link,
                    ContentVersion.filename,
                    ContentVersion.media_type,
                    ContentVersion.size_bytes,
                    ContentVersion.sha256,
                    by.name,
                    ContentVersion.created_by_id,
                    ContentVersion.created_at,
                )
            )
            .outerjoin(by, by.id == ContentVersion.created_by_id)  # type: ignore[arg-type]
            .where(col(ContentVersion.asset_id) == asset_id)
            .order_by(col(ContentVersion.version).desc())
        ).all()
    return [
        VersionRow(
            id=int(i or 0),
            asset_id=int(a),
            version=int(v),
            link=link,
            filename=filename,
            media_type=media_type,
            size_bytes=size,
            sha256=sha,
            created_by=name,
            created_by_id=by_id,
            created_at=_utc(at),
        )
        for i, a, v, link, filename, media_type, size, sha, name, by_id, at in rows
    ]


def file_of_version(engine: Engine, *, version_id: int) -> StoredFile | None:
    """The uploaded file of a version, from the database or the content folder; None for a link, or when
    the folder no longer holds the file as it was stored (missing, or its bytes changed since: they must
    still match the sha256 recorded at upload)."""
    with read_session(engine) as session:
        found = session.execute(
            sa_select(
                *_columns(
                    ContentVersion.filename,
                    ContentVersion.media_type,
                    ContentVersion.data,
                    ContentVersion.storage_key,
                    ContentVersion.sha256,
                )
            ).where(col(ContentVersion.id) == version_id)
        ).first()
    if found is None:
        return None
    filename, media_type, data, storage_key, sha256 = found
    if filename is None:
        return None
    if data is None:
        folder = _content_dir()
        if folder is None or storage_key is None or not _STORAGE_KEY.match(storage_key):
            return None
        path = folder / storage_key
        if not path.is_file():
            return None
        data = path.read_bytes()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            return None
    return StoredFile(
        filename=filename, media_type=media_type or "application/octet-stream", data=bytes(data)
    )


def lead_content(engine: Engine, *, lead_id: int, limit: int = 5) -> pl.DataFrame:
    """The live assets that fit the lead best (core.content_match.content_for_lead), best first; empty
    when the lead is gone."""
    with read_session(engine) as session:
        found = session.execute(
            sa_select(
                *_columns(
                    Lead.mql_at,
                    Lead.sql_at,
                    Lead.opportunity_at,
                    Lead.closed_at,
                    Lead.persona,
                    Lead.industry,
                    Lead.company_size,
                )
            ).where(col(Lead.id) == lead_id)
        ).first()
    assets = library(engine)
    if found is None:
        return content_for_lead(assets.head(0), LeadProfile(stage=None), limit=limit)
    mql_at, sql_at, opportunity_at, closed_at, persona, industry, company_size = found
    stage = lead_stage(mql_at=mql_at, sql_at=sql_at, opportunity_at=opportunity_at, closed_at=closed_at)
    profile = LeadProfile(stage=stage, persona=persona, industry=industry, company_size=company_size)
    return content_for_lead(assets, profile, limit=limit)


def my_content_on_lead(engine: Engine, *, user_id: int, lead_id: int) -> pl.DataFrame:
    """The assets this person used on the lead (archived ones too), newest use first, with their current
    rating of each (nulls when not rated)."""
    with read_session(engine) as session:
        rows = session.execute(
            sa_select(
                *_columns(
                    ContentUse.asset_id,
                    ContentAsset.title,
                    ContentAsset.kind,
                    ContentAsset.archived_at,
                    ContentUse.used_at,
                    ContentRating.id,
                    ContentRating.stars,
                    ContentRating.reasons,
                    ContentRating.note,
                    ContentRating.created_at,
                    ContentRating.updated_at,
                )
            )
            .join(ContentAsset, ContentAsset.id == ContentUse.asset_id)  # type: ignore[arg-type]
            .outerjoin(
                ContentRating,
                (ContentRating.asset_id == ContentUse.asset_id)  # type: ignore[arg-type]
                & (ContentRating.lead_id == ContentUse.lead_id)
                & (ContentRating.rater_id == ContentUse.user_id),
            )
            .where(col(ContentUse.user_id) == user_id, col(ContentUse.lead_id) == lead_id)
            .order_by(col(ContentUse.used_at).desc(), col(ContentUse.asset_id))
        ).all()
    records = []
    for (
        asset_id,
        title,
        kind,
        archived_at,
        used_at,
        rating_id,
        stars,
        reasons,
        note,
        rated_at,
        changed_at,
    ) in rows:
        records.append(
            {
                "asset_id": asset_id,
                "title": title,
                "kind": _enum_value(kind),
                "archived_at": _naive(archived_at),
                "used_at": _naive(used_at),
                "rating_id": rating_id,
                "stars": stars,
                "reasons": list(reasons) if reasons is not None else None,
                "note": note,
                "rated_at": _naive(rated_at),
                "changed_at": _naive(changed_at),
            }
        )
    return pl.DataFrame(records, schema=MY_CONTENT_SCHEMA, orient="row")


def requests(engine: Engine, *, user_id: int | None = None) -> pl.DataFrame:
    """Every content request, newest first, with its votes and voters; `i_voted` whether `user_id` backs
    it (False without a user)."""
    asker = aliased(User)
    answerer = aliased(User)
    with read_session(engine) as session:
        rows = session.exec(
            select(ContentRequest, asker.name, answerer.name, ContentAsset.title)
            .outerjoin(asker, asker.id == ContentRequest.requested_by_id)  # type: ignore[arg-type]
            .outerjoin(answerer, answerer.id == ContentRequest.answered_by_id)  # type: ignore[arg-type]
            .outerjoin(ContentAsset, ContentAsset.id == ContentRequest.answer_asset_id)  # type: ignore[arg-type]
            .order_by(col(ContentRequest.created_at).desc(), col(ContentRequest.id).desc())
        ).all()
        voters: dict[int, list[int]] = {}
        for request_id, voter in session.exec(
            select(ContentRequestVote.request_id, ContentRequestVote.user_id).order_by(
                col(ContentRequestVote.request_id), col(ContentRequestVote.user_id)
            )
        ).all():
            voters.setdefault(int(request_id), []).append(int(voter))
    records = []
    for row, asked_by, answered_by, answer_title in rows:
        ids = voters.get(int(row.id or 0), [])
        records.append(
            {
                "request_id": row.id,
                "what": row.what,
                "detail": row.detail,
                "kind": _enum_value(row.kind),
                "persona": row.persona,
                "stage": row.stage,
                "industry": row.industry,
                "lead_id": row.lead_id,
                "requested_by": asked_by,
                "requested_by_id": row.requested_by_id,
                "status": _enum_value(row.status),
                "answer_reason": row.answer_reason,
                "answer_asset_id": row.answer_asset_id,
                "answer_title": answer_title,
                "answered_by": answered_by,
                "answered_at": _naive(row.answered_at),
                "created_at": _naive(row.created_at),
                "votes": len(ids),
                "voter_ids": ids,
                "i_voted": user_id is not None and user_id in ids,
            }
        )
    return pl.DataFrame(records, schema=REQUESTS_SCHEMA, orient="row")
