"""Analyst views: progress, review and verification, score tables and exports (analysts and admins)."""
from __future__ import annotations

import re

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from diagnostic import labels
from diagnostic.analyst import bp
from diagnostic.analyst.evidence import evidence_review
from diagnostic.analyst.forms import ReopenForm, ReviewForm, TokenForm, VerifyForm
from diagnostic.extensions import db
from diagnostic.forms import submitted
from diagnostic.security import analyst_required
from diagnostic.services import (
    Refusal,
    ServiceError,
    audit,
    campaigns,
    exports,
    review,
    scores,
    tokens,
)
from diagnostic.services import evidence as evidence_links
from diagnostic.services import responses as responses_service
from diagnostic.services.audit import Actor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUBMISSIONS_PER_PAGE = 100


@bp.app_template_global("analyst_lang")
def analyst_lang() -> str:
    """The interface language code (es or en) for model labels."""
    return str(get_locale() or "es")[:2]


@bp.app_template_global("type_label")
def type_label(code: str | None) -> str:
    """An institution type's label in the interface language."""
    return labels.label(code, "type") if code else ""


@bp.app_template_global("status_label")
def status_label(code: str | None) -> str:
    """A response or campaign status (or a verification) as a label in the interface language."""
    return review.label_of(review.STATUS_LABELS, code)


@bp.app_template_global("purpose_label")
def purpose_label(code: str | None) -> str:
    """Who answers an instrument (institution, evaluator, state) as a label in the interface language."""
    return review.label_of(review.PURPOSE_LABELS, code)


@bp.app_template_global("action_label")
def action_label(code: str | None) -> str:
    """An audit action as a label in the interface language."""
    return review.label_of(review.ACTION_LABELS, code)


@bp.app_template_global("local_time")
def local_time(moment) -> str:
    """A stored UTC time as Mexico City (the configured zone) time, to the minute."""
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment is not None else ""


@bp.app_template_global("actor_label")
def actor_label(actor: str | None) -> str:
    """Who acted when it was not a staff user: a respondent's link or the system."""
    if actor and actor.startswith("invitation:"):
        return _("Institución (enlace)")
    return _("El sistema") if actor == "system" else (actor or "")


