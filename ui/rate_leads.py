"""The Rate my leads screen's sections, for the signed-in rep or manager passed in: the SLA line, the next
lead inside the rating window with its rating form (or why there is none), a manager's pick of any lead of
the team, and the ratings they may still change."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.feedback import EDIT_DAYS, REASONS
from core.sla import Terms
from ui import clock
from ui.auth import CurrentUser
from ui.feedback import (
    PICKER_LIMIT,
    LeadToRate,
    Queue,
    RatingIn,
    TeamLead,
    my_queue,
    my_recent_ratings,
    my_sla_status,
    my_team_lead,
    my_team_leads,
    submit_rating,
)
from ui.navigation import Role
from ui.widgets import percent, plain

STARS = [1, 2, 3, 4, 5]


def stars_label(stars: int) -> str:
    return "★" * stars


def waited(since: datetime, now: datetime | None = None) -> str:
    """How long a lead has waited, in hours up to three days, then in days."""
    start = since if since.tzinfo else since.replace(tzinfo=UTC)
    hours = ((now or clock.now()) - start).total_seconds() / 3600
    return f"{hours:,.0f} hours" if hours < 72 else f"{hours / 24:,.0f} days"


def sla_status(user: CurrentUser) -> None:
    """One line a rep reads on a phone: what is overdue now, and how the last 30 days went."""
    status = my_sla_status(user)
    overdue = (
        f":red[**{status.overdue:,} MQLs waited past the agreed hours untouched**]"
        if status.overdue
        else ":green[**Nothing overdue**]"
    )
    within, rated = status.within, status.coverage
    parts = [
        overdue,
        f"followed up in time: {percent(within.value)} ({within.num:,} of {within.den:,})",
        f"rated in time: {percent(rated.value)} ({rated.num:,} of {rated.den:,})",
    ]
    st.markdown(" · ".join(parts))
    st.caption(f"Your SLA over the last {status.days} days (working hours, Monday to Friday).")


def window_sentence(terms: Terms) -> str:
    """What the queue holds, in the agreement's words."""
    return (
        f"The queue holds the MQLs of the last {terms.rating_window_days:,} days: the "
        f"{terms.rating_days:,} days the SLA gives to rate them plus {terms.rating_grace_days:,} days' grace."
    )


def nothing_waiting(queue: Queue) -> None:
    """The empty queue: why nothing is left to rate, and how many MQLs left the queue unrated."""
    if not queue.missed:
        st.success("Nothing waiting: every MQL you own has your rating.", icon=":material/done_all:")
        return
    terms = queue.terms
    st.info(
        f"Nothing to rate inside the rating window. {queue.missed:,} MQLs left the queue unrated: they "
        f"became MQL more than {terms.rating_window_days:,} days ago ({terms.rating_days:,} days to rate "
        f"plus {terms.rating_grace_days:,} days' grace) and count as missed on Rating coverage.",
        icon=":material/event_busy:",
    )


def next_lead(user: CurrentUser) -> None:
    """The longest-waiting MQL inside the rating window without this person's rating, and its form; or
    why nothing waits."""
    queue = my_queue(user)
    if not queue.leads:
        nothing_waiting(queue)
        return
    st.markdown(f"**{queue.waiting:,} MQLs** wait for your rating, the longest-waiting first.")
    left = (
        f" {queue.missed:,} older MQLs left the queue unrated: they count as missed on Rating coverage."
        if queue.missed
        else ""
    )
    st.caption(window_sentence(queue.terms) + left)
    lead = queue.leads[0]
    with st.container(border=True):
        lead_card(lead)
        rating_form(user, lead.id, f"rate_{lead.id}")


def _pick_label(lead: TeamLead) -> str:
    parts = (lead.external_id, lead.company, lead.owner, f"MQL {lead.mql_at:%b %d, %Y}")
    return " · ".join(p for p in parts if p)


def any_team_lead(user: CurrentUser) -> None:
    """A sales manager opens any MQL of their team to rate it, also one that left the queue."""
    if user.role != Role.sales_manager:
        return
    st.subheader("Rate any lead of your team")
    st.caption("Any MQL of your team's reps, newest first, also the ones that left the queue.")
    search, unrated = st.columns([2, 1], vertical_alignment="bottom")
    typed = search.text_input("Lead id", placeholder="part of a lead id", max_chars=120, key="pick_search")
    only_unrated = unrated.toggle("Only leads I have not rated", value=True, key="pick_unrated")
    total, found = my_team_leads(user, typed, only_unrated)
    if not found:
        st.caption("No MQL of your team matches.")
        return
    labels = {lead.id: _pick_label(lead) for lead in found}
    chosen = st.selectbox(
        "Lead", [None, *labels], format_func=lambda i: "—" if i is None else labels[i], key="pick_lead"
    )
    if total > len(found):
        st.caption(f"The newest {PICKER_LIMIT:,} of {total:,}: type part of a lead id to find an older one.")
    if chosen is not None:
        picked_lead(user, chosen)


