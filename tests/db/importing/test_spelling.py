"""The spelling rules of db/importing/spelling.py on tiny frames."""

from __future__ import annotations

import polars as pl

from db.importing.spelling import COUNTS_SCHEMA, stored_spellings


def _stored(*counts: tuple[str | None, int]) -> pl.DataFrame:
    return pl.DataFrame(list(counts), schema=COUNTS_SCHEMA, orient="row")


def test_the_spelling_most_stored_leads_use_wins_and_a_tie_goes_to_the_alphabet() -> None:
    stored = _stored(("LinkedIn", 3), ("linkedin", 5), ("Web", 2), ("web", 2), (None, 9), ("Ads", 1))
    incoming = pl.Series(["LINKEDIN ", "linkedin", "WEB", "Web", "ads", "Events", None])
    # "linkedin" is stored on 5 leads, "LinkedIn" on 3; "Web" and "web" tie and "Web" sorts first.
    assert stored_spellings(incoming, stored) == {"LINKEDIN ": "linkedin", "WEB": "Web", "ads": "Ads"}


def test_counts_of_one_spelling_from_two_places_add_up() -> None:
    """Other sources' leads and this source's untouched leads come as two rows of one spelling."""
    stored = _stored(("Retail", 2), ("RETAIL", 3), ("Retail", 2))
    assert stored_spellings(pl.Series(["retail"]), stored) == {"retail": "Retail"}


def test_nothing_stored_changes_nothing() -> None:
    assert stored_spellings(pl.Series(["a", "A"]), _stored()) == {}
