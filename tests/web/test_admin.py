"""Campaign set-up by an admin: campaigns, instruments, institution import, evaluators, links, status."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import (
    Assignment,
    Campaign,
    CampaignStatus,
    Institution,
    InstrumentVersion,
    User,
)
from tests.web.conftest import INSTRUMENT, csrf_token, login


@pytest.fixture
def admin(app, setup):
    client = app.test_client()
    login(client, setup.admin)
    return client


def upload(client, url: str, filename: str, data: bytes, **fields):
    token = csrf_token(client, "/admin/")
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), filename), **fields},
                       content_type="multipart/form-data")


CONFIRM = re.compile(r'name="(sha256|fingerprint)" type="hidden" value="([0-9a-f]{64})"')


def import_confirmed(client, slug: str, filename: str, data: bytes):
    """Upload a file, check its preview has a confirm form, confirm it; the confirmation's response."""
    preview = upload(client, f"/admin/c/{slug}/import", filename, data)
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
    fields = dict(CONFIRM.findall(preview.get_data(as_text=True)))
    token = csrf_token(client, "/admin/")
    return client.post(f"/admin/c/{slug}/import/confirm", data={"csrf_token": token, **fields})


def institution_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Institution.id)))


def test_create_campaign_and_walk_its_status(admin, app):
    token = csrf_token(admin, "/admin/")
    deadline = f"{date.today().year + 1}-10-31"  # still ahead: a deadline already past keeps a campaign from opening
    response = admin.post("/admin/campaigns", data={"name": "Métrica 2026", "year": "2026", "closes_at": deadline,
                                                    "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/c/metrica-2026-2026")
    page = admin.get("/admin/c/metrica-2026-2026").get_data(as_text=True)
    assert "Métrica 2026" in page and "Borrador" in page
    refused = admin.post("/admin/c/metrica-2026-2026/status", data={"status": "open", "csrf_token": token})
    assert refused.status_code == 409  # no institution questionnaire yet
    assert "cuestionario institucional" in refused.get_data(as_text=True)
    with app.app_context():
        version_id = db.session.scalar(sa.select(InstrumentVersion.id))
    admin.post("/admin/c/metrica-2026-2026/instrument", data={"purpose": "institution", "version_id": str(version_id),
                                                              "csrf_token": token})
    import_confirmed(admin, "metrica-2026-2026", "i.csv", b"nombre,estado,orden,tipo\nCongreso,Jalisco,estatal,legislativo\n")
    status = "/admin/c/metrica-2026-2026/status"
    assert admin.post(status, data={"status": "open", "csrf_token": token}).status_code == 200  # asks first
    assert admin.post(status, data={"status": "open", "confirm": "yes", "csrf_token": token}).status_code == 302
    assert admin.post(status, data={"status": "published", "confirm": "yes", "csrf_token": token}).status_code == 409
    assert admin.post(status, data={"status": "closed", "confirm": "yes", "csrf_token": token}).status_code == 302
    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == "metrica-2026-2026"))
        assert campaign.status == CampaignStatus.CLOSED
        assert db.session.get(InstrumentVersion, version_id).locked


