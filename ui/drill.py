"""The list of leads behind a number: paged, sortable by any column header, downloadable as a CSV in
which no cell can run as a spreadsheet formula."""

from __future__ import annotations

import polars as pl
import streamlit as st

from core.funnel import spreadsheet_safe_csv

PAGE_SIZE = 100
TIMES = ("reached_at", "created_at", "mql_at", "sql_at", "opportunity_at", "closed_at")


def leads_table(rows: pl.DataFrame, *, key: str, file_name: str) -> None:
    """Show `rows` (from core.funnel.leads_behind) a hundred at a time, with a download of all of them."""
    if rows.is_empty():
        st.info("No leads behind this number.", icon=":material/search_off:")
        return
    pages = (rows.height - 1) // PAGE_SIZE + 1
    page = 1
    if pages > 1:
        page = int(
            st.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, key=f"{key}_page")
        )
    when = {c: st.column_config.DatetimeColumn(c.removesuffix("_at").replace("_", " "), format="YYYY-MM-DD")
            for c in TIMES}  # fmt: skip
    st.dataframe(
        rows.slice((page - 1) * PAGE_SIZE, PAGE_SIZE),
        hide_index=True,
        width="stretch",
        column_config={
            **when,
            "id": st.column_config.NumberColumn("lead", format="%d"),
            "source_system": "imported from",
            "amount": st.column_config.NumberColumn(format="dollar"),
        },
    )
    st.download_button(
        f"Download all {rows.height:,} as CSV",
        data=spreadsheet_safe_csv(rows).encode("utf-8"),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        key=f"{key}_download",
    )
