"""The evidence block of the analyst's review page: each evidence link's latest check (works,
dead with its code, not checked yet), the files attached to the response with download links,
and a button that checks the response's links now, within the time budget (issue 12 §4)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from diagnostic.analyst import bp
from diagnostic.analyst.forms import ReviewForm
from diagnostic.forms import submitted
from diagnostic.models import ResponseStatus
from diagnostic.security import analyst_required, current_scope
from diagnostic.services import attachments, campaigns, review
from diagnostic.services import evidence as evidence_links

ERRORS = {  # linkcheck's codes as the reader reads them
    "timeout": ("tiempo agotado", "timed out"),
    "too_many_redirects": ("demasiadas redirecciones", "too many redirects"),
    "too_large": ("respuesta demasiado grande", "answer too large"),
    "unreachable": ("no se pudo conectar", "could not connect"),
    "refused": ("dirección privada rechazada", "private address refused"),
    "invalid": ("dirección no válida", "invalid address"),
}


@bp.app_template_global("evidence_error")
def evidence_error(code: str | None) -> str:
    """A link check's error code as words in the interface language."""
    from flask_babel import get_locale

    return error_label(code, str(get_locale() or "es")[:2])


@dataclass
class EvidenceReview:
    """What the review page shows about a response's evidence."""

    links: list
    files: list  # (answer path, [FileView])
    stages: dict = field(default_factory=dict)


def error_label(code: str | None, lang: str) -> str:
    """A link check's error code as words."""
    pair = ERRORS.get(code or "")
    return (pair[1] if lang == "en" else pair[0]) if pair else (code or "")


def evidence_review(response) -> EvidenceReview:
    """The links with their latest check and the files by item, for the review page."""
    files = []
    for (item_field, index), rows in attachments.files_by_item(response).items():
        views = attachments.file_views(rows, lambda file_id: url_for("evidence.file", file_id=file_id))
        files.append((attachments.path_of(item_field, index), views))
    return EvidenceReview(evidence_links.link_statuses(response), files)


@bp.post("/<slug>/responses/<int:response_id>/evidence-check")
@analyst_required
def check_evidence(slug: str, response_id: int):
    """Check this response's evidence links now (bounded in time; what is left stays pending)."""
    campaign = campaigns.get_by_slug(slug)
    target = review.get_response(campaign, response_id)
    current_scope().require(target.institution.state_code)
    submitted(ReviewForm())
    stage = "verified" if target.status == ResponseStatus.VERIFIED else "submitted"
    from flask import current_app

    budget = float(current_app.config.get("EVIDENCE_CHECK_BUDGET") or 0)  # 0: all left pending
    summary = evidence_links.check_response(target, stage, budget=budget, only_pending=False)
    flash(ngettext("Se comprobó %(num)d enlace: %(ok)d funciona.", "Se comprobaron %(num)d enlaces: %(ok)d funcionan.",
                   summary["checked"], ok=summary["reachable"]), "saved")
    if summary["left"]:
        flash(_("%(left)d enlaces quedaron sin comprobar por el límite de tiempo; vuelva a intentarlo.",
                left=summary["left"]), "info")
    return redirect(url_for("analyst.response", slug=slug, response_id=response_id) + "#evidence")
