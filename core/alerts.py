"""Who hears what, and what they are told (issue 13): the alert defaults, a person's choices, and every
kind of message rendered for email (text and HTML) and chat (a Slack-compatible webhook body).

Pure: kinds, channels and roles are their plain names (db.models' enums are str enums of the same names).
Everything that comes from the data (a lead's company, a campaign, a person's name, a comment) is escaped
for the form it goes into: HTML-escaped in the HTML part, `& < >` escaped in chat markup, and a value a
spreadsheet would run as a formula (`=HYPERLINK(...)`) gets a leading apostrophe in every part. Our own
words (labels, headings) and our own links are written as they are.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from core.funnel import SPREADSHEET_FORMULA_STARTS

KINDS = (
    "new_mql",
    "follow_up_reminder",
    "team_breach",
    "draft_waiting",
    "draft_decision",
    "acceptance_low",
    "weekly_report",
    "action_items",
)
CHANNELS = ("email", "chat")
INSTANT = "instant"
DIGEST = "digest"

KIND_LABELS: dict[str, str] = {
    "new_mql": "A new MQL assigned to me",
    "follow_up_reminder": "Before an MQL's follow-up window ends",
    "team_breach": "My team's SLA breaches (untouched or unrated too long)",
    "draft_waiting": "A criteria draft waiting for approval",
    "draft_decision": "A decision or comment on my criteria draft",
    "acceptance_low": "The week's MQL acceptance under the SLA target",
    "weekly_report": "The weekly sync report, the morning after the week closes",
    "action_items": "My open action items, once a day",
}
CHANNEL_LABELS: dict[str, str] = {"email": "Email", "chat": "Chat"}

EVERYONE = ("weekly_report", "action_items")
KINDS_BY_ROLE: dict[str, tuple[str, ...]] = {
    "rep": ("new_mql", "follow_up_reminder", *EVERYONE),
    "sales_manager": ("team_breach", "draft_waiting", *EVERYONE),
    "marketer": ("draft_decision", "acceptance_low", *EVERYONE),
    "executive": EVERYONE,
    "admin": EVERYONE,
}
# Kinds that can wait for one message a day; the others are only worth hearing as they happen.
DIGESTIBLE = frozenset({"new_mql", "team_breach"})
DIGEST_HOUR = 8  # UTC: the daily digest goes out at or after this hour


@dataclass(frozen=True)
class Choice:
    """Whether a person hears a kind on a channel, and how: each event at once, or one digest a day.
    `source` says where it comes from: "built-in", "admin default" or "yours"."""

    enabled: bool
    cadence: str = INSTANT
    source: str = "built-in"


# Everything not listed is off: weekly_report and action_items are opt-in for everyone.
DEFAULTS: dict[tuple[str, str, str], Choice] = {
    ("rep", "new_mql", "email"): Choice(True, INSTANT),
    ("rep", "follow_up_reminder", "email"): Choice(True, INSTANT),
    ("sales_manager", "team_breach", "email"): Choice(True, DIGEST),
    ("sales_manager", "draft_waiting", "email"): Choice(True, INSTANT),
    ("marketer", "draft_decision", "email"): Choice(True, INSTANT),
    ("marketer", "acceptance_low", "email"): Choice(True, INSTANT),
}


def kinds_for(role: str) -> tuple[str, ...]:
    """The kinds of alert that concern a role, in the order *My account* lists them."""
    return KINDS_BY_ROLE.get(str(role), EVERYONE)


def cadences_for(kind: str) -> tuple[str, ...]:
    return (INSTANT, DIGEST) if kind in DIGESTIBLE else (INSTANT,)


def _fit(kind: str, choice: Choice, source: str) -> Choice:
    cadence = choice.cadence if choice.cadence in cadences_for(kind) else INSTANT
    return Choice(bool(choice.enabled), cadence, source)


def built_in_default(role: str, kind: str, channel: str) -> Choice:
    return DEFAULTS.get((str(role), str(kind), str(channel)), Choice(False, INSTANT))


def defaults_for(
    role: str, admin_defaults: Mapping[tuple[str, str], Choice]
) -> dict[tuple[str, str], Choice]:
    """A role's defaults: the admins' where they set one, else the built-in ones."""
    chosen: dict[tuple[str, str], Choice] = {}
    for kind in kinds_for(role):
        for channel in CHANNELS:
            admin = admin_defaults.get((kind, channel))
            chosen[(kind, channel)] = (
                _fit(kind, admin, "admin default")
                if admin is not None
                else _fit(kind, built_in_default(role, kind, channel), "built-in")
            )
    return chosen


def choices_for(
    role: str,
    admin_defaults: Mapping[tuple[str, str], Choice],
    own_rows: Mapping[tuple[str, str], Choice],
) -> dict[tuple[str, str], Choice]:
    """A person's choice for every kind that concerns their role and every channel: their own where they
    made one, else their role's default (the admins', else the built-in). Kinds of other roles are left out
    even if a row says otherwise (a rep who became a manager stops hearing about new MQLs)."""
    chosen = defaults_for(role, admin_defaults)
    for key in chosen:
        own = own_rows.get(key)
        if own is not None:
            chosen[key] = _fit(key[0], own, "yours")
    return chosen


# ---------------------------------------------------------------- the follow-up clock


def follow_up_deadline(mql_at: datetime, working_hours: int) -> datetime:
    """When an MQL's follow-up window ends: `working_hours` counted Monday to Friday (UTC), as core.sla's
    working_hours_between counts them (an MQL that arrives at the weekend starts counting on Monday)."""
    moment = mql_at
    remaining = timedelta(hours=working_hours)
    while True:
        midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), moment.tzinfo)
        if moment.weekday() >= 5:
            moment = midnight
            continue
        left_today = midnight - moment
        if remaining <= left_today:
            return moment + remaining
        remaining -= left_today
        moment = midnight


def calendar_span(working_hours: int) -> timedelta:
    """The longest calendar time `working_hours` can take (weekends included): a bound for queries."""
    return timedelta(days=working_hours / 24 * 7 / 5 + 3)


# ---------------------------------------------------------------- escaping


def defused(value: object) -> str:
    """A value from the data as one line of plain text no spreadsheet would run as a formula."""
    text = " ".join(str(value).split()) if value is not None else ""
    return "'" + text if text.startswith(SPREADSHEET_FORMULA_STARTS) else text


def html_value(value: object) -> str:
    return html.escape(defused(value), quote=True)


def chat_value(value: object) -> str:
    """Slack mrkdwn's escaping: only &, < and > are control characters there."""
    return defused(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- composing a message


@dataclass(frozen=True)
class Message:
    """What one person is told: db.outbox.Message's fields, every data value already escaped."""

    subject: str
    text: str
    html: str | None = None
    chat: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class Fact:
    """One line of a message: our label, and a value from the data (escaped wherever it goes)."""

    label: str
    value: object


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def settings_link(base_url: str) -> Link:
    return Link("Change which alerts you get", f"{base_url.rstrip('/')}/account")


def lead_link(base_url: str, lead_id: int) -> Link:
    return Link("Open it in Huddle", f"{base_url.rstrip('/')}/rate?lead={int(lead_id)}")


@dataclass(frozen=True)
class Bullet:
    """One item of a list: a value from the data, and our link for it (a lead's card) if it has one."""

    text: str
    url: str | None = None


def _bullets(bullets: Sequence[str | Bullet]) -> list[Bullet]:
    return [b if isinstance(b, Bullet) else Bullet(b) for b in bullets]


def _text_part(heading: str, facts: Sequence[Fact], bullets: Sequence[Bullet], links: Sequence[Link]) -> str:
    lines = [heading, ""]
    lines += [f"{f.label}: {defused(f.value)}" if f.label else defused(f.value) for f in facts]
    lines += [f"  - {defused(b.text)}" + (f" ({b.url})" if b.url else "") for b in bullets]
    lines += [""] + [f"{link.label}: {link.url}" for link in links]
    return "\n".join(lines) + "\n"


def _html_bullet(bullet: Bullet) -> str:
    if bullet.url is None:
        return f"<li>{html_value(bullet.text)}</li>"
    return f'<li><a href="{html.escape(bullet.url, quote=True)}">{html_value(bullet.text)}</a></li>'


def _html_part(heading: str, facts: Sequence[Fact], bullets: Sequence[Bullet], links: Sequence[Link]) -> str:
    rows = "".join(
        f"<p><strong>{html.escape(f.label)}:</strong> {html_value(f.value)}</p>"
        if f.label
        else f"<p>{html_value(f.value)}</p>"
        for f in facts
    )
    items = "<ul>" + "".join(_html_bullet(b) for b in bullets) + "</ul>" if bullets else ""
    anchors = "".join(
        f'<p><a href="{html.escape(link.url, quote=True)}">{html.escape(link.label)}</a></p>'
        for link in links
    )
    return (
        '<!doctype html><html><body style="font-family: sans-serif">'
        f"<h2>{html.escape(heading)}</h2>{rows}{items}{anchors}</body></html>"
    )


def _chat_bullet(bullet: Bullet) -> str:
    if bullet.url is None:
        return f"• {chat_value(bullet.text)}"
    return f"• <{bullet.url}|{chat_value(bullet.text)}>"


def _chat_part(
    heading: str, facts: Sequence[Fact], bullets: Sequence[Bullet], links: Sequence[Link]
) -> dict[str, Any]:
    lines = [f"*{chat_value(heading)}*"]
    lines += [
        f"*{chat_value(f.label)}:* {chat_value(f.value)}" if f.label else chat_value(f.value) for f in facts
    ]
    lines += [_chat_bullet(b) for b in bullets]
    body = "\n".join(lines)
    link_line = " · ".join(f"<{link.url}|{chat_value(link.label)}>" for link in links)
    return {
        "text": f"{body}\n{link_line}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": link_line}]},
        ],
    }


