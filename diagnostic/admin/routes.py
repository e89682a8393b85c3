"""Admin views: one form, one service call, a redirect back to the campaign page."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from diagnostic import labels
from diagnostic.admin import bp
from diagnostic.admin.forms import (
    AssignForm,
    CampaignEditForm,
    CampaignForm,
    DeleteCampaignForm,
    ImportConfirmForm,
    ImportForm,
    IndexModelForm,
    InstitutionForm,
    InstrumentForm,
    InvitationsForm,
    RosterFilterForm,
    StateRespondentForm,
    StatusForm,
    UserForm,
    UserStatesForm,
    WithdrawForm,
    read_upload,
)
from diagnostic.analyst.forms import ReopenForm
from diagnostic.forms import submitted
from diagnostic.models import CampaignStatus, InstrumentPurpose, Role
from diagnostic.security import admin_required
from diagnostic.services import (
    Conflict,
    NotFound,
    Refusal,
    ServiceError,
    assignments,
    campaigns,
    index_models,
    institutions,
    instruments,
    invitations,
    responses,
    states,
    users,
)
from diagnostic.services.audit import Actor
from diagnostic.services.refusals import current_lang

log = logging.getLogger(__name__)


def actor() -> Actor:
    """The signed-in admin as an audit actor."""
    return Actor.for_user(current_user)


def back(slug: str):
    """Redirect to a campaign's set-up page."""
    return redirect(url_for("admin.campaign", slug=slug))


@bp.get("/")
@admin_required
def index():
    """Campaigns and the form to create one."""
    return render_template("admin/index.html", campaigns=campaigns.all_campaigns(),
                           form=CampaignForm(year=datetime.now(UTC).year))


@bp.post("/campaigns")
@admin_required
def create_campaign():
    """Create a draft campaign."""
    form = submitted(CampaignForm())
    campaign = campaigns.create(form.name.data, form.year.data, slug=form.slug.data or None,
                                instructions=form.instructions.data or "", closes_at=form.closes_at_utc(),
                                actor=actor())
    return back(campaign.slug)


@bp.get("/c/<slug>")
@admin_required
def campaign(slug: str):
    """A campaign's set-up page."""
    c = campaigns.get_by_slug(slug)
    evaluators, all_states = users.list_by_role(Role.EVALUATOR), states.all_states()
    return render_template(
        "admin/campaign.html", campaign=c, progress=campaigns.progress(c), purposes=list(InstrumentPurpose),
        current={p: campaigns.instrument(c, p) for p in InstrumentPurpose},
        transitions=sorted(s.value for s in campaigns.TRANSITIONS[c.status]), submitted=responses.for_campaign(c),
        instrument_form=InstrumentForm().with_versions(instruments.all_versions()),
        state_form=StateRespondentForm(), import_form=ImportForm(),
        assign_form=AssignForm().with_choices(evaluators, all_states),
        invitations_form=InvitationsForm(), status_form=StatusForm(), reopen_form=ReopenForm(),
        checklist=campaigns.checklist(c, invitation_days=current_app.config["INVITATION_DAYS"])
        if c.status == CampaignStatus.DRAFT else [],
        model_form=IndexModelForm().with_models(index_models.shipped_models(), current_lang()),
        model_editable=model_editable(c), deletable=deletable(c))


def model_editable(c) -> bool:
    """Whether the campaign's index model may still be chosen (a draft, or opened without one)."""
    return c.status == CampaignStatus.DRAFT or (c.status != CampaignStatus.PUBLISHED and c.index_model is None)


def deletable(c) -> bool:
    """Whether the campaign may be deleted (not published, nobody answered)."""
    return c.status != CampaignStatus.PUBLISHED and campaigns.response_count(c) == 0


@bp.post("/c/<slug>/instrument")
@admin_required
def set_instrument(slug: str):
    """Pick a stored instrument version, or upload a new one, for a purpose."""
    c = campaigns.get_by_slug(slug)
    form = submitted(InstrumentForm())
    if form.file.data and form.file.data.filename:
        version = instruments.store(*read_upload(form.file.data, instruments.ACCEPTED))
    elif form.version_id.data is not None:
        version = instruments.get(form.version_id.data)
    else:
        raise ServiceError(Refusal.CHOOSE_VERSION_OR_FILE)
    campaigns.set_instrument(c, form.purpose.data, version, actor=actor())
    flash(_("Instrumento asignado: %(t)s", t=version.title), "saved")
    return back(slug)


