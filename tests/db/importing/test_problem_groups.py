"""Grouping an import's problems (db/importing/errors.py group_problems) on hand-made problem lists: the
same problem on many rows is one line with its count and first rows, largest first, and says what to map
when the mapping is the cause; the report's CSV still keeps one row per problem."""

from __future__ import annotations

import csv
import io
import re

import polars as pl

from db.importing.errors import (
    PROBLEM_SCHEMA,
    Problem,
    ProblemReport,
    fix_hint,
    group_problems,
    how_to_fix,
)
from ui.widgets import plain

NO_CLOSE_DATE = "a won deal needs a close date"
MAP_CLOSE_DATE = fix_hint("columns.close_date")


def _won_without_close_date(rows: list[int], file: str = "export.csv") -> list[Problem]:
    return [Problem(file, row, "", "", NO_CLOSE_DATE, row, fix=MAP_CLOSE_DATE) for row in rows]


def _bad_amount(row: int, value: str = "-5") -> Problem:
    return Problem("export.csv", row, "Amount", value, "a negative amount", row)


def test_many_rows_of_one_problem_are_one_line_with_the_count_the_first_rows_and_what_to_map() -> None:
    rows = [3, 4, 7, *range(8, 8_417)]  # 8,412 rows
    groups = group_problems(_won_without_close_date(rows))
    assert len(groups) == 1
    (group,) = groups
    assert (group.count, group.rows) == (8_412, (3, 4, 7))
    assert group.describe() == (
        "8,412 rows: a won deal needs a close date; map `close_date` in [columns] (rows 3, 4, 7 and 8,409 more)"
    )


def test_mixed_problems_are_one_group_each_largest_first_ties_in_file_order() -> None:
    problems = [
        _bad_amount(2),
        *_won_without_close_date([3, 5, 6, 9]),
        Problem("export.csv", 4, "Created", "31/02/2026", "not a date in any of the formats %Y-%m-%d", 4),
        _bad_amount(8, "-1"),
        Problem("export.csv", 10, "Stage", "nope", "not a stage listed in [stage.values]", 10),
        _bad_amount(11, "-2"),
        Problem("export.csv", 12, "Owner", "", "a negative amount", 12),  # another column: another group
    ]
    groups = group_problems(problems)
    assert [(g.first.column, g.first.problem, g.count) for g in groups] == [
        ("", NO_CLOSE_DATE, 4),
        ("Amount", "a negative amount", 3),
        ("Created", "not a date in any of the formats %Y-%m-%d", 1),  # row 4 comes before row 10
        ("Stage", "not a stage listed in [stage.values]", 1),
        ("Owner", "a negative amount", 1),
    ]
    assert [g.describe() for g in groups] == [
        "4 rows: a won deal needs a close date; map `close_date` in [columns] (rows 3, 5, 6 and 1 more)",
        "3 rows, column 'Amount': a negative amount (rows 2, 8 and 11)",
        "row 4, column 'Created': '31/02/2026': not a date in any of the formats %Y-%m-%d",
        "row 10, column 'Stage': 'nope': not a stage listed in [stage.values]",
        "row 12, column 'Owner': a negative amount",
    ]


def test_the_first_rows_read_as_a_list() -> None:
    def described(rows: list[int]) -> str:
        return group_problems([_bad_amount(row) for row in rows])[0].describe()

    assert described([5]) == "row 5, column 'Amount': '-5': a negative amount"
    assert described([5, 9]) == "2 rows, column 'Amount': a negative amount (rows 5 and 9)"
    assert described([5, 9, 12]) == "3 rows, column 'Amount': a negative amount (rows 5, 9 and 12)"
    assert (
        described([5, 9, 12, 20]) == "4 rows, column 'Amount': a negative amount (rows 5, 9, 12 and 1 more)"
    )
    # Row numbers as a spreadsheet shows them (no separator); counts with one.
    assert described(list(range(9_000, 10_500))) == (
        "1,500 rows, column 'Amount': a negative amount (rows 9000, 9001, 9002 and 1,497 more)"
    )
    assert group_problems([_bad_amount(row) for row in range(2, 10)], first_rows=5)[0].rows == (2, 3, 4, 5, 6)


def test_a_problem_that_names_its_own_row_groups_by_its_kind() -> None:
    repeats = [
        Problem("export.csv", row, "Lead ID", f"L-{row - 100}", f"the same id is already on row {row - 100}", row,
                kind="the same id is already on an earlier row")
        for row in range(102, 110)
    ]  # fmt: skip
    (group,) = group_problems(repeats)
    assert group.describe() == (
        "8 rows, column 'Lead ID': the same id is already on an earlier row (rows 102, 103, 104 and 5 more)"
    )
    # Alone, it says which row.
    assert group_problems(repeats[:1])[0].describe() == (
        "row 102, column 'Lead ID': 'L-2': the same id is already on row 2"
    )


def test_the_same_problem_in_two_files_is_two_groups_and_the_file_is_named() -> None:
    problems = [
        *_won_without_close_date([2, 3], file="leads.csv"),
        *_won_without_close_date([2, 3, 4], file="deals.csv"),
        Problem("sales_teams.csv", None, "", "", "the file is empty"),
    ]
    groups = group_problems(problems)
    assert [(g.first.file, g.count) for g in groups] == [
        ("deals.csv", 3),
        ("leads.csv", 2),
        ("sales_teams.csv", 1),
    ]
    assert groups[0].describe(show_file=True).startswith("3 rows of deals.csv: a won deal needs a close date")
    assert groups[2].describe() == "sales_teams.csv: the file is empty", (
        "a whole file's problem names the file"
    )


