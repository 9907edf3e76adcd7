"""The sales content service (db/content.py) on SQLite and PostgreSQL: every write per role, allowed and
refused (the refusal in the audit log), own leads only, file checks and the upload cap before anything is
stored, links, versions kept on replace, archive keeping uses, ratings with their history and 14 days,
requests with votes and triage, and the readers' frames."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from db import content
from db.access import OPERATOR, AccessDenied, Actor
from db.content import (
    AssetIn,
    ContentRefused,
    FileIn,
    NotYourLead,
    add_asset,
    archive_asset,
    asset_versions,
    edit_asset,
    file_of_version,
    lead_content,
    library,
    log_use,
    mark_reviewed,
    my_content_on_lead,
    rate_asset,
    replace_content,
    request_content,
    requests,
    triage_request,
    unvote_request,
    vote_request,
)
from db.engine import read_session, write_session
from db.models import (
    AuditLog,
    ContentAsset,
    ContentKind,
    ContentRating,
    ContentRatingHistory,
    ContentRequest,
    ContentRequestStatus,
    ContentRequestVote,
    ContentUse,
    ContentVersion,
    DataSource,
    Lead,
    Role,
    Team,
    User,
)
from db.settings import get_settings

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DECK = AssetIn(title="Retail case study", kind=ContentKind.case_study, description="How a shop grew",
               stages=("mql", "sql"), personas=("CFO",), industries=(), company_sizes=())  # fmt: skip
ROLES = ("rep", "boss", "marketer", "executive", "admin")


def _office(main_part: str, content_type: str) -> bytes:
    """A minimal Office Open XML zip whose [Content_Types].xml names `main_part` as `content_type`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/{main_part}" ContentType="{content_type}"/></Types>',
        )
        archive.writestr(main_part, "<x/>")
    return out.getvalue()


DOCX = _office(
    "word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
)


@pytest.fixture
def company(db_engine: Engine) -> dict[str, int]:
    """Team East: reps rep (owns lead "mine") and rep2 (owns "theirs"), manager boss; West's manager
    west_boss owning nothing; a marketer, an executive, an admin. Ids by name."""
    with write_session(db_engine) as session:
        east, west = Team(name="East"), Team(name="West")
        session.add_all([east, west, DataSource(name="crm", label="CRM", stages=["created", "mql"])])
        session.flush()
        people = {
            "rep": User(username="rep", name="Rita Rep", role=Role.rep, team_id=east.id),
            "rep2": User(username="rep2", name="Rob Rep", role=Role.rep, team_id=east.id),
            "boss": User(username="boss", name="Bea Boss", role=Role.sales_manager, team_id=east.id),
            "west_boss": User(username="west", name="Wes Boss", role=Role.sales_manager, team_id=west.id),
            "marketer": User(username="mark", name="Mark Eter", role=Role.marketer),
            "executive": User(username="exec", name="Eve Exec", role=Role.executive),
            "admin": User(username="admin", name="Ada Admin", role=Role.admin),
        }
        session.add_all(people.values())
        session.flush()
        leads = {
            "mine": Lead(source_system="crm", external_id="L-1", created_at=NOW, mql_at=NOW, persona="cfo",
                         industry="Retail", owner_id=people["rep"].id, team_id=east.id),
            "theirs": Lead(source_system="crm", external_id="L-2", created_at=NOW, mql_at=NOW, sql_at=NOW,
                           owner_id=people["rep2"].id, team_id=east.id),
        }  # fmt: skip
        session.add_all(leads.values())
        session.flush()
        return {name: int(row.id or 0) for name, row in (people | leads).items()}


def _user(engine: Engine, user_id: int) -> User:
    with read_session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


def _as(engine: Engine, company: dict[str, int], who: str) -> Actor:
    return OPERATOR if who == "operator" else _user(engine, company[who])


def _write(engine: Engine, write: Callable[..., Any], actor: Actor, **arguments: Any) -> Any:
    """`write` in its own unit of work, as a page does; the row it returns, detached and loaded."""
    with write_session(engine) as session:
        result = write(session=session, actor=actor, now=arguments.pop("now", NOW), **arguments)
        if result is not None:
            session.refresh(result)
            session.expunge(result)
        return result


