"""The problem report an invalid import hands back: every problem found, grouped for reading, as CSV.

A screen or a console shows the problems grouped (`group_problems`): the same problem on many rows is one
line with its count and its first rows, and says what to map when a mapped column is what is missing. The
CSV keeps one row per problem, every one of them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field

import polars as pl

MAX_PROBLEMS = 1_000  # the first ones kept as Problem objects, for a row-by-row table
MAX_VALUE_CHARS = 200
FIRST_ROWS_SHOWN = 3  # a grouped line names this many rows: "rows 3, 4, 7 and 8,409 more"
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
    "kind": pl.String(),
    "fix": pl.String(),
}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Escape = Callable[[str], str]


def _as_is(text: str) -> str:
    return text


def fix_hint(*places: str) -> str:
    """What to map to mend a problem, as `Problem.fix` holds it: mapping places "section.key" (or
    "section.key=value"), any one of which would do, e.g. fix_hint("columns.close_date")."""
    return " ".join(places)


def how_to_fix(fix: str, names: MappingType[str, str] | None = None, escape: Escape = _as_is) -> str:
    """The fix as an instruction. In a mapping file's terms: "map `close_date` in [columns]"; with `names`
    (a form's label for each place it offers, e.g. {"columns.close_date": "Close date"}): 'map “Close
    date” above', the places the form does not offer left out (nothing, when it offers none)."""
    places = fix.split()
    if not places:
        return ""
    if names is not None:  # nothing said of a place the form does not offer: the form cannot set it
        labels = [names[place.split("=")[0]] for place in places if place.split("=")[0] in names]
        return "map " + " or ".join(f"“{escape(label)}”" for label in labels) + " above" if labels else ""
    sections: dict[str, list[str]] = {}
    for place in places:
        section, _, key = place.partition(".")
        key, _, value = key.partition("=")
        sections.setdefault(section, []).append(f'`{key} = "{value}"`' if value else f"`{key}`")
    parts = [
        f"{'map' if section == 'columns' else 'set'} {' or '.join(keys)} in {escape(f'[{section}]')}"
        for section, keys in sections.items()
    ]
    return " or ".join(parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input. `row` is None for a problem with the whole file.

    `kind` is what every row with this problem shares, when `problem` says more about this one row (which
    earlier row holds the same id); `fix` what to map to mend it (see fix_hint), when the mapping is the
    cause.
    """

    file: str
    row: int | None
    column: str
    value: str
    problem: str
    line: int | None = None
    kind: str = ""
    fix: str = ""

    @property
    def sentence(self) -> str:
        return self.kind or self.problem

    def what(self, names: MappingType[str, str] | None = None, escape: Escape = _as_is) -> str:
        """The problem with how to fix it: "a won deal needs a close date; map `close_date` in [columns]"."""
        fix = how_to_fix(self.fix, names, escape)
        return escape(self.problem) + (f"; {fix}" if fix else "")

    def describe(
        self,
        names: MappingType[str, str] | None = None,
        *,
        show_file: bool = True,
        escape: Escape = _as_is,
    ) -> str:
        if self.row is None:
            where = escape(self.file)
        else:
            where = f"{escape(self.file)}, row {self.row}" if show_file else f"row {self.row}"
        column = f", column {escape(repr(self.column))}" if self.column else ""
        value = f": {escape(repr(self.value))}" if self.value else ""
        return f"{where}{column}{value}: {self.what(names, escape)}"


# ---------------------------------------------------------------- grouping


def _rows_text(rows: Sequence[int], count: int) -> str:
    """ "rows 3, 4 and 7", or with more rows than named: "rows 3, 4, 7 and 8,409 more"."""
    shown = [str(row) for row in rows]
    more = count - len(shown)
    if more > 0:
        return f"rows {', '.join(shown)} and {more:,} more"
    if len(shown) == 1:
        return f"row {shown[0]}"
    return f"rows {', '.join(shown[:-1])} and {shown[-1]}"


@dataclass(frozen=True)
class ProblemGroup:
    """The same problem (file, column, kind of problem, fix) on `count` rows; `first` is its first row."""

    first: Problem
    count: int
    rows: tuple[int, ...] = ()  # the first FIRST_ROWS_SHOWN rows holding it, in report order

    def describe(
        self,
        names: MappingType[str, str] | None = None,
        *,
        show_file: bool = False,
        escape: Escape = _as_is,
    ) -> str:
        """One line. Alone, the problem as it is (with its row and value); on many rows:
        "8,412 rows: a won deal needs a close date; map `close_date` in [columns] (rows 3, 4, 7 and 8,409
        more)"."""
        first = self.first
        if self.count == 1:
            return first.describe(names, show_file=show_file, escape=escape)
        fix = how_to_fix(first.fix, names, escape)
        what = escape(first.sentence) + (f"; {fix}" if fix else "")
        if not self.rows:  # problems with the whole file
            return f"{escape(first.file)}: {what} ({self.count:,} times)"
        of_file = f" of {escape(first.file)}" if show_file else ""
        column = f", column {escape(repr(first.column))}" if first.column else ""
        return f"{self.count:,} rows{of_file}{column}: {what} ({_rows_text(self.rows, self.count)})"


@dataclass
class _Tally:
    first: Problem
    order: int
    count: int = 0
    rows: list[int] = field(default_factory=list)


def group_problems(problems: Iterable[Problem], first_rows: int = FIRST_ROWS_SHOWN) -> list[ProblemGroup]:
    """The problems grouped: one group per file, column, kind of problem and fix, with how many problems it
    holds and its first `first_rows` rows (in the order given, which for a report is file order). The
    groups come largest first; groups of one size in the order their first problem came."""
    tallies: dict[tuple[str, str, str, str], _Tally] = {}
    for order, problem in enumerate(problems):
        key = (problem.file, problem.column, problem.sentence, problem.fix)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = _Tally(problem, order)
        tally.count += 1
        if problem.row is not None and len(tally.rows) < first_rows:
            tally.rows.append(problem.row)
    ordered = sorted(tallies.values(), key=lambda t: (-t.count, t.order))
    return [ProblemGroup(t.first, t.count, tuple(t.rows)) for t in ordered]


# ---------------------------------------------------------------- the report


def shorten(value: str) -> str:
    return value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 1] + "…"


