"""Rate limits (Flask-Limiter) on what is expensive or guessable, counted in storage that every
gunicorn worker shares.

What is limited (each limit is a setting, README "Configuration"):

- sign-in failures per account (``RATELIMIT_LOGIN_ACCOUNT``) and per address
  (``RATELIMIT_LOGIN_ADDRESS``): only failed attempts count;
- invitation-link failures per address (``RATELIMIT_INVITATION_FAILURES``): a link that is
  unknown, expired or revoked counts; a valid link is never slowed down until the address
  has failed too often (then it gets 429 like the guesser it shares the address with);
- published reports (``RATELIMIT_REPORT``), their PDFs (``RATELIMIT_PDF``) and the open-data
  and analyst exports (``RATELIMIT_EXPORT``) per address.

Storage. The `limits` library stores counters in memory (one per worker: useless behind
gunicorn), Redis, Memcached, MongoDB or etcd: all servers this app does not otherwise need.
`SQLStorage` is the smallest shared storage that needs no server: one table of fixed-window
counters in an SQLite file (default ``instance/ratelimits.sqlite3``, shared by the workers of
one machine) or in PostgreSQL (``db+postgresql://…``, shared by several machines; give it
its own database or schema, the table is created on first use). Every increment is one
atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, so concurrent workers never
lose a hit. Any `limits` URI (``redis://…``) works too.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, request
from flask_limiter import Limiter
from limits.storage import Storage

SCHEME_PREFIX = "db+"
FAILED = (401, 403, 404, 410, 422)
LINK_FAILED = (404, 410)
PURGE_CHANCE = 0.001

_table = sa.Table(
    "apertura_ratelimits", sa.MetaData(),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)


def default_storage_uri(instance_path: str) -> str:
    """The embedded default: an SQLite file beside the app's other instance files."""
    return f"{SCHEME_PREFIX}sqlite:///{instance_path}/ratelimits.sqlite3"


class SQLStorage(Storage):
    """Fixed-window counters in one SQL table (SQLite file or PostgreSQL), shared by processes."""

    STORAGE_SCHEME = ["db+sqlite", "db+postgresql", "db+postgresql+psycopg"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        url = (uri or "")[len(SCHEME_PREFIX):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        self.url = url
        self._engine: sa.Engine | None = None
        self._lock = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    @property
    def engine(self) -> sa.Engine:
        """The engine, created (and the table with it) on first use, not at start-up."""
        with self._lock:
            if self._engine is None:
                if self.url.startswith("sqlite:///"):
                    from pathlib import Path

                    Path(self.url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
                    engine = sa.create_engine(self.url, connect_args={"timeout": 10})
                    sa.event.listen(engine, "connect", _sqlite_synchronous)
                    _use_wal(engine)
                else:
                    engine = sa.create_engine(self.url, pool_pre_ping=True)
                try:
                    _table.create(engine, checkfirst=True)
                except sa.exc.DBAPIError:
                    # Another worker created it between the check and the CREATE: fine if it is there now.
                    if not sa.inspect(engine).has_table(_table.name):
                        raise
                self._engine = engine
        return self._engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to `key`'s window (a new window of `expiry` seconds once the old one ended)."""
        now = time.time()
        insert = sa.dialects.sqlite.insert if self.engine.dialect.name == "sqlite" else sa.dialects.postgresql.insert
        stmt = insert(_table).values(key=key, count=amount, expires=now + expiry)
        expired = _table.c.expires <= now
        stmt = stmt.on_conflict_do_update(index_elements=[_table.c.key], set_={
            "count": sa.case((expired, amount), else_=_table.c.count + amount),
            "expires": sa.case((expired, now + expiry), else_=_table.c.expires),
        }).returning(_table.c.count)
        with self.engine.begin() as conn:
            count = int(conn.execute(stmt).scalar_one())
        if random.random() < PURGE_CHANCE:  # now and then, drop ended windows: the table stays small
            self.purge_expired()
        return count

    def _row(self, key: str):
        with self.engine.connect() as conn:
            return conn.execute(sa.select(_table.c.count, _table.c.expires).where(_table.c.key == key)).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row.count) if row is not None and row.expires > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row.expires) if row is not None and row.expires > time.time() else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(_table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_table).where(_table.c.key == key))

    def purge_expired(self) -> int:
        """Delete windows that have ended (the table stays small; called now and then)."""
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(_table).where(_table.c.expires <= time.time())).rowcount