def compose(
    subject: str,
    heading: str,
    facts: Sequence[Fact],
    *,
    base_url: str,
    bullets: Sequence[str | Bullet] = (),
    links: Sequence[Link] = (),
) -> Message:
    """One message in all three forms, ending with the link to change one's alerts. `subject` and
    `heading` may hold data values: they are made one plain line (and escaped for HTML and chat)."""
    every_link = (*links, settings_link(base_url))
    title = defused(heading)
    items = _bullets(bullets)
    return Message(
        subject=defused(subject)[:300],
        text=_text_part(title, facts, items, every_link),
        html=_html_part(title, facts, items, every_link),
        chat=_chat_part(title, facts, items, every_link),
    )


# ---------------------------------------------------------------- the kinds of message


@dataclass(frozen=True)
class LeadFacts:
    """What a message says about one lead: who, where from, why an MQL (core.criteria's rule sentences,
    as the rating card's *Why an MQL* shows them)."""

    id: int
    name: str
    mql_at: datetime
    owner: str | None = None
    source: str | None = None
    campaign: str | None = None
    landing_page: str | None = None
    why: tuple[str, ...] = ()
    score: int | None = None
    threshold: int | None = None


def lead_name(external_id: str, attributes: Mapping[str, Any] | None) -> str:
    """A lead as the rating card names it: its company, else its id in the source system."""
    found = attributes or {}
    name = found.get("company") or found.get("company_name")
    return str(name) if name else f"Lead {external_id}"


