"""Invitations and reminders by e-mail: wording per campaign, who is pending, sending, the send log.

- **Wording.** Each message (invitation, reminder) exists in Spanish and English. The shipped
  defaults are data files in `diagnostic/data/mail/` (first line the subject, an empty line,
  the body); a campaign may replace any of them (`save_wording`), kept in `mail_templates`.
  Placeholders: `{institucion}`, `{contacto}`, `{estado}`, `{campana}`, `{enlace}`,
  `{fecha_limite}`; `{enlace}` is required, an unknown one is refused with its name.
- **Language.** An institution's own language when the data has one (an attribute
  `language`), else `MAIL_LANGUAGE` (Spanish); `es+en` sends both in one message.
- **Status of each invitation**, derived, most advanced first: verified, submitted (from the
  response), started (its first saved answer, from the audit log), opened (the link's
  landing page was requested), sent, failed (the last message was refused), not sent.
- **Sending** (`plan`, then `send`): invitations go to institutions not yet sent one;
  reminders to those already invited who have not submitted — never to a submitted one.
  One connection for the batch; each refusal is logged with the server's words and the
  batch goes on. Every message is logged in `invitation_events` with its time and actor.
- **The link.** Only the sha256 of a link is stored. The mailer derives the link it sends
  from the app's SECRET_KEY and a random nonce kept in the log, so a reminder carries the
  same link as the invitation. A link the mailer cannot rebuild (issued for a CSV download,
  or replaced since) is replaced by a new one when a message is actually delivered.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import logging
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date
from flask import current_app
from openpyxl import Workbook

from diagnostic import labels
from diagnostic.extensions import db
from diagnostic.models import (
    Answer,
    AuditEvent,
    Campaign,
    CampaignStatus,
    Institution,
    InstrumentPurpose,
    Invitation,
    InvitationEvent,
    MailTemplate,
    Participation,
    Response,
    ResponseStatus,
    User,
    utcnow,
)
from diagnostic.services import Conflict, Refusal, ServiceError, institutions, invitations, mail
from diagnostic.services.audit import SYSTEM, Actor, record
from diagnostic.services.exports import safe_cell
from diagnostic.services.refusals import Both, current_lang

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent.parent / "data" / "mail"
KINDS = ("invitation", "reminder")
LANGS = ("es", "en")
LANGUAGE_CHOICES = ("es", "en", "es+en")
PLACEHOLDERS = ("institucion", "contacto", "estado", "campana", "enlace", "fecha_limite")
PLACEHOLDER = re.compile(r"\{([^{}\s]*)\}")
COMMIT_EVERY = 25  # messages logged per transaction while sending
OPENED_EVERY = timedelta(hours=1)  # at most one "opened" per invitation and hour
MEXICO = ZoneInfo("America/Mexico_City")

KIND_LABELS = {"invitation": Both("Invitación", "Invitation"), "reminder": Both("Recordatorio", "Reminder")}
LANGUAGE_LABELS = {"es": Both("Español", "Spanish"), "en": Both("Inglés", "English"),
                   "es+en": Both("Español e inglés", "Spanish and English")}
STATUSES = ("not_sent", "failed", "sent", "opened", "started", "submitted", "verified")
STATUS_LABELS = {
    "not_sent": Both("Sin enviar", "Not sent"),
    "failed": Both("Envío fallido", "Sending failed"),
    "sent": Both("Invitación enviada", "Invitation sent"),
    "opened": Both("Enlace abierto", "Link opened"),
    "started": Both("En curso", "In progress"),
    "submitted": Both("Enviada", "Submitted"),
    "verified": Both("Verificada", "Verified"),
}
DONE = ("submitted", "verified")
EVENT_LABELS = {
    "sent": Both("Invitación enviada", "Invitation sent"),
    "reminded": Both("Recordatorio enviado", "Reminder sent"),
    "failed": Both("Envío fallido", "Sending failed"),
    "opened": Both("Enlace abierto", "Link opened"),
    "started": Both("Primera respuesta guardada", "First answer saved"),
    "submitted": Both("Cuestionario enviado", "Questionnaire submitted"),
    "review": Both("Aviso de réplica enviado (puntajes en revisión)", "Right-of-reply notice sent (scores in review)"),
}


def label(labels: dict[str, Both], code: str, lang: str | None = None) -> str:
    """The label of a code in `lang` (the reader's language by default); the code if unknown."""
    found = labels.get(code)
    return found.text(lang or current_lang()) if found else code


def type_label(code: str, lang: str | None = None) -> str:
    """An institution type's label (diagnostic/data/labels.yaml)."""
    return labels.label(code, "type", lang)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ServiceError(Refusal.MAIL_UNKNOWN_KIND, kind=kind)
    return kind


def _language(lang: str) -> str:
    if lang not in LANGUAGE_CHOICES:
        raise ServiceError(Refusal.MAIL_UNKNOWN_LANGUAGE, language=lang)
    return lang


# ------------------------------------------------------------------ wording
@dataclass(frozen=True)
class Wording:
    """A message's subject and body with placeholders, and whether the campaign wrote it."""

    subject: str
    body: str
    custom: bool = False


@cache
def default_wording(kind: str, lang: str) -> Wording:
    """The shipped wording of a message (diagnostic/data/mail/<kind>.<lang>.txt)."""
    text = (DATA / f"{_kind(kind)}.{lang}.txt").read_text(encoding="utf-8")
    subject, _blank, body = text.partition("\n\n")
    return Wording(subject.strip(), body.strip() + "\n")


def _stored(campaign: Campaign, kind: str, lang: str) -> MailTemplate | None:
    return db.session.scalar(sa.select(MailTemplate).where(
        MailTemplate.campaign_id == campaign.id, MailTemplate.kind == kind, MailTemplate.lang == lang))


def wording(campaign: Campaign, kind: str, lang: str) -> Wording:
    """The campaign's wording of a message, or the shipped default."""
    stored = _stored(campaign, _kind(kind), lang)
    if stored is None:
        return default_wording(kind, lang)
    return Wording(stored.subject, stored.body, custom=True)


def check_wording(subject: str, body: str) -> list[Both]:
    """What is wrong with a wording (empty when nothing), each problem in Spanish and English."""
    problems: list[Both] = []
    if not subject.strip():
        problems.append(Both("Asunto: está vacío", "Subject: it is empty"))
    if len(subject) > 300:
        problems.append(Both("Asunto: más de 300 caracteres", "Subject: longer than 300 characters"))
    if "\n" in subject.strip():
        problems.append(Both("Asunto: debe ser una sola línea", "Subject: it must be one line"))
    for where, text in ((Both("Asunto", "Subject"), subject), (Both("Mensaje", "Body"), body)):
        for name in sorted({m.group(1) for m in PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS)):
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            problems.append(Both(f"{where.es}: marcador desconocido {{{name}}} (se admiten {known})",
                                 f"{where.en}: unknown placeholder {{{name}}} (allowed: {known})"))
    if "{enlace}" not in body:
        problems.append(Both("Mensaje: falta {enlace}, el enlace al cuestionario",
                             "Body: {enlace}, the questionnaire link, is missing"))
    return problems


def save_wording(campaign: Campaign, kind: str, lang: str, subject: str, body: str, actor: Actor = SYSTEM) -> Wording:
    """Store the campaign's wording of a message (refused, nothing saved, when it has problems)."""
    _kind(kind)
    if lang not in LANGS:
        raise ServiceError(Refusal.MAIL_UNKNOWN_LANGUAGE, language=lang)
    body = body.replace("\r\n", "\n")
    problems = check_wording(subject, body)
    if problems:
        raise ServiceError(Refusal.MAIL_TEMPLATE_INVALID, details=problems)
    stored = _stored(campaign, kind, lang)
    if stored is None:
        stored = MailTemplate(campaign_id=campaign.id, kind=kind, lang=lang)
        db.session.add(stored)
    old = f"{stored.subject}\n\n{stored.body}" if stored.subject else None
    stored.subject, stored.body, stored.updated_by = subject.strip(), body, actor.label[:80]
    db.session.flush()
    record(actor, "mail.wording", "campaign", campaign.id, field=f"{kind}.{lang}", old=old,
           new=f"{stored.subject}\n\n{stored.body}")
    db.session.commit()
    return Wording(stored.subject, stored.body, custom=True)


def reset_wording(campaign: Campaign, kind: str, lang: str, actor: Actor = SYSTEM) -> None:
    """Go back to the shipped wording of a message."""
    stored = _stored(campaign, _kind(kind), lang)
    if stored is not None:
        record(actor, "mail.wording", "campaign", campaign.id, field=f"{kind}.{lang}",
               old=f"{stored.subject}\n\n{stored.body}", new=None, reason="default")
        db.session.delete(stored)
        db.session.commit()


def _deadline(campaign: Campaign, lang: str) -> str:
    if campaign.closes_at is None:
        return "sin fecha límite" if lang == "es" else "no deadline"
    # A deadline is stored as midnight UTC of the chosen day: the day is its UTC date.
    return format_date(campaign.closes_at.astimezone(UTC).date(), format="long", locale=lang)


def values(campaign: Campaign, institution: Institution, link: str, lang: str,
           contact_name: str | None = None) -> dict[str, str]:
    """The placeholders' values for one institution in one language (`contact_name`: the
    campaign's own contact when its roster entry has one)."""
    unit_head = "Titular de la Unidad de Transparencia" if lang == "es" else "Head of the Transparency Unit"
    return {"institucion": institution.name, "contacto": contact_name or institution.contact_name or unit_head,
            "estado": institution.state.name if institution.state else institution.state_code,
            "campana": campaign.name, "enlace": link, "fecha_limite": _deadline(campaign, lang)}


def fill(text: str, mapping: dict[str, str]) -> str:
    """Replace every known placeholder of `text` (anything else stays as written)."""
    return PLACEHOLDER.sub(lambda m: mapping.get(m.group(1), m.group(0)), text)


def render(campaign: Campaign, institution: Institution, kind: str, lang: str, link: str,
           wordings: dict[tuple[str, str], Wording] | None = None,
           contact_name: str | None = None) -> tuple[str, str]:
    """Subject and body of a message for one institution (`lang` es, en or es+en); `wordings`
    keeps the campaign's wordings across the messages of a batch."""
    wordings = {} if wordings is None else wordings
    languages = LANGS if _language(lang) == "es+en" else (lang,)
    for one in languages:
        if (kind, one) not in wordings:
            wordings[kind, one] = wording(campaign, kind, one)
    parts = [(wordings[kind, one], one) for one in languages]
    filled = [(fill(w.subject, values(campaign, institution, link, one, contact_name)),
               fill(w.body, values(campaign, institution, link, one, contact_name))) for w, one in parts]
    if len(filled) == 1:
        return filled[0]
    subject = " / ".join(s for s, _b in filled)
    body = f"{filled[0][1].rstrip()}\n\n-- English version --\n\n{filled[1][1]}"
    return subject, body


def preview(campaign: Campaign, kind: str, lang: str, base_url: str) -> tuple[str, str]:
    """The message as the campaign's first institution (within the requester's scope) would receive it
    (an example link)."""
    from diagnostic.security import current_scope

    scope = current_scope()
    sample = next((i for i in institutions.in_campaign(campaign) if scope.allows(i.state_code)), None)
    if sample is None:
        sample = Institution(key="EJEMPLO", name="Secretaría de Ejemplo", state_code="09", type="ejecutivo",
                             contact_name="Titular de la Unidad de Transparencia")
    return render(campaign, sample, kind, lang, f"{base_url.rstrip('/')}/r/EJEMPLO-DE-ENLACE")


def language_for(institution: Institution, chosen: str | None = None) -> str:
    """The language of a message: the one chosen, else the institution's own, else MAIL_LANGUAGE."""
    if chosen:
        return _language(chosen)
    own = getattr(institution, "language", None)
    if own in LANGUAGE_CHOICES:
        return own
    return current_app.config.get("MAIL_LANGUAGE") or "es"


# ------------------------------------------------------------------ status of each invitation
@dataclass
class Row:
    """One institution of a campaign with its invitation and where it stands."""

    institution: Institution
    invitation: Invitation | None
    status: str = "not_sent"
    contact_name: str | None = None   # the campaign's contact (roster entry, else the institution's)
    contact_email: str | None = None
    sent_at: datetime | None = None
    reminded_at: datetime | None = None
    reminders: int = 0
    failed_reason: str | None = None
    opened_at: datetime | None = None
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    nonce: str | None = None  # of the last link this mailer sent

    @property
    def pending(self) -> bool:
        """True until the questionnaire is submitted."""
        return self.status not in DONE

    @property
    def email(self) -> str:
        """The contact's address ('' when there is none)."""
        return (self.contact_email or self.institution.contact_email or "").strip()

    @property
    def status_label(self) -> str:
        """The status in the reader's language."""
        return label(STATUS_LABELS, self.status)


def _events(invitation_ids: list[int]) -> dict[int, list[InvitationEvent]]:
    found: dict[int, list[InvitationEvent]] = {}
    for start in range(0, len(invitation_ids), 900):  # bound parameters per statement
        chunk = invitation_ids[start:start + 900]
        for event in db.session.scalars(sa.select(InvitationEvent).where(InvitationEvent.invitation_id.in_(chunk))
                                        .order_by(InvitationEvent.at, InvitationEvent.id)):
            found.setdefault(event.invitation_id, []).append(event)
    return found


def roster(campaign: Campaign, *, state: str | None = None, type_: str | None = None,
           status: str | None = None, scope=None) -> list[Row]:
    """Every institution of the campaign with its status, filtered by state, type and status
    (and narrowed to `scope`, by default the requester's: what a list, a send or a reminder reaches)."""
    from diagnostic.security import scope_or_current

    if status and status not in STATUSES and status != "pending":
        raise ServiceError(Refusal.MAIL_UNKNOWN_STATUS, value=status)
    scope = scope_or_current(scope)
    chosen = [i for i in institutions.in_campaign(campaign, state or None)
              if (not type_ or i.type == type_) and scope.allows(i.state_code)]
    by_institution = {i.institution_id: i for i in db.session.scalars(
        sa.select(Invitation).where(Invitation.campaign_id == campaign.id))}
    events = _events([i.id for i in by_institution.values()])
    answers = {r.institution_id: r for r in db.session.scalars(sa.select(Response).where(
        Response.campaign_id == campaign.id, Response.purpose == InstrumentPurpose.INSTITUTION))}
    first_answer = dict(db.session.execute(
        sa.select(AuditEvent.response_id, sa.func.min(AuditEvent.at))
        .join(Response, Response.id == AuditEvent.response_id)
        .where(Response.campaign_id == campaign.id, Response.purpose == InstrumentPurpose.INSTITUTION,
               AuditEvent.action == "answer.set")
        .group_by(AuditEvent.response_id)).all())
    # Answers stored without an audit row (bulk loads, the demo): their earliest time stands in.
    for response_id, at in db.session.execute(
            sa.select(Answer.response_id, sa.func.min(Answer.updated_at))
            .join(Response, Response.id == Answer.response_id)
            .where(Response.campaign_id == campaign.id, Response.purpose == InstrumentPurpose.INSTITUTION)
            .group_by(Answer.response_id)):
        first_answer.setdefault(response_id, at)
    roster_entries = {p.institution_id: p for p in db.session.scalars(
        sa.select(Participation).where(Participation.campaign_id == campaign.id))}
    rows = []
    for inst in chosen:
        invitation = by_institution.get(inst.id)
        entry = roster_entries.get(inst.id)
        row = Row(inst, invitation, contact_name=entry.effective_contact_name if entry else None,
                  contact_email=entry.effective_contact_email if entry else None)
        last_mail = None
        for event in events.get(invitation.id, []) if invitation else []:
            if event.kind == "sent":
                row.sent_at = row.sent_at or event.at
            elif event.kind == "reminded":
                row.reminded_at, row.reminders = event.at, row.reminders + 1
            elif event.kind == "opened":
                row.opened_at = row.opened_at or event.at
            if event.kind in ("sent", "reminded", "failed"):
                last_mail = event
            if event.kind in ("sent", "reminded", "review") and event.link_nonce:
                row.nonce = event.link_nonce
        response = answers.get(inst.id)
        if response is not None:
            row.started_at = first_answer.get(response.id)
            row.submitted_at = response.submitted_at if response.status != ResponseStatus.DRAFT else None
        if response is not None and response.status == ResponseStatus.VERIFIED:
            row.status = "verified"
        elif row.submitted_at is not None:
            row.status = "submitted"
        elif row.started_at is not None:
            row.status = "started"
        elif row.opened_at is not None:
            row.status = "opened"
        elif last_mail is not None and last_mail.kind == "failed":
            row.status, row.failed_reason = "failed", last_mail.detail
        elif last_mail is not None:
            row.status = "sent"
        if last_mail is not None and last_mail.kind == "failed":
            row.failed_reason = last_mail.detail
        if not status or row.status == status or (status == "pending" and row.pending):
            rows.append(row)
    return rows


def select(rows: list[Row], *, state: str | None = None, type_: str | None = None,
           status: str | None = None) -> list[Row]:
    """The rows of a roster that match the filters (as `roster` would filter them)."""
    if status and status not in STATUSES and status != "pending":
        raise ServiceError(Refusal.MAIL_UNKNOWN_STATUS, value=status)
    return [r for r in rows if (not state or r.institution.state_code == state)
            and (not type_ or r.institution.type == type_)
            and (not status or r.status == status or (status == "pending" and r.pending))]


def counts(rows: list[Row]) -> dict[str, int]:
    """How many rows have each status (every status present, zero included)."""
    found = Counter(r.status for r in rows)
    return {s: found.get(s, 0) for s in STATUSES}


# ------------------------------------------------------------------ one invitation's log
@dataclass
class LogEntry:
    """One line of an invitation's log: what, when, who, and the detail (recipient or reason)."""

    kind: str
    at: datetime
    actor: str
    recipient: str = ""
    detail: str = ""

    @property
    def kind_label(self) -> str:
        """What happened, in the reader's language."""
        return label(EVENT_LABELS, self.kind)

    @property
    def actor_label(self) -> str:
        """Who did it, for people."""
        return actor_label(self.actor)


def actor_label(actor: str, lang: str | None = None) -> str:
    """Who acted, for people: a staff user's e-mail, "the institution (its link)", or "the system"."""
    kind, _sep, rest = actor.partition(":")
    if kind == "user":
        user = db.session.get(User, int(rest.split(":")[0])) if rest.split(":")[0].isdigit() else None
        if user is not None:
            return user.email
    if kind == "invitation":
        return Both("La institución (su enlace)", "The institution (its link)").text(lang or current_lang())
    return Both("Sistema", "System").text(lang or current_lang()) if kind in ("system", "") else actor


def log_of(campaign: Campaign, institution: Institution) -> list[LogEntry]:
    """The send log of one institution's invitation, oldest first, with the response's own
    "started" (first saved answer) and "submitted" moments."""
    invitation = db.session.scalar(sa.select(Invitation).where(
        Invitation.campaign_id == campaign.id, Invitation.institution_id == institution.id))
    entries = []
    if invitation is not None:
        entries = [LogEntry(e.kind, e.at, e.actor, e.recipient or "", e.detail or "")
                   for e in _events([invitation.id]).get(invitation.id, [])]
    response = db.session.scalar(sa.select(Response).where(
        Response.campaign_id == campaign.id, Response.institution_id == institution.id,
        Response.purpose == InstrumentPurpose.INSTITUTION))
    if response is not None:
        first = db.session.execute(sa.select(AuditEvent.at, AuditEvent.actor).where(
            AuditEvent.response_id == response.id, AuditEvent.action == "answer.set")
            .order_by(AuditEvent.at, AuditEvent.id).limit(1)).first()
        if first is not None:
            entries.append(LogEntry("started", first.at, first.actor))
        if response.submitted_at is not None and response.status != ResponseStatus.DRAFT:
            entries.append(LogEntry("submitted", response.submitted_at, response.submitted_by or ""))
    return sorted(entries, key=lambda e: e.at)


def record_opened(invitation_id: int) -> None:
    """Log that an invitation's landing page was requested (at most once an hour) and keep the
    time on the invitation (`last_used_at`), which the roster and progress pages show as "opened".

    Written on a connection of its own, so the request's session (and what it loaded) is
    left untouched; a failure is logged and never breaks the page."""
    now = utcnow()
    table = InvitationEvent.__table__
    try:
        with db.engine.begin() as connection:
            recent = connection.execute(sa.select(table.c.id).where(
                table.c.invitation_id == invitation_id, table.c.kind == "opened",
                table.c.at > now - OPENED_EVERY).limit(1)).first()
            if recent is None:
                connection.execute(table.insert().values(
                    invitation_id=invitation_id, kind="opened", at=now, actor=f"invitation:{invitation_id}"))
                # The invitation's own "last used" time is what the roster and progress pages read.
                invitations_table = Invitation.__table__
                connection.execute(invitations_table.update().where(invitations_table.c.id == invitation_id)
                                   .values(last_used_at=now))
    except sa.exc.SQLAlchemyError:
        log.exception("could not record that invitation %s was opened", invitation_id)


# ------------------------------------------------------------------ the link the mailer sends
def _derive(invitation_id: int, nonce: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    mac = hmac.new(key, f"apertura-invitation-link:{invitation_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def _link_token(row: Row) -> tuple[str, str | None]:
    """The token to send and the new nonce when it replaces the stored link (None: same link)."""
    assert row.invitation is not None
    if row.nonce:
        token = _derive(row.invitation.id, row.nonce)
        if hmac.compare_digest(invitations.hash_token(token), row.invitation.token_hash):
            return token, None
    nonce = secrets.token_hex(16)
    return _derive(row.invitation.id, nonce), nonce


# ------------------------------------------------------------------ planning and sending
@dataclass
class Plan:
    """Who a send would reach, and who it leaves out and why."""

    kind: str
    targets: list[Row]
    no_email: list[Row] = field(default_factory=list)
    not_invited: list[Row] = field(default_factory=list)  # reminders: never sent an invitation
    already_invited: list[Row] = field(default_factory=list)  # invitations: sent before
    link_unusable: list[Row] = field(default_factory=list)  # revoked or expired link
    replaces_links: int = 0  # links handed out otherwise (CSV) that a delivery replaces
    done: list[Row] = field(default_factory=list)  # submitted: never written to


def _usable_link(row: Row, now: datetime) -> bool:
    inv = row.invitation
    return inv is None or (inv.revoked_at is None and (inv.expires_at is None or inv.expires_at > now))


def plan(campaign: Campaign, kind: str, *, state: str | None = None, type_: str | None = None,
         status: str | None = None) -> Plan:
    """Who would get an invitation (not sent one yet) or a reminder (invited, not submitted)."""
    _kind(kind)
    result = Plan(kind, [])
    now = utcnow()
    for row in roster(campaign, state=state, type_=type_, status=status):
        if not row.pending:
            result.done.append(row)  # never anyone who has submitted
            continue
        invited = row.sent_at is not None
        if kind == "invitation" and invited:
            result.already_invited.append(row)
        elif kind == "reminder" and not invited:
            result.not_invited.append(row)
        elif not row.email:
            result.no_email.append(row)
        elif not _usable_link(row, now):
            result.link_unusable.append(row)
        else:
            result.targets.append(row)
            if row.invitation is not None and _link_token(row)[1] is not None:
                result.replaces_links += 1  # a link handed out otherwise (CSV), or replaced since
    return result


@dataclass
class Failure:
    """One message the server refused."""

    institution: str
    recipient: str
    reason: str


@dataclass
class SendReport:
    """What a send did: how many messages went out, how many failed (with the reasons), skipped."""

    kind: str
    sent: int = 0
    failed: list[Failure] = field(default_factory=list)
    skipped: int = 0
    delivery: str = ""


def send(campaign: Campaign, kind: str, *, state: str | None = None, type_: str | None = None,
         status: str | None = None, lang: str | None = None, base_url: str = "",
         actor: Actor = SYSTEM) -> SendReport:
    """Send invitations or reminders to everyone the plan targets, over one connection.

    Refused (nothing sent) when the campaign is not open or the server cannot be reached; a
    message the server refuses is logged as failed with its reason, and the rest go on."""
    _kind(kind)
    if lang:
        _language(lang)
    if campaign.status != CampaignStatus.OPEN:
        raise Conflict(Refusal.CAMPAIGN_NOT_OPEN)
    chosen = plan(campaign, kind, state=state, type_=type_, status=status)
    report = SendReport(kind, skipped=len(chosen.no_email) + len(chosen.not_invited) + len(chosen.link_unusable))
    if not chosen.targets:
        return report
    missing = [r.institution for r in chosen.targets if r.invitation is None]
    if missing:
        issued = {link.invitation.institution_id: link.invitation for link in invitations.issue(
            campaign, missing, days=current_app.config["INVITATION_DAYS"], actor=actor)}
        for row in chosen.targets:
            row.invitation = row.invitation or issued.get(row.institution.id)
    base = (base_url or current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    delivery = mail.connect()
    report.delivery = delivery.description
    event_kind = "sent" if kind == "invitation" else "reminded"
    wordings: dict[tuple[str, str], Wording] = {}
    done = 0
    try:
        for row in chosen.targets:
            invitation = row.invitation
            token, nonce = _link_token(row)
            subject, body = render(campaign, row.institution, kind, language_for(row.institution, lang),
                                   f"{base}/r/{token}", wordings, row.contact_name)
            reason = message = None
            try:
                message = mail.new_message(row.email, " ".join(subject.split()), body)
                delivery.send(message)
            except mail.Undelivered as exc:
                reason = exc.reason
            except ValueError as exc:  # an address that no header can hold
                reason = str(exc)
            if reason is not None:
                db.session.add(InvitationEvent(invitation_id=invitation.id, kind="failed", actor=actor.label[:80],
                                               recipient=row.email[:200], detail=reason))
                report.failed.append(Failure(row.institution.name, row.email, reason))
                log.warning("mail to %s refused: %s", row.email, reason)
            else:
                if nonce is not None:  # the delivered link replaces whatever link was stored
                    invitation.token_hash = invitations.hash_token(token)
                    row.nonce = nonce
                db.session.add(InvitationEvent(invitation_id=invitation.id, kind=event_kind, actor=actor.label[:80],
                                               recipient=row.email[:200], link_nonce=nonce or row.nonce,
                                               detail=str(message["Message-ID"])))
                report.sent += 1
            done += 1
            if done % COMMIT_EVERY == 0:
                db.session.commit()
    finally:
        db.session.commit()  # what was delivered is logged even when the batch stops on an error
        delivery.close()
    record(actor, f"mail.{kind}", "campaign", campaign.id, new=str(report.sent),
           reason=f"failed={len(report.failed)} skipped={report.skipped} via={report.delivery}")
    db.session.commit()
    return report


# ------------------------------------------------------------------ exports of the list
def _local(moment: datetime | None) -> str:
    return moment.astimezone(MEXICO).strftime("%Y-%m-%d %H:%M") if moment else ""


def export_rows(rows: list[Row], lang: str | None = None) -> tuple[list[str], list[list[object]]]:
    """Header and rows of the pending list: contacts, last reminder and status (labels)."""
    lang = lang or current_lang()
    es = lang != "en"
    header = (["Clave", "Institución", "Entidad", "Tipo", "Contacto", "Correo", "Estatus", "Invitación enviada",
               "Último recordatorio", "Recordatorios", "Enlace abierto", "Primera respuesta", "Último error"] if es else
              ["Key", "Institution", "State", "Type", "Contact", "E-mail", "Status", "Invitation sent",
               "Last reminder", "Reminders", "Link opened", "First answer", "Last error"])
    body = [[r.institution.key, r.institution.name,
             r.institution.state.name if r.institution.state else r.institution.state_code,
             type_label(r.institution.type, lang), r.contact_name or r.institution.contact_name or "", r.email,
             label(STATUS_LABELS, r.status, lang), _local(r.sent_at), _local(r.reminded_at), r.reminders,
             _local(r.opened_at), _local(r.started_at), r.failed_reason or ""] for r in rows]
    return header, body


def pending_csv(rows: list[Row], lang: str | None = None) -> str:
    """The list as CSV (UTF-8 with BOM so spreadsheets read the accents; formula-safe cells)."""
    header, body = export_rows(rows, lang)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in body:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def pending_xlsx(rows: list[Row], lang: str | None = None) -> bytes:
    """The list as an XLSX workbook (one sheet, formula-safe cells, header frozen)."""
    header, body = export_rows(rows, lang)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "pendientes" if (lang or current_lang()) != "en" else "pending"
    sheet.append([safe_cell(h) for h in header])
    for row in body:
        sheet.append([safe_cell(v) for v in row])
    for column, width in zip("ABCDEFGHIJKLM", (10, 40, 18, 20, 24, 30, 18, 18, 18, 8, 18, 18, 30), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
