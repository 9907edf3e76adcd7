"""Broken CSV files leave the database exactly as it was and say where they are broken; odd but valid
files (a value holding line breaks, a byte-order mark, UTF-16, Windows-1252) import correctly.

What "row" means in a problem report (db/importing/errors.py ROW_NOTE, docs/IMPORT_MAPPING.md): the row
as a spreadsheet counts it. The header is row 1 and the first data row is row 2; a blank line is a row
too (a spreadsheet shows it as an empty row); a quoted value holding line breaks is part of one row, so
rows after it keep their spreadsheet number, while `line` is the physical line where the row starts in a
text editor. A problem with the whole file (empty, no rows, not text) has no row.

How the decoder chooses (db/importing/reader.py): a byte-order mark decides (UTF-8, UTF-16); else UTF-8;
a file that is not valid UTF-8 is Windows-1252, unless it holds at least as many well-formed multi-byte
UTF-8 sequences as invalid bytes (UTF-8 with stray bytes: reading it as Windows-1252 would garble it).
A NUL byte, a byte Windows-1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D), or a stray byte in UTF-8
refuses the file naming the row and column of each cell holding one; a file that is a quarter or more NUL
bytes (UTF-16 without a byte-order mark) is refused as a whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

import db.__main__ as cli
from db.access import OPERATOR
from db.importing.errors import ROW_NOTE
from db.importing.mapping import Mapping, parse_mapping
from db.importing.run import ImportResult, RunOptions, import_csv
from db.settings import get_settings
from tests.conftest import PROJECT_ROOT
from tests.db.importing.snapshots import assert_nothing_but_the_log_changed, snapshot

AS_OPERATOR = RunOptions(actor=OPERATOR)  # the command line's import
MAPPING_TOML = """
[source]
name = "crm"
label = "Test CRM"

[columns]
external_id = "Lead ID"
created_date = "Created"
close_date = "Closed"
amount = "Amount"
owner = "Owner"
source = "Source"

[stage]
column = "Stage"

