"""Second verification views (methodology §9.2–9.4), national staff only: the sample and its
queue, the draw, the blind review of a sampled response, the resolution of disagreements and
the agreement between the two stages. The work is in `services/second_verification.py`."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from diagnostic.analyst import bp
from diagnostic.analyst.forms import ReviewForm
from diagnostic.extensions import db
from diagnostic.forms import submitted
from diagnostic.security import analyst_required, scope_of
from diagnostic.services import ServiceError, campaigns
from diagnostic.services import second_verification as second


@bp.app_template_global("second_allowed")
def second_allowed() -> bool:
    """True when the signed-in user is national staff (shown the second-verification links)."""
    try:
        second.require_national(current_user)
    except ServiceError:
        return False
    return True


def _campaign(slug: str):
    campaign = campaigns.get_by_slug(slug)
    second.require_national(current_user)
    return campaign


@bp.get("/<slug>/second")
@analyst_required
def second_queue(slug: str):
    """The sample settings, the draw, and the queue of sampled responses."""
    campaign = _campaign(slug)
    return render_template("analyst/second_queue.html", campaign=campaign, view=second.overview(campaign),
                           form=ReviewForm())


@bp.post("/<slug>/second/draw")
@analyst_required
def second_draw(slug: str):
    """Draw the sample (once)."""
    campaign = _campaign(slug)
    submitted(ReviewForm())
    sample = second.draw(campaign, current_user)
    flash(ngettext("Se sorteó %(num)d respuesta (semilla %(seed)s).", "Se sortearon %(num)d respuestas (semilla %(seed)s).",
                   len(sample.members), seed=sample.seed), "saved")
    return redirect(url_for("analyst.second_queue", slug=slug))


def _blind_page(campaign, member, error: dict | None = None, status: int = 200):
    rows = second.blind(member)
    pending = sum(1 for r in rows if r.second_verification is None)
    return render_template("analyst/second_review.html", campaign=campaign, member=member, rows=rows,
                           pending=pending, form=ReviewForm(), error=error or {}), status


@bp.get("/<slug>/second/<int:member_id>")
@analyst_required
def second_review(slug: str, member_id: int):
    """One sampled response, blind: answers and evidence, never the first verdicts."""
    campaign = _campaign(slug)
    return _blind_page(campaign, second.get_member(campaign, member_id))


@bp.post("/<slug>/second/<int:member_id>")
@analyst_required
def second_verdict(slug: str, member_id: int):
    """Accept or correct one sampled item (a correction needs a reason)."""
    campaign = _campaign(slug)
    member = second.get_member(campaign, member_id)
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
@analyst_required
def second_accept_remaining(slug: str, member_id: int):
    """Accept every sampled item of the response still without a second verdict."""
    campaign = _campaign(slug)
    member = second.get_member(campaign, member_id)
    submitted(ReviewForm())
    count = second.accept_remaining(member, current_user)
    flash(ngettext("Se aceptó %(num)d respuesta.", "Se aceptaron %(num)d respuestas.", count), "saved")
    return redirect(url_for("analyst.second_queue", slug=slug))


@bp.get("/<slug>/second/resolution")
@analyst_required
def second_resolution(slug: str):
    """Every disagreement between the two stages, with both values and reasons."""
    campaign = _campaign(slug)
    return render_template("analyst/second_resolution.html", campaign=campaign,
                           rows=second.disagreements(campaign), form=ReviewForm())


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
