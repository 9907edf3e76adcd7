"""The Import page's pieces: guess a mapping from a header, run an import under a progress bar, show the
outcome (counts, or every problem with a CSV to download)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import polars as pl
import streamlit as st

from db.importing.errors import InvalidInput as InvalidInput
from db.importing.history import recent_runs
from db.importing.mapping import FIELDS as FIELDS
from db.importing.mapping import Mapping as Mapping
from db.importing.mapping import MappingError as MappingError
from db.importing.mapping import OutcomeColumn, ReadOptions, StageColumn, parse_mapping
from db.importing.mapping import mapping_to_toml as mapping_to_toml
from db.importing.maven import FILES as MAVEN_FILES
from db.importing.reader import CsvTable as CsvTable
from db.importing.reader import read_table
from db.importing.run import ImportResult as ImportResult
from db.importing.run import RunOptions, import_csv, import_maven, import_olist
from db.mappings import save_mapping as save_mapping_as
from db.mappings import saved_mappings as saved_mappings_of
from ui.auth import signed_in_id
from ui.data import forget_loaded_data
from ui.db import Acted, act_as, engine, read_as
from ui.widgets import plain

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_MAPPINGS = {
    name: path
    for name, path in {
        "HubSpot contacts export": PROJECT_ROOT / "mappings" / "hubspot_contacts.toml",
        "Salesforce leads report": PROJECT_ROOT / "mappings" / "salesforce_leads.toml",
    }.items()
    if path.is_file()
}
NOT_IN_FILE = "— not in this file —"
PROBLEMS_SHOWN = 200
PROBLEM_LINES_SHOWN = 20  # grouped lines; a last one counts the rest
# Words in a header that suggest each field, most telling first.
FIELD_HINTS: dict[str, tuple[str, ...]] = {
    "external_id": ("record id", "lead id", "opportunity id", "external id", "id"),
    "created_date": ("create date", "created", "created date", "first contact"),
    "mql_date": ("marketing qualified", "mql date", "mql"),
    "sql_date": ("sales qualified", "sql date", "sql"),
    "opportunity_date": ("opportunity date", "became an opportunity", "engage"),
    "close_date": ("close date", "closed", "won date", "converted date"),
    "amount": ("amount", "deal value", "close value", "value", "revenue"),
    "owner": ("owner", "sales rep", "sales agent", "rep"),
    "team": ("team",),
    "source": ("original source", "lead source", "source", "origin", "channel"),
    "campaign": ("campaign",),
    "landing_page": ("landing page",),
    "industry": ("industry", "sector"),
    "company_size": ("employees", "company size", "size"),
    "country": ("country",),
    "persona": ("job title", "title", "persona", "seniority"),
}
OUTCOME_CHOICES = ("open", "won", "lost")
STAGE_CHOICES = ("(skip)", "created", "mql", "sql", "opportunity", "won", "lost")


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def guess_column(field: str, header: Sequence[str]) -> str | None:
    """The header that most likely holds `field`: an exact hint first, then a hint inside the name."""
    names = {_normal(h): h for h in header}
    hints = FIELD_HINTS.get(field, ())
    for hint in hints:
        if hint in names:
            return names[hint]
    for hint in hints:
        if len(hint) > 3:
            for normal, original in names.items():
                if hint in normal:
                    return original
    return None


def guessed_columns(header: Sequence[str]) -> dict[str, str]:
    """A first guess for every field, never using one header twice."""
    used: set[str] = set()
    guesses: dict[str, str] = {}
    for field in FIELDS:
        column = guess_column(field, [h for h in header if h not in used])
        if column is not None:
            guesses[field] = column
            used.add(column)
    return guesses


def mapping_from_choices(
    *,
    source_name: str,
    source_label: str,
    columns: dict[str, str],
    null_values: Sequence[str],
    date_formats: Sequence[str],
    outcome_column: str | None,
    outcome_values: dict[str, str],
    stage_column: str | None,
    stage_values: dict[str, str],
) -> Mapping:
    """What the hand-mapping form says, as a Mapping (checked by the same rules as a TOML file)."""
    defaults = ReadOptions()
    mapping = Mapping(
        source_name=source_name,
        source_label=source_label or source_name,
        columns={k: v for k, v in columns.items() if v},
        read=ReadOptions(
            null_values=tuple(v for v in null_values if v.strip()),
            date_formats=tuple(f for f in date_formats if f.strip()) or defaults.date_formats,
        ),
        outcome=OutcomeColumn(outcome_column, outcome_values) if outcome_column else None,
        stage=(
            StageColumn(stage_column, {k: v for k, v in stage_values.items() if v != "(skip)"})
            if stage_column
            else None
        ),
    )
    # Round-trip through the TOML reader so the form obeys exactly the rules a mapping file does.
    return parse_mapping(mapping_to_toml(mapping))


Start = Callable[[RunOptions], ImportResult]
T = TypeVar("T")


def read_upload(data: bytes, file_name: str) -> CsvTable:
    """The uploaded CSV as a table; raises InvalidInput (with a row-level report) when it cannot be read."""
    return read_table(data, file=file_name)


def parse_mapping_text(text: str) -> Mapping:
    return parse_mapping(text)


def csv_import(data: bytes, mapping: Mapping, file_name: str) -> Start:
    return lambda options: import_csv(engine(), data, mapping, file_name=file_name, options=options)


def olist_import(leads: bytes, deals: bytes, *, leads_name: str, deals_name: str) -> Start:
    return lambda options: import_olist(
        engine(), leads, deals, leads_name=leads_name, deals_name=deals_name, options=options
    )


def maven_import(files: dict[str, bytes]) -> Start:
    """The Maven preset reads a folder, so the uploaded files go to a temporary one for the run."""

    def start(options: RunOptions) -> ImportResult:
        with tempfile.TemporaryDirectory(prefix="huddle-maven-") as folder:
            for name in MAVEN_FILES:
                (Path(folder) / name).write_bytes(files[name])
            return import_maven(engine(), Path(folder), options=options)

    return start


def _done_or_stop(acted: Acted[T]) -> T:
    """The value of a call as the signed-in person; a refusal is said on the page, which stops there."""
    if acted.refused is not None:
        st.error(acted.refused, icon=":material/block:")
        st.stop()
    assert acted.value is not None
    return acted.value


def run_with_progress(start: Start, *, dry_run: bool) -> ImportResult:
    """Run an import, as the signed-in person, under a progress bar that the importer moves."""
    bar = st.progress(0.0, text="Reading the file…")

    def progress(label: str, fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=label[:1].upper() + label[1:])

    acted = act_as(
        signed_in_id(),
        lambda _session, actor: start(RunOptions(actor=actor, dry_run=dry_run, progress=progress)),
        own_transactions=True,  # the import commits its own steps, and records a failure on its own
    )
    bar.empty()
    result = _done_or_stop(acted)
    if result.ok and not dry_run:
        forget_loaded_data()  # every page shows the new numbers at once
    return result


def show_result(result: ImportResult, *, key: str, names: dict[str, str] | None = None) -> None:
    """The outcome; `names` are the hand-mapping form's labels, for problems that say what to map."""
    if result.ok:
        counts = result.counts
        assert counts is not None
        if result.dry_run:
            st.info(f"Dry run — nothing was written. {result.describe()}.", icon=":material/fact_check:")
        else:
            st.success(result.describe(), icon=":material/check_circle:")
        cells = st.columns(5)
        for cell, (label, value) in zip(
            cells,
            [
                ("Rows read", counts.rows_read),
                ("Created" if not result.dry_run else "Would create", counts.created),
                ("Updated" if not result.dry_run else "Would update", counts.updated),
                ("Unchanged", counts.unchanged),
                ("New users", counts.users_created),
            ],
            strict=True,
        ):
            cell.metric(label, f"{value:,}")
        if result.encoding:
            st.caption(f"Read as {result.encoding}.")
        return
    report = result.report
    summary = report.summary()
    st.error(
        f"{summary[:1].upper()}{summary[1:]}. Fix the file (or the mapping) and try again.",
        icon=":material/error:",
    )
    # Grouped: the same problem on many rows is one line with its count, first rows and what to map.
    lines = report.lines(PROBLEM_LINES_SHOWN, names=names, escape=plain)
    st.markdown("\n".join(f"- {line}" for line in lines))
    shown = report.first(PROBLEMS_SHOWN)
    label = "Row by row" if report.total <= PROBLEMS_SHOWN else f"Row by row (the first {PROBLEMS_SHOWN})"
    with st.expander(label):
        rows = [
            {"file": p.file, "row": p.row, "column": p.column, "value": p.value, "problem": p.what(names)}
            for p in shown
        ]
        st.dataframe(pl.DataFrame(rows, infer_schema_length=None), hide_index=True, width="stretch")
        if report.total > PROBLEMS_SHOWN:
            st.caption(f"The first {PROBLEMS_SHOWN} of {report.total:,} problems; the CSV lists every one.")
    st.download_button(
        "Download the problem report (CSV)",
        data=report.to_csv(names).encode("utf-8"),
        file_name="import-problems.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"{key}_report",
    )


def saved_mappings() -> dict[str, str]:
    """Every saved mapping's TOML text by its name."""
    return read_as(signed_in_id(), lambda session, actor: saved_mappings_of(session=session, actor=actor))


def save_mapping(name: str, mapping: Mapping) -> None:
    """Keep the mapping under `name`, as the signed-in person; a refusal is said on the page."""
    _done_or_stop(
        act_as(
            signed_in_id(),
            lambda session, actor: save_mapping_as(session=session, actor=actor, name=name, mapping=mapping),
            (MappingError,),
        )
    )


def recent_imports(limit: int = 20) -> pl.DataFrame:
    runs = read_as(
        signed_in_id(), lambda session, actor: recent_runs(session=session, actor=actor, limit=limit)
    )
    return pl.DataFrame(
        [
            {
                "when (UTC)": run.started_at.strftime("%Y-%m-%d %H:%M"),
                "who": run.who,
                "source": run.source,
                "file": run.file_name,
                "status": run.status,
                "rows": run.rows_read,
                "created": run.created,
                "updated": run.updated,
                "unchanged": run.unchanged,
            }
            for run in runs
        ],
        infer_schema_length=None,
    )
