"""Campaigns (editions): creation, instruments, status life cycle and progress figures."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import (
    Campaign,
    CampaignInstrument,
    CampaignStatus,
    IndexModelVersion,
    InstrumentPurpose,
    InstrumentVersion,
    Invitation,
    Participation,
    Response,
    ResponseStatus,
)
from diagnostic.services import Conflict, NotFound, Refusal, ServiceError
from diagnostic.services.audit import SYSTEM, Actor, record

# Allowed status changes: draft → open → closed → published; a closed campaign may reopen.
TRANSITIONS = {
    CampaignStatus.DRAFT: {CampaignStatus.OPEN},
    CampaignStatus.OPEN: {CampaignStatus.CLOSED},
    CampaignStatus.CLOSED: {CampaignStatus.OPEN, CampaignStatus.PUBLISHED},
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
    """Choose the index model that scores the campaign."""
    if campaign.status == CampaignStatus.PUBLISHED:
        raise Conflict(Refusal.MODEL_FIXED_AFTER_PUBLISHING)
    old = campaign.index_model.content_hash if campaign.index_model else None
    campaign.index_model = model
    model.locked = True
    record(actor, "campaign.index_model", "campaign", campaign.id, old=old, new=model.content_hash)
    db.session.commit()


def set_status(campaign: Campaign, status: CampaignStatus | str, actor: Actor = SYSTEM,
               reason: str | None = None) -> Campaign:
    """Move a campaign along draft → open → closed → published (closed may reopen)."""
    try:
        status = CampaignStatus(status)
    except ValueError:
        raise ServiceError(Refusal.UNKNOWN_CAMPAIGN_STATUS, value=status) from None
    if status not in TRANSITIONS[campaign.status]:
        raise Conflict(Refusal.TRANSITION_NOT_ALLOWED, source=campaign.status.value, target=status.value)
    if status == CampaignStatus.OPEN and instrument(campaign, InstrumentPurpose.INSTITUTION) is None:
        raise Conflict(Refusal.INSTITUTIONAL_INSTRUMENT_REQUIRED)
    if status == CampaignStatus.OPEN:
        for link in campaign.instruments:
            link.instrument_version.locked = True
    old = campaign.status
    campaign.status = status
    record(actor, "campaign.status", "campaign", campaign.id, old=old.value, new=status.value, reason=reason)
    db.session.commit()
    return campaign


def progress(campaign: Campaign) -> dict:
    """Counts for a campaign: institutions, invitations, and responses by purpose and status."""
    institutions = db.session.scalar(sa.select(sa.func.count(Participation.id))
                                     .where(Participation.campaign_id == campaign.id,
                                            Participation.withdrawn_at.is_(None))) or 0
    invitations = db.session.scalar(sa.select(sa.func.count(Invitation.id))
                                    .where(Invitation.campaign_id == campaign.id)) or 0
    by_status = {s.value: 0 for s in ResponseStatus}
    rows = db.session.execute(
        sa.select(Response.purpose, Response.status, sa.func.count(Response.id))
        .where(Response.campaign_id == campaign.id)
        .group_by(Response.purpose, Response.status))
    by_purpose: dict[str, dict[str, int]] = {}
    for purpose, status, n in rows:
        by_purpose.setdefault(purpose.value, dict(by_status))[status.value] = n
    return {"institutions": institutions, "invitations": invitations, "responses": by_purpose}
