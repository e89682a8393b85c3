"""The reply window of a campaign (methodology §9.5): its length in business days, editable until
publication (shortening it while in review closes it earlier; 0 closes it at once)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from diagnostic.admin import bp
from diagnostic.analyst.forms import ReviewForm
from diagnostic.forms import submitted
from diagnostic.security import admin_required
from diagnostic.services import campaigns, reply
from diagnostic.services.audit import Actor
from diagnostic.services.refusals import current_lang


@bp.app_template_global("reply_window")
def reply_window(campaign):
    """The campaign's reply window (for templates)."""
    return reply.window(campaign)


@bp.app_template_global("reply_lang")
def reply_lang() -> str:
    """The interface language code (es or en)."""
    return current_lang()


@bp.route("/c/<slug>/reply-window", methods=["GET", "POST"], endpoint="reply_window")
@admin_required
def reply_window_edit(slug: str):
    """Show and change the reply window's length in business days."""
    c = campaigns.get_by_slug(slug)
    if request.method == "POST":
        submitted(ReviewForm())
        changed = reply.set_days(c, request.form.get("reply_days", ""), Actor.for_user(current_user))
        flash(_("Plazo de réplica: %(n)s días hábiles.", n=c.reply_days) if changed else _("Sin cambios."), "saved")
        return redirect(url_for("admin.campaign", slug=slug))
    return render_template("admin/reply_window.html", campaign=c, window=reply.window(c), form=ReviewForm(),
                           lang=current_lang(), maximum=reply.MAX_DAYS)


@bp.app_template_global("reply_notice_count")
def reply_notice_count(campaign) -> int:
    """How many institutions a review notice would reach (for the campaign page)."""
    return len(reply.notice_plan(campaign).targets)


@bp.post("/c/<slug>/reply-notice")
@admin_required
def reply_notice(slug: str):
    """E-mail the institutions that submitted their link and the reply window's close."""
    c = campaigns.get_by_slug(slug)
    submitted(ReviewForm())
    sent = reply.notify(c, base_url=request.host_url, actor=Actor.for_user(current_user))
    flash(_("Avisos de réplica enviados: %(n)s; fallidos: %(f)s; sin correo: %(m)s.", n=sent.sent,
            f=len(sent.failed), m=sent.no_email), "saved" if not sent.failed else "warning")
    for name, reason in sent.failed:
        flash(f"{name}: {reason}", "warning")
    return redirect(url_for("admin.campaign", slug=slug))
