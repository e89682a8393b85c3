"""Configuration keys, their defaults, and how they are resolved (documented in README)."""
from __future__ import annotations

from flask import Flask

DEFAULTS: dict = {
    # Signing key for sessions and CSRF tokens. Set APERTURA_SECRET_KEY in production.
    "SECRET_KEY": "dev-not-secret",
    # SQLAlchemy URL. Empty means an SQLite file in the instance folder.
    "DATABASE_URL": "",
    # Interface languages, first is the default.
    "LANGUAGES": ["es", "en"],
    "BABEL_DEFAULT_LOCALE": "es",
    "BABEL_DEFAULT_TIMEZONE": "America/Mexico_City",
    # Largest accepted upload (bytes).
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
}


def finalize_config(app: Flask) -> None:
    """Derive settings that depend on others (database URL → SQLAlchemy)."""
    url = app.config.get("DATABASE_URL") or ""
    if not url:
        url = "sqlite:///" + app.instance_path + "/apertura.sqlite3"
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", url)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config.get("SQLALCHEMY_DATABASE_URI") or url
