"""The Rate my leads screen's sections, for the signed-in rep or manager passed in: the SLA line, the lead
a link names (`?lead=<id>`, an alert's link), the next lead inside the rating window with its rating form
and the handoff answers beside it (or why there is none) with the sales content that fits it, a manager's
pick of any lead of the team, and the ratings they may still change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import streamlit as st

from core.feedback import EDIT_DAYS, REASONS
from core.handoff import ANSWER_LABEL, COME_BACK_DAYS, MAX_REASON, RECYCLE_REASONS, REJECT_REASONS
from core.sla import Terms
from db.handoff import Answer
from db.models import HandoffAnswer
from ui import clock
from ui.auth import CurrentUser
from ui.content import content_panel
from ui.feedback import (
    PICKER_LIMIT,
    LeadToRate,
    MyRating,
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
from ui.handoff import answers_of_lead, submit_answer
from ui.navigation import Role
from ui.widgets import percent, plain, toast_and_rerun

LEAD_PARAM = "lead"  # /rate?lead=<id>: the lead an alert's link names

STARS = [1, 2, 3, 4, 5]


def stars_label(stars: int) -> str:
    return "★" * stars


def mqls(count: int) -> str:
    """ "1 MQL", "24 MQLs" """
    return "1 MQL" if count == 1 else f"{count:,} MQLs"


def waited(since: datetime, now: datetime | None = None) -> str:
    """How long a lead has waited, in hours up to three days, then in days."""
    start = since if since.tzinfo else since.replace(tzinfo=UTC)
    hours = ((now or clock.now()) - start).total_seconds() / 3600
    return f"{hours:,.0f} hours" if hours < 72 else f"{hours / 24:,.0f} days"


def sla_status(user: CurrentUser) -> None:
    """One line a rep reads on a phone: what is overdue now, and how the last 30 days went."""
    status = my_sla_status(user)
    overdue = (
        f":red[**{mqls(status.overdue)} waited past the agreed hours untouched**]"
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


def next_lead(user: CurrentUser, skip: int | None = None) -> None:
    """The longest-waiting MQL inside the rating window without this person's rating, and its form; or
    why nothing waits. `skip`: the lead a link opened above, not shown twice."""
    queue = my_queue(user)
    if not queue.leads:
        nothing_waiting(queue)
        return
    waiting = [lead for lead in queue.leads if lead.id != skip]
    if not waiting:
        st.caption("The lead above is the only one waiting for your rating.")
        return
    waits = "waits" if queue.waiting == 1 else "wait"
    st.markdown(f"**{mqls(queue.waiting)}** {waits} for your rating, the longest-waiting first.")
    left = (
        f" {queue.missed:,} older MQLs left the queue unrated: they count as missed on Rating coverage."
        if queue.missed
        else ""
    )
    st.caption(window_sentence(queue.terms) + left)
    lead = waiting[0]
    card_with_answers(user, lead, f"rate_{lead.id}", lambda: rating_form(user, lead.id, f"rate_{lead.id}"))


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
    key = f"pick_{lead.id}"
    card_with_answers(user, lead, key, lambda: rate_or_change(user, lead.id, key, mine))


def linked_lead(user: CurrentUser) -> int | None:
    """The lead the address names (`?lead=<id>`, an alert's link), its card first; the lead's id, or None
    when there is none (or it is not this person's to rate: then they are told, and the queue follows)."""
    asked = st.query_params.get(LEAD_PARAM)
    if asked is None:
        return None
    lead_id = int(asked) if asked.strip().isdigit() else None
    lead, mine = my_team_lead(user, lead_id) if lead_id is not None else (None, None)
    if lead is None:
        st.warning(
            "The lead your link names is not an MQL of yours to rate and answer: it may have been handed "
            "to someone else. Your own queue follows.",
            icon=":material/search_off:",
        )
        return None
    st.markdown("**The lead your link opened**")
    key = f"link_{lead.id}"
    card_with_answers(user, lead, key, lambda: rate_or_change(user, lead.id, key, mine))
    return lead.id


def rate_or_change(user: CurrentUser, lead_id: int, key: str, mine: MyRating | None) -> None:
    """A first rating, or this person's own rating to change."""
    if mine is None:
        rating_form(user, lead_id, key, button="Save the rating")
        return
    st.caption(
        f"You rated it {stars_label(mine.stars)} on {mine.first_rated_at:%b %d, %Y}; a rating can be "
        f"changed for {EDIT_DAYS} days."
    )
    rating_form(user, lead_id, key, mine.stars, mine.reasons, mine.note, "Save the change")


def card_with_answers(user: CurrentUser, lead: LeadToRate, key: str, rate: Callable[[], None]) -> None:
    """The lead's card: what it is, then the rating and, beside it (below it on a phone), the handoff; then
    the sales content that fits the lead."""
    with st.container(border=True):
        lead_card(lead)
        rating, answering = st.columns([3, 2], gap="medium")
        with rating:
            rate()
        with answering:
            handoff_panel(user, lead.id, key)
        content_panel(user, lead, f"content_{key}")


def describe_answer(answer: Answer) -> str:
    """One answer in words: what, when, by whom, why and until when."""
    parts = [f"{ANSWER_LABEL[answer.answer.value]} on {answer.answered_at:%b %d, %Y} by {answer.answered_by}"]
    if answer.reason:
        parts.append(f"reason: {answer.reason}")
    if answer.come_back_on:
        parts.append(f"back to sales on {answer.come_back_on:%b %d, %Y}")
    return " · ".join(parts)


ANSWER_BUTTONS: tuple[tuple[HandoffAnswer, str, str, str], ...] = (
    (HandoffAnswer.accept, "Accept", ":material/thumb_up:", "I am working it."),
    (HandoffAnswer.recycle, "Recycle to marketing", ":material/recycling:",
     "Not now: back to marketing's nurture list until a date, with a reason."),
    (HandoffAnswer.reject, "Reject", ":material/block:", "Never: with a reason marketing reads."),
)  # fmt: skip


def handoff_panel(user: CurrentUser, lead_id: int, key: str) -> None:
    """The rep's answer to the handoff: the current one and its history, and three one-click answers
    (recycle and reject then ask for their reason, recycle for its come-back date)."""
    handoff = answers_of_lead(lead_id)
    st.markdown("**Your answer to the handoff**")
    if handoff is None:
        st.caption("Not answered yet. Your first answer counts as your first touch for speed to lead.")
    else:
        st.text(describe_answer(handoff.current))
        if handoff.earlier:
            with st.expander(f"Earlier answers ({len(handoff.earlier)})", expanded=False):
                for earlier in handoff.earlier:
                    st.text(f"• {describe_answer(earlier)}")
    current = handoff.current.answer if handoff else None
    opened = f"{key}_answering"
    for answer, label, icon, explained in ANSWER_BUTTONS:
        chosen = current == answer
        clicked = st.button(label, icon=icon, help=explained, key=f"{key}_{answer.value}", width="stretch",
                            type="primary" if chosen else "secondary")  # fmt: skip
        if not clicked:
            continue
        if answer == HandoffAnswer.accept:
            st.session_state.pop(opened, None)
            _send(user, lead_id, key, answer, None, None)
        else:
            st.session_state[opened] = answer.value
    if opened in st.session_state:
        reason_form(
            user, lead_id, key, HandoffAnswer(st.session_state[opened]), handoff.current if handoff else None
        )


def reason_form(
    user: CurrentUser, lead_id: int, key: str, answer: HandoffAnswer, current: Answer | None
) -> None:
    """Why (a common reason or the rep's own words) and, for a recycle, when the lead comes back."""
    recycle = answer == HandoffAnswer.recycle
    common = RECYCLE_REASONS if recycle else REJECT_REASONS
    same = current is not None and current.answer == answer
    with st.form(key=f"{key}_{answer.value}_form", border=True):
        reason = current.reason if same and current else None
        offered = reason if reason in common else None
        picked = st.pills("Reason", list(common), selection_mode="single", default=offered,
                          key=f"{key}_{answer.value}_reason")  # fmt: skip
        typed = st.text_input("Or in your own words", value="" if offered else reason or "",
                              max_chars=MAX_REASON, key=f"{key}_{answer.value}_other")  # fmt: skip
        back = None
        if recycle:
            today = clock.today()
            # The date given before, while it is still ahead; a date that has come is no default.
            earlier = current.come_back_on if same and current else None
            back = st.date_input(
                "Comes back to sales on",
                value=earlier if earlier and earlier > today else today + timedelta(days=COME_BACK_DAYS),
                min_value=today + timedelta(days=1),
                key=f"{key}_{answer.value}_back",
            )
        label = "Recycle to marketing" if recycle else "Reject the lead"
        sent = st.form_submit_button(label, type="primary", icon=":material/send:", width="stretch")
    if sent:
        _send(user, lead_id, key, answer, typed.strip() or picked, back if isinstance(back, date) else None)


def _send(user: CurrentUser, lead_id: int, key: str, answer: HandoffAnswer, reason: str | None,
          come_back_on: date | None) -> None:  # fmt: skip
    problem = submit_answer(user, lead_id, answer, reason, come_back_on)
    if problem:
        st.error(problem, icon=":material/block:")
        return
    st.session_state.pop(f"{key}_answering", None)
    toast_and_rerun(ANSWER_LABEL[answer.value])


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
        (lead.page_views, "page view", "page views"),
        (lead.email_clicks, "email click", "email clicks"),
        (lead.content_downloads, "download", "downloads"),
    )
    st.text(" · ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts))
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
    toast_and_rerun(f"Rated {stars_label(int(picked))}")


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
