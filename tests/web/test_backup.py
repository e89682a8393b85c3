"""`apertura backup` / `apertura restore`: a round trip keeps every row of every table."""
from __future__ import annotations

import os
import sqlite3

import pytest

from diagnostic import create_app
from diagnostic.services import backup


def _restore_target(database_url, request, tmp_path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    name = f"apertura_restore_{os.getpid()}_{tmp_path.name[-12:]}".replace("-", "_").lower()
    url = server.create_database(name)
    request.addfinalizer(lambda: server.drop_database(name))
    return url


def test_round_trip_keeps_every_table(app, scored, runner, database_url, request, tmp_path):
    out = tmp_path / "apertura.backup"
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code == 0, result.output
    before = backup.table_rows(database_url)
    assert before["answers"] and before["instrument_versions"] and before["audit_log"]

    target = _restore_target(database_url, request, tmp_path)
    other = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": target, "RATELIMIT_ENABLED": False},
                       instance_path=str(tmp_path / "other"))
    result = other.test_cli_runner().invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    assert backup.table_rows(target) == before


def test_backup_refuses_to_overwrite_and_restore_refuses_a_foreign_file(app, runner, tmp_path):
    out = tmp_path / "b.backup"
    out.write_text("already here")
    result = runner.invoke(args=["backup", str(out)])
    assert result.exit_code == 1 and "already exists" in result.output
    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 1 and "Nothing was restored" not in result.output and "No se restauró" in result.output


def test_sqlite_backup_includes_what_is_still_in_the_write_ahead_log(tmp_path):
    """A plain copy of the file misses committed rows still in the WAL; the backup API does not."""
    db = tmp_path / "live.sqlite3"
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(500)])
    writer.commit()  # committed, still open: the rows live in live.sqlite3-wal
    plain = tmp_path / "plain.sqlite3"
    plain.write_bytes(db.read_bytes())
    with pytest.raises(sqlite3.DatabaseError):  # the plain copy has not even the table
        sqlite3.connect(plain).execute("SELECT count(*) FROM t").fetchone()
    out = backup.backup(f"sqlite:///{db}", tmp_path / "good.sqlite3")
    assert sqlite3.connect(out).execute("SELECT count(*) FROM t").fetchone() == (500,)
    writer.close()