def _where_from(lead: LeadFacts) -> str:
    # Each value defused on its own: a campaign named =HYPERLINK(...) stays harmless inside the line too.
    return (
        " · ".join(defused(v) for v in (lead.source, lead.campaign, lead.landing_page) if v) or "not recorded"
    )


def _why_heading(lead: LeadFacts) -> str:
    if lead.score is None:
        return "Marked MQL by the import, not by the criteria."
    needed = f", {lead.threshold} needed" if lead.threshold is not None else ""
    return f"{lead.score} points{needed}"


def new_mql_message(lead: LeadFacts, *, base_url: str) -> Message:
    return compose(
        f"New MQL for you: {lead.name}",
        f"New MQL: {lead.name}",
        [
            Fact("Who", lead.name),
            Fact("MQL since", f"{lead.mql_at:%b %d, %Y %H:%M} UTC"),
            Fact("Came from", _where_from(lead)),
            Fact("Why an MQL", _why_heading(lead)),
        ],
        bullets=lead.why,
        links=[lead_link(base_url, lead.id)],
        base_url=base_url,
    )


def new_mql_line(lead: LeadFacts) -> str:
    """A new MQL as one plain line (a digest's item)."""
    return f"New MQL {lead.name}, from {_where_from(lead)} ({_why_heading(lead)})"


