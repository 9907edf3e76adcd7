"""Import: an admin brings a CRM export in, checks it with a dry run, then imports all of it or nothing."""

import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import streamlit as st

from ui.auth import require_role
from ui.importing import (
    EXAMPLE_MAPPINGS,
    FIELDS,
    MAVEN_FILES,
    NOT_IN_FILE,
    OUTCOME_CHOICES,
    OUTCOME_GUESS,
    RATING_LABEL,
    STAGE_CHOICES,
    STAGE_GUESS,
    CsvTable,
    ImportResult,
    InvalidInput,
    Mapping,
    MappingError,
    Start,
    attribute_picker,
    csv_import,
    editor_key,
    first_look,
    guess_outcome_values,
    guess_stage_values,
    mapping_from_choices,
    mapping_to_toml,
    maven_import,
    olist_import,
    parse_mapping_text,
    rating_picker,
    read_upload,
    recent_imports,
    run_with_progress,
    save_mapping,
    saved_mappings,
    show_result,
)
from ui.navigation import Role

PREVIEW_ROWS = 5
MAIN_FIELDS = frozenset(
    {"external_id", "created_date", "mql_date", "sql_date", "opportunity_date", "close_date", "amount",
     "owner", "team", "source", "campaign"}
)  # fmt: skip
FIELD_LABELS = {
    "external_id": "Record id (required)",
    "mql_date": "MQL date",
    "sql_date": "SQL date",
}
OUTCOME_LABEL = "Outcome column (won / lost / open)"
STAGE_LABEL = "Stage column (the furthest stage reached)"
DISTINCT_VALUES_SHOWN = 30
BY_HAND = "Map the columns by hand"
FROM_FILE = "Upload a mapping file (.toml)"
OLIST = "Olist marketing funnel"
MAVEN = "Maven CRM sales opportunities"
SAMPLES = {
    OLIST: "8,000 marketing qualified leads of the Brazilian marketplace Olist and the 842 deals they "
    "closed, published by Olist on Kaggle: two files.",
    MAVEN: "8,800 sales opportunities of a made-up B2B company, with its sales teams, accounts and "
    "products, from Maven Analytics' data playground: four files.",
}


def _field_label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


# What the hand-mapping form calls each place a problem may ask to map (the mapping file's section.key).
HAND_MAPPING_NAMES = {f"columns.{field}": _field_label(field) for field in FIELDS} | {
    "outcome.column": OUTCOME_LABEL,
    "stage.column": STAGE_LABEL,
    "rating.column": RATING_LABEL,
}


def _source_name(file_name: str) -> str:
    stem = re.sub(r"[^a-z0-9_.-]+", "-", Path(file_name).stem.lower()).strip("-._")[:60]
    return stem if stem and stem not in {"demo", "olist", "maven"} else "crm"


def _preview(data: bytes, name: str) -> CsvTable | None:
    try:
        table = read_upload(data, name)
    except InvalidInput as refused:
        show_result(ImportResult(source="", file_name=name, dry_run=True, report=refused.report), key="read")
        return None
    st.caption(
        f"{name}: {table.height:,} rows, {len(table.header)} columns, read as {table.encoding}. First rows:"
    )
    st.dataframe(table.frame.head(PREVIEW_ROWS), hide_index=True, width="stretch")
    return table


def _value_map(
    table: CsvTable,
    column: str,
    choices: tuple[str, ...],
    key: str,
    default: str,
    guess: Callable[[list[str]], dict[str, str]] | None = None,
) -> dict[str, str]:
    values = (
        table.frame.get_column(column)
        .str.strip_chars()
        .drop_nulls()
        .unique()
        .sort()
        .head(DISTINCT_VALUES_SHOWN)
    )
    guessed = guess(values.to_list()) if guess is not None else {}
    means = [guessed.get(v, default) for v in values.to_list()]
    editor = st.data_editor(
        pl.DataFrame(
            {"value in the file": values, "means": means},
            schema={"value in the file": pl.String, "means": pl.String},
        ),
        column_config={
            "value in the file": st.column_config.TextColumn(disabled=True),
            "means": st.column_config.SelectboxColumn(options=list(choices), required=True),
        },
        hide_index=True,
        key=key,
        width="stretch",
    )
    frame = editor if isinstance(editor, pl.DataFrame) else pl.DataFrame(editor)
    return dict(zip(frame["value in the file"].to_list(), frame["means"].to_list(), strict=True))


def _guessed_column(label: str, options: list[str], guess: str | None, key: str, help_text: str) -> str:
    index = options.index(guess) if guess in options else 0
    return str(st.selectbox(label, options, index=index, key=key, help=help_text))


