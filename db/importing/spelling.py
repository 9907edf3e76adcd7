"""One spelling per category value: "Software", "software" and "Software " are one industry.

Within one file the spelling most rows use wins (file_spellings). Across imports the spelling already
stored wins (stored_spellings): a criteria rule, a saved filter or a rating reason written against
"LinkedIn" must keep matching when next month's export, or another CRM, types "linkedin".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import polars as pl

# Fields a person reads as categories (filters, breakdowns, criteria rules compare them exactly). A landing
# page is an address, where case can matter.
SPELLED_ALIKE = ("source", "campaign", "industry", "company_size", "country", "persona")
COUNTS_SCHEMA: dict[str, pl.DataType] = {"spelling": pl.String(), "n": pl.Int64()}


def spelling_key(value: pl.Expr) -> pl.Expr:
    """What two spellings of one value share: no surrounding spaces, single inner spaces, lower case."""
    return value.str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase()


def file_spellings(frame: pl.DataFrame, name: str) -> dict[str, str]:
    """Each spelling of `name`'s values that differs from a more common one only in case or spaces ->
    that more common one (a tie goes to the spelling on the earliest row)."""
    counts = (
        frame.select(pl.col(name).alias("spelling"), spelling_key(pl.col(name)).alias("key"))
        .with_row_index("row")
        .filter(pl.col("spelling").is_not_null())
        .group_by("key", "spelling")
        .agg(pl.len().alias("n"), pl.col("row").min().alias("first"))
        .filter(pl.len().over("key") > 1)
        .sort(["key", "n", "first"], descending=[False, True, False])
        .with_columns(pl.col("spelling").first().over("key").alias("kept"))
        .filter(pl.col("spelling") != pl.col("kept"))
    )
    return dict(counts.select("spelling", "kept").iter_rows())


def _respelled(
    frame: pl.DataFrame, names: Iterable[str], spellings: Callable[[str], dict[str, str]]
) -> pl.DataFrame:
    """`frame` with each text column of `names` respelled as `spellings(name)` says (spelling -> kept)."""
    changes = []
    for name in names:
        if name in frame.columns and frame.schema[name] == pl.String:
            respelled = spellings(name)
            if respelled:
                changes.append(pl.col(name).replace(respelled))
    return frame.with_columns(changes) if changes else frame


def one_spelling_per_value(frame: pl.DataFrame) -> pl.DataFrame:
    """The file's spelling variants of every SPELLED_ALIKE column replaced by its most common spelling."""
    return _respelled(frame, SPELLED_ALIKE, lambda name: file_spellings(frame, name))


def stored_spellings(incoming: pl.Series, stored: pl.DataFrame) -> dict[str, str]:
    """Each incoming spelling that a stored value (`stored`: spelling, n leads) spells differently ->
    the stored spelling, the one most stored leads use when several are stored (a tie: the first in
    alphabetical order, so the answer never depends on the order rows come back in)."""
    kept = (
        stored.filter(pl.col("spelling").is_not_null())
        .group_by("spelling")
        .agg(pl.col("n").sum())
        .with_columns(spelling_key(pl.col("spelling")).alias("key"))
        .sort(["key", "n", "spelling"], descending=[False, True, False])
        .unique("key", keep="first")
        .select("key", pl.col("spelling").alias("kept"))
    )
    if kept.is_empty():
        return {}
    values = pl.DataFrame({"spelling": incoming.drop_nulls().unique()}, schema={"spelling": pl.String()})
    changes = (
        values.with_columns(spelling_key(pl.col("spelling")).alias("key"))
        .join(kept, on="key", how="inner")
        .filter(pl.col("spelling") != pl.col("kept"))
    )
    return dict(changes.select("spelling", "kept").iter_rows())


def as_stored(frame: pl.DataFrame, stored: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """`frame`'s SPELLED_ALIKE columns spelled as the values already stored (`stored`: per column, its
    spellings and how many leads hold each)."""
    return _respelled(frame, stored, lambda name: stored_spellings(frame.get_column(name), stored[name]))
