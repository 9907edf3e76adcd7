"""The whole data model. Alembic owns the schema (db/migrations); these classes describe it.

Times are timezone-aware UTC `datetime`s (SQLModel's UTCDateTime: timestamptz on PostgreSQL, UTC text on
SQLite). Frames handed to `core` carry them as naive UTC; the loaders in db/frames.py do that conversion.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    rep = "rep"
    sales_manager = "sales_manager"
    marketer = "marketer"
    executive = "executive"
    admin = "admin"


class Outcome(enum.StrEnum):
    won = "won"
    lost = "lost"


class CriteriaStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    retired = "retired"
    rejected = "rejected"


class AlertKind(enum.StrEnum):
    """What a person can be told about (issue 13): each is chosen per channel on *My account*."""

    new_mql = "new_mql"  # a rep: each new MQL assigned to them, at once
    follow_up_reminder = "follow_up_reminder"  # a rep: before an MQL's follow-up window ends
    team_breach = "team_breach"  # a sales manager: an MQL of their team untouched or unrated past the SLA
    draft_waiting = "draft_waiting"  # a sales manager: a criteria draft waiting for their approval
    draft_decision = "draft_decision"  # a marketer: their draft approved, rejected or commented on
    acceptance_low = "acceptance_low"  # a marketer: the week's MQL acceptance under the SLA target
    weekly_report = "weekly_report"  # anyone who opts in: the weekly sync report, the morning after
    action_items = "action_items"  # anyone who opts in: the open action items they own


class Channel(enum.StrEnum):
    email = "email"
    chat = "chat"  # the team's incoming webhook (Slack- or Teams-compatible)


class Cadence(enum.StrEnum):
    instant = "instant"  # one message per event, as it happens
    digest = "digest"  # one message a day, never repeating an item an earlier digest held


class OutboxStatus(enum.StrEnum):
    queued = "queued"  # due at next_attempt_at (again, after a failed attempt)
    sending = "sending"  # claimed by a sender until claimed_until; a killed sender's claim runs out
    sent = "sent"
    failed = "failed"  # given up after the last retry: shown on the Delivery page, an admin may retry


class HandoffAnswer(enum.StrEnum):
    """A rep's answer to an MQL handed to them (issue 13)."""

    accept = "accept"  # I am working it
    recycle = "recycle"  # not now: back to marketing's nurture list until a date
    reject = "reject"  # never: with a reason


class ContentKind(enum.StrEnum):
    """What a piece of sales content is (issue 14)."""

    case_study = "case_study"
    deck = "deck"
    one_pager = "one_pager"
    email_template = "email_template"
    battle_card = "battle_card"
    video = "video"
    other = "other"


class ContentRequestStatus(enum.StrEnum):
    open = "open"  # asked, not yet triaged
    accepted = "accepted"  # marketing will make it
    in_progress = "in_progress"
    done = "done"  # answered with an asset (answer_asset_id)
    declined = "declined"  # with a reason


def _enum_type(enum_class: type[enum.Enum]) -> SAEnum:
    # Plain VARCHAR, not a native PostgreSQL ENUM: adding a value later needs no type migration.
    return SAEnum(enum_class, native_enum=False, length=20, create_constraint=True)


