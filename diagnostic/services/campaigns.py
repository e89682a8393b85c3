"""Campaigns (editions): creation, instruments, status life cycle and progress figures."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import (
    Assignment,
    Campaign,
    CampaignInstrument,
    CampaignStatus,
    IndexModelVersion,
    Institution,
    InstrumentPurpose,
    InstrumentVersion,
    Invitation,
    Participation,
    Response,
    ResponseStatus,
    State,
)
from diagnostic.services import Conflict, NotFound, Refusal, ServiceError, reply
from diagnostic.services.audit import SYSTEM, Actor, record
from diagnostic.services.refusals import Both, _Templates

# Allowed status changes: draft → open → closed → in review → published; a closed campaign may
# reopen; a campaign in review may go back to closed (its reply window stops). Publishing goes
# through the review: institutions see their scores before publication (methodology §9.5).
TRANSITIONS = {
    CampaignStatus.DRAFT: {CampaignStatus.OPEN},
    CampaignStatus.OPEN: {CampaignStatus.CLOSED},
    CampaignStatus.CLOSED: {CampaignStatus.OPEN, CampaignStatus.IN_REVIEW},
    CampaignStatus.IN_REVIEW: {CampaignStatus.CLOSED, CampaignStatus.PUBLISHED},
    CampaignStatus.PUBLISHED: set(),
}


def slugify(text: str) -> str:
    """ASCII, lower-case, dash-separated slug of a name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80] or "campania"


def create(name: str, year: int, *, slug: str | None = None, instructions: str = "",
           closes_at: datetime | None = None, actor: Actor = SYSTEM) -> Campaign:
    """Create a draft campaign; the slug must be unique."""
    name = name.strip()
    if not name:
        raise ServiceError(Refusal.CAMPAIGN_NAME_REQUIRED)
    if not 2000 <= int(year) <= 2100:
        raise ServiceError(Refusal.YEAR_OUT_OF_RANGE)
    slug = slugify(slug or f"{name}-{year}")
    if get_by_slug(slug, missing_ok=True) is not None:
        raise Conflict(Refusal.CAMPAIGN_EXISTS, slug=slug)
    campaign = Campaign(name=name, year=int(year), slug=slug, instructions=instructions, closes_at=closes_at)
    db.session.add(campaign)
    db.session.flush()
    record(actor, "campaign.create", "campaign", campaign.id, new=CampaignStatus.DRAFT.value)
    db.session.commit()
    return campaign


def get_by_slug(slug: str, *, missing_ok: bool = False) -> Campaign | None:
    """The campaign with this slug; NotFound unless `missing_ok`."""
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == slug))
    if campaign is None and not missing_ok:
        raise NotFound(Refusal.CAMPAIGN_NOT_FOUND)
    return campaign


def all_campaigns() -> list[Campaign]:
    """Every campaign, newest first."""
    return list(db.session.scalars(sa.select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())))


def instrument(campaign: Campaign, purpose: InstrumentPurpose | str) -> InstrumentVersion | None:
    """The instrument version a campaign uses for a purpose (institution, evaluator, state)."""
    purpose = InstrumentPurpose(purpose)
    for link in campaign.instruments:
        if link.purpose == purpose:
            return link.instrument_version
    return None


def set_instrument(campaign: Campaign, purpose: InstrumentPurpose | str, version: InstrumentVersion,
                   actor: Actor = SYSTEM) -> None:
    """Choose the instrument version for a purpose; only while the campaign is a draft."""
    try:
        purpose = InstrumentPurpose(purpose)
    except ValueError:
        raise ServiceError(Refusal.UNKNOWN_PURPOSE, purpose=purpose) from None
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(Refusal.INSTRUMENTS_ONLY_IN_DRAFT)
    link = next((i for i in campaign.instruments if i.purpose == purpose), None)
    old = link.instrument_version.content_hash if link else None
    if link is None:
        campaign.instruments.append(CampaignInstrument(purpose=purpose, instrument_version=version))
    else:
        link.instrument_version = version
    record(actor, "campaign.instrument", "campaign", campaign.id, field=purpose.value,
           old=old, new=version.content_hash)
    db.session.commit()


