"""Analyst views: progress, review and verification, score tables and exports (analysts and admins)."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from diagnostic.analyst import bp
from diagnostic.analyst.forms import ReopenForm, TokenForm, VerifyForm
from diagnostic.forms import submitted
from diagnostic.security import analyst_required
from diagnostic.services import campaigns, exports, review, scores, tokens
from diagnostic.services import responses as responses_service
from diagnostic.services.audit import Actor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_global("analyst_lang")
def analyst_lang() -> str:
    """The interface language code (es or en) for model labels."""
    return str(get_locale() or "es")[:2]


@bp.get("/")
@analyst_required
def index():
    """Campaigns with links to progress, review and scores."""
    return render_template("analyst/index.html", campaigns=campaigns.all_campaigns())


@bp.get("/<slug>/progress")
@analyst_required
def progress(slug: str):
    """Response rates by state and type, a tile map, and the pending institutions."""
    data = review.progress(campaigns.get_by_slug(slug), request.args.get("purpose", "institution"))
    return render_template("analyst/progress.html", progress=data, campaign=data.campaign)


@bp.get("/<slug>/responses")
@analyst_required
def responses(slug: str):
    """Responses to review, optionally filtered by status."""
    campaign = campaigns.get_by_slug(slug)
    status = request.args.get("status") or None
    return render_template("analyst/responses.html", campaign=campaign, status=status,
                           responses=review.campaign_responses(campaign, status))


@bp.get("/<slug>/responses/<int:response_id>")
@analyst_required
def response(slug: str, response_id: int):
    """One response: answers, evidence, item scores and coverage, verification and audit trail."""
    campaign = campaigns.get_by_slug(slug)
    data = review.review(review.get_response(campaign, response_id))
    return render_template("analyst/review.html", campaign=campaign, review=data, verify_form=VerifyForm(),
                           reopen_form=ReopenForm())


@bp.post("/<slug>/responses/<int:response_id>/verify")
@analyst_required
def verify(slug: str, response_id: int):
    """Accept or correct one answer (a correction needs a reason)."""
    target = review.get_response(campaigns.get_by_slug(slug), response_id)
    form = submitted(VerifyForm())
    outcome = review.verify(target, form.data, current_user)
    flash(_("Respuesta aceptada.") if outcome == "accepted" else _("Corrección guardada."), "saved")
    return redirect(url_for("analyst.response", slug=slug, response_id=response_id) + "#a-" + form.field.data)


@bp.post("/<slug>/responses/<int:response_id>/reopen")
@analyst_required
def reopen(slug: str, response_id: int):
    """Send a submitted response back to the respondent, with a reason (analysts and admins)."""
    target = review.get_response(campaigns.get_by_slug(slug), response_id)
    responses_service.reopen(target, Actor.for_user(current_user), submitted(ReopenForm()).reason.data)
    flash(_("La respuesta se reabrió: la institución puede editarla de nuevo."), "saved")
    return redirect(url_for("analyst.response", slug=slug, response_id=response_id))


@bp.post("/<slug>/responses/<int:response_id>/verified")
@analyst_required
def mark_verified(slug: str, response_id: int):
    """Close the verification of a submitted response."""
    review.mark_verified(review.get_response(campaigns.get_by_slug(slug), response_id), current_user)
    flash(_("Respuesta marcada como verificada."), "saved")
    return redirect(url_for("analyst.response", slug=slug, response_id=response_id))


@bp.get("/<slug>/scores")
@analyst_required
def score_table(slug: str):
    """Institution, type, order, state or national scores; sorted and filtered by query arguments."""
    campaign = campaigns.get_by_slug(slug)
    view = scores.table_view(campaign, scores.TableQuery.from_args(request.args))
    return render_template("analyst/scores.html", campaign=campaign, view=view)


@bp.get("/<slug>/export/scores-<by>-<shape>.csv")
@analyst_required
def export_csv(slug: str, by: str, shape: str):
    """Score table as CSV, wide or long."""
    computed = scores.compute(campaigns.get_by_slug(slug))
    text = exports.scores_csv(computed, by, request.args.get("level", scores.HEADLINE), shape)
    return _download(text.encode("utf-8"), f"{slug}-{by}-{shape}.csv", "text/csv; charset=utf-8")


@bp.get("/<slug>/export/codebook.csv")
@analyst_required
def export_codebook(slug: str):
    """Codebook: every column and every model node with labels, weights and rules."""
    computed = scores.compute(campaigns.get_by_slug(slug))
    text = exports.codebook_csv(computed, request.args.get("by", "institution"),
                                request.args.get("level", scores.HEADLINE))
    return _download(text.encode("utf-8"), f"{slug}-codebook.csv", "text/csv; charset=utf-8")


@bp.get("/<slug>/export/scores-<by>.xlsx")
@analyst_required
def export_xlsx(slug: str, by: str):
    """Score table as XLSX with codebook and metadata sheets."""
    campaign = campaigns.get_by_slug(slug)
    data = exports.scores_xlsx(campaign, scores.compute(campaign), by, request.args.get("level", scores.HEADLINE))
    return _download(data, f"{slug}-{by}.xlsx", XLSX)


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/token", methods=["GET", "POST"])
@analyst_required
def api_token():
    """See, create (shown once) or revoke one's own API token."""
    form, token = TokenForm(), None
    if form.is_submitted() and submitted(form).action.data == "revoke":
        tokens.revoke(current_user, Actor.for_user(current_user))
        flash(_("El token se revocó."), "saved")
    elif form.is_submitted():
        token = tokens.issue(current_user, Actor.for_user(current_user))
    return render_template("analyst/token.html", token=token, current=tokens.of_user(current_user), form=form)
