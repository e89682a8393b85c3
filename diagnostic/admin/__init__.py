"""Campaign set-up for admins: campaigns, instruments, institutions, evaluators, invitations, users."""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import PurePath

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from diagnostic.models import InstrumentPurpose, Role
from diagnostic.security import admin_required
from diagnostic.services import (
    ServiceError,
    assignments,
    campaigns,
    institutions,
    instruments,
    invitations,
    responses,
    states,
    users,
)
from diagnostic.services.audit import Actor

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)


def actor() -> Actor:
    """The signed-in admin as an audit actor."""
    return Actor.for_user(current_user)


def back(slug: str):
    """Redirect to a campaign's set-up page."""
    return redirect(url_for("admin.campaign", slug=slug))


def uploaded(name: str, allowed: tuple[str, ...]) -> tuple[bytes, str]:
    """The bytes and name of an uploaded file; ServiceError for a missing or wrong type."""
    file = request.files.get(name)
    if file is None or not file.filename:
        raise ServiceError(_("Elija un archivo."))
    filename = PurePath(file.filename).name
    if PurePath(filename).suffix.lower() not in allowed:
        raise ServiceError(_("Tipo de archivo no admitido: %(f)s (se aceptan %(a)s)", f=filename, a=", ".join(allowed)),
                           status=415)
    return file.read(), filename


@bp.get("/")
@admin_required
def index():
    """Campaigns and the form to create one."""
    return render_template("admin/index.html", campaigns=campaigns.all_campaigns(),
                           year=datetime.now(UTC).year)


@bp.post("/campaigns")
@admin_required
def create_campaign():
    """Create a draft campaign."""
    closes = request.form.get("closes_at") or None
    try:
        closes_at = datetime.fromisoformat(closes).replace(tzinfo=UTC) if closes else None
        year = int(request.form.get("year", "0"))
    except ValueError:
        raise ServiceError(_("Fecha o año no válidos.")) from None
    campaign = campaigns.create(request.form.get("name", ""), year, slug=request.form.get("slug") or None,
                                instructions=request.form.get("instructions", ""), closes_at=closes_at,
                                actor=actor())
    return back(campaign.slug)


@bp.get("/c/<slug>")
@admin_required
def campaign(slug: str):
    """A campaign's set-up page."""
    c = campaigns.get_by_slug(slug)
    return render_template("admin/campaign.html", campaign=c, progress=campaigns.progress(c),
                           versions=instruments.all_versions(), purposes=list(InstrumentPurpose),
                           current={p: campaigns.instrument(c, p) for p in InstrumentPurpose},
                           evaluators=users.list_by_role(Role.EVALUATOR), states=states.all_states(),
                           transitions=sorted(s.value for s in campaigns.TRANSITIONS[c.status]),
                           submitted=responses.for_campaign(c))


@bp.post("/c/<slug>/instrument")
@admin_required
def set_instrument(slug: str):
    """Pick a stored instrument version, or upload a new one, for a purpose."""
    c = campaigns.get_by_slug(slug)
    purpose = request.form.get("purpose", "")
    if purpose not in {p.value for p in InstrumentPurpose}:
        raise ServiceError(_("Propósito no válido."))
    if request.files.get("file") and request.files["file"].filename:
        data, filename = uploaded("file", instruments.ACCEPTED)
        version = instruments.store(data, filename)
    else:
        try:
            version = instruments.get(int(request.form.get("version_id", "")))
        except ValueError:
            raise ServiceError(_("Elija una versión o suba un archivo.")) from None
    campaigns.set_instrument(c, purpose, version, actor=actor())
    flash(_("Instrumento asignado: %(t)s", t=version.title), "saved")
    return back(slug)


