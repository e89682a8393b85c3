"""Evaluator views: the list of assigned institutions, and the questionnaire views for each."""
from __future__ import annotations

from functools import wraps

from flask import render_template
from flask_login import current_user

from diagnostic.evaluate import bp
from diagnostic.extensions import db
from diagnostic.models import Campaign, CampaignStatus, InstrumentPurpose
from diagnostic.questionnaire import views
from diagnostic.questionnaire.controller import Flow
from diagnostic.security import evaluates_any_institution, evaluator_required
from diagnostic.services import (
    NotFound,
    Refusal,
    ServiceError,
    assignments,
    campaigns,
    institutions,
    responses,
)
from diagnostic.services.audit import Actor


@bp.get("/")
@evaluator_required
def index():
    """The institutions assigned to the signed-in evaluator, with the state of each evaluation."""
    rows = []
    for assignment in assignments.for_user(current_user):
        campaign = db.session.get(Campaign, assignment.campaign_id)
        response = responses.find(campaign, InstrumentPurpose.EVALUATOR, assignment.institution)
        rows.append((assignment, campaign, response))
    return render_template("evaluate/index.html", rows=rows)


def with_flow(view):
    """Resolve the assignment (own assignments only; admins may open any) to a Flow."""

    @wraps(view)
    @evaluator_required
    def wrapped(slug: str, institution_id: int, *args, **kwargs):
        campaign = campaigns.get_by_slug(slug)
        if evaluates_any_institution(current_user):
            institution = institutions.get(institution_id)
            if institution is None:
                raise NotFound(Refusal.INSTITUTION_NOT_FOUND)
        else:
            institution = assignments.get(campaign, institution_id, current_user).institution
        if campaign.status != CampaignStatus.OPEN:
            raise ServiceError(Refusal.CAMPAIGN_NOT_OPEN, status=410)
        response = responses.get_or_create(campaign, InstrumentPurpose.EVALUATOR, institution, evaluator=current_user)
        flow = Flow(response, Actor.for_user(current_user), "evaluate",
                    {"slug": slug, "institution_id": institution_id})
        return view(flow, *args, **kwargs)

    return wrapped


views.register(bp, "/<slug>/<int:institution_id>", with_flow)
