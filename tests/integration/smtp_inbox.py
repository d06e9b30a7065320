"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives."""
from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    messages: list = field(default_factory=list)
    refuse: list = field(default_factory=list)   # SMTP replies to give instead of accepting, in turn
    recipients: list = field(default_factory=list)  # each accepted message's envelope RCPT TO
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse:
                return self.refuse.pop(0)
            message = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    # -- reading ----------------------------------------------------------------------
    def of_kind(self, kind: str, to: str | None = None) -> list:
        with self.lock:
            return [m for m in self.messages if m["X-Notification-Kind"] == kind
                    and (to is None or m["To"] == to)]

    def message_ids(self) -> Counter:
        with self.lock:
            return Counter(m["Message-ID"] for m in self.messages)

    def text(self, message) -> str:
        return message.get_body(("plain",)).get_content()

    def html(self, message) -> str:
        return message.get_body(("html",)).get_content()

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.recipients.clear()


class SmtpServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def env(self, base_url: str = "http://pace.test") -> dict[str, str]:
        return {"PACE_SMTP_HOST": "127.0.0.1", "PACE_SMTP_PORT": str(self.port),
                "PACE_SMTP_TLS": "none", "PACE_SMTP_FROM": "PACE Flow <pace-flow@council.example>",
                "PACE_BASE_URL": base_url}
