"""Campaign set-up for admins: campaigns, instruments, institutions, evaluators, invitations, users."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from diagnostic.admin import routes  # noqa: E402,F401
from diagnostic.admin import submissions  # noqa: E402,F401
