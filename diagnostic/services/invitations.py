"""Invitation links for respondent institutions: `/r/<token>`.

The token (`secrets.token_urlsafe(32)`) is shown once, when issued, and only its sha256
is stored. Resolving a token checks it exists, is not revoked or expired, and that the
campaign is open.
"""
from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from diagnostic.extensions import db
from diagnostic.models import (
    Campaign,
    CampaignStatus,
    Institution,
    InstrumentPurpose,
    Invitation,
    Participation,
    Response,
    utcnow,
)
from diagnostic.services import Refusal, ServiceError
from diagnostic.services.audit import SYSTEM, Actor, record


class InvitationError(ServiceError):
    """A link that cannot be used: unknown (404) or no longer valid (410)."""


@dataclass
class IssuedLink:
    """A freshly issued invitation with its clear-text token (never stored)."""

    invitation: Invitation
    token: str

    @property
    def institution(self) -> Institution:
        """The invited institution."""
        return self.invitation.institution


def hash_token(token: str) -> str:
    """sha256 hex of a token, as stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(campaign: Campaign, institutions: list[Institution], *, reissue: bool = False,
          days: int = 120, actor: Actor = SYSTEM) -> list[IssuedLink]:
    """Issue links for institutions without one (or replace all tokens when `reissue`)."""
    existing = {i.institution_id: i for i in db.session.scalars(
        sa.select(Invitation).where(Invitation.campaign_id == campaign.id))}
    expires = campaign.closes_at or (utcnow() + timedelta(days=days))
    issued: list[IssuedLink] = []
    for inst in institutions:
        token = secrets.token_urlsafe(32)
        invitation = existing.get(inst.id)
        if invitation is None:
            invitation = Invitation(campaign_id=campaign.id, institution_id=inst.id, institution=inst,
                                    token_hash=hash_token(token), expires_at=expires)
            db.session.add(invitation)
        elif reissue:
            invitation.token_hash = hash_token(token)
            invitation.revoked_at = None
            invitation.expires_at = expires
        else:
            continue
        issued.append(IssuedLink(invitation, token))
    db.session.flush()
    if issued:
        record(actor, "invitations.issue", "campaign", campaign.id, new=str(len(issued)),
               reason="reissue" if reissue else None)
    db.session.commit()
    return issued


def create(campaign: Campaign, institution: Institution, actor: Actor = SYSTEM) -> str:
    """Issue (or replace) one institution's link and return its token."""
    (link,) = issue(campaign, [institution], reissue=True, actor=actor)
    return link.token


def _flow_query(with_answers: bool) -> sa.Select:
    """Every questionnaire request's one query: the invitation, its campaign, its institution with
    its state, and the institution's response for a purpose (if started) with its instrument
    version and, `with_answers`, its answers."""
    options = [so.joinedload(Invitation.campaign).lazyload(Campaign.instruments),  # read by landing pages only
               so.joinedload(Invitation.institution).joinedload(Institution.state),
               so.joinedload(Response.instrument_version)]
    if with_answers:
        options.append(so.joinedload(Response.answers))
    return (sa.select(Invitation, Response)
            .outerjoin(Response, sa.and_(Response.campaign_id == Invitation.campaign_id,
                                         Response.institution_id == Invitation.institution_id,
                                         Response.purpose == sa.bindparam("purpose", type_=Response.purpose.type)))
            .where(Invitation.token_hash == sa.bindparam("token_hash")).options(*options))


_FLOW = {with_answers: _flow_query(with_answers) for with_answers in (False, True)}


def _check(token: str) -> None:
    if not token or len(token) > 100:
        raise InvitationError(Refusal.LINK_INVALID)


def _usable(invitation: Invitation | None, *, closed_ok: bool = False) -> Invitation:
    if invitation is None:
        raise InvitationError(Refusal.LINK_INVALID)
    if invitation.revoked_at is not None:
        withdrawn = db.session.scalar(sa.select(Participation.withdrawn_at).where(
            Participation.campaign_id == invitation.campaign_id,
            Participation.institution_id == invitation.institution_id))
        raise InvitationError(Refusal.INSTITUTION_WITHDRAWN if withdrawn else Refusal.LINK_REPLACED)
    if closed_ok and invitation.campaign.status != CampaignStatus.DRAFT:
        return invitation
    if invitation.expires_at is not None and invitation.expires_at < utcnow():
        raise InvitationError(Refusal.LINK_EXPIRED)
    status = invitation.campaign.status
    if status == CampaignStatus.DRAFT:
        raise InvitationError(Refusal.CAMPAIGN_NOT_YET_OPEN)
    if status != CampaignStatus.OPEN:
        raise InvitationError(Refusal.CAMPAIGN_CLOSED)
    return invitation


def resolve(token: str, purpose: InstrumentPurpose = InstrumentPurpose.INSTITUTION, *,
            with_answers: bool = False, closed_ok: bool = False) -> tuple[Invitation, Response | None]:
    """The usable invitation for a token and its institution's response for `purpose` (None if
    not started), in one query; `with_answers` loads the answers too. InvitationError 404
    (unknown link) or 410 (replaced, expired, campaign not open). `closed_ok` accepts an
    expired link or a closed campaign (to show a submitted response's receipt)."""
    _check(token)
    row = db.session.execute(_FLOW[with_answers], {"token_hash": hash_token(token), "purpose": purpose}
                             ).unique().one_or_none()
    invitation, response = row if row is not None else (None, None)
    return _usable(invitation, closed_ok=closed_ok), response


def revoke(invitation: Invitation, actor: Actor = SYSTEM) -> None:
    """Disable a link (a reissue gives the institution a new one)."""
    invitation.revoked_at = utcnow()
    record(actor, "invitation.revoke", "invitation", invitation.id)
    db.session.commit()


def links_csv(links: list[IssuedLink], base_url: str) -> str:
    """A CSV (UTF-8) of issued links: institution, state, type, contact, link (formula-safe cells)."""
    from diagnostic.services.exports import safe_cell

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["key", "institution", "state", "order", "type", "contact_email", "link"])
    base = base_url.rstrip("/")
    for link in links:
        inst = link.institution
        writer.writerow([safe_cell(v) for v in (inst.key, inst.name, inst.state_code, inst.order.value, inst.type,
                                                inst.contact_email or "", f"{base}/r/{link.token}")])
    return out.getvalue()


def for_campaign(campaign: Campaign) -> list[Invitation]:
    """Every invitation of a campaign."""
    return list(db.session.scalars(sa.select(Invitation).where(Invitation.campaign_id == campaign.id)
                                   .order_by(Invitation.id)))
