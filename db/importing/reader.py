"""Bytes to a table of text: detect the encoding, parse the CSV, and report every malformed row.

Encodings are tried in the order a CRM export is most likely to use: a byte-order mark decides first
(UTF-8, UTF-16), then UTF-8, then Windows-1252 (what Excel on Windows saves as "CSV"). A file that is not
valid UTF-8 is read as Windows-1252 unless it holds at least as many well-formed UTF-8 sequences (é as two
bytes) as invalid bytes: then it is UTF-8 with a few stray bytes, and reading it as Windows-1252 would
silently garble every other accented letter, so it is refused. A NUL byte, a byte Windows-1252 leaves
undefined, or a stray byte in a UTF-8 file refuses the file naming the row and column of every cell that
holds one, counted as the CSV parser counts them. Nothing is guessed at: a file whose bytes are a quarter
or more NUL (UTF-16 without a byte-order mark, a binary file) is refused as a whole.
"""

from __future__ import annotations

import codecs
import csv
import gc
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
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
# Rows are turned into columns this many at a time: a million rows as lists of Python strings take a
# gigabyte, the same as polars columns a tenth of that.
FRAME_CHUNK = 50_000
# One physical line as io.StringIO(text, newline="") yields it (ended by \r\n, \r or \n), without the
# copy of the whole text, four bytes a character, that StringIO makes.
PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
# A well-formed multi-byte UTF-8 sequence (roughly: lead byte, then its continuation bytes).
UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# What a bad byte becomes in text decoded with errors="surrogateescape" (0x81 -> U+DC81), and NUL.
BAD_CHARACTER = re.compile("[\x00\udc80-\udcff]")
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class CsvTable:
    """A parsed file: one text column per header name, and where each row sits in the file."""

    file: str
    header: tuple[str, ...]
    frame: pl.DataFrame  # String columns named as in the header (a repeated name gets " (2)")
    rows: pl.Series  # row number as a spreadsheet counts it (header = 1)
    lines: pl.Series  # physical line on which the row starts
    encoding: str
    header_row: int = 1  # more than 1 when blank lines precede the header
    header_line: int = 1

    @property
    def height(self) -> int:
        return self.frame.height


def read_bytes(source: InputFile) -> bytes:
    return source.read_bytes() if isinstance(source, Path) else source


# ---------------------------------------------------------------- decoding


def _utf16_undecodable(data: bytes, file: str, label: str) -> InvalidInput:
    try:
        data.decode("utf-16")
        offset = len(data) - 1
    except UnicodeDecodeError as error:
        offset = error.start
    line = data[:offset].decode("utf-16", errors="replace").count("\n") + 1
    return fail(
        file,
        f"byte {offset:,} (on line {line:,}) is not {label} text; save the file again as CSV UTF-8",
        value=f"0x{data[offset]:02x}",
    )


def _bad_byte_problem(character: str, not_text: str) -> str:
    if character == "\0":
        return (
            "the cell holds a NUL byte, which no text holds: the file is damaged or not a text CSV; "
            "save it again as CSV UTF-8"
        )
    return f"byte 0x{ord(character) - 0xDC00:02x} {not_text}; save the file again as CSV UTF-8"


def _bad_bytes(text: str, file: str, delimiter: str, not_text: str) -> InvalidInput:
    """Every cell holding a NUL or an undecodable byte (decoded with surrogateescape), by row and column."""
    report = ProblemReport()
    header: list[str] | None = None
    for record in _records(text, delimiter, strict=False):
        if not record.values:
            continue
        if header is None:
            header = [name.strip() for name in record.values]
        for position, value in enumerate(record.values, start=1):
            found = BAD_CHARACTER.search(value)
            if found is None:
                continue
            name = header[position - 1] if position <= len(header) else ""
            report.add(
                Problem(
                    file,
                    record.row,
                    name if name and not BAD_CHARACTER.search(name) else f"column {position}",
                    shorten(BAD_CHARACTER.sub("\ufffd", value)),
                    _bad_byte_problem(found.group(), not_text),
                    record.line,
                )
            )
    if report.ok:  # the parser gave up on the row holding it: name the file
        found = BAD_CHARACTER.search(text)
        return fail(file, _bad_byte_problem(found.group() if found else "\0", not_text))
    return InvalidInput(report)


