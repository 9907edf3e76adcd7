"""One import from files to database: read, check, plan, then write all of it in one transaction or nothing.

The command line and the Import page both call these; neither knows how a file becomes leads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import audit
from db.access import Action, authorize
from db.engine import read_session, write_session
from db.importing.batch import LeadBatch
from db.importing.errors import InvalidInput, Problem, ProblemReport
from db.importing.generic import batch_from_mapping
from db.importing.mapping import Mapping
from db.importing.maven import FILES as MAVEN_FILES
from db.importing.maven import batch_from_maven
from db.importing.olist import batch_from_olist
from db.importing.reader import InputFile, read_table
from db.importing.upsert import ImportCounts, apply_plan, plan_import, planned_counts
from db.models import ImportRun, User, utcnow
from db.progress import ProgressFn, no_progress


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    actor: User | None = None
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

    def describe(self) -> str:
        if not self.ok:
            return f"{self.file_name}: {self.report.summary()}"
        assert self.counts is not None
        done = self.counts.describe()
        if self.dry_run:
            return f"Checked {self.file_name}; the import would give: {done}"
        return f"Imported {self.file_name} in {self.seconds:.1f} s: {done}"


def _record_run(engine: Engine, result: ImportResult, actor: User | None) -> None:
    """Every try is kept, refused or not, so an admin can see who imported what and when."""
    counts = result.counts
    status = "refused" if not result.ok else ("dry-run" if result.dry_run else "done")
    with write_session(engine) as session:
        session.add(
            ImportRun(
                source_system=result.source[:60],
                file_name=result.file_name[:300],
                actor_id=actor.id if actor else None,
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
            object_type="data_source",
            object_id=result.source[:120],
            outcome="ok" if result.ok else "failed",
            detail=result.describe()[:4000],
        )


def _attached(session: Session, actor: User | None) -> User | None:
    return session.get(User, actor.id) if actor is not None and actor.id is not None else None


def run_import(
    engine: Engine,
    build: Callable[[ProgressFn], LeadBatch],
    *,
    source: str,
    file_name: str,
    options: RunOptions = RunOptions(),
) -> ImportResult:
    """Build the batch (reading and checking every row), then plan and, unless a dry run, write it."""
    dry_run, actor, progress = options.dry_run, options.actor, options.progress
    if actor is not None:  # None: the command line, whose operator owns the data
        with write_session(engine) as session:
            authorize(session=session, actor=actor, action=Action.import_run, object_id=file_name)
    started = time.perf_counter()
    try:
        batch = build(progress)
    except InvalidInput as refused:
        result = ImportResult(source=source, file_name=file_name, dry_run=dry_run, report=refused.report)
        _record_run(engine, result, actor)
        return result
    if dry_run:
        with read_session(engine) as session:
            plan = plan_import(session, engine, batch, progress)
            counts = planned_counts(batch, plan)
    else:
        with write_session(engine) as session:
            plan = plan_import(session, engine, batch, progress)
            counts = apply_plan(session, batch, plan, progress)
    progress("done", 1.0)
    result = ImportResult(
        source=batch.source.name,
        file_name=batch.file_name,
        dry_run=dry_run,
        counts=counts,
        encoding=batch.encoding,
        seconds=time.perf_counter() - started,
    )
    _record_run(engine, result, actor)
    return result


# ---------------------------------------------------------------- the three kinds of import


def import_olist(
    engine: Engine,
    leads: InputFile,
    deals: InputFile,
    *,
    leads_name: str = "olist_marketing_qualified_leads_dataset.csv",
    deals_name: str = "olist_closed_deals_dataset.csv",
    options: RunOptions = RunOptions(),
) -> ImportResult:
    def build(progress: ProgressFn) -> LeadBatch:
        return batch_from_olist(
            read_table(leads, file=_name(leads, leads_name), progress=progress),
            read_table(deals, file=_name(deals, deals_name), progress=progress),
        )

    return run_import(engine, build, source="olist", file_name=_name(leads, leads_name), options=options)


def import_maven(engine: Engine, folder: Path, options: RunOptions = RunOptions()) -> ImportResult:
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
    options: RunOptions = RunOptions(),
) -> ImportResult:
    name = _name(data, file_name or "upload.csv")

    def build(progress: ProgressFn) -> LeadBatch:
        table = read_table(data, file=name, delimiter=mapping.read.delimiter, progress=progress)
        return batch_from_mapping(table, mapping)

    return run_import(engine, build, source=mapping.source_name, file_name=name, options=options)


def _name(source: InputFile, default: str) -> str:
    return source.name if isinstance(source, Path) else default
