"""One import from files to database: read, check, plan, then write all of it in one transaction or nothing.

The command line and the Import page both call these; neither knows how a file becomes leads. Every try
leaves an import-run row and an audit entry: done, a dry run, refused (the input is wrong), or failed (an
unexpected error while reading, planning or writing, recorded in its own transaction once the import's has
rolled back, then raised again). Each import's start and outcome are logged too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import alerts, audit, clock
from db.access import Action, Actor, authorize, person
from db.engine import read_session, write_session
from db.importing.batch import LeadBatch
from db.importing.errors import InvalidInput, Problem, ProblemReport
from db.importing.generic import batch_from_mapping
from db.importing.mapping import Mapping
from db.importing.maven import FILES as MAVEN_FILES
from db.importing.maven import batch_from_maven
from db.importing.olist import batch_from_olist
from db.importing.reader import InputFile, read_table
from db.importing.upsert import ImportCounts, apply_plan, plan_import, planned_counts, ratings_to_write
from db.models import ImportRun, User, utcnow
from db.progress import ProgressFn, no_progress

logger = logging.getLogger(__name__)
Build = Callable[[ProgressFn], LeadBatch]  # reads and checks every row; InvalidInput when any is wrong
MAX_REASON = 500  # of a failure's message, in the audit entry (the log line has the whole trace)


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How to run one import. `actor` is required: the signed-in person (an admin), or
    db.access.OPERATOR for the command line; the service checks it before reading a row."""

    actor: Actor
    dry_run: bool = False
    progress: ProgressFn = no_progress


@dataclass(frozen=True)
class ImportResult:
    """What happened: written (or, for a dry run, what would be), or refused with every problem found."""

    source: str
    file_name: str
    dry_run: bool
    counts: ImportCounts | None = None
    report: ProblemReport = field(default_factory=ProblemReport)
    encoding: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.report.ok and self.counts is not None

    @property
    def status(self) -> str:
        return "refused" if not self.ok else ("dry-run" if self.dry_run else "done")

    def describe(self) -> str:
        if not self.ok:
            return f"{self.file_name}: {self.report.summary()}"
        assert self.counts is not None
        done = self.counts.describe()
        if self.dry_run:
            return f"Checked {self.file_name}; the import would give: {done}"
        return f"Imported {self.file_name} in {self.seconds:.1f} s: {done}"


def _plain(text: str) -> str:
    """A file name or username as a log line may hold it: control characters made visible."""
    return audit.escape_control_characters(text)


def _record(
    engine: Engine,
    *,
    actor: Actor,
    source: str,
    file_name: str,
    started_at: datetime,
    status: str,
    detail: str,
    counts: ImportCounts | None = None,
) -> None:
    """Every try is kept, refused, failed or not, so an admin can see who imported what and when."""
    with write_session(engine) as session:
        session.add(
            ImportRun(
                source_system=source[:60],
                file_name=file_name[:300],
                actor_id=by.id if (by := person(actor)) else None,
                started_at=started_at,
                finished_at=utcnow(),
                rows_read=counts.rows_read if counts else 0,
                created=counts.created if counts else 0,
                updated=counts.updated if counts else 0,
                unchanged=counts.unchanged if counts else 0,
                users_created=counts.users_created if counts else 0,
                status=status,
            )
        )
        audit.record(
            session=session,
            action=f"import.{status}",
            actor=_attached(session, actor),
            actor_username=actor.username,
            object_type="data_source",
            object_id=source[:120],
            outcome="ok" if status in ("done", "dry-run") else "failed",
            detail=detail[:4000],
        )


def _attached(session: Session, actor: Actor) -> User | None:
    return session.get(User, actor.id) if isinstance(actor, User) and actor.id is not None else None


def _reason(error: BaseException) -> str:
    """A failure in one line: its type and the first line of its message (a database error's SQL and
    parameters, on the lines after, stay in the log's trace)."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else 'no message'}"[:MAX_REASON]


def _record_failure(
    engine: Engine,
    error: Exception,
    *,
    actor: Actor,
    source: str,
    file_name: str,
    started_at: datetime,
    dry_run: bool,
) -> None:
    """Log (with its trace) and record the error being handled; never raises: the caller raises it again.
    The import's own transaction has rolled back, so the record is written in a transaction of its own."""
    reason = _reason(error)
    logger.exception(
        "import failed: %s from %s by %s%s: %s",
        _plain(source),
        _plain(file_name),
        _plain(actor.username),
        " (dry run)" if dry_run else "",
        _plain(reason),
    )
    try:
        _record(
            engine,
            actor=actor,
            source=source,
            file_name=file_name,
            started_at=started_at,
            status="failed",
            detail=f"{file_name}: {'the dry run ' if dry_run else ''}failed, nothing was imported: {reason}",
        )
    except Exception:
        logger.exception("the failed import of %s could not be recorded", _plain(file_name))