def _as_text(data: bytes, file: str) -> tuple[str, str, str]:
    """The text, undecodable bytes escaped as U+DC80-U+DCFF; the encoding's name; what a bad byte is not
    ("" when every byte decoded, so that only a NUL can be wrong)."""
    for bom, codec, label in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), label, ""
            except UnicodeDecodeError:
                if codec == "utf-16":
                    raise _utf16_undecodable(data, file, label) from None
            text = data.decode(codec, errors="surrogateescape")
            return text, label, "is not UTF-8 text, though the file starts with its byte-order mark"
    if data.startswith(ZIP_MAGIC):
        raise fail(file, "the file is a zip archive (an Excel workbook?), not a CSV: save it as CSV UTF-8")
    if data.count(b"\0") * 4 >= len(data):
        raise fail(
            file,
            "the file is not text: a quarter or more of its bytes are NUL (UTF-16 saved without a "
            "byte-order mark, or not a CSV at all); save it again as CSV UTF-8",
        )
    try:
        return data.decode("utf-8"), "UTF-8", ""
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="surrogateescape")
    undecodable = len(re.findall("[\udc80-\udcff]", text))
    well_formed = sum(1 for _ in itertools.islice(UTF8_SEQUENCE.finditer(data), undecodable))
    if undecodable <= well_formed:
        return text, "UTF-8", "is not UTF-8 text, though the rest of the file is"
    # Mostly not UTF-8: Windows-1252, which leaves only five byte values undefined.
    try:
        return data.decode("cp1252"), "Windows-1252", ""
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="surrogateescape")
        return text, "Windows-1252", "is neither UTF-8 nor Windows-1252 text"


def decode(data: bytes, file: str, delimiter: str = ",") -> tuple[str, str]:
    """The file's text and the name of the encoding it was read as; InvalidInput when it is not text."""
    text, label, not_text = _as_text(data, file)
    if ("\0" in text) if not not_text else (BAD_CHARACTER.search(text) is not None):
        raise _bad_bytes(text, file, delimiter, not_text)
    return text, label


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Record:
    row: int
    line: int
    values: list[str] | None  # None when the csv module refused the record
    error: str = ""
    first_line: str = ""  # of a refused record: the physical line it starts on


def _records(text: str, delimiter: str, strict: bool = True) -> Iterator[_Record]:
    read: list[str] = []  # the physical lines of the record being parsed

    def physical_lines() -> Iterator[str]:
        for match in PHYSICAL_LINE.finditer(text):
            physical = match.group()
            read.append(physical)
            yield physical

    reader = csv.reader(physical_lines(), delimiter=delimiter, strict=strict)
    row, line = 0, 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            row += 1
            yield _Record(row, line, None, str(error), read[0] if read else "")
            if "end of data" in str(error):
                return
            line = reader.line_num + 1
            read.clear()
            continue
        row += 1
        yield _Record(row, line, values)
        line = reader.line_num + 1
        read.clear()


def _quote_column(line: str, delimiter: str) -> int | None:
    """The 0-based field of `line` whose quotes are wrong: a quote never closed on the line, or text
    right after a closing quote. None when the line itself is fine (the trouble is on a later line)."""
    field, opened, quoted, at_start, position = 0, 0, False, True, 0
    while position < len(line):
        character = line[position]
        if quoted:
            if character == '"':
                if line[position + 1 : position + 2] == '"':
                    position += 2
                    continue
                quoted = False
                after = line[position + 1 : position + 2]
                if after not in ("", delimiter, "\r", "\n"):
                    return field
        elif character == delimiter:
            field, at_start = field + 1, True
            position += 1
            continue
        elif character == '"' and at_start:
            quoted, opened = True, field
        at_start = False
        position += 1
    return opened if quoted else None


