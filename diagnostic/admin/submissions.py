"""Admin pages for XLSForm out and offline submissions in: download an instrument as
XLSForm; upload a KoboToolbox or ODK Central export, preview it row by row, confirm."""
from __future__ import annotations

import re

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from diagnostic.admin import bp
from diagnostic.admin.forms import read_upload
from diagnostic.forms import submitted
from diagnostic.models import InstrumentPurpose
from diagnostic.security import admin_required
from diagnostic.services import campaigns, instruments, submissions
from diagnostic.services.audit import Actor
from surveys.xlsform_export import to_xlsform

PURPOSES = [SelectChoice("institution", _l("Cuestionario institucional")),
            SelectChoice("evaluator", _l("Evaluación ciudadana")), SelectChoice("state", _l("Condiciones estatales"))]


class SubmissionsForm(FlaskForm):
    """A KoboToolbox or ODK Central export and how to match its rows."""

    file = FileField(_l("Archivo exportado (KoboToolbox: XLSX o CSV; ODK Central: ZIP de CSV o JSON)"))
    key_column = StringField(_l("Columna con la clave de la institución"), default="institution",
                             validators=[DataRequired(), Length(max=120)])
    purpose = SelectField(_l("Cuestionario"), choices=PURPOSES, default="institution")


class ConfirmForm(FlaskForm):
    """The staged file of a preview, confirmed."""

    staged = HiddenField(validators=[DataRequired()])
    key_column = HiddenField(validators=[DataRequired()])
    purpose = HiddenField(validators=[DataRequired()])


@bp.get("/instruments/<int:version_id>/xlsform")
@admin_required
def instrument_xlsform(version_id: int):
    """A stored instrument as an XLSForm (.xlsx) for ODK Collect and KoboToolbox."""
    version = instruments.get(version_id)
    body = to_xlsform(instruments.definition(version))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{version.instrument_id}-{version.version}") or "instrument"
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@bp.route("/c/<slug>/submissions", methods=["GET", "POST"])
@admin_required
def submissions_page(slug: str):
    """Upload an export and preview what importing it would do (nothing is written)."""
    campaign = campaigns.get_by_slug(slug)
    form = SubmissionsForm()
    current = {p: campaigns.instrument(campaign, p) for p in InstrumentPurpose}
    if form.is_submitted():
        submitted(form)
        data, filename = read_upload(form.file.data, submissions.ACCEPTED)
        plan = submissions.preview(campaign, data, filename, key_column=form.key_column.data.strip(),
                                   purpose=form.purpose.data)
        staged = submissions.stage(data, filename) if plan.ok else None
        confirm = ConfirmForm(staged=staged, key_column=plan.key_column, purpose=plan.purpose)
        return render_template("admin/submissions.html", campaign=campaign, form=form, plan=plan,
                               confirm=confirm, current=current), (200 if plan.ok else 422)
    return render_template("admin/submissions.html", campaign=campaign, form=form, plan=None, confirm=None,
                           current=current)


@bp.post("/c/<slug>/submissions/apply")
@admin_required
def submissions_apply(slug: str):
    """Import the previewed file, all or nothing."""
    campaign = campaigns.get_by_slug(slug)
    form = submitted(ConfirmForm())
    data, filename = submissions.staged(form.staged.data)
    applied = submissions.apply(campaign, data, filename, Actor.for_user(current_user),
                                key_column=form.key_column.data, purpose=form.purpose.data)
    submissions.discard(form.staged.data)
    flash(_("Envíos importados de %(f)s: %(c)s creados, %(u)s actualizados, %(n)s sin cambios.",
            f=filename, c=applied.created, u=applied.updated, n=applied.unchanged), "saved")
    return redirect(url_for("admin.campaign", slug=slug))
