"""Bytes to a table of text: detect the encoding, parse the CSV, and report every malformed row.

Encodings are tried in the order a CRM export is most likely to use: a byte-order mark decides first
(UTF-8, UTF-16), then strict UTF-8, then Windows-1252 (what Excel on Windows saves as "CSV"). A NUL
byte without a UTF-16 mark means the file is not text we can trust, so it is refused, not guessed at.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from db.importing.errors import InvalidInput, Problem, ProblemReport, fail, shorten
from db.progress import ProgressFn, no_progress

InputFile = bytes | Path
BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 (with BOM)"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
PROGRESS_EVERY = 20_000
# The five bytes Windows-1252 leaves undefined: a file holding one is neither UTF-8 nor Windows-1252.
CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


@dataclass(frozen=True)
class CsvTable:
    """A parsed file: one text column per header name, and where each row sits in the file."""

    file: str
    header: tuple[str, ...]
    frame: pl.DataFrame  # String columns named as in the header (a repeated name gets " (2)")
    rows: pl.Series  # row number as a spreadsheet counts it (header = 1)
    lines: pl.Series  # physical line on which the row starts
    encoding: str

    @property
    def height(self) -> int:
        return self.frame.height


def read_bytes(source: InputFile) -> bytes:
    return source.read_bytes() if isinstance(source, Path) else source


# ---------------------------------------------------------------- decoding


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _undecodable(data: bytes, file: str, codec: str, label: str) -> InvalidInput:
    if codec == "cp1252":
        offsets = [m.start() for m in CP1252_UNDEFINED.finditer(data)]
    else:
        try:
            data.decode(codec)
            offsets = []
        except UnicodeDecodeError as error:
            offsets = [error.start]
    report = ProblemReport()
    for offset in offsets:
        prefix = data[:offset].decode(codec, errors="replace") if "16" in codec else None
        line = prefix.count("\n") + 1 if prefix is not None else _line_of(data, offset)
        report.add(
            Problem(
                file,
                line,
                "",
                f"0x{data[offset]:02x}",
                f"byte {offset:,} is not {label} text; save the file again as CSV UTF-8",
                line,
            )
        )
    return InvalidInput(report)


def _nul_bytes(data: bytes, file: str) -> InvalidInput:
    report = ProblemReport()
    offset = data.find(b"\0")
    while offset != -1:
        line = _line_of(data, offset)
        report.add(
            Problem(
                file,
                line,
                "",
                "NUL",
                "the file holds NUL bytes: it is not a text CSV, or it is UTF-16 saved without a "
                "byte-order mark; save it again as CSV UTF-8",
                line,
            )
        )
        if report.total >= 1_000:
            break
        next_line = data.find(b"\n", offset)
        offset = -1 if next_line == -1 else data.find(b"\0", next_line)
    return InvalidInput(report)


def decode(data: bytes, file: str) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read as; InvalidInput when it is not text."""
    for bom, codec, label in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), label
            except UnicodeDecodeError:
                raise _undecodable(data, file, codec, label) from None
    if b"\0" in data:
        raise _nul_bytes(data, file)
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise _undecodable(data, file, "cp1252", "UTF-8 or Windows-1252") from None


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Record:
    row: int
    line: int
    values: list[str] | None  # None when the csv module refused the record
    error: str = ""


def _records(text: str, delimiter: str) -> Iterator[_Record]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    row, line = 0, 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            row += 1
            yield _Record(row, line, None, str(error))
            if "end of data" in str(error):
                return
            line = reader.line_num + 1
            continue
        row += 1
        yield _Record(row, line, values)
        line = reader.line_num + 1


def _quote_problem(error: str) -> str:
    if "end of data" in error:
        return "a quoted value that opens on this row is never closed (unbalanced quotes)"
    return f"the row is not valid CSV ({error}); check the quotes on this row"


def _header_problems(header: list[str], record: _Record, file: str) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if not name:
            problems.append(
                Problem(file, record.row, f"column {position}", "", "this column has no name", record.line)
            )
            continue
        if name in seen:
            problems.append(
                Problem(
                    file,
                    record.row,
                    name,
                    name,
                    f"the column name appears more than once (columns {seen[name]} and {position})",
                    record.line,
                )
            )
        seen.setdefault(name, position)
    return problems


def _unique_names(header: list[str]) -> list[str]:
    names: list[str] = []
    for position, name in enumerate(header, start=1):
        candidate = name or f"column {position}"
        suffix = 2
        while candidate in names:
            candidate = f"{name} ({suffix})"
            suffix += 1
        names.append(candidate)
    return names


def parse_csv(
    text: str,
    *,
    file: str,
    encoding: str = "UTF-8",
    delimiter: str = ",",
    progress: ProgressFn = no_progress,
) -> CsvTable:
    """Parse CSV text; collect every malformed row, then raise InvalidInput if there was any."""
    report = ProblemReport()
    records = _records(text, delimiter)
    header_record = next((r for r in records if r.values != []), None)
    if header_record is None:
        raise fail(file, "the file is empty")
    if header_record.values is None:
        raise fail(file, _quote_problem(header_record.error), row=header_record.row)
    header = [name.strip() for name in header_record.values]
    report.extend(_header_problems(header, header_record, file))
    width = len(header)
    good: list[list[str]] = []
    rows: list[int] = []
    lines: list[int] = []
    total_lines = text.count("\n") + 1
    for record in records:
        if record.values == []:
            continue  # a blank line is no data
        if record.values is None:
            report.add(Problem(file, record.row, "", "", _quote_problem(record.error), record.line))
        elif len(record.values) != width:
            report.add(
                Problem(
                    file,
                    record.row,
                    "",
                    shorten(delimiter.join(record.values)),
                    f"the row has {len(record.values)} values but the header has {width} columns",
                    record.line,
                )
            )
        else:
            good.append(record.values)
            rows.append(record.row)
            lines.append(record.line)
        if record.row % PROGRESS_EVERY == 0:
            progress(f"reading {file}", min(1.0, record.line / total_lines))
    if not report.ok:
        raise InvalidInput(report)
    if not good:
        raise fail(file, "the file has a header but no rows")
    names = _unique_names(header)
    columns = list(zip(*good, strict=True))
    frame = pl.DataFrame([pl.Series(n, c, dtype=pl.String) for n, c in zip(names, columns, strict=True)])
    return CsvTable(
        file=file,
        header=tuple(names),
        frame=frame,
        rows=pl.Series("row", rows, dtype=pl.Int64),
        lines=pl.Series("line", lines, dtype=pl.Int64),
        encoding=encoding,
    )


def read_table(
    source: InputFile,
    *,
    file: str,
    delimiter: str = ",",
    progress: ProgressFn = no_progress,
) -> CsvTable:
    """Read and parse one CSV file (bytes or a path) into a CsvTable, or raise InvalidInput."""
    data = read_bytes(source)
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise fail(file, "the file is empty")
    text, encoding = decode(data, file)
    return parse_csv(text, file=file, encoding=encoding, delimiter=delimiter, progress=progress)
