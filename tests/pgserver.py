"""A throwaway PostgreSQL server for the test suite, from Debian's packages.

It listens on a unix socket only (no TCP at all), in a fresh data directory that is
removed when the session ends. PostgreSQL refuses to run as root, so when the tests run
as root (CI, containers) the server runs as the `postgres` system user.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass


def find_bindir() -> str | None:
    """Directory of the newest installed PostgreSQL server binaries, or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return os.path.dirname(candidates[-1])
    found = shutil.which("pg_ctl")
    return os.path.dirname(found) if found else None


@dataclass
class PostgresServer:
    """A running server: its socket directory and superuser name."""

    bindir: str
    root: str
    user: str = "apertura"
    port: int = 5432

    @property
    def datadir(self) -> str:
        return os.path.join(self.root, "data")

    @property
    def sockdir(self) -> str:
        return os.path.join(self.root, "sock")

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL for a database on this server (psycopg 3, unix socket)."""
        return f"postgresql+psycopg://{self.user}@/{dbname}?host={self.sockdir}&port={self.port}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string for psycopg."""
        return f"host={self.sockdir} port={self.port} user={self.user} dbname={dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        """initdb and start; raises RuntimeError with the server's own words on failure."""
        os.makedirs(self.sockdir)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sockdir, "postgres", "postgres")
        res = self._run(
            os.path.join(self.bindir, "initdb"),
            "-D", self.datadir, "-U", self.user, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )
        if res.returncode:
            raise RuntimeError(f"initdb failed: {res.stderr or res.stdout}")
        opts = (
            f"-c listen_addresses='' -c unix_socket_directories={self.sockdir} -p {self.port} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        res = self._run(
            os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-o", opts,
            "-l", os.path.join(self.root, "server.log"), "-w", "-t", "60", "start",
        )
        if res.returncode:
            log = ""
            try:
                with open(os.path.join(self.root, "server.log"), encoding="utf-8") as fh:
                    log = fh.read()[-2000:]
            except OSError:
                pass
            raise RuntimeError(f"pg_ctl start failed: {res.stderr or res.stdout}\n{log}")

    def stop(self) -> None:
        """Stop the server and remove its files."""
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever connections tests left open."""
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server() -> PostgresServer:
    """Start a fresh server in a new world-traversable temp directory."""
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL server binaries not found (Debian package 'postgresql')")
    root = tempfile.mkdtemp(prefix="apertura-pg-")
    os.chmod(root, 0o755)
    server = PostgresServer(bindir=bindir, root=root)
    deadline = time.monotonic() + 90
    server.start()
    if time.monotonic() > deadline:
        raise RuntimeError("PostgreSQL took more than 90 s to start")
    return server
