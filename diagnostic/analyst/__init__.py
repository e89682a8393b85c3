"""Analyst area: campaign progress, response review and verification, scores and exports
(its `apertura score` command is in `cli.py`)."""
from flask import Blueprint

bp = Blueprint("analyst", __name__, url_prefix="/analyst")

from diagnostic.analyst import contests, routes, second  # noqa: E402,F401

# isort: split
from diagnostic.analyst import scopes  # noqa: E402,F401  (what a state account is told about its scope)
