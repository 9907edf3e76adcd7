"""The Content screen's sections (the library, keeping assets, requests) and the rating card's "Content for
this lead" panel, for the signed-in person passed in.

Reads are cached per database and content stamp and shared by every viewer; what depends on who is looking
(their own leads, their votes, their ratings) is applied after the cache. Every write goes through
`content_write`, which names the signed-in person (ui.db.act_as) and then clears the content caches.
Titles, notes and reasons come from people: they go out as text (st.text, dataframes, `plain`), never as
markdown or HTML.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import polars as pl
import streamlit as st

from core.content import CONTENT_REASONS, KIND_LABEL, open_requests
from core.content_files import KIND_WORDS, MAX_NOTE, MAX_REASON, MAX_TITLE, ContentFileRefused, check_link
from core.content_match import CONTENT_STAGES, STAGE_LABEL, LeadProfile, content_for_lead, lead_stage
from core.feedback import EDIT_DAYS
from db.content import (
    AssetIn,
    ContentRefused,
    FileIn,
    add_asset,
    archive_asset,
    asset_versions,
    edit_asset,
    file_of_version,
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
from db.content_frames import content_stamp, load_uses
from db.feedback import LeadToRate
from db.models import ContentKind, ContentRequestStatus, User
from db.settings import get_settings
from ui import clock
from ui.auth import CurrentUser
from ui.data import leads, people
from ui.db import Acted, Session, act_as, database_url, engine
from ui.feedback import PICKER_LIMIT, TeamLead, my_team_lead, my_team_leads
from ui.navigation import Role
from ui.widgets import plain, toast_and_rerun

T = TypeVar("T")

STATUS_LABEL: dict[str, str] = {
    "open": "Open",
    "accepted": "Accepted",
    "in_progress": "In progress",
    "done": "Done",
    "declined": "Declined",
}
TRIAGE = (
    ContentRequestStatus.accepted,
    ContentRequestStatus.in_progress,
    ContentRequestStatus.done,
    ContentRequestStatus.declined,
)
UPLOAD_TYPES = ["pdf", "pptx", "docx", "png", "jpg", "jpeg"]
STARS = [1, 2, 3, 4, 5]
REQUESTS_SHOWN = 50  # open requests listed at once, most votes first
CACHE_SECONDS = 300  # the caches are keyed by the content stamp too: a write shows at once
STAMP_SECONDS = 1.0

MANAGERS = (Role.marketer, Role.admin)  # add, edit and archive assets; triage requests
USERS = (Role.rep, Role.sales_manager)  # log use on their own leads and rate it
ASKERS = (Role.rep, Role.sales_manager, Role.admin)  # request content and vote


def manages(user: CurrentUser) -> bool:
    return user.role in MANAGERS


def uses(user: CurrentUser) -> bool:
    return user.role in USERS


def asks(user: CurrentUser) -> bool:
    return user.role in ASKERS


# ---------------------------------------------------------------- reads (shared by every viewer)


# Per database: the last content stamp and when it was read.
_stamps: dict[str, tuple[tuple[object, ...], float]] = {}


def _stamp() -> tuple[object, ...]:
    """The content's data stamp (db.content_frames.content_stamp) the caches are keyed by, asked at most
    once every STAMP_SECONDS: a write through another server or the command line shows by then, one
    through this server at once (forget_content)."""
    url, now = database_url(), time.monotonic()
    known = _stamps.get(url)
    if known is not None and now - known[1] < STAMP_SECONDS:
        return known[0]
    stamp = content_stamp(engine())
    _stamps[url] = (stamp, now)
    return stamp


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _library(url: str, stamp: tuple[object, ...]) -> pl.DataFrame:
    return library(engine(), include_archived=True)


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False, max_entries=5000)
def _lead_content(url: str, stamp: tuple[object, ...], profile: LeadProfile) -> pl.DataFrame:
    # db.content.lead_content's matching (core.content_match) over the shared cached library: the same
    # assets in the same order, without reading the library again for every lead (a quarter of a second
    # at 2,000 assets and 500,000 uses; this is a few milliseconds).
    live = _library(url, stamp).filter(pl.col("archived_at").is_null())
    return content_for_lead(live, profile)


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False)
def _requests(url: str, stamp: tuple[object, ...]) -> pl.DataFrame:
    return requests(engine())


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False, max_entries=500)
def _versions(url: str, stamp: tuple[object, ...], asset_id: int) -> list[Any]:
    return list(asset_versions(engine(), asset_id=asset_id))


@st.cache_resource(ttl=CACHE_SECONDS, show_spinner=False, max_entries=2)
def _uses(url: str, stamp: tuple[object, ...]) -> pl.DataFrame:
    return load_uses(engine())


@dataclass(frozen=True)
class Audiences:
    """The values the leads hold, offered when an asset's audience or a request is described."""

    personas: tuple[str, ...]
    industries: tuple[str, ...]
    sizes: tuple[str, ...]


def _distinct(frame: pl.DataFrame, column: str) -> tuple[str, ...]:
    return tuple(sorted(frame.get_column(column).drop_nulls().unique().cast(pl.String).to_list()))


@st.cache_resource(ttl=300, show_spinner=False)
def _audiences(url: str, rows: int) -> Audiences:
    frame = leads()
    return Audiences(
        _distinct(frame, "persona"), _distinct(frame, "industry"), _distinct(frame, "company_size")
    )


