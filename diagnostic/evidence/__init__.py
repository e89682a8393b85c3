"""Evidence files for staff (`/evidencia/<id>`): downloads within the reader's scope (issue 12 §4)."""
from flask import Blueprint

bp = Blueprint("evidence", __name__)

from diagnostic.evidence import routes  # noqa: E402,F401
