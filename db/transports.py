"""The two ways a message leaves Huddle (issue 13): email over SMTP and a chat webhook (Slack-compatible,
or a Microsoft Teams card when the webhook is a Teams one).

A transport sends one already rendered outbox row (db/outbox.py; the alerts render, nothing here
re-renders) and raises `SendFailed` with a reason fit for the Delivery page and the log: never a password,
never the webhook's URL (its path is a secret token), never a message body. `SendFailed.permanent` says
that trying again cannot help (the mail server refused the address for good, the webhook is gone).
"""

from __future__ import annotations

import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

from db.models import Channel
from db.settings import Settings

SMTP_TIMEOUT_SECONDS = 20.0
WEBHOOK_TIMEOUT_SECONDS = 10.0
SECURITY_CHOICES = ("none", "starttls", "tls")
TEAMS_HOSTS = ("webhook.office.com", ".logic.azure.com")


class SendFailed(Exception):
    """One message could not be sent; the text is safe to store and log."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """One claimed outbox row, as a transport needs it."""

    id: int
    channel: Channel
    recipient: str | None
    subject: str
    text: str
    html: str | None
    chat: dict[str, Any] | None


class Transport(Protocol):
    def send(self, message: Outgoing) -> None:
        """Deliver one message or raise SendFailed."""

    def close(self) -> None:
        """Let go of any connection kept between messages."""


def missing_settings(settings: Settings, channel: Channel) -> list[str]:
    """The settings a channel lacks before it can send (empty: it can)."""
    if channel is Channel.email:
        needed = {
            "HUDDLE_SMTP_HOST": settings.huddle_smtp_host,
            "HUDDLE_MAIL_FROM": settings.huddle_mail_from,
        }
        return [name for name, value in needed.items() if not value.strip()]
    return [] if settings.huddle_chat_webhook_url.strip() else ["HUDDLE_CHAT_WEBHOOK_URL"]


def settings_problem(settings: Settings) -> str | None:
    """A setting that is set but cannot work (an unknown SMTP security), else None."""
    if settings.huddle_smtp_security.strip().lower() not in SECURITY_CHOICES:
        return f"HUDDLE_SMTP_SECURITY must be one of {', '.join(SECURITY_CHOICES)}"
    return None


def transports_for(settings: Settings) -> dict[Channel, Transport]:
    """A transport for every channel whose settings are complete; the others' messages wait."""
    found: dict[Channel, Transport] = {}
    if not missing_settings(settings, Channel.email) and settings_problem(settings) is None:
        found[Channel.email] = SmtpTransport.from_settings(settings)
    if not missing_settings(settings, Channel.chat):
        found[Channel.chat] = WebhookTransport(settings.huddle_chat_webhook_url.strip())
    return found


# ---------------------------------------------------------------- email


def message_id(outbox_id: int, mail_from: str) -> str:
    """The same Message-ID every time one outbox row is sent, so a server or a mail client can drop a
    re-send (the one a sender killed between sending and marking sent makes)."""
    domain = mail_from.rpartition("@")[2].strip(" >") or "huddle.invalid"
    return f"<huddle-outbox-{outbox_id}@{domain}>"


def email_for(message: Outgoing, *, mail_from: str) -> EmailMessage:
    """A multipart/alternative mail: the plain text first, the HTML as the richer part."""
    if not message.recipient:
        raise SendFailed("no address", permanent=True)
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = mail_from
    mail["To"] = message.recipient
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message_id(message.id, mail_from)
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail


