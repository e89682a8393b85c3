"""Respondent flow: an institution answers its questionnaire through an invitation link."""
from flask import Blueprint

bp = Blueprint("respond", __name__, url_prefix="/r")

from diagnostic.respond import routes  # noqa: E402,F401
