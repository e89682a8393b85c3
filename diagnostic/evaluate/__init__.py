"""Evaluators (usuario simulado): the citizen-perspective evaluation of assigned institutions."""
from flask import Blueprint

from diagnostic.extensions import csrf

bp = Blueprint("evaluate", __name__, url_prefix="/evaluate")
csrf.exempt(bp)  # checked inside each POST view so an expired session loses nothing

from diagnostic.evaluate import routes  # noqa: E402,F401