def _smtp_reason(error: BaseException) -> SendFailed:
    """What went wrong with the mail server, in words that hold no secret (not the server's own text,
    which may echo the login)."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return SendFailed(f"the mail server refused the login ({error.smtp_code})")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return SendFailed(
            f"the mail server refused the address ({', '.join(map(str, codes))})",
            permanent=all(code >= 500 for code in codes),
        )
    if isinstance(error, smtplib.SMTPSenderRefused):
        return SendFailed(f"the mail server refused the sender address ({error.smtp_code})")
    if isinstance(error, smtplib.SMTPResponseException):
        return SendFailed(f"the mail server answered {error.smtp_code}")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return SendFailed("the mail server closed the connection")
    if isinstance(error, TimeoutError):
        return SendFailed("the mail server did not answer in time")
    if isinstance(error, ssl.SSLError):
        return SendFailed("the TLS handshake with the mail server failed")
    if isinstance(error, ConnectionRefusedError):
        return SendFailed("the mail server refused the connection")
    if isinstance(error, OSError):
        return SendFailed(f"cannot reach the mail server ({type(error).__name__})")
    return SendFailed(f"sending the mail failed ({type(error).__name__})")


class SmtpTransport:
    """SMTP with one connection kept for a run's messages, opened again after an error."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        user: str,
        password: str,
        mail_from: str,
        timeout: float = SMTP_TIMEOUT_SECONDS,
    ) -> None:
        self.host, self.port, self.security = host, port, security.strip().lower()
        self._user, self._password = user, password
        self.mail_from, self.timeout = mail_from, timeout
        self._connection: smtplib.SMTP | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpTransport:
        return cls(
            host=settings.huddle_smtp_host.strip(),
            port=settings.huddle_smtp_port,
            security=settings.huddle_smtp_security,
            user=settings.huddle_smtp_user,
            password=settings.huddle_smtp_password,
            mail_from=settings.huddle_mail_from.strip(),
        )

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if self.security == "tls":
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                connection.starttls(context=context)
        if self._user:
            connection.login(self._user, self._password)
        return connection

    def send(self, message: Outgoing) -> None:
        mail = email_for(message, mail_from=self.mail_from)
        try:
            if self._connection is None:
                self._connection = self._connect()
            self._connection.send_message(mail)
        except Exception as error:
            self.close()
            raise _smtp_reason(error) from None

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


# ---------------------------------------------------------------- chat


def is_teams(url: str) -> bool:
    return any(host in url for host in TEAMS_HOSTS)


_URL = re.compile(r"https?://\S+")
_TEAMS_MARKDOWN = set("\\`*_[](){}#~|!")


def teams_text(text: str) -> str:
    """Plain text made inert for a Teams card, which reads markdown and some HTML: outside the links,
    `&`, `<`, `>` become entities and markdown's characters are escaped, so a lead named
    `[x](javascript:...)` or `<img ...>` shows as typed. Lines become paragraphs."""

    def inert(part: str) -> str:
        part = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return "".join("\\" + ch if ch in _TEAMS_MARKDOWN else ch for ch in part)

    pieces, last = [], 0
    for link in _URL.finditer(text):
        pieces += [inert(text[last : link.start()]), link.group(0)]
        last = link.end()
    pieces.append(inert(text[last:]))
    return "".join(pieces).replace("\n", "\n\n")


def teams_card(message: Outgoing) -> dict[str, Any]:
    """The same content as a Teams MessageCard: the subject as its title and the plain text, made inert."""
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": message.subject,
        "title": teams_text(message.subject),
        "text": teams_text(message.text),
    }


class WebhookTransport:
    """POST the row's JSON body to the team's incoming webhook; any 2xx answer means delivered."""

    def __init__(self, url: str, *, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> None:
        self._url, self.timeout = url, timeout

    def body(self, message: Outgoing) -> bytes:
        if is_teams(self._url):
            return json.dumps(teams_card(message)).encode()
        if not message.chat:
            return json.dumps({"text": message.text}).encode()
        return json.dumps(message.chat).encode()

    def send(self, message: Outgoing) -> None:
        request = urllib.request.Request(
            self._url,
            data=self.body(message),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            retry_helps = error.code in (408, 425, 429) or error.code >= 500
            raise SendFailed(f"the chat webhook answered {error.code}", permanent=not retry_helps) from None
        except TimeoutError:
            raise SendFailed(f"the chat webhook did not answer within {self.timeout:g} s") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise SendFailed(f"the chat webhook did not answer within {self.timeout:g} s") from None
            raise SendFailed(f"cannot reach the chat webhook ({type(error.reason).__name__})") from None
        except OSError as error:
            raise SendFailed(f"cannot reach the chat webhook ({type(error).__name__})") from None
        if not 200 <= status < 300:
            raise SendFailed(f"the chat webhook answered {status}")

    def close(self) -> None:
        return None