[stage.values]
new = "created"
mql = "mql"
won = "won"
lost = "lost"
"""
MAPPING: Mapping = parse_mapping(MAPPING_TOML)
HEADER = "Lead ID,Created,Stage,Closed,Amount,Owner,Source"
GOOD = "\n".join(
    [
        HEADER,
        "L-1,2024-01-05,new,,,Ann Lee,Web",
        'L-2,2024-01-06,won,2024-02-01,"1,250.50",Bob Roe,Referral',
        "L-3,2024-01-07,lost,2024-02-03,,Ann Lee,Web",
        "",
    ]
)
# Rows 2 and 3 of every broken file would change the database (an update and a new lead and person):
# the import being all or nothing is what keeps them out.
WOULD_WRITE = ["L-1,2024-01-05,new,,,Ann Lee,Changed", "L-9,2024-03-01,new,,,Cy New,Web"]
DATE_PROBLEM = "not a date in any of the formats"


def lines(*rows: str, header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *rows]) + end


def _big_file_with_one_bad_date() -> bytes:
    """10,000 data rows (spreadsheet rows 2 to 10,001); spreadsheet row 9,000 holds 2024-02-30."""
    rows = [f"N-{row},2024-01-{1 + row % 28:02d},new,,{row}.25,Rep {row % 7},Web" for row in range(2, 10_002)]
    rows[9_000 - 2] = "N-9000,2024-02-30,new,,1.00,Rep 1,Web"
    return lines(*rows).encode()


@dataclass(frozen=True)
class Broken:
    id: str
    data: bytes
    # (row, line, column, words the problem must hold), in report order: every problem, none more.
    problems: tuple[tuple[int | None, int | None, str, str], ...]
    value: str | None = None  # the first problem's value, when it matters


BROKEN = [
    Broken(
        "ragged-long-row",
        lines(*WOULD_WRITE, "L-10,2024-03-02,new,,,Ann Lee,Web,extra").encode(),
        ((4, 4, "column 8", "the row has 8 values but the header has 7 columns"),),
        "L-10,2024-03-02,new,,,Ann Lee,Web,extra",
    ),
    Broken(
        "ragged-short-row",
        lines(*WOULD_WRITE, "L-10,2024-03-02,new,,").encode(),
        ((4, 4, "Owner", "the row has 5 values but the header has 7 columns"),),
    ),
    Broken(
        "unbalanced-quote",
        lines(
            *WOULD_WRITE, 'L-10,2024-03-02,new,,,"Ann Lee,Web', "L-11,2024-03-03,new,,,Bob Roe,Web"
        ).encode(),
        ((4, 4, "Owner", "never closed (unbalanced quotes)"),),
    ),
    Broken(
        "text-after-a-closing-quote",
        lines(*WOULD_WRITE, 'L-10,2024-03-02,new,,,"Ann" Lee,Web', "L-11,2024-03-03,new,,,Bob,Web").encode(),
        ((4, 4, "Owner", 'a quote inside a value must be doubled ("")'),),
    ),
    Broken(
        "bad-date-after-a-multi-line-value",
        lines(
            *WOULD_WRITE,
            'L-10,2024-03-02,new,,,Ann Lee,"Web\nsite, second line\nthird ""line"""',
            "L-11,2024-13-40,new,,,Bob Roe,Web",
        ).encode(),
        ((5, 7, "Created", DATE_PROBLEM),),
        "2024-13-40",
    ),
    Broken(
        "ragged-row-after-a-multi-line-value-with-crlf",
        lines(
            *WOULD_WRITE,
            'L-10,2024-03-02,new,,,Ann Lee,"Web\r\nsite"',
            "L-11,2024-03-03,new,,,Bob Roe",
            end="\r\n",
        ).encode(),
        ((5, 6, "Source", "the row has 6 values but the header has 7 columns"),),
    ),
    Broken(
        "a-blank-line-is-a-row",
        lines(*WOULD_WRITE, "", "L-11,yesterday,new,,,Bob Roe,Web").encode(),
        ((5, 5, "Created", DATE_PROBLEM),),
    ),
    Broken(
        "nul-byte",
        lines(*WOULD_WRITE, "L-10,2024-03-02,new,,,Ann\0Lee,Web").encode(),
        ((4, 4, "Owner", "NUL byte"),),
        "Ann\ufffdLee",
    ),
    Broken(
        "nul-byte-after-a-multi-line-value",
        lines(
            *WOULD_WRITE, 'L-10,2024-03-02,new,,,Ann Lee,"Web\nsite"', "L-11,2024-03-03,new,,,Bob,W\0eb"
        ).encode(),
        ((5, 6, "Source", "NUL byte"),),
    ),
    Broken(
        "utf-16-without-byte-order-mark",
        lines(*WOULD_WRITE).encode("utf-16-le"),
        ((None, None, "", "UTF-16 saved without a byte-order mark"),),
    ),
    Broken(
        "utf-16-cut-short",  # an odd number of bytes: the last character is half there
        lines(*WOULD_WRITE).encode("utf-16") + b"\x41",
        ((None, None, "", "(on line 4) is not UTF-16 text"),),
        "0x41",
    ),
    Broken(
        "an-excel-workbook",
        b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40 + b"[Content_Types].xml",
        ((None, None, "", "zip archive (an Excel workbook?), not a CSV"),),
    ),
    Broken(
        "neither-utf-8-nor-windows-1252",
        lines("L-1,2024-01-05,new,,,José Núñez,Web", "L-9,2024-03-01,new,,,Cy,Web").encode("cp1252")
        + b"L-10,2024-03-02,new,,,Ann\x81Lee,Web\n",
        ((4, 4, "Owner", "byte 0x81 is neither UTF-8 nor Windows-1252 text"),),
        "Ann\ufffdLee",
    ),
    Broken(
        "utf-8-with-a-stray-windows-1252-byte",
        lines("L-1,2024-01-05,new,,,José Núñez,Web", "L-9,2024-03-01,new,,,Cy,Web").encode()
        + "L-10,2024-03-02,new,,,Renée,Web\n".encode("cp1252"),
        ((4, 4, "Owner", "byte 0xe9 is not UTF-8 text, though the rest of the file is"),),
        "Ren\ufffde",
    ),
    Broken(
        "duplicate-header-names",
        lines(*(r + ",x" for r in WOULD_WRITE), header=HEADER + ",Owner").encode(),
        ((1, 1, "Owner", "the column name appears more than once (columns 6 and 8)"),),
    ),
    Broken(
        "mapped-column-missing",
        lines(*(r.rsplit(",", 1)[0] for r in WOULD_WRITE), header=HEADER.rsplit(",", 1)[0]).encode(),
        ((1, 1, "Source", "the mapping names this column but the file has none"),),
    ),
    Broken(
        "mapped-column-missing-below-blank-lines",
        (
            "\n\n" + lines(*(r.rsplit(",", 1)[0] for r in WOULD_WRITE), header=HEADER.rsplit(",", 1)[0])
        ).encode(),
        ((3, 3, "Source", "the mapping names this column but the file has none"),),
    ),
    Broken(
        "blank-header-cell",
        lines(*(r + ",x" for r in WOULD_WRITE), header=HEADER + ", ").encode(),
        ((1, 1, "column 8", "this column has no name"),),
    ),
    Broken("empty-file", b"", ((None, None, "", "the file is empty"),)),
    Broken("blank-lines-only", b"\r\n \r\n\t\n", ((None, None, "", "the file is empty"),)),
    Broken("byte-order-mark-only", codecs.BOM_UTF16_LE, ((None, None, "", "the file is empty"),)),
    Broken("header-only", lines().encode(), ((None, None, "", "the file has a header but no rows"),)),
    Broken(
        "header-and-emptied-rows-only",
        lines(",,,,,,", "", ",,,").encode(),
        ((None, None, "", "the file has a header but no rows"),),
    ),
    Broken(
        "bad-date-in-row-9000-of-10000",
        _big_file_with_one_bad_date(),
        ((9_000, 9_000, "Created", DATE_PROBLEM),),
        "2024-02-30",
    ),
    Broken(
        "negative-amount",
        lines(*WOULD_WRITE, "L-10,2024-03-02,won,2024-03-05,-5.00,Ann Lee,Web").encode(),
        ((4, 4, "Amount", "a negative amount"),),
        "-5.00",
    ),
    Broken(
        "decimal-comma-in-a-decimal-point-file",  # read as 125050 if the comma were simply dropped
        lines(*WOULD_WRITE, 'L-10,2024-03-02,won,2024-03-05,"1250,50",Ann Lee,Web').encode(),
        ((4, 4, "Amount", "not a number"),),
        "1250,50",
    ),
    Broken(
        "separated-by-semicolons-not-commas",
        lines(*(r.replace(",", ";") for r in WOULD_WRITE), header=HEADER.replace(",", ";")).encode(),
        tuple(
            (
                1,
                1,
                name,
                "the file has none (it has 'Lead ID;Created;Stage;Closed;Amount;Owner;Source'); "
                "is the file separated by ';', not ','? Set [read] delimiter",
            )
            for name in ("Lead ID", "Created", "Closed", "Amount", "Owner", "Source", "Stage")
        ),
    ),
    Broken(
        "two-columns-match-ignoring-case",
        lines(*(r + ",x" for r in WOULD_WRITE), header=HEADER.replace("Owner", "OWNER") + ",owner").encode(),
        ((1, 1, "Owner", "2 columns match it ignoring letter case ('OWNER', 'owner')"),),
    ),
    Broken(
        "missing-id",
        lines(*WOULD_WRITE, " ,2024-03-02,new,,,Ann Lee,Web").encode(),
        ((4, 4, "Lead ID", "the id is missing"),),
    ),
    Broken(
        "duplicate-id-in-the-file",
        lines(*WOULD_WRITE, "L-10,2024-03-02,new,,,Ann Lee,Web", "L-9,2024-03-02,new,,,Ann Lee,Web").encode(),
        ((5, 5, "Lead ID", "the same id is already on row 3"),),
        "L-9",
    ),
    Broken(
        "unknown-stage",
        lines(*WOULD_WRITE, "L-10,2024-03-02,qualified,,,Ann Lee,Web").encode(),
        ((4, 4, "Stage", "not a stage listed in [stage.values] ('new', 'mql', 'won', 'lost')"),),
        "qualified",
    ),
    Broken(
        "won-without-a-close-date-and-a-bad-one",
        lines(*WOULD_WRITE, "L-10,2024-03-02,won,soon,,Ann Lee,Web").encode(),
        ((4, 4, "Closed", DATE_PROBLEM),),
        "soon",
    ),
    Broken(
        "several-problems-in-row-order",
        lines(
            *WOULD_WRITE,
            "L-10,2024-03-02,new,,-1,Ann Lee,Web",
            "L-11,2024-03-02,nope,,,Ann Lee,Web",
            "L-12,02/03/2024,new,,,Ann Lee,Web",
        ).encode(),
        (
            (4, 4, "Amount", "a negative amount"),
            (5, 5, "Stage", "not a stage listed"),
            (6, 6, "Created", DATE_PROBLEM),
        ),
    ),
]