def test_no_problems_no_groups() -> None:
    assert group_problems([]) == []


# ---------------------------------------------------------------- what to map


def test_the_fix_says_what_to_map_in_the_mapping_file_or_on_the_form() -> None:
    assert how_to_fix("") == ""
    assert how_to_fix(MAP_CLOSE_DATE) == "map `close_date` in [columns]"
    assert how_to_fix(fix_hint("outcome.column", "outcome.closed_means")) == (
        "set `column` or `closed_means` in [outcome]"
    )
    assert how_to_fix(fix_hint("columns.mql_date", "stage.missing_date=created")) == (
        'map `mql_date` in [columns] or set `missing_date = "created"` in [stage]'
    )
    form = {"columns.close_date": "Close date", "outcome.column": "Outcome column (won / lost / open)"}
    assert how_to_fix(MAP_CLOSE_DATE, form) == "map “Close date” above"
    assert how_to_fix(fix_hint("outcome.column", "outcome.closed_means"), form) == (
        "map “Outcome column (won / lost / open)” above"
    ), "the form has no closed_means: it is left out"
    assert how_to_fix(fix_hint("outcome.closed_means"), form) == "", "nothing the form could set"


def test_markdown_escapes_the_data_and_keeps_the_field_as_code() -> None:
    problems = [Problem("export.csv", row, "*Amount*", "", "a negative amount", row) for row in (2, 3)]
    problems += _won_without_close_date([4, 5])
    lines = [g.describe(escape=plain) for g in group_problems(problems)]
    assert lines == [
        "2 rows, column '\\*Amount\\*': a negative amount (rows 2 and 3)",
        "2 rows: a won deal needs a close date; map `close_date` in \\[columns\\] (rows 4 and 5)",
    ]
    hostile = "[x](javascript:alert(1))<img src=x onerror=alert(1)>"
    report = ProblemReport()
    report.extend(Problem(hostile, row, hostile, hostile, f"not a stage ({hostile})", row) for row in (2, 3))
    report.add(Problem("other.csv", 4, hostile, hostile, hostile, 4, fix=MAP_CLOSE_DATE))
    for line in report.lines(escape=plain):
        outside_code = re.sub(r"`[a-z_]+`", "", re.sub(r"\\(.)", "", line))
        assert not set(outside_code) & set("[]<>`*_"), line  # no link, tag, code or emphasis


# ---------------------------------------------------------------- the report


def test_the_report_groups_its_lines_and_keeps_every_problem_in_the_csv() -> None:
    report = ProblemReport()
    report.add(Problem("export.csv", 1, "Source", "Source", "the column name appears more than once", 1))
    frame = pl.DataFrame(
        [("export.csv", row, row, "", "", NO_CLOSE_DATE, "", MAP_CLOSE_DATE) for row in range(10_001, 1, -1)],
        schema=PROBLEM_SCHEMA,
        orient="row",
    )  # out of order: the report keeps problems in row order
    report.add_frame(frame)
    assert report.total == 10_001 and not report.ok
    assert report.summary() == "10,001 problems; nothing was imported"
    assert report.lines() == [
        "10,000 rows: a won deal needs a close date; map `close_date` in [columns] (rows 2, 3, 4 and 9,997 more)",
        "row 1, column 'Source': 'Source': the column name appears more than once",
    ]
    assert report.lines(names={"columns.close_date": "Close date"})[0].startswith(
        "10,000 rows: a won deal needs a close date; map “Close date” above (rows 2, 3, 4"
    )
    rows = list(csv.reader(io.StringIO(report.to_csv())))
    assert rows[0] == ["file", "row", "line", "column", "value", "problem"]
    assert rows[1] == ["export.csv", "1", "1", "Source", "Source", "the column name appears more than once"]
    assert rows[2:10_002] == [
        ["export.csv", str(row), str(row), "", "", f"{NO_CLOSE_DATE}; map `close_date` in [columns]"]
        for row in range(2, 10_002)
    ], "one row per problem, every one of them"
    assert len(rows) == 10_003, "and the note on how rows are counted"
    on_the_form = list(csv.reader(io.StringIO(report.to_csv({"columns.close_date": "Close date"}))))
    assert on_the_form[2][5] == f"{NO_CLOSE_DATE}; map “Close date” above"


def test_past_the_limit_a_last_line_counts_the_rest() -> None:
    report = ProblemReport()
    report.extend(_bad_amount(row) for row in range(2, 7))
    for row in range(7, 10):
        report.add(Problem("export.csv", row, f"Col {row}", "x", "not a number", row))
    assert report.lines(2) == [
        "5 rows, column 'Amount': a negative amount (rows 2, 3, 4 and 2 more)",
        "row 7, column 'Col 7': 'x': not a number",
        "… and 2 more problems of 2 other kinds",
    ]
    assert report.lines(3)[-1] == "… and 1 more problem of 1 other kind"
    assert len(report.lines(4)) == 4


def test_long_values_are_shortened_in_a_frame_as_one_at_a_time() -> None:
    report = ProblemReport()
    frame = pl.DataFrame(
        [("export.csv", 2, 2, "Source", "x" * 500, "longer than 120 characters", None, None)],
        schema=PROBLEM_SCHEMA,
        orient="row",
    )
    report.add_frame(frame)
    (problem,) = report.problems
    assert len(problem.value) == 200 and problem.value.endswith("…")
    assert (problem.kind, problem.fix) == ("", "")