def set_index_model(campaign: Campaign, model: IndexModelVersion, actor: Actor = SYSTEM) -> None:
    """Choose the index model that scores the campaign (unchecked: `index_models.choose` checks it).

    Changes only in a draft: the model is fixed when the campaign opens, like its instruments.
    A campaign that opened without a model may still receive one, which is then fixed.
    """
    if campaign.status == CampaignStatus.PUBLISHED:
        raise Conflict(Refusal.MODEL_FIXED_AFTER_PUBLISHING)
    if campaign.status != CampaignStatus.DRAFT and campaign.index_model is not None:
        raise Conflict(Refusal.MODEL_FIXED_WHEN_OPEN)
    old = campaign.index_model.content_hash if campaign.index_model else None
    campaign.index_model = model
    if campaign.status != CampaignStatus.DRAFT:
        model.locked = True
    record(actor, "campaign.index_model", "campaign", campaign.id, old=old, new=model.content_hash)
    db.session.commit()


def set_status(campaign: Campaign, status: CampaignStatus | str, actor: Actor = SYSTEM,
               reason: str | None = None) -> Campaign:
    """Move a campaign along draft → open → closed → in review → published (closed may reopen)."""
    try:
        status = CampaignStatus(status)
    except ValueError:
        raise ServiceError(Refusal.UNKNOWN_CAMPAIGN_STATUS, value=status) from None
    if status not in TRANSITIONS[campaign.status]:
        from diagnostic import labels

        raise Conflict(Refusal.TRANSITION_NOT_ALLOWED, source=labels.both(campaign.status),
                       target=labels.both(status))
    if status == CampaignStatus.OPEN and campaign.status == CampaignStatus.DRAFT:
        missing = [item for item in checklist(campaign) if item.blocks]
        if missing:
            raise Conflict(Refusal.CAMPAIGN_NOT_READY, count=len(missing),
                           details=[line for item in missing for line in (item.text, *item.details)])
    if status == CampaignStatus.PUBLISHED:
        from diagnostic.services import second_verification

        second_verification.check_publishable(campaign)
    if status == CampaignStatus.OPEN:
        for link in campaign.instruments:
            link.instrument_version.locked = True
        if campaign.index_model is not None:
            campaign.index_model.locked = True
        if campaign.opens_at is None:
            campaign.opens_at = datetime.now(UTC)
    reply.before_status_change(campaign, status, actor)  # right of reply: window start; publishing waits
    old = campaign.status
    campaign.status = status
    record(actor, "campaign.status", "campaign", campaign.id, old=old.value, new=status.value, reason=reason)
    db.session.commit()
    return campaign


def progress(campaign: Campaign, scope=None) -> dict:
    """Counts for a campaign: institutions, invitations, and responses by purpose and status
    (of the scope's states only for a state-scoped account)."""
    from diagnostic.models import Institution
    from diagnostic.security import scope_or_current

    scope = scope_or_current(scope)
    state = Institution.state_code
    institutions = db.session.scalar(scope.restrict(
        sa.select(sa.func.count(Participation.id)).join(Institution, Institution.id == Participation.institution_id)
        .where(Participation.campaign_id == campaign.id, Participation.withdrawn_at.is_(None)), state)) or 0
    invitations = db.session.scalar(scope.restrict(
        sa.select(sa.func.count(Invitation.id)).join(Institution, Institution.id == Invitation.institution_id)
        .where(Invitation.campaign_id == campaign.id), state)) or 0
    by_status = {s.value: 0 for s in ResponseStatus}
    rows = db.session.execute(scope.restrict(
        sa.select(Response.purpose, Response.status, sa.func.count(Response.id))
        .join(Institution, Institution.id == Response.institution_id)
        .where(Response.campaign_id == campaign.id), state)
        .group_by(Response.purpose, Response.status))
    by_purpose: dict[str, dict[str, int]] = {}
    for purpose, status, n in rows:
        by_purpose.setdefault(purpose.value, dict(by_status))[status.value] = n
    return {"institutions": institutions, "invitations": invitations, "responses": by_purpose}


# ------------------------------------------------------------------ editing and deleting
EDITABLE = ("name", "year", "instructions", "closes_at")