def picked_lead(user: CurrentUser, lead_id: int) -> None:
    lead, mine = my_team_lead(user, lead_id)
    if lead is None:
        st.warning("That lead is no longer an MQL of your team.", icon=":material/search_off:")
        return
    with st.container(border=True):
        lead_card(lead)
        if mine is None:
            rating_form(user, lead.id, f"pick_{lead.id}", button="Save the rating")
            return
        st.caption(
            f"You rated it {stars_label(mine.stars)} on {mine.first_rated_at:%b %d, %Y}; a rating can be "
            f"changed for {EDIT_DAYS} days."
        )
        rating_form(user, lead.id, f"pick_{lead.id}", mine.stars, mine.reasons, mine.note,
                    "Save the change")  # fmt: skip


def lead_card(lead: LeadToRate) -> None:
    name = lead.attributes.get("company") or lead.attributes.get("company_name") or f"Lead {lead.external_id}"
    st.subheader(plain(name))
    owner = f" · owned by {plain(lead.owner)}" if lead.owner else ""
    st.caption(f"MQL since {lead.mql_at:%b %d, %Y %H:%M} UTC ({waited(lead.mql_at)} ago){owner}")
    # Labels are ours (markdown); values come from the CRM, so they go out as plain text.
    for label, values in (
        ("Came from", (lead.source, lead.campaign, lead.landing_page)),
        ("Company and person", (lead.industry, lead.company_size, lead.country, lead.persona)),
    ):
        st.markdown(f"**{label}**")
        st.text(" · ".join(v for v in values if v) or "not recorded")
    st.markdown("**Engagement**")
    counts = (
        (lead.page_views, "page views"),
        (lead.email_clicks, "email clicks"),
        (lead.content_downloads, "downloads"),
    )
    st.text(" · ".join(f"{n} {what}" for n, what in counts))
    if lead.why:
        with st.expander(f"Why an MQL: {lead.score} points, {lead.threshold} needed", expanded=False):
            for sentence in lead.why:
                st.text(f"• {sentence}")
    elif lead.score is None:
        st.caption("Marked MQL by the import, not by the criteria.")


def rating_form(user: CurrentUser, lead_id: int, key: str, stars: int | None = None,
                reasons: tuple[str, ...] = (), note: str | None = None,
                button: str = "Submit and next") -> None:  # fmt: skip
    # Not cleared on submit: a double click then sends the same rating twice, which the service takes once;
    # the next lead gets a form of its own (the key holds the lead id).
    with st.form(key=key, border=False):
        picked = st.segmented_control(
            "How good is this lead?", STARS, format_func=stars_label, default=stars, key=f"{key}_stars"
        )
        why = st.pills("Why", list(REASONS), format_func=REASONS.__getitem__, selection_mode="multi",
                       default=list(reasons), key=f"{key}_reasons")  # fmt: skip
        text = st.text_area("Note (optional)", value=note or "", max_chars=2000, key=f"{key}_note", height=80)
        sent = st.form_submit_button(button, type="primary", icon=":material/send:", width="stretch")
    if not sent:
        return
    if picked is None:
        st.warning("Pick 1 to 5 stars first.", icon=":material/star:")
        return
    problem = submit_rating(user, RatingIn(lead_id, int(picked), tuple(why or ()), text))
    if problem:
        st.error(problem, icon=":material/block:")
        return
    st.toast(f"Rated {stars_label(int(picked))}", icon=":material/check:")
    st.rerun()


def recent_section(user: CurrentUser) -> None:
    recent = my_recent_ratings(user)
    if not recent:
        return
    st.subheader(f"Your ratings of the last {EDIT_DAYS} days")
    st.caption(f"A rating can be changed for {EDIT_DAYS} days; every change is kept in its history.")
    labels = {
        r.lead_id: f"{r.external_id}: {stars_label(r.stars)} ({r.first_rated_at:%b %d})" for r in recent
    }
    chosen = st.selectbox(
        "Change a rating",
        [None, *labels],
        format_func=lambda i: "—" if i is None else labels[i],
        key="change_pick",
    )
    if chosen is not None:
        old = next(r for r in recent if r.lead_id == chosen)
        rating_form(user, old.lead_id, f"change_{old.lead_id}", old.stars, old.reasons, old.note,
                    "Save the change")  # fmt: skip
