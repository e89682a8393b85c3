"""Mail views: the campaign's list of invitations with its status, sending after a confirmation,
each invitation's log, the wording of the messages with a preview, exports, and the outbox."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, current_app, render_template, request
from flask_login import current_user

from diagnostic.forms import submitted
from diagnostic.mailing import bp
from diagnostic.mailing.forms import SendForm, WordingForm
from diagnostic.security import admin_required, analyst_required, current_scope, require_national
from diagnostic.services import campaigns, institutions, mail, mailings, states
from diagnostic.services.audit import Actor
from diagnostic.services.refusals import current_lang


def _filters(source) -> dict[str, str | None]:
    """The list's filters from a query string or a posted form (empty means all)."""
    return {"state": source.get("estado") or None, "type_": source.get("tipo") or None,
            "status": source.get("estatus") or None}


def _base_url() -> str:
    return current_app.config["PUBLIC_URL"] or request.host_url


@bp.get("/c/<slug>")
@analyst_required
def campaign(slug: str):
    """The campaign's invitations: status of each, filters, send and remind, exports."""
    c = campaigns.get_by_slug(slug)
    filters = _filters(request.args)
    everyone = mailings.roster(c)
    rows = mailings.select(everyone, **filters)
    present_states = sorted({r.institution.state_code for r in everyone})
    state_names = {s.code: s.name for s in states.all_states()}
    types = sorted({r.institution.type for r in everyone})
    return render_template(
        "mailing/campaign.html", campaign=c, rows=rows, counts=mailings.counts(rows), filters=filters,
        total=len(everyone), states=[(code, state_names.get(code, code)) for code in present_states],
        types=[(t, mailings.type_label(t)) for t in types], statuses=mailings.STATUSES,
        status_label=lambda s: mailings.label(mailings.STATUS_LABELS, s), type_label=mailings.type_label,
        form=SendForm(formdata=None), outbox=mail.uses_outbox(), open=c.status.value == "open")


@bp.post("/c/<slug>/confirmar")
@analyst_required
def confirm(slug: str):
    """Say how many messages a send would make, and to whom not, before sending anything."""
    c = campaigns.get_by_slug(slug)
    form = submitted(SendForm())
    plan = mailings.plan(c, form.kind.data, **_filters(request.form))
    return render_template("mailing/confirm.html", campaign=c, plan=plan, form=form,
                           kind_label=mailings.label(mailings.KIND_LABELS, form.kind.data),
                           language_label=next((str(c.label) for c in form.idioma.choices if c.value == form.idioma.data), ""),
                           outbox=mail.uses_outbox())


@bp.post("/c/<slug>/enviar")
@analyst_required
def send(slug: str):
    """Send the confirmed messages over one connection and report sent and failed counts."""
    c = campaigns.get_by_slug(slug)
    form = submitted(SendForm())
    report = mailings.send(c, form.kind.data, **_filters(request.form), lang=form.idioma.data or None,
                           base_url=_base_url(), actor=Actor.for_user(current_user))
    return render_template("mailing/result.html", campaign=c, report=report, outbox=mail.uses_outbox(),
                           kind_label=mailings.label(mailings.KIND_LABELS, report.kind))


@bp.get("/c/<slug>/i/<int:institution_id>")
@analyst_required
def log(slug: str, institution_id: int):
    """The send log of one institution's invitation."""
    c = campaigns.get_by_slug(slug)
    institution = institutions.get(institution_id)
    if institution is None:
        abort(404)
    row = next((r for r in mailings.roster(c) if r.institution.id == institution_id), None)
    if row is None:
        abort(404)
    return render_template("mailing/log.html", campaign=c, row=row, entries=mailings.log_of(c, institution),
                           type_label=mailings.type_label)


def _export_name(c, extension: str) -> str:
    return f"pendientes-{c.slug}-{datetime.now(UTC):%Y%m%d}.{extension}"


def _pending(slug: str):
    """The campaign and its pending list (or the list the filters ask for)."""
    c = campaigns.get_by_slug(slug)
    filters = _filters(request.args)
    filters["status"] = filters["status"] or "pending"
    return c, mailings.roster(c, **filters)


