"""Per-state diagnostic reports (HTML and PDF, with their charts) and the public results portal
with open data. The report's data is assembled by `diagnostic.services.report`."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/resultados")

from diagnostic.reports import routes  # noqa: E402,F401
