"""E-mail the platform sends itself: sign-in links and invitations (issue #4).

Two transports, chosen by ``MAIL_URL``:

* ``file:///folder``: each message is written as an ``.eml`` file (development, the demo and
  the tests read them back with :func:`read_outbox`);
* ``smtp://host:port`` (STARTTLS when the server offers it) or ``smtps://host:port``, with
  optional ``user:password@``: production, until GOV.UK Notify arrives with the notifications
  plugin (issue #5).

Messages are sent inside the request that makes them, not from a job: a sign-in link or an
invitation holds a secret and an address, and job payloads never carry either (core.jobs).
Nothing here logs an address or a body.
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.db import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailConfig:
    url: str
    sender: str


_state: dict[str, MailConfig] = {}


def configure_mail(url: str, sender: str) -> None:
    if not url.startswith(("file:///", "smtp://", "smtps://")):
        raise ValueError("MAIL_URL must start with file:///, smtp:// or smtps://")
    _state["config"] = MailConfig(url=url, sender=sender)


def _config() -> MailConfig:
    config = _state.get("config")
    if config is None:
        raise RuntimeError("core.mail is not configured (create_app calls configure_mail)")
    return config


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text message to one address. Raises on failure (the request then fails
    and its transaction rolls back, so nobody is told of a link that was never stored)."""
    config = _config()
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4()}@sendbridge>"
    msg.set_content(body)
    parts = urlsplit(config.url)
    if parts.scheme == "file":
        folder = Path(unquote(parts.path))
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.eml"
        (folder / name).write_bytes(msg.as_bytes(policy=email.policy.SMTP))
    else:
        host, port = parts.hostname or "127.0.0.1", parts.port
        context = ssl.create_default_context()
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=20, context=context)
        else:
            client = smtplib.SMTP(host, port or 587, timeout=20)
        with client:
            if parts.scheme == "smtp":
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(msg)
    log.info("mail sent", extra={"subject_kind": subject.split(":")[0][:40]})


def outbox_folder() -> Path | None:
    config = _config()
    parts = urlsplit(config.url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def read_outbox(to: str | None = None) -> list[EmailMessage]:
    """Messages written by the file transport, oldest first (optionally only to ``to``)."""
    folder = outbox_folder()
    if folder is None or not folder.exists():
        return []
    out = []
    for path in sorted(folder.glob("*.eml")):
        msg = BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
        if to is None or str(msg["To"]).lower() == to.lower():
            out.append(msg)  # type: ignore[arg-type]
    return out
