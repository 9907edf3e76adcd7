"""My account's alerts: which kinds one hears about, on which channel, at once or as a daily digest; and
for admins the defaults of each role. A switch saves as soon as it is flipped, through db/alerts.py (which
checks who is asking and audits the change). A channel this server cannot send on is shown switched off
and disabled, saying so, whatever is stored for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from core.alerts import CHANNEL_LABELS, DIGEST, KIND_LABELS
from db.alerts import (
    AlertChoice,
    AlertsRefused,
    alert_defaults,
    my_alert_choices,
    set_alert_default,
    set_my_alert,
)
from db.models import AlertKind, Cadence, Channel, Role
from ui.auth import ROLE_LABELS, CurrentUser
from ui.db import act_as, read_as

NOT_SET_UP = {
    Channel.email: "Email is not set up on this server — ask your admin.",
    Channel.chat: "Chat is not set up on this server — ask your admin.",
}
# What an admin is told instead: they are the one to ask.
HOW_TO_SET_UP = {
    Channel.email: "Email is not set up on this server: it needs HUDDLE_SMTP_HOST and HUDDLE_MAIL_FROM.",
    Channel.chat: "Chat is not set up on this server: it needs HUDDLE_CHAT_WEBHOOK_URL.",
}
CADENCE_LABELS = {Cadence.instant: "At once", Cadence.digest: "Daily digest"}
FLASH_KEY = "alerts_flash"

Save = Callable[[AlertKind, Channel, bool, Cadence], str | None]


def _save_mine(user: CurrentUser) -> Save:
    def save(kind: AlertKind, channel: Channel, enabled: bool, cadence: Cadence) -> str | None:
        return act_as(
            user.id,
            lambda s, a: set_my_alert(
                session=s, actor=a, kind=kind, channel=channel, enabled=enabled, cadence=cadence
            ),
            (AlertsRefused,),
        ).refused

    return save


def _save_default(user: CurrentUser, role: Role) -> Save:
    def save(kind: AlertKind, channel: Channel, enabled: bool, cadence: Cadence) -> str | None:
        return act_as(
            user.id,
            lambda s, a: set_alert_default(
                session=s, actor=a, role=role, kind=kind, channel=channel, enabled=enabled, cadence=cadence
            ),
            (AlertsRefused,),
        ).refused

    return save


def _changed(save: Save, kind: AlertKind, channel: Channel, toggle_key: str, cadence_key: str) -> None:
    """A switch or a cadence was changed: save both as they now stand."""
    enabled = bool(st.session_state.get(toggle_key))
    cadence = Cadence(st.session_state.get(cadence_key) or Cadence.instant)
    problem = save(kind, channel, enabled, cadence)
    what = f"{KIND_LABELS[kind]} by {CHANNEL_LABELS[channel].lower()}"
    if problem:
        st.session_state[FLASH_KEY] = ("error", problem)
    elif enabled:
        how = " as a daily digest" if cadence == Cadence.digest else ""
        st.session_state[FLASH_KEY] = ("ok", f"On: {what}{how}.")
    else:
        st.session_state[FLASH_KEY] = ("ok", f"Off: {what}.")


def _show_flash() -> None:
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash is None:
        return
    kind, text = flash
    if kind == "error":
        st.error(text, icon=":material/block:")
    else:
        st.toast(text, icon=":material/notifications:")


def _cell(choice: AlertChoice, save: Save, key: str) -> None:
    toggle_key, cadence_key = f"{key}_on", f"{key}_how"
    args = (save, choice.kind, choice.channel, toggle_key, cadence_key)
    if cadence_key not in st.session_state:
        st.session_state[cadence_key] = choice.cadence
    st.toggle(
        CHANNEL_LABELS[choice.channel],
        value=choice.enabled and choice.set_up,
        key=toggle_key,
        disabled=not choice.set_up,
        help=None if choice.set_up else NOT_SET_UP[choice.channel],  # on each switch too
        on_change=_changed,
        args=args,
    )
    if choice.set_up and len(choice.cadences) > 1:
        st.selectbox(
            "How often",
            list(choice.cadences),
            format_func=lambda c: CADENCE_LABELS[Cadence(c)],
            key=cadence_key,
            disabled=not choice.enabled,
            label_visibility="collapsed",
            on_change=_changed,
            args=args,
        )


def choice_grid(choices: list[AlertChoice], save: Save, key: str) -> None:
    """One row per kind: its name, then a switch per channel (with at once / daily digest where a digest
    makes sense)."""
    kinds = list(dict.fromkeys(c.kind for c in choices))
    for kind in kinds:
        label, *cells = st.columns([3, 2, 2], vertical_alignment="top")
        label.markdown(KIND_LABELS[kind])
        for column, choice in zip(cells, [c for c in choices if c.kind == kind], strict=True):
            with column:
                _cell(choice, save, f"{key}_{kind}_{choice.channel}")


def _set_up_notice(choices: list[AlertChoice], *, admin: bool) -> None:
    """Once above the switches: which channel this server cannot send on (for an admin, what it needs)."""
    missing = sorted({c.channel for c in choices if not c.set_up})
    if len(missing) == len(Channel):
        st.info(
            "Alerts are not set up on this server yet: no email and no chat"
            + (": the settings each needs are below." if admin else " — ask your admin."),
            icon=":material/notifications_off:",
        )
    for channel in missing:
        st.caption(HOW_TO_SET_UP[channel] if admin else NOT_SET_UP[channel])


def alerts_section(user: CurrentUser) -> None:
    """The signed-in person's own alerts."""
    st.subheader("Alerts")
    _show_flash()
    choices = read_as(user.id, lambda s, a: my_alert_choices(session=s, actor=a))
    if not choices:
        st.info("There are no alerts for your role.", icon=":material/notifications_off:")
        return
    st.caption(
        "What Huddle tells you, and where. Every message links back here to change it. "
        + (
            "A daily digest goes out once a day after 08:00 UTC."
            if any(DIGEST in c.cadences for c in choices)
            else ""
        )
    )
    _set_up_notice(choices, admin=user.role == Role.admin)
    choice_grid(choices, _save_mine(user), "mine")


def alert_defaults_section(user: CurrentUser) -> None:
    """An admin's defaults per role: what everyone of the role gets until they choose for themselves."""
    st.subheader("Alert defaults")
    st.caption("What each role gets until a person chooses for themselves on their own account page.")
    defaults = read_as(user.id, lambda s, a: alert_defaults(session=s, actor=a))
    picked = st.selectbox(
        "Role", list(Role), format_func=lambda r: ROLE_LABELS[Role(r)], key="alert_defaults_role"
    )
    role = Role(picked or Role.rep)
    # Defaults may be set before the channels are: they apply once the server can send.
    choices = [replace(c, set_up=True) for c in defaults[role]]
    choice_grid(choices, _save_default(user, role), f"defaults_{role}")


def alerts_sections(user: CurrentUser) -> None:
    """My account's alert sections: one's own, and for an admin every role's defaults too."""
    alerts_section(user)
    if user.role == Role.admin:
        alert_defaults_section(user)