@bp.get("/c/<slug>/pendientes.csv")
@analyst_required
def export_csv(slug: str):
    """The pending list (or the filtered list) as CSV."""
    c, rows = _pending(slug)
    body = mailings.pending_csv(rows, current_lang())
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{_export_name(c, "csv")}"'})


@bp.get("/c/<slug>/pendientes.xlsx")
@analyst_required
def export_xlsx(slug: str):
    """The pending list (or the filtered list) as XLSX."""
    c, rows = _pending(slug)
    body = mailings.pending_xlsx(rows, current_lang())
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_export_name(c, "xlsx")}"'})


def _wording_page(c, kind: str, lang: str, form: WordingForm, problems=(), status: int = 200):
    subject, body = mailings.preview(c, kind, lang, _base_url()) if not problems else ("", "")
    if not problems and (form.subject.data, form.body.data) != (None, None):
        sample = next((i for i in institutions.in_campaign(c) if current_scope().allows(i.state_code)), None)
        if sample is not None:  # preview what was typed, with the first institution
            values = mailings.values(c, sample, f"{_base_url().rstrip('/')}/r/EJEMPLO-DE-ENLACE", lang)
            subject, body = mailings.fill(form.subject.data or "", values), mailings.fill(form.body.data or "", values)
    return render_template(
        "mailing/wording.html", campaign=c, kind=kind, lang=lang, form=form, problems=problems,
        preview_subject=subject, preview_body=body, custom=mailings.wording(c, kind, lang).custom,
        kinds=[(k, mailings.label(mailings.KIND_LABELS, k)) for k in mailings.KINDS],
        langs=[(code, mailings.label(mailings.LANGUAGE_LABELS, code)) for code in mailings.LANGS],
        placeholders=mailings.PLACEHOLDERS), status


@bp.get("/c/<slug>/mensajes")
@analyst_required
def wording(slug: str):
    """Edit the campaign's invitation and reminder in Spanish and English, with a preview."""
    c = campaigns.get_by_slug(slug)
    kind = request.args.get("mensaje", "invitation")
    lang = request.args.get("idioma", "es")
    if kind not in mailings.KINDS or lang not in mailings.LANGS:
        abort(404)
    current = mailings.wording(c, kind, lang)
    form = WordingForm(formdata=None, kind=kind, lang=lang, subject=current.subject, body=current.body)
    return _wording_page(c, kind, lang, form)


@bp.post("/c/<slug>/mensajes")
@analyst_required
def save_wording(slug: str):
    """Save (or preview, or go back to the default of) one message; problems keep what was typed."""
    c = campaigns.get_by_slug(slug)
    form = submitted(WordingForm())
    require_national()  # the wording is the campaign's, for every state
    if not form.choices_ok():
        abort(400)
    kind, lang, action = form.kind.data, form.lang.data, request.form.get("action", "save")
    if action == "reset":
        mailings.reset_wording(c, kind, lang, actor=Actor.for_user(current_user))
        current = mailings.wording(c, kind, lang)
        form = WordingForm(formdata=None, kind=kind, lang=lang, subject=current.subject, body=current.body)
        return _wording_page(c, kind, lang, form)
    body = (form.body.data or "").replace("\r\n", "\n")
    form.body.data = body
    problems = [p.text(current_lang()) for p in mailings.check_wording(form.subject.data or "", body)]
    if problems:
        return _wording_page(c, kind, lang, form, problems, 422)
    if action == "save":
        mailings.save_wording(c, kind, lang, form.subject.data, body, actor=Actor.for_user(current_user))
    return _wording_page(c, kind, lang, form)


@bp.get("/salida")
@admin_required
def outbox():
    """Bandeja de salida: the messages written instead of sent (no SMTP server configured)."""
    messages, total = mail.outbox_messages()
    return render_template("mailing/outbox.html", messages=messages, total=total, outbox=mail.uses_outbox(),
                           folder=str(mail.outbox_dir()))


@bp.get("/salida/<name>")
@admin_required
def outbox_message(name: str):
    """One message of the outbox: headers and text."""
    return render_template("mailing/outbox_message.html", message=mail.outbox_message(name))


@bp.get("/salida/<name>/eml")
@admin_required
def outbox_raw(name: str):
    """One message of the outbox as the .eml file (opens in a mail program)."""
    return Response(mail.outbox_path(name).read_bytes(), mimetype="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

