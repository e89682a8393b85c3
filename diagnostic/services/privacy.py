"""Contacts' personal data: erased on request, or when the campaigns' retention period ends.

An institution's contact (name and e-mail of the person who answers) is the only personal
data of respondents the app keeps. Erasing it leaves the institution, its answers and scores;
the audit log records that the contact was erased, by whom and why, never the erased values.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import Campaign, Institution, Participation, utcnow
from diagnostic.services import Refusal, ServiceError, audit

MAX_RETENTION_DAYS = 36500


def erase_contact(key: str, actor: audit.Actor = audit.SYSTEM, reason: str = "") -> Institution:
    """Erase the contact of the institution with `key` (recorded without the values)."""
    institution = db.session.scalar(sa.select(Institution).where(Institution.key == key))
    if institution is None:
        raise ServiceError(Refusal.INSTITUTION_NOT_FOUND_BY_KEY, key=key)
    _erase(institution, actor, reason or "request")
    db.session.commit()
    return institution


def _erase(institution: Institution, actor: audit.Actor, reason: str) -> bool:
    if institution.contact_name is None and institution.contact_email is None:
        return False
    institution.contact_name = None
    institution.contact_email = None
    audit.record(actor, "erase_personal_data", "institution", institution.id, field="contact", reason=reason)
    return True


def set_retention(campaign: Campaign, days: int | None) -> Campaign:
    """Keep contacts' personal data `days` after the campaign closes (None: until erased by hand)."""
    if days is not None and not 0 <= int(days) <= MAX_RETENTION_DAYS:
        raise ServiceError(Refusal.RETENTION_INVALID, maximum=MAX_RETENTION_DAYS)
    campaign.retention_days = None if days is None else int(days)
    db.session.commit()
    return campaign


@dataclass
class RetentionReport:
    """What applying the retention periods did (or would do)."""

    expired_campaigns: list[str]
    erased: list[str]


def _expired(campaign: Campaign, now: datetime) -> bool:
    return (campaign.retention_days is not None and campaign.closes_at is not None
            and campaign.closes_at + timedelta(days=campaign.retention_days) <= now)


def apply_retention(now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Erase the contacts of institutions whose every campaign is past its retention period."""
    now = now or utcnow()
    campaigns = list(db.session.scalars(sa.select(Campaign)))
    expired = {c.id for c in campaigns if _expired(c, now)}
    kept = {c.id for c in campaigns} - expired
    rows = db.session.execute(sa.select(Participation.institution_id, Participation.campaign_id)).all()
    in_expired = {i for i, c in rows if c in expired}
    in_kept = {i for i, c in rows if c in kept}
    erased = []
    for institution in db.session.scalars(sa.select(Institution).where(Institution.id.in_(in_expired - in_kept))
                                          .order_by(Institution.id)):
        if institution.contact_name is None and institution.contact_email is None:
            continue
        erased.append(institution.key)
        if not dry_run:
            _erase(institution, audit.SYSTEM, "retention")
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return RetentionReport(sorted(c.slug for c in campaigns if c.id in expired), erased)
