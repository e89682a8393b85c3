"""Public pages: home and health check."""
from flask import Blueprint, render_template

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness probe for load balancers."""
    return {"status": "ok"}


@bp.get("/")
def index():
    """Home page."""
    return render_template("main/index.html")
