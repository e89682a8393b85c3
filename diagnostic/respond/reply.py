"""The right of reply on an institution's link (methodology §9.5): while the campaign is in
review, `/r/<token>/replica` shows the institution's item scores, the verifiers' corrections
with their reasons and the evidence used, and takes contests (comment and new evidence) until
the window closes; afterwards it stays readable with every contest's outcome and reason.

Same guards as the questionnaire (the `respond` blueprint: the secret link is the credential,
no cookie, cross-site posts refused, nothing cached)."""
from __future__ import annotations

from functools import wraps

from flask import redirect, render_template, request, url_for

from diagnostic.respond import bp
from diagnostic.services import ServiceError, attachments, reply
from diagnostic.services.refusals import current_lang


def _page(token: str, invitation, *, errors: dict | None = None, typed: dict | None = None, status: int = 200):
    view = reply.page(invitation.campaign, invitation.institution)
    return render_template("respond/reply.html", view=view, token=token, lang=current_lang(),
                           errors=errors or {}, typed=typed or {}, sent=request.args.get("enviada")), status


def with_invitation(view):
    """Resolve the link first: an unusable one gets the questionnaire's invalid-link page."""

    @wraps(view)
    def wrapped(token: str, **kwargs):
        try:
            invitation = reply.resolve(token)
        except ServiceError as exc:
            return render_template("questionnaire/invalid_link.html", message=exc.message, code=exc.status), exc.status
        return view(token, invitation, **kwargs)

    return wrapped


@bp.get("/<token>/replica")
@with_invitation
def reply_page(token: str, invitation):
    """The institution's item scores, corrections, evidence and contests."""
    return _page(token, invitation)


@bp.post("/<token>/replica/<item>")
@with_invitation
def reply_contest(token: str, invitation, item: str):
    """File a contest of one item (comment required; a web address and/or a file as new evidence)."""
    upload = request.files.get("file")
    has_file = upload is not None and bool(upload.filename)
    try:
        contest = reply.contest(invitation, item, request.form.get("comment", ""),
                                evidence_url=request.form.get("evidence_url"),
                                upload=upload.stream if has_file else None,
                                upload_name=upload.filename if has_file else None)
    except ServiceError as exc:
        from diagnostic.extensions import db

        db.session.rollback()
        return _page(token, invitation, errors={item: exc.message}, typed={
            item: {"comment": request.form.get("comment", ""), "evidence_url": request.form.get("evidence_url", "")}},
            status=exc.status)
    return redirect(url_for("respond.reply_page", token=token, enviada=contest.id) + f"#i-{contest.item_code}", 303)


@bp.get("/<token>/replica/archivo/<int:file_id>")
@with_invitation
def reply_file(token: str, invitation, file_id: int):
    """One of the institution's own evidence files, as a download (never shown inline)."""
    return attachments.send(reply.own_file(invitation, file_id))


def landing_redirect(token: str):
    """Where a link's landing goes once the questionnaire is over and the campaign is in review."""
    return redirect(url_for("respond.reply_page", token=token)) if reply.redirect_for(token) else None