@bp.app_template_global("audit_value")
def audit_value(event, value: str | None, labels: dict | None = None, side: int = 0) -> str:
    """An audit row's before (side 0) or after (side 1) value: answers and status codes shown as labels."""
    if labels and event.id in labels:
        return labels[event.id][side]
    if value is not None and event.action in ("response.status", "campaign.status", "campaign.create"):
        return status_label(value)
    return value or ""


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
    """The campaign's submissions: filter by state, type, status and verifier; select some to accept in bulk."""
    campaign = campaigns.get_by_slug(slug)
    query = review.SubmissionQuery.from_args(request.args)
    view = review.submissions(campaign, query)
    pages = max(1, -(-len(view.rows) // SUBMISSIONS_PER_PAGE))
    page = request.args.get("page", "1")
    page = min(int(page), pages) if page.isdigit() and int(page) > 0 else 1
    shown = view.rows[(page - 1) * SUBMISSIONS_PER_PAGE: page * SUBMISSIONS_PER_PAGE]
    return render_template("analyst/responses.html", campaign=campaign, view=view, status=query.status,
                           form=ReviewForm(), shown=shown, page=page, pages=pages,
                           ready=sum(1 for r in view.rows if r.response.status.value == "submitted"))


@bp.get("/<slug>/export/submissions.<ext>")
@analyst_required
def export_submissions(slug: str, ext: str):
    """The submissions table as filtered, with labels, as CSV or XLSX."""
    campaign = campaigns.get_by_slug(slug)
    view = review.submissions(campaign, review.SubmissionQuery.from_args(request.args))
    if ext == "csv":
        text = exports.submissions_csv(view, analyst_lang())
        return _download(text.encode("utf-8-sig"), f"{slug}-envios.csv", "text/csv; charset=utf-8")
    if ext == "xlsx":
        return _download(exports.submissions_xlsx(view, analyst_lang()), f"{slug}-envios.xlsx", XLSX)
    raise ServiceError(Refusal.UNKNOWN_SUBMISSION_FILTER, name="formato", value=ext, status=404)


@bp.post("/<slug>/responses/bulk-accept")
@analyst_required
def bulk_accept(slug: str):
    """Accept every answer not yet reviewed of the selected submissions; asks first, saying how many."""
    campaign = campaigns.get_by_slug(slug)
    submitted(ReviewForm())
    query = review.SubmissionQuery.from_args(request.form)
    ids = request.form.getlist("ids")
    if request.form.get("scope") == "all":  # every submission the filters show, on every page
        ids = [str(r.response.id) for r in review.submissions(campaign, query).rows]
    back = query.args()
    if request.form.get("confirm") != "1":
        plan = review.bulk_plan(campaign, ids)
        everything = request.form.get("scope") == "all"
        return render_template("analyst/confirm_bulk.html", campaign=campaign, plan=plan,
                               ids=[] if everything else ids, everything=everything, back=back, form=ReviewForm())
    plan = review.bulk_accept(campaign, ids, current_user)
    flash(ngettext("Se aceptaron las respuestas pendientes de %(num)d envío (%(answers)d respuestas).",
                   "Se aceptaron las respuestas pendientes de %(num)d envíos (%(answers)d respuestas).",
                   len(plan.responses), answers=plan.answers), "saved")
    return redirect(url_for("analyst.responses", slug=slug, **back))


@bp.get("/<slug>/responses/<int:response_id>")
@analyst_required
def response(slug: str, response_id: int):
    """One response: answers, evidence, item scores and coverage, verification and audit trail."""
    campaign = campaigns.get_by_slug(slug)
    return _review_page(campaign, review.get_response(campaign, response_id))


def _review_page(campaign, target, *, drafts: dict | None = None, errors: dict | None = None, status: int = 200):
    """The review page; `drafts` (what was typed, by answer path) and `errors` (by path) after a refused post."""
    data = review.review(target)
    return render_template("analyst/review.html", campaign=campaign, review=data, verify_form=VerifyForm(),
                           reopen_form=ReopenForm(), drafts=drafts or {}, errors=errors or {},
                           next_response=review.next_to_review(target),
                           evidence=evidence_review(target)), status


PATH = re.compile(r"(?P<field>[^\[\]]+)(?:\[(?P<index>\d+)\])?\Z")


def _typed(form) -> dict[str, dict]:
    """What the analyst typed in every row of the review form, by answer path."""
    paths = {key.split(":", 1)[1] for key in form if key.startswith(("value:", "reason:"))}
    return {path: {"value": [v for v in form.getlist(f"value:{path}")], "reason": form.get(f"reason:{path}", "")}
            for path in paths}


def _unsaved(typed: dict[str, dict], data: review.Review, skip: str) -> dict[str, dict]:
    """Rows, other than `skip`, where the analyst typed a reason or a value other than the current one."""
    current = {row.path: set((row.effective or "").split()) for row in data.rows}
    kept = {}
    for path, entry in typed.items():
        if path == skip or path not in current:
            continue
        values = {part for v in entry["value"] for part in str(v).split()}
        if entry["reason"].strip() or values != current[path]:
            kept[path] = entry
    return kept


@bp.post("/<slug>/responses/<int:response_id>/verify")
@analyst_required
def verify(slug: str, response_id: int):
    """Accept or correct one answer (a correction needs a reason).

    The review page posts every row at once with the pressed button as `act` (`accept:PATH` or
    `correct:PATH`); a refused row comes back on the same page with its message and everything
    typed in every row kept. Without `act`, a single row is posted as `field`, `repeat_index`,
    `decision`, `value`, `reason`.
    """
    campaign = campaigns.get_by_slug(slug)
    target = review.get_response(campaign, response_id)
    if "act" not in request.form:
        form = submitted(VerifyForm())
        outcome = review.verify(target, {**form.data, "value": request.form.getlist("value")}, current_user)
        flash(_("Respuesta aceptada.") if outcome == "accepted" else _("Corrección guardada."), "saved")
        return redirect(url_for("analyst.response", slug=slug, response_id=response_id) + "#a-" + form.field.data)
    submitted(ReviewForm())
    decision, _sep, path = request.form.get("act", "").partition(":")
    match = PATH.match(path)
    typed = _typed(request.form)
    entry = typed.get(path, {"value": [], "reason": ""})
    try:
        if not match:
            raise ServiceError(Refusal.FIELD_TO_VERIFY_MISSING)
        outcome = review.verify(target, {"field": match["field"], "repeat_index": match["index"] or "",
                                         "decision": decision, "value": entry["value"],
                                         "reason": entry["reason"]}, current_user)
    except ServiceError as exc:
        db.session.rollback()
        message = exc.message + ("".join(f" ({d})" for d in exc.details_for(analyst_lang())))
        return _review_page(campaign, target, drafts=typed, errors={path: message}, status=exc.status)
    flash(_("Respuesta aceptada.") if outcome == "accepted" else _("Corrección guardada."), "saved")
    kept = _unsaved(typed, review.review(target), path)
    if kept:
        return _review_page(campaign, target, drafts=kept)
    return redirect(url_for("analyst.response", slug=slug, response_id=response_id) + "#a-" + path)


@bp.post("/<slug>/responses/<int:response_id>/accept-remaining")
@analyst_required
def accept_remaining(slug: str, response_id: int):
    """Accept every answer of the response that nobody has reviewed yet."""
    target = review.get_response(campaigns.get_by_slug(slug), response_id)
    submitted(ReviewForm())
    count = review.accept_remaining(target, current_user)
    flash(ngettext("Se aceptó %(num)d respuesta.", "Se aceptaron %(num)d respuestas.", count), "saved")
    return redirect(url_for("analyst.response", slug=slug, response_id=response_id))


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
    """Close the verification of a submitted response; with answers not reviewed, ask first (no JS needed)."""
    campaign = campaigns.get_by_slug(slug)
    target = review.get_response(campaign, response_id)
    submitted(ReviewForm())
    confirmed = request.form.get("confirm") == "1"
    if confirmed and request.form.get("accept_remaining") == "1":
        review.accept_remaining(target, current_user)
    try:
        review.mark_verified(target, current_user, confirmed=confirmed)
    except ServiceError as exc:
        if exc.refusal is not Refusal.ANSWERS_NOT_REVIEWED:
            raise
        return render_template("analyst/confirm_verified.html", campaign=campaign, response=target,
                               pending=exc.params["count"], form=ReviewForm())
    flash(_("Respuesta marcada como verificada."), "saved")
    evidence_links.check_after_response(target.id, "verified")  # after the answer is sent
    return redirect(url_for("analyst.response", slug=slug, response_id=response_id))


@bp.get("/<slug>/audit")
@analyst_required
def audit_log(slug: str):
    """The campaign's audit log: who did what and when, filtered by person, action, dates and institution."""
    campaign = campaigns.get_by_slug(slug)
    query = audit.AuditQuery.from_args(request.args)
    log = audit.campaign_events(campaign, query)
    return render_template("analyst/audit.html", campaign=campaign, query=query, log=log,
                           labels=review.event_labels(log.events))


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
    computed = scores.for_reader(campaigns.get_by_slug(slug))
    text = exports.scores_csv(computed, by, request.args.get("level", scores.HEADLINE), shape)
    return _download(text.encode("utf-8"), f"{slug}-{by}-{shape}.csv", "text/csv; charset=utf-8")


@bp.get("/<slug>/export/codebook.csv")
@analyst_required
def export_codebook(slug: str):
    """Codebook: every column and every model node with labels, weights and rules."""
    computed = scores.for_reader(campaigns.get_by_slug(slug))
    text = exports.codebook_csv(computed, request.args.get("by", "institution"),
                                request.args.get("level", scores.HEADLINE))
    return _download(text.encode("utf-8"), f"{slug}-codebook.csv", "text/csv; charset=utf-8")


@bp.get("/<slug>/export/scores-<by>.xlsx")
@analyst_required
def export_xlsx(slug: str, by: str):
    """Score table as XLSX with codebook and metadata sheets."""
    campaign = campaigns.get_by_slug(slug)
    data = exports.scores_xlsx(campaign, scores.for_reader(campaign), by, request.args.get("level", scores.HEADLINE))
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
