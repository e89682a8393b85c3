"""The `apertura` commands of the web app, through the Flask CLI runner."""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from diagnostic import database
from diagnostic.extensions import db
from diagnostic.models import Institution, Response, ResponseStatus, User


def test_db_upgrade_is_idempotent_and_reports_the_revision(runner, app):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(database.alembic_config("sqlite://")).get_current_head()
    assert f"revision {head}" in result.output
    assert runner.invoke(args=["db", "current"]).output.strip() == head


def test_users_create(runner, app):
    result = runner.invoke(args=["users", "create", "Ana@Example.org", "--role", "analyst", "--password", "larga-clave"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.email == "ana@example.org" and user.check_password("larga-clave")
    again = runner.invoke(args=["users", "create", "ana@example.org", "--role", "admin", "--password", "larga-clave"])
    assert again.exit_code == 1 and "Ya existe" in again.output


def test_institutions_import_reports_bad_rows_by_number(runner, app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("nombre,estado,orden,tipo\nCongreso,Jalisco,estatal,legislativo\nX,Narnia,estatal,judicial\n",
                   encoding="utf-8")
    result = runner.invoke(args=["institutions", "import", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv:fila 3: Estado:" in result.output and "Narnia" in result.output
    good = tmp_path / "good.csv"
    good.write_text("nombre,estado,orden,tipo\nCongreso,Jalisco,estatal,legislativo\n", encoding="utf-8")
    result = runner.invoke(args=["institutions", "import", str(good)])
    assert result.exit_code == 0 and "1 created" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 1
    designated = tmp_path / "designated.csv"
    designated.write_text("nombre,estado,orden,tipo,responsable_estatal\nContraloría,Jalisco,estatal,ejecutivo,sí\n",
                          encoding="utf-8")
    result = runner.invoke(args=["institutions", "import", str(designated)])  # no --campaign
    assert result.exit_code == 1
    assert "designated.csv:fila 2: Responsable estatal: sin campaña" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 1


def test_invitations_export_issues_links_once(runner, app, setup, tmp_path):
    out = tmp_path / "links.csv"
    result = runner.invoke(args=["invitations", "export", "--campaign", setup.slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 1 and rows[0]["link"].startswith("http://apertura.test/r/")
    again = runner.invoke(args=["invitations", "export", "--campaign", setup.slug])
    assert "no new links" in again.output
    unknown = runner.invoke(args=["invitations", "export", "--campaign", "nope"])
    assert unknown.exit_code == 1


def test_demo_builds_a_realistic_campaign(runner, app):
    result = runner.invoke(args=["demo", "--seed", "7", "--institutions", "120"])
    assert result.exit_code == 0, result.output
    assert "campaign demo-2025" in result.output
    with app.app_context():
        states = set(db.session.scalars(sa.select(Institution.state_code)))
        assert "00" in states and len(states) == 33
        statuses = set(db.session.scalars(sa.select(Response.status)))
        assert {ResponseStatus.DRAFT, ResponseStatus.SUBMITTED, ResponseStatus.VERIFIED} <= statuses
        assert db.session.scalar(sa.select(sa.func.count(Institution.id))) >= 110
    again = runner.invoke(args=["demo", "--seed", "7", "--institutions", "120"])
    assert again.exit_code != 0


def test_migrations_go_down_and_up_and_match_the_models(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from diagnostic import create_app

    create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret"})  # imports every area's models
    database.upgrade(database_url)
    database.downgrade(database_url, "base")
    assert database.current(database_url) is None
    database.upgrade(database_url)
    import warnings

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes; checked by name below
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("answers")}
            if conn.dialect.name == "sqlite":
                indexes |= set(conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
    finally:
        engine.dispose()
    assert [d for d in diff if d[0] not in ("add_index", "remove_index")] == []
    assert "uq_answers_response_field_repeat" in indexes