def _column_pickers(fields: list[str], options: list[str], guesses: dict[str, str]) -> dict[str, str]:
    chosen: dict[str, str] = {}
    grid = st.columns(2)
    for index, field in enumerate(fields):
        with grid[index % 2]:
            picked = _guessed_column(
                _field_label(field), options, guesses.get(field), f"map_{field}", FIELDS[field]
            )
        if picked != NOT_IN_FILE:
            chosen[field] = picked
    return chosen


def _mapping_by_hand(table: CsvTable, file_name: str) -> Mapping | None:
    header = list(table.header)
    options = [NOT_IN_FILE, *header]
    left, right = st.columns(2)
    source_name = left.text_input(
        "Source name",
        value=_source_name(file_name),
        help="Re-importing into the same source updates its leads.",
    )
    source_label = right.text_input("Label", value=Path(file_name).stem)
    left, right = st.columns(2)
    nulls = left.text_input("Values that mean empty", value="N/A, Select, --", help="Comma-separated.")
    formats = right.text_input(
        "Date formats",
        value="%Y-%m-%d, %Y-%m-%d %H:%M:%S, %m/%d/%Y",
        help="Tried in order; Python strftime codes.",
    )
    null_values = [v.strip() for v in nulls.split(",")]
    date_formats = [f.strip() for f in formats.split(",")]
    profile, guesses = first_look(table, null_values, date_formats)
    st.markdown("**Which column holds what**")
    columns: dict[str, str] = {}
    main_fields = [f for f in FIELDS if f in MAIN_FIELDS]
    more_fields = [f for f in FIELDS if f not in MAIN_FIELDS]
    columns |= _column_pickers(main_fields, options, guesses)
    with st.expander("Firmographics and engagement (optional)"):
        columns |= _column_pickers(more_fields, options, guesses)
    outcome_column = _guessed_column(
        OUTCOME_LABEL, options, guesses.get(OUTCOME_GUESS), "map_outcome",
        "Guessed from values such as Won, Closed Won, Lost; check what each value means below.",
    )  # fmt: skip
    outcome_values: dict[str, str] = {}
    if outcome_column != NOT_IN_FILE:
        outcome_values = _value_map(
            table, outcome_column, OUTCOME_CHOICES, editor_key("outcome_values", [outcome_column]), "open",
            guess=guess_outcome_values,
        )  # fmt: skip
    stage_column = _guessed_column(
        STAGE_LABEL, options, guesses.get(STAGE_GUESS), "map_stage",
        "Guessed from values such as Lead, Marketing Qualified Lead, Customer; check each below.",
    )  # fmt: skip
    stage_values: dict[str, str] = {}
    if stage_column != NOT_IN_FILE:
        stage_values = _value_map(
            table, stage_column, STAGE_CHOICES, editor_key("stage_values", [stage_column]), "(skip)",
            guess=guess_stage_values,
        )  # fmt: skip
    rating_column, rating_values, rater = rating_picker(table, options, owner_mapped="owner" in columns)
    read_elsewhere = {*columns.values(), outcome_column, stage_column, rating_column or NOT_IN_FILE}
    attributes = attribute_picker(profile, read_elsewhere)
    try:
        return mapping_from_choices(
            source_name=source_name.strip(),
            source_label=source_label.strip(),
            columns=columns,
            null_values=null_values,
            date_formats=date_formats,
            outcome_column=None if outcome_column == NOT_IN_FILE else outcome_column,
            outcome_values=outcome_values,
            stage_column=None if stage_column == NOT_IN_FILE else stage_column,
            stage_values=stage_values,
            rating_column=rating_column,
            rating_values=rating_values,
            rater=rater,
            attributes=attributes,
        )
    except MappingError as problem:
        st.warning(f"The mapping is not complete yet: {problem}", icon=":material/rule:")
        return None


def _chosen_mapping(table: CsvTable, file_name: str) -> tuple[Mapping | None, dict[str, str] | None]:
    """The mapping, and the form's names for its fields when it was made by hand (None: a mapping file's
    terms, `close_date` in [columns], name them)."""
    saved = saved_mappings()
    choices = [BY_HAND, *(f"Saved: {name}" for name in saved), *(f"Example: {n}" for n in EXAMPLE_MAPPINGS)]
    choice = st.radio("Mapping", [*choices, FROM_FILE], horizontal=True, key="mapping_choice")
    if choice == BY_HAND:
        return _mapping_by_hand(table, file_name), HAND_MAPPING_NAMES
    return _mapping_from_text(choice, saved), None


def _mapping_from_text(choice: str, saved: dict[str, str]) -> Mapping | None:
    if choice == FROM_FILE:
        upload = st.file_uploader("Mapping file", type=["toml"], key="mapping_file")
        text = upload.getvalue().decode("utf-8", errors="replace") if upload else ""
    elif choice.startswith("Saved: "):
        text = saved[choice.removeprefix("Saved: ")]
    else:
        text = EXAMPLE_MAPPINGS[choice.removeprefix("Example: ")].read_text(encoding="utf-8")
    if not text:
        return None
    try:
        return parse_mapping_text(text)
    except MappingError as problem:
        st.error(f"This mapping cannot be used: {problem}", icon=":material/rule:")
        return None


