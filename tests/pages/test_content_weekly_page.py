"""The weekly sync's *Content* section as the room sees it: for every role, in presenter mode on its own
screen, with core's numbers for the demo's week; and the empty state, shown as soon as the library is
emptied (the week is computed again when the content's stamp moves)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.content import WeekContent
from core.weekly import ContentTables, content_week, last_complete_week, week_period
from core.weekly_report import content_sentences
from db import clock
from db.content_frames import content_frames
from db.demo_content import NEW_ASSET, REPLACED_ASSET, STALE_ASSET
from db.engine import make_engine
from db.frames import load_leads
from tests.pages.conftest import logged_in_app
from ui.widgets import plain

CONTENT_TABLES = (
    "content_request_votes",
    "content_requests",
    "content_rating_history",
    "content_ratings",
    "content_uses",
    "content_versions",
    "content_assets",
)


def _weekly(username: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/weekly_sync.py")
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _frame(at: AppTest, having: str, column: str = "Asset") -> list[Any]:
    """The `column` of the table that has a `having` column."""
    return next(d.value for d in at.dataframe if having in d.value.columns)[column].to_list()


def _expected(url: str) -> WeekContent:
    engine = make_engine(url)
    frames = content_frames(engine)
    last = load_leads(engine)["created_at"].max().date()  # type: ignore[union-attr]
    engine.dispose()
    week = week_period(last_complete_week(min(clock.today(), last)))
    tables = ContentTables(frames.assets, frames.versions, frames.uses, frames.ratings, frames.requests)
    return content_week(tables, week, today=clock.today())


@pytest.mark.parametrize("username", ["rep", "manager", "marketer", "exec", "admin"])
def test_every_role_sees_the_weeks_content(app_env: str, username: str) -> None:
    at = _weekly(username)
    assert not at.exception, [e.value for e in at.exception]
    assert "Content" in [h.value for h in at.header]
    expected = _expected(app_env)
    assert _metric(at, "New this week") == f"{expected.new_assets.height:,}" == "1"
    assert _metric(at, "Updated this week") == f"{expected.updated_assets.height:,}"
    assert _metric(at, "Never used") == f"{expected.never_used.value:.0%}"
    assert _metric(at, "Used, last 90 days") == f"{expected.used.value:.0%}"
    changed, unused, _, _ = content_sentences(expected)
    never = expected.never_used
    assert f"{never.num:,} of {never.den:,} live assets" in unused
    said = {m.value for m in at.markdown}
    assert plain(unused) in said, "the never-used share with its count"
    assert plain(changed) in said and NEW_ASSET in changed and REPLACED_ASSET in changed
    assert _frame(at, "Uses") == expected.most_used["title"].to_list()
    lowest = _frame(at, "Helped (4-5)")
    assert lowest == expected.lowest_rated["title"].to_list() and STALE_ASSET in lowest
    requests = _frame(at, "Votes", "Votes")
    assert requests == expected.open_requests["votes"].to_list() and requests == sorted(
        requests, reverse=True
    )


def test_presenter_mode_shows_the_content_on_its_own_screen(app_env: str) -> None:
    at = _weekly("manager", present="1", section="7")
    assert not at.exception, [e.value for e in at.exception]
    assert next(t.value for t in at.title).startswith("Content — Week ")
    assert not at.header
    assert "**7 / 8 · Content**" in [m.value for m in at.markdown]
    assert {"New this week", "Never used"} <= {m.label for m in at.metric}
    assert {"#### Most used this week", "#### Lowest rated (helped?)", "#### Open requests by votes"} <= {
        m.value for m in at.markdown
    }
    assert not at.expander, "the room's screen keeps to the tables"


def test_an_empty_library_says_how_to_start(fresh_app_env: str) -> None:
    at = _weekly("manager")
    assert not at.exception
    assert _metric(at, "New this week") == "1"
    connection = sqlite3.connect(fresh_app_env.removeprefix("sqlite:///"))
    with connection:
        for table in CONTENT_TABLES:
            connection.execute(f"DELETE FROM {table}")
    connection.close()
    at = _weekly("manager")
    assert not at.exception
    assert "No content yet: marketers add it on the Content page." in [i.value for i in at.info]
    assert "New this week" not in {m.label for m in at.metric}
    presenting = _weekly("exec", present="1", section="7")
    assert "No content yet: marketers add it on the Content page." in [i.value for i in presenting.info]


def test_a_title_from_the_data_shows_as_typed(fresh_app_env: str) -> None:
    hostile = "[Click me](javascript:alert(1)) <img src=x onerror=alert(1)> **bold**"
    connection = sqlite3.connect(fresh_app_env.removeprefix("sqlite:///"))
    with connection:
        connection.execute("UPDATE content_assets SET title = ? WHERE title = ?", (hostile, NEW_ASSET))
    connection.close()
    at = _weekly("marketer")
    assert not at.exception
    said = next(m.value for m in at.markdown if "This week marketing" in m.value)
    assert plain(hostile) in said and hostile not in said, "escaped, so markdown shows it as typed"
