"""What the API reads and writes, as plain JSON-ready data: pages of campaigns, institutions,
responses and scores, and the all-or-nothing bulk submission of responses.

A bulk submission goes through the same services as the web form: every response's answers
are merged into its draft and checked with `surveys.validate` (as `responses.submit` does)
before anything is written; when any fails, nothing is written and every error comes back
with its path (`responses[2].answers.ai_unit`) in Spanish and English.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

import surveys
from diagnostic.extensions import db
from diagnostic.models import (
    Campaign,
    CampaignStatus,
    Institution,
    InstrumentPurpose,
    Participation,
    Response,
    ResponseStatus,
    User,
)
from diagnostic.security import current_scope
from diagnostic.services import Refusal, ServiceError, campaigns, instruments, responses, scores
from diagnostic.services.audit import Actor

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
MAX_BULK = 100
MAX_PAGE = (2**31 - 1) // MAX_PER_PAGE  # the offset stays inside the database's integer range


class Invalid(ServiceError):
    """A request body that cannot be accepted (422), with located errors in `details`."""

    status = 422


@dataclass
class PageArgs:
    """Page number (from 1) and page size."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> PageArgs:
        """Read `page` and `per_page`; 400 for values that are not positive integers in range."""
        try:
            page = int(args.get("page", 1))
            per_page = int(args.get("per_page", DEFAULT_PER_PAGE))
        except (TypeError, ValueError):
            raise ServiceError(Refusal.PAGE_NOT_INTEGER) from None
        if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
            raise ServiceError(Refusal.PAGE_OUT_OF_RANGE, maximum=MAX_PER_PAGE)
        return cls(page, per_page)