@bp.post("/c/<slug>/import")
@admin_required
def import_institutions(slug: str):
    """Preview an institution file (CSV or XLSX): what would be created, updated or left alone; nothing written."""
    c = campaigns.get_by_slug(slug)
    data, filename = read_upload(submitted(ImportForm()).file.data, tuple(current_app.config["UPLOAD_EXTENSIONS"]))
    try:
        plan = institutions.preview(data, filename, campaign=c)
    except institutions.ImportRejected as exc:
        log.warning("institution import rejected (%s): %s", filename, exc.message)
        return _preview_page(c, filename, error=exc), 422
    return _preview_page(c, filename, plan=plan), 422 if plan.errors else 200


def _preview_page(c, filename: str, *, plan=None, error=None, changed: bool = False) -> str:
    confirm_form = ImportConfirmForm(sha256=plan.sha256, fingerprint=plan.fingerprint) if plan else None
    return render_template("admin/import_preview.html", campaign=c, filename=filename, plan=plan, error=error,
                           changed=changed, confirm_form=confirm_form, import_form=ImportForm(),
                           state_names={s.code: s.name for s in states.all_states()},
                           type_label=institutions.type_label, order_label=institutions.order_label)


@bp.post("/c/<slug>/import/confirm")
@admin_required
def confirm_import(slug: str):
    """Apply exactly the previewed import (refused, with a new preview, if anything changed since)."""
    c = campaigns.get_by_slug(slug)
    form = submitted(ImportConfirmForm())
    try:
        report = institutions.confirm(form.sha256.data, form.fingerprint.data, campaign=c, actor=actor())
    except institutions.PlanChanged as exc:
        return _preview_page(c, exc.plan.filename, plan=exc.plan, changed=True), 409
    flash(_("Importadas: %(c)s nuevas, %(u)s actualizadas, %(a)s añadidas a la campaña.",
            c=report.created, u=report.updated, a=report.added_to_campaign), "saved")
    if report.state_respondents:
        flash(_("Responsables estatales designados: %(n)s.", n=report.state_respondents), "saved")
    return redirect(url_for("admin.roster", slug=slug))


def _type_choices() -> list[tuple[str, str]]:
    return sorted(((code, institutions.type_label(code)) for code in institutions.TYPES), key=lambda c: c[1])


@bp.get("/c/<slug>/institutions")
@admin_required
def roster(slug: str):
    """A campaign's institutions: search by name, filter by state, type and status."""
    c = campaigns.get_by_slug(slug)
    form = RosterFilterForm(request.args).with_choices(
        states.all_states(), _type_choices(),
        [(code, label.text(institutions.current_lang())) for code, label in institutions.STATUS_LABELS.items()])
    entries = institutions.roster(c, search=form.q.data or None, state_code=form.state.data or None,
                                  type_code=form.type.data or None, status=form.status.data or None)
    return render_template("admin/institutions.html", campaign=c, entries=entries, form=form, import_form=ImportForm(),
                           total=len(institutions.roster(c)) if request.args else len(entries),
                           state_names={s.code: s.name for s in states.all_states()},
                           type_label=institutions.type_label, order_label=institutions.order_label)


@bp.route("/c/<slug>/institutions/<int:institution_id>", methods=["GET", "POST"])
@admin_required
def roster_institution(slug: str, institution_id: int):
    """Edit one institution of the campaign (every change audited) or withdraw it."""
    c = campaigns.get_by_slug(slug)
    entry = institutions.roster_entry(c, institution_id)
    inst = entry.institution
    form = InstitutionForm(data=None if request.method == "POST" else {
        "name": inst.name, "order": inst.order.value, "type": inst.type,
        "contact_name": entry.contact_name or "", "contact_email": entry.contact_email or ""}).with_choices(
        labels.choices("order"), _type_choices())
    if request.method == "POST":
        submitted(form)
        changes = institutions.edit(c, institution_id, {
            "name": form.name.data, "order": form.order.data, "type": form.type.data,
            "contact_name": form.contact_name.data, "contact_email": form.contact_email.data}, actor=actor())
        if changes:
            flash(_("Cambios guardados: %(f)s.", f=", ".join(ch.label for ch in changes)), "saved")
        else:
            flash(_("Sin cambios."), "saved")
        return redirect(url_for("admin.roster", slug=slug))
    return render_template("admin/institution.html", campaign=c, entry=entry, form=form,
                           withdraw_form=WithdrawForm(), state_names={s.code: s.name for s in states.all_states()})


