"""Rating coverage as a manager, a marketer and an executive see it, on the demo company (which plants one
harsh rater, Dan Wright of SMB)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import logged_in_app


def _page(username: str, **params: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/rating_health.py")
    at.query_params.update(params)
    return at.run()


@pytest.mark.parametrize("username", ["manager", "marketer", "exec"])
def test_coverage_per_team_and_rep_and_the_harsh_rater(app_env: str, username: str) -> None:
    at = _page(username, period="last_quarter")
    assert not at.exception, at.exception
    tables = [t.value for t in at.dataframe]
    assert list(tables[0].columns)[:2] == ["Team", "MQLs"] and list(tables[1].columns)[:2] == ["Rep", "MQLs"]
    assert set(tables[0]["Team"]) <= {"SMB", "Mid-Market", "Enterprise", "(nobody)"}
    assert (tables[1]["MQLs"] >= tables[1]["Rated within 3 days"]).all()
    captions = " ".join(c.value for c in at.caption)
    assert "Dan Wright rates" in captions and "harsher than the SMB team" in captions
