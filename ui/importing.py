"""The Import page's pieces: guess a mapping from the file's header and values, the hand mapping's
attributes and rating, run an import under a progress bar, show the outcome (counts, or every problem
with a CSV to download)."""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import streamlit as st

from core.column_guess import (
    DATE_FORMATS,
    attribute_candidates,
    guess_mapping,
    guess_outcome_column,
    guess_stage_column,
    guess_stars,
    holds_stars,
    kept_attributes,
    profile_columns,
    without_empty_words,
)
from core.column_guess import guess_column as guess_column
from core.column_guess import guess_outcome_values as guess_outcome_values
from core.column_guess import guess_stage_values as guess_stage_values
from core.column_guess import guessed_columns as guessed_columns
from core.criteria import LEAD_FIELDS
from db.importing import mapping as mapping_format
from db.importing.errors import InvalidInput as InvalidInput
from db.importing.history import recent_runs
from db.importing.mapping import FIELDS as FIELDS
from db.importing.mapping import Mapping as Mapping
from db.importing.mapping import MappingError as MappingError
from db.importing.mapping import OutcomeColumn, RatingColumn, ReadOptions, StageColumn, parse_mapping
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
OUTCOME_CHOICES = ("open", "won", "lost")
OUTCOME_GUESS, STAGE_GUESS = "outcome", "stage"  # first_look's keys for those columns, beside the fields
STAGE_CHOICES = ("(skip)", "created", "mql", "sql", "opportunity", "won", "lost")
RATING_LABEL = "Rating column (sales' rating of each lead)"
KEEP_ATTRIBUTES = "Keep the other columns as attributes"
# Enough rows to tell what a column holds; profiling all of a 1M-row file on each rerun would not be.
SAMPLE_ROWS = 2_000
RATING_VALUES_SHOWN = 30
# A [rating] rater (who rated, for exports without owners) is newer than the rest of the format.
RATER_OFFERED = "rater" in RatingColumn.__dataclass_fields__
IMPORTED_RATER: str = getattr(mapping_format, "IMPORTED_RATER", "Imported rating")
RATER_LABEL = "Rated by"
# An attribute must not be named like a field a rule or the mapping already means.
RESERVED_ATTRIBUTE_NAMES = frozenset(FIELDS) | frozenset(LEAD_FIELDS)


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
    rating_column: str | None = None,
    rating_values: dict[str, int] | None = None,
    rater: str | None = None,
    attributes: dict[str, str] | None = None,
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
        rating=_rating_column(rating_column, rating_values or {}, rater) if rating_column else None,
        attributes=dict(attributes or {}),
    )
    # Round-trip through the TOML reader so the form obeys exactly the rules a mapping file does.
    return parse_mapping(mapping_to_toml(mapping))


def _rating_column(column: str, values: dict[str, int], rater: str | None) -> RatingColumn:
    if rater and rater.strip() and RATER_OFFERED:
        return RatingColumn(column, dict(values), rater=rater.strip())
    return RatingColumn(column, dict(values))