def follow_up_reminder_message(lead: LeadFacts, deadline: datetime, *, base_url: str) -> Message:
    return compose(
        f"Follow up {lead.name} by {deadline:%H:%M} UTC",
        f"Follow-up window ends soon: {lead.name}",
        [
            Fact("Who", lead.name),
            Fact("MQL since", f"{lead.mql_at:%b %d, %Y %H:%M} UTC"),
            Fact("Window ends", f"{deadline:%b %d, %Y %H:%M} UTC"),
            Fact("Came from", _where_from(lead)),
            Fact("", "Accept, recycle or reject it, log a touch or rate it before then."),
        ],
        links=[lead_link(base_url, lead.id)],
        base_url=base_url,
    )


@dataclass(frozen=True)
class Breach:
    """An MQL of a manager's team past an SLA term: untouched past the follow-up window, or unrated past
    the rating days."""

    lead: LeadFacts
    what: str  # "untouched" or "unrated"
    due_at: datetime  # when the term ran out


def breach_line(breach: Breach) -> str:
    """The breach as one plain line (a digest's item)."""
    owner = breach.lead.owner or "nobody"
    if breach.what == "untouched":
        term = f"not followed up since its window ended {breach.due_at:%b %d %H:%M} UTC"
    else:
        term = f"not rated since its rating days ran out {breach.due_at:%b %d %H:%M} UTC"
    return f"{breach.lead.name} (owner {owner}): {term}"


def team_breach_message(breach: Breach, *, base_url: str) -> Message:
    title = (
        "untouched past its follow-up window"
        if breach.what == "untouched"
        else "unrated past the rating days"
    )
    return compose(
        f"SLA breach: {breach.lead.name} {title}",
        f"SLA breach: {breach.lead.name}",
        [
            Fact("What", breach_line(breach)),
            Fact("Owner", breach.lead.owner or "nobody"),
            Fact("MQL since", f"{breach.lead.mql_at:%b %d, %Y %H:%M} UTC"),
        ],
        links=[lead_link(base_url, breach.lead.id)],
        base_url=base_url,
    )


@dataclass(frozen=True)
class DigestEntry:
    line: str
    lead_id: int | None = None


def digest_message(day: date, entries: Sequence[DigestEntry], *, base_url: str) -> Message:
    """One day's digest: every item not sent in an earlier digest, one line each, with its lead's link."""
    count = len(entries)
    noun = "item" if count == 1 else "items"
    return compose(
        f"Huddle digest for {day:%b %d, %Y}: {count} {noun}",
        f"Your Huddle digest for {day:%A, %b %d}",
        [Fact("", f"{count} {noun} since your last digest:")],
        bullets=[
            Bullet(e.line, lead_link(base_url, e.lead_id).url if e.lead_id is not None else None)
            for e in entries
        ],
        base_url=base_url,
    )


@dataclass(frozen=True)
class DraftFacts:
    id: int
    name: str
    proposer: str | None
    note: str | None = None


