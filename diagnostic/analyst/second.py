"""Second verification views (methodology §9.2–9.4), national staff only: the sample and its
queue, the draw, the blind review of a sampled response, the resolution of disagreements and
the agreement between the two stages. The work is in `services/second_verification.py`."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from diagnostic.analyst import bp
from diagnostic.analyst.forms import ReviewForm
from diagnostic.extensions import db
from diagnostic.forms import submitted
from diagnostic.models import Role, User
from diagnostic.security import analyst_required, roles_required, scope_of
from diagnostic.services import ServiceError, campaigns
from diagnostic.services import second_verification as second
from diagnostic.services.audit import Actor


@bp.app_template_global("second_allowed")
def second_allowed() -> bool:
    """True when the signed-in user is national staff (shown the second-verification links)."""
    try:
        second.require_national(current_user)
    except ServiceError:
        return False
    return True


@bp.app_template_global("coassessment_count")
def coassessment_count() -> int:
    """How many sampled citizen evaluations the signed-in user double-codes as co-assessor."""
    if not getattr(current_user, "is_authenticated", False):
        return 0
    return len(second.assigned_to(current_user))


def _campaign(slug: str):
    campaign = campaigns.get_by_slug(slug)
    second.require_national(current_user)
    return campaign


coder_required = roles_required(Role.ADMIN, Role.ANALYST, Role.EVALUATOR)


def _purpose() -> str:
    return second.check_purpose(request.values.get("purpose") or second.INSTITUTION)


@bp.get("/<slug>/second")
@analyst_required
def second_queue(slug: str):
    """The sample settings, the draw, and the queue of sampled responses (`?purpose=evaluator`:
    the citizen evaluations double-coded by civil-society co-assessors)."""
    campaign = _campaign(slug)
    purpose = _purpose()
    evaluators = (list(db.session.scalars(sa.select(User).where(User.role == Role.EVALUATOR, User.active.is_(True))
                                          .order_by(User.email))) if purpose == second.EVALUATOR else [])
    return render_template("analyst/second_queue.html", campaign=campaign, view=second.overview(campaign, purpose),
                           form=ReviewForm(), purpose=purpose, evaluators=evaluators)


@bp.post("/<slug>/second/draw")
@analyst_required
def second_draw(slug: str):
    """Draw the sample (once)."""
    campaign = _campaign(slug)
    submitted(ReviewForm())
    purpose = _purpose()
    sample = second.draw(campaign, current_user, purpose)
    flash(ngettext("Se sorteó %(num)d respuesta (semilla %(seed)s).", "Se sortearon %(num)d respuestas (semilla %(seed)s).",
                   len(sample.members), seed=sample.seed), "saved")
    return redirect(url_for("analyst.second_queue", slug=slug, purpose=purpose))


@bp.post("/<slug>/second/assign")
@analyst_required
def second_assign(slug: str):
    """Share the sampled citizen evaluations among the chosen co-assessors."""
    campaign = _campaign(slug)
    submitted(ReviewForm())
    ids = [int(v) for v in request.form.getlist("assessor") if v.isdigit() and int(v) < 2**31]
    chosen = list(db.session.scalars(sa.select(User).where(User.id.in_(ids)))) if ids else []
    count = second.assign_assessors(campaign, chosen, Actor.for_user(current_user))
    flash(ngettext("Se asignó %(num)d evaluación.", "Se asignaron %(num)d evaluaciones.", count), "saved")
    return redirect(url_for("analyst.second_queue", slug=slug, purpose=second.EVALUATOR))


@bp.get("/coassessment")
@coder_required
def coassessment():
    """The citizen evaluations a co-assessor double-codes, blind to the first coding."""
    return render_template("analyst/coassessment.html", members=second.assigned_to(current_user))


def _member(slug: str, member_id: int):
    campaign = campaigns.get_by_slug(slug)
    member = second.get_member(campaign, member_id)
    second.require_coder(member, current_user)
    return campaign, member


def _blind_page(campaign, member, error: dict | None = None, status: int = 200):
    rows = second.blind(member)
    pending = sum(1 for r in rows if r.second_verification is None)
    return render_template("analyst/second_review.html", campaign=campaign, member=member, rows=rows,
                           pending=pending, form=ReviewForm(), error=error or {}), status


@bp.get("/<slug>/second/<int:member_id>")
@coder_required
def second_review(slug: str, member_id: int):
    """One sampled response, blind: answers and evidence, never the first verdicts."""
    return _blind_page(*_member(slug, member_id))


@bp.post("/<slug>/second/<int:member_id>")
@coder_required
def second_verdict(slug: str, member_id: int):
    """Accept or correct one sampled item (a correction needs a reason)."""
    campaign, member = _member(slug, member_id)
    submitted(ReviewForm())
    form = {"verdict": request.form.get("verdict"), "decision": request.form.get("decision"),
            "value": request.form.getlist("value"), "reason": request.form.get("reason")}
    try:
        outcome = second.record_verdict(member, form, current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _blind_page(campaign, member, {"verdict": form["verdict"], "message": exc.message}, exc.status)
    flash(_("Respuesta aceptada.") if outcome == "accepted" else _("Corrección guardada."), "saved")
    return redirect(url_for("analyst.second_review", slug=slug, member_id=member_id) + f"#v-{form['verdict']}")


@bp.post("/<slug>/second/<int:member_id>/accept-remaining")
@coder_required
def second_accept_remaining(slug: str, member_id: int):
    """Accept every sampled item of the response still without a second verdict."""
    _campaign_, member = _member(slug, member_id)
    submitted(ReviewForm())
    count = second.accept_remaining(member, current_user)
    flash(ngettext("Se aceptó %(num)d respuesta.", "Se aceptaron %(num)d respuestas.", count), "saved")
    if not second_allowed():
        return redirect(url_for("analyst.coassessment"))
    return redirect(url_for("analyst.second_queue", slug=slug, purpose=member.sample.purpose))


@bp.get("/<slug>/second/resolution")
@analyst_required
def second_resolution(slug: str):
    """Every disagreement between the two stages, with both values and reasons."""
    campaign = _campaign(slug)
    rows = [d for purpose in second.PURPOSES for d in second.disagreements(campaign, purpose)]
    return render_template("analyst/second_resolution.html", campaign=campaign, rows=rows, form=ReviewForm())


@bp.post("/<slug>/second/resolution")
@analyst_required
def second_resolve(slug: str):
    """Resolve one disagreement with the first or second value and a reason."""
    campaign = _campaign(slug)
    submitted(ReviewForm())
    second.resolve(campaign, request.form.get("verdict"), request.form.get("choice", ""),
                   request.form.get("reason", ""), current_user)
    flash(_("Desacuerdo resuelto: el valor resuelto es el que usan los puntajes."), "saved")
    return redirect(url_for("analyst.second_resolution", slug=slug))


@bp.get("/<slug>/agreement")
@analyst_required
def agreement(slug: str):
    """Percent agreement and Cohen's kappa between the two stages, per component and overall."""
    campaign = _campaign(slug)
    return render_template("analyst/agreement.html", campaign=campaign, data=second.report_section(campaign),
                           national=scope_of(current_user).national)