def test_csv_import_reports_every_bad_row_and_imports_nothing(admin, app, setup):
    before = institution_count(app)
    data = ("nombre,estado,orden,tipo\n"
            "Congreso del Estado,Jalisco,estatal,legislativo\n"
            "Instituto X,Atlantis,estatal,autonomo\n"
            ",CDMX,estatal,ejecutivo\n"
            "Tribunal,Edo. de México,imperial,judicial\n"
            "Universidad,NuevoLeon,estatal,circo\n").encode()
    response = upload(admin, f"/admin/c/{setup.slug}/import", "instituciones.csv", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = html[html.index('id="import-errors"'):html.index("</table>", html.index('id="import-errors"'))]
    for row, text in ((3, "Atlantis"), (4, "nombre vacío"), (5, "imperial"), (6, "circo")):
        assert f"<td>{row}</td>" in errors and text in errors
    assert "<td>2</td>" not in errors  # the good row is previewed as one to create, not as an error
    assert institution_count(app) == before


def test_xlsx_import_resolves_state_spellings(admin, app, setup):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Clave", "Nombre", "Entidad", "Orden de gobierno", "Tipo", "Correo"])
    sheet.append(["JAL-CON", "Congreso del Estado de Jalisco", "jalisco", "Estatal", "Poder Legislativo", "ut@congreso.example"])
    sheet.append(["CDMX-TSJ", "Tribunal Superior de Justicia", "Distrito Federal", "estatal", "Judicial", None])
    sheet.append(["FED-INAI", "INAI", "Federal", "federal", "Organismo autónomo", None])
    buffer = io.BytesIO()
    book.save(buffer)
    response = import_confirmed(admin, setup.slug, "inst.xlsx", buffer.getvalue())
    assert response.status_code == 302
    with app.app_context():
        rows = {i.key: (i.state_code, i.type) for i in db.session.scalars(sa.select(Institution))}
    assert rows["JAL-CON"] == ("14", "legislativo")
    assert rows["CDMX-TSJ"] == ("09", "judicial")
    assert rows["FED-INAI"] == ("00", "autonomo")
    again = upload(admin, f"/admin/c/{setup.slug}/import", "inst.xlsx", buffer.getvalue())
    assert again.status_code == 200 and "Sin cambios (3)" in again.get_data(as_text=True)
    assert institution_count(app) == 5  # updated, not duplicated


@pytest.mark.parametrize("filename, data, status", [
    ("inst.exe", b"MZ\x90\x00", 415),
    ("inst.xlsx", b"not a zip at all", 422),
    ("inst.csv", b"\x00\x01\x02binary", 422),
    ("inst.csv", b"", 422),
])
def test_wrong_file_types_are_refused_clearly(admin, app, setup, filename, data, status):
    before = institution_count(app)
    response = upload(admin, f"/admin/c/{setup.slug}/import", filename, data)
    assert response.status_code == status
    assert "<h1>" in response.get_data(as_text=True)
    assert institution_count(app) == before


def test_oversized_upload_is_refused_with_413(admin, app, setup):
    big = b"nombre,estado,orden,tipo\n" + b"x" * (300 * 1024)
    response = upload(admin, f"/admin/c/{setup.slug}/import", "big.csv", big)
    assert response.status_code == 413
    assert "demasiado grande" in response.get_data(as_text=True)


def test_instrument_upload_with_errors_lists_located_messages(admin, app):
    token = csrf_token(admin, "/admin/")
    admin.post("/admin/campaigns", data={"name": "Borrador", "year": "2026", "csrf_token": token})
    broken = INSTRUMENT.replace("relevant: \"${has_unit} = 'yes'\"", "relevant: \"${no_such_field} = 'yes'\"")
    response = upload(admin, "/admin/c/borrador-2026/instrument", "roto.yaml", broken.encode(), purpose="institution")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "roto.yaml:" in html and "no_such_field" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(InstrumentVersion.id))) == 1


def test_instrument_upload_of_a_good_definition_is_stored_once(admin, app):
    token = csrf_token(admin, "/admin/")
    admin.post("/admin/campaigns", data={"name": "Nueva", "year": "2026", "csrf_token": token})
    changed = INSTRUMENT.replace('version: "1"', 'version: "2"')
    for _ in range(2):
        response = upload(admin, "/admin/c/nueva-2026/instrument", "v2.yaml", changed.encode(), purpose="evaluator")
        assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(InstrumentVersion.id))) == 2