def draft_waiting_message(draft: DraftFacts, *, base_url: str) -> Message:
    return compose(
        f"Criteria draft waiting for your approval: {draft.name}",
        f"A criteria draft waits for your approval: {draft.name}",
        [
            Fact("Draft", draft.name),
            Fact("Proposed by", draft.proposer or "the command line"),
            *([Fact("Note", draft.note)] if draft.note else []),
        ],
        links=[Link("Review it on Targeting criteria", f"{base_url.rstrip('/')}/criteria")],
        base_url=base_url,
    )


DECISION_WORDS = {"approve": "approved", "reject": "rejected", "comment": "commented on"}


def draft_decision_message(
    draft: DraftFacts, decision: str, by: str | None, text: str | None, *, base_url: str
) -> Message:
    verb = DECISION_WORDS.get(decision, decision)
    return compose(
        f"Your criteria draft was {verb}: {draft.name}",
        f"Your criteria draft was {verb}: {draft.name}",
        [
            Fact("Draft", draft.name),
            Fact("By", by or "the command line"),
            *([Fact("Comment" if decision == "comment" else "Note", text)] if text else []),
        ],
        links=[Link("Open Targeting criteria", f"{base_url.rstrip('/')}/criteria")],
        base_url=base_url,
    )


def acceptance_low_message(week: str, accepted: int, rated: int, target: float, *, base_url: str) -> Message:
    share = accepted / rated if rated else 0.0
    return compose(
        f"MQL acceptance in {week}: {share:.0%}, under the {target:.0%} target",
        f"MQL acceptance fell under the SLA target in {week}",
        [
            Fact("Accepted (rated 4-5)", f"{accepted:,} of {rated:,} rated MQLs ({share:.0%})"),
            Fact("Target", f"{target:.0%}"),
        ],
        links=[Link("Open the Weekly sync", f"{base_url.rstrip('/')}/weekly-sync")],
        base_url=base_url,
    )


def weekly_report_message(week: str, report_html: str, *, base_url: str) -> Message:
    """The weekly sync report: the text part points at it, the HTML part is the report itself (the same
    self-contained page as *Download this week*, built and escaped by core.weekly_report)."""
    plain = compose(
        f"Weekly sync report, {week}",
        f"The weekly sync report for {week}",
        [Fact("", "The report is the HTML part of this mail; it is also on the Weekly sync page.")],
        links=[Link("Open the Weekly sync", f"{base_url.rstrip('/')}/weekly-sync")],
        base_url=base_url,
    )
    footer = settings_link(base_url)
    anchor = f'<p><a href="{html.escape(footer.url, quote=True)}">{html.escape(footer.label)}</a></p>'
    report = (
        report_html.replace("</body>", anchor + "</body>", 1)
        if "</body>" in report_html
        else report_html + anchor
    )
    return Message(subject=plain.subject, text=plain.text, html=report, chat=plain.chat)


@dataclass(frozen=True)
class OpenItem:
    title: str
    due_date: date | None
    meeting_week: str


def action_items_message(day: date, items: Sequence[OpenItem], *, base_url: str) -> Message:
    count = len(items)
    noun = "action item" if count == 1 else "action items"
    return compose(
        f"You have {count} open {noun}",
        f"Your open {noun} on {day:%b %d, %Y}",
        [Fact("", f"{count} open {noun} you own:")],
        bullets=[_item_line(item, day) for item in items],
        links=[Link("Open the Weekly sync", f"{base_url.rstrip('/')}/weekly-sync")],
        base_url=base_url,
    )


def _item_line(item: OpenItem, day: date) -> str:
    if item.due_date is None:
        due = "no due date"
    elif item.due_date < day:
        due = f"overdue since {item.due_date:%b %d}"
    else:
        due = f"due {item.due_date:%b %d}"
    return f"{defused(item.title)} ({due}; from the {item.meeting_week} sync)"
