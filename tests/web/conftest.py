"""Web fixtures: an app on each database of `database_url` (schema built by the Alembic
migrations, not create_all), its client and CLI runner, a small open campaign (`setup`),
and a small campaign scored by the shipped model (`scored`), with the helpers tests share."""
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
        "RATELIMIT_ENABLED": False,  # tests/web/test_security.py checks the limits on their own
        "EVIDENCE_CHECK_BUDGET": 0,  # no link checks after submissions (test_evidence_files.py turns them on)
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


# ------------------------------------------------------------------ a small scored campaign
# Complete answers of the shipped government questionnaire: an open institution and a closed one.
SITE = "https://finanzas.example.org"
OPEN = {
    "resp_name": "María López", "resp_position": "Titular de la Unidad", "resp_email": "ml@finanzas.example.org",
    "ai_unit": "yes", "ai_unit_evidence": f"{SITE}/unidad", "ai_channels": ["pnt", "email", "in_person"],
    "ai_channels_evidence": f"{SITE}/solicitudes", "ai_guide": "yes", "ai_guide_evidence": f"{SITE}/guia.pdf",
    "ai_requests_received": "200", "ai_requests_answered": "150", "ai_requests_evidence": f"{SITE}/est.xlsx",
    "ai_disability_assistance": "yes", "ai_disability_assistance_evidence": f"{SITE}/accesible",
    "ai_indigenous_assistance": "no", "ai_free_electronic": "yes", "ai_free_electronic_evidence": f"{SITE}/costos",
    "ta_share": "80", "ta_share_evidence": f"{SITE}/sipot", "ta_site_links": "yes", "ta_site_links_evidence": f"{SITE}/",
    "ta_updated_quarter": "no", "ta_reusable_formats": "yes", "ta_reusable_formats_evidence": f"{SITE}/f21.csv",
    "tp_beyond_obligations": "yes", "tp_beyond_obligations_evidence": f"{SITE}/pc", "tp_demand_based": "no",
    "tp_plain_language": "yes", "tp_plain_language_evidence": f"{SITE}/pc/guia", "tp_sex_disaggregated": "na",
    "tp_impact_evaluated": "no", "da_datasets": "4", "da_datasets_evidence": "https://www.datos.gob.mx/",
    "da_open_license": "yes", "da_open_license_evidence": f"{SITE}/licencia", "da_metadata": "no",
    "da_machine_readable": "yes", "da_machine_readable_evidence": f"{SITE}/ingresos.csv",
    "da_update_schedule": "no", "da_portal_listed": "yes", "da_portal_listed_evidence": "https://www.datos.gob.mx/",
    "pg_has_mechanism": "yes", "pg_mechanism_kinds": ["advisory_council", "public_consultation"],
    "pg_mechanism_evidence": f"{SITE}/acuerdo.pdf", "pg_main_mechanism": "advisory_council",
    "pg_main_mechanism_name": "Consejo Consultivo", "pg_participants": "organised_civil_society",
    "pg_participants_evidence": f"{SITE}/convocatoria", "pg_operated": "yes", "pg_operated_evidence": f"{SITE}/actas",
    "pg_sessions": "3", "pg_participation_format": "consultative", "pg_participation_format_evidence": f"{SITE}/reglas",
    "pg_outcomes_published": "yes", "pg_outcomes_published_evidence": f"{SITE}/resultados",
    "pg_proposals_answered": "no", "inc_parity_rules": "no", "inc_measures": ["accessible_venue", "remote_participation"],
}

# Institutions of the small campaign: key, name, state, order, type.
INSTITUTIONS = [
    ("Q1", "Secretaría de Finanzas de Querétaro", "22", "estatal", "ejecutivo"),
    ("Q2", "Congreso de Querétaro", "22", "estatal", "legislativo"),
    ("J1", "Secretaría de Hacienda de Jalisco", "14", "estatal", "ejecutivo"),
    ("J2", "Municipio de Zapopan", "14", "municipal", "municipio"),
    ("C1", '=HYPERLINK("http://evil.example","clic")', "09", "estatal", "ejecutivo"),
]


@dataclass
class Scored:
    """A small open campaign scored by the shipped `apertura` model."""

    slug: str
    ids: dict[str, int]
    responses: dict[str, int]
    users: dict[str, int]


def open_answers() -> dict:
    """A fresh copy of the open institution's answers."""
    return {k: (list(v) if isinstance(v, list) else v) for k, v in OPEN.items()}


def closed_answers() -> dict:
    """An institution with no openness practices (no requests, no participation mechanism)."""
    return {
        "resp_name": "José Pérez", "resp_position": "Enlace", "resp_email": "jp@congreso.example.org",
        "ai_unit": "no", "ai_channels": ["pnt"], "ai_channels_evidence": "https://www.plataformadetransparencia.org.mx/",
        "ai_guide": "no", "ai_requests_received": "0", "ai_requests_answered": "0", "ai_disability_assistance": "no",
        "ai_indigenous_assistance": "no", "ai_free_electronic": "yes",
        "ai_free_electronic_evidence": "https://congreso.example.org/transparencia", "ta_share": "0",
        "ta_site_links": "no", "ta_updated_quarter": "no", "ta_reusable_formats": "no",
        "tp_beyond_obligations": "no", "da_datasets": "0", "pg_has_mechanism": "no",
    }


def seed_scored(app) -> Scored:
    """Campaign `metrica-prueba`: 5 institutions in 3 states; Q1 and J1 open, Q2 closed (all
    submitted), J2 a draft, C1 not started; invitations for Q1 and J2; one user per role."""
    from diagnostic.extensions import db
    from diagnostic.models import Institution, Order
    from diagnostic.services import (
        campaigns,
        institutions,
        instruments,
        invitations,
        responses,
        users,
    )
    from diagnostic.services.audit import SYSTEM

    with app.app_context():
        ids = {role: users.create(f"{role}@example.org", role.title(), role, Setup.password).id
               for role in ("admin", "analyst", "evaluator")}
        campaign = campaigns.create("Métrica de prueba", 2025, slug="metrica-prueba")
        campaigns.set_instrument(campaign, "institution", instruments.store_shipped("gobierno"))
        campaigns.set_index_model(campaign, instruments.store_shipped_index_model("apertura"))
        created = []
        for key, name, state, order, kind in INSTITUTIONS:
            inst = Institution(key=key, name=name, state_code=state, order=Order(order), type=kind)
            db.session.add(inst)
            created.append(inst)
        db.session.commit()
        institutions.add_to_campaign(campaign, created)
        campaigns.set_status(campaign, "open")
        by_key = {i.key: i for i in created}
        invitations.issue(campaign, [by_key["Q1"], by_key["J2"]])
        response_ids = {}
        for key, answers, submit in (("Q1", open_answers(), True), ("Q2", closed_answers(), True),
                                     ("J1", open_answers(), True), ("J2", {"ai_unit": "yes"}, False)):
            response = responses.get_or_create(campaign, "institution", by_key[key])
            responses.save_page(response, answers, SYSTEM)
            if submit:
                responses.submit(response, SYSTEM)
            response_ids[key] = response.id
        return Scored("metrica-prueba", {k: i.id for k, i in by_key.items()}, response_ids, ids)


def sign_in(client, user_id: int) -> None:
    """Sign a test client in as a user (session cookie, as Flask-Login sets it: `id.version.nonce`)."""
    from diagnostic.models import User

    with client.application.app_context():
        session_id = db.session.get(User, user_id).get_id()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True


@pytest.fixture
def scored(app) -> Scored:
    """The small scored campaign (`seed_scored`)."""
    return seed_scored(app)