def _json_column(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


# ---------------------------------------------------------------- people


class TeamBase(SQLModel):
    name: str = Field(max_length=120, unique=True, index=True)
    region: str | None = Field(default=None, max_length=120)


class Team(TeamBase, table=True):
    __tablename__ = "teams"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class UserBase(SQLModel):
    username: str = Field(max_length=120, unique=True, index=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    role: Role = Field(default=Role.rep, index=True, sa_type=_enum_type(Role))
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    active: bool = Field(default=True)


class User(UserBase, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str | None = Field(default=None, max_length=100)
    must_change_password: bool = Field(default=False)
    # Where an imported user came from (e.g. Olist's SR id); null for people made in Huddle.
    source_system: str | None = Field(default=None, max_length=60)
    external_id: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class UserCreate(UserBase):
    password: str | None = None


class UserPublic(UserBase):
    id: int


class UserSession(SQLModel, table=True):
    """A server-side login session; the cookie carries only its id, so ending the row ends the login."""

    __tablename__ = "user_sessions"
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = Field(default=None)
    end_reason: str | None = Field(default=None, max_length=40)


class LoginAttempt(SQLModel, table=True):
    """Every login try, known username or not: lockout counts these inside a time window."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=120)
    at: datetime = Field(default_factory=utcnow)
    succeeded: bool = Field(default=False)


# ---------------------------------------------------------------- data sources and leads


class DataSource(SQLModel, table=True):
    """What one source system (demo, olist, maven, a CSV mapping) holds, so pages can say what it lacks."""

    __tablename__ = "data_sources"
    name: str = Field(primary_key=True, max_length=60)
    label: str = Field(max_length=200)
    # Stage names this source records, e.g. ["created", "mql", "won"]; absent stages are "missing", never 0.
    stages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # True when the importer declares that a later stage implies the earlier ones for conversion maths.
    later_stage_implies_earlier: bool = Field(default=False)
    has_traffic: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow)


class LeadBase(SQLModel):
    source_system: str = Field(max_length=60, foreign_key="data_sources.name")
    external_id: str = Field(max_length=120)
    created_at: datetime | None = Field(default=None, index=True)
    mql_at: datetime | None = Field(default=None, index=True)
    sql_at: datetime | None = Field(default=None, index=True)
    opportunity_at: datetime | None = Field(default=None, index=True)
    closed_at: datetime | None = Field(default=None, index=True)
    outcome: Outcome | None = Field(default=None, sa_type=_enum_type(Outcome))
    amount: float | None = Field(default=None, ge=0)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    source: str | None = Field(default=None, max_length=120, index=True)
    campaign: str | None = Field(default=None, max_length=200, index=True)
    landing_page: str | None = Field(default=None, max_length=300)
    industry: str | None = Field(default=None, max_length=120, index=True)
    company_size: str | None = Field(default=None, max_length=40)
    country: str | None = Field(default=None, max_length=80)
    persona: str | None = Field(default=None, max_length=80)
    page_views: int = Field(default=0, ge=0)
    email_clicks: int = Field(default=0, ge=0)
    content_downloads: int = Field(default=0, ge=0)
    first_touch_at: datetime | None = Field(default=None)


class Lead(LeadBase, table=True):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("source_system", "external_id", name="uq_leads_source_external"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="ck_leads_amount_nonneg"),
        CheckConstraint("outcome IS NULL OR closed_at IS NOT NULL", name="ck_leads_outcome_closed"),
    )
    id: int | None = Field(default=None, primary_key=True)
    attributes: dict[str, Any] | None = _json_column()
    # Why this lead is an MQL: the criteria version that scored it, its score, and the rules that fired.
    criteria_version_id: int | None = Field(default=None, foreign_key="criteria_versions.id")
    score: int | None = Field(default=None)
    fired_rule_ids: list[int] | None = _json_column()
    mql_by_import: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow)


class LeadCreate(LeadBase):
    attributes: dict[str, Any] | None = None


class Activity(SQLModel, table=True):
    """A logged sales touch (call, email, meeting); the first touch feeds speed to lead."""

    __tablename__ = "activities"
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    kind: str = Field(max_length=30)
    at: datetime = Field(default_factory=utcnow, index=True)
    note: str | None = Field(default=None, max_length=2000)


class DailyTraffic(SQLModel, table=True):
    __tablename__ = "daily_traffic"
    __table_args__ = (
        UniqueConstraint("source_system", "day", "channel", name="uq_traffic_day_channel"),
        CheckConstraint("sessions >= 0", name="ck_traffic_sessions_nonneg"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source_system: str = Field(max_length=60, foreign_key="data_sources.name")
    day: date = Field(index=True)
    channel: str = Field(max_length=120)
    sessions: int = Field(default=0)


class Quota(SQLModel, table=True):
    """A revenue target for one rep or one team over one month or quarter."""

    __tablename__ = "quotas"
    __table_args__ = (
        CheckConstraint("(user_id IS NOT NULL) <> (team_id IS NOT NULL)", name="ck_quota_rep_xor_team"),
        CheckConstraint("period_end >= period_start", name="ck_quota_period_order"),
        CheckConstraint("amount >= 0", name="ck_quota_amount_nonneg"),
        UniqueConstraint("user_id", "team_id", "period_start", "period_end", name="uq_quota_period"),
        Index("ix_quotas_period", "period_start", "period_end"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    period_start: date
    period_end: date
    period_kind: str = Field(default="month", max_length=10)
    amount: float


# ---------------------------------------------------------------- lead-quality feedback


class LeadRating(SQLModel, table=True):
    """The current rating of one lead by one rater; every change is also appended to the history."""

    __tablename__ = "lead_ratings"
    __table_args__ = (
        UniqueConstraint("lead_id", "rater_id", name="uq_rating_lead_rater"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="ck_rating_stars"),
    )
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    rater_id: int = Field(foreign_key="users.id", index=True)
    stars: int
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class LeadRatingHistory(SQLModel, table=True):
    __tablename__ = "lead_rating_history"
    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="lead_ratings.id", index=True)
    stars: int
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, max_length=2000)
    changed_by_id: int = Field(foreign_key="users.id")
    changed_at: datetime = Field(default_factory=utcnow)


# ---------------------------------------------------------------- targeting criteria


class CriteriaVersion(SQLModel, table=True):
    """One written definition of MQL: rules plus a threshold. Immutable once active."""

    __tablename__ = "criteria_versions"
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    status: CriteriaStatus = Field(
        default=CriteriaStatus.draft, index=True, sa_type=_enum_type(CriteriaStatus)
    )
    threshold: int
    rationale: str | None = Field(default=None, max_length=4000)
    based_on_id: int | None = Field(default=None, foreign_key="criteria_versions.id")
    proposed_by_id: int | None = Field(default=None, foreign_key="users.id")
    proposed_at: datetime = Field(default_factory=utcnow)
    approved_by_id: int | None = Field(default=None, foreign_key="users.id")
    approved_at: datetime | None = Field(default=None)
    activated_at: datetime | None = Field(default=None)
    retired_at: datetime | None = Field(default=None)


class CriteriaRule(SQLModel, table=True):
    __tablename__ = "criteria_rules"
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="criteria_versions.id", index=True)
    attribute: str = Field(max_length=60)
    operator: str = Field(max_length=10)  # eq, ne, in, gte, lte
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=False))
    points: int


class CriteriaComment(SQLModel, table=True):
    """A comment, rejection or approval on a criteria version, from either side."""

    __tablename__ = "criteria_comments"
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="criteria_versions.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    kind: str = Field(default="comment", max_length=20)  # comment, reject, approve
    text: str = Field(max_length=4000)
    at: datetime = Field(default_factory=utcnow)


# ---------------------------------------------------------------- the weekly sync


class SlaSetting(SQLModel, table=True):
    """One version of the two-sided SLA, company-wide (team_id null) or per team. Append-only."""

    __tablename__ = "sla_settings"
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    mqls_per_month: int = Field(ge=0)
    follow_up_hours: int = Field(ge=1)
    rating_days: int = Field(ge=1)
    acceptance_target: float = Field(ge=0, le=1)
    # Days an unrated MQL stays in the rating queue after the rating days; set by an admin.
    rating_grace_days: int = Field(default=14, ge=0, sa_column_kwargs={"server_default": "14"})
    effective_from: datetime = Field(default_factory=utcnow)
    set_by_id: int | None = Field(default=None, foreign_key="users.id")


class ActionItem(SQLModel, table=True):
    __tablename__ = "action_items"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=500)
    owner_id: int = Field(foreign_key="users.id", index=True)
    due_date: date | None = Field(default=None)
    meeting_week: str = Field(max_length=8, index=True)  # ISO week, e.g. 2026-W47
    created_by_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = Field(default=None, index=True)
    closed_by_id: int | None = Field(default=None, foreign_key="users.id")


# ---------------------------------------------------------------- imports and audit


class ImportRun(SQLModel, table=True):
    __tablename__ = "import_runs"
    id: int | None = Field(default=None, primary_key=True)
    source_system: str = Field(max_length=60)
    file_name: str = Field(max_length=300)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    users_created: int = 0
    status: str = Field(default="running", max_length=20)


class SavedMapping(SQLModel, table=True):
    __tablename__ = "saved_mappings"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    toml: str
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    """Append-only: who did what to which object, with what outcome, at which UTC time."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    actor_username: str | None = Field(default=None, max_length=120)
    action: str = Field(max_length=60, index=True)
    object_type: str | None = Field(default=None, max_length=60)
    object_id: str | None = Field(default=None, max_length=120)
    outcome: str = Field(default="ok", max_length=20)  # ok, denied, failed
    detail: str | None = Field(default=None, max_length=4000)


# ---------------------------------------------------------------- the handoff and its alerts (issue 13)


class LeadHandoff(SQLModel, table=True):
    """A rep's current answer to one MQL (one per lead); every earlier answer is in lead_handoff_history."""

    __tablename__ = "lead_handoffs"
    __table_args__ = (UniqueConstraint("lead_id", name="uq_handoff_lead"),)
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    rep_id: int = Field(foreign_key="users.id", index=True)
    answer: HandoffAnswer = Field(sa_type=_enum_type(HandoffAnswer), index=True)
    reason: str | None = Field(default=None, max_length=500)
    come_back_on: date | None = Field(default=None)  # a recycled lead's date to return to sales
    # The first answer ever given: the first touch for speed to lead, whatever the answer is now.
    first_answered_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime = Field(default_factory=utcnow, index=True)


class LeadHandoffHistory(SQLModel, table=True):
    __tablename__ = "lead_handoff_history"
    id: int | None = Field(default=None, primary_key=True)
    handoff_id: int = Field(foreign_key="lead_handoffs.id", index=True)
    answer: HandoffAnswer = Field(sa_type=_enum_type(HandoffAnswer))
    reason: str | None = Field(default=None, max_length=500)
    come_back_on: date | None = Field(default=None)
    changed_by_id: int = Field(foreign_key="users.id")
    changed_at: datetime = Field(default_factory=utcnow)


class AlertPreference(SQLModel, table=True):
    """One person's choice for one kind of alert on one channel; without a row the role's default holds."""

    __tablename__ = "alert_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", "channel", name="uq_alert_preference"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: AlertKind = Field(sa_type=_enum_type(AlertKind))
    channel: Channel = Field(sa_type=_enum_type(Channel))
    enabled: bool = Field(default=False)
    cadence: Cadence = Field(default=Cadence.instant, sa_type=_enum_type(Cadence))
    updated_at: datetime = Field(default_factory=utcnow)


class AlertDefault(SQLModel, table=True):
    """An admin's default for one role, kind and channel; without a row the built-in default holds."""

    __tablename__ = "alert_defaults"
    __table_args__ = (UniqueConstraint("role", "kind", "channel", name="uq_alert_default"),)
    id: int | None = Field(default=None, primary_key=True)
    role: Role = Field(sa_type=_enum_type(Role))
    kind: AlertKind = Field(sa_type=_enum_type(AlertKind))
    channel: Channel = Field(sa_type=_enum_type(Channel))
    enabled: bool = Field(default=False)
    cadence: Cadence = Field(default=Cadence.instant, sa_type=_enum_type(Cadence))
    set_by_id: int | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = Field(default_factory=utcnow)


class AlertState(SQLModel, table=True):
    """Small named facts the alerting keeps, e.g. `alerts_since`: nothing that happened before it is told."""

    __tablename__ = "alert_state"
    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """One message to one person on one channel, written in the transaction of the event that caused it.

    The unique (event_key, user_id, channel) makes a second enqueue of the same event a no-op, so however
    often events are found or senders run, a person gets one message per event and channel."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("event_key", "user_id", "channel", name="uq_outbox_event_person_channel"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_key: str = Field(max_length=200)  # e.g. "new_mql:lead:123", "digest:team_breach:2026-12-07"
    kind: AlertKind = Field(sa_type=_enum_type(AlertKind), index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    channel: Channel = Field(sa_type=_enum_type(Channel))
    lead_id: int | None = Field(default=None, foreign_key="leads.id", index=True)
    recipient: str | None = Field(default=None, max_length=254)  # the address; chat reads its URL at send
    subject: str = Field(max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    chat: dict[str, Any] | None = _json_column()  # the webhook's JSON body
    status: OutboxStatus = Field(default=OutboxStatus.queued, sa_type=_enum_type(OutboxStatus))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_until: datetime | None = Field(default=None)
    sent_at: datetime | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class DigestItem(SQLModel, table=True):
    """One item waiting for a person's next digest; `outbox_id` is set once a digest holds it, so a later
    digest never repeats it."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("user_id", "kind", "channel", "event_key", name="uq_digest_item"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: AlertKind = Field(sa_type=_enum_type(AlertKind))
    channel: Channel = Field(sa_type=_enum_type(Channel))
    event_key: str = Field(max_length=200)
    lead_id: int | None = Field(default=None, foreign_key="leads.id")
    line: str = Field(max_length=1000)  # the item as one plain line; the digest escapes it for HTML
    created_at: datetime = Field(default_factory=utcnow)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)


# ---------------------------------------------------------------- sales content (issue 14)


class ContentAsset(SQLModel, table=True):
    """One piece of marketing's sales content. Its link or file is its newest content_versions row; an
    asset that was used is archived, never deleted, so its uses and ratings keep their history.

    The audience lists (stages, personas, industries, company sizes) hold the values it is for; an empty
    list means any."""

    __tablename__ = "content_assets"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    kind: ContentKind = Field(sa_type=_enum_type(ContentKind), index=True)
    description: str | None = Field(default=None, max_length=2000)
    stages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    personas: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    industries: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    company_sizes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    last_reviewed_on: date | None = Field(default=None)
    current_version: int = Field(default=1)
    archived_at: datetime | None = Field(default=None, index=True)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class ContentVersion(SQLModel, table=True):
    """One version of an asset's content: a link (http/https) or an uploaded file, whose bytes are in
    `data` or, when the settings name a folder, in that folder under `storage_key`."""

    __tablename__ = "content_versions"
    __table_args__ = (
        UniqueConstraint("asset_id", "version", name="uq_content_version"),
        CheckConstraint("(link IS NULL) <> (filename IS NULL)", name="ck_content_link_xor_file"),
    )
    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(foreign_key="content_assets.id", index=True)
    version: int
    link: str | None = Field(default=None, max_length=2000)
    filename: str | None = Field(default=None, max_length=255)
    media_type: str | None = Field(default=None, max_length=120)
    size_bytes: int | None = Field(default=None)
    sha256: str | None = Field(default=None, max_length=64)
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    storage_key: str | None = Field(default=None, max_length=300)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)


class ContentUse(SQLModel, table=True):
    """A rep used an asset on a lead or deal: one row per asset, lead and rep however often it is logged."""

    __tablename__ = "content_uses"
    __table_args__ = (
        UniqueConstraint("asset_id", "lead_id", "user_id", name="uq_content_use"),
        Index("ix_content_uses_asset_used", "asset_id", "used_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(foreign_key="content_assets.id")
    lead_id: int = Field(foreign_key="leads.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    used_at: datetime = Field(default_factory=utcnow, index=True)


class ContentRating(SQLModel, table=True):
    """A rep's current *helped?* rating of an asset on one lead; each change is also in the history."""

    __tablename__ = "content_ratings"
    __table_args__ = (
        UniqueConstraint("asset_id", "lead_id", "rater_id", name="uq_content_rating"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="ck_content_rating_stars"),
    )
    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(foreign_key="content_assets.id", index=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    rater_id: int = Field(foreign_key="users.id", index=True)
    stars: int
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class ContentRatingHistory(SQLModel, table=True):
    __tablename__ = "content_rating_history"
    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="content_ratings.id", index=True)
    stars: int
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, max_length=2000)
    changed_by_id: int = Field(foreign_key="users.id")
    changed_at: datetime = Field(default_factory=utcnow)


class ContentRequest(SQLModel, table=True):
    """A rep's request for content that is missing, and marketing's answer to it."""

    __tablename__ = "content_requests"
    id: int | None = Field(default=None, primary_key=True)
    what: str = Field(max_length=200)
    detail: str | None = Field(default=None, max_length=2000)
    kind: ContentKind | None = Field(default=None, sa_type=_enum_type(ContentKind))
    persona: str | None = Field(default=None, max_length=80)
    stage: str | None = Field(default=None, max_length=40)
    industry: str | None = Field(default=None, max_length=120)
    lead_id: int | None = Field(default=None, foreign_key="leads.id")  # the deal it is for, if any
    requested_by_id: int = Field(foreign_key="users.id", index=True)
    status: ContentRequestStatus = Field(
        default=ContentRequestStatus.open, sa_type=_enum_type(ContentRequestStatus), index=True
    )
    answer_reason: str | None = Field(default=None, max_length=500)  # why declined, or a note
    answer_asset_id: int | None = Field(default=None, foreign_key="content_assets.id")  # done: the asset
    answered_by_id: int | None = Field(default=None, foreign_key="users.id")
    answered_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class ContentRequestVote(SQLModel, table=True):
    """Someone backs a request (the requester's own ask counts as a request, not a vote)."""

    __tablename__ = "content_request_votes"
    __table_args__ = (UniqueConstraint("request_id", "user_id", name="uq_content_request_vote"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="content_requests.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