def audiences() -> Audiences:
    frame = leads()
    return _audiences(database_url(), frame.height)


def all_assets() -> pl.DataFrame:
    """Every asset, archived ones too (library's columns), shared by every viewer."""
    return _library(database_url(), _stamp())


def live_assets() -> pl.DataFrame:
    return all_assets().filter(pl.col("archived_at").is_null())


def content_of_lead(lead: LeadToRate) -> pl.DataFrame:
    """The live assets that fit the lead best (as db.content.lead_content), cached per content stamp and
    lead profile: the rating card asks on every rerun."""
    profile = LeadProfile(stage=_stage_of(lead), persona=lead.persona, industry=lead.industry,
                          company_size=lead.company_size)  # fmt: skip
    return _lead_content(database_url(), _stamp(), profile)


def all_requests() -> pl.DataFrame:
    return _requests(database_url(), _stamp())


def forget_content() -> None:
    _stamps.clear()
    for cached in (_library, _lead_content, _requests, _versions, _uses):
        cached.clear()


# ---------------------------------------------------------------- the one write


def content_write(user: CurrentUser, call: Callable[[Session, User, datetime], T]) -> Acted[T]:
    """Do one content write as the signed-in person (`call(session, actor, now)`), then clear the content
    caches; a refusal (the role, the lead's owner, a bad link or file) comes back as `refused`."""
    now = clock.now()
    acted = act_as(
        user.id, lambda session, actor: call(session, actor, now), (ContentRefused, ContentFileRefused)
    )
    if acted.refused is None:
        forget_content()
    return acted


def service(write: Callable[..., T], **given: Any) -> Callable[[Session, User, datetime], T]:
    """`write` (a db.content service) with its own arguments, to run as the signed-in person at `now`."""
    return lambda session, actor, now: write(session=session, actor=actor, now=now, **given)


def shown(acted: Acted[Any], said: str) -> None:
    """A refusal shown as an error; else `said` (our words, never a title) as a toast, and the page runs
    again with the change."""
    if acted.refused is not None:
        st.error(acted.refused, icon=":material/block:")
        return
    toast_and_rerun(said)


def save(user: CurrentUser, said: str, write: Callable[..., Any], **given: Any) -> None:
    """One write through `content_write`, shown."""
    shown(content_write(user, service(write, **given)), said)


# ---------------------------------------------------------------- words


def stars_label(stars: int) -> str:
    return "★" * stars


def kind_label(kind: object) -> str:
    value = str(getattr(kind, "value", kind))
    return KIND_LABEL.get(value, value)


def _listed(values: list[str] | None, names: dict[str, str] | None = None) -> str:
    return ", ".join((names or {}).get(v, v) for v in values or [])


def for_whom(asset: dict[str, Any]) -> str:
    """The audience in one line of text: stages · personas · industries · sizes; "anyone" when open."""
    parts = [
        _listed(asset.get("stages"), STAGE_LABEL),
        _listed(asset.get("personas")),
        _listed(asset.get("industries")),
        _listed(asset.get("company_sizes")),
    ]
    return " · ".join(p for p in parts if p) or "anyone"


def helped_text(share: float | None, rated: int | None) -> str:
    if not rated or share is None:
        return "not rated yet"
    return f"{share:.0%} of {rated:,} rating{'s' if rated != 1 else ''}"


def days_open(days: int) -> str:
    return "open today" if days == 0 else f"open {days:,} day{'s' if days != 1 else ''}"


def safe_link(link: str | None) -> str | None:
    """The link when it is http/https (core.content_files.check_link), else None: it is never shown."""
    if not link:
        return None
    try:
        return check_link(link)
    except ValueError:
        return None


# ---------------------------------------------------------------- the library


@dataclass(frozen=True)
class Search:
    text: str = ""
    kind: str | None = None
    stage: str | None = None
    persona: str | None = None
    industry: str | None = None
    size: str | None = None


def _for(column: str, value: str | None) -> pl.Expr:
    """The asset is for `value` on this list: the list is empty (any) or holds it (any case)."""
    if not value:
        return pl.lit(True)
    lowered = pl.col(column).list.eval(pl.element().str.to_lowercase())
    return (pl.col(column).list.len() == 0) | lowered.list.contains(value.lower())


def _joined(column: str) -> pl.Expr:
    return pl.col(column).list.join(" ").fill_null("")


def search_assets(assets: pl.DataFrame, search: Search) -> pl.DataFrame:
    """The assets that hold every word of the search in their title, description, type or audience, and
    are for the filters' stage, persona, industry and size (an open list is for any)."""
    keep = (
        _for("stages", search.stage)
        & _for("personas", search.persona)
        & _for("industries", search.industry)
        & _for("company_sizes", search.size)
    )
    if search.kind:
        keep = keep & (pl.col("kind").cast(pl.String) == search.kind)
    kind_words = (
        pl.col("kind").cast(pl.String).replace_strict(KIND_LABEL, default=pl.col("kind").cast(pl.String))
    )
    haystack = pl.concat_str(
        [
            pl.col("title"),
            pl.col("description").fill_null(""),
            pl.col("kind").cast(pl.String).str.replace_all("_", " "),
            kind_words,
            _joined("stages"),
            _joined("personas"),
            _joined("industries"),
            _joined("company_sizes"),
        ],
        separator=" ",
    ).str.to_lowercase()
    for word in search.text.lower().split():
        keep = keep & haystack.str.contains(word, literal=True)
    return assets.filter(keep)


