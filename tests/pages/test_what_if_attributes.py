"""A marketer writes a what-if rule on an imported attribute: the live backtest follows; a rule that does not
fit the attribute's kind is named on the page and nothing is proposed."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import logged_in_app


def _page_with_added_rule(rule: dict[str, Any]) -> AppTest:
    at = logged_in_app("marketer").run()
    at.switch_page("screens/criteria.py").run()
    # The editor's state as a browser sends it: one row added below the suggestion's rules.
    at.session_state["whatif_rules_suggestion"] = {
        "edited_rows": {},
        "added_rows": [rule],
        "deleted_rows": [],
    }
    return at.run()


def _backtest(at: AppTest) -> Any:
    return next(d.value for d in at.dataframe if "Your version" in d.value.columns)


def test_a_rule_on_an_imported_number_attribute_moves_the_backtest(app_env: str) -> None:
    at = logged_in_app("marketer").run()
    at.switch_page("screens/criteria.py").run()
    before = _backtest(at)["Your version"].iloc[0]
    at = _page_with_added_rule(
        {"attribute": "time_on_website", "operator": "gte", "value": "300", "points": 500}
    )
    assert not at.exception, at.exception
    after = _backtest(at)["Your version"].iloc[0]
    assert after != before  # +500 points for 5 minutes on the website: every such lead is now an MQL
    assert "New\\: Time on website is at least 300\\: \\+500 points" in "\n".join(
        m.value for m in at.markdown
    )


def test_text_for_a_number_attribute_is_named_and_nothing_is_backtested(app_env: str) -> None:
    at = _page_with_added_rule(
        {"attribute": "time_on_website", "operator": "gte", "value": "a while", "points": 10}
    )
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert any("Time on website holds numbers" in w and "'a while' is not a number" in w for w in warnings), (
        warnings
    )
    assert not [d for d in at.dataframe if "Your version" in d.value.columns]
    assert "Propose" not in [b.label for b in at.main.button]


def test_the_rule_builder_offers_the_datas_values_and_adds_the_rule(app_env: str) -> None:
    at = logged_in_app("marketer").run()
    at.switch_page("screens/criteria.py").run()
    before = _backtest(at)["Your version"].iloc[0]
    builder = "whatif_builder_suggestion"
    at.selectbox(key=f"{builder}_attribute").set_value("sign_up_form").run()
    value = at.selectbox(key=f"{builder}_sign_up_form_eq_value")
    assert "Demo request" in value.options  # offered from the data
    value.set_value("Demo request")
    at.number_input(key=f"{builder}_points").set_value(400)
    at.button(key=f"{builder}_add").click().run()
    assert not at.exception, at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "Added: Sign up form is Demo request: +400 points" in text.replace("\\", "")
    assert _backtest(at)["Your version"].iloc[0] != before
    at.button(key="whatif_remove_suggestion_0").click().run()
    assert "Added: Sign up form" not in "\n".join(m.value for m in at.markdown)


def test_a_number_attribute_offers_number_rules_starting_at_its_median(app_env: str) -> None:
    at = logged_in_app("marketer").run()
    at.switch_page("screens/criteria.py").run()
    builder = "whatif_builder_suggestion"
    at.selectbox(key=f"{builder}_attribute").set_value("time_on_website").run()
    operator = at.selectbox(key=f"{builder}_operator_number")
    assert list(operator.options) == ["is at least", "is at most", "is between"]
    operator.set_value("between").run()
    low = at.number_input(key=f"{builder}_time_on_website_between_from").value
    high = at.number_input(key=f"{builder}_time_on_website_between_to").value
    assert 0 < low < high  # the lower and upper quartiles of the data
    at.button(key=f"{builder}_add").click().run()
    assert not at.exception, at.exception
    assert "Time on website is between" in "\n".join(m.value for m in at.markdown).replace("\\", "")