def update(campaign: Campaign, *, actor: Actor = SYSTEM, **changes: object) -> list[str]:
    """Change a draft campaign's name, year, instructions or deadline; returns the fields changed."""
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(Refusal.CAMPAIGN_EDIT_ONLY_IN_DRAFT)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if "name" in changes:
        changes["name"] = str(changes["name"] or "").strip()
        if not changes["name"]:
            raise ServiceError(Refusal.CAMPAIGN_NAME_REQUIRED)
    if "year" in changes:
        try:
            changes["year"] = int(changes["year"])
        except (TypeError, ValueError):
            raise ServiceError(Refusal.YEAR_OUT_OF_RANGE) from None
        if not 2000 <= changes["year"] <= 2100:
            raise ServiceError(Refusal.YEAR_OUT_OF_RANGE)
    if "instructions" in changes:
        changes["instructions"] = str(changes["instructions"] or "")
    changed = []
    for name, value in changes.items():
        old = getattr(campaign, name)
        if old != value:
            setattr(campaign, name, value)
            record(actor, "campaign.edit", "campaign", campaign.id, field=name,
                   old=None if old is None else str(old), new=None if value is None else str(value))
            changed.append(name)
    db.session.commit()
    return changed


def response_count(campaign: Campaign) -> int:
    """How many responses (any status, any questionnaire) the campaign has."""
    return db.session.scalar(sa.select(sa.func.count(Response.id)).where(Response.campaign_id == campaign.id)) or 0


def delete(campaign: Campaign, *, actor: Actor = SYSTEM) -> None:
    """Delete a campaign nobody answered: its questionnaire choices, sample, assignments and links.

    Institutions, stored questionnaires and models stay (other campaigns may use them); the audit
    log keeps the deletion.
    """
    if campaign.status == CampaignStatus.PUBLISHED:
        raise Conflict(Refusal.CAMPAIGN_PUBLISHED_KEPT)
    answered = response_count(campaign)
    if answered:
        raise Conflict(Refusal.CAMPAIGN_HAS_RESPONSES, count=answered)
    for model in (Invitation, Assignment, Participation):  # its questionnaire choices go by ORM cascade
        db.session.execute(sa.delete(model).where(model.campaign_id == campaign.id))
    record(actor, "campaign.delete", "campaign", campaign.id, old=campaign.slug, new=None)
    db.session.delete(campaign)
    db.session.commit()


# ------------------------------------------------------------------ the checklist before opening
class Check(_Templates):
    """What the checklist says about each item: (Spanish, English)."""

    INSTITUTION_INSTRUMENT = ("Cuestionario institucional: {title}", "Institutional questionnaire: {title}")
    EVALUATOR_INSTRUMENT = ("Cuestionario de evaluadores: {title}", "Evaluators' questionnaire: {title}")
    NO_EVALUATOR_INSTRUMENT = ("Sin cuestionario de evaluadores: no habrá evaluación ciudadana (usuario simulado).",
                               "No evaluators' questionnaire: there will be no citizen (simulated user) evaluation.")
    STATE_INSTRUMENT = ("Cuestionario de condiciones estatales: {title}", "State conditions questionnaire: {title}")
    NO_STATE_INSTRUMENT = ("Sin cuestionario de condiciones estatales: los informes no tendrán la sección de "
                           "condiciones.",
                           "No state conditions questionnaire: reports will have no conditions section.")
    MODEL = ("Modelo de índice: {model}", "Index model: {model}")
    NO_MODEL = ("Sin modelo de índice: la campaña no se podrá puntuar hasta que elija uno (al abrir, el modelo "
                "queda fijo).",
                "No index model: the campaign cannot be scored until one is chosen (the model is fixed at opening).")
    MODEL_INVALID = ("El modelo de índice {model} no corresponde a los cuestionarios de la campaña ({count} errores).",
                     "The index model {model} does not fit the campaign's questionnaires ({count} errors).")
    INSTITUTIONS = ("Instituciones en la campaña: {count}", "Institutions in the campaign: {count}")
    NO_INSTITUTIONS = ("La campaña no tiene instituciones: importe la lista (CSV o XLSX).",
                       "The campaign has no institutions: import the list (CSV or XLSX).")
    EVALUATORS = ("Todas las instituciones tienen evaluador asignado.", "Every institution has an assigned evaluator.")
    EVALUATORS_MISSING = ("Instituciones sin evaluador asignado: {count} de {total}.",
                          "Institutions without an assigned evaluator: {count} of {total}.")
    STATE_RESPONDENTS = ("Cada entidad tiene quien responda sus condiciones.",
                         "Every state has someone to answer its conditions.")
    STATE_RESPONDENTS_MISSING = ("Entidades sin responsable del cuestionario de condiciones: {states}.",
                                 "States without a respondent for the conditions questionnaire: {states}.")
    DEADLINE = ("Fecha límite: {date}", "Deadline: {date}")
    NO_DEADLINE = ("Sin fecha límite: cada enlace de invitación vence {days} días después de emitirse.",
                   "No deadline: each invitation link expires {days} days after it is issued.")
    DEADLINE_PASSED = ("La fecha límite ({date}) ya pasó: los enlaces nacerían vencidos. Edite la campaña.",
                       "The deadline ({date}) has passed: links would be born expired. Edit the campaign.")


