"""Consistent back-ups and restores of the whole database (`apertura backup` / `apertura restore`).

Everything the app keeps is in the database: campaigns, institutions, answers, the audit log,
and the instruments and index models themselves (their source files are stored, hashed, in
`instrument_versions` and `index_model_versions`). The bytes of evidence files are not: they
live under EVIDENCE_DIR by content hash (the database keeps their hash, name and item), and are
copied beside the back-up (README).

- SQLite: SQLite's online backup API copies a consistent snapshot while the app keeps
  running, including what is still in the write-ahead log (a plain `cp` of the file misses it).
  The back-up is itself an SQLite database file.
- PostgreSQL: `pg_dump --format=custom` (one consistent transaction snapshot), restored with
  `pg_restore --clean --if-exists --single-transaction` (Debian's postgresql-client).

Keep `instance/secret_key` (or your APERTURA_SECRET_KEY) with the back-ups: without it, the
sign-in cookies issued before are simply invalid, nothing else is lost.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa

from diagnostic.services import Refusal, ServiceError


def _sqlite_path(url: str) -> Path:
    return Path(sa.engine.make_url(url).database or "")


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump / pg_restore from an SQLAlchemy URL (password via env)."""
    u = sa.engine.make_url(url)
    args = []
    host = u.query.get("host") or u.host
    if host:
        args += ["--host", str(host)]
    port = u.query.get("port") or u.port
    if port:
        args += ["--port", str(port)]
    if u.username:
        args += ["--username", u.username]
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args + ["--dbname", u.database or "postgres"], env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise ServiceError(Refusal.BACKUP_FAILED, reason=f"{name} not found (apt-get install postgresql-client)")
    return found


def backup(url: str, out: Path) -> Path:
    """Write a consistent snapshot of the database at `url` to `out` (refuses to overwrite)."""
    out = Path(out)
    if out.exists():
        raise ServiceError(Refusal.BACKUP_FAILED, reason=f"{out} already exists")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.unlink(missing_ok=True)
    if url.startswith("sqlite"):
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        args, env = _libpq(url)
        done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(tmp), *args],
                              env=env, capture_output=True, text=True)
        if done.returncode:
            tmp.unlink(missing_ok=True)
            raise ServiceError(Refusal.BACKUP_FAILED, reason=done.stderr.strip()[-500:])
    tmp.rename(out)
    return out


def restore(url: str, source: Path) -> None:
    """Replace the database at `url` by the back-up `source` (all of it, or nothing on failure)."""
    source = Path(source)
    if not source.is_file():
        raise ServiceError(Refusal.RESTORE_REFUSED, reason=f"{source} is not a file")
    if url.startswith("sqlite"):
        with source.open("rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise ServiceError(Refusal.RESTORE_REFUSED, reason=f"{source} is not an SQLite back-up")
        snapshot = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            snapshot.backup(target)  # one step: readers see the old or the new database, never half
        finally:
            target.close()
            snapshot.close()
        return
    with source.open("rb") as f:
        if f.read(5) != b"PGDMP":
            raise ServiceError(Refusal.RESTORE_REFUSED, reason=f"{source} is not a pg_dump back-up")
    args, env = _libpq(url)
    done = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                           "--exit-on-error", *args, str(source)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise ServiceError(Refusal.RESTORE_REFUSED, reason=done.stderr.strip()[-500:])


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every table's rows, ordered by every column (what a round trip must keep identical)."""
    engine = sa.create_engine(url)
    try:
        names = sorted(sa.inspect(engine).get_table_names())
        out = {}
        with engine.connect() as conn:
            for name in names:
                width = len(conn.execute(sa.text(f'SELECT * FROM "{name}" LIMIT 0')).keys())
                order = ", ".join(str(i) for i in range(1, width + 1))
                out[name] = [tuple(row) for row in conn.execute(sa.text(f'SELECT * FROM "{name}" ORDER BY {order}'))]
        return out
    finally:
        engine.dispose()
