"""A real SMTP server on loopback for the mail tests (aiosmtpd), and what it received.

`SmtpServer.start(refuse={address: reply})` answers RCPT for those addresses with the reply
(e.g. "550 5.1.1 ..."); every accepted message is kept with its envelope and the client's
address (one peer per connection, so a test can count connections)."""
from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    peer: tuple
    encrypted: bool = False

    @property
    def body(self) -> str:
        """The plain-text body."""
        return self.message.get_body(preferencelist=("plain",)).get_content()


@dataclass
class Handler:
    """Accepts every message except for the refused recipients."""

    refuse: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd hook)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, session.peer,
                                      session.ssl is not None))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd on 127.0.0.1 in a thread of its own."""

    def __init__(self, refuse: dict[str, str] | None = None, login: tuple[str, str] | None = None,
                 tls_context=None):
        self.handler = Handler(dict(refuse or {}))
        self.port = free_port()
        self.logins: list[str] = []
        options: dict = {"tls_context": tls_context, "require_starttls": True} if tls_context else {}
        if login is not None:  # AUTH required (over plain TCP: this is loopback in a test)
            options |= {"authenticator": self._authenticator(login), "auth_required": True,
                        "auth_require_tls": tls_context is not None}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    def _authenticator(self, expected: tuple[str, str]):
        def authenticate(server, session, envelope, mechanism, auth_data):
            if isinstance(auth_data, LoginPassword):
                given = (auth_data.login.decode(), auth_data.password.decode())
                if given == expected:
                    self.logins.append(given[0])
                    return AuthResult(success=True)
            return AuthResult(success=False, handled=False)

        return authenticate

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        """Every message accepted so far."""
        return self.handler.received

    def config(self) -> dict:
        """The app settings that send through this server."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_SECURITY": "none",
                "MAIL_SENDER": "Apertura <invitaciones@apertura.test>", "MAIL_TIMEOUT": 10}