@dataclass
class CheckItem:
    """One line of the checklist: fine or not, and whether it keeps the campaign from opening."""

    key: str
    ok: bool
    blocking: bool
    text: Both
    details: list[Both] = field(default_factory=list)

    @property
    def blocks(self) -> bool:
        """Missing and required to open."""
        return not self.ok and self.blocking


def _title(version) -> str:
    return f"{version.title} · {version.version}" if version.version else version.title


def checklist(campaign: Campaign, *, invitation_days: int | None = None) -> list[CheckItem]:
    """What a campaign needs before opening. Blocking: the institutional questionnaire, a model that
    fits the questionnaires (when one is chosen), institutions, a deadline not yet past. Warnings:
    the other questionnaires, the model itself, evaluators and state respondents, a deadline."""
    from diagnostic.services import index_models

    items: list[CheckItem] = []
    own = {p: instrument(campaign, p) for p in InstrumentPurpose}
    version = own[InstrumentPurpose.INSTITUTION]
    items.append(CheckItem("institution_instrument", version is not None, True,
                           Check.INSTITUTION_INSTRUMENT.both(title=_title(version)) if version
                           else Refusal.INSTITUTIONAL_INSTRUMENT_REQUIRED.both()))
    version = own[InstrumentPurpose.EVALUATOR]
    items.append(CheckItem("evaluator_instrument", version is not None, False,
                           Check.EVALUATOR_INSTRUMENT.both(title=_title(version)) if version
                           else Check.NO_EVALUATOR_INSTRUMENT.both()))
    version = own[InstrumentPurpose.STATE]
    items.append(CheckItem("state_instrument", version is not None, False,
                           Check.STATE_INSTRUMENT.both(title=_title(version)) if version
                           else Check.NO_STATE_INSTRUMENT.both()))
    stored = campaign.index_model
    if stored is None:
        items.append(CheckItem("index_model", False, False, Check.NO_MODEL.both()))
    else:
        name = f"{stored.model_id} {stored.version}".strip()
        checked = index_models.check_stored(campaign, stored)
        if checked.ok:
            items.append(CheckItem("index_model", True, True, Check.MODEL.both(model=name), list(checked.warnings)))
        else:
            items.append(CheckItem("index_model", False, True,
                                   Check.MODEL_INVALID.both(model=name, count=len(checked.errors)), checked.errors))
    sample = db.session.execute(
        sa.select(Participation.institution_id, Participation.state_respondent, Institution.state_code)
        .join(Institution, Institution.id == Participation.institution_id)
        .where(Participation.campaign_id == campaign.id)).all()
    items.append(CheckItem("institutions", bool(sample), True,
                           Check.INSTITUTIONS.both(count=len(sample)) if sample else Check.NO_INSTITUTIONS.both()))
    if own[InstrumentPurpose.EVALUATOR] is not None and sample:
        assigned = set(db.session.scalars(sa.select(Assignment.institution_id)
                                          .where(Assignment.campaign_id == campaign.id)))
        missing = sum(1 for row in sample if row.institution_id not in assigned)
        items.append(CheckItem("evaluators", not missing, False,
                               Check.EVALUATORS_MISSING.both(count=missing, total=len(sample)) if missing
                               else Check.EVALUATORS.both()))
    if own[InstrumentPurpose.STATE] is not None and sample:
        covered = {row.state_code for row in sample if row.state_respondent}
        uncovered = sorted({row.state_code for row in sample if row.state_code != "00"} - covered)
        if uncovered:
            names = {s.code: s.name for s in db.session.scalars(sa.select(State).where(State.code.in_(uncovered)))}
            text = Check.STATE_RESPONDENTS_MISSING.both(states=", ".join(names.get(c, c) for c in uncovered))
        else:
            text = Check.STATE_RESPONDENTS.both()
        items.append(CheckItem("state_respondents", not uncovered, False, text))
    if campaign.closes_at is None:
        from flask import current_app

        days = invitation_days or current_app.config.get("INVITATION_DAYS", 120)
        items.append(CheckItem("deadline", False, False, Check.NO_DEADLINE.both(days=days)))
    else:
        date = campaign.closes_at.strftime("%Y-%m-%d")
        passed = campaign.closes_at <= datetime.now(UTC)
        items.append(CheckItem("deadline", not passed, True,
                               Check.DEADLINE_PASSED.both(date=date) if passed else Check.DEADLINE.both(date=date)))
    return items