def _blank(values: list[str] | None) -> bool:
    """No value but spaces; the first value decides at once for almost every row."""
    if values is None:
        return False
    return not values or (not values[0].strip() and not "".join(values).strip())


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _quote_problem(error: str) -> str:
    if "end of data" in error:
        return "a quoted value that opens on this row is never closed (unbalanced quotes)"
    if "field larger than field limit" in error:
        return (
            f"a value on this row runs on for more than {csv.field_size_limit():,} characters: most likely "
            "a quote that opens on this row is never closed (unbalanced quotes)"
        )
    if "expected after" in error:
        return 'text follows the closing quote of a quoted value; a quote inside a value must be doubled ("")'
    return f"the row is not valid CSV ({error}); check the quotes on this row"


def _quote_record_problem(record: _Record, header: list[str], file: str, delimiter: str) -> Problem:
    field = _quote_column(record.first_line, delimiter)
    if field is None:
        column = ""
    else:
        column = header[field] if field < len(header) and header[field] else f"column {field + 1}"
    value = shorten(record.first_line.rstrip("\r\n"))
    return Problem(file, record.row, column, value, _quote_problem(record.error), record.line)


def _ragged_column(values: list[str], header: list[str]) -> str:
    """Where a row with the wrong number of values goes wrong: the first column it lacks or overfills."""
    width = len(header)
    if len(values) < width:
        return header[len(values)] or f"column {len(values) + 1}"
    return f"column {width + 1}"


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


def _string_frame(names: list[str], values: list[list[str]]) -> pl.DataFrame:
    columns = list(zip(*values, strict=True))
    return pl.DataFrame([pl.Series(n, c, dtype=pl.String) for n, c in zip(names, columns, strict=True)])


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
        problem = _quote_record_problem(header_record, [], file, delimiter)
        report.add(problem)
        raise InvalidInput(report)
    header = [name.strip() for name in header_record.values]
    report.extend(_header_problems(header, header_record, file))
    width = len(header)
    names = _unique_names(header)
    chunks: list[pl.DataFrame] = []
    good: list[list[str]] = []
    rows: list[int] = []
    lines: list[int] = []
    total_lines = text.count("\n") + 1
    for record in records:
        if _blank(record.values):
            continue  # a blank line, or one of only delimiters (a spreadsheet's emptied row), is no data
        if record.values is None:
            report.add(_quote_record_problem(record, header, file, delimiter))
        elif len(record.values) != width:
            report.add(
                Problem(
                    file,
                    record.row,
                    _ragged_column(record.values, header),
                    shorten(delimiter.join(record.values)),
                    f"the row has {_count(len(record.values), 'value')} but the header has "
                    f"{_count(width, 'column')}",
                    record.line,
                )
            )
        else:
            good.append(record.values)
            rows.append(record.row)
            lines.append(record.line)
            if len(good) == FRAME_CHUNK:
                chunks.append(_string_frame(names, good))
                good.clear()
        if record.row % PROGRESS_EVERY == 0:
            progress(f"reading {file}", min(1.0, record.line / total_lines))
    if not report.ok:
        raise InvalidInput(report)
    if good:
        chunks.append(_string_frame(names, good))
    if not chunks:
        raise fail(file, "the file has a header but no rows")
    frame = pl.concat(chunks) if len(chunks) > 1 else chunks[0]
    return CsvTable(
        file=file,
        header=tuple(names),
        frame=frame,
        rows=pl.Series("row", rows, dtype=pl.Int64),
        lines=pl.Series("line", lines, dtype=pl.Int64),
        encoding=encoding,
        header_row=header_record.row,
        header_line=header_record.line,
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection for the block: parsing makes a list per row, and the collector would
    go over every one still held again and again (a fifth of the parsing time for a million rows)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


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
    text, encoding = decode(data, file, delimiter)
    del data
    with _collector_paused():
        return parse_csv(text, file=file, encoding=encoding, delimiter=delimiter, progress=progress)