@pytest.fixture
def seeded(db_engine: Engine) -> Engine:
    """A database that already holds three leads of the source and two people."""
    result = import_csv(db_engine, GOOD.encode(), MAPPING, file_name="good.csv", options=AS_OPERATOR)
    assert result.ok, result.describe()
    assert result.counts is not None and (result.counts.created, result.counts.users_created) == (3, 2)
    return db_engine


def _where(result: ImportResult) -> list[tuple[int | None, int | None, str]]:
    return [(p.row, p.line, p.column) for p in result.report.problems]


@pytest.mark.parametrize("case", BROKEN, ids=[case.id for case in BROKEN])
def test_a_broken_file_changes_nothing_and_says_where(seeded: Engine, case: Broken) -> None:
    before = snapshot(seeded)
    result = import_csv(seeded, case.data, MAPPING, file_name="broken.csv", options=AS_OPERATOR)
    assert not result.ok and result.counts is None
    assert _where(result) == [(row, line, column) for row, line, column, _ in case.problems]
    assert result.report.total == len(case.problems)
    for problem, (_, _, _, words) in zip(result.report.problems, case.problems, strict=True):
        assert words in problem.problem
        assert problem.file == "broken.csv"
        assert "Traceback" not in problem.problem and "Error" not in problem.problem
    if case.value is not None:
        assert result.report.problems[0].value == case.value
    assert result.describe().endswith("nothing was imported")
    assert_nothing_but_the_log_changed(seeded, before, "refused")


