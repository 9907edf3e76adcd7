"""Write a LeadBatch: upsert on (source system, external id), people and teams first, in one transaction.

The work is split in two: `plan` only reads (what would be created, updated, left alone, which people
are new), so a dry run reports exactly what the import would do; `apply` writes that plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from db.bulk import bulk_cache, bulk_insert, execute_chunked, fix_sequences, rebuilt_indexes, text_times
from db.frames import DATETIME_FORMAT, read_query, utc_text
from db.importing.batch import COUNT_FIELDS, STAGE_TIMES, TEXT_FIELDS, LeadBatch, PersonSpec
from db.importing.errors import InvalidInput, Problem, ProblemReport, fix_hint
from db.importing.mapping import is_imported_rater
from db.importing.raters import create_imported_rater, imported_rater_id, is_imported_rater_user, named_rater
from db.importing.ratings import write_imported_ratings
from db.importing.spelling import COUNTS_SCHEMA, SPELLED_ALIKE, as_stored
from db.importing.usernames import looks_like_email, unique_username, username_from
from db.models import DataSource, Team, User, utcnow
from db.progress import ProgressFn, no_progress

# The lead columns an import owns; the rest (scores, first touch) belong to other features.
COMPARED: dict[str, pl.DataType] = {
    **{name: pl.Datetime("us") for name in STAGE_TIMES},
    "outcome": pl.String(),
    "amount": pl.Float64(),
    "owner_id": pl.Int64(),
    "team_id": pl.Int64(),
    **{name: pl.String() for name in TEXT_FIELDS},
    **{name: pl.Int64() for name in COUNT_FIELDS},
    "attributes": pl.String(),
    "mql_by_import": pl.Boolean(),
}
EXISTING_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "external_id": pl.String(),
    **{name: (pl.Int64() if name == "mql_by_import" else dtype) for name, dtype in COMPARED.items()},
}
EXISTING_CHUNK = 50_000
COMPARING = "comparing with the leads already in Huddle"


@dataclass(frozen=True)
class NewPerson:
    placeholder: int  # a negative id standing in for the user until it exists
    spec: PersonSpec
    username: str


@dataclass
class ImportPlan:
    source_exists: bool
    new_leads: pl.DataFrame  # COMPARED columns + external_id, owner ids may be placeholders
    changed_leads: pl.DataFrame  # the same + id
    unchanged: int
    new_people: list[NewPerson]
    team_ids: dict[str, int | None]  # team name -> id (None: to be created)
    # external_id, lead_id (null for a new lead), rater_id (may be a placeholder), stars
    ratings: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    # The placeholder id of the pseudo-rater "Imported rating" when this import is the first to need it.
    new_imported_rater: int | None = None

    @property
    def users_created(self) -> int:
        return len(self.new_people) + (self.new_imported_rater is not None)


@dataclass(frozen=True)
class ImportCounts:
    rows_read: int
    created: int
    updated: int
    unchanged: int
    users_created: int
    teams_created: int
    ratings_written: int = 0

    @property
    def wrote_anything(self) -> bool:
        return any((self.created, self.updated, self.users_created, self.teams_created, self.ratings_written))

    def describe(self) -> str:
        if self.created == 0 and self.updated == 0 and self.users_created == 0 and self.ratings_written == 0:
            return f"nothing changed: all {self.unchanged:,} leads were already up to date"
        parts = [
            f"{self.rows_read:,} rows read",
            f"{self.created:,} leads created",
            f"{self.updated:,} updated",
            f"{self.unchanged:,} unchanged",
            f"{self.users_created:,} users created",
        ]
        if self.teams_created:
            parts.append(f"{self.teams_created:,} teams created")
        if self.ratings_written:
            parts.append(f"{self.ratings_written:,} ratings written")
        return ", ".join(parts)


# ---------------------------------------------------------------- people and teams


def _tier(users: Sequence[User], key_of: Callable[[User], str | None]) -> dict[str, int | None]:
    """Lower-cased key -> user id, or None where two users share the key (ambiguous: never guessed)."""
    tier: dict[str, int | None] = {}
    for user in users:
        key = key_of(user)
        if not key:
            continue
        key = key.strip().lower()
        tier[key] = user.id if tier.get(key, user.id) == user.id else None
    return tier


def _people_index(users: Sequence[User], by_name: bool) -> Callable[[str], int | None]:
    """Finds the user a person key names. Mappings match on name, then email, then username, and the first
    of these that holds the key decides: an owner called "kim" is the user *named* kim even when another
    user's username happens to be kim too. Presets match on username only."""
    tiers = [_tier(users, lambda u: u.username)]
    if by_name:
        tiers = [_tier(users, lambda u: u.name), _tier(users, lambda u: u.email), *tiers]

    def find(key: str) -> int | None:
        for tier in tiers:
            if key in tier:
                return tier[key]
        return None

    return find