@bp.post("/c/<slug>/import")
@admin_required
def import_institutions(slug: str):
    """Import institutions from CSV or XLSX into the campaign (all or nothing)."""
    c = campaigns.get_by_slug(slug)
    data, filename = uploaded("file", tuple(current_app.config["UPLOAD_EXTENSIONS"]))
    try:
        report = institutions.import_file(data, filename, campaign=c, actor=actor())
    except institutions.ImportRejected as exc:
        log.warning("institution import rejected (%s): %s", filename, exc.message)
        return render_template("admin/import_errors.html", campaign=c, error=exc, filename=filename), 422
    flash(_("Importadas: %(c)s nuevas, %(u)s actualizadas, %(a)s añadidas a la campaña.",
            c=report.created, u=report.updated, a=report.added_to_campaign), "saved")
    if report.state_respondents:
        flash(_("Responsables estatales designados: %(n)s.", n=report.state_respondents), "saved")
    return back(slug)


@bp.post("/c/<slug>/state-respondent")
@admin_required
def state_respondent(slug: str):
    """Designate the institution (by key) that answers its state's conditions questionnaire."""
    c = campaigns.get_by_slug(slug)
    key = request.form.get("key", "").strip()
    institution = next((i for i in institutions.in_campaign(c) if i.key == key), None)
    if institution is None:
        raise ServiceError(_("Ninguna institución de la campaña tiene la clave %(k)s.", k=key), status=404)
    institutions.set_state_respondent(c, institution, actor=actor())
    flash(_("%(i)s responderá las condiciones de %(s)s.", i=institution.name, s=institution.state.name), "saved")
    return back(slug)


@bp.post("/c/<slug>/assign")
@admin_required
def assign(slug: str):
    """Assign the institutions of a state (or listed keys) to an evaluator."""
    c = campaigns.get_by_slug(slug)
    try:
        evaluator = users.get(int(request.form.get("evaluator_id", "")))
    except ValueError:
        evaluator = None
    if evaluator is None:
        raise ServiceError(_("Elija un evaluador."))
    keys = {k.strip() for k in request.form.get("keys", "").replace(",", "\n").splitlines() if k.strip()}
    chosen = institutions.in_campaign(c, request.form.get("state") or None)
    if keys:
        chosen = [i for i in chosen if i.key in keys]
    if not chosen:
        raise ServiceError(_("Ninguna institución de la campaña coincide."))
    n = assignments.assign(c, chosen, evaluator, actor=actor())
    flash(_("%(n)s instituciones asignadas a %(e)s.", n=n, e=evaluator.email), "saved")
    return back(slug)


@bp.post("/c/<slug>/invitations")
@admin_required
def issue_invitations(slug: str):
    """Issue invitation links and download them as CSV (tokens are shown only this once)."""
    c = campaigns.get_by_slug(slug)
    reissue = request.form.get("reissue") == "1"
    links = invitations.issue(c, institutions.in_campaign(c), reissue=reissue,
                              days=current_app.config["INVITATION_DAYS"], actor=actor())
    base = current_app.config["PUBLIC_URL"] or request.host_url
    body = invitations.links_csv(links, base)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="invitaciones-{c.slug}.csv"',
        "Cache-Control": "no-store"})


@bp.post("/c/<slug>/status")
@admin_required
def set_status(slug: str):
    """Open, close or publish a campaign."""
    c = campaigns.get_by_slug(slug)
    campaigns.set_status(c, request.form.get("status", ""), actor=actor(), reason=request.form.get("reason"))
    flash(_("Estado de la campaña: %(s)s", s=c.status.value), "saved")
    return back(slug)


@bp.get("/users")
@admin_required
def user_list():
    """Staff accounts and the form to create one."""
    return render_template("admin/users.html", users=users.list_by_role(), roles=[r.value for r in Role])


@bp.post("/users")
@admin_required
def create_user():
    """Create a staff account."""
    users.create(request.form.get("email", ""), request.form.get("name", ""), request.form.get("role", ""),
                 request.form.get("password", ""))
    flash(_("Cuenta creada."), "saved")
    return redirect(url_for("admin.user_list"))

