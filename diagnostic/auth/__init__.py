"""Staff sign-in and sign-out (admins, analysts, evaluators), and the carry-over of a form
posted after the sign-in expired (`carry`)."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from diagnostic.auth import routes  # noqa: E402,F401
