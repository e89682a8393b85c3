"""Public views: home and health check."""
from flask import render_template
from flask_login import current_user

from diagnostic.main import bp
from diagnostic.services import report


@bp.get("/healthz")
def healthz():
    """Liveness probe for load balancers."""
    return {"status": "ok"}


@bp.get("/")
def index():
    """Home page: the campaigns whose results the visitor may read."""
    return render_template("main/index.html", campaigns=report.visible_campaigns(current_user))
