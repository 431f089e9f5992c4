"""E-mail transports (core/mail.py): the folder used in development and tests, and SMTP.

The SMTP test talks to a small SMTP server on 127.0.0.1 (the mail relay is a partner system we
do not run; this is its boundary): the real smtplib client, over a real socket.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from core import mail


class _TinySMTP:
    """Enough of RFC 5321 for one client: EHLO, MAIL, RCPT, DATA, QUIT (no STARTTLS offered)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[str, list[str], bytes]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        self.sock.close()
        with conn, conn.makefile("rb") as rfile:
            def say(line: str) -> None:
                conn.sendall(line.encode() + b"\r\n")

            say("220 tiny ESMTP")
            sender, rcpts = "", []
            while True:
                line = rfile.readline().decode().strip()
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    say("250-tiny")
                    say("250 8BITMIME")
                elif verb == "MAIL":
                    sender = line.split(":", 1)[1].strip().strip("<>")
                    say("250 OK")
                elif verb == "RCPT":
                    rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                    say("250 OK")
                elif verb == "DATA":
                    say("354 go ahead")
                    data = b""
                    while (chunk := rfile.readline()) != b".\r\n":
                        data += chunk
                    self.received.append((sender, rcpts, data))
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("502 not implemented")


@pytest.fixture
def restore_mail() -> Iterator[None]:
    saved = mail._state.get("config")
    yield
    if saved is not None:
        mail._state["config"] = saved


def test_smtp_delivers_one_message_to_the_relay(restore_mail: Any) -> None:
    server = _TinySMTP()
    mail.configure_mail(f"smtp://127.0.0.1:{server.port}", "SEND services <no-reply@council.example>")
    mail.send("parent@example.org", "Sign in to Council A", "Your link: https://example.test/x")
    server.thread.join(timeout=10)
    ((sender, rcpts, data),) = server.received
    assert sender == "no-reply@council.example" and rcpts == ["parent@example.org"]
    msg = message_from_bytes(data)
    assert msg["Subject"] == "Sign in to Council A" and "Your link" in msg.get_payload(decode=True).decode()


def test_the_file_transport_keeps_each_message_for_reading_back(restore_mail: Any, tmp_path: Path) -> None:
    mail.configure_mail(f"file://{tmp_path / 'mail'}", "SEND services <no-reply@council.example>")
    mail.send("a@example.org", "First", "one")
    mail.send("b@example.org", "Second", "two")
    assert [m["Subject"] for m in mail.read_outbox()] == ["First", "Second"]
    assert [m.get_content().strip() for m in mail.read_outbox("B@example.org")] == ["two"]


def test_an_unknown_transport_is_refused(restore_mail: Any) -> None:
    with pytest.raises(ValueError):
        mail.configure_mail("http://example.org", "x")