# ------------------------------------------------------------------ what a status change does
class Effect(_Templates):
    """What changes when a campaign moves to another status: (Spanish, English)."""

    FIXED = ("Los cuestionarios y el modelo de índice quedan fijos: ya no se podrán cambiar.",
             "The questionnaires and the index model become fixed: they can no longer change.")
    NO_EDITING = ("La campaña ya no se podrá editar (nombre, año, instrucciones, fecha límite) ni borrar una vez "
                  "que alguien responda.",
                  "The campaign can no longer be edited (name, year, instructions, deadline), nor deleted once "
                  "someone answers.")
    LINKS_START = ("Los enlaces de invitación empiezan a funcionar: las {count} instituciones de la campaña pueden "
                   "responder {deadline}.",
                   "Invitation links start working: the campaign's {count} institutions can answer {deadline}.")
    LINKS_STOP = ("Los enlaces de invitación dejan de funcionar: nadie podrá guardar ni enviar respuestas, tampoco "
                  "los evaluadores.",
                  "Invitation links stop working: nobody can save or submit answers, evaluators included.")
    DRAFTS_LEFT = ("Respuestas en borrador que quedan sin enviar y no cuentan en los puntajes: {count}.",
                   "Draft responses left unsubmitted, which do not count in the scores: {count}.")
    STILL_VERIFIABLE = ("Las respuestas enviadas ({count}) se pueden seguir verificando; la campaña se puede reabrir.",
                        "Submitted responses ({count}) can still be verified; the campaign can be reopened.")
    LINKS_AGAIN = ("Los enlaces de invitación vuelven a funcionar: las instituciones sin respuesta enviada ({count}) "
                   "pueden responder {deadline}.",
                   "Invitation links work again: institutions without a submitted response ({count}) can answer "
                   "{deadline}.")
    SUBMITTED_STAY = ("Las respuestas enviadas siguen enviadas; para cambiar una, reábrala en la tabla de respuestas.",
                      "Submitted responses stay submitted; to change one, reopen it in the responses table.")
    DEADLINE_PASSED = ("La fecha límite ({date}) ya pasó: los enlaces emitidos siguen vencidos.",
                       "The deadline ({date}) has passed: links already issued remain expired.")
    PUBLIC = ("Los resultados se vuelven públicos, para cualquiera y sin cuenta, en {url}: el índice de cada entidad "
              "con sus intervalos, un informe por entidad (HTML y PDF) y datos abiertos (CSV) por institución, "
              "entidad, tipo y nación.",
              "Results become public, for anyone and without an account, at {url}: each state's index with its "
              "intervals, a report per state (HTML and PDF) and open data (CSV) by institution, state, type and nation.")
    PUBLIC_INSTITUTIONS = ("Se publican los puntajes de las {count} instituciones de la muestra, con su clave y nombre; "
                           "las que no respondieron ({missing}) puntúan según el modelo (sin respuesta, cero).",
                           "The scores of the sample's {count} institutions are published, with their key and name; "
                           "those that did not respond ({missing}) score as the model says (no answer, zero).")
    UNVERIFIED_PUBLISHED = ("Respuestas enviadas sin verificar que se publican tal como llegaron: {count}.",
                            "Submitted responses not yet verified, published as they arrived: {count}.")
    FINAL = ("No se puede deshacer: una campaña publicada no se cierra, no se reabre, no cambia de modelo y no se "
             "borra.",
             "This cannot be undone: a published campaign does not close, reopen, change its model or get deleted.")
    NO_DEADLINE = ("sin fecha límite (cada enlace vence {days} días después de emitirse)",
                   "with no deadline (each link expires {days} days after it is issued)")
    UNTIL = ("hasta el {date}", "until {date}")
    NO_SECOND_SAMPLE = ("No se sorteó la muestra de la segunda verificación: el anexo de cada informe dirá que no hay "
                        "medida de acuerdo entre verificadores.",
                        "No second-verification sample was drawn: each report's annex will say there is no measure "
                        "of agreement between verifiers.")


