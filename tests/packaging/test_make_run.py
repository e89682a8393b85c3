"""The newcomer's two commands: `make run` builds the demo whenever its database has no
campaign, and the suite (and `apertura survey/model check`) never write into the checkout."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SMALL_DEMO = "--seed 7 --institutions 40"


def campaigns_in(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT slug FROM campaigns")]


def make_demo_db(instance: Path) -> subprocess.CompletedProcess:
    """The Makefile's demo decision (`make demo-db`) against a temporary INSTANCE."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APERTURA_")}
    done = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "demo-db", f"INSTANCE={instance}",
                           f"BIN={BIN}", f"DEMO_ARGS={SMALL_DEMO}"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_make_run_builds_the_demo_in_an_empty_migrated_database(tmp_path):
    from diagnostic import database

    instance = tmp_path / "instance"
    instance.mkdir()
    db = instance / "apertura.sqlite3"
    database.upgrade(f"sqlite:///{db}")  # what a test run or `apertura db upgrade` leaves behind
    assert db.exists() and campaigns_in(db) == []
    make_demo_db(instance)
    assert campaigns_in(db) == ["demo-2025"]
    assert (instance / "invitaciones-demo-2025.csv").exists()  # links go to INSTANCE, not the checkout


def test_make_run_keeps_a_database_that_has_campaigns(tmp_path):
    from diagnostic import create_app, database
    from diagnostic.services import campaigns

    instance = tmp_path / "instance"
    instance.mkdir()
    db = instance / "apertura.sqlite3"
    database.upgrade(f"sqlite:///{db}")
    app = create_app({"DATABASE_URL": f"sqlite:///{db}"})
    with app.app_context():
        campaigns.create("Mía", 2026, slug="mia")
        from diagnostic.extensions import db as sqla

        sqla.engine.dispose()
    done = make_demo_db(instance)
    assert campaigns_in(db) == ["mia"] and "demo not built" in done.stdout


def test_make_run_builds_the_demo_when_the_file_is_missing(tmp_path):
    instance = tmp_path / "fresh"
    make_demo_db(instance)
    assert campaigns_in(instance / "apertura.sqlite3") == ["demo-2025"]


def test_creating_the_app_on_a_given_database_writes_nothing_into_the_checkout(tmp_path):
    from diagnostic import create_app

    checkout_instance = ROOT / "instance"
    before = sorted(p.name for p in checkout_instance.iterdir()) if checkout_instance.exists() else None
    create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    after = sorted(p.name for p in checkout_instance.iterdir()) if checkout_instance.exists() else None
    assert after == before


@pytest.mark.parametrize("args", [
    ["survey", "check", str(ROOT / "surveys" / "definitions" / "gobierno.yaml")],
    ["model", "check", str(ROOT / "surveys" / "definitions" / "apertura.model.yaml")],
])
def test_survey_and_model_check_never_build_the_app_nor_open_a_database(args, tmp_path, monkeypatch):
    import sqlalchemy as sa

    import diagnostic
    from diagnostic.cli import main

    def no_app(*_args, **_kwargs):
        raise AssertionError("a file check must not build the web app (it would open its database)")

    connections = []

    def on_connect(*_args):
        connections.append(1)

    monkeypatch.setattr(diagnostic, "create_app", no_app)
    monkeypatch.setenv("APERTURA_DATABASE_URL", f"sqlite:///{tmp_path / 'never.sqlite3'}")
    sa.event.listen(sa.engine.Engine, "connect", on_connect)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        sa.event.remove(sa.engine.Engine, "connect", on_connect)
    assert result.exit_code == 0, result.output
    assert "correct" in result.output  # correcto / correct
    assert connections == [] and not (tmp_path / "never.sqlite3").exists()