def _sqlite_synchronous(dbapi_connection, _record) -> None:
    """Per connection: WAL's usual durability level (the journal mode itself belongs to the file)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _use_wal(engine: sa.Engine) -> None:
    """Put the counters' file in WAL mode, once per process (the mode stays with the file).
    Switching ignores SQLite's busy timeout, so when several workers start at the same moment one
    may be told "database is locked": it tries again, a bounded number of times (about 5 s)."""
    import sqlite3

    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        for attempt in range(50):
            try:
                if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    cursor.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == 49:
                    raise
                time.sleep(0.1)
        cursor.close()


def client_address() -> str:
    """The client's address (the proxy's X-Forwarded-For once TRUSTED_PROXIES says to trust it)."""
    return request.remote_addr or "127.0.0.1"


def login_account() -> str:
    """The account a sign-in attempt names (empty, so not counted, when it names none)."""
    email = (request.form.get("email") or "").strip().lower()
    return f"account:{email[:200]}" if email else ""


def failed(response) -> bool:
    """A sign-in response that counts as a failed attempt (a wrong password, an unknown account)."""
    return response.status_code in FAILED


def link_failed(response) -> bool:
    """An invitation link that is unknown (404) or expired or revoked (410). A page saved with
    answers to correct (422) is not a failure: respondents are never slowed down for typing."""
    return response.status_code in LINK_FAILED


def _limit(app: Flask, limiter: Limiter, endpoints: Callable[[str], bool], setting: str, **options) -> None:
    value = app.config.get(setting)
    if not value:
        return
    for endpoint in [e for e in app.view_functions if endpoints(e)]:
        app.view_functions[endpoint] = limiter.limit(value, scope=setting.lower(), **options)(
            app.view_functions[endpoint])


HEAVY = {
    "RATELIMIT_REPORT": ("reports.portal", "reports.state_html"),
    "RATELIMIT_PDF": ("reports.state_pdf",),
    "RATELIMIT_EXPORT": ("reports.open_data", "analyst.export_csv", "analyst.export_codebook",
                         "analyst.export_xlsx", "admin.issue_invitations"),
}


def init_app(app: Flask) -> Limiter | None:
    """One limiter per app, bound to the views once every blueprint is registered."""
    if not app.config.get("RATELIMIT_ENABLED", True):
        app.config["RATELIMIT_ENABLED"] = False
        return None
    # swallow_errors: when the counters cannot be read (a locked or lost file), requests go on
    # unlimited and the error is logged; a limit must never turn into an outage.
    limiter = Limiter(client_address, storage_uri=app.config["RATELIMIT_STORAGE_URI"], strategy="fixed-window",
                      headers_enabled=app.config.get("RATELIMIT_HEADERS_ENABLED", True), swallow_errors=True)
    limiter.init_app(app)
    for setting, endpoints in HEAVY.items():
        _limit(app, limiter, endpoints.__contains__, setting)
    login = {"auth.login"}.__contains__
    post_only = {"methods": ["POST"]}
    _limit(app, limiter, login, "RATELIMIT_LOGIN_ACCOUNT", key_func=login_account, deduct_when=failed, **post_only)
    _limit(app, limiter, login, "RATELIMIT_LOGIN_ADDRESS", deduct_when=failed, **post_only)
    _limit(app, limiter, lambda e: e.startswith("respond."), "RATELIMIT_INVITATION_FAILURES",
           deduct_when=link_failed)
    return limiter
