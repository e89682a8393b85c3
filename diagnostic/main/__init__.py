"""Public pages: home and health check; staff downloads of evidence files (`evidence.py`)."""
from flask import Blueprint

bp = Blueprint("main", __name__)

from diagnostic.main import evidence, routes  # noqa: E402,F401