def _resolve_people(batch: LeadBatch, users: Sequence[User]) -> tuple[dict[str, int], list[NewPerson]]:
    """Person key -> user id (negative for people to create), and the new people."""
    taken = {user.username for user in users}
    # An owner is a person: never the pseudo-rater, even when the file names one "Imported rating".
    find = _people_index([u for u in users if not is_imported_rater_user(u)], batch.match_people_by_name)
    ids: dict[str, int] = {}
    new: list[NewPerson] = []
    for spec in batch.people:
        if batch.match_people_by_name:
            found = find(spec.key.strip().lower())
        else:
            found = find(username_from(spec.username_hint))
        if found is not None:
            ids[spec.key] = found
            continue
        username = (
            username_from(spec.username_hint)
            if not batch.match_people_by_name and username_from(spec.username_hint) not in taken
            else unique_username(spec.username_hint, taken)
        )
        taken.add(username)
        person = NewPerson(placeholder=-(len(new) + 1), spec=spec, username=username)
        new.append(person)
        ids[spec.key] = person.placeholder
    return ids, new


def _team_names(batch: LeadBatch) -> list[str]:
    names = [t.name for t in batch.teams] + [p.team for p in batch.people if p.team]
    names += batch.leads.get_column("team").drop_nulls().unique(maintain_order=True).to_list()
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------- comparing with what is there


def _existing_leads(session: Session, engine: Engine, source: str, progress: ProgressFn) -> pl.DataFrame:
    times = ", ".join(utc_text(engine, name) for name in STAGE_TIMES)
    attributes = "leads.attributes" if engine.dialect.name == "sqlite" else "leads.attributes::text"
    columns = ["outcome", "amount", "owner_id", "team_id", *TEXT_FIELDS, *COUNT_FIELDS]
    sql = (
        f"SELECT leads.id, leads.external_id, {times}, "  # noqa: S608 - names are ours, the source is quoted
        + ", ".join(f"leads.{c}" for c in columns)
        + f", {attributes}, CAST(leads.mql_by_import AS INTEGER) FROM leads "
        + "WHERE leads.source_system = '{}'".format(source.replace("'", "''"))
    )
    if engine.dialect.name == "sqlite":
        frame = _read_sqlite_in_chunks(session, sql, source, progress)
    else:
        frame = read_query(engine, sql, EXISTING_SCHEMA)
    return frame.with_columns(pl.col("mql_by_import").cast(pl.Boolean))


