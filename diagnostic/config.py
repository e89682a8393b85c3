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
- ``EVIDENCE_CHECK_BUDGET``: seconds in all spent checking one response's evidence links right
  after its submission or verification is answered (the person never waits; 0: none, all left
  pending for ``apertura evidence check --pending``).
- ``MAIL_SERVER``: SMTP host for invitations and reminders. Empty (the default) writes each
  message as an .eml file to ``instance/outbox/`` instead, listed at /correo/salida.
- ``MAIL_PORT`` / ``MAIL_SECURITY``: SMTP port and ``starttls`` (default), ``tls`` (implicit
  TLS, usually port 465) or ``none``.
- ``MAIL_USERNAME`` / ``MAIL_PASSWORD``: SMTP login (none when the username is empty).
- ``MAIL_SENDER``: the From address (``Apertura <no-reply@localhost>``).
- ``MAIL_TIMEOUT``: seconds to wait for the SMTP server.
- ``MAIL_LANGUAGE``: language of messages for contacts without one: ``es``, ``en`` or ``es+en``.
- ``SESSION_LIFETIME_MINUTES``: a staff session ends after this many minutes without a request.
- ``REMEMBER_DAYS``: how long "remember me" keeps a staff account signed in.
- ``HTTPS``: served over HTTPS (default: PUBLIC_URL starts with https): Secure cookies and HSTS.
- ``HSTS_SECONDS``: Strict-Transport-Security max-age sent over HTTPS (0: none).
- ``TRUSTED_PROXIES``: how many reverse proxies (nginx) stand in front and set X-Forwarded-*.
- ``RATELIMIT_*``: rate limits (see `diagnostic/ratelimit.py`); ``RATELIMIT_STORAGE_URI``
  empty means the SQLite file ``instance/ratelimits.sqlite3``, shared by every worker.
"""
from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

log = logging.getLogger("diagnostic.config")

SHIPPED_SECRET_KEY = "dev-not-secret"  # refused outside debug and tests
SECRET_KEY_FILE = "secret_key"  # under instance/: the random key of an embedded (SQLite) install


class ConfigError(RuntimeError):
    """A configuration the app refuses to start with."""


DEFAULTS: dict = {
    "SECRET_KEY": SHIPPED_SECRET_KEY,
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
    "EVIDENCE_CHECK_BUDGET": 20.0,
    "MAIL_SERVER": "",
    "MAIL_PORT": 587,
    "MAIL_SECURITY": "starttls",
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_SENDER": "Apertura <no-reply@localhost>",
    "MAIL_TIMEOUT": 30,
    "MAIL_LANGUAGE": "es",
    "SESSION_LIFETIME_MINUTES": 480,
    "REMEMBER_DAYS": 14,
    "HTTPS": None,
    "HSTS_SECONDS": 31536000,
    "TRUSTED_PROXIES": 0,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_LOGIN_ACCOUNT": "5 per minute; 30 per hour",
    "RATELIMIT_LOGIN_ADDRESS": "20 per minute; 200 per hour",
    "RATELIMIT_INVITATION_FAILURES": "10 per minute; 50 per hour",
    "RATELIMIT_REPORT": "60 per minute",
    "RATELIMIT_PDF": "6 per minute",
    "RATELIMIT_EXPORT": "30 per minute",
}


def secret_key(app: Flask) -> str:
    """The key that signs sessions: the configured one; never the shipped default outside debug.

    An embedded install (SQLite, `make run`) that set none gets a random key generated once
    into ``instance/secret_key`` (readable by its owner only) and shared by every worker. A
    server install (PostgreSQL) must set ``SECRET_KEY``: it refuses to start otherwise.
    """
    key = app.config.get("SECRET_KEY") or ""
    if key and key != SHIPPED_SECRET_KEY:
        return key
    if app.debug or app.testing:
        log.warning("SECRET_KEY is the shipped default: acceptable in debug and tests only")
        return SHIPPED_SECRET_KEY
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        raise ConfigError("SECRET_KEY is the shipped default (or empty): set APERTURA_SECRET_KEY to a long "
                          "random value, e.g. python3 -c 'import secrets; print(secrets.token_hex(32))'")
    return _instance_key(Path(app.instance_path) / SECRET_KEY_FILE)


def _instance_key(path: Path) -> str:
    """The key in `path`, created (mode 0600, atomically: workers may race) when missing."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32))
    log.warning("generated a random SECRET_KEY into %s", path)
    return path.read_text(encoding="ascii").strip()


def _https(app: Flask) -> bool:
    value = app.config.get("HTTPS")
    if value is None:
        return str(app.config.get("PUBLIC_URL") or "").startswith("https://")
    return bool(value)


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
    app.config["SECRET_KEY"] = secret_key(app)
    # Sessions: an idle staff session ends after SESSION_LIFETIME_MINUTES (the signed cookie's
    # age is checked on every request); cookies are Secure over HTTPS and never sent cross-site.
    https = _https(app)
    app.config["HTTPS"] = https
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=int(app.config["SESSION_LIFETIME_MINUTES"]))
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=int(app.config["REMEMBER_DAYS"]))
    for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        app.config[f"{prefix}_SECURE"] = https or bool(app.config.get(f"{prefix}_SECURE"))
        app.config[f"{prefix}_SAMESITE"] = app.config.get(f"{prefix}_SAMESITE") or "Lax"
        app.config[f"{prefix}_HTTPONLY"] = True
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        from diagnostic.ratelimit import default_storage_uri

        app.config["RATELIMIT_STORAGE_URI"] = default_storage_uri(app.instance_path)
