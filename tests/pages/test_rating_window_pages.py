"""The rating window as people meet it: an admin sets the rating queue's grace beside the rating days on
SLA settings (a sales manager sees it and may not change it), and Rating coverage counts the MQLs that left
the queue unrated as missed, with their count, share and interval."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.stats import rate
from db.engine import make_engine, read_session
from db.sla import current_agreements
from tests.pages.conftest import logged_in_app

SLA_PAGE = "screens/sla_settings.py"
COVERAGE_PAGE = "screens/rating_health.py"
MISSED = "Missed (left the queue unrated)"


def _page(username: str, path: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page(path)
    at.query_params.update(params)
    return at.run()


def _company_grace(url: str) -> int:
    engine = make_engine(url)
    try:
        with read_session(engine) as session:
            return current_agreements(session)[None].rating_grace_days
    finally:
        engine.dispose()


def test_an_admin_sets_the_grace_beside_the_rating_days(fresh_app_env: str) -> None:
    at = _page("admin", SLA_PAGE)
    grace = at.number_input(key="sla_company_grace")
    assert (grace.value, grace.disabled) == (14, False)
    assert at.dataframe[0].value["Queue grace days"].to_list() == [14, 14, 14, 14]
    grace.set_value(30)
    next(b for b in at.button if b.label == "Set these terms").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert _company_grace(fresh_app_env) == 30
    assert at.dataframe[0].value["Queue grace days"].to_list()[0] == 30


def test_a_manager_sees_the_grace_but_an_admin_changes_it(fresh_app_env: str) -> None:
    at = _page("manager", SLA_PAGE)
    grace = at.number_input(key="sla_company_grace")
    assert (grace.value, grace.disabled) == (14, True)
    assert "Only an admin changes it." in (grace.help or "")
    at.number_input(key="sla_company_mqls").set_value(777)
    next(b for b in at.button if b.label == "Set these terms").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert _company_grace(fresh_app_env) == 14, "a manager's new terms carry the grace in force"


@pytest.mark.parametrize("username", ["manager", "exec"])
def test_rating_coverage_counts_the_mqls_that_left_the_queue_as_missed(app_env: str, username: str) -> None:
    at = _page(username, COVERAGE_PAGE, period="last_quarter")
    assert not at.exception, at.exception
    teams, reps = (t.value for t in at.dataframe[:2])
    for table in (teams, reps):
        assert {MISSED, "Missed %", "Missed 95% interval"} <= set(table.columns)
        assert (table[MISSED] <= table["MQLs"]).all()
    # A quarter ago is older than the 17-day window: every MQL of it nobody rated has left the queue.
    missed, mqls = int(teams[MISSED].sum()), int(teams["MQLs"].sum())
    assert 0 < missed < mqls
    share = rate(missed, mqls)
    (line,) = [m.value for m in at.markdown if "MQLs missed" in m.value]
    assert line.startswith(f"**{missed:,} MQLs missed** (")
    assert f"{missed:,} of {mqls:,}" in line and f"{share.ci_low:.1%}–{share.ci_high:.1%}" in line
    assert "(3 days to rate plus 14 days' grace)" in line
    captions = " ".join(c.value for c in at.caption)
    assert "An unrated MQL stays in the rating queue 17 days, then counts as missed." in captions
