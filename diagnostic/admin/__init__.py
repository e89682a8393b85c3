"""Campaign set-up for admins: campaigns, instruments, institutions, evaluators, invitations, users.

`submissions`: XLSForm download of an instrument, offline submissions import."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from diagnostic.admin import reply, routes, second, submissions  # noqa: E402,F401
