"""Invitations and reminders by e-mail: the campaign's mail page, its wording, and the outbox."""
from flask import Blueprint

bp = Blueprint("mailing", __name__, url_prefix="/correo")

from diagnostic.mailing import routes  # noqa: E402,F401
