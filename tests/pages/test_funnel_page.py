"""The Funnel page as its users drive it: filters from a shared link, a broken link, a changed period."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.filters import apply_filters, parse_filters
from core.funnel import funnel
from core.periods import default_preset
from core.trends import latest_event_day
from db import clock
from db.criteria import approve, propose_version
from db.demo import LAUNCH_RULES
from db.engine import make_engine, write_session
from db.frames import load_leads, load_people, load_traffic
from db.models import User
from tests.pages.conftest import logged_in_app


def _funnel_page(username: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/funnel.py")
    at.query_params.update(params)
    return at.run()


def test_a_shared_link_reproduces_the_view(app_env: str) -> None:
    engine = make_engine(app_env)
    leads, people = load_leads(engine), load_people(engine)
    source = leads["source"].drop_nulls().mode().sort()[0]
    at = _funnel_page("exec", period="last_quarter", source=source)
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="filter_period").value == "last_quarter"
    assert at.sidebar.selectbox(key="filter_source").value == source
    today = clock.today()
    anchor = min(today, latest_event_day(leads) or today)
    filters, _ = parse_filters({"period": "last_quarter", "source": source}, today)
    expected = funnel(
        apply_filters(leads, people, filters), load_traffic(engine), filters.period(anchor), today=today
    )
    shown = {m.label: m.value for m in at.metric}
    assert shown["Leads"] == f"{expected.counts['created']:,}"
    assert shown["MQLs"] == f"{expected.counts['mql']:,}"
    assert shown["Won deals"] == f"{expected.counts['won']:,}"
    assert at.query_params == {"period": "last_quarter", "source": source}


def test_a_broken_link_says_so_and_shows_the_default_period(app_env: str) -> None:
    at = _funnel_page("rep", period="fortnight", team="Nobody")
    assert not at.exception
    assert any("fortnight" in w.value for w in at.warning)
    leads = load_leads(make_engine(app_env))
    anchor = min(clock.today(), latest_event_day(leads) or clock.today())
    assert at.sidebar.selectbox(key="filter_period").value == default_preset(anchor)
    assert at.sidebar.selectbox(key="filter_team").value == "All"
    assert at.query_params == {}


def test_changing_the_period_updates_the_link(app_env: str) -> None:
    at = _funnel_page("marketer")
    at.sidebar.selectbox(key="filter_period").set_value("last_week").run()
    assert not at.exception
    assert at.query_params == {"period": "last_week"}
    assert any("week of" in c.value for c in at.caption)


def test_every_section_renders_with_numbers_and_exports(app_env: str) -> None:
    at = _funnel_page("manager", period="last_quarter")
    assert not at.exception
    assert [s.value for s in at.subheader if s.value != "Filters"] == [
        "Conversion and velocity",
        "Trend",
        "Where the leads come from",
        "The leads behind the numbers",
        "Back to marketing",
    ]
    assert all(m.help for m in at.metric)
    assert len(at.dataframe) >= 3  # conversions, breakdown, drill-down
    at.selectbox(key="breakdown_by").set_value("team").run()
    assert not at.exception
    at.selectbox(key="drill_stage").set_value("won").run()
    assert not at.exception and any("won deals" in m.value for m in at.markdown)


def _trend_figure(at: AppTest) -> dict[str, Any]:
    """The trend chart's plotly figure as the browser receives it."""
    for chart in at.get("plotly_chart"):
        figure: dict[str, Any] = json.loads(chart.proto.spec)
        if "Leads reaching each stage" in figure["layout"]["title"]["text"]:
            return figure
    raise AssertionError("no trend chart on the page")


def _marks(figure: dict[str, Any]) -> list[tuple[str, str]]:
    """(day drawn, label) of each criteria mark: the dotted lines and their labels, in order."""
    days = [s["x0"][:10] for s in figure["layout"].get("shapes", [])]
    labels = [a["text"] for a in figure["layout"].get("annotations", [])]
    assert len(days) == len(labels), (days, labels)
    return list(zip(days, labels, strict=True))


def _approve_version_2(url: str, at: datetime) -> None:
    """The marketer proposes the launch rules with a higher threshold; the sales manager approves it."""
    engine = make_engine(url)
    try:
        with write_session(engine) as session:
            marketer = session.exec(select(User).where(User.username == "marketer")).one()
            draft = propose_version(
                session=session, actor=marketer, rules=LAUNCH_RULES, threshold=60,
                rationale="Fewer, better MQLs", now=at - timedelta(days=1),
            )  # fmt: skip
            draft_id = int(draft.id or 0)
        with write_session(engine) as session:
            manager = session.exec(select(User).where(User.username == "manager")).one()
            approve(session=session, actor=manager, version_id=draft_id, now=at)
    finally:
        engine.dispose()


def test_the_trend_marks_the_day_a_new_criteria_version_came_into_force(fresh_app_env: str) -> None:
    today = clock.today()
    activated = datetime.combine(today - timedelta(days=10), time(15), UTC)
    _approve_version_2(fresh_app_env, activated)
    at = _funnel_page("manager")
    assert not at.exception, at.exception
    # The launch version came into force 400 days ago, before the 13 weeks drawn: only version 2 is marked.
    assert _marks(_trend_figure(at)) == [(f"{activated.date():%Y-%m-%d}", "Criteria v2")]
    assert any("dotted line marks the day" in c.value for c in at.caption)


def test_with_only_the_launch_version_nothing_is_marked(app_env: str) -> None:
    at = _funnel_page("marketer")
    assert not at.exception, at.exception
    assert _marks(_trend_figure(at)) == []
    # 13 months reach back to the first of the month a year ago: still after the launch, 400 days ago.
    at.segmented_control(key="trend_grain").set_value("month").run()
    assert not at.exception, at.exception
    assert _marks(_trend_figure(at)) == []
    assert not any("dotted line marks the day" in c.value for c in at.caption)
