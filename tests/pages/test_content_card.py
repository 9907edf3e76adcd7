"""The rating card's "Content for this lead" on Rate my leads: the assets that match the lead (and not those
for another audience) with why each fits, one click logs the use, then the helped? rating and its change
(kept in the history), shown but no longer offered once the 14 days are over; nothing matching leads to a
request to marketing prefilled with the lead's persona, stage and industry. Also on a manager's pick of any
lead of the team, and on the Content page's "For my lead"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from core.content_match import lead_stage
from core.feedback import EDIT_DAYS
from db import clock
from db.content import lead_content, rate_asset
from db.engine import make_engine, read_session, write_session
from db.feedback import lead_to_rate
from db.models import ContentKind, ContentRating, ContentRatingHistory, ContentRequest, ContentUse, Lead, User
from tests.pages.conftest import logged_in_app
from tests.pages.test_content_page import button, new_asset, no_trouble, user, without_content
from ui.content import content_of_lead, forget_content
from ui.widgets import plain


@pytest.fixture
def content_db(fresh_app_env: str) -> Iterator[str]:
    yield without_content(fresh_app_env)


def rep_lead(engine: Engine) -> Lead:
    """The demo rep's newest MQL with an industry and a persona."""
    rep = user(engine, "rep")
    with read_session(engine) as session:
        lead = session.exec(
            select(Lead)
            .where(
                Lead.owner_id == rep.id,
                col(Lead.mql_at).is_not(None),
                col(Lead.industry).is_not(None),
                col(Lead.persona).is_not(None),
            )
            .order_by(col(Lead.mql_at).desc())
        ).first()
    assert lead is not None, "the demo rep owns MQLs with an industry and a persona"
    return lead


def card(username: str, lead_id: int) -> AppTest:
    """Rate my leads opened on the lead's card by its link (`?lead=<id>`)."""
    at = logged_in_app(username).run()
    at.switch_page("screens/rate_leads.py")
    at.query_params["lead"] = str(lead_id)
    return at.run()


def panel_labels(at: AppTest) -> list[str]:
    return [e.label for e in at.expander if e.label.startswith("Content for this lead")]


def test_the_card_lists_the_matching_content_logs_its_use_and_rates_it(content_db: str) -> None:
    engine = make_engine(content_db)
    lead = rep_lead(engine)
    fits = new_asset(engine, "Case study for the lead's industry", industries=(str(lead.industry).upper(),))
    anyone = new_asset(engine, "One-pager for anyone")
    new_asset(engine, "For another industry", industries=("Nothing like it",))
    key = f"content_link_{lead.id}_c"

    at = card("rep", int(lead.id or 0))
    no_trouble(at)
    assert panel_labels(at) == ["Content for this lead (2)"]
    on_card = lead_to_rate(engine, lead_id=int(lead.id or 0), owner_ids=[int(user(engine, "rep").id or 0)])
    assert on_card is not None
    assert (
        content_of_lead(on_card)["asset_id"].to_list()
        == lead_content(engine, lead_id=on_card.id)["asset_id"].to_list()
        == [fits, anyone]
    ), "the card's matches are db.content.lead_content's, the specific first"
    titles = [m.value for m in at.markdown if m.value.startswith("**") and "lead" in m.value.lower()]
    assert any("industry" in t for t in titles) and not any("another" in t for t in titles)
    assert [b.label for b in at.link_button] == ["Open the link", "Open the link"]
    captions = [c.value for c in at.caption]
    assert plain(f"Case study · fits the lead's industry ({lead.industry})") in captions, "why it matches"
    assert plain("Case study · for any lead") in captions

    button(at, f"{key}{fits}_used").click().run()
    no_trouble(at)
    rep = user(engine, "rep")
    with read_session(engine) as session:
        used = session.exec(select(ContentUse).where(ContentUse.lead_id == lead.id)).all()
    assert [(u.asset_id, u.user_id) for u in used] == [(fits, rep.id)]
    assert f"{key}{anyone}_used" in {b.key for b in at.button}, "the other one is not used yet"

    at.segmented_control(key=f"{key}{fits}_stars").set_value(5)
    at.pills(key=f"{key}{fits}_reasons").set_value(["won_trust", "answered_objection"])
    at.text_area(key=f"{key}{fits}_note").input("<b>Sent it</b> =1+1")
    assert button(at, f"{key}{fits}_save").label == "Save the rating"
    button(at, f"{key}{fits}_save").click().run()
    no_trouble(at)
    at.segmented_control(key=f"{key}{fits}_stars").set_value(3)
    assert button(at, f"{key}{fits}_save").label == "Save the change"
    button(at, f"{key}{fits}_save").click().run()
    no_trouble(at)
    with read_session(engine) as session:
        ratings = session.exec(select(ContentRating).where(ContentRating.lead_id == lead.id)).all()
        history = session.exec(select(ContentRatingHistory)).all()
    assert [(r.asset_id, r.rater_id, r.stars) for r in ratings] == [(fits, rep.id, 3)]
    assert ratings[0].reasons == ["won_trust", "answered_objection"]
    assert ratings[0].note == "<b>Sent it</b> =1+1"
    assert [(h.stars, h.note) for h in history] == [(5, "<b>Sent it</b> =1+1")], "the change keeps the old"