@bp.post("/c/<slug>/institutions/<int:institution_id>/withdraw")
@admin_required
def withdraw_institution(slug: str, institution_id: int):
    """Withdraw an institution from the campaign (refused once it has submitted)."""
    c = campaigns.get_by_slug(slug)
    form = submitted(WithdrawForm())
    entry = institutions.roster_entry(c, institution_id)
    institutions.withdraw(c, institution_id, reason=form.reason.data or None, actor=actor())
    flash(_("%(i)s fue retirada de la campaña.", i=entry.institution.name), "saved")
    return redirect(url_for("admin.roster", slug=slug))


@bp.post("/c/<slug>/state-respondent")
@admin_required
def state_respondent(slug: str):
    """Designate the institution (by key) that answers its state's conditions questionnaire."""
    c = campaigns.get_by_slug(slug)
    key = submitted(StateRespondentForm()).key.data
    institution = next((i for i in institutions.in_campaign(c) if i.key == key), None)
    if institution is None:
        raise NotFound(Refusal.NO_INSTITUTION_WITH_KEY, key=key)
    institutions.set_state_respondent(c, institution, actor=actor())
    flash(_("%(i)s responderá las condiciones de %(s)s.", i=institution.name, s=institution.state.name), "saved")
    return back(slug)


@bp.post("/c/<slug>/assign")
@admin_required
def assign(slug: str):
    """Assign the institutions of a state (or listed keys) to an evaluator."""
    c = campaigns.get_by_slug(slug)
    form = submitted(AssignForm())
    evaluator = users.get(form.evaluator_id.data) if form.evaluator_id.data is not None else None
    if evaluator is None:
        raise ServiceError(Refusal.CHOOSE_EVALUATOR)
    keys = form.key_set()
    chosen = [i for i in institutions.in_campaign(c, form.state.data or None) if not keys or i.key in keys]
    if not chosen:
        raise ServiceError(Refusal.NO_MATCHING_INSTITUTIONS)
    n = assignments.assign(c, chosen, evaluator, actor=actor())
    flash(_("%(n)s instituciones asignadas a %(e)s.", n=n, e=evaluator.email), "saved")
    return back(slug)


@bp.post("/c/<slug>/invitations")
@admin_required
def issue_invitations(slug: str):
    """Issue invitation links and download them as CSV (tokens are shown only this once)."""
    c = campaigns.get_by_slug(slug)
    links = invitations.issue(c, institutions.in_campaign(c), reissue=submitted(InvitationsForm()).reissue.data,
                              days=current_app.config["INVITATION_DAYS"], actor=actor())
    body = invitations.links_csv(links, current_app.config["PUBLIC_URL"] or request.host_url)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="invitaciones-{c.slug}.csv"',
        "Cache-Control": "no-store"})


@bp.post("/c/<slug>/status")
@admin_required
def set_status(slug: str):
    """Open, close, reopen or publish a campaign: first a page that says what will change (and,
    before opening, the checklist); the change only once that page is confirmed."""
    c = campaigns.get_by_slug(slug)
    form = submitted(StatusForm())
    target = form.status.data
    try:
        target = CampaignStatus(target)
    except ValueError:
        raise ServiceError(Refusal.UNKNOWN_CAMPAIGN_STATUS, value=target) from None
    checklist = None
    if target == CampaignStatus.OPEN and c.status == CampaignStatus.DRAFT:
        checklist = campaigns.checklist(c, invitation_days=current_app.config["INVITATION_DAYS"])
    if form.confirm.data != "yes" or (checklist and any(i.blocks for i in checklist)):
        return confirm_status(c, target, checklist)
    try:
        campaigns.set_status(c, target, actor=actor(), reason=form.reason.data or None)
    except ServiceError as exc:
        if exc.refusal != Refusal.CAMPAIGN_NOT_READY:
            raise
        return confirm_status(c, target, campaigns.checklist(c, invitation_days=current_app.config["INVITATION_DAYS"]))
    from diagnostic import labels

    flash(_("Estado de la campaña: %(s)s", s=labels.label(c.status)), "saved")
    return back(slug)


def confirm_status(c, target: CampaignStatus, checklist: list | None):
    """The confirmation page of a status change; 409 with the checklist when opening is blocked."""
    if target not in campaigns.TRANSITIONS[c.status]:
        campaigns.set_status(c, target)  # refuses with the coded "cannot go from … to …"
    blocked = [i for i in checklist or [] if i.blocks]
    effects = campaigns.status_effects(
        c, target, results_url=url_for("reports.portal", slug=c.slug, _external=True),
        invitation_days=current_app.config["INVITATION_DAYS"])
    form = StatusForm(status=target.value, confirm="yes")
    html = render_template("admin/status.html", campaign=c, target=target, checklist=checklist, blocked=blocked,
                           effects=effects, form=form, lang=current_lang(),
                           reopen=target == CampaignStatus.OPEN and c.status == CampaignStatus.CLOSED)
    return html, (409 if blocked else 200)


