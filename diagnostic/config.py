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
- ``EVIDENCE_DIR``: where evidence files are kept by content hash (empty: ``instance/evidence``).
- ``EVIDENCE_MAX_MB``: largest evidence file accepted, in megabytes.
- ``LINKCHECK_TIMEOUT`` / ``LINKCHECK_MAX_MB`` / ``LINKCHECK_MAX_REDIRECTS``: bounds of one
  evidence-link check; ``LINKCHECK_ALLOW_PRIVATE`` lets it reach private and loopback
  addresses (tests only; never in production).
- ``MAIL_SERVER``: SMTP host for invitations and reminders. Empty (the default) writes each
  message as an .eml file to ``instance/outbox/`` instead, listed at /correo/salida.
- ``MAIL_PORT`` / ``MAIL_SECURITY``: SMTP port and ``starttls`` (default), ``tls`` (implicit
  TLS, usually port 465) or ``none``.
- ``MAIL_USERNAME`` / ``MAIL_PASSWORD``: SMTP login (none when the username is empty).
- ``MAIL_SENDER``: the From address (``Apertura <no-reply@localhost>``).
- ``MAIL_TIMEOUT``: seconds to wait for the SMTP server.
- ``MAIL_LANGUAGE``: language of messages for contacts without one: ``es``, ``en`` or ``es+en``.
"""
from __future__ import annotations

import os

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
    "EVIDENCE_DIR": "",
    "EVIDENCE_MAX_MB": 8,
    "LINKCHECK_TIMEOUT": 10.0,
    "LINKCHECK_MAX_MB": 5,
    "LINKCHECK_MAX_REDIRECTS": 5,
    "LINKCHECK_ALLOW_PRIVATE": False,
    "MAIL_SERVER": "",
    "MAIL_PORT": 587,
    "MAIL_SECURITY": "starttls",
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_SENDER": "Apertura <no-reply@localhost>",
    "MAIL_TIMEOUT": 30,
    "MAIL_LANGUAGE": "es",
}


def finalize_config(app: Flask) -> None:
    """Derive settings that depend on others (database URL → SQLAlchemy)."""
    url = app.config.get("DATABASE_URL") or ""
    if not url:  # the default SQLite file: only then is the instance folder needed (and created)
        os.makedirs(app.instance_path, exist_ok=True)
        url = "sqlite:///" + app.instance_path + "/apertura.sqlite3"
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["DATABASE_URL"] = url
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if not url.startswith("sqlite"):  # a server may drop idle connections; a file cannot
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
