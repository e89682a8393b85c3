"""Evaluator assignments: which evaluator fills the citizen-side evaluation of which institution."""
from __future__ import annotations

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import Assignment, Campaign, CampaignStatus, Institution, Role, User
from diagnostic.services import NotFound, Refusal, ServiceError
from diagnostic.services.audit import SYSTEM, Actor, record


def assign(campaign: Campaign, institutions: list[Institution], evaluator: User,
           actor: Actor = SYSTEM) -> int:
    """Assign institutions to an evaluator (replacing a previous evaluator); returns how many."""
    if evaluator.role != Role.EVALUATOR:
        raise ServiceError(Refusal.NOT_AN_EVALUATOR, email=evaluator.email)
    current = {a.institution_id: a for a in db.session.scalars(
        sa.select(Assignment).where(Assignment.campaign_id == campaign.id))}
    changed = 0
    for inst in institutions:
        existing = current.get(inst.id)
        if existing is None:
            db.session.add(Assignment(campaign_id=campaign.id, institution_id=inst.id, user_id=evaluator.id))
        elif existing.user_id != evaluator.id:
            existing.user_id = evaluator.id
        else:
            continue
        changed += 1
    record(actor, "assignments.set", "campaign", campaign.id, new=f"{changed} → {evaluator.email}")
    db.session.commit()
    return changed


def for_user(user: User, *, open_only: bool = True) -> list[Assignment]:
    """An evaluator's assignments (in open campaigns by default), by campaign then institution."""
    query = (sa.select(Assignment).join(Assignment.institution).join(Campaign, Campaign.id == Assignment.campaign_id)
             .where(Assignment.user_id == user.id)
             .order_by(Campaign.id.desc(), Institution.state_code, Institution.name))
    if open_only:
        query = query.where(Campaign.status == CampaignStatus.OPEN)
    return list(db.session.scalars(query))


def for_campaign(campaign: Campaign) -> list[Assignment]:
    """Every assignment of a campaign."""
    return list(db.session.scalars(sa.select(Assignment).where(Assignment.campaign_id == campaign.id)))


def get(campaign: Campaign, institution_id: int, user: User) -> Assignment:
    """The user's assignment for an institution in a campaign, or NotFound (also when not theirs)."""
    assignment = db.session.scalar(sa.select(Assignment).where(
        Assignment.campaign_id == campaign.id, Assignment.institution_id == institution_id,
        Assignment.user_id == user.id))
    if assignment is None:
        raise NotFound(Refusal.INSTITUTION_NOT_ASSIGNED)
    return assignment
