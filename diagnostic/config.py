"""Configuration keys, their defaults, and how they are resolved (documented in README).

Every key can be set in `instance/apertura.cfg` or as an environment variable with the
`APERTURA_` prefix (`APERTURA_DATABASE_URL=...`); tests pass a mapping to `create_app`.

- ``SECRET_KEY``: signs sessions and CSRF tokens. Set it in production.
- ``DATABASE_URL``: SQLAlchemy URL. Empty means ``instance/apertura.sqlite3``. SQLite runs
  with WAL and foreign keys on; PostgreSQL is ``postgresql+psycopg://user@host/db``.
- ``LANGUAGES``: interface languages, the first is the default (``es``).
- ``BABEL_DEFAULT_LOCALE`` / ``BABEL_DEFAULT_TIMEZONE``: Flask-Babel defaults.
- ``MAX_CONTENT_LENGTH``: largest accepted request body in bytes (uploads); larger → 413.
- ``UPLOAD_EXTENSIONS``: file types accepted by the institution import.
- ``PUBLIC_URL``: base of the invitation links in exported CSVs (default: the request's host,
  or ``http://127.0.0.1:5000`` from the CLI).
- ``INVITATION_DAYS``: days an invitation link stays valid when the campaign has no close date.
- ``REPORT_CACHE_DIR``: folder where built reports (HTML, PDF) are kept per data fingerprint,
  shared by every worker of the host. Empty means ``instance/report-cache``.
- ``SQLITE_BUSY_TIMEOUT_MS``: how long an SQLite writer waits for the lock.
- ``AUTO_MIGRATE``: run the Alembic migrations on start-up (off by default; `apertura db upgrade`).
- ``PASSWORD_HASH_METHOD``: werkzeug password hashing method (``scrypt``; tests use a cheap one).
- ``WTF_CSRF_TIME_LIMIT``: CSRF token lifetime in seconds (None = the session's).
"""
from __future__ import annotations

from flask import Flask

DEFAULTS: dict = {
    "SECRET_KEY": "dev-not-secret",
    "DATABASE_URL": "",
    "LANGUAGES": ["es", "en"],
    "BABEL_DEFAULT_LOCALE": "es",
    "BABEL_DEFAULT_TIMEZONE": "America/Mexico_City",
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
    "UPLOAD_EXTENSIONS": [".csv", ".xlsx"],
    "PUBLIC_URL": "",
    "INVITATION_DAYS": 120,
    "REPORT_CACHE_DIR": "",
    "SQLITE_BUSY_TIMEOUT_MS": 10000,
    "AUTO_MIGRATE": False,
    "WTF_CSRF_TIME_LIMIT": None,
    "PASSWORD_HASH_METHOD": "scrypt",
    "SQLALCHEMY_ENGINE_OPTIONS": {},
}


def finalize_config(app: Flask) -> None:
    """Derive settings that depend on others (database URL → SQLAlchemy)."""
    url = app.config.get("DATABASE_URL") or ""
    if not url:
        url = "sqlite:///" + app.instance_path + "/apertura.sqlite3"
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["DATABASE_URL"] = url
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if not url.startswith("sqlite"):  # a server may drop idle connections; a file cannot
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
