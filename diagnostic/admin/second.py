"""The second-verification sample settings of a campaign (share, minimum per state, seed),
editable by admins until the draw (`services/second_verification.py`)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from diagnostic.admin import bp
from diagnostic.admin.routes import actor
from diagnostic.analyst.forms import ReviewForm
from diagnostic.forms import submitted
from diagnostic.security import admin_required
from diagnostic.services import campaigns
from diagnostic.services import second_verification as second


@bp.get("/c/<slug>/second-verification")
@admin_required
def second_settings(slug: str):
    """The sample settings form (read-only once the sample is drawn)."""
    campaign = campaigns.get_by_slug(slug)
    purpose = second.check_purpose(request.args.get("purpose") or second.INSTITUTION)
    return render_template("admin/second.html", campaign=campaign, sample=second.settings_of(campaign, purpose),
                           form=ReviewForm(), purpose=purpose)


@bp.post("/c/<slug>/second-verification")
@admin_required
def save_second_settings(slug: str):
    """Save the sample settings (refused once drawn)."""
    campaign = campaigns.get_by_slug(slug)
    submitted(ReviewForm())
    purpose = second.check_purpose(request.form.get("purpose") or second.INSTITUTION)
    second.update_settings(campaign, actor(), share=request.form.get("share"), purpose=purpose,
                           min_per_state=request.form.get("min_per_state"), seed=request.form.get("seed"))
    flash(_("Ajustes de la muestra guardados."), "saved")
    return redirect(url_for("admin.second_settings", slug=slug, purpose=purpose))