def _count(engine: Engine, model: Any) -> int:
    with read_session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _audit(engine: Engine, outcome: str | None = None) -> list[AuditLog]:
    with read_session(engine) as session:
        query = select(AuditLog).order_by(AuditLog.id)  # type: ignore[arg-type]
        rows = list(session.exec(query).all())
    return [r for r in rows if outcome is None or r.outcome == outcome]


def _add(engine: Engine, company: dict[str, int], asset: AssetIn = DECK, **content_in: Any) -> int:
    content_in = content_in or {"link": "https://example.com/retail", "file": None}
    row = _write(engine, add_asset, _as(engine, company, "marketer"), asset=asset, **content_in)
    return int(row.id)


# ---------------------------------------------------------------- managing assets, per role


@pytest.mark.parametrize("who", ROLES)
def test_only_marketers_and_admins_add_assets_and_a_refusal_is_logged(
    db_engine: Engine, company: dict[str, int], who: str
) -> None:
    actor = _as(db_engine, company, who)
    if who in ("marketer", "admin"):
        row = _write(db_engine, add_asset, actor, asset=DECK, link="https://example.com/a", file=None)
        assert row.title == "Retail case study" and row.current_version == 1
        assert row.created_by_id == company[who]
        entry = _audit(db_engine)[-1]
        assert (entry.action, entry.object_type, entry.object_id, entry.outcome) == (
            "content.add", "content_asset", str(row.id), "ok")  # fmt: skip
        return
    with pytest.raises(AccessDenied):
        _write(db_engine, add_asset, actor, asset=DECK, link="https://example.com/a", file=None)
    assert _count(db_engine, ContentAsset) == 0
    denied = _audit(db_engine, "denied")
    assert [(d.action, d.actor_id) for d in denied] == [("content.manage", company[who])]


@pytest.mark.parametrize("who", ROLES)
def test_edit_replace_review_and_archive_are_for_marketers_and_admins(
    db_engine: Engine, company: dict[str, int], who: str
) -> None:
    asset_id = _add(db_engine, company)
    actor = _as(db_engine, company, who)
    edited = AssetIn(title="Retail case study (2026)", kind=ContentKind.case_study)
    writes: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (edit_asset, {"asset_id": asset_id, "asset": edited}),
        (replace_content, {"asset_id": asset_id, "link": "https://example.com/v2", "file": None}),
        (mark_reviewed, {"asset_id": asset_id, "on": date(2026, 11, 20)}),
        (archive_asset, {"asset_id": asset_id}),
    ]
    allowed = who in ("marketer", "admin")
    for write, arguments in writes:
        if allowed:
            _write(db_engine, write, actor, **arguments)
        else:
            with pytest.raises(AccessDenied):
                _write(db_engine, write, actor, **arguments)
    with read_session(db_engine) as session:
        asset = session.get(ContentAsset, asset_id)
        assert asset is not None
        if allowed:
            assert asset.title == "Retail case study (2026)" and asset.current_version == 2
            assert asset.last_reviewed_on == date(2026, 11, 20) and asset.archived_at is not None
        else:
            assert asset.title == "Retail case study" and asset.current_version == 1
            assert asset.last_reviewed_on is None and asset.archived_at is None
    actions = [(e.action, e.outcome) for e in _audit(db_engine)[1:]]
    if allowed:
        assert actions == [("content.edit", "ok"), ("content.replace", "ok"), ("content.review", "ok"),
                           ("content.archive", "ok")]  # fmt: skip
    else:
        assert actions == [("content.manage", "denied")] * 4


def test_the_command_line_manages_assets_and_is_audited_as_itself(
    db_engine: Engine, company: dict[str, int]
) -> None:
    row = _write(db_engine, add_asset, OPERATOR, asset=DECK, link="https://example.com/a", file=None)
    assert row.created_by_id is None
    entry = _audit(db_engine)[-1]
    assert (entry.actor_id, entry.actor_username, entry.action) == (None, "command line", "content.add")