def test_nothing_matching_asks_marketing_with_the_lead_prefilled(content_db: str) -> None:
    engine = make_engine(content_db)
    lead = rep_lead(engine)
    new_asset(engine, "For another industry", industries=("Nothing like it",))
    key = f"content_link_{lead.id}"

    at = card("rep", int(lead.id or 0))
    no_trouble(at)
    assert panel_labels(at) == ["Content for this lead"]
    button(at, f"{key}_ask").click().run()
    no_trouble(at)
    form = f"{key}_req0"
    assert at.selectbox(key=f"{form}_persona").value == lead.persona
    assert at.selectbox(key=f"{form}_industry").value == lead.industry
    stage = lead_stage(mql_at=lead.mql_at, sql_at=lead.sql_at, opportunity_at=lead.opportunity_at,
                       closed_at=lead.closed_at)  # fmt: skip
    assert at.selectbox(key=f"{form}_stage").value == stage
    at.text_input(key=f"{form}_what").input("A case study for this industry")
    button(at, f"{form}_save").click().run()
    no_trouble(at)
    with read_session(engine) as session:
        (asked,) = session.exec(select(ContentRequest)).all()
    assert (asked.what, asked.persona, asked.industry, asked.lead_id) == (
        "A case study for this industry",
        lead.persona,
        lead.industry,
        lead.id,
    )
    assert asked.stage == stage
    assert asked.requested_by_id == user(engine, "rep").id


def test_a_rep_finds_content_for_one_of_their_leads_on_the_content_page(content_db: str) -> None:
    engine = make_engine(content_db)
    lead = rep_lead(engine)
    asset = new_asset(engine, "Deck for every lead", link="https://example.com/deck")
    at = logged_in_app("rep").run()
    at.switch_page("screens/content.py")
    at.run()
    no_trouble(at)
    at.text_input(key="forlead_search").input(lead.external_id).run()
    at.selectbox(key="forlead_lead").set_value(lead.id).run()
    no_trouble(at)
    assert panel_labels(at) == ["Content for this lead (1)"]
    button(at, f"forlead_{lead.id}_c{asset}_used").click().run()
    no_trouble(at)
    with read_session(engine) as session:
        assert len(session.exec(select(ContentUse).where(ContentUse.asset_id == asset)).all()) == 1


def test_a_rating_older_than_the_edit_window_is_shown_and_no_longer_offered(content_db: str) -> None:
    engine = make_engine(content_db)
    lead = rep_lead(engine)
    asset = new_asset(engine, "Old faithful one-pager", kind=ContentKind.one_pager)
    with write_session(engine) as session:
        rep = session.exec(select(User).where(User.username == "rep")).one()
        rate_asset(session=session, actor=rep, asset_id=asset, lead_id=int(lead.id or 0), stars=4,
                   reasons=("won_trust",), note=None, now=clock.now() - timedelta(days=EDIT_DAYS + 1))  # fmt: skip
    forget_content()
    key = f"content_link_{lead.id}_c{asset}"
    at = card("rep", int(lead.id or 0))
    no_trouble(at)
    assert "Your rating: ★★★★ (it can no longer be changed)" in [t.value for t in at.text]
    assert not [s for s in at.segmented_control if s.key == f"{key}_stars"]
    assert f"{key}_used" not in {b.key for b in at.button}, "its use is logged already"


def test_a_manager_finds_content_for_any_lead_of_the_team_and_logs_its_use(content_db: str) -> None:
    engine = make_engine(content_db)
    lead = rep_lead(engine)  # the demo rep is on the manager's team
    asset = new_asset(engine, "Team playbook deck", kind=ContentKind.deck)
    at = logged_in_app("manager").run()
    at.switch_page("screens/rate_leads.py")
    at.run()
    at.text_input(key="pick_search").input(lead.external_id).run()
    at.selectbox(key="pick_lead").set_value(lead.id).run()
    no_trouble(at)
    assert "Content for this lead (1)" in panel_labels(at)
    button(at, f"content_pick_{lead.id}_c{asset}_used").click().run()
    no_trouble(at)
    with read_session(engine) as session:
        (used,) = session.exec(select(ContentUse)).all()
    assert (used.asset_id, used.lead_id, used.user_id) == (asset, lead.id, user(engine, "manager").id)
