"""An export whose mapping lacks one column, on 10,000 rows: the won deals have no close date mapped. The
command line says so in one grouped line (count, first rows, what to map), the report CSV keeps one row
per problem, and nothing is written."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

import db.__main__ as cli
from db.access import OPERATOR
from db.importing.errors import ROW_NOTE
from db.importing.mapping import parse_mapping
from db.importing.run import RunOptions, import_csv
from db.settings import get_settings
from tests.db.importing.snapshots import assert_nothing_but_the_log_changed, snapshot

MAPPING_TOML = """
[source]
name = "deals"

[columns]
external_id = "Deal ID"
created_date = "Created"
amount = "Amount"

[outcome]
column = "Status"

[outcome.values]
Won = "won"
Lost = "lost"
Open = "open"
"""
ROWS = 10_000
AS_CLI = RunOptions(actor=OPERATOR)
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+ (DEBUG|INFO|WARNING|ERROR) ")
HEADER = "Deal ID,Created,Status,Amount"
NO_CLOSE_DATE = "a won deal needs a close date; map `close_date` in [columns]"


def _status(index: int) -> str:
    return "Open" if index % 10 == 9 else "Won"  # every tenth deal is still open: it needs no close date


def _export(*, closed_column: bool = False) -> bytes:
    """10,000 deals (spreadsheet rows 2 to 10,001), 9,000 of them won, and no close date: no column for
    it, or (`closed_column`) a column left blank."""
    header, blank = (f"{HEADER},Closed", ",") if closed_column else (HEADER, "")
    rows = [f"D-{i},2026-0{1 + i % 9}-{1 + i % 28:02d},{_status(i)},{100 + i}{blank}" for i in range(ROWS)]
    return ("\n".join([header, *rows]) + "\n").encode()


WON_ROWS = [i + 2 for i in range(ROWS) if _status(i) == "Won"]


@pytest.fixture
def seeded(db_engine: Engine) -> Engine:
    """A database already holding three of the deals, open: the refused import would update them."""
    good = "\n".join([HEADER, "D-0,2026-01-01,Open,1", "D-1,2026-01-02,Open,2", "D-2,2026-01-03,Open,3"])
    result = import_csv(
        db_engine, good.encode(), parse_mapping(MAPPING_TOML), file_name="first.csv", options=AS_CLI
    )
    assert result.ok, result.describe()
    return db_engine


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, db_url: str, seeded: Engine) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def test_the_won_deals_without_a_close_date_are_one_line(seeded: Engine) -> None:
    result = import_csv(
        seeded, _export(), parse_mapping(MAPPING_TOML), file_name="export.csv", options=AS_CLI
    )
    assert not result.ok and result.report.total == len(WON_ROWS) == 9_000
    (group,) = result.report.groups()
    assert (group.count, group.rows) == (9_000, (2, 3, 4))
    assert result.report.lines() == [f"9,000 rows: {NO_CLOSE_DATE} (rows 2, 3, 4 and 8,997 more)"]


def test_the_command_line_prints_one_grouped_line_and_the_csv_keeps_every_problem(
    cli_db: str, seeded: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export, mapping, report = tmp_path / "export.csv", tmp_path / "deals.toml", tmp_path / "problems.csv"
    export.write_bytes(_export())
    mapping.write_text(MAPPING_TOML, encoding="utf-8")
    before = snapshot(seeded)
    argv = ["import", "csv", str(export), "--mapping", str(mapping), "--report", str(report)]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    said = [line for line in captured.err.splitlines() if not LOG_LINE.match(line)]  # the log has its own
    assert said == [
        "refused: export.csv: 9,000 problems; nothing was imported",
        f"  9,000 rows: {NO_CLOSE_DATE} (rows 2, 3, 4 and 8,997 more)",
        f"every problem is listed in {report}",
    ]
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert rows[0] == ["file", "row", "line", "column", "value", "problem"]
    assert rows[1:-1] == [["export.csv", str(row), str(row), "", "", NO_CLOSE_DATE] for row in WON_ROWS]
    assert rows[-1] == ["", "", "", "", "", ROW_NOTE]
    assert_nothing_but_the_log_changed(seeded, before, "refused")


def test_with_the_close_date_mapped_the_same_file_names_the_blank_cells(seeded: Engine) -> None:
    mapping = parse_mapping(MAPPING_TOML.replace("[outcome]", 'close_date = "Closed"\n\n[outcome]'))
    data = _export(closed_column=True)
    result = import_csv(seeded, data, mapping, file_name="export.csv", options=AS_CLI)
    assert result.report.lines() == [
        "9,000 rows, column 'Closed': a won deal needs a close date, and the close date is blank "
        "(rows 2, 3, 4 and 8,997 more)"
    ], "the column is mapped: the file, not the mapping, lacks the dates, and no fix is offered"
