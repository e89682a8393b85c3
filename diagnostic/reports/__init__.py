"""Per-state diagnostic reports (HTML and PDF) and the public results portal with open data."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/resultados")

from diagnostic.reports import routes  # noqa: E402, F401  (registers the views)