@bp.post("/c/<slug>/model")
@admin_required
def set_model(slug: str):
    """Choose a shipped index model or upload one; checked against the campaign's questionnaires."""
    c = campaigns.get_by_slug(slug)
    form = submitted(IndexModelForm())
    if form.file.data and form.file.data.filename:
        data, filename = read_upload(form.file.data, (".yaml", ".yml"))
        stored, checked = index_models.choose(c, source=data, filename=filename, actor=actor())
    else:
        stored, checked = index_models.choose(c, shipped=form.shipped.data or None, actor=actor())
    flash(_("Modelo de índice elegido: %(m)s %(v)s", m=stored.model_id, v=stored.version), "saved")
    lang = current_lang()
    for warning in checked.warnings:
        flash(warning.text(lang), "warning")
    return redirect(url_for("admin.campaign", slug=slug) + "#modelo")


@bp.get("/c/<slug>/model/preview")
@admin_required
def preview_model(slug: str):
    """The campaign's index model at work: the tree with weights and the 0–1 values it gives."""
    c = campaigns.get_by_slug(slug)
    return render_template("admin/preview.html", campaign=c, preview=index_models.preview(c), lang=current_lang())


@bp.get("/c/<slug>/edit")
@admin_required
def edit_campaign(slug: str):
    """The form to edit a draft campaign."""
    c = campaigns.get_by_slug(slug)
    if c.status != CampaignStatus.DRAFT:
        raise Conflict(Refusal.CAMPAIGN_EDIT_ONLY_IN_DRAFT)
    form = CampaignEditForm(name=c.name, year=c.year, instructions=c.instructions,
                            closes_at=c.closes_at.date() if c.closes_at else None)
    return render_template("admin/edit.html", campaign=c, form=form)


@bp.post("/c/<slug>/edit")
@admin_required
def update_campaign(slug: str):
    """Save a draft campaign's name, year, deadline and instructions."""
    c = campaigns.get_by_slug(slug)
    form = submitted(CampaignEditForm())
    changed = campaigns.update(c, name=form.name.data, year=form.year.data, instructions=form.instructions.data or "",
                               closes_at=form.closes_at_utc(), actor=actor())
    flash(_("Campaña actualizada.") if changed else _("Sin cambios."), "saved")
    return back(slug)


@bp.get("/c/<slug>/delete")
@admin_required
def delete_confirmation(slug: str):
    """What deleting the campaign removes, and the form to confirm it."""
    c = campaigns.get_by_slug(slug)
    return render_template("admin/delete.html", campaign=c, progress=campaigns.progress(c),
                           responses=campaigns.response_count(c), form=DeleteCampaignForm())


@bp.post("/c/<slug>/delete")
@admin_required
def delete_campaign(slug: str):
    """Delete a campaign nobody answered, once its identifier is typed."""
    c = campaigns.get_by_slug(slug)
    form = submitted(DeleteCampaignForm())
    if form.slug.data != c.slug:
        raise ServiceError(Refusal.DELETE_CONFIRMATION, slug=c.slug)
    name = c.name
    campaigns.delete(c, actor=actor())
    flash(_("Campaña borrada: %(n)s", n=name), "saved")
    return redirect(url_for("admin.index"))


@bp.get("/users")
@admin_required
def user_list():
    """Staff accounts with their scope (national or states), the form to create one and to change an analyst's states."""
    return render_template("admin/users.html", users=users.list_by_role(), form=UserForm(),
                           states_form=UserStatesForm, scope_text=users.scope_text)


@bp.post("/users")
@admin_required
def create_user():
    """Create a staff account (an analyst may be limited to states)."""
    form = submitted(UserForm())
    users.create(form.email.data, form.name.data or "", form.role.data, form.password.data,
                 states=form.states.data or ())
    flash(_("Cuenta creada."), "saved")
    return redirect(url_for("admin.user_list"))


@bp.post("/users/<int:user_id>/states")
@admin_required
def user_states(user_id: int):
    """Change the states an account is limited to (audited); none makes it national."""
    user = users.get(user_id)
    if user is None:
        abort(404)
    form = submitted(UserStatesForm())
    if users.set_states(user, form.states.data or (), actor=actor()):
        flash(_("Entidades de %(email)s: %(states)s.", email=user.email, states=users.scope_label(user.state_codes)),
              "saved")
    return redirect(url_for("admin.user_list"))
