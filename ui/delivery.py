"""The admin's Delivery screen: what the outbox holds (queued, sent, failed with the reason and attempts),
which channel waits for which setting, and Retry for one failed message or all of them. The reads and
the retry go through db/delivery.py, which checks the admin again and audits the retry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl
import streamlit as st

from db.delivery import DeliveryOverview, OutboxView, delivery_overview, failed_messages, retry
from db.models import Channel, OutboxStatus, User
from db.notify import channel_problems
from db.settings import get_settings
from ui.auth import CurrentUser, signed_in_id
from ui.clock import now
from ui.db import Session, act_as, read_as
from ui.widgets import plain

SHOWN = 100  # the newest of each list; the counts above them are of everything
RETRY_BUTTONS = 20  # failed messages with a Retry button of their own; "Retry all failed" covers the rest
EVERY_FAILED = 100_000  # "Retry all failed" takes them all, not only the ones on the page
FLASH = "delivery_flash"
CHANNEL_WORDS = {Channel.email: "Email", Channel.chat: "Chat"}


def outbox_overview() -> DeliveryOverview:
    """The counts and the newest messages, read as the signed-in admin (the service checks)."""
    return read_as(
        signed_in_id(), lambda session, actor: delivery_overview(session=session, actor=actor, limit=SHOWN)
    )


def channels_off() -> list[str]:
    """One sentence per channel that cannot send, naming the missing setting."""
    return [
        f"{CHANNEL_WORDS[channel]} is off: {problem}. Its messages wait in the queue until it is set "
        "(in the environment or `.streamlit/secrets.toml`)."
        for channel, problem in channel_problems(get_settings()).items()
    ]


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def messages_frame(messages: Sequence[OutboxView], status: OutboxStatus) -> pl.DataFrame:
    """One row per message, in words; a failed one with its reason, a queued one with its next try."""
    moment_header, moment_of = {
        OutboxStatus.sent: ("sent (UTC)", lambda m: m.sent_at),
        OutboxStatus.queued: ("next try (UTC)", lambda m: m.next_attempt_at),
        OutboxStatus.failed: ("enqueued (UTC)", lambda m: m.created_at),
    }[status]
    rows = [
        (m.id, m.kind.value.replace("_", " "), m.channel.value, m.to, m.subject, m.attempts,
         _when(moment_of(m)), m.last_error or "")
        for m in messages
    ]  # fmt: skip
    schema = {"#": pl.Int64, "alert": pl.String, "channel": pl.String, "to": pl.String, "subject": pl.String,
              "attempts": pl.Int64, moment_header: pl.String, "reason": pl.String}  # fmt: skip
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame if status is not OutboxStatus.sent else frame.drop("reason")


def _every_failed_id(session: Session, actor: User) -> list[int]:
    return [m.id for m in failed_messages(session=session, actor=actor, limit=EVERY_FAILED)]


def retry_now(user: CurrentUser, ids: Sequence[int] | None) -> None:
    """Queue failed messages (None: every failed one, shown or not) again as the signed-in admin; the
    outcome is shown after the rerun."""
    done = act_as(
        user.id,
        lambda session, actor: retry(
            session=session,
            actor=actor,
            ids=_every_failed_id(session, actor) if ids is None else ids,
            now=now(),
        ),
    )
    if done.refused:
        st.error(done.refused, icon=":material/block:")
        return
    count = int(done.value or 0)
    st.session_state[FLASH] = (
        f"{count} message{'s' if count != 1 else ''} queued again: the next delivery run sends them."
    )
    st.rerun()


def show_flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(str(message), icon=":material/check_circle:")


def failed_list(user: CurrentUser, failed: Sequence[OutboxView], total: int) -> None:
    """The newest failed messages: each with its reason and a Retry; one Retry for all `total` of them."""
    if not failed:
        st.caption("No message has failed.")
        return
    if st.button(f"Retry all failed ({total:,})", icon=":material/replay:", key="retry_all"):
        retry_now(user, None)
    for message in failed[:RETRY_BUTTONS]:
        text, button = st.columns([6, 1], vertical_alignment="center")
        text.markdown(
            f"**#{message.id}** {plain(message.subject)} · {plain(message.to)} · {message.channel.value} · "
            f"{message.attempts} attempts · :red[{plain(message.last_error or 'failed')}]"
        )
        if button.button("Retry", key=f"retry_{message.id}", icon=":material/replay:"):
            retry_now(user, [message.id])
    rest = failed[RETRY_BUTTONS:]
    if rest:
        st.caption(f"{len(rest)} more failed messages (Retry all failed includes them):")
        st.dataframe(messages_frame(rest, OutboxStatus.failed), hide_index=True, width="stretch")


def totals(overview: DeliveryOverview) -> dict[str, int]:
    """Messages waiting (queued, or being sent right now), sent and failed, over every channel."""
    return {
        "Waiting": overview.count(OutboxStatus.queued) + overview.count(OutboxStatus.sending),
        "Sent": overview.count(OutboxStatus.sent),
        "Failed": overview.count(OutboxStatus.failed),
    }


def queued_frame(overview: DeliveryOverview) -> pl.DataFrame:
    return messages_frame(overview.queued, OutboxStatus.queued)


def sent_frame(overview: DeliveryOverview) -> pl.DataFrame:
    return messages_frame(overview.sent, OutboxStatus.sent)