def _shortened(text: pl.Expr) -> pl.Expr:
    return (
        pl.when(text.str.len_chars() > MAX_VALUE_CHARS)
        .then(text.str.slice(0, MAX_VALUE_CHARS - 1) + pl.lit("…"))
        .otherwise(text)
    )


def _frame_of(problems: Sequence[Problem]) -> pl.DataFrame:
    return pl.DataFrame(
        [(p.file, p.row, p.line, p.column, p.value, p.problem, p.kind, p.fix) for p in problems],
        schema=PROBLEM_SCHEMA,
        orient="row",
    )


class ProblemReport:
    """Every problem found, in file order, held as columns (a million bad rows cost tens of megabytes, not a
    gigabyte); `problems` holds the first MAX_PROBLEMS as objects, `groups` all of them grouped."""

    def __init__(self) -> None:
        self._parts: list[pl.DataFrame] = []
        self._pending: list[Problem] = []  # added one at a time, not yet a frame

    def __repr__(self) -> str:
        return f"ProblemReport(total={self.total})"

    @property
    def total(self) -> int:
        return sum(part.height for part in self._parts) + len(self._pending)

    @property
    def ok(self) -> bool:
        return self.total == 0

    def add(self, problem: Problem) -> None:
        self._pending.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        self._pending.extend(problems)

    def add_frame(self, frame: pl.DataFrame) -> None:
        """Problems found set-wise: a frame of PROBLEM_SCHEMA (kind and fix may be left out), kept in row
        order."""
        if frame.is_empty():
            return
        self._flush()
        missing = [pl.lit("", pl.String).alias(c) for c in ("kind", "fix") if c not in frame.columns]
        ordered = frame.with_columns(*missing).sort(
            ["file", "row", "line"], nulls_last=False, maintain_order=True
        )
        self._parts.append(
            ordered.select(
                pl.col("file"),
                pl.col("row"),
                pl.col("line"),
                pl.col("column").fill_null(""),
                _shortened(pl.col("value").fill_null("")).alias("value"),
                pl.col("problem"),
                pl.col("kind").fill_null(""),
                pl.col("fix").fill_null(""),
            ).cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]
        )

    def _flush(self) -> None:
        if self._pending:
            self._parts.append(_frame_of(self._pending))
            self._pending = []

    def __iter__(self) -> Iterator[Problem]:
        """Every problem, in file order."""
        self._flush()
        for part in self._parts:
            for file, row, line, column, value, problem, kind, fix in part.iter_rows():
                yield Problem(file, row, column, value, problem, line, kind, fix)

    def first(self, count: int = 5) -> list[Problem]:
        found: list[Problem] = []
        for problem in self:
            if len(found) == count:
                break
            found.append(problem)
        return found

    @property
    def problems(self) -> list[Problem]:
        """The first MAX_PROBLEMS problems, for a row-by-row table."""
        return self.first(MAX_PROBLEMS)

    @property
    def files(self) -> list[str]:
        self._flush()
        names = pl.concat([part.get_column("file") for part in self._parts]) if self._parts else pl.Series([])
        return names.unique(maintain_order=True).to_list()

    def groups(self) -> list[ProblemGroup]:
        return group_problems(self)

    def lines(
        self,
        limit: int | None = None,
        *,
        names: MappingType[str, str] | None = None,
        escape: Escape = _as_is,
    ) -> list[str]:
        """One line per group, largest first (the file named when there are several); past `limit`
        groups, a last line counting the rest."""
        groups = self.groups()
        show_file = len(self.files) > 1
        shown = groups if limit is None else groups[:limit]
        lines = [group.describe(names, show_file=show_file, escape=escape) for group in shown]
        rest = groups[len(shown) :]
        if rest:
            count = sum(group.count for group in rest)
            kinds = f"{len(rest):,} other kind" + ("" if len(rest) == 1 else "s")
            lines.append(f"… and {count:,} more problem{'' if count == 1 else 's'} of {kinds}")
        return lines

    def summary(self) -> str:
        if self.ok:
            return "no problems"
        noun = "problem" if self.total == 1 else "problems"
        return f"{self.total:,} {noun}; nothing was imported"

    def to_csv(self, names: MappingType[str, str] | None = None) -> str:
        """Every problem, one row each, as CSV for download; cells a spreadsheet would run as formulas
        are defused. `names` as for how_to_fix."""
        self._flush()
        frame = pl.concat(self._parts) if self._parts else pl.DataFrame(schema=PROBLEM_SCHEMA)
        fixes = {fix: how_to_fix(fix, names) for fix in frame.get_column("fix").unique().to_list()}
        fix_text = pl.col("fix").replace_strict(fixes, default="", return_dtype=pl.String)
        problem = pl.when(fix_text != "").then(pl.concat_str(pl.col("problem"), pl.lit("; "), fix_text))
        table = frame.select(
            *(_defused(pl.col(name)) for name in ("file", "row", "line", "column", "value")),
            _defused(problem.otherwise(pl.col("problem"))).alias("problem"),
        )
        buffer = io.StringIO()
        buffer.write(table.write_csv(line_terminator="\r\n", quote_style="necessary"))
        csv.writer(buffer, lineterminator="\r\n").writerow(["", "", "", "", "", ROW_NOTE])
        return buffer.getvalue()


def _defused(cell: pl.Expr) -> pl.Expr:
    text = cell.cast(pl.String)
    risky = pl.any_horizontal(text.str.starts_with(start) for start in FORMULA_STARTS)
    # An empty text is written as nothing, as csv.writer writes it (polars would write "").
    return pl.when(risky).then(pl.lit("'") + text).when(text != "").then(text).name.keep()


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
