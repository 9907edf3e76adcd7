"""The Content page as each role drives it: what each sees and may do. A marketer adds a link asset and a
file asset (a real PDF's bytes), a bad link is refused on the page with nothing saved; a rep opens an asset,
logs its use on one of their leads and rates whether it helped; requests are asked, voted for and triaged;
an executive only reads. The test data is made here, on a copy of the demo without any demo content."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from db import clock
from db.content import AssetIn, add_asset, log_use, request_content
from db.demo_content import tiny_pdf as demo_pdf
from db.engine import make_engine, read_session, write_session
from db.feedback import team_leads
from db.models import (
    ContentAsset,
    ContentKind,
    ContentRating,
    ContentRequest,
    ContentRequestStatus,
    ContentRequestVote,
    ContentUse,
    ContentVersion,
    Lead,
    User,
)
from db.settings import get_settings
from tests.pages.conftest import logged_in_app
from ui.auth import CurrentUser
from ui.content import Search, content_write, file_reader, forget_content, search_assets, service
from ui.widgets import plain

CONTENT_TABLES = (
    "content_rating_history",
    "content_ratings",
    "content_uses",
    "content_request_votes",
    "content_requests",
    "content_versions",
    "content_assets",
)
NASTY_TITLE = '<script>alert(1)</script> =HYPERLINK("http://evil","x") **bold**'


def tiny_pdf() -> bytes:
    """A real one-page PDF (the demo's own builder)."""
    return demo_pdf("Case study")


def without_content(url: str) -> str:
    """`url` (a SQLite copy of the demo) with no content at all: whatever the demo seeds is not relied on."""
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    with connection:
        for table in CONTENT_TABLES:
            connection.execute(f"DELETE FROM {table}")  # our own table names
    connection.close()
    return url


@pytest.fixture
def content_db(fresh_app_env: str) -> Iterator[str]:
    yield without_content(fresh_app_env)


def page(username: str) -> AppTest:
    at = logged_in_app(username).run()
    at.switch_page("screens/content.py")
    return at.run()


def user(engine: Engine, username: str) -> User:
    with read_session(engine) as session:
        return session.exec(select(User).where(User.username == username)).one()


def new_asset(engine: Engine, title: str, *, link: str = "https://example.com/case", **audience: Any) -> int:
    """An asset added by the demo marketer through the service; its id."""
    with write_session(engine) as session:
        marketer = session.exec(select(User).where(User.username == "marketer")).one()
        asset = add_asset(
            session=session,
            actor=marketer,
            asset=AssetIn(
                title=title,
                kind=audience.pop("kind", ContentKind.case_study),
                description=audience.pop("description", None),
                stages=tuple(audience.pop("stages", ())),
                personas=tuple(audience.pop("personas", ())),
                industries=tuple(audience.pop("industries", ())),
                company_sizes=tuple(audience.pop("company_sizes", ())),
                owner_id=marketer.id,
                last_reviewed_on=clock.today(),
            ),
            link=link,
            file=None,
            now=clock.now(),
        )
        asset_id = int(asset.id or 0)
    forget_content()  # written behind the page's back: its caches learn of it now, not within a second
    return asset_id


def new_request(engine: Engine, username: str, what: str, days_ago: int = 0) -> int:
    with write_session(engine) as session:
        asker = session.exec(select(User).where(User.username == username)).one()
        request = request_content(
            session=session, actor=asker, what=what, detail=None, kind=ContentKind.battle_card,
            persona=None, stage="opportunity", industry=None, lead_id=None,
            now=clock.now() - timedelta(days=days_ago),
        )  # fmt: skip
        request_id = int(request.id or 0)
    forget_content()
    return request_id


def tab_labels(at: AppTest) -> list[str]:
    return [t.label for t in at.tabs]


def button(at: AppTest, key: str) -> Any:
    return next(b for b in at.button if b.key == key)


def button_keys(at: AppTest) -> set[str]:
    return {str(b.key) for b in at.button if b.key}


def no_trouble(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def open_asset(at: AppTest, asset_id: int) -> AppTest:
    at.selectbox(key="lib_open").set_value(asset_id).run()
    no_trouble(at)
    return at


# ---------------------------------------------------------------- what each role sees


@pytest.mark.parametrize(
    ("username", "tabs", "may_use", "may_ask", "may_manage"),
    [
        ("rep", ["Library", "For my lead", "Requests"], True, True, False),
        ("manager", ["Library", "For my lead", "Requests"], True, True, False),
        ("marketer", ["Library", "Add an asset", "Requests"], False, False, True),
        ("exec", ["Library", "Requests"], False, False, False),
        ("admin", ["Library", "Add an asset", "Requests"], False, True, True),
    ],
)
def test_each_role_sees_what_it_may_do(
    content_db: str, username: str, tabs: list[str], may_use: bool, may_ask: bool, may_manage: bool
) -> None:
    engine = make_engine(content_db)
    asset_id = new_asset(engine, "Retail case study")
    request_id = new_request(engine, "rep", "A battle card against the big vendor", days_ago=12)
    at = page(username)
    no_trouble(at)
    assert [t.value for t in at.title] == ["Content"]
    assert tab_labels(at) == tabs
    assert at.dataframe[0].value["Title"].tolist() == ["Retail case study"]
    assert "Open requests (1)" in [s.value for s in at.subheader]
    assert any(c.value.startswith("Open · open 12 days · 0 votes") for c in at.caption)
    keys = button_keys(at)
    # The requester's own ask is no vote of theirs: the rep sees none on it.
    assert (f"req_{request_id}_vote" in keys) == (may_ask and username != "rep")
    assert (f"req_{request_id}_status" in {s.key for s in at.selectbox}) == may_manage
    assert bool([e for e in at.expander if e.label == "Ask marketing for content"]) == may_ask

    open_asset(at, asset_id)
    keys = button_keys(at)
    assert (f"asset_{asset_id}_archive" in keys) == may_manage
    assert (f"asset_{asset_id}_use_lead" in {s.key for s in at.selectbox}) == may_use
    assert [b.label for b in at.link_button] == ["Open the link"]


# ---------------------------------------------------------------- marketing adds assets


def fill_asset(at: AppTest, title: str, *, link: str = "", kind: str = "case_study") -> None:
    at.text_input(key="add0_title").input(title)
    at.selectbox(key="add0_kind").set_value(kind)
    at.text_area(key="add0_description").input("How a retailer cut churn")
    at.multiselect(key="add0_stages").set_value(["opportunity"])
    if link:
        at.text_input(key="add0_link").input(link)


def submit(at: AppTest, key: str) -> AppTest:
    """Click the submit button of the form `key` (every form of the page names its button `<key>_save`)."""
    button(at, f"{key}_save").click().run()
    return at


def assets_and_versions(engine: Engine) -> tuple[list[ContentAsset], list[ContentVersion]]:
    with read_session(engine) as session:
        return list(session.exec(select(ContentAsset)).all()), list(
            session.exec(select(ContentVersion)).all()
        )


def test_a_marketer_adds_a_link_asset_whose_title_stays_text(content_db: str) -> None:
    engine = make_engine(content_db)
    at = page("marketer")
    no_trouble(at)
    assert next(i.value for i in at.info).startswith("The library is empty.")
    fill_asset(at, NASTY_TITLE, link="https://example.com/retail-case")
    submit(at, "add0")
    no_trouble(at)
    (asset,), (version,) = assets_and_versions(engine)
    assert (asset.title, asset.kind, asset.stages) == (NASTY_TITLE, ContentKind.case_study, ["opportunity"])
    assert (version.version, version.link, version.filename) == (1, "https://example.com/retail-case", None)
    assert asset.created_by_id == user(engine, "marketer").id
    assert at.dataframe[0].value["Title"].tolist() == [NASTY_TITLE], "shown as typed, in a table cell"
    assert at.text_input(key="add1_title").value == "", "a fresh form for the next asset"

    open_asset(at, int(asset.id or 0))
    (heading,) = [h.value for h in at.subheader if "script" in h.value]
    assert heading == plain(NASTY_TITLE), "escaped: no tag, no link, no emphasis"
    assert "<script>" not in heading


def test_a_marketer_adds_a_pdf_and_a_bad_link_is_refused_with_nothing_saved(content_db: str) -> None:
    engine = make_engine(content_db)
    at = page("marketer")
    fill_asset(at, "Retail case study (PDF)")
    at.file_uploader(key="add0_file").set_value(("retail.pdf", tiny_pdf(), "application/pdf"))
    submit(at, "add0")
    no_trouble(at)
    (asset,), (version,) = assets_and_versions(engine)
    assert (version.filename, version.media_type, version.size_bytes) == (
        "retail.pdf", "application/pdf", len(tiny_pdf()),
    )  # fmt: skip
    open_asset(at, int(asset.id or 0))
    assert [b.label for b in at.download_button] == ["Download the PDF"]
    assert file_reader(int(asset.id or 0))() == tiny_pdf(), "the bytes are read when the button is clicked"

    at.text_input(key="add1_title").input("Sneaky")
    at.text_input(key="add1_link").input("javascript:alert(document.cookie)")
    submit(at, "add1")
    assert not at.exception, at.exception
    assert len(at.error) == 1 and "link" in at.error[0].value.lower(), [e.value for e in at.error]
    assert len(assets_and_versions(engine)[0]) == 1, "nothing half-saved"

    at.text_input(key="add1_link").input("")
    at.file_uploader(key="add1_file").set_value(("fake.pdf", b"MZ this is no PDF", "application/pdf"))
    submit(at, "add1")
    assert len(at.error) == 1, [e.value for e in at.error]
    assert len(assets_and_versions(engine)[0]) == 1, "a file whose bytes are not a PDF is refused"


def test_a_marketer_replaces_the_link_marks_it_reviewed_and_archives_it(content_db: str) -> None:
    engine = make_engine(content_db)
    asset_id = new_asset(engine, "Pricing one-pager", kind=ContentKind.one_pager)
    at = open_asset(page("marketer"), asset_id)
    key = f"asset_{asset_id}"
    at.text_input(key=f"{key}_replace_link").input("https://example.com/pricing-v2")
    submit(at, f"{key}_replace")
    no_trouble(at)
    versions = sorted(v.version for v in assets_and_versions(engine)[1])
    assert versions == [1, 2], "the earlier version stays in the history"
    assert "Versions (2)" in [e.label for e in at.expander]

    at.text_input(key=f"{key}_edit_title").input("Pricing one-pager 2027")
    at.multiselect(key=f"{key}_edit_industries").set_value(["Retail", "A brand-new industry"])
    long_ago = clock.today() - timedelta(days=200)
    at.date_input(key=f"{key}_edit_reviewed").set_value(long_ago)
    submit(at, f"{key}_edit")
    no_trouble(at)
    (asset,), _ = assets_and_versions(engine)
    assert (asset.title, asset.industries) == ("Pricing one-pager 2027", ["Retail", "A brand-new industry"])
    assert asset.last_reviewed_on == long_ago
    button(at, f"{key}_review").click().run()
    no_trouble(at)
    assert assets_and_versions(engine)[0][0].last_reviewed_on == clock.today()
    at.text_input(key=f"{key}_edit_title").input("")
    submit(at, f"{key}_edit")
    assert len(at.error) == 1, "a title is needed"
    assert assets_and_versions(engine)[0][0].title == "Pricing one-pager 2027", "nothing half-saved"

    button(at, f"{key}_archive").click().run()
    assert next(w.value for w in at.warning).startswith("Archive this asset?")
    button(at, f"{key}_confirm").click().run()
    no_trouble(at)
    (asset,), _ = assets_and_versions(engine)
    assert asset.archived_at is not None
    assert "Archived assets (1)" in [e.label for e in at.expander]
    assert next(i.value for i in page("rep").info).startswith("The library is empty."), "gone for reps"


# ---------------------------------------------------------------- a rep uses and rates


def test_a_rep_logs_the_use_on_their_lead_and_rates_it(content_db: str) -> None:
    engine = make_engine(content_db)
    asset_id = new_asset(engine, "ROI calculator deck", kind=ContentKind.deck)
    rep = user(engine, "rep")
    at = open_asset(page("rep"), asset_id)
    key = f"asset_{asset_id}_use"
    _, (lead, *_) = team_leads(engine, owner_ids=[int(rep.id or 0)], limit=1)
    at.selectbox(key=f"{key}_lead").set_value(lead.id).run()
    no_trouble(at)
    card = f"asset_{asset_id}_{lead.id}"
    button(at, f"{card}_used").click().run()
    no_trouble(at)
    button_after = button_keys(at)
    assert f"{card}_used" not in button_after, "used once: the rating form takes its place"
    at.segmented_control(key=f"{card}_stars").set_value(4)
    at.pills(key=f"{card}_reasons").set_value(["answered_objection"])
    submit(at, card)
    no_trouble(at)
    with read_session(engine) as session:
        uses = session.exec(select(ContentUse).where(ContentUse.asset_id == asset_id)).all()
        ratings = session.exec(select(ContentRating).where(ContentRating.asset_id == asset_id)).all()
    assert [(u.lead_id, u.user_id) for u in uses] == [(lead.id, rep.id)]
    assert [(r.lead_id, r.rater_id, r.stars, r.reasons) for r in ratings] == [
        (lead.id, rep.id, 4, ["answered_objection"])
    ]

    seen = open_asset(page("marketer"), asset_id)
    table = seen.dataframe[0].value
    assert (table["Uses"].tolist(), table["Helped"].tolist()) == ([1], ["100% of 1 rating"])
    (who,) = [e for e in seen.expander if e.label == "Who used it (1)"]
    assert who.dataframe[0].value["Who"].tolist() == [rep.name]


def test_a_rep_cannot_log_use_on_someone_elses_lead(content_db: str) -> None:
    """The page offers only the rep's own leads; the service refuses (and logs) the rest all the same."""
    engine = make_engine(content_db)
    asset_id = new_asset(engine, "Security FAQ", kind=ContentKind.other)
    rep = user(engine, "rep")
    with read_session(engine) as session:
        other = session.exec(
            select(Lead).where(
                col(Lead.owner_id).is_not(None), Lead.owner_id != rep.id, col(Lead.mql_at).is_not(None)
            )
        ).first()
    assert other is not None
    at = open_asset(page("rep"), asset_id)
    at.text_input(key=f"asset_{asset_id}_use_search").input(other.external_id).run()
    assert not at.exception, at.exception
    pickers = [s for s in at.selectbox if s.key == f"asset_{asset_id}_use_lead"]
    offered = pickers[0].options if pickers else []
    assert not [o for o in offered if o.startswith(f"{other.external_id} · ")], "not offered"

    signed_in = CurrentUser(id=int(rep.id or 0), username=rep.username, name=rep.name, role=rep.role,
                            team_id=rep.team_id)  # fmt: skip
    acted = content_write(signed_in, service(log_use, asset_id=asset_id, lead_id=int(other.id or 0)))
    assert acted.refused, "the service refuses it however it is asked"
    with read_session(engine) as session:
        assert session.exec(select(ContentUse)).all() == []


# ---------------------------------------------------------------- requests


def test_a_rep_asks_a_manager_votes_and_the_marketer_answers(content_db: str) -> None:
    engine = make_engine(content_db)
    at = page("rep")
    at.text_input(key="ask0_what").input("<img src=x onerror=alert(1)> battle card")
    at.selectbox(key="ask0_kind").set_value("battle_card")
    at.selectbox(key="ask0_stage").set_value("opportunity")
    _, (deal, *_) = team_leads(engine, owner_ids=[int(user(engine, "rep").id or 0)], limit=1)
    at.selectbox(key="ask0_lead").set_value(deal.id)
    submit(at, "ask0")
    no_trouble(at)
    with read_session(engine) as session:
        (asked,) = session.exec(select(ContentRequest)).all()
    assert asked.lead_id == deal.id, "the deal it is for"
    assert (asked.kind, asked.stage, asked.requested_by_id) == (
        ContentKind.battle_card, "opportunity", user(engine, "rep").id,
    )  # fmt: skip
    request_id = int(asked.id or 0)
    assert f"req_{request_id}_vote" not in button_keys(at), "no vote on one's own request"
    assert any("battle card" in m.value and "\\<img" in m.value for m in at.markdown), "shown escaped"

    boss = page("manager")
    button(boss, f"req_{request_id}_vote").click().run()
    no_trouble(boss)
    assert any(c.value.endswith("1 vote") for c in boss.caption)
    button(boss, f"req_{request_id}_unvote").click().run()
    no_trouble(boss)
    button(boss, f"req_{request_id}_vote").click().run()
    with read_session(engine) as session:
        votes = session.exec(select(ContentRequestVote)).all()
    assert [v.user_id for v in votes] == [user(engine, "manager").id]

    marketer = page("marketer")
    marketer.selectbox(key=f"req_{request_id}_status").set_value("declined")
    submit(marketer, f"req_{request_id}")
    assert len(marketer.error) == 1, "a decline needs its reason"
    with read_session(engine) as session:
        assert session.get(ContentRequest, request_id).status == ContentRequestStatus.open  # type: ignore[union-attr]

    answer = new_asset(engine, "Battle card: us against the big vendor", kind=ContentKind.battle_card)
    marketer = page("marketer")
    marketer.selectbox(key=f"req_{request_id}_status").set_value("done")
    marketer.selectbox(key=f"req_{request_id}_asset").set_value(answer)
    submit(marketer, f"req_{request_id}")
    no_trouble(marketer)
    with read_session(engine) as session:
        done = session.get(ContentRequest, request_id)
    assert done is not None and (done.status, done.answer_asset_id) == (ContentRequestStatus.done, answer)

    for username in ("rep", "manager"):
        seen = page(username)
        no_trouble(seen)
        assert "Answers to your requests" in [s.value for s in seen.subheader], username
        assert "The new asset: Battle card: us against the big vendor (Battle card)" in texts(seen)
        assert "Open requests (0)" in [s.value for s in seen.subheader]
    assert "Answers to your requests" not in [s.value for s in page("exec").subheader]


def test_an_executive_reads_and_changes_nothing(content_db: str) -> None:
    engine = make_engine(content_db)
    asset_id = new_asset(engine, "Board deck", kind=ContentKind.deck)
    new_request(engine, "manager", "A CFO one-pager")
    at = open_asset(page("exec"), asset_id)
    no_trouble(at)
    assert tab_labels(at) == ["Library", "Requests"]
    assert not [f for f in at.text_input if f.key and f.key.startswith(("add", "ask"))]
    assert button_keys(at) - {"huddle_logout"} == set(), "no write of any kind is offered"


# ---------------------------------------------------------------- the library's search, on a hand-made frame


def test_the_search_reads_every_field_and_an_open_audience_list_fits_any_filter() -> None:
    assets = pl.DataFrame(
        {
            "asset_id": [1, 2, 3],
            "title": ["Retail ROI story", "Pricing deck", "Us against BigCo"],
            "kind": ["case_study", "deck", "battle_card"],
            "description": ["How a retailer cut churn", None, "Objections and answers"],
            "stages": [["opportunity"], [], ["sql", "opportunity"]],
            "personas": [["CFO"], [], ["CTO"]],
            "industries": [["Retail"], ["Retail", "Finance"], []],
            "company_sizes": [[], ["1-50"], []],
        }
    )

    def found(**asked: str) -> list[int]:
        return search_assets(assets, Search(**asked)).get_column("asset_id").to_list()

    assert found() == [1, 2, 3]
    assert found(text="retail") == [1, 2], "title, description or an audience value"
    assert found(text="battle card") == [3] and found(text="case study") == [1], "the type, as typed"
    assert found(text="churn retail") == [1], "every word"
    assert found(text="cfo") == [1] and found(text="nothing like it") == []
    assert found(stage="opportunity") == [1, 2, 3], "an empty list is for any stage"
    assert found(stage="mql") == [2]
    assert found(persona="cfo", industry="retail") == [1, 2], "any case; open lists fit"
    assert found(industry="Finance") == [2, 3]
    assert found(size="1-50", kind="deck") == [2] and found(size="201-1000") == [1, 3]


def test_a_file_over_the_cap_is_refused_on_the_page_before_anything_is_stored(
    content_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUDDLE_CONTENT_MAX_MB", "0.0001")  # about 100 bytes: the tiny PDF is over it
    get_settings.cache_clear()
    engine = make_engine(content_db)
    at = page("marketer")
    fill_asset(at, "A deck too big")
    at.file_uploader(key="add0_file").set_value(("big.pdf", tiny_pdf(), "application/pdf"))
    submit(at, "add0")
    assert not at.exception, at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    assert assets_and_versions(engine) == ([], []), "nothing stored"
    get_settings.cache_clear()