def paginate(items: Sequence, args: PageArgs) -> dict:
    """One page of a list: items, page, per_page, total and pages."""
    total = len(items)
    start = (args.page - 1) * args.per_page
    return {"items": list(items[start:start + args.per_page]), "page": args.page, "per_page": args.per_page,
            "total": total, "pages": (total + args.per_page - 1) // args.per_page}


def _paginate_query(query: sa.Select, args: PageArgs, serialise) -> dict:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.scalars(query.limit(args.per_page).offset((args.page - 1) * args.per_page))
    return {"items": [serialise(r) for r in rows], "page": args.page, "per_page": args.per_page,
            "total": total, "pages": (total + args.per_page - 1) // args.per_page}


def _time(value) -> str | None:
    return value.isoformat() if value is not None else None


def campaign_json(campaign: Campaign) -> dict:
    """A campaign as JSON."""
    model = campaign.index_model
    return {"slug": campaign.slug, "name": campaign.name, "year": campaign.year, "status": campaign.status.value,
            "opens_at": _time(campaign.opens_at), "closes_at": _time(campaign.closes_at),
            "index_model": {"id": model.model_id, "version": model.version, "hash": model.content_hash} if model else None,
            "instruments": {link.purpose.value: {"id": link.instrument_version.instrument_id,
                                                 "version": link.instrument_version.version,
                                                 "hash": link.instrument_version.content_hash}
                            for link in campaign.instruments}}


def institution_json(institution: Institution) -> dict:
    """An institution as JSON (contact details are left out)."""
    return {"key": institution.key, "name": institution.name, "state": institution.state_code,
            "order": institution.order.value, "type": institution.type}


def response_json(response: Response, *, answers: bool = False) -> dict:
    """A response as JSON, optionally with its answers (original and verified values)."""
    data = {"id": response.id, "institution": response.institution.key, "purpose": response.purpose.value,
            "instrument": response.instrument_version.instrument_id, "status": response.status.value,
            "submitted_at": _time(response.submitted_at), "verified_at": _time(response.verified_at),
            "fingerprint": response.fingerprint}
    if answers:
        data["answers"] = [{"field": a.field, "repeat_index": a.repeat_index, "value": a.value,
                            "verified_value": a.verified_value, "verification": a.verification,
                            "reason": a.verification_reason} for a in response.answers]
    return data


def list_campaigns(args: PageArgs) -> dict:
    """A page of campaigns, newest first."""
    query = sa.select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())
    return _paginate_query(query, args, campaign_json)


def get_campaign(slug: str) -> dict:
    """One campaign with its progress counts."""
    campaign = campaigns.get_by_slug(slug)
    return {**campaign_json(campaign), "progress": campaigns.progress(campaign)}


def list_institutions(slug: str, args: PageArgs, state: str | None = None) -> dict:
    """A page of a campaign's institutions, by state then name (optionally of one state)."""
    campaign = campaigns.get_by_slug(slug)
    query = current_scope().restrict(
        sa.select(Institution).join(Participation, Participation.institution_id == Institution.id)
        .where(Participation.campaign_id == campaign.id, Participation.withdrawn_at.is_(None))
        .order_by(Institution.state_code, Institution.name, Institution.id), Institution.state_code)
    if state:
        query = query.where(Institution.state_code == state)
    return _paginate_query(query, args, institution_json)


def list_responses(slug: str, args: PageArgs, status: str | None = None) -> dict:
    """A page of a campaign's responses (without answers), optionally of one status."""
    campaign = campaigns.get_by_slug(slug)
    query = current_scope().restrict(
        sa.select(Response).join(Institution, Institution.id == Response.institution_id)
        .where(Response.campaign_id == campaign.id).order_by(Response.id), Institution.state_code)
    if status:
        try:
            query = query.where(Response.status == ResponseStatus(status))
        except ValueError:
            raise ServiceError(Refusal.UNKNOWN_RESPONSE_STATUS, value=status) from None
    return _paginate_query(query, args, response_json)


def get_response(slug: str, response_id: int) -> dict:
    """One response of a campaign with its answers."""
    from diagnostic.services import review

    return response_json(review.get_response(campaigns.get_by_slug(slug), response_id), answers=True)


def get_scores(slug: str, args: PageArgs, by: str = "state", level: str = scores.HEADLINE) -> dict:
    """A page of a score table (the numbers of the web tables and `apertura score`) with metadata."""
    from diagnostic.services import exports

    campaign = campaigns.get_by_slug(slug)
    computed = scores.for_reader(campaign)
    page = paginate(computed.records(by, level), args)
    page["metadata"] = {k: v for k, v in exports.metadata(campaign, computed, by, level) if k != "generated_at"}
    page["columns"] = [{"key": c.key, "label_es": c.label_es, "label_en": c.label_en, "numeric": c.numeric}
                       for c in computed.columns(computed.table(by, level))]
    return page


def _detail(path: str, es: str, en: str) -> dict:
    return {"path": path, "message_es": es, "message_en": en}


def _paths(answers: Mapping, prefix: str = "") -> dict[str, object]:
    """Nested answers → {path: value} as the web form posts them (`rep[0].field` inside repeats)."""
    out: dict[str, object] = {}
    for name, value in answers.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for i, instance in enumerate(value):
                for field, inner in instance.items():
                    out[f"{name}[{i}].{field}"] = inner
        else:
            out[str(name)] = value
    return out


@dataclass
class _Planned:
    institution: Institution
    purpose: str
    response: Response | None
    values: dict[str, object]


def _plan(campaign: Campaign, index: int, item: object, seen: set) -> tuple[_Planned | None, list[dict]]:
    where = f"responses[{index}]"
    if not isinstance(item, Mapping):
        return None, [_detail(where, "Se esperaba un objeto", "An object was expected")]
    errors: list[dict] = []
    key = item.get("institution")
    purpose = item.get("purpose", InstrumentPurpose.INSTITUTION.value)
    answers = item.get("answers")
    if not isinstance(answers, Mapping):
        errors.append(_detail(f"{where}.answers", "Se esperaba un objeto con las respuestas",
                              "An object with the answers was expected"))
    if purpose not in {p.value for p in InstrumentPurpose}:
        errors.append(_detail(f"{where}.purpose", f"Tipo de instrumento desconocido: {purpose}",
                              f"Unknown instrument purpose: {purpose}"))
        return None, errors
    version = campaigns.instrument(campaign, purpose)
    if version is None:
        errors.append(_detail(f"{where}.purpose", "La campaña no tiene instrumento para este tipo",
                              "The campaign has no instrument for this purpose"))
    institution = db.session.scalar(current_scope().restrict(  # another state's institution is "not in the campaign"
        sa.select(Institution).join(Participation, Participation.institution_id == Institution.id)
        .where(Participation.campaign_id == campaign.id, Institution.key == str(key)), Institution.state_code))
    if institution is None:
        errors.append(_detail(f"{where}.institution", f"Institución no incluida en la campaña: {key}",
                              f"Institution not in the campaign: {key}"))
    elif (institution.id, purpose) in seen:
        errors.append(_detail(f"{where}.institution", f"Institución repetida en la solicitud: {key}",
                              f"Institution repeated in the request: {key}"))
    if errors:
        return None, errors
    seen.add((institution.id, purpose))
    response = responses.find(campaign, purpose, institution)
    if response is not None and response.status != ResponseStatus.DRAFT:
        return None, [_detail(f"{where}.institution", "La respuesta ya fue enviada; un analista debe reabrirla",
                              "The response was already submitted; an analyst must reopen it")]
    values = _paths(answers)
    merged = responses.answers_of(response) if response is not None else {}
    try:
        responses.check_values(values, instruments.definition(version))
        for path, value in values.items():
            responses.set_path(merged, path, value)
    except ServiceError as exc:
        return None, [_detail(f"{where}.answers", exc.message_for("es"), exc.message_for("en"))]
    result = surveys.validate(instruments.definition(version), merged, partial=False)
    errors = [_detail(f"{where}.answers.{e.path}", e.message_es, e.message_en) for e in result.errors]
    return (None if errors else _Planned(institution, purpose, response, values)), errors


def submit_bulk(slug: str, body: object, user: User) -> dict:
    """Submit many responses at once, all or nothing; Invalid (422) lists every error by path."""
    campaign = campaigns.get_by_slug(slug)
    if body is None:
        raise ServiceError(Refusal.BODY_NOT_JSON)
    items = body.get("responses") if isinstance(body, Mapping) else None
    if not isinstance(items, list) or not items:
        raise Invalid(Refusal.BULK_NOT_A_LIST,
                      details=[_detail("responses", "Se esperaba una lista no vacía", "A non-empty list was expected")])
    if len(items) > MAX_BULK:
        raise Invalid(Refusal.BULK_TOO_MANY, maximum=MAX_BULK,
                      details=[_detail("responses", f"Como máximo {MAX_BULK}", f"At most {MAX_BULK}")])
    if campaign.status != CampaignStatus.OPEN:
        raise ServiceError(Refusal.CAMPAIGN_NOT_OPEN)
    plans, errors, seen = [], [], set()
    for index, item in enumerate(items):
        plan, problems = _plan(campaign, index, item, seen)
        errors.extend(problems)
        if plan is not None:
            plans.append(plan)
    if errors:
        raise Invalid(Refusal.BULK_REJECTED, details=errors)
    actor = Actor.for_user(user)
    submitted = []
    try:  # one transaction: every response is submitted, or none (a failure rolls all of them back)
        for plan in plans:
            response = plan.response or responses.get_or_create(campaign, plan.purpose, plan.institution,
                                                                commit=False)
            responses.save_page(response, plan.values, actor, commit=False)
            fingerprint = responses.submit(response, actor, commit=False)
            submitted.append({"id": response.id, "institution": plan.institution.key, "purpose": plan.purpose,
                              "status": ResponseStatus.SUBMITTED.value, "fingerprint": fingerprint})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"submitted": submitted}


def set_index_model(slug: str, body: object, user: User) -> dict:
    """Give a campaign a shipped model (`{"shipped": NAME}`) or a model file (`{"filename", "source"}`),
    checked against its questionnaires; the campaign and the check's warnings come back."""
    from diagnostic.services import index_models

    campaign = campaigns.get_by_slug(slug)
    if not isinstance(body, Mapping):
        raise ServiceError(Refusal.BODY_NOT_JSON)
    shipped, source, filename = body.get("shipped"), body.get("source"), body.get("filename")
    if not (isinstance(shipped, str) and shipped) and not (isinstance(source, str) and isinstance(filename, str)):
        raise ServiceError(Refusal.CHOOSE_MODEL_OR_FILE)
    if isinstance(shipped, str) and shipped:
        _stored, checked = index_models.choose(campaign, shipped=shipped, actor=Actor.for_user(user))
    else:
        _stored, checked = index_models.choose(campaign, source=source, filename=filename, actor=Actor.for_user(user))
    return {**campaign_json(campaign),
            "warnings": [{"message_es": w.es, "message_en": w.en} for w in checked.warnings]}
