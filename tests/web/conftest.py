"""Web fixtures: an app on each database of `database_url` (schema built by the Alembic
migrations, not create_all), its client and CLI runner, and a small open campaign."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from diagnostic import create_app, database
from diagnostic.extensions import db

# A small instrument written inline: skip logic, a constraint, a repeat, required fields.
INSTRUMENT = """
settings:
  id: prueba
  version: "1"
  title: {es: Cuestionario de prueba, en: Test questionnaire}
  languages: [es, en]
  default_language: es
  unit: institution
choices:
  channels:
    - {name: pnt, label: {es: Plataforma Nacional, en: National Platform}}
    - {name: email, label: {es: Correo, en: E-mail}}
    - {name: phone, label: {es: Teléfono, en: Phone}}
survey:
  - type: group
    name: unidad
    label: {es: Unidad de transparencia, en: Transparency unit}
    children:
      - type: yes_no
        name: has_unit
        label: {es: "¿Tiene unidad de transparencia?", en: "Does it have a transparency unit?"}
        required: true
      - type: url
        name: unit_url
        label: {es: Enlace de evidencia, en: Evidence link}
        relevant: "${has_unit} = 'yes'"
        required: true
      - type: select_multiple channels
        name: channels
        label: {es: Canales para solicitar información, en: Filing channels}
  - type: group
    name: solicitudes
    label: {es: Solicitudes, en: Requests}
    children:
      - type: integer
        name: received
        label: {es: Solicitudes recibidas, en: Requests received}
        required: true
      - type: integer
        name: answered
        label: {es: Solicitudes respondidas en plazo, en: Requests answered in time}
        constraint: ". <= ${received}"
        constraint_message: {es: No puede exceder las recibidas, en: Cannot exceed those received}
  - type: repeat
    name: examples
    label: {es: Ejemplos, en: Examples}
    min_count: 1
    max_count: 3
    children:
      - type: text
        name: topic
        label: {es: Tema, en: Topic}
        required: true
      - type: date
        name: sent
        label: {es: Fecha de envío, en: Date sent}
"""

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, url: str = "/auth/login") -> str:
    """A CSRF token for the client's session, read from a page's meta tag or the login form."""
    html = client.get(url).get_data(as_text=True)
    match = CSRF.search(html)
    assert match, f"no csrf token on {url}"
    return match.group(1) or match.group(2)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """English catalogues compiled as `make` does (the .mo files are build products)."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parents[2] / "diagnostic" / "translations").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source))


@pytest.fixture
def app(database_url, tmp_path):
    """The app on a migrated empty database (SQLite file or fresh PostgreSQL database)."""
    database.upgrade(database_url)
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "PUBLIC_URL": "http://apertura.test",
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    app.instance_path = str(tmp_path / "instance")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for the app's commands."""
    return app.test_cli_runner()


@dataclass
class Setup:
    """An open campaign with one invited institution, an admin, an analyst and an evaluator."""

    slug: str
    token: str
    institution_id: int
    other_institution_id: int
    admin: str = "admin@example.org"
    analyst: str = "analyst@example.org"
    evaluator: str = "evaluator@example.org"
    other_evaluator: str = "other@example.org"
    password: str = "correct horse"


@pytest.fixture
def setup(app) -> Setup:
    """Campaign `prueba-2025` (open) using INSTRUMENT for institutions and evaluators."""
    from diagnostic.models import InstrumentPurpose
    from diagnostic.services import (
        assignments,
        campaigns,
        institutions,
        instruments,
        invitations,
        users,
    )

    with app.app_context():
        password = Setup.password
        users.create(Setup.admin, "Admin", "admin", password)
        users.create(Setup.analyst, "Analista", "analyst", password)
        evaluator = users.create(Setup.evaluator, "Evaluadora", "evaluator", password)
        users.create(Setup.other_evaluator, "Otro", "evaluator", password)
        campaign = campaigns.create("Prueba", 2025, slug="prueba-2025")
        version = instruments.store(INSTRUMENT.encode(), "prueba.yaml")
        campaigns.set_instrument(campaign, InstrumentPurpose.INSTITUTION, version)
        campaigns.set_instrument(campaign, InstrumentPurpose.EVALUATOR, version)
        csv = ("nombre,estado,orden,tipo,correo\n"
               "Secretaría de Finanzas,Querétaro,estatal,ejecutivo,ut@finanzas.example\n"
               "Municipio de Corregidora,QRO,municipal,municipio,\n").encode()
        report = institutions.import_file(csv, "inst.csv", campaign=campaign)
        first, second = report.institutions
        campaigns.set_status(campaign, "open")
        token = invitations.create(campaign, first)
        assignments.assign(campaign, [first], evaluator)
        return Setup("prueba-2025", token, first.id, second.id)


def login(client, email: str, password: str = Setup.password):
    """Sign a client in (fails the test when it cannot)."""
    token = csrf_token(client)
    response = client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response