def library_rows(assets: pl.DataFrame) -> pl.DataFrame:
    """The library as the table shows it: every column named in words, text as text."""
    rows = assets.to_dicts()
    return pl.DataFrame(
        {
            "Title": [r["title"] for r in rows],
            "Type": [kind_label(r["kind"]) for r in rows],
            "For whom": [for_whom(r) for r in rows],
            "Owner": [r.get("owner") or "—" for r in rows],
            "Last reviewed": [r.get("last_reviewed_on") for r in rows],
            "Uses": [int(r.get("uses") or 0) for r in rows],
            "Helped": [helped_text(r.get("helped_share"), r.get("ratings")) for r in rows],
        },
        schema={
            "Title": pl.String,
            "Type": pl.String,
            "For whom": pl.String,
            "Owner": pl.String,
            "Last reviewed": pl.Date,
            "Uses": pl.Int64,
            "Helped": pl.String,
        },
    )


def _values(assets: pl.DataFrame, column: str) -> list[str]:
    if assets.is_empty():
        return []
    return sorted(assets.get_column(column).explode().drop_nulls().unique().to_list(), key=str.lower)


def _pick(
    where: Any, label: str, options: list[str], key: str, names: dict[str, str] | None = None
) -> str | None:
    return where.selectbox(
        label,
        [None, *options],
        format_func=lambda v: "Any" if v is None else (names or {}).get(v, v),
        key=key,
    )


def library_section(user: CurrentUser) -> None:
    """Search and filter the live assets; open one for its detail (and, for a rep, to log its use)."""
    assets = live_assets()
    if assets.is_empty():
        more = (
            " Add the first one under *Add an asset*."
            if manages(user)
            else (" Marketing adds it; ask for what you need under *Requests*.")
        )
        st.info("The library is empty." + more, icon=":material/library_books:")
        return
    typed = st.text_input(
        "Search",
        placeholder="words of a title, description, type or audience",
        max_chars=200,
        key="lib_search",
    )
    with st.expander("Filters", icon=":material/filter_list:"):
        first, second = st.columns(2)
        kinds = [k.value for k in ContentKind]
        search = Search(
            text=typed,
            kind=_pick(first, "Type", kinds, "lib_kind", KIND_LABEL),
            stage=_pick(second, "Stage", list(CONTENT_STAGES), "lib_stage", STAGE_LABEL),
            persona=_pick(first, "Persona", _values(assets, "personas"), "lib_persona"),
            industry=_pick(second, "Industry", _values(assets, "industries"), "lib_industry"),
            size=_pick(first, "Company size", _values(assets, "company_sizes"), "lib_size"),
        )
    shown = search_assets(assets, search)
    st.caption(f"{shown.height:,} of {assets.height:,} assets")
    if shown.is_empty():
        st.info("Nothing in the library matches.", icon=":material/search_off:")
        if asks(user):
            st.caption("Ask marketing for it under *Requests*.")
        return
    st.dataframe(
        library_rows(shown),
        hide_index=True,
        width="stretch",
        column_config={"Last reviewed": st.column_config.DateColumn(format="YYYY-MM-DD")},
    )
    labels = {int(r["asset_id"]): f"{r['title']} ({kind_label(r['kind'])})" for r in shown.to_dicts()}
    chosen = st.selectbox(
        "Open an asset",
        [None, *labels],
        format_func=lambda i: "—" if i is None else labels[i],
        key="lib_open",
    )
    if chosen is not None:
        asset = shown.filter(pl.col("asset_id") == chosen).row(0, named=True)
        asset_detail(user, asset)


def open_asset(asset: dict[str, Any], key: str) -> None:
    """The asset's link (http/https only) as a link button, or its file as a download served in this
    logged-in session only (the bytes are read when the button is clicked)."""
    link = safe_link(asset.get("link"))
    if link:
        st.link_button("Open the link", link, icon=":material/open_in_new:", width="stretch")
    elif asset.get("link"):
        st.caption("Its link is not an http or https address, so it is not offered.")
    filename = asset.get("filename")
    if filename:
        st.download_button(
            f"Download the {KIND_WORDS.get(asset.get('media_type') or '', 'file')}",
            data=file_reader(int(asset["asset_id"])),
            file_name=filename,
            mime=asset.get("media_type") or "application/octet-stream",
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
            key=f"{key}_download",
        )


def file_reader(asset_id: int) -> Callable[[], bytes]:
    """The bytes of the asset's newest file, read when the download is clicked (on another thread: the
    engine is taken now)."""
    current = engine()

    def read() -> bytes:
        versions = list(asset_versions(current, asset_id=asset_id))
        newest = max(versions, key=lambda v: v.version) if versions else None
        stored = file_of_version(current, version_id=newest.id) if newest is not None else None
        return stored.data if stored is not None else b""

    return read


