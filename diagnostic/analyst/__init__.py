"""Analyst area: campaign progress, response review and verification, scores and exports.

Also home of the top-level `apertura score` command (the blueprint's CLI group is None).
"""
from flask import Blueprint

bp = Blueprint("analyst", __name__, url_prefix="/analyst", cli_group=None)

from diagnostic.analyst import cli, routes  # noqa: E402, F401  (registers views and commands)