def file_sample(table: CsvTable, rows: int = SAMPLE_ROWS) -> pl.DataFrame:
    """Rows spread over the whole file: an export sorted by date has its first rows alike."""
    return table.frame.gather_every(max(1, table.height // rows)).head(rows)


def first_look(
    table: CsvTable, null_values: Sequence[str], date_formats: Sequence[str]
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Each column's profile, and the first guess of which holds what (the outcome and stage columns
    under OUTCOME_GUESS and STAGE_GUESS), from a sample of the file read as the form says (its empty
    words, its date formats before the usual ones)."""
    sample = without_empty_words(file_sample(table), null_values)
    formats = tuple(dict.fromkeys([*(f for f in date_formats if f), *DATE_FORMATS]))
    profile = profile_columns(sample, formats)
    guesses = guess_mapping(sample, formats, profile)
    outcome = guess_outcome_column(sample, taken=guesses.values())
    if outcome is not None:
        guesses = guesses | {OUTCOME_GUESS: outcome}
    stage = guess_stage_column(sample, taken=guesses.values())
    return profile, guesses | ({STAGE_GUESS: stage} if stage is not None else {})


def editor_key(prefix: str, names: Sequence[str]) -> str:
    # A new set of rows is a new editor: edits kept by row number would land on other rows.
    return f"{prefix}_{zlib.crc32(chr(31).join(names).encode()):08x}"


def _edited(value: Any) -> pl.DataFrame:
    return value if isinstance(value, pl.DataFrame) else pl.DataFrame(value)


def attribute_picker(profile: pl.DataFrame, mapped: Collection[str]) -> dict[str, str]:
    """The "keep the other columns" part of the hand mapping: column -> attribute name for each kept."""
    keep = st.checkbox(
        KEEP_ATTRIBUTES,
        value=True,
        key="map_keep_attributes",
        help="Each kept column is stored on its lead, for targeting criteria and their tuning to use.",
    )
    candidates = attribute_candidates(profile, mapped, RESERVED_ATTRIBUTE_NAMES)
    if not keep or candidates.is_empty():
        return {}
    st.caption(
        "Ids, emails and free text are left out at first: nearly every lead has its own value, so no "
        "rule could use them. Tick or untick any column."
    )
    edited = st.data_editor(
        candidates,
        column_config={
            "keep": st.column_config.CheckboxColumn("keep", required=True),
            "column": st.column_config.TextColumn("column in the file"),
            "kind": st.column_config.TextColumn("holds"),
            "fill": st.column_config.NumberColumn("filled", format="percent"),
            "distinct": st.column_config.NumberColumn("distinct values"),
            "examples": st.column_config.TextColumn("for example"),
            "attribute": st.column_config.TextColumn("kept as"),
        },
        disabled=[c for c in candidates.columns if c != "keep"],
        hide_index=True,
        key=editor_key("attributes", candidates.get_column("column").to_list()),
        width="stretch",
    )
    return kept_attributes(_edited(edited))


def _distinct_ratings(values: pl.Series) -> list[str]:
    stripped = values.str.strip_chars()
    return stripped.filter(stripped.str.len_chars() > 0).unique().sort().to_list()


def _rater(owner_mapped: bool) -> str | None:
    """Who the imported ratings are by: empty for each lead's owner (the only choice before `rater`)."""
    if not RATER_OFFERED:
        return None
    rater = st.text_input(
        RATER_LABEL,
        value="" if owner_mapped else IMPORTED_RATER,
        key="map_rater",
        help=f"Empty: each lead's owner. “{IMPORTED_RATER}” when the file has no owner column, or a "
        "Huddle user's username or name.",
    )
    return rater.strip() or None


def rating_picker(
    table: CsvTable, options: Sequence[str], *, owner_mapped: bool
) -> tuple[str | None, dict[str, int], str | None]:
    """The rating column, the stars each of its values means (none needed when it holds 1 to 5), and who
    rated (None: each lead's owner)."""
    column = st.selectbox(
        RATING_LABEL,
        options,
        key="map_rating",
        help="Recorded as a rating of the lead; Targeting criteria learn from it.",
    )
    if column not in table.frame.columns:
        return None, {}, None
    rater = _rater(owner_mapped)
    values = table.frame.get_column(column)
    if holds_stars(values):
        st.caption("The column holds 1 to 5 stars already: no value map needed.")
        return column, {}, rater
    distinct = _distinct_ratings(values)
    shown = distinct[:RATING_VALUES_SHOWN]
    if len(distinct) > len(shown):
        st.warning(
            f"The column has {len(distinct):,} different values; the first {len(shown)} are listed, and "
            "a row holding any other is refused.",
            icon=":material/warning:",
        )
    guessed = guess_stars(shown)
    edited = st.data_editor(
        pl.DataFrame(
            {"value in the file": shown, "stars": [guessed[v] for v in shown]},
            schema={"value in the file": pl.String, "stars": pl.Int64},
        ),
        column_config={
            "value in the file": st.column_config.TextColumn(disabled=True),
            "stars": st.column_config.NumberColumn(min_value=1, max_value=5, step=1, required=True),
        },
        hide_index=True,
        key=editor_key("rating_values", [column, *shown]),
        width="stretch",
    )
    frame = _edited(edited)
    stars = [int(s) for s in frame.get_column("stars").to_list()]
    return column, dict(zip(frame.get_column("value in the file").to_list(), stars, strict=True)), rater


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