def test_invitation_csv_links_open_the_questionnaire_and_are_shown_once(admin, app, setup):
    token = csrf_token(admin, "/admin/")
    response = admin.post(f"/admin/c/{setup.slug}/invitations", data={"csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["institution"] for r in rows] == ["Municipio de Corregidora"]  # the other already has one
    link = rows[0]["link"]
    assert link.startswith("http://apertura.test/r/")
    respondent = app.test_client()
    assert "Municipio de Corregidora" in respondent.get(link.removeprefix("http://apertura.test")).get_data(as_text=True)
    reissued = admin.post(f"/admin/c/{setup.slug}/invitations", data={"csrf_token": token, "reissue": "1"})
    assert len(list(csv.DictReader(io.StringIO(reissued.get_data(as_text=True))))) == 2
    assert respondent.get(link.removeprefix("http://apertura.test")).status_code == 404  # old token replaced
    assert respondent.get(f"/r/{setup.token}").status_code == 404


def test_assign_evaluators_by_state(admin, app, setup):
    token = csrf_token(admin, "/admin/")
    with app.app_context():
        other = db.session.scalar(sa.select(User).where(User.email == setup.other_evaluator))
    response = admin.post(f"/admin/c/{setup.slug}/assign", data={"evaluator_id": str(other.id), "state": "22",
                                                                 "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        owners = set(db.session.scalars(sa.select(Assignment.user_id)))
    assert owners == {other.id}


def test_create_user_and_refuse_duplicates(admin, app):
    token = csrf_token(admin, "/admin/users")
    data = {"email": "nueva@example.org", "name": "Nueva", "role": "analyst", "password": "suficiente", "csrf_token": token}
    assert admin.post("/admin/users", data=data).status_code == 302
    assert admin.post("/admin/users", data=data).status_code == 409
    assert admin.post("/admin/users", data={**data, "email": "x@example.org", "password": "corta"}).status_code == 400


def test_forms_without_csrf_token_are_refused(admin, setup):
    response = admin.post(f"/admin/c/{setup.slug}/status", data={"status": "closed"})
    assert response.status_code == 400
    assert "caducó" in response.get_data(as_text=True)


def test_import_designates_each_states_respondent_for_the_conditions_questionnaire(admin, app, setup):
    from diagnostic.services import campaigns, institutions

    data = ("nombre,estado,orden,tipo,responsable_estatal\n"
            "Secretaría de Finanzas,Querétaro,estatal,ejecutivo,sí\n"
            "Congreso del Estado,Jalisco,estatal,legislativo,no\n"
            "Contraloría del Estado,Jalisco,estatal,ejecutivo,Si\n"
            "Municipio de Zapopan,Jalisco,municipal,municipio,\n").encode()
    response = import_confirmed(admin, setup.slug, "instituciones.csv", data)
    assert response.status_code == 302
    assert "Responsables estatales designados: 2" in admin.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        chosen = {i.name for i in institutions.in_campaign(campaign) if institutions.is_state_respondent(campaign, i)}
    assert chosen == {"Secretaría de Finanzas", "Contraloría del Estado"}


def test_import_refuses_two_respondents_for_one_state_or_an_unknown_value(admin, app, setup):
    before = institution_count(app)
    data = ("nombre,estado,orden,tipo,responsable_estatal\n"
            "Congreso del Estado,Jalisco,estatal,legislativo,sí\n"
            "Contraloría del Estado,Jalisco,estatal,ejecutivo,sí\n"
            "Tribunal,Jalisco,estatal,judicial,quizá\n").encode()
    response = upload(admin, f"/admin/c/{setup.slug}/import", "instituciones.csv", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<td>3</td>" in html and "ya tiene responsable en la fila 2" in html
    assert "<td>4</td>" in html and "quizá" in html
    assert institution_count(app) == before


def test_an_admin_form_posted_after_the_session_ended_is_carried_through_the_sign_in(app, setup):
    client = app.test_client()  # no session at all: it ended while the form was open
    held = client.post(f"/admin/c/{setup.slug}/state-respondent", data={"key": "QRO-X", "csrf_token": "stale"})
    assert held.status_code == 401
    html = held.get_data(as_text=True)
    assert "Su sesión expiró" in html and 'name="_carry-key" value="QRO-X"' in html


def test_an_expired_form_token_keeps_what_a_signed_in_admin_typed(admin, app, setup):
    held = admin.post(f"/admin/c/{setup.slug}/state-respondent", data={"key": "QRO-X", "csrf_token": "stale"})
    assert held.status_code == 400
    html = held.get_data(as_text=True)
    assert "El formulario caducó" in html and 'name="key" value="QRO-X"' in html
    assert f'action="/admin/c/{setup.slug}/state-respondent"' in html