def run_import(
    engine: Engine,
    build: Build,
    *,
    source: str,
    file_name: str,
    options: RunOptions,
) -> ImportResult:
    """Build the batch (reading and checking every row), then plan and, unless a dry run, write it."""
    actor = options.actor
    with write_session(engine) as session:
        authorize(session=session, actor=actor, action=Action.import_run, object_id=file_name)
    started_at, started = utcnow(), time.perf_counter()
    logger.info(
        "import started: %s from %s by %s%s",
        _plain(source),
        _plain(file_name),
        _plain(actor.username),
        " (dry run)" if options.dry_run else "",
    )
    try:
        result = _build_and_write(engine, build, source, file_name, options)
    except Exception as error:
        _record_failure(
            engine,
            error,
            actor=actor,
            source=source,
            file_name=file_name,
            started_at=started_at,
            dry_run=options.dry_run,
        )
        raise
    result = replace(result, seconds=time.perf_counter() - started)
    _record(
        engine,
        actor=actor,
        source=result.source,
        file_name=result.file_name,
        started_at=started_at,
        status=result.status,
        detail=result.describe(),
        counts=result.counts,
    )
    logger.info("import %s by %s: %s", result.status, _plain(actor.username), _plain(result.describe()))
    return result


def _build_and_write(
    engine: Engine, build: Build, source: str, file_name: str, options: RunOptions
) -> ImportResult:
    """run_import's work between its records: what a failure of it leaves is recorded as failed."""
    dry_run, progress = options.dry_run, options.progress
    try:
        batch = build(progress)
        counts = _plan_and_write(engine, batch, dry_run, progress)
    except InvalidInput as refused:  # the file, or what it names (a [rating] rater nobody is), is wrong
        return ImportResult(source=source, file_name=file_name, dry_run=dry_run, report=refused.report)
    progress("done", 1.0)
    return ImportResult(
        source=batch.source.name,
        file_name=batch.file_name,
        dry_run=dry_run,
        counts=counts,
        encoding=batch.encoding,
    )


def _plan_and_write(engine: Engine, batch: LeadBatch, dry_run: bool, progress: ProgressFn) -> ImportCounts:
    if dry_run:
        with read_session(engine) as session:
            plan = plan_import(session, engine, batch, progress)
            return planned_counts(batch, plan, ratings_to_write(engine, batch.source.name, plan))
    with write_session(engine) as session:
        counts = apply_plan(session, batch, plan_import(session, engine, batch, progress), progress)
        alerts.new_mqls(session, None, clock.now())  # the import's new MQLs, told in its transaction
        return counts


# ---------------------------------------------------------------- the three kinds of import


def import_olist(
    engine: Engine,
    leads: InputFile,
    deals: InputFile,
    *,
    leads_name: str = "olist_marketing_qualified_leads_dataset.csv",
    deals_name: str = "olist_closed_deals_dataset.csv",
    options: RunOptions,
) -> ImportResult:
    def build(progress: ProgressFn) -> LeadBatch:
        return batch_from_olist(
            read_table(leads, file=_name(leads, leads_name), progress=progress),
            read_table(deals, file=_name(deals, deals_name), progress=progress),
        )

    return run_import(engine, build, source="olist", file_name=_name(leads, leads_name), options=options)


def import_maven(engine: Engine, folder: Path, *, options: RunOptions) -> ImportResult:
    def build(progress: ProgressFn) -> LeadBatch:
        missing = [name for name in MAVEN_FILES if not (folder / name).is_file()]
        if missing:
            report = ProblemReport()
            for name in missing:
                report.add(Problem(name, None, "", "", f"the folder {folder} has no {name}"))
            raise InvalidInput(report)
        tables = [read_table(folder / name, file=name, progress=progress) for name in MAVEN_FILES]
        return batch_from_maven(*tables)

    return run_import(engine, build, source="maven", file_name=str(folder), options=options)


def import_csv(
    engine: Engine,
    data: InputFile,
    mapping: Mapping,
    *,
    file_name: str = "",
    options: RunOptions,
) -> ImportResult:
    name = _name(data, file_name or "upload.csv")

    def build(progress: ProgressFn) -> LeadBatch:
        table = read_table(data, file=name, delimiter=mapping.read.delimiter, progress=progress)
        return batch_from_mapping(table, mapping)

    return run_import(engine, build, source=mapping.source_name, file_name=name, options=options)


def _name(source: InputFile, default: str) -> str:
    return source.name if isinstance(source, Path) else default
