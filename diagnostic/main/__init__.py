"""Public pages: home and health check."""
from flask import Blueprint

bp = Blueprint("main", __name__)

from diagnostic.main import routes  # noqa: E402,F401
