"""Column-wise value parsing and the problems it finds, shared by the presets and the generic mapping.

Every parser is a polars expression that yields null where the text is not a valid value, so that one
comparison (text present, value absent) finds every bad cell of a column at once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

import polars as pl

from db.importing.errors import PROBLEM_SCHEMA, InvalidInput, Problem, ProblemReport
from db.importing.reader import CsvTable

ROW = "__row"
LINE = "__line"
EMPLOYEE_BANDS: tuple[tuple[int, str], ...] = (
    (10, "1-10"),
    (50, "11-50"),
    (200, "51-200"),
    (1000, "201-1000"),
)
LARGEST_BAND = "1000+"
CURRENCY_AND_SPACES = r"[\s$€£¥]"


def cleaned(column: str, null_values: Collection[str] = ()) -> pl.Expr:
    """The cell without surrounding spaces; null when blank or one of the null tokens (any case)."""
    text = pl.col(column).str.strip_chars()
    tokens = sorted({"", *(v.strip().lower() for v in null_values)})
    return pl.when(text.str.to_lowercase().is_in(tokens)).then(None).otherwise(text)


def columns_of(table: CsvTable, names: Mapping[str, str], null_values: Collection[str] = ()) -> pl.DataFrame:
    """The file columns `names` (new name -> header name), cleaned, beside each row's position."""
    return table.frame.select(
        *(cleaned(header, null_values).alias(new) for new, header in names.items()),
        table.rows.alias(ROW),
        table.lines.alias(LINE),
    )


def parse_datetime(text: pl.Expr, formats: Sequence[str], timezone: str = "UTC") -> pl.Expr:
    """The first format that reads the text, as naive UTC; times without an offset are in `timezone`."""
    attempts = []
    for fmt in formats:
        if "%z" in fmt or "%:z" in fmt:
            attempt = text.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False).dt.replace_time_zone(
                None
            )
        else:
            attempt = text.str.strptime(pl.Datetime("us"), fmt, strict=False)
            if timezone != "UTC":
                attempt = (
                    attempt.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
                    .dt.convert_time_zone("UTC")
                    .dt.replace_time_zone(None)
                )
        attempts.append(attempt)
    return pl.coalesce(attempts) if attempts else pl.lit(None, pl.Datetime("us"))


def parse_number(text: pl.Expr, thousands_separator: str = ",", decimal_separator: str = ".") -> pl.Expr:
    """A finite number, allowing a currency sign and thousands separators; null otherwise.

    A thousands separator must sit between digit groups (12,500 or 12,50,000): with "," for thousands,
    "1,5" or "1250,50" is no number, where removing the comma would silently read 15 or 125050.
    """
    digits = text.str.replace_all(CURRENCY_AND_SPACES, "")
    if thousands_separator:
        separator, decimal = re.escape(thousands_separator), re.escape(decimal_separator)
        grouped = rf"^[+-]?\d{{1,3}}({separator}\d{{2,3}})*{separator}\d{{3}}({decimal}\d*)?$"
        usable = ~digits.str.contains(thousands_separator, literal=True) | digits.str.contains(grouped)
        digits = pl.when(usable).then(digits.str.replace_all(thousands_separator, "", literal=True))
    if decimal_separator != ".":
        digits = digits.str.replace_all(decimal_separator, ".", literal=True)
    number = digits.cast(pl.Float64, strict=False)
    return pl.when(number.is_finite()).then(number)


def parse_count(text: pl.Expr, thousands_separator: str = ",", decimal_separator: str = ".") -> pl.Expr:
    """A whole number of at least zero ("12" or "12.0"); null otherwise."""
    number = parse_number(text, thousands_separator, decimal_separator)
    return pl.when((number >= 0) & (number == number.floor()) & (number < 2**31)).then(number.cast(pl.Int64))


def parse_boolean(text: pl.Expr) -> pl.Expr:
    return map_values(text, {"true": True, "false": False, "yes": True, "no": False}, pl.Boolean())


def map_values(text: pl.Expr, values: Mapping[str, object], dtype: pl.DataType) -> pl.Expr:
    """Look the text up in `values`, ignoring case and surrounding spaces; null when it is not there."""
    lowered = {str(k).strip().lower(): v for k, v in values.items()}
    return text.str.to_lowercase().replace_strict(lowered, default=None, return_dtype=dtype)


