"""Fixtures shared by the whole suite: the databases every web test runs against, and the
Hypothesis profile (no deadline, no too-slow health checks: the machine may be slow or busy)."""
from __future__ import annotations

import itertools
import os
import tempfile

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

from tests import pgserver

# Hypothesis keeps its files (examples, caches) outside the checkout: tests never write into it.
HYPOTHESIS_HOME = os.path.join(tempfile.gettempdir(), "apertura-hypothesis")
set_hypothesis_home_dir(HYPOTHESIS_HOME)
settings.register_profile(
    "apertura",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=DirectoryBasedExampleDatabase(os.path.join(HYPOTHESIS_HOME, "examples")),
)
# CI: the same examples on every run, and the blob to reproduce a failure locally.
settings.register_profile("ci", parent=settings.get_profile("apertura"), derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "apertura"))

# Every app the suite starts, in this process or in a subprocess (CLI, gunicorn), keeps its
# instance files (generated secret key, rate-limit counters, outbox, report cache) in a temporary
# folder: tests never write into the checkout's instance/.
os.environ.setdefault("APERTURA_INSTANCE_PATH", tempfile.mkdtemp(prefix="apertura-instance-"))

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the session, on a unix socket (no TCP)."""
    try:
        server = pgserver.start_server()
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"{exc}; `make test` installs it")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """An empty database: an SQLite file, or a fresh database on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'apertura.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"apertura_test_{os.getpid()}_{next(_counter)}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)
