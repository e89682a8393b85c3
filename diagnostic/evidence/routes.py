"""Evidence files for staff: `/evidencia/<id>`, always as a download (issue 12 §4).

Analysts and admins read the files of institutions within their state scope; evaluators the
files of their own evaluations; anyone else gets the same 404 as for a file that does not exist.
A published campaign publishes its evidence links (open data), not its files: uploads were
never checked for personal data, and an evaluator's acknowledgements name the simulated user.
Respondents download their own files through their link (`/r/<token>/evidencia/<id>`).
"""
from __future__ import annotations

from flask_login import current_user

from diagnostic.evidence import bp
from diagnostic.models import Role
from diagnostic.security import current_scope, roles_required
from diagnostic.services import Refusal, ServiceError, attachments


@bp.get("/evidencia/<int:file_id>")
@roles_required(Role.ADMIN, Role.ANALYST, Role.EVALUATOR)
def file(file_id: int):
    """One evidence file, as an attachment with its content-checked type."""
    row = attachments.get(file_id)
    if not attachments.staff_may_read(row, current_user, current_scope()):
        raise ServiceError(Refusal.EVIDENCE_FILE_NOT_FOUND)
    return attachments.send(row)