def _read_sqlite_in_chunks(session: Session, sql: str, source: str, progress: ProgressFn) -> pl.DataFrame:
    """The rows of `sql` as EXISTING_SCHEMA, read on the session's own connection a chunk at a time: a
    million rows as Python tuples all at once would take a gigabyte, and the progress bar moves."""
    connection = session.connection()
    total = int(
        connection.execute(
            text("SELECT count(*) FROM leads WHERE source_system = :source"), {"source": source}
        ).scalar_one()
    )
    as_text = {
        name: (pl.String() if name in STAGE_TIMES else dtype) for name, dtype in EXISTING_SCHEMA.items()
    }
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    chunks: list[pl.DataFrame] = []
    read = 0
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(EXISTING_CHUNK):
            chunks.append(pl.DataFrame(rows, schema=as_text, orient="row", strict=False))
            read += len(rows)
            progress(COMPARING, 0.9 * min(1.0, read / max(total, 1)))
    finally:
        cursor.close()
    frame = pl.concat(chunks) if chunks else pl.DataFrame(schema=as_text)
    return frame.with_columns(
        pl.col(name).str.to_datetime(DATETIME_FORMAT, time_unit="us", strict=True) for name in STAGE_TIMES
    )


def _stored_spellings(
    session: Session, source: str, existing: pl.DataFrame, incoming: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Per SPELLED_ALIKE field, the spellings stored and how many leads hold each, leaving out the leads
    this import rewrites: a re-import that fixes a spelling on every lead of its source may change it."""
    untouched = existing.join(incoming.select("external_id"), on="external_id", how="anti")
    connection = session.connection()
    stored = {}
    for name in SPELLED_ALIKE:
        others = connection.execute(
            text(
                f"SELECT {name}, count(*) FROM leads "  # noqa: S608 - the names are ours
                f"WHERE source_system <> :source AND {name} IS NOT NULL GROUP BY {name}"
            ),
            {"source": source},
        ).all()
        here = untouched.group_by(pl.col(name).alias("spelling")).agg(pl.len().cast(pl.Int64).alias("n"))
        stored[name] = pl.concat([pl.DataFrame(others, schema=COUNTS_SCHEMA, orient="row"), here])
    return stored


def _incoming(batch: LeadBatch, person_ids: dict[str, int]) -> pl.DataFrame:
    """The batch's rows with owner ids."""
    owners = pl.DataFrame(
        {"owner": list(person_ids), "owner_id": list(person_ids.values())},
        schema={"owner": pl.String(), "owner_id": pl.Int64()},
    )
    return batch.leads.join(owners, on="owner", how="left")


def _differs(name: str, dtype: pl.DataType) -> pl.Expr:
    new, old = pl.col(name), pl.col(f"{name}_old")
    if dtype == pl.Float64():
        return ~(
            (new.is_null() & old.is_null()) | ((new - old).abs() <= 1e-9 * (1 + old.abs())).fill_null(False)
        )
    return new.ne_missing(old)


def plan_import(session: Session, engine: Engine, batch: LeadBatch, progress: ProgressFn) -> ImportPlan:
    users = session.exec(select(User)).all()
    person_ids, new_people = _resolve_people(batch, users)
    owner_teams = {user.id: user.team_id for user in users}
    teams = {team.name: team.id for team in session.exec(select(Team)).all()}
    team_ids: dict[str, int | None] = {name: teams.get(name) for name in _team_names(batch)}
    progress(COMPARING, 0.0)
    existing = _existing_leads(session, engine, batch.source.name, progress)
    incoming = _incoming(batch, person_ids)
    incoming = as_stored(incoming, _stored_spellings(session, batch.source.name, existing, incoming))
    known_team = pl.col("team").replace_strict(
        {k: v for k, v in team_ids.items() if v is not None}, default=None, return_dtype=pl.Int64
    )
    owner_team = pl.col("owner_id").replace_strict(
        {k: v for k, v in owner_teams.items() if k is not None}, default=None, return_dtype=pl.Int64
    )
    incoming = incoming.with_columns(
        pl.when(pl.col("team").is_not_null()).then(known_team).otherwise(owner_team).alias("team_id")
    )
    joined = incoming.join(
        existing.rename({c: f"{c}_old" for c in COMPARED}), on="external_id", how="left", coalesce=True
    )
    is_new = pl.col("id").is_null()
    # A lead whose team is still to be created cannot equal what is stored.
    new_team = pl.col("team").is_not_null() & known_team.is_null()
    changed = pl.any_horizontal([_differs(n, d) for n, d in COMPARED.items()]) | new_team
    keep = ["external_id", "team", *COMPARED]
    rater = _batch_rater(batch, users, person_ids, len(new_people))
    rater_id = pl.col("owner_id") if rater is None else pl.lit(rater, pl.Int64)
    ratings = joined.filter(pl.col("rating").is_not_null()).select(
        "external_id",
        pl.col("id").alias("lead_id"),
        rater_id.alias("rater_id"),
        pl.col("rating").alias("stars"),
    )
    plan = ImportPlan(
        source_exists=session.get(DataSource, batch.source.name) is not None,
        new_leads=joined.filter(is_new).select(keep),
        changed_leads=joined.filter(~is_new & changed).select("id", *keep),
        unchanged=joined.filter(~is_new & ~changed).height,
        new_people=new_people,
        team_ids=team_ids,
        ratings=ratings,
        new_imported_rater=rater if rater is not None and rater < 0 and _new_pseudo(batch) else None,
    )
    progress(COMPARING, 1.0)
    return plan


def _new_pseudo(batch: LeadBatch) -> bool:
    return batch.rater is not None and is_imported_rater(batch.rater)


def _batch_rater(
    batch: LeadBatch, users: Sequence[User], person_ids: dict[str, int], placeholders: int
) -> int | None:
    """The id of the one rater the batch names ([rating] rater), a placeholder for one still to be created
    (the pseudo-rater, or an owner this very import adds); None when each lead's owner rates it.
    InvalidInput when the name is no user's, or several users'."""
    if batch.rater is None:
        return None
    if is_imported_rater(batch.rater):
        found = imported_rater_id(users)
        return found if found is not None else -(placeholders + 1)
    matches = named_rater(users, batch.rater)
    if len(matches) == 1 and matches[0].id is not None:
        return matches[0].id
    if not matches:
        folded = batch.rater.strip().casefold()
        new_owner = [i for key, i in person_ids.items() if i < 0 and key.strip().casefold() == folded]
        if new_owner:
            return new_owner[0]
    raise InvalidInput(_unknown_rater(batch, len(matches)))


def _unknown_rater(batch: LeadBatch, matches: int) -> ProblemReport:
    said = (
        f"{matches} Huddle users have this name, email or username: name one by their username"
        if matches
        else "no Huddle user has this name, email or username (nor does an owner in the file); name an "
        'existing user, or write rater = "Imported rating" for ratings given by nobody in particular'
    )
    report = ProblemReport()
    report.add(
        Problem(
            batch.file_name, None, "[rating] rater", batch.rater or "", said, fix=fix_hint("rating.rater")
        )
    )
    return report


# ---------------------------------------------------------------- writing


def _write_source(session: Session, batch: LeadBatch) -> tuple[DataSource, bool]:
    """The source's row, created or brought up to date; and whether that changed it."""
    spec = batch.source
    found = session.get(DataSource, spec.name)
    row = found or DataSource(name=spec.name, label=spec.label)
    wanted: dict[str, object] = {
        "label": spec.label,
        "stages": list(spec.stages),
        "later_stage_implies_earlier": spec.later_stage_implies_earlier,
        "has_traffic": row.has_traffic or spec.has_traffic,
    }
    if found is not None and all(getattr(row, name) == value for name, value in wanted.items()):
        return row, False
    for name, value in wanted.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row, True


def _touch_source(session: Session, row: DataSource) -> None:
    """The import wrote leads, people or ratings of the source: it was updated now."""
    row.updated_at = utcnow()
    session.add(row)
    session.flush()


def _write_teams(session: Session, batch: LeadBatch, plan: ImportPlan) -> tuple[dict[str, int], int]:
    regions = {t.name: t.region for t in batch.teams}
    ids: dict[str, int] = {}
    created = 0
    for name, team_id in plan.team_ids.items():
        if team_id is None:
            team = Team(name=name, region=regions.get(name))
            session.add(team)
            session.flush()
            assert team.id is not None
            team_id = team.id
            created += 1
        ids[name] = team_id
    return ids, created


def _write_people(session: Session, plan: ImportPlan, team_ids: dict[str, int]) -> dict[int, int]:
    """Create the new people (inactive, no password: they log in once an admin sets one)."""
    real: dict[int, int] = {}
    emails_taken = {u.email.lower() for u in session.exec(select(User)).all() if u.email}
    for person in plan.new_people:
        spec = person.spec
        email = spec.email if spec.email and looks_like_email(spec.email) else None
        if email and email.lower() in emails_taken:
            email = None
        user = User(
            username=person.username,
            name=spec.name[:200],
            email=email,
            role=spec.role,
            team_id=team_ids.get(spec.team) if spec.team else None,
            active=False,
        )
        session.add(user)
        session.flush()
        assert user.id is not None
        real[person.placeholder] = user.id
    return real


def _with_real_ids(frame: pl.DataFrame, people: dict[int, int], teams: dict[str, int]) -> pl.DataFrame:
    owner = pl.col("owner_id")
    if people:
        owner = owner.replace(people)
    team = pl.when(pl.col("team").is_not_null()).then(
        pl.col("team").replace_strict(teams, default=None, return_dtype=pl.Int64)
    )
    return frame.with_columns(owner.alias("owner_id"), pl.coalesce(team, pl.col("team_id")).alias("team_id"))


def _owner_team_fill(frame: pl.DataFrame, session: Session) -> pl.DataFrame:
    """Leads of a newly created owner take that owner's team."""
    teams = {u.id: u.team_id for u in session.exec(select(User)).all() if u.team_id is not None}
    if not teams:
        return frame
    owner_team = pl.col("owner_id").replace_strict(teams, default=None, return_dtype=pl.Int64)
    return frame.with_columns(pl.coalesce(pl.col("team_id"), owner_team).alias("team_id"))


def _next_id(connection: Connection) -> int:
    return int(connection.execute(text("SELECT COALESCE(max(id), 0) + 1 FROM leads")).scalar_one())


def _insert_leads(
    connection: Connection, frame: pl.DataFrame, source: str, progress: ProgressFn
) -> pl.DataFrame:
    """Insert the new leads; their external_id and id."""
    if frame.is_empty():
        return pl.DataFrame(schema={"external_id": pl.String(), "id": pl.Int64()})
    postgres = connection.dialect.name == "postgresql"
    now = _now_text(postgres)
    first = _next_id(connection)
    rows = text_times(frame, STAGE_TIMES, postgres).select(
        pl.int_range(first, first + frame.height, dtype=pl.Int64).alias("id"),
        pl.lit(source).alias("source_system"),
        "external_id",
        *COMPARED,
        pl.lit(now).alias("updated_at"),
    )
    bulk_insert(connection, "leads", rows, progress, "writing new leads")
    fix_sequences(connection, ["leads"])
    return rows.select("external_id", "id")


def _update_leads(connection: Connection, frame: pl.DataFrame, progress: ProgressFn) -> None:
    if frame.is_empty():
        return
    columns = [*COMPARED, "updated_at"]
    postgres = connection.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    assignments = ", ".join(f"{c} = {mark}" for c in columns)
    statement = f"UPDATE leads SET {assignments} WHERE id = {mark}"  # noqa: S608 - names are ours
    # Times go in as the same text a bulk insert writes, so a re-import compares equal.
    rows = text_times(frame, STAGE_TIMES, postgres).select(
        *COMPARED, pl.lit(_now_text(postgres)).alias("updated_at"), "id"
    )
    execute_chunked(connection, statement, rows, progress, "updating changed leads")


def _now_text(postgres: bool) -> str:
    return utcnow().strftime("%Y-%m-%d %H:%M:%S.%f") + ("+00:00" if postgres else "")


def _ratings_with_ids(ratings: pl.DataFrame, inserted: pl.DataFrame, people: dict[int, int]) -> pl.DataFrame:
    """The plan's ratings with every lead's id (new leads have theirs now) and the raters' real ids."""
    new_ids = inserted.rename({"id": "new_id"})
    rater = pl.col("rater_id").replace(people) if people else pl.col("rater_id")
    return ratings.join(new_ids, on="external_id", how="left").select(
        pl.coalesce("lead_id", "new_id").alias("lead_id"), rater.alias("rater_id"), "stars"
    )


def apply_plan(
    session: Session, batch: LeadBatch, plan: ImportPlan, progress: ProgressFn = no_progress
) -> ImportCounts:
    """Write the plan inside the caller's transaction."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # New ids are max(id)+1: keep other writers of leads out until this transaction ends.
        connection.execute(text("LOCK TABLE leads IN SHARE ROW EXCLUSIVE MODE"))
    source, source_changed = _write_source(session, batch)
    team_ids, teams_created = _write_teams(session, batch, plan)
    people = _write_people(session, plan, team_ids)
    if plan.new_imported_rater is not None:
        taken = {user.username for user in session.exec(select(User)).all()}
        people[plan.new_imported_rater] = create_imported_rater(session, taken)
    new = _owner_team_fill(_with_real_ids(plan.new_leads, people, team_ids), session).drop("team")
    changed = _owner_team_fill(_with_real_ids(plan.changed_leads, people, team_ids), session).drop("team")
    session.flush()
    # Many leads written (a first import, or a re-import that changes most of them): SQLite builds the
    # plain indexes of leads again after the writes instead of updating them lead by lead.
    writing = new.height + changed.height
    with bulk_cache(connection):
        with rebuilt_indexes(connection, "leads", writing, progress, "indexing the leads"):
            inserted = _insert_leads(connection, new, batch.source.name, progress)
            _update_leads(connection, changed, progress)
        written = write_imported_ratings(
            connection, _ratings_with_ids(plan.ratings, inserted, people), progress
        )
    counts = ImportCounts(
        rows_read=batch.rows_read,
        created=new.height,
        updated=changed.height,
        unchanged=plan.unchanged,
        users_created=plan.users_created,
        teams_created=teams_created,
        ratings_written=written,
    )
    # A re-import that changes nothing leaves the source as it was, its updated_at included.
    if counts.wrote_anything and not source_changed:
        _touch_source(session, source)
    return counts


HELD_RATINGS_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.Int64(),
    "rater_id": pl.Int64(),
    "stars": pl.Int64(),
}


def ratings_to_write(engine: Engine, source: str, plan: ImportPlan) -> int:
    """How many of the plan's ratings the database lacks or holds with other stars: what a dry run says
    the import would write (the import itself finds them in bulk, db/importing/ratings.py)."""
    known = plan.ratings.filter(pl.col("lead_id").is_not_null() & (pl.col("rater_id") > 0))
    if known.is_empty():
        return plan.ratings.height
    sql = (
        "SELECT lead_ratings.lead_id, lead_ratings.rater_id, lead_ratings.stars FROM lead_ratings "  # noqa: S608
        "JOIN leads ON leads.id = lead_ratings.lead_id "
        + "WHERE leads.source_system = '{}'".format(source.replace("'", "''"))
    )
    held = read_query(engine, sql, HELD_RATINGS_SCHEMA)
    same = known.join(held, on=["lead_id", "rater_id", "stars"], how="semi").height
    return plan.ratings.height - same


def planned_counts(batch: LeadBatch, plan: ImportPlan, ratings_written: int | None = None) -> ImportCounts:
    """What apply_plan would report, for a dry run (`ratings_written`: from ratings_to_write)."""
    return ImportCounts(
        rows_read=batch.rows_read,
        created=plan.new_leads.height,
        updated=plan.changed_leads.height,
        unchanged=plan.unchanged,
        users_created=plan.users_created,
        teams_created=sum(1 for v in plan.team_ids.values() if v is None),
        ratings_written=plan.ratings.height if ratings_written is None else ratings_written,
    )
