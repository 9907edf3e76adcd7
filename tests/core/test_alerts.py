"""core.alerts on tiny inputs worked out by hand: who gets what by default, a person's choices over the
defaults, the follow-up clock, escaping for mail and chat, and every kind of message's words."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from core import alerts
from core.alerts import (
    Breach,
    Choice,
    DigestEntry,
    DraftFacts,
    LeadFacts,
    OpenItem,
    choices_for,
    follow_up_deadline,
)
from core.sla import working_hours_between

BASE = "https://huddle.example.com"
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil","x")'
LEAD = LeadFacts(
    id=7,
    name="Acme & Sons",
    mql_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    owner="Rita",
    source="paid_search",
    campaign="Winter <promo>",
    why=("Source is paid_search: +40 points", "Page views at least 5: +20 points"),
    score=60,
    threshold=50,
)


def test_the_built_in_defaults_per_role() -> None:
    rep = choices_for("rep", {}, {})
    assert list(rep) == [(k, c) for k in ("new_mql", "follow_up_reminder", "weekly_report", "action_items")
                         for c in ("email", "chat")]  # fmt: skip
    on = {key: (c.cadence, c.source) for key, c in rep.items() if c.enabled}
    assert on == {
        ("new_mql", "email"): ("instant", "built-in"),
        ("follow_up_reminder", "email"): ("instant", "built-in"),
    }
    manager = {key: c.cadence for key, c in choices_for("sales_manager", {}, {}).items() if c.enabled}
    assert manager == {("team_breach", "email"): "digest", ("draft_waiting", "email"): "instant"}
    marketer = {key for key, c in choices_for("marketer", {}, {}).items() if c.enabled}
    assert marketer == {("draft_decision", "email"), ("acceptance_low", "email")}
    for role in ("executive", "admin"):
        assert {k for k, _ in choices_for(role, {}, {})} == {"weekly_report", "action_items"}
        assert not any(c.enabled for c in choices_for(role, {}, {}).values())


def test_ones_own_choice_beats_the_admins_default_which_beats_the_built_in_one() -> None:
    admin = {("new_mql", "email"): Choice(False), ("new_mql", "chat"): Choice(True, "digest")}
    own = {("new_mql", "chat"): Choice(False), ("weekly_report", "email"): Choice(True)}
    chosen = choices_for("rep", admin, own)
    assert chosen[("new_mql", "email")] == Choice(False, "instant", "admin default")
    assert chosen[("new_mql", "chat")] == Choice(False, "instant", "yours")
    assert chosen[("weekly_report", "email")] == Choice(True, "instant", "yours")
    assert chosen[("follow_up_reminder", "email")] == Choice(True, "instant", "built-in")


def test_a_digest_is_only_kept_where_it_makes_sense_and_other_roles_kinds_are_left_out() -> None:
    own = {("follow_up_reminder", "email"): Choice(True, "digest"), ("draft_waiting", "email"): Choice(True)}
    chosen = choices_for("rep", {}, own)
    assert chosen[("follow_up_reminder", "email")].cadence == "instant"  # a reminder a day late is no use
    assert ("draft_waiting", "email") not in chosen  # a rep approves no drafts


@pytest.mark.parametrize(
    ("mql_at", "hours", "deadline"),
    [
        (datetime(2026, 12, 1, 12, 30), 24, datetime(2026, 12, 2, 12, 30)),  # Tuesday to Wednesday
        (
            datetime(2026, 12, 4, 16, 0),
            24,
            datetime(2026, 12, 7, 16, 0),
        ),  # Friday 16:00: 8 h, then Monday 16 h
        (datetime(2026, 12, 5, 10, 0), 2, datetime(2026, 12, 7, 2, 0)),  # Saturday: counting starts Monday
        (datetime(2026, 12, 4, 23, 0), 1, datetime(2026, 12, 5, 0, 0)),  # Friday's last hour
        (datetime(2026, 12, 1, 0, 0), 120, datetime(2026, 12, 8, 0, 0)),  # five working days: a week
    ],
)
def test_the_follow_up_window_ends_after_its_working_hours(
    mql_at: datetime, hours: int, deadline: datetime
) -> None:
    found = follow_up_deadline(mql_at.replace(tzinfo=UTC), hours)
    assert found == deadline.replace(tzinfo=UTC)
    # core.sla counts the same hours between the MQL and its deadline.
    frame = pl.DataFrame({"start": [mql_at], "end": [deadline]})
    assert frame.select(working_hours_between(pl.col("start"), pl.col("end"))).item() == hours


def test_a_script_and_a_formula_are_harmless_in_every_part() -> None:
    lead = LeadFacts(id=3, name=SCRIPT, mql_at=LEAD.mql_at, source=FORMULA, campaign="a & b")
    message = alerts.new_mql_message(lead, base_url=BASE)
    html, chat = message.html or "", message.chat or {}
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#x27;=HYPERLINK(&quot;http://evil&quot;,&quot;x&quot;)" in html  # a leading apostrophe, escaped
    assert "a &amp; b" in html
    assert "<script>" not in chat["text"] and "&lt;script&gt;alert(1)&lt;/script&gt;" in chat["text"]
    assert "'=HYPERLINK(" in chat["text"] and "a &amp; b" in chat["text"]
    assert "<script>" not in str(chat["blocks"])
    assert message.subject == f"New MQL for you: {SCRIPT}"  # a subject is plain text: nothing renders it
    assert 'Came from: \'=HYPERLINK("http://evil","x") · a & b' in message.text
    assert (
        alerts.defused("=1+1") == "'=1+1"
        and alerts.defused("@here") == "'@here"
        and alerts.defused("-x") == "'-x"
    )
    assert alerts.defused("line\nbreak") == "line break"


def test_a_new_mql_says_who_where_from_why_and_links_to_its_card_and_the_settings() -> None:
    message = alerts.new_mql_message(LEAD, base_url=BASE + "/")
    assert message.subject == "New MQL for you: Acme & Sons"
    assert message.text == (
        "New MQL: Acme & Sons\n\n"
        "Who: Acme & Sons\n"
        "MQL since: Dec 01, 2026 09:30 UTC\n"
        "Came from: paid_search · Winter <promo>\n"
        "Why an MQL: 60 points, 50 needed\n"
        "  - Source is paid_search: +40 points\n"
        "  - Page views at least 5: +20 points\n\n"
        "Open it in Huddle: https://huddle.example.com/rate?lead=7\n"
        "Change which alerts you get: https://huddle.example.com/account\n"
    )
    assert '<a href="https://huddle.example.com/rate?lead=7">' in (message.html or "")
    assert "Winter &lt;promo&gt;" in (message.html or "")
    chat = message.chat or {}
    assert "<https://huddle.example.com/rate?lead=7|Open it in Huddle>" in chat["text"]
    assert "<https://huddle.example.com/account|Change which alerts you get>" in chat["text"]
    assert [b["type"] for b in chat["blocks"]] == ["section", "context"]


def test_an_import_made_mql_says_so() -> None:
    lead = LeadFacts(id=1, name="Lead X-1", mql_at=LEAD.mql_at)
    assert (
        "Why an MQL: Marked MQL by the import, not by the criteria."
        in alerts.new_mql_message(lead, base_url=BASE).text
    )
    assert (
        alerts.lead_name("X-1", {"company": "Beta"}) == "Beta" and alerts.lead_name("X-1", None) == "Lead X-1"
    )


def test_every_other_kind_says_what_happened_and_links_to_the_settings() -> None:
    deadline = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    untouched = Breach(LEAD, "untouched", deadline)
    unrated = Breach(LEAD, "unrated", datetime(2026, 12, 4, 9, 30, tzinfo=UTC))
    draft = DraftFacts(4, "Version 4", "Mara", "more paid search")
    day = date(2026, 12, 7)
    messages = {
        "reminder": alerts.follow_up_reminder_message(LEAD, deadline, base_url=BASE),
        "untouched": alerts.team_breach_message(untouched, base_url=BASE),
        "unrated": alerts.team_breach_message(unrated, base_url=BASE),
        "waiting": alerts.draft_waiting_message(draft, base_url=BASE),
        "approved": alerts.draft_decision_message(draft, "approve", "Erin", "fine", base_url=BASE),
        "comment": alerts.draft_decision_message(draft, "comment", "Erin", "why ads?", base_url=BASE),
        "acceptance": alerts.acceptance_low_message("2026-W49", 3, 10, 0.5, base_url=BASE),
        "items": alerts.action_items_message(
            day, [OpenItem("Call Acme", date(2026, 12, 4), "2026-W49"), OpenItem("Fix the form", None, "2026-W48")],
            base_url=BASE,
        ),
        "digest": alerts.digest_message(day, [DigestEntry(alerts.breach_line(untouched), 7), DigestEntry("x")],
                                        base_url=BASE),
    }  # fmt: skip
    assert {k: m.subject for k, m in messages.items()} == {
        "reminder": "Follow up Acme & Sons by 09:30 UTC",
        "untouched": "SLA breach: Acme & Sons untouched past its follow-up window",
        "unrated": "SLA breach: Acme & Sons unrated past the rating days",
        "waiting": "Criteria draft waiting for your approval: Version 4",
        "approved": "Your criteria draft was approved: Version 4",
        "comment": "Your criteria draft was commented on: Version 4",
        "acceptance": "MQL acceptance in 2026-W49: 30%, under the 50% target",
        "items": "You have 2 open action items",
        "digest": "Huddle digest for Dec 07, 2026: 2 items",
    }
    for message in messages.values():
        assert message.text.endswith("Change which alerts you get: https://huddle.example.com/account\n")
        assert 'href="https://huddle.example.com/account"' in (message.html or "")
    assert "Window ends: Dec 02, 2026 09:30 UTC" in messages["reminder"].text
    assert "What: Acme & Sons (owner Rita): not followed up since its window ended Dec 02 09:30 UTC" in (
        messages["untouched"].text
    )
    assert "not rated since its rating days ran out Dec 04 09:30 UTC" in messages["unrated"].text
    assert "Proposed by: Mara\nNote: more paid search" in messages["waiting"].text
    assert "By: Erin\nComment: why ads?" in messages["comment"].text
    assert "Accepted (rated 4-5): 3 of 10 rated MQLs (30%)\nTarget: 50%" in messages["acceptance"].text
    assert "  - Call Acme (overdue since Dec 04; from the 2026-W49 sync)" in messages["items"].text
    assert "  - Fix the form (no due date; from the 2026-W48 sync)" in messages["items"].text
    assert "(https://huddle.example.com/rate?lead=7)" in messages["digest"].text
    assert "  - x\n" in messages["digest"].text


def test_the_weekly_report_is_the_html_part_with_the_settings_link_added() -> None:
    report = "<!doctype html><html><body><h1>Week</h1></body></html>"
    message = alerts.weekly_report_message("2026-W49", report, base_url=BASE)
    assert message.html == (
        '<!doctype html><html><body><h1>Week</h1><p><a href="https://huddle.example.com/account">'
        "Change which alerts you get</a></p></body></html>"
    )
    assert message.subject == "Weekly sync report, 2026-W49"
    assert "https://huddle.example.com/weekly-sync" in message.text
