"""Delivering e-mail: one SMTP connection for a whole batch, or the outbox folder.

With `MAIL_SERVER` set, `connect()` opens one SMTP connection (STARTTLS, implicit TLS or
plain, and a login when `MAIL_USERNAME` is set) and every message of the batch goes through
it. A message the server refuses raises `Undelivered` with the server's code and words, and
the batch goes on; a connection dropped mid-batch is opened again once.

Without a server (the default, so `make run` works anywhere) each message is written as an
.eml file to `<instance>/outbox/`, which admins read at /correo/salida (`outbox_messages`,
`outbox_message`).
"""
from __future__ import annotations

import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr, parsedate_to_datetime
from pathlib import Path

from flask import current_app

from diagnostic.services import NotFound, Refusal, ServiceError

OUTBOX = "outbox"
OUTBOX_NAME = re.compile(r"^[0-9]{8}T[0-9]{12}-[0-9a-f]{8}\.eml$")


class Undelivered(Exception):
    """The server refused one message; `reason` is what it said (code and text)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def new_message(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message from the configured sender, with a Date and a Message-ID."""
    sender = current_app.config["MAIL_SENDER"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "apertura.localhost"
    message["Message-ID"] = make_msgid("apertura", domain=domain)
    message.set_content(body)
    return message


def outbox_dir() -> Path:
    """The outbox folder of the running app (`<instance>/outbox`)."""
    return Path(current_app.instance_path) / OUTBOX


def uses_outbox() -> bool:
    """True when no SMTP server is configured: messages go to the outbox folder."""
    return not current_app.config.get("MAIL_SERVER")


class Outbox:
    """Writes each message to the outbox folder as `<UTC time>-<random>.eml`."""

    description = "outbox"

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: EmailMessage) -> None:
        """Write one message."""
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(message.as_bytes(policy=policy.SMTP))

    def close(self) -> None:
        """Nothing to close."""


def _reason(code: int | None, text: bytes | str | None) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else (text or "")
    return f"{code} {words}".strip() if code else words.strip()


class Smtp:
    """One SMTP connection reused for every message of a batch."""

    def __init__(self, config: dict):
        self.config = config
        self.description = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
        self.client: smtplib.SMTP | None = None
        self.open()

    def open(self) -> None:
        """Connect (TLS as configured) and log in; a refusal naming the server when it cannot."""
        cfg = self.config
        host, port, timeout = cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), float(cfg["MAIL_TIMEOUT"])
        security = str(cfg.get("MAIL_SECURITY") or "none").lower()
        client: smtplib.SMTP | None = None
        try:
            if security == "tls":
                client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(host, port, timeout=timeout)
                if security == "starttls":
                    client.starttls(context=ssl.create_default_context())
            if cfg.get("MAIL_USERNAME"):
                client.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
        except smtplib.SMTPResponseException as exc:
            if client is not None:
                client.close()
            raise ServiceError(Refusal.MAIL_SERVER_UNREACHABLE, server=self.description,
                               reason=_reason(exc.smtp_code, exc.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as exc:
            if client is not None:
                client.close()
            raise ServiceError(Refusal.MAIL_SERVER_UNREACHABLE, server=self.description,
                               reason=str(exc) or type(exc).__name__) from None
        self.client = client

    def send(self, message: EmailMessage) -> None:
        """Send one message; `Undelivered` with the server's words when it is refused."""
        try:
            self._send(message)
        except smtplib.SMTPServerDisconnected:
            self.open()  # the server dropped an idle connection: once more on a new one
            self._send(message)

    def _send(self, message: EmailMessage) -> None:
        assert self.client is not None
        try:
            refused = self.client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise Undelivered("; ".join(_reason(code, text) for code, text in exc.recipients.values())) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise Undelivered(_reason(exc.smtp_code, exc.smtp_error)) from None
        if refused:  # some recipients of a multi-recipient message
            raise Undelivered("; ".join(_reason(code, text) for code, text in refused.values()))

    def close(self) -> None:
        """Say QUIT (a server that already left is fine)."""
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                self.client.close()
            self.client = None


def connect() -> Outbox | Smtp:
    """The configured delivery: an SMTP connection, or the outbox folder. Call `close()` after."""
    if uses_outbox():
        return Outbox(outbox_dir())
    return Smtp(current_app.config)


# ------------------------------------------------------------------ reading the outbox
@dataclass
class OutboxMessage:
    """One message of the outbox: file name, headers and plain-text body."""

    name: str
    to: str
    subject: str
    sent_at: datetime | None
    body: str = ""

    @property
    def size(self) -> int:
        """Length of the body in characters."""
        return len(self.body)


def _read(path: Path, *, body: bool) -> OutboxMessage:
    with path.open("rb") as handle:
        parsed = BytesParser(policy=policy.default).parse(handle, headersonly=not body)
    try:
        sent_at = parsedate_to_datetime(parsed["Date"]) if parsed["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    text = ""
    if body:
        part = parsed.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
    return OutboxMessage(path.name, str(parsed["To"] or ""), str(parsed["Subject"] or ""), sent_at, text)


def outbox_messages(limit: int = 200) -> tuple[list[OutboxMessage], int]:
    """The newest `limit` messages of the outbox (newest first) and how many there are in all."""
    folder = outbox_dir()
    names = sorted((p.name for p in folder.glob("*.eml") if OUTBOX_NAME.match(p.name)), reverse=True) \
        if folder.is_dir() else []
    return [_read(folder / name, body=False) for name in names[:limit]], len(names)


def outbox_path(name: str) -> Path:
    """The file of one outbox message (NotFound for any other name)."""
    path = outbox_dir() / name
    if not OUTBOX_NAME.match(name) or not path.is_file():
        raise NotFound(Refusal.MAIL_OUTBOX_MESSAGE_NOT_FOUND)
    return path


def outbox_message(name: str) -> OutboxMessage:
    """One outbox message with its body."""
    return _read(outbox_path(name), body=True)