def asset_detail(user: CurrentUser, asset: dict[str, Any]) -> None:
    asset_id = int(asset["asset_id"])
    key = f"asset_{asset_id}"
    with st.container(border=True):
        st.subheader(plain(asset["title"]))
        reviewed = asset.get("last_reviewed_on")
        st.caption(
            f"{kind_label(asset['kind'])} · version {asset.get('current_version') or 1} · last reviewed "
            + (f"{reviewed:%b %d, %Y}" if reviewed else "never")
        )
        if asset.get("owner"):
            st.text(f"Owner: {asset['owner']}")
        if asset.get("description"):
            st.text(asset["description"])
        st.markdown("**For whom**")
        st.text(for_whom(asset))
        helped = helped_text(asset.get("helped_share"), asset.get("ratings"))
        st.text(f"Used {int(asset.get('uses') or 0):,} times · helped: {helped}")
        open_asset(asset, key)
        versions_history(asset_id)
        used_by(asset_id)
        if uses(user):
            use_on_a_lead(user, asset_id, key)
        if manages(user):
            keep_asset(user, asset, key)


def versions_history(asset_id: int) -> None:
    versions = _versions(database_url(), _stamp(), asset_id)
    if len(versions) < 2:
        return
    with st.expander(f"Versions ({len(versions):,})", icon=":material/history:"):
        st.dataframe(
            pl.DataFrame(
                {
                    "Version": [v.version for v in versions],
                    "Link or file": [v.link or v.filename or "" for v in versions],
                    "By": [v.created_by or "—" for v in versions],
                    "On": [v.created_at for v in versions],
                },
                schema={
                    "Version": pl.Int64,
                    "Link or file": pl.String,
                    "By": pl.String,
                    "On": pl.Datetime("us"),
                },
            ),
            hide_index=True,
            width="stretch",
            column_config={"On": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        )


def used_by_rows(uses: pl.DataFrame, people: pl.DataFrame, asset_id: int) -> pl.DataFrame:
    """Who used the asset: each person with the leads they used it on and when they last did."""
    names = people.select(pl.col("user_id"), pl.col("name").alias("Who"))
    return (
        uses.filter(pl.col("asset_id") == asset_id)
        .group_by("user_id")
        .agg(pl.col("lead_id").n_unique().alias("Leads"), pl.col("used_at").max().alias("Last used"))
        .join(names, on="user_id", how="left")
        .with_columns(pl.col("Who").fill_null("someone no longer here"))
        .sort(["Last used", "Who"], descending=[True, False])
        .select("Who", "Leads", "Last used")
    )


def used_by(asset_id: int) -> None:
    rows = used_by_rows(_uses(database_url(), _stamp()), people(), asset_id)
    if rows.is_empty():
        st.caption("Nobody has logged a use of it yet.")
        return
    with st.expander(f"Who used it ({rows.height:,})", icon=":material/group:"):
        last = st.column_config.DatetimeColumn(format="YYYY-MM-DD")
        st.dataframe(rows, hide_index=True, width="stretch", column_config={"Last used": last})


# ---------------------------------------------------------------- used on a lead, and did it help


def _lead_label(lead: TeamLead) -> str:
    parts = (lead.external_id, lead.company, lead.owner, f"MQL {lead.mql_at:%b %d, %Y}")
    return " · ".join(p for p in parts if p)


def pick_my_lead(user: CurrentUser, key: str, label: str = "Lead") -> int | None:
    """One of the signed-in rep's MQLs (a manager: their team's), newest first; typing narrows them."""
    typed = st.text_input("Lead id", placeholder="part of a lead id", max_chars=120, key=f"{key}_search")
    total, found = my_team_leads(user, typed, False)
    if not found:
        st.caption("No MQL of yours matches." if user.role == Role.rep else "No MQL of your team matches.")
        return None
    labels = {lead.id: _lead_label(lead) for lead in found}
    chosen = st.selectbox(
        label, [None, *labels], format_func=lambda i: "—" if i is None else labels[i], key=f"{key}_lead"
    )
    if total > len(found):
        st.caption(f"The newest {PICKER_LIMIT:,} of {total:,}: type part of a lead id to find an older one.")
    return chosen


def use_on_a_lead(user: CurrentUser, asset_id: int, key: str) -> None:
    st.markdown("**Used it on a lead?**")
    lead_id = pick_my_lead(user, f"{key}_use", "On which lead")
    if lead_id is not None:
        lead_use(user, asset_id, lead_id, f"{key}_{lead_id}")


def _mine(user: CurrentUser, lead_id: int) -> dict[int, dict[str, Any]]:
    """The assets this person used on the lead, with their rating if any, by asset id."""
    frame = my_content_on_lead(engine(), user_id=user.id, lead_id=lead_id)
    return {int(r["asset_id"]): r for r in frame.to_dicts()}


def lead_use(
    user: CurrentUser,
    asset_id: int,
    lead_id: int,
    key: str,
    mine: dict[str, Any] | None = None,
    *,
    looked_up: bool = False,
) -> None:
    """One click logs the use; once used, the helped? rating (changeable for EDIT_DAYS days)."""
    used = mine if looked_up else _mine(user, lead_id).get(asset_id)
    if used is None:
        if st.button("Used on this lead", icon=":material/check_circle:", key=f"{key}_used", width="stretch"):
            save(user, "Logged: used on this lead", log_use, asset_id=asset_id, lead_id=lead_id)
        return
    used_at = used.get("used_at")
    st.caption(
        f"You used it on this lead on {used_at:%b %d, %Y}." if used_at else "You used it on this lead."
    )
    stars = used.get("stars")
    rated_at = used.get("rated_at")
    if (
        stars is not None
        and rated_at is not None
        and clock.now().replace(tzinfo=None) - _naive(rated_at) > timedelta(days=EDIT_DAYS)
    ):
        st.text(f"Your rating: {stars_label(int(stars))} (it can no longer be changed)")
        return
    helped_form(user, asset_id, lead_id, key, used)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def helped_form(user: CurrentUser, asset_id: int, lead_id: int, key: str, used: dict[str, Any]) -> None:
    stars = used.get("stars")
    with st.form(key=f"{key}_helped", border=False):
        picked = st.segmented_control(
            "Did it help?",
            STARS,
            format_func=stars_label,
            default=int(stars) if stars else None,
            key=f"{key}_stars",
        )
        why = st.pills(
            "Why",
            list(CONTENT_REASONS),
            format_func=CONTENT_REASONS.__getitem__,
            selection_mode="multi",
            default=[r for r in used.get("reasons") or [] if r in CONTENT_REASONS],
            key=f"{key}_reasons",
        )
        note = st.text_area(
            "Note (optional)", value=used.get("note") or "", max_chars=MAX_NOTE, height=80, key=f"{key}_note"
        )
        label = "Save the change" if stars else "Save the rating"
        sent = st.form_submit_button(
            label, type="primary", icon=":material/send:", width="stretch", key=f"{key}_save"
        )
    if stars:
        st.caption(f"A rating can be changed for {EDIT_DAYS} days; every change is kept.")
    if not sent:
        return
    if picked is None:
        st.warning("Pick 1 to 5 stars first.", icon=":material/star:")
        return
    text = note.strip() or None
    save(
        user,
        f"Rated {stars_label(int(picked))}",
        rate_asset,
        asset_id=asset_id,
        lead_id=lead_id,
        stars=int(picked),
        reasons=tuple(why or ()),
        note=text,
    )


# ---------------------------------------------------------------- "content for this lead" (the rating card)


def _stage_of(lead: LeadToRate) -> str:
    """The furthest stage the lead reached (core.content_match.lead_stage), from the shared leads frame."""
    row = leads().filter(pl.col("id") == lead.id)
    if row.is_empty():
        return "mql"
    found = row.row(0, named=True)
    return lead_stage(mql_at=found["mql_at"], sql_at=found["sql_at"], opportunity_at=found["opportunity_at"],
                      closed_at=found["closed_at"])  # fmt: skip


def why_it_fits(asset: dict[str, Any], lead: LeadToRate) -> str:
    """Why a matched asset fits the lead: each audience list it names (and so holds the lead's value)."""
    named = [
        ("stage", _listed(asset.get("stages"), STAGE_LABEL)),
        ("persona", lead.persona if asset.get("personas") else ""),
        ("industry", lead.industry if asset.get("industries") else ""),
        ("company size", lead.company_size if asset.get("company_sizes") else ""),
    ]
    fits = [f"{what} ({value})" for what, value in named if value]
    return "fits the lead's " + ", ".join(fits) if fits else "for any lead"


def content_panel(user: CurrentUser, lead: LeadToRate, key: str, *, expanded: bool = False) -> None:
    """The assets that match the lead (why each matches), each to open, log as used and rate; or, when
    nothing matches, a request to marketing prefilled with the lead's persona, stage and industry."""
    matches = content_of_lead(lead)
    label = f"Content for this lead ({matches.height:,})" if matches.height else "Content for this lead"
    with st.expander(label, icon=":material/library_books:", expanded=expanded):
        mine = _mine(user, lead.id) if matches.height else {}
        for row in matches.to_dicts():
            asset_id = int(row["asset_id"])
            with st.container(border=True):
                st.markdown(f"**{plain(row['title'])}**")
                st.caption(plain(f"{kind_label(row['kind'])} · {why_it_fits(row, lead)}"))
                open_asset(row, f"{key}_c{asset_id}")
                lead_use(user, asset_id, lead.id, f"{key}_c{asset_id}", mine.get(asset_id), looked_up=True)
        asking = f"{key}_asking"
        ask = (
            "Nothing matches this lead: ask marketing"
            if matches.is_empty()
            else "Missing something? Ask marketing"
        )
        if st.button(ask, icon=":material/forum:", key=f"{key}_ask", width="stretch"):
            st.session_state[asking] = True
        if st.session_state.get(asking):
            prefill = Prefill(lead.persona, _stage_of(lead), lead.industry, lead.id)
            request_form(user, f"{key}_req", prefill, closes=asking)


def my_lead_section(user: CurrentUser) -> None:
    """A rep or manager picks one of their leads and sees the content that fits it."""
    st.caption("Pick one of your MQLs to see the content that fits its stage, persona, industry and size.")
    lead_id = pick_my_lead(user, "forlead")
    if lead_id is None:
        return
    lead, _ = my_team_lead(user, lead_id)
    if lead is None:
        st.warning("That lead is no longer an MQL of yours.", icon=":material/search_off:")
        return
    content_panel(user, lead, f"forlead_{lead_id}", expanded=True)


# ---------------------------------------------------------------- marketing keeps the library


def _owners() -> dict[int, str]:
    frame = people()
    return {int(r["user_id"]): r["name"] for r in frame.sort("name").to_dicts()}


def _options(seen: tuple[str, ...], chosen: list[str]) -> list[str]:
    return sorted({*seen, *chosen}, key=str.lower)


def audience_fields(key: str, asset: dict[str, Any] | None = None) -> dict[str, Any]:
    """Title, type, description, audience, owner and review date, prefilled from `asset` when editing."""
    given = asset or {}
    seen = audiences()
    owners = _owners()
    kinds = [k.value for k in ContentKind]
    kind = str(given.get("kind") or ContentKind.case_study.value)
    owner = given.get("owner_id")
    fields: dict[str, Any] = {
        "title": st.text_input(
            "Title", value=given.get("title") or "", max_chars=MAX_TITLE, key=f"{key}_title"
        ),
        "kind": st.selectbox(
            "Type", kinds, index=kinds.index(kind), format_func=KIND_LABEL.__getitem__, key=f"{key}_kind"
        ),
        "description": st.text_area(
            "Description",
            value=given.get("description") or "",
            max_chars=MAX_NOTE,
            height=80,
            key=f"{key}_description",
        ),
    }
    st.caption("Leave a list empty when the asset is for any value of it.")
    fields["stages"] = st.multiselect(
        "Stages",
        list(CONTENT_STAGES),
        default=list(given.get("stages") or []),
        format_func=STAGE_LABEL.__getitem__,
        key=f"{key}_stages",
    )
    for name, label, offered in (
        ("personas", "Personas", seen.personas),
        ("industries", "Industries", seen.industries),
        ("company_sizes", "Company sizes", seen.sizes),
    ):
        chosen = list(given.get(name) or [])
        fields[name] = st.multiselect(
            label, _options(offered, chosen), default=chosen, accept_new_options=True, key=f"{key}_{name}"
        )
    ids = [None, *owners]
    fields["owner_id"] = st.selectbox(
        "Owner",
        ids,
        index=ids.index(owner) if owner in owners else 0,
        format_func=lambda i: "—" if i is None else owners[i],
        key=f"{key}_owner",
    )
    reviewed = given.get("last_reviewed_on")
    fields["last_reviewed_on"] = st.date_input(
        "Last reviewed",
        value=reviewed if asset else clock.today(),
        max_value=clock.today(),
        key=f"{key}_reviewed",
    )
    return fields


def asset_in(fields: dict[str, Any]) -> AssetIn:
    reviewed = fields["last_reviewed_on"]
    return AssetIn(
        title=str(fields["title"]).strip(),
        kind=ContentKind(fields["kind"]),
        description=str(fields["description"]).strip() or None,
        stages=tuple(fields["stages"]),
        personas=tuple(str(v).strip() for v in fields["personas"]),
        industries=tuple(str(v).strip() for v in fields["industries"]),
        company_sizes=tuple(str(v).strip() for v in fields["company_sizes"]),
        owner_id=fields["owner_id"],
        last_reviewed_on=reviewed if isinstance(reviewed, date) else None,
    )


def link_or_file(key: str) -> tuple[str | None, Any]:
    max_mb = get_settings().huddle_content_max_mb
    link = st.text_input("Link (http or https)", max_chars=2000, key=f"{key}_link", placeholder="https://…")
    upload = st.file_uploader(
        f"Or a file (PDF, PowerPoint, Word, PNG or JPEG; at most {max_mb:g} MB)",
        type=UPLOAD_TYPES,
        key=f"{key}_file",
        max_upload_size=max(1, math.ceil(max_mb)),
    )
    return link.strip() or None, upload


def _file_in(upload: Any) -> FileIn | None:
    return None if upload is None else FileIn(filename=upload.name, data=upload.getvalue())


def _generation(key: str) -> int:
    return int(st.session_state.get(f"{key}_generation", 0))


def _next_generation(key: str) -> None:
    st.session_state[f"{key}_generation"] = _generation(key) + 1


def add_asset_section(user: CurrentUser) -> None:
    """Marketing adds an asset: what it is, whom it is for, and its link or file."""
    if not manages(user):
        return
    key = f"add{_generation('add')}"
    with st.form(key=key, border=False):
        fields = audience_fields(key)
        link, upload = link_or_file(key)
        sent = st.form_submit_button(
            "Add the asset", type="primary", icon=":material/add:", width="stretch", key=f"{key}_save"
        )
    if not sent:
        return
    asset, file = asset_in(fields), _file_in(upload)
    acted = content_write(user, service(add_asset, asset=asset, link=link, file=file))
    if acted.refused is None:
        _next_generation("add")
    shown(acted, "Asset added")


def keep_asset(user: CurrentUser, asset: dict[str, Any], key: str) -> None:
    """Edit, replace the link or file (a new version), mark reviewed, archive (after a confirmation)."""
    asset_id = int(asset["asset_id"])
    with st.expander("Edit", icon=":material/edit:"):
        with st.form(key=f"{key}_edit", border=False):
            fields = audience_fields(f"{key}_edit", asset)
            sent = st.form_submit_button(
                "Save the changes", type="primary", width="stretch", key=f"{key}_edit_save"
            )
        if sent:
            changed = asset_in(fields)
            save(user, "Asset saved", edit_asset, asset_id=asset_id, asset=changed)
    with st.expander("Replace the link or file", icon=":material/upload:"):
        st.caption("The new link or file becomes the next version; the earlier ones stay in the history.")
        with st.form(key=f"{key}_replace", border=False):
            link, upload = link_or_file(f"{key}_replace")
            sent = st.form_submit_button(
                "Save as a new version", type="primary", width="stretch", key=f"{key}_replace_save"
            )
        if sent:
            file = _file_in(upload)
            save(user, "New version saved", replace_content, asset_id=asset_id, link=link, file=file)
    review, archive = st.columns(2)
    if review.button("Mark reviewed today", icon=":material/verified:", key=f"{key}_review", width="stretch"):
        today = clock.today()
        save(user, "Marked reviewed", mark_reviewed, asset_id=asset_id, on=today)
    confirming = f"{key}_archiving"
    if archive.button("Archive", icon=":material/archive:", key=f"{key}_archive", width="stretch"):
        st.session_state[confirming] = True
    if st.session_state.get(confirming):
        st.warning(
            "Archive this asset? It leaves the library; its uses and ratings keep their history.",
            icon=":material/archive:",
        )
        yes, no = st.columns(2)
        if no.button("Keep it", key=f"{key}_keep", width="stretch"):
            st.session_state.pop(confirming, None)
            st.rerun()
        if yes.button("Yes, archive it", type="primary", key=f"{key}_confirm", width="stretch"):
            st.session_state.pop(confirming, None)
            save(user, "Asset archived", archive_asset, asset_id=asset_id)


def archived_section(user: CurrentUser) -> None:
    if not manages(user):
        return
    archived = all_assets().filter(pl.col("archived_at").is_not_null())
    if archived.is_empty():
        return
    with st.expander(f"Archived assets ({archived.height:,})", icon=":material/inventory_2:"):
        st.dataframe(
            library_rows(archived),
            hide_index=True,
            width="stretch",
            column_config={"Last reviewed": st.column_config.DateColumn(format="YYYY-MM-DD")},
        )


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class Prefill:
    persona: str | None = None
    stage: str | None = None
    industry: str | None = None
    lead_id: int | None = None


def _choice(
    label: str,
    offered: tuple[str, ...] | list[str],
    given: str | None,
    key: str,
    names: dict[str, str] | None = None,
) -> str | None:
    options = [None, *sorted({*offered, *([given] if given else [])}, key=str.lower)]
    return st.selectbox(
        label,
        options,
        index=options.index(given) if given in options else 0,
        format_func=lambda v: "Any" if v is None else (names or {}).get(v, v),
        key=key,
        accept_new_options=names is None,
    )


def request_form(
    user: CurrentUser, key: str, prefill: Prefill | None = None, closes: str | None = None
) -> None:
    """Ask marketing for missing content: what, its type, for which persona, stage and industry, and
    optionally the deal it is for (`prefill`, from a lead's card). `closes`: the session flag that opened
    the form, dropped once the request is sent."""
    if not asks(user):
        st.caption("Your role reads requests; reps, sales managers and admins make them.")
        return
    given = prefill or Prefill()
    seen = audiences()
    form_key = f"{key}{_generation(key)}"
    with st.form(key=form_key, border=True):
        what = st.text_input(
            "What is missing",
            max_chars=MAX_TITLE,
            key=f"{form_key}_what",
            placeholder="e.g. a battle card against the market leader",
        )
        detail = st.text_area("Details (optional)", max_chars=MAX_NOTE, height=80, key=f"{form_key}_detail")
        kinds = [None, *(k.value for k in ContentKind)]
        kind = st.selectbox(
            "Type", kinds, format_func=lambda v: "Any" if v is None else KIND_LABEL[v], key=f"{form_key}_kind"
        )
        persona = _choice("Persona", seen.personas, given.persona, f"{form_key}_persona")
        stage = _choice("Stage", list(CONTENT_STAGES), given.stage, f"{form_key}_stage", STAGE_LABEL)
        industry = _choice("Industry", seen.industries, given.industry, f"{form_key}_industry")
        lead_id = given.lead_id
        if lead_id is not None:
            st.caption("For the lead on this card.")
        elif uses(user):
            lead_id = _deal_choice(user, f"{form_key}_lead")
        sent = st.form_submit_button(
            "Send the request",
            type="primary",
            icon=":material/send:",
            width="stretch",
            key=f"{form_key}_save",
        )
    if not sent:
        return
    asked = service(request_content, what=what.strip(), detail=detail.strip() or None,
                    kind=ContentKind(kind) if kind else None, persona=persona, stage=stage, industry=industry,
                    lead_id=lead_id)  # fmt: skip
    acted = content_write(user, asked)
    if acted.refused is None:
        _next_generation(key)
        if closes:
            st.session_state.pop(closes, None)
    shown(acted, "Request sent to marketing")


def _deal_choice(user: CurrentUser, key: str) -> int | None:
    """Optionally one of the asker's MQLs (a manager: the team's), the newest first."""
    _, found = my_team_leads(user, "", False)
    labels = {lead.id: _lead_label(lead) for lead in found}
    return st.selectbox("For one of your deals (optional)", [None, *labels],
                        format_func=lambda i: "—" if i is None else labels[i], key=key)  # fmt: skip


def _viewer_columns(frame: pl.DataFrame, user: CurrentUser) -> pl.DataFrame:
    """Who is looking, applied after the shared cache: whether they voted, whether it is theirs."""
    return frame.with_columns(
        pl.col("voter_ids").list.contains(user.id).fill_null(False).alias("i_voted"),
        (pl.col("requested_by_id") == user.id).alias("mine"),
    )


def requests_section(user: CurrentUser) -> None:
    if asks(user):
        with st.expander("Ask marketing for content", icon=":material/add_comment:"):
            request_form(user, "ask")
    everything = _viewer_columns(all_requests(), user)
    answers_to_me(user, everything)
    waiting = open_requests(everything, today=clock.today())
    st.subheader(f"Open requests ({waiting.height:,})")
    if waiting.is_empty():
        st.caption("Nothing is waiting for marketing.")
        return
    st.caption("Most votes first; the age counts from the day it was asked.")
    for row in waiting.head(REQUESTS_SHOWN).to_dicts():
        request_card(user, row)
    if waiting.height > REQUESTS_SHOWN:
        st.caption(f"The {REQUESTS_SHOWN:,} with the most votes of {waiting.height:,}.")


def _request_line(row: dict[str, Any]) -> str:
    parts = [
        kind_label(row["kind"]) if row.get("kind") else None,
        row.get("persona"),
        STAGE_LABEL.get(row.get("stage") or "", row.get("stage")),
        row.get("industry"),
    ]
    return " · ".join(str(p) for p in parts if p) or "any type, persona, stage and industry"


def request_card(user: CurrentUser, row: dict[str, Any]) -> None:
    request_id = int(row["request_id"])
    key = f"req_{request_id}"
    with st.container(border=True):
        st.markdown(f"**{plain(row['what'])}**")
        votes = int(row.get("votes") or 0)
        status = STATUS_LABEL.get(str(row["status"]), str(row["status"]))
        st.caption(
            f"{status} · {days_open(int(row['age_days']))} · {votes:,} vote{'s' if votes != 1 else ''}"
        )
        lines = [
            _request_line(row),
            row.get("detail"),
            f"Asked by {row.get('requested_by') or 'someone'}",
            f"Marketing: {row['answer_reason']}" if row.get("answer_reason") else None,
        ]
        st.text("\n".join(line for line in lines if line))
        if asks(user) and not row["mine"]:
            vote_button(user, request_id, bool(row["i_voted"]), key)
        if manages(user):
            triage_form(user, row, key)


def vote_button(user: CurrentUser, request_id: int, voted: bool, key: str) -> None:
    if voted:
        if st.button(
            "Remove my vote", icon=":material/thumb_down_off_alt:", key=f"{key}_unvote", width="stretch"
        ):
            save(user, "Vote removed", unvote_request, request_id=request_id)
    elif st.button("Vote for it", icon=":material/thumb_up:", key=f"{key}_vote", width="stretch"):
        save(user, "Voted", vote_request, request_id=request_id)


def triage_form(user: CurrentUser, row: dict[str, Any], key: str) -> None:
    request_id = int(row["request_id"])
    with st.expander("Answer", icon=":material/reply:"), st.form(key=f"{key}_triage", border=False):
        status = st.selectbox(
            "Status", [s.value for s in TRIAGE], format_func=STATUS_LABEL.__getitem__, key=f"{key}_status"
        )
        reason = st.text_input(
            "Reason or note (a decline needs one)", max_chars=MAX_REASON, key=f"{key}_reason"
        )
        assets = live_assets().sort("updated_at", descending=True)
        labels = {int(r["asset_id"]): f"{r['title']} ({kind_label(r['kind'])})" for r in assets.to_dicts()}
        asset_id = st.selectbox(
            "The asset that answers it (when done)",
            [None, *labels],
            format_func=lambda i: "—" if i is None else labels[i],
            key=f"{key}_asset",
        )
        sent = st.form_submit_button("Save the answer", type="primary", width="stretch", key=f"{key}_save")
    if sent:
        text = reason.strip() or None
        save(
            user,
            "Answer saved",
            triage_request,
            request_id=request_id,
            status=ContentRequestStatus(status),
            reason=text,
            asset_id=asset_id,
        )


def answers_to_me(user: CurrentUser, everything: pl.DataFrame) -> None:
    """The answered requests this person asked for or voted for: the status, the reason, the new asset."""
    answered = everything.filter(
        (pl.col("mine") | pl.col("i_voted")) & pl.col("answered_at").is_not_null()
    ).sort("answered_at", descending=True)
    if answered.is_empty():
        return
    st.subheader("Answers to your requests")
    assets = {int(r["asset_id"]): r for r in all_assets().to_dicts()}
    for row in answered.to_dicts():
        with st.container(border=True):
            st.markdown(f"**{plain(row['what'])}**")
            status = STATUS_LABEL.get(str(row["status"]), str(row["status"]))
            by = f" by {row['answered_by']}" if row.get("answered_by") else ""
            st.caption(f"{status} on {row['answered_at']:%b %d, %Y}")
            st.text(f"{status}{by}" + (f": {row['answer_reason']}" if row.get("answer_reason") else ""))
            answer = assets.get(int(row["answer_asset_id"])) if row.get("answer_asset_id") else None
            if answer is not None:
                st.text(f"The new asset: {answer['title']} ({kind_label(answer['kind'])})")
                open_asset(answer, f"answer_{row['request_id']}")
