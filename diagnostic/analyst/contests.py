"""Verifiers' side of the right of reply (methodology §9.5): the campaign's contests within the
analyst's state scope, each accepted (the item changes, written through the review path) or
rejected, both with a reason the institution sees."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from diagnostic.analyst import bp
from diagnostic.analyst.forms import ReviewForm
from diagnostic.extensions import db
from diagnostic.forms import submitted
from diagnostic.security import analyst_required, current_scope
from diagnostic.services import ServiceError, campaigns, reply
from diagnostic.services.refusals import current_lang


def _list(campaign, *, errors: dict | None = None, typed: dict | None = None, status: int = 200):
    wanted = request.args.get("status", reply.OPEN)
    rows = reply.for_verifiers(campaign, current_scope(), wanted)
    return render_template("analyst/contests.html", campaign=campaign, rows=rows, wanted=wanted,
                           window=reply.window(campaign), totals=reply.totals(campaign), form=ReviewForm(),
                           errors=errors or {}, typed=typed or {}, lang=current_lang()), status


@bp.get("/<slug>/contests")
@analyst_required
def contests(slug: str):
    """Open contests (or accepted, rejected, all) of the institutions in the analyst's states."""
    return _list(campaigns.get_by_slug(slug))


@bp.post("/<slug>/contests/<int:contest_id>")
@analyst_required
def decide_contest(slug: str, contest_id: int):
    """Accept (with the new value of the answers that change) or reject a contest, with a reason."""
    campaign = campaigns.get_by_slug(slug)
    row = reply.get_contest(campaign, contest_id, current_scope())
    submitted(ReviewForm())
    decision = request.form.get("decision")
    reason = request.form.get("reason", "")
    values = {key.removeprefix("value:"): request.form.getlist(key) for key in request.form if key.startswith("value:")}
    values = {k: (v if len(v) != 1 else v[0]) for k, v in values.items()}
    try:
        if decision == "accept":
            reply.accept(row, values, reason, current_user)
            flash(_("Impugnación aceptada: el reactivo cambió."), "saved")
        else:
            reply.reject(row, reason, current_user)
            flash(_("Impugnación rechazada."), "saved")
    except ServiceError as exc:
        db.session.rollback()
        return _list(campaign, errors={contest_id: exc.message}, typed={contest_id: {"reason": reason, **values}},
                     status=exc.status)
    return redirect(url_for("analyst.contests", slug=slug))