# ---------------------------------------------------------------- odd but valid files


def _stored(engine: Engine) -> dict[str, tuple[Any, ...]]:
    """external_id -> (owner's name, source, amount, outcome) for the test source's leads."""
    query = text(
        "SELECT leads.external_id, users.name, leads.source, leads.amount, leads.outcome FROM leads "
        "LEFT JOIN users ON users.id = leads.owner_id WHERE leads.source_system = 'crm'"
    )
    with engine.connect() as connection:
        return {row[0]: tuple(row[1:]) for row in connection.execute(query)}


VALID_ROWS = [
    "L-1,2024-01-05,new,,,José Núñez,Web €",
    'L-4,2024-03-01,won,2024-03-09,"€1,250.50",Ann Lee,"Trade show, Köln"',
]


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("UTF-8", lines(*VALID_ROWS).encode()),
        ("UTF-8 (with BOM)", codecs.BOM_UTF8 + lines(*VALID_ROWS).encode()),
        ("UTF-16", lines(*VALID_ROWS).encode("utf-16")),  # little-endian, with a byte-order mark
        ("UTF-16", codecs.BOM_UTF16_BE + lines(*VALID_ROWS).encode("utf-16-be")),
        ("UTF-16", codecs.BOM_UTF16_LE + lines(*VALID_ROWS, end="\r\n").encode("utf-16-le")),
        ("Windows-1252", lines(*VALID_ROWS).encode("cp1252")),
        ("Windows-1252", lines(*VALID_ROWS, end="\r\n").encode("cp1252")),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "utf-16-crlf", "cp1252", "cp1252-crlf"],
)
def test_every_encoding_reads_the_same_values(seeded: Engine, encoding: str, data: bytes) -> None:
    result = import_csv(seeded, data, MAPPING, file_name="export.csv", options=AS_OPERATOR)
    assert result.ok, result.report.first()
    assert result.encoding == encoding
    assert result.counts is not None
    assert (result.counts.rows_read, result.counts.created, result.counts.updated) == (2, 1, 1)
    assert result.counts.users_created == 1, "José Núñez is new; Ann Lee is matched by name"
    stored = _stored(seeded)
    assert stored["L-1"] == ("José Núñez", "Web €", None, None)
    assert stored["L-4"] == ("Ann Lee", "Trade show, Köln", 1250.5, "won")
    assert stored["L-2"] == ("Bob Roe", "Referral", 1250.5, "won"), "leads the file lacks stay as they were"


