"""The row-level problem report an invalid import hands back: what is wrong, where, capped, as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl

MAX_PROBLEMS = 1_000
MAX_VALUE_CHARS = 200
ROW_NOTE = (
    "Rows are counted as a spreadsheet counts them: the header is row 1, the first data row is row 2. "
    "A quoted value holding line breaks is one row; 'line' is where that row starts in a text editor."
)
PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "row": pl.Int64(),
    "line": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "problem": pl.String(),
}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input. `row` is None for a problem with the whole file."""

    file: str
    row: int | None
    column: str
    value: str
    problem: str
    line: int | None = None

    def describe(self) -> str:
        where = f"{self.file}, row {self.row}" if self.row is not None else self.file
        column = f", column {self.column!r}" if self.column else ""
        value = f": {self.value!r}" if self.value else ""
        return f"{where}{column}{value}: {self.problem}"


def shorten(value: str) -> str:
    return value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 1] + "…"


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass
class ProblemReport:
    """Every problem found, the first MAX_PROBLEMS kept in file order, and how many there were."""

    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    @property
    def ok(self) -> bool:
        return self.total == 0

    @property
    def not_shown(self) -> int:
        return self.total - len(self.problems)

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def add_frame(self, frame: pl.DataFrame) -> None:
        """Problems found set-wise: a frame of PROBLEM_SCHEMA, kept in row order."""
        room = MAX_PROBLEMS - len(self.problems)
        ordered = frame.sort(["file", "row", "line"], nulls_last=False, maintain_order=True)
        for r in ordered.head(max(room, 0)).iter_rows(named=True):
            self.problems.append(
                Problem(r["file"], r["row"], r["column"], shorten(r["value"] or ""), r["problem"], r["line"])
            )
        self.total += frame.height

    def first(self, count: int = 5) -> Sequence[Problem]:
        return self.problems[:count]

    def summary(self) -> str:
        if self.ok:
            return "no problems"
        noun = "problem" if self.total == 1 else "problems"
        more = f" (the first {len(self.problems):,} are listed)" if self.not_shown else ""
        return f"{self.total:,} {noun}{more}; nothing was imported"

    def to_csv(self) -> str:
        """The report as CSV for download; cells a spreadsheet would run as formulas are defused."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["file", "row", "line", "column", "value", "problem"])
        for p in self.problems:
            writer.writerow([_safe_cell(v) for v in (p.file, p.row, p.line, p.column, p.value, p.problem)])
        if self.not_shown:
            writer.writerow(["", "", "", "", "", f"… and {self.not_shown:,} more problems not listed"])
        writer.writerow(["", "", "", "", "", ROW_NOTE])
        return buffer.getvalue()


class InvalidInput(Exception):
    """Raised inside the importer when the input cannot be read any further; carries the report."""

    def __init__(self, report: ProblemReport) -> None:
        super().__init__(report.summary())
        self.report = report


def fail(
    file: str, problem: str, *, row: int | None = None, column: str = "", value: str = ""
) -> InvalidInput:
    report = ProblemReport()
    report.add(Problem(file, row, column, value, problem))
    return InvalidInput(report)
