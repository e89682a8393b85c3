"""Evaluators (usuario simulado): the citizen-perspective evaluation of assigned institutions."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, redirect, render_template
from flask_login import current_user

from diagnostic.extensions import csrf, db
from diagnostic.flow import Flow
from diagnostic.models import Campaign, CampaignStatus, InstrumentPurpose, Role
from diagnostic.security import evaluator_required
from diagnostic.services import NotFound, assignments, campaigns, institutions, responses
from diagnostic.services.audit import Actor

bp = Blueprint("evaluate", __name__, url_prefix="/evaluate")
csrf.exempt(bp)  # checked inside each POST view so an expired session loses nothing


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
        if current_user.role == Role.ADMIN:
            institution = institutions.get(institution_id)
            if institution is None:
                raise NotFound("Institución no encontrada")
        else:
            institution = assignments.get(campaign, institution_id, current_user).institution
        if campaign.status != CampaignStatus.OPEN:
            return render_template("error.html", message="La campaña no está abierta", code=410), 410
        response = responses.get_or_create(campaign, InstrumentPurpose.EVALUATOR, institution, evaluator=current_user)
        flow = Flow(response, Actor.for_user(current_user), "evaluate",
                    {"slug": slug, "institution_id": institution_id})
        return view(flow, *args, **kwargs)

    return wrapped


@bp.get("/<slug>/<int:institution_id>")
@with_flow
def landing(flow: Flow):
    """Landing page of one evaluation."""
    return flow.landing()


@bp.get("/<slug>/<int:institution_id>/resume")
@with_flow
def resume(flow: Flow):
    """Continue where the evaluator left off."""
    if flow.readonly:
        return redirect(flow.url("receipt"))
    return redirect(flow.url("page", n=flow.response.last_page))


@bp.get("/<slug>/<int:institution_id>/p/<int:n>")
@with_flow
def page(flow: Flow, n: int):
    """One page of the evaluation."""
    return flow.page(n)


@bp.post("/<slug>/<int:institution_id>/p/<int:n>")
@with_flow
def save_page(flow: Flow, n: int):
    """Save one page and move on."""
    return flow.post_page(n)


@bp.post("/<slug>/<int:institution_id>/autosave")
@with_flow
def autosave(flow: Flow):
    """Background save (JSON)."""
    return flow.autosave()


@bp.get("/<slug>/<int:institution_id>/review")
@with_flow
def review(flow: Flow):
    """Pending questions and the submit button."""
    return flow.review()


@bp.post("/<slug>/<int:institution_id>/submit")
@with_flow
def submit(flow: Flow):
    """Submit the evaluation."""
    return flow.submit()


@bp.get("/<slug>/<int:institution_id>/receipt")
@with_flow
def receipt(flow: Flow):
    """Receipt of a submitted evaluation."""
    return flow.receipt()
