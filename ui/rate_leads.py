"""The Rate my leads screen's sections, for the signed-in rep or manager passed in: the SLA line, the next
lead with its rating form, and the ratings they may still change."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.feedback import EDIT_DAYS, REASONS
from ui.auth import CurrentUser
from ui.feedback import LeadToRate, RatingIn, my_queue, my_recent_ratings, my_sla_status, submit_rating
from ui.widgets import percent, plain

STARS = [1, 2, 3, 4, 5]


def stars_label(stars: int) -> str:
    return "★" * stars


def waited(since: datetime, now: datetime | None = None) -> str:
    """How long a lead has waited, in hours up to three days, then in days."""
    start = since if since.tzinfo else since.replace(tzinfo=UTC)
    hours = ((now or datetime.now(UTC)) - start).total_seconds() / 3600
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


def next_lead(user: CurrentUser) -> None:
    """The longest-waiting MQL without this person's rating, and its form; or that nothing waits."""
    queue = my_queue(user)
    if not queue.leads:
        st.success("Nothing waiting: every MQL you own has your rating.", icon=":material/done_all:")
        return
    st.markdown(f"**{queue.waiting:,} MQLs** wait for your rating, the longest-waiting first.")
    lead = queue.leads[0]
    with st.container(border=True):
        lead_card(lead)
        rating_form(user, lead.id, f"rate_{lead.id}")


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