def test_a_value_holding_line_breaks_is_one_row(seeded: Engine) -> None:
    data = lines(
        'L-10,2024-03-02,new,,,Ann Lee,"Web\nsite, ""quoted""\r\nthird line"',
        "L-11,2024-03-03,won,2024-03-04,10,Bob Roe,Web",
        ",,,,,,",  # a spreadsheet's emptied row: no data
    ).encode()
    result = import_csv(seeded, data, MAPPING, file_name="multi.csv", options=AS_OPERATOR)
    assert result.ok, result.report.first()
    assert result.counts is not None and (result.counts.rows_read, result.counts.created) == (2, 2)
    stored = _stored(seeded)
    assert stored["L-10"] == ("Ann Lee", 'Web\nsite, "quoted"\r\nthird line', None, None)
    assert stored["L-11"] == ("Bob Roe", "Web", 10.0, "won")


def test_a_re_import_of_a_windows_1252_file_changes_nothing(seeded: Engine) -> None:
    data = lines(*VALID_ROWS, end="\r\n").encode("cp1252")
    assert import_csv(seeded, data, MAPPING, options=AS_OPERATOR).ok
    before = snapshot(seeded)
    again = import_csv(seeded, data, MAPPING, options=AS_OPERATOR)
    assert again.counts is not None
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    # Not even the source's updated_at: an import that changes nothing leaves the source as it was.
    assert_nothing_but_the_log_changed(seeded, before, "done")


# ---------------------------------------------------------------- the command line


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, db_url: str, seeded: Engine) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "crm.toml"
    path.write_text(MAPPING_TOML, encoding="utf-8")
    return path


def test_cli_dry_run_writes_nothing(
    cli_db: str, seeded: Engine, mapping_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new.csv"
    path.write_bytes(lines(*WOULD_WRITE).encode())
    before = snapshot(seeded)
    assert cli.main(["import", "csv", str(path), "--mapping", str(mapping_file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Checked new.csv; the import would give:" in out
    assert "1 leads created, 1 updated, 0 unchanged, 1 users created" in out
    assert_nothing_but_the_log_changed(seeded, before, "dry-run")


# A line of the log (db/logs.py's format), which the command line writes on stderr too.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def _printed(err: str) -> list[str]:
    """What the command printed on stderr, without the log's lines."""
    return [line for line in err.splitlines() if not LOG_LINE.match(line)]


def test_cli_refuses_a_broken_file_with_a_report(
    cli_db: str, seeded: Engine, mapping_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(
        lines(
            *WOULD_WRITE, "L-10,2024-03-02,won,2024-03-05,-5.00,Ann Lee,Web", "L-11,=1+1,new,,,Ann,Web"
        ).encode()
    )
    report = tmp_path / "problems.csv"
    before = snapshot(seeded)
    argv = ["import", "csv", str(path), "--mapping", str(mapping_file), "--report", str(report)]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    printed = _printed(captured.err)
    assert printed[0] == "refused: broken.csv: 2 problems; nothing was imported"
    # One line per problem; the file is named once, on the first line.
    assert "  row 4, column 'Amount': '-5.00': a negative amount" in printed
    assert f"every problem is listed in {report}" in captured.err
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert rows[0] == ["file", "row", "line", "column", "value", "problem"]
    # Cells a spreadsheet would run as a formula are defused with a leading apostrophe.
    assert rows[1] == ["broken.csv", "4", "4", "Amount", "'-5.00", "a negative amount"]
    assert rows[2][:5] == ["broken.csv", "5", "5", "Created", "'=1+1"]
    assert rows[2][5].startswith(DATE_PROBLEM)
    assert rows[3:] == [["", "", "", "", "", ROW_NOTE]]
    assert_nothing_but_the_log_changed(seeded, before, "refused")


def test_cli_refuses_an_empty_file_in_plain_words(
    cli_db: str, mapping_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert cli.main(["import", "csv", str(path), "--mapping", str(mapping_file)]) == 1
    assert _printed(capsys.readouterr().err) == [
        "refused: empty.csv: 1 problem; nothing was imported",
        "  empty.csv: the file is empty",
    ]


def test_python_m_db_exits_1_without_a_traceback(db_url: str, mapping_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(lines("L-1,2024-01-05,new,,,Ann\0Lee,Web").encode())
    completed = subprocess.run(
        [sys.executable, "-m", "db", "import", "csv", str(path), "--mapping", str(mapping_file)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "row 2, column 'Owner'" in completed.stderr
    assert "NUL byte" in completed.stderr
