"""Apertura's web app: campaigns, respondents, evaluators, analysts and reports."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from diagnostic.config import DEFAULTS, finalize_config

# The top-level `templates/` folder ships inside the package set (see pyproject), so it is
# found the same way in an editable install and in a built wheel.
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def create_app(test_config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: defaults, then instance/apertura.cfg, then APERTURA_* env, then test config
    (`instance_path`: where instance files live, default `instance/` beside the package)."""
    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("APERTURA_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(TEMPLATES_DIR / "static"),
    )
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("apertura.cfg", silent=True)
        app.config.from_prefixed_env("APERTURA")
    else:
        app.config.from_mapping(test_config)
    finalize_config(app)

    from diagnostic import extensions, models, security  # noqa: F401  (models and the user loader)

    security.install_log_masking()
    if int(app.config.get("TRUSTED_PROXIES") or 0):  # behind nginx: the client's address and scheme
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = security.DatabaseInt
    extensions.init_app(app)

    from diagnostic import errors, labels, ratelimit
    from diagnostic.admin import bp as admin_bp
    from diagnostic.analyst import bp as analyst_bp
    from diagnostic.api import bp as api_bp
    from diagnostic.auth import bp as auth_bp
    from diagnostic.evaluate import bp as evaluate_bp
    from diagnostic.evidence import bp as evidence_bp
    from diagnostic.mailing import bp as mailing_bp
    from diagnostic.main import bp as main_bp
    from diagnostic.reports import bp as reports_bp
    from diagnostic.respond import bp as respond_bp

    for blueprint in (main_bp, auth_bp, respond_bp, evaluate_bp, admin_bp, analyst_bp, api_bp, reports_bp,
                      mailing_bp, evidence_bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    labels.init_app(app)
    app.before_request(security.refuse_bad_characters)
    app.after_request(security.secure_headers)
    ratelimit.init_app(app)
    if app.config.get("AUTO_MIGRATE"):
        from diagnostic import database

        database.upgrade(app.config["SQLALCHEMY_DATABASE_URI"])

    from diagnostic import cli

    cli.init_app(app)
    return app