def test_an_asset_needs_a_title_a_link_or_a_file_and_a_known_stage(
    db_engine: Engine, company: dict[str, int]
) -> None:
    marketer = _as(db_engine, company, "marketer")
    cases: list[tuple[AssetIn, str | None, FileIn | None, str]] = [
        (AssetIn(title="   ", kind=ContentKind.deck), "https://example.com", None, "title"),
        (AssetIn(title="x" * 201, kind=ContentKind.deck), "https://example.com", None, "200"),
        (DECK, None, None, "link or a file"),
        (DECK, "https://example.com", FileIn("a.pdf", PDF), "link or a file"),
        (AssetIn(title="Deck", kind=ContentKind.deck, stages=("won",)), "https://example.com", None, "stage"),
        (AssetIn(title="Deck", kind=ContentKind.deck, last_reviewed_on=date(2026, 12, 1)), "https://example.com",
         None, "future"),
        (AssetIn(title="Deck", kind=ContentKind.deck, owner_id=999_999), "https://example.com", None, "owner"),
    ]  # fmt: skip
    for asset, link, file, words in cases:
        with pytest.raises(ContentRefused, match=words):
            _write(db_engine, add_asset, marketer, asset=asset, link=link, file=file)
    assert _count(db_engine, ContentAsset) == 0 and _count(db_engine, ContentVersion) == 0


def test_text_is_kept_as_written_trimmed_and_audience_values_deduplicated(
    db_engine: Engine, company: dict[str, int]
) -> None:
    asset = AssetIn(title="  <b>Deck</b> =1+1  ", kind=ContentKind.deck, stages=("MQL", "mql", " "),
                    personas=("CFO", "cfo", "Head of IT"))  # fmt: skip
    asset_id = _add(db_engine, company, asset)
    with read_session(db_engine) as session:
        row = session.get(ContentAsset, asset_id)
        assert row is not None
        assert (row.title, row.stages, row.personas) == ("<b>Deck</b> =1+1", ["mql"], ["CFO", "Head of IT"])


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>x</script>", "file:///etc/passwd",
     "/relative/path", "example.com/no-scheme", "https://", "", "ftp://example.com/a.pdf"],
)  # fmt: skip
def test_links_other_than_http_and_https_are_refused(
    db_engine: Engine, company: dict[str, int], link: str
) -> None:
    with pytest.raises(ContentRefused):
        _write(
            db_engine, add_asset, _as(db_engine, company, "marketer"), asset=DECK, link=link or " ", file=None
        )
    assert _count(db_engine, ContentAsset) == 0


def test_a_file_whose_bytes_are_not_its_claimed_type_is_refused(
    db_engine: Engine, company: dict[str, int]
) -> None:
    marketer = _as(db_engine, company, "marketer")
    for name, data in [("deck.pdf", PNG), ("photo.png", PDF), ("page.pdf", b"<html><script>x</script>"),
                       ("report.docx", b"PK\x03\x04not really a zip"), ("tool.exe", b"MZ\x90\x00"),
                       ("deck.pptx", DOCX)]:  # fmt: skip
        with pytest.raises(ContentRefused):
            _write(db_engine, add_asset, marketer, asset=DECK, link=None, file=FileIn(name, data))
    assert _count(db_engine, ContentVersion) == 0


def test_a_real_file_is_stored_in_the_database_and_read_back(
    db_engine: Engine, company: dict[str, int]
) -> None:
    asset_id = _add(db_engine, company, link=None, file=FileIn("../../secret/Retail.docx", DOCX))
    (version,) = asset_versions(db_engine, asset_id=asset_id)
    assert (version.filename, version.size_bytes, version.version) == ("Retail.docx", len(DOCX), 1)
    assert version.media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    stored = file_of_version(db_engine, version_id=version.id)
    assert stored is not None and stored.data == DOCX and stored.filename == "Retail.docx"
    assert "DOCX" not in (_audit(db_engine)[-1].detail or "PK")  # the audit names the type, never bytes
    assert "PK" not in (_audit(db_engine)[-1].detail or "")


