"""The Funnel page as its users drive it: filters from a shared link, a broken link, a changed period."""

from __future__ import annotations

from datetime import UTC, datetime

from streamlit.testing.v1 import AppTest

from core.filters import apply_filters, parse_filters
from core.funnel import funnel
from core.trends import latest_event_day
from db.engine import make_engine
from db.frames import load_leads, load_people, load_traffic
from tests.pages.conftest import logged_in_app


def _funnel_page(username: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("pages/funnel.py")
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
    today = datetime.now(UTC).date()
    anchor = min(today, latest_event_day(leads) or today)
    filters, _ = parse_filters({"period": "last_quarter", "source": source})
    expected = funnel(
        apply_filters(leads, people, filters), load_traffic(engine), filters.period(anchor), today=today
    )
    shown = {m.label: m.value for m in at.metric}
    assert shown["Leads"] == f"{expected.counts['created']:,}"
    assert shown["MQLs"] == f"{expected.counts['mql']:,}"
    assert shown["Won deals"] == f"{expected.counts['won']:,}"
    assert at.query_params == {"period": "last_quarter", "source": source}


def test_a_broken_link_says_so_and_shows_this_month(app_env: str) -> None:
    at = _funnel_page("rep", period="fortnight", team="Nobody")
    assert not at.exception
    assert any("fortnight" in w.value for w in at.warning)
    assert at.sidebar.selectbox(key="filter_period").value == "this_month"
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
    ]
    assert all(m.help for m in at.metric)
    assert len(at.dataframe) >= 3  # conversions, breakdown, drill-down
    at.selectbox(key="breakdown_by").set_value("team").run()
    assert not at.exception
    at.selectbox(key="drill_stage").set_value("won").run()
    assert not at.exception and any("won deals" in m.value for m in at.markdown)