def employee_band(count: pl.Expr) -> pl.Expr:
    """A head count as the company-size band the pages group by."""
    band = pl.lit(LARGEST_BAND)
    for upper, label in reversed(EMPLOYEE_BANDS):
        band = pl.when(count <= upper).then(pl.lit(label)).otherwise(band)
    return pl.when(count.is_null()).then(pl.lit(None, pl.String)).otherwise(band)


def json_object(fields: Mapping[str, pl.Expr]) -> pl.Expr:
    """A JSON object of the fields that are not null (keys sorted), or null when all of them are."""
    if not fields:
        return pl.lit(None, pl.String)
    parts = [
        pl.when(expr.is_not_null()).then(
            pl.struct(expr.alias(key)).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")
        )
        for key, expr in sorted(fields.items())
    ]
    any_value = pl.any_horizontal([expr.is_not_null() for expr in fields.values()])
    return pl.when(any_value).then(
        pl.concat_str([pl.lit("{"), pl.concat_str(parts, separator=",", ignore_nulls=True), pl.lit("}")])
    )


class RowChecks:
    """Problems found column-wise in one file, gathered as frames of PROBLEM_SCHEMA."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found: list[pl.DataFrame] = []

    def flag(
        self,
        frame: pl.DataFrame,
        where: pl.Expr,
        column: str,
        problem: str | pl.Expr,
        value: pl.Expr | None = None,
        *,
        kind: str = "",
        fix: str = "",
    ) -> None:
        """Every row of `frame` where `where` holds is a problem in `column` (value shown from `value`);
        `kind` and `fix` as Problem has them."""
        hits = frame.filter(where.fill_null(False))
        if hits.is_empty():
            return
        shown = pl.lit("") if value is None else value.cast(pl.String).fill_null("")
        self.found.append(
            hits.select(
                pl.lit(self.file).alias("file"),
                pl.col(ROW).alias("row"),
                pl.col(LINE).alias("line"),
                pl.lit(column).alias("column"),
                shown.alias("value"),
                (pl.lit(problem) if isinstance(problem, str) else problem).alias("problem"),
                pl.lit(kind).alias("kind"),
                pl.lit(fix).alias("fix"),
            ).cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]
        )

    def unparsed(self, frame: pl.DataFrame, text: str, parsed: pl.Expr, column: str, problem: str) -> None:
        """Flag cells that hold text but did not parse."""
        self.flag(frame, pl.col(text).is_not_null() & parsed.is_null(), column, problem, pl.col(text))

    def too_long(self, frame: pl.DataFrame, text: str, column: str, limit: int) -> None:
        self.flag(
            frame,
            pl.col(text).str.len_chars() > limit,
            column,
            f"longer than {limit} characters",
            pl.col(text),
        )

    def required(self, frame: pl.DataFrame, text: str, column: str, what: str) -> None:
        self.flag(frame, pl.col(text).is_null(), column, f"{what} is missing")

    def duplicates(self, frame: pl.DataFrame, key: str, column: str, what: str = "id") -> None:
        """Every repeat of a key after its first row, naming that first row."""
        # The first row is found before `flag` filters: among the repeats alone it would be their own row.
        first = "__first_row"
        frame = frame.with_columns(pl.col(ROW).min().over(key).alias(first))
        self.flag(
            frame,
            pl.col(key).is_not_null() & (pl.col(ROW) != pl.col(first)),
            column,
            pl.format(f"the same {what} is already on row {{}}", pl.col(first)),
            pl.col(key),
            kind=f"the same {what} is already on an earlier row",
        )

    def problems(self) -> pl.DataFrame:
        if not self.found:
            return pl.DataFrame(schema=PROBLEM_SCHEMA)
        return pl.concat(self.found)


def require_columns(table: CsvTable, names: Sequence[str]) -> None:
    """InvalidInput naming every column of `names` the file's header lacks."""
    report = ProblemReport()
    for name in names:
        if name not in table.header:
            problem = "the file has no column with this name"
            report.add(Problem(table.file, table.header_row, name, "", problem, table.header_line))
    if not report.ok:
        raise InvalidInput(report)


def raise_if_any(*problem_frames: pl.DataFrame) -> None:
    """InvalidInput with every problem of every file, in file order, when there is any."""
    report = ProblemReport()
    for frame in problem_frames:
        if frame.height:
            report.add_frame(frame)
    if not report.ok:
        raise InvalidInput(report)