def test_over_the_cap_is_refused_before_anything_is_stored(
    db_engine: Engine, company: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "content"
    monkeypatch.setenv("HUDDLE_CONTENT_DIR", str(folder))
    monkeypatch.setenv("HUDDLE_CONTENT_MAX_MB", "0.001")  # 1,048 bytes
    get_settings.cache_clear()
    try:
        big = PDF + b"0" * 2000
        sniffed: list[str] = []

        def spy(name: str, data: bytes) -> str:
            sniffed.append(name)
            return "application/pdf"

        monkeypatch.setattr(content, "sniff", spy)
        with pytest.raises(ContentRefused, match="MB"):
            _write(db_engine, add_asset, _as(db_engine, company, "marketer"), asset=DECK, link=None,
                   file=FileIn("big.pdf", big))  # fmt: skip
        assert sniffed == []  # refused on its size alone, before its bytes were even looked at
        assert _count(db_engine, ContentVersion) == 0 and _count(db_engine, ContentAsset) == 0
        assert not folder.exists() or list(folder.iterdir()) == []
    finally:
        get_settings.cache_clear()


def test_with_a_folder_set_the_bytes_go_to_the_folder_under_their_sha256(
    db_engine: Engine, company: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "content"
    monkeypatch.setenv("HUDDLE_CONTENT_DIR", str(folder))
    get_settings.cache_clear()
    try:
        asset_id = _add(db_engine, company, link=None, file=FileIn("deck.pdf", PDF))
        with read_session(db_engine) as session:
            row = session.exec(select(ContentVersion).where(ContentVersion.asset_id == asset_id)).one()
            assert row.data is None and row.storage_key == row.sha256
        assert [p.name for p in folder.iterdir()] == [row.sha256]  # no temp file left
        stored = file_of_version(db_engine, version_id=int(row.id or 0))
        assert stored is not None and stored.data == PDF and stored.media_type == "application/pdf"
        stored_at = folder / str(row.sha256)
        stored_at.write_bytes(PDF.replace(b"1.7", b"1.6"))  # changed behind Huddle's back
        assert file_of_version(db_engine, version_id=int(row.id or 0)) is None
        stored_at.unlink()
        assert file_of_version(db_engine, version_id=int(row.id or 0)) is None
    finally:
        get_settings.cache_clear()


def test_replacing_keeps_the_history(db_engine: Engine, company: dict[str, int]) -> None:
    asset_id = _add(db_engine, company)
    admin = _as(db_engine, company, "admin")
    later = NOW + timedelta(days=3)
    second = _write(db_engine, replace_content, admin, asset_id=asset_id, link=None, file=FileIn("v2.pdf", PDF),
                    now=later)  # fmt: skip
    _write(
        db_engine,
        replace_content,
        admin,
        asset_id=asset_id,
        link="https://example.com/v3",
        file=None,
        now=later,
    )
    versions = asset_versions(db_engine, asset_id=asset_id)
    assert [(v.version, v.link, v.filename) for v in versions] == [
        (3, "https://example.com/v3", None), (2, None, "v2.pdf"), (1, "https://example.com/retail", None)]  # fmt: skip
    assert versions[0].created_by == "Ada Admin" and versions[2].created_by == "Mark Eter"
    assert second.version == 2
    (row,) = library(db_engine).to_dicts()
    assert (row["current_version"], row["link"], row["filename"]) == (3, "https://example.com/v3", None)
    assert row["updated_at"] == later.replace(tzinfo=None)
    assert file_of_version(db_engine, version_id=versions[1].id) is not None
    assert file_of_version(db_engine, version_id=versions[0].id) is None  # a link has no file


def test_archive_keeps_uses_and_ratings_and_leaves_the_library(
    db_engine: Engine, company: dict[str, int]
) -> None:
    asset_id = _add(db_engine, company)
    rep = _as(db_engine, company, "rep")
    _write(
        db_engine, rate_asset, rep, asset_id=asset_id, lead_id=company["mine"], stars=5, reasons=(), note=None
    )
    assert lead_content(db_engine, lead_id=company["mine"])["asset_id"].to_list() == [asset_id]
    _write(db_engine, archive_asset, _as(db_engine, company, "marketer"), asset_id=asset_id)
    _write(db_engine, archive_asset, _as(db_engine, company, "marketer"), asset_id=asset_id)  # twice: once
    assert _count(db_engine, ContentAsset) == 1 and _count(db_engine, ContentUse) == 1
    assert _count(db_engine, ContentRating) == 1
    assert library(db_engine).is_empty()
    (row,) = library(db_engine, include_archived=True).to_dicts()
    assert (row["uses"], row["ratings"], row["archived_at"]) == (1, 1, NOW.replace(tzinfo=None))
    assert lead_content(db_engine, lead_id=company["mine"]).is_empty()
    assert my_content_on_lead(db_engine, user_id=company["rep"], lead_id=company["mine"])["asset_id"].to_list() == [
        asset_id]  # fmt: skip
    assert [e.detail for e in _audit(db_engine) if e.action == "content.archive"] == ["uses=1 ratings=1"]
    with pytest.raises(ContentRefused, match="archived"):
        _write(db_engine, log_use, rep, asset_id=asset_id, lead_id=company["mine"])


# ---------------------------------------------------------------- using and rating


@pytest.mark.parametrize("who", ["rep", "boss", "west_boss", "marketer", "executive", "admin", "rep2"])
def test_uses_and_ratings_only_on_leads_one_may_rate(
    db_engine: Engine, company: dict[str, int], who: str
) -> None:
    asset_id = _add(db_engine, company)
    actor = _as(db_engine, company, who)
    lead_id = company["mine"]
    if who in ("rep", "boss"):  # the owner, and the owner's team's manager
        use = _write(db_engine, log_use, actor, asset_id=asset_id, lead_id=lead_id)
        rating = _write(db_engine, rate_asset, actor, asset_id=asset_id, lead_id=lead_id, stars=4,
                        reasons=("won_trust",), note=" helped ")  # fmt: skip
        assert (use.user_id, rating.rater_id, rating.note) == (company[who], company[who], "helped")
        return
    expected = NotYourLead if who in ("west_boss", "rep2") else AccessDenied
    with pytest.raises(expected):
        _write(db_engine, log_use, actor, asset_id=asset_id, lead_id=lead_id)
    with pytest.raises(expected):
        _write(
            db_engine, rate_asset, actor, asset_id=asset_id, lead_id=lead_id, stars=4, reasons=(), note=None
        )
    assert _count(db_engine, ContentUse) == 0 and _count(db_engine, ContentRating) == 0
    denied = [(d.action, d.actor_id, d.object_id) for d in _audit(db_engine, "denied")]
    assert denied == [("content.use", company[who], str(lead_id))] * 2


def test_a_rep_rating_on_a_lead_they_do_not_own_is_refused_and_logged(
    db_engine: Engine, company: dict[str, int]
) -> None:
    asset_id = _add(db_engine, company)
    with pytest.raises(NotYourLead, match="not yours"):
        _write(db_engine, rate_asset, _as(db_engine, company, "rep"), asset_id=asset_id, lead_id=company["theirs"],
               stars=5, reasons=(), note=None)  # fmt: skip
    (denied,) = _audit(db_engine, "denied")
    assert (denied.actor_username, denied.action, denied.object_id) == (
        "rep",
        "content.use",
        str(company["theirs"]),
    )
    assert _count(db_engine, ContentRating) == 0 and _count(db_engine, ContentUse) == 0


def test_a_use_is_one_row_however_often_it_is_logged(db_engine: Engine, company: dict[str, int]) -> None:
    asset_id = _add(db_engine, company)
    rep = _as(db_engine, company, "rep")
    first = _write(db_engine, log_use, rep, asset_id=asset_id, lead_id=company["mine"])
    again = _write(
        db_engine, log_use, rep, asset_id=asset_id, lead_id=company["mine"], now=NOW + timedelta(days=1)
    )
    assert first.id == again.id and _count(db_engine, ContentUse) == 1
    assert again.used_at.replace(tzinfo=UTC) == NOW  # the first use's time stays
    assert [e.action for e in _audit(db_engine)].count("content.use") == 1


def test_a_rating_logs_the_use_changes_into_history_and_the_same_again_changes_nothing(
    db_engine: Engine, company: dict[str, int]
) -> None:
    asset_id = _add(db_engine, company)
    rep = _as(db_engine, company, "rep")
    rate = {"asset_id": asset_id, "lead_id": company["mine"]}
    first = _write(db_engine, rate_asset, rep, **rate, stars=2, reasons=("too_long",), note="Long")
    assert _count(db_engine, ContentUse) == 1 and _count(db_engine, ContentRatingHistory) == 0
    _write(
        db_engine,
        rate_asset,
        rep,
        **rate,
        stars=2,
        reasons=("too_long",),
        note="Long",
        now=NOW + timedelta(1),
    )
    assert _count(db_engine, ContentRatingHistory) == 0
    changed = _write(db_engine, rate_asset, rep, **rate, stars=5, reasons=("won_trust", "won_trust"), note=None,
                     now=NOW + timedelta(days=2))  # fmt: skip
    assert changed.id == first.id and (changed.stars, changed.reasons, changed.note) == (
        5,
        ["won_trust"],
        None,
    )
    with read_session(db_engine) as session:
        (old,) = session.exec(select(ContentRatingHistory)).all()
        assert (old.stars, old.reasons, old.note, old.changed_by_id) == (
            2,
            ["too_long"],
            "Long",
            company["rep"],
        )
        assert old.changed_at.replace(tzinfo=UTC) == NOW
    (mine,) = my_content_on_lead(db_engine, user_id=company["rep"], lead_id=company["mine"]).to_dicts()
    assert (mine["stars"], mine["reasons"], mine["rated_at"]) == (5, ["won_trust"], NOW.replace(tzinfo=None))
    assert [e.action for e in _audit(db_engine)][1:] == ["content.use", "content.rate", "content.rate"]


def test_a_rating_older_than_14_days_cannot_be_changed(db_engine: Engine, company: dict[str, int]) -> None:
    asset_id = _add(db_engine, company)
    rep = _as(db_engine, company, "rep")
    rate = {"asset_id": asset_id, "lead_id": company["mine"], "reasons": (), "note": None}
    _write(db_engine, rate_asset, rep, **rate, stars=3)
    _write(db_engine, rate_asset, rep, **rate, stars=4, now=NOW + timedelta(days=14))  # the last day
    with pytest.raises(ContentRefused, match="14 days"):
        _write(db_engine, rate_asset, rep, **rate, stars=1, now=NOW + timedelta(days=14, seconds=1))
    _write(db_engine, rate_asset, rep, **rate, stars=4, now=NOW + timedelta(days=30))  # the same: no change
    with read_session(db_engine) as session:
        assert session.exec(select(ContentRating.stars)).one() == 4


def test_stars_and_reasons_are_checked(db_engine: Engine, company: dict[str, int]) -> None:
    asset_id = _add(db_engine, company)
    rep = _as(db_engine, company, "rep")
    for stars, reasons, note in [(0, (), None), (6, (), None), (3, ("nice",), None), (3, (), "x" * 2001)]:
        with pytest.raises(ContentRefused):
            _write(db_engine, rate_asset, rep, asset_id=asset_id, lead_id=company["mine"], stars=stars,
                   reasons=reasons, note=note)  # fmt: skip
    assert _count(db_engine, ContentRating) == 0


# ---------------------------------------------------------------- requests


def _ask(engine: Engine, company: dict[str, int], who: str = "rep", **fields: Any) -> int:
    values: dict[str, Any] = {"what": "A battle card against Acme", "detail": None, "kind": ContentKind.battle_card,
                              "persona": "CFO", "stage": "sql", "industry": None, "lead_id": None} | fields  # fmt: skip
    return int(_write(engine, request_content, _as(engine, company, who), **values).id)


@pytest.mark.parametrize("who", ROLES)
def test_reps_managers_and_admins_ask_for_content(
    db_engine: Engine, company: dict[str, int], who: str
) -> None:
    if who in ("rep", "boss", "admin"):
        request_id = _ask(db_engine, company, who, lead_id=company["mine"])
        (row,) = requests(db_engine).to_dicts()
        assert (row["request_id"], row["requested_by_id"], row["status"], row["votes"]) == (
            request_id, company[who], "open", 0)  # fmt: skip
        assert _audit(db_engine)[-1].object_type == "content_request"
        return
    with pytest.raises(AccessDenied):
        _ask(db_engine, company, who)
    assert [d.action for d in _audit(db_engine, "denied")] == ["content.request"]


def test_a_request_needs_what_is_wanted_in_200_characters(db_engine: Engine, company: dict[str, int]) -> None:
    for fields in ({"what": "  "}, {"what": "x" * 201}, {"stage": "won"}, {"lead_id": 999_999}):
        with pytest.raises(ContentRefused):
            _ask(db_engine, company, **fields)
    assert _count(db_engine, ContentRequest) == 0


@pytest.mark.parametrize("who", ROLES)
def test_reps_managers_and_admins_vote_and_unvote(
    db_engine: Engine, company: dict[str, int], who: str
) -> None:
    request_id = _ask(db_engine, company, "rep2")
    actor = _as(db_engine, company, who)
    if who in ("rep", "boss", "admin"):
        _write(db_engine, vote_request, actor, request_id=request_id)
        assert requests(db_engine, user_id=company[who])["voter_ids"].to_list() == [[company[who]]]
        _write(db_engine, unvote_request, actor, request_id=request_id)
        assert requests(db_engine, user_id=company[who])["votes"].to_list() == [0]
        return
    for write in (vote_request, unvote_request):
        with pytest.raises(AccessDenied):
            _write(db_engine, write, actor, request_id=request_id)
    assert [(d.action, d.object_id) for d in _audit(db_engine, "denied")] == [
        ("content.request", str(request_id))
    ] * 2
    assert _count(db_engine, ContentRequestVote) == 0


def test_votes_are_one_per_person_never_ones_own_and_can_be_taken_back(
    db_engine: Engine, company: dict[str, int]
) -> None:
    request_id = _ask(db_engine, company, "rep")
    rep, rep2, boss = (_as(db_engine, company, w) for w in ("rep", "rep2", "boss"))
    with pytest.raises(ContentRefused, match="your own"):
        _write(db_engine, vote_request, rep, request_id=request_id)
    _write(db_engine, vote_request, rep2, request_id=request_id)
    _write(db_engine, vote_request, rep2, request_id=request_id)
    _write(db_engine, vote_request, boss, request_id=request_id)
    (row,) = requests(db_engine, user_id=company["rep2"]).to_dicts()
    assert (row["votes"], sorted(row["voter_ids"]), row["i_voted"]) == (2, sorted([company["rep2"], company["boss"]]),
                                                                        True)  # fmt: skip
    assert requests(db_engine, user_id=company["rep"])["i_voted"].to_list() == [False]
    _write(db_engine, unvote_request, rep2, request_id=request_id)
    _write(db_engine, unvote_request, rep2, request_id=request_id)
    assert _count(db_engine, ContentRequestVote) == 1
    actions = [e.action for e in _audit(db_engine)]
    assert (actions.count("content.vote"), actions.count("content.unvote")) == (2, 1)
    with pytest.raises(AccessDenied):
        _write(db_engine, vote_request, _as(db_engine, company, "marketer"), request_id=request_id)


@pytest.mark.parametrize("who", ROLES)
def test_only_marketers_and_admins_triage(db_engine: Engine, company: dict[str, int], who: str) -> None:
    request_id = _ask(db_engine, company, "rep")
    actor = _as(db_engine, company, who)
    if who in ("marketer", "admin"):
        row = _write(db_engine, triage_request, actor, request_id=request_id, status=ContentRequestStatus.accepted,
                     reason=None, asset_id=None)  # fmt: skip
        assert (row.status, row.answered_by_id) == (ContentRequestStatus.accepted, company[who])
        return
    with pytest.raises(AccessDenied):
        _write(db_engine, triage_request, actor, request_id=request_id, status=ContentRequestStatus.accepted,
               reason=None, asset_id=None)  # fmt: skip
    assert [d.action for d in _audit(db_engine, "denied")] == ["content.triage"]


def test_triage_transitions_done_needs_an_asset_and_declined_a_reason(
    db_engine: Engine, company: dict[str, int]
) -> None:
    request_id = _ask(db_engine, company, "rep")
    marketer = _as(db_engine, company, "marketer")

    def triage(status: ContentRequestStatus, reason: str | None = None, asset_id: int | None = None,
               at: datetime = NOW) -> ContentRequest:  # fmt: skip
        return _write(db_engine, triage_request, marketer, request_id=request_id, status=status, reason=reason,
                      asset_id=asset_id, now=at)  # fmt: skip

    assert triage(ContentRequestStatus.accepted).status == ContentRequestStatus.accepted
    assert (
        triage(ContentRequestStatus.in_progress, at=NOW + timedelta(1)).status
        == ContentRequestStatus.in_progress
    )
    with pytest.raises(ContentRefused, match="asset"):
        triage(ContentRequestStatus.done)
    with pytest.raises(ContentRefused, match="asset"):
        triage(ContentRequestStatus.done, asset_id=999_999)
    with pytest.raises(ContentRefused, match="reason"):
        triage(ContentRequestStatus.declined, reason="  ")
    with pytest.raises(ContentRefused):
        triage(ContentRequestStatus.open)
    asset_id = _add(db_engine, company)
    done = triage(ContentRequestStatus.done, asset_id=asset_id, at=NOW + timedelta(days=2))
    assert done.answered_at is not None
    assert (done.answer_asset_id, done.answered_at.replace(tzinfo=UTC)) == (asset_id, NOW + timedelta(days=2))
    (row,) = requests(db_engine).to_dicts()
    assert (row["status"], row["answer_title"], row["answered_by"]) == (
        "done",
        "Retail case study",
        "Mark Eter",
    )
    with pytest.raises(ContentRefused, match="answered"):
        _write(db_engine, vote_request, _as(db_engine, company, "rep2"), request_id=request_id)
    declined = triage(ContentRequestStatus.declined, reason="We have one: see the retail deck")
    assert (declined.answer_reason, declined.answer_asset_id) == ("We have one: see the retail deck", None)
    statuses = [e.detail for e in _audit(db_engine) if e.action == "content.triage"]
    assert statuses == ["status=accepted", "status=in_progress", f"status=done asset={asset_id}",
                        "status=declined"]  # fmt: skip


# ---------------------------------------------------------------- readers


def test_library_counts_uses_ratings_and_the_helped_share(db_engine: Engine, company: dict[str, int]) -> None:
    rated = _add(db_engine, company)
    unrated = _add(db_engine, company, AssetIn(title="Pricing one-pager", kind=ContentKind.one_pager),
                   link=None, file=FileIn("price.png", PNG))  # fmt: skip
    rep, boss = _as(db_engine, company, "rep"), _as(db_engine, company, "boss")
    _write(
        db_engine, rate_asset, rep, asset_id=rated, lead_id=company["mine"], stars=5, reasons=(), note=None
    )
    _write(
        db_engine, rate_asset, boss, asset_id=rated, lead_id=company["theirs"], stars=2, reasons=(), note=None
    )
    _write(
        db_engine, rate_asset, boss, asset_id=rated, lead_id=company["mine"], stars=4, reasons=(), note=None
    )
    frame = library(db_engine)
    assert frame.columns == list(content.LIBRARY_SCHEMA)
    rows = {r["asset_id"]: r for r in frame.to_dicts()}
    assert (rows[rated]["uses"], rows[rated]["ratings"], rows[rated]["helped_share"]) == (
        3,
        3,
        pytest.approx(2 / 3),
    )
    assert (rows[unrated]["uses"], rows[unrated]["ratings"], rows[unrated]["helped_share"]) == (0, 0, None)
    assert (rows[unrated]["filename"], rows[unrated]["media_type"], rows[unrated]["link"]) == (
        "price.png", "image/png", None)  # fmt: skip
    assert rows[rated]["personas"] == ["CFO"] and rows[rated]["kind"] == "case_study"


def test_lead_content_matches_the_leads_stage_and_persona(db_engine: Engine, company: dict[str, int]) -> None:
    for_cfo = _add(db_engine, company)  # MQL or SQL, CFO
    for_anyone = _add(db_engine, company, AssetIn(title="Company overview", kind=ContentKind.deck))
    for_opportunities = _add(db_engine, company, AssetIn(title="Proposal", kind=ContentKind.other,
                                                         stages=("opportunity",)))  # fmt: skip
    mine = lead_content(db_engine, lead_id=company["mine"])  # an MQL, persona cfo
    assert mine["asset_id"].to_list() == [for_cfo, for_anyone]
    assert mine["match_score"].to_list() == [2, 0]
    theirs = lead_content(db_engine, lead_id=company["theirs"])  # an SQL without a persona
    assert theirs["asset_id"].to_list() == [for_anyone]
    assert for_opportunities not in theirs["asset_id"].to_list()
    assert lead_content(db_engine, lead_id=999_999).is_empty()


def test_readers_on_an_empty_database_return_empty_frames_with_their_columns(db_engine: Engine) -> None:
    assert library(db_engine).columns == list(content.LIBRARY_SCHEMA)
    assert requests(db_engine).columns == list(content.REQUESTS_SCHEMA)
    assert my_content_on_lead(db_engine, user_id=1, lead_id=1).columns == list(content.MY_CONTENT_SCHEMA)
    assert asset_versions(db_engine, asset_id=1) == [] and file_of_version(db_engine, version_id=1) is None