def _mapping_tools(mapping: Mapping) -> None:
    with st.expander("Save or download this mapping"):
        left, right = st.columns([3, 2], vertical_alignment="bottom")
        name = left.text_input("Save as", value=mapping.source_label, key="save_name")
        if right.button("Save mapping", icon=":material/save:", disabled=not name.strip()):
            save_mapping(name.strip()[:120], mapping)
            st.toast(f"Saved the mapping “{name.strip()}”.")
        st.download_button(
            "Download as TOML",
            data=mapping_to_toml(mapping).encode("utf-8"),
            file_name=f"{mapping.source_name}.toml",
            mime="application/toml",
            icon=":material/download:",
        )


def _check_and_import(key: str, start: Start, names: dict[str, str] | None = None) -> None:
    left, right = st.columns(2)
    dry = left.button("Check (dry run)", icon=":material/fact_check:", key=f"{key}_dry", width="stretch")
    real = right.button("Import", icon=":material/upload:", type="primary", key=f"{key}_go", width="stretch")
    if dry or real:
        show_result(run_with_progress(start, dry_run=dry), key=key, names=names)


def _example_mappings() -> None:
    """The HubSpot and Salesforce mappings as starting points: picked under Mapping, or downloaded."""
    if not EXAMPLE_MAPPINGS:
        return
    st.markdown("**Example mappings to start from**")
    st.caption(
        "Once your file is uploaded, pick one under *Mapping*; or download it, change the column names to "
        "your export's, and upload it as a mapping file."
    )
    cells = st.columns(len(EXAMPLE_MAPPINGS))
    for cell, (name, path) in zip(cells, EXAMPLE_MAPPINGS.items(), strict=True):
        cell.download_button(
            name,
            data=path.read_bytes(),
            file_name=path.name,
            mime="application/toml",
            icon=":material/download:",
            key=f"example_{path.stem}",
            on_click="ignore",
            width="stretch",
        )


def csv_tab() -> None:
    upload = st.file_uploader("CRM export (CSV)", type=["csv", "txt"], key="csv_file")
    if upload is None:
        st.info(
            "Choose a CSV export from your CRM. You will see its first rows, map its columns (by hand, or "
            "with a saved or example mapping), check it with a dry run, then import.",
            icon=":material/upload_file:",
        )
        _example_mappings()
        return
    data = upload.getvalue()
    table = _preview(data, upload.name)
    if table is None:
        return
    mapping, names = _chosen_mapping(table, upload.name)
    if mapping is None:
        return
    _mapping_tools(mapping)
    _check_and_import("csv", csv_import(data, mapping, upload.name), names)


def sample_tab() -> None:
    st.caption(
        "Public sample data sets, not CRMs: import one to try Huddle before bringing your own export. "
        "Each comes in its own fixed layout, so no mapping is needed."
    )
    choice = st.radio("Sample data set", list(SAMPLES), captions=list(SAMPLES.values()), key="sample_set")
    if choice == OLIST:
        olist_tab()
    else:
        maven_tab()


def olist_tab() -> None:
    leads = st.file_uploader("olist_marketing_qualified_leads_dataset.csv", type=["csv"], key="olist_leads")
    deals = st.file_uploader("olist_closed_deals_dataset.csv", type=["csv"], key="olist_deals")
    if leads is None or deals is None:
        st.info("Choose both files.", icon=":material/upload_file:")
        return
    leads_data, deals_data = leads.getvalue(), deals.getvalue()
    _check_and_import(
        "olist", olist_import(leads_data, deals_data, leads_name=leads.name, deals_name=deals.name)
    )


def maven_tab() -> None:
    uploads = st.file_uploader("The four files", type=["csv"], accept_multiple_files=True, key="maven_files")
    named = {upload.name: upload.getvalue() for upload in uploads or []}
    missing = [name for name in MAVEN_FILES if name not in named]
    if missing:
        st.info(f"Still needed: {', '.join(missing)}.", icon=":material/upload_file:")
        return
    _check_and_import("maven", maven_import(named))


def history_tab() -> None:
    runs = recent_imports()
    if runs.is_empty():
        st.info("No imports yet.", icon=":material/history:")
        return
    st.dataframe(runs, hide_index=True, width="stretch")


require_role(Role.admin)
st.title("Import")
st.caption(
    "An import writes every row or none: if any row is invalid nothing changes and you get the list of "
    "problems. Importing the same file again updates what changed and adds nothing twice."
)
tabs = st.tabs(["CSV with a mapping", "Try with sample data", "Recent imports"])
with tabs[0]:
    csv_tab()
with tabs[1]:
    sample_tab()
with tabs[2]:
    history_tab()
