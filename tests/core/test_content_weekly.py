"""The weekly sync's Content section on a tiny hand-worked library: what was added and replaced in the
week, used most in it, rated lowest by its end, the never-used share with its count, the open requests by
votes; the report's words and tables, and the empty state."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from core.content import (
    ASSETS_SCHEMA,
    RATINGS_SCHEMA,
    REQUESTS_SCHEMA,
    USES_SCHEMA,
    VERSIONS_SCHEMA,
)
from core.feedback import RATINGS_SCHEMA as FEEDBACK_RATINGS
from core.report import report_html
from core.schema import PEOPLE_SCHEMA
from core.sla import Agreements
from core.stats import wilson_interval
from core.weekly import ContentTables, content_week, no_content_yet, week_period, weekly_sync
from core.weekly_report import (
    ACTIONS_SCHEMA,
    NO_CONTENT,
    content_report,
    content_sentences,
    lowest_rated_table,
    most_used_table,
    report_sections,
    requests_table,
)
from tests.core.frames import d
from tests.core.frames import leads as frame_leads

WEEK = week_period("2026-W47")  # Monday 2026-11-16 to Sunday 2026-11-22
TODAY = date(2026, 11, 23)
HOSTILE = "<img src=x onerror=alert(1)>"


def _at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour)


def _assets() -> pl.DataFrame:
    rows = [
        # asset_id, title, kind, created, updated, archived
        (1, "Deck A", "deck", _at(1, 5), _at(1, 5), None),
        (2, "Case B", "case_study", _at(11, 18), _at(11, 18), None),  # new in the week
        (3, "One-pager C", "one_pager", _at(3, 1), _at(11, 17), None),  # its version 2 came in the week
        (4, HOSTILE, "video", _at(2, 1), _at(2, 1), None),  # never used
        (5, "Archived E", "other", _at(1, 1), _at(6, 1), _at(6, 1)),  # not live: out of every share
    ]
    return pl.DataFrame(
        [
            {
                "asset_id": a,
                "title": t,
                "kind": k,
                "stages": [],
                "personas": [],
                "industries": [],
                "company_sizes": [],
                "owner_id": 1,
                "last_reviewed_on": None,
                "current_version": 2 if a == 3 else 1,
                "archived_at": x,
                "created_at": c,
                "updated_at": u,
            }
            for a, t, k, c, u, x in rows
        ],
        schema=ASSETS_SCHEMA,
    )


def _tables() -> ContentTables:
    versions = pl.DataFrame(
        [(1, 1, _at(1, 5)), (2, 1, _at(11, 18)), (3, 1, _at(3, 1)), (3, 2, _at(11, 17)), (4, 1, _at(2, 1)),
         (5, 1, _at(1, 1))],
        schema=VERSIONS_SCHEMA, orient="row",
    )  # fmt: skip
    uses = pl.DataFrame(
        [
            (1, 10, 7, _at(11, 16)),  # in the week
            (1, 11, 8, _at(11, 20)),  # in the week, another lead and rep
            (1, 12, 7, _at(10, 1)),  # before the week
            (2, 13, 7, _at(11, 19)),  # in the week
            (3, 10, 7, _at(9, 1)),  # inside the last 90 days (2026-08-26 to 2026-11-23), not the week
            (5, 14, 8, _at(3, 1)),  # the archived asset, long ago
        ],
        schema=USES_SCHEMA,
        orient="row",
    )
    ratings = pl.DataFrame(
        [
            (1, 10, 7, 5, ["won_trust"], _at(11, 16, 12), _at(11, 16, 12)),
            (1, 11, 8, 2, ["too_long"], _at(11, 20, 12), _at(11, 20, 12)),
            (3, 10, 7, 1, ["out_of_date"], _at(9, 2), _at(9, 2)),
            (2, 13, 7, 4, [], _at(11, 23, 8), _at(11, 23, 8)),  # after the week ended: not counted
        ],
        schema=RATINGS_SCHEMA,
        orient="row",
    )
    requests = pl.DataFrame(
        [
            (1, "Retail case study", "case_study", None, "opportunity", "Retail", None, 7, "open",
             _at(11, 1), None, 2),
            (2, "Pipewise battle card", "battle_card", "C-level", "sql", None, None, 8, "accepted",
             _at(11, 10), None, 5),
            (3, "Answered already", "deck", None, None, None, None, 7, "done", _at(10, 1), _at(10, 9), 9),
            (4, "ROI calculator", None, None, None, None, None, 8, "in_progress", _at(10, 20), None, 2),
        ],
        schema=REQUESTS_SCHEMA, orient="row",
    )  # fmt: skip
    return ContentTables(_assets(), versions, uses, ratings, requests)


def _interval(num: int, den: int) -> str:
    low, high = wilson_interval(num, den)
    return f"95% interval {low:.0%}–{high:.0%}"


def test_the_weeks_content_by_hand() -> None:
    content = content_week(_tables(), WEEK, today=TODAY)
    assert content.new_assets["title"].to_list() == ["Case B"]
    assert content.updated_assets.select("title", "at").rows() == [("One-pager C", _at(11, 17))]
    assert content.most_used.select("title", "uses", "leads", "reps").rows() == [
        ("Deck A", 2, 2, 2),
        ("Case B", 1, 1, 1),
    ]
    # Rated by the week's end: One-pager C 0 of 1 helped, Deck A 1 of 2; Case B's rating came after.
    assert content.lowest_rated.select("title", "n", "helped", "share").rows() == [
        ("One-pager C", 1, 0, 0.0),
        ("Deck A", 2, 1, 0.5),
    ]
    # Live: assets 1-4 (5 is archived). Never used: 4. Used in the last 90 days: 1, 2 and 3.
    assert (content.never_used.num, content.never_used.den) == (1, 4)
    assert (content.used.num, content.used.den) == (3, 4)
    # Open requests, the most voted first, the oldest first at equal votes; the done one is not open.
    assert content.open_requests.select("request_id", "votes", "age_days").rows() == [
        (2, 5, 13),
        (4, 2, 34),
        (1, 2, 22),
    ]
    assert not no_content_yet(content)


def test_the_reports_words_and_tables() -> None:
    content = content_week(_tables(), WEEK, today=TODAY)
    assert content_sentences(content) == (
        "This week marketing added 1 (Case B) and updated 1 (One-pager C).",
        f"Never used: 1 of 4 live assets (25%, {_interval(1, 4)}).",
        f"Used in the last 90 days: 75% (3 of 4, {_interval(3, 4)}).",
        "Most wanted: Pipewise battle card (5 votes).",
    )
    assert most_used_table(content.most_used).rows() == [
        ("Deck A", "Deck", 2, 2, 2),
        ("Case B", "Case study", 1, 1, 1),
    ]
    lowest = lowest_rated_table(content.lowest_rated)
    assert lowest.columns == [
        "Asset",
        "Kind",
        "Ratings",
        "Helped (4-5)",
        "Helped (%)",
        "95% interval",
        "Note",
    ]
    low, high = wilson_interval(1, 2)
    assert lowest.row(1) == (
        "Deck A",
        "Deck",
        2,
        1,
        50.0,
        f"{low * 100:.0f}%–{high * 100:.0f}%",
        "small sample",
    )
    asks = requests_table(content.open_requests)
    assert asks.select("Request", "Kind", "For", "Votes", "Status", "Waiting (days)").rows() == [
        ("Pipewise battle card", "Battle card", "C-level · SQL", 5, "Accepted", 13),
        ("ROI calculator", "Any", "Anyone", 2, "In progress", 34),
        ("Retail case study", "Case study", "Opportunity · Retail", 2, "Open", 22),
    ]
    section = content_report(content)
    assert section.title == "Content" and section.lines == content_sentences(content)
    assert [name for name, _ in section.tables] == [
        "New and updated",
        "Most used this week",
        "Lowest rated (helped?)",
        "Open requests by votes",
    ]
    changed = dict(section.tables)["New and updated"]
    assert changed.select("Change", "Asset").rows() == [("New", "Case B"), ("Updated", "One-pager C")]


def test_a_title_from_the_data_is_text_in_the_offline_report() -> None:
    tables = _tables()
    uses = pl.concat([tables.uses, pl.DataFrame([(4, 20, 7, _at(11, 18))], schema=USES_SCHEMA, orient="row")])
    content = content_week(ContentTables(tables.assets, tables.versions, uses, tables.ratings, tables.requests),
                           WEEK, today=TODAY)  # fmt: skip
    assert HOSTILE in most_used_table(content.most_used)["Asset"].to_list()
    html = report_html("Week", "2026-W47", [content_report(content)], made_at=datetime(2026, 11, 23, 9))
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_an_empty_library_says_how_to_start() -> None:
    empty = ContentTables(
        pl.DataFrame(schema=ASSETS_SCHEMA),
        pl.DataFrame(schema=VERSIONS_SCHEMA),
        pl.DataFrame(schema=USES_SCHEMA),
        pl.DataFrame(schema=RATINGS_SCHEMA),
        pl.DataFrame(schema=REQUESTS_SCHEMA),
    )
    content = content_week(empty, WEEK, today=TODAY)
    assert no_content_yet(content)
    assert (content.never_used.num, content.never_used.den, content.never_used.value) == (0, 0, None)
    section = content_report(content)
    assert section.lines == (NO_CONTENT,) and section.tables == ()
    assert NO_CONTENT == "No content yet: marketers add it on the Content page."


def test_requests_without_a_library_are_still_shown() -> None:
    tables = _tables()
    only_requests = ContentTables(
        tables.assets.clear(), tables.versions.clear(), tables.uses.clear(), tables.ratings.clear(),
        tables.requests,
    )  # fmt: skip
    content = content_week(only_requests, WEEK, today=TODAY)
    assert not no_content_yet(content)
    section = content_report(content)
    assert NO_CONTENT in section.lines
    assert [name for name, _ in section.tables] == ["Open requests by votes"]


def test_the_sync_carries_the_section_and_the_report_puts_it_before_the_action_items() -> None:
    leads = frame_leads(
        {"created_at": d("2026-11-17 09:00"), "mql_at": d("2026-11-17 10:00"), "source": "ads"}
    )
    common = {
        "leads": leads,
        "ratings": pl.DataFrame(schema=FEEDBACK_RATINGS),
        "people": pl.DataFrame(schema=PEOPLE_SCHEMA),
        "agreements": Agreements(),
        "changes": [],
        "now": datetime(2026, 11, 23, 9),
    }
    sync = weekly_sync("2026-W47", content=_tables(), **common)  # type: ignore[arg-type]
    expected = content_week(_tables(), WEEK, today=TODAY)
    assert sync.content is not None and sync.content.never_used == expected.never_used
    for part in ("new_assets", "updated_assets", "most_used", "lowest_rated", "open_requests"):
        assert getattr(sync.content, part).equals(getattr(expected, part)), part
    actions = pl.DataFrame(schema=ACTIONS_SCHEMA)
    titles = [s.title for s in report_sections(sync, actions, [])]
    assert titles[-3:] == ["Wins to celebrate", "Content", "Decisions and action items"]
    without = weekly_sync("2026-W47", **common)  # type: ignore[arg-type]
    assert without.content is None
    assert "Content" not in [s.title for s in report_sections(without, actions, [])]
