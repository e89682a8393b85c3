"""JSON API v1 (`/api/v1`): campaigns, institutions, responses and scores for analysts and
admins, with per-user bearer tokens; described by the OpenAPI document at `/api/v1/openapi.json`.

`apertura api token EMAIL` (in `cli.py`) issues a token from the command line.
"""
from flask import Blueprint

from diagnostic.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies: nothing for a cross-site form to ride on

from diagnostic.api import routes  # noqa: E402,F401