def status_effects(campaign: Campaign, target: CampaignStatus | str, *, results_url: str = "",
                   invitation_days: int = 120) -> list[Both]:
    """What moving the campaign to `target` changes, in both languages, with the campaign's own counts."""
    target = CampaignStatus(target)
    counts = {s: 0 for s in ResponseStatus}
    for status, n in db.session.execute(
            sa.select(Response.status, sa.func.count(Response.id))
            .where(Response.campaign_id == campaign.id, Response.purpose == InstrumentPurpose.INSTITUTION)
            .group_by(Response.status)):
        counts[status] = n
    institutions = db.session.scalar(sa.select(sa.func.count(Participation.id))
                                     .where(Participation.campaign_id == campaign.id)) or 0
    sent = counts[ResponseStatus.SUBMITTED] + counts[ResponseStatus.VERIFIED]
    now = datetime.now(UTC)
    deadline = (Effect.UNTIL.both(date=campaign.closes_at.strftime("%Y-%m-%d")) if campaign.closes_at
                else Effect.NO_DEADLINE.both(days=invitation_days))
    if target == CampaignStatus.OPEN and campaign.status == CampaignStatus.DRAFT:
        return [Effect.FIXED.both(), Effect.LINKS_START.both(count=institutions, deadline=deadline),
                Effect.NO_EDITING.both()]
    if target == CampaignStatus.OPEN:
        out = [Effect.LINKS_AGAIN.both(deadline=deadline, count=max(institutions - sent, 0)),
               Effect.SUBMITTED_STAY.both()]
        if campaign.closes_at is not None and campaign.closes_at <= now:
            out.append(Effect.DEADLINE_PASSED.both(date=campaign.closes_at.strftime("%Y-%m-%d")))
        return out
    if target == CampaignStatus.IN_REVIEW or (campaign.status == CampaignStatus.IN_REVIEW
                                              and target == CampaignStatus.CLOSED):
        return reply.effects(campaign, target)
    if target == CampaignStatus.CLOSED:
        return [Effect.LINKS_STOP.both(), Effect.DRAFTS_LEFT.both(count=counts[ResponseStatus.DRAFT]),
                Effect.STILL_VERIFIABLE.both(count=sent)]
    out = [Effect.PUBLIC.both(url=results_url or f"/resultados/{campaign.slug}/"),
           Effect.PUBLIC_INSTITUTIONS.both(count=institutions, missing=max(institutions - sent, 0))]
    if counts[ResponseStatus.SUBMITTED]:
        out.append(Effect.UNVERIFIED_PUBLISHED.both(count=counts[ResponseStatus.SUBMITTED]))
    from diagnostic.services import second_verification

    if not second_verification.overview(campaign).drawn:
        out.append(Effect.NO_SECOND_SAMPLE.both())
    return [*out, *reply.effects(campaign, target), Effect.FINAL.both()]
