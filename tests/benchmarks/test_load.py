"""`make load`, CI-sized: a few respondents against gunicorn on PostgreSQL, plain and under each
fault (a worker killed, the database restarted, a request cut half-way): nothing lost, nothing
duplicated, every respondent reaches the review."""
from __future__ import annotations

import os
import shutil

import pytest

from benchmarks import load


@pytest.mark.slow
def test_nothing_lost_under_faults():
    if not shutil.which("pg_ctl") and not os.path.isdir("/usr/lib/postgresql"):
        pytest.skip("PostgreSQL not installed; `make test` installs it")
    results = load.run(4, 180, load.SCENARIOS)
    for result in results:
        assert result["sent"] > 0, result
        assert (result["lost"], result["duplicated"]) == (0, 0), load.line(result)
        assert result["finished"] == result["respondents"], load.line(result)
