"""Campaign rosters: an import into one campaign never changes what another campaign sees,
rows match by key then by exact name in the state, the preview writes nothing, every contact
change is audited, and the campaign's institutions can be listed, edited and withdrawn."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import AuditEvent, Institution, Invitation, Participation
from diagnostic.services import ServiceError, campaigns, institutions, invitations, scores
from tests.web.conftest import csrf_token, login, sign_in

HEADER = "clave,nombre,estado,orden,tipo,contacto,correo\n"


@pytest.fixture
def admin(app, setup):
    client = app.test_client()
    login(client, setup.admin)
    return client


def upload(client, slug: str, filename: str, data: bytes):
    token = csrf_token(client, "/admin/")
    return client.post(f"/admin/c/{slug}/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(data), filename)})


def confirm_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(sha256|fingerprint)" type="hidden" value="([0-9a-f]{64})"', html))


def finanzas(app) -> Institution:
    return db.session.scalar(sa.select(Institution).where(Institution.name == "Secretaría de Finanzas"))


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(sa.select(sa.func.count(Institution.id))),
            db.session.scalar(sa.select(sa.func.count(Participation.id))),
            db.session.scalar(sa.select(sa.func.count(AuditEvent.id))))


# ------------------------------------------------------------------ matching and sharing
def test_importing_into_a_second_campaign_leaves_the_first_campaigns_institution_alone(app, setup):
    with app.app_context():
        first = campaigns.get_by_slug(setup.slug)
        before = finanzas(app)
        key, contact = before.key, before.contact_email
        other = campaigns.create("Prueba desechable", 2026, slug="desechable")
        data = ("nombre,estado,orden,tipo,correo\n"
                "Secretaría de Finanzas,Querétaro,estatal,legislativo,otra@finanzas.example\n").encode()
        plan = institutions.plan_import(data, "otra.csv", campaign=other)
        assert [s.action for s in plan.rows] == ["update"]
        assert [(c.field, c.old, c.new, c.scope) for c in plan.rows[0].changes] == [
            ("contact_email", "ut@finanzas.example", "otra@finanzas.example", "campaign")]
        assert "Prueba" in plan.rows[0].notes[0].es and "Tipo" in plan.rows[0].notes[0].es
        institutions.apply_import(plan, campaign=other)
        db.session.expire_all()
        after = finanzas(app)
        assert (after.key, after.contact_email, after.type) == (key, contact, "ejecutivo")  # first campaign sees the same
        roster = {e.institution.id: e for e in institutions.roster(other)}
        assert roster[after.id].contact_email == "otra@finanzas.example"  # the second campaign has its own contact
        assert {e.contact_email for e in institutions.roster(first) if e.institution.id == after.id} == {contact}


def test_the_key_given_in_the_file_is_kept(app, setup):
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        data = (HEADER + "QRO-SF,Secretaría de Finanzas,Querétaro,estatal,ejecutivo,,\n"
                         "QRO-NUEVA,Instituto Nuevo,Querétaro,estatal,autonomo,,\n").encode()
        institutions.import_file(data, "claves.csv", campaign=campaign)
        db.session.expire_all()
        assert finanzas(app).key == "QRO-SF"  # matched by name, adopted the file's key
        assert db.session.scalar(sa.select(Institution.key).where(Institution.name == "Instituto Nuevo")) == "QRO-NUEVA"
        # A key that differs from the one another campaign knows the institution by is refused, not applied.
        other = campaigns.create("Otra", 2026, slug="otra")
        plan = institutions.plan_import((HEADER + "OTRA-CLAVE,Secretaría de Finanzas,Querétaro,estatal,ejecutivo,,\n")
                                        .encode(), "otra.csv", campaign=other)
        assert [(e.row, e.label_for("es")) for e in plan.errors] == [(2, "Clave")]
        assert "QRO-SF" in plan.errors[0].message_for("es")


def test_a_key_match_beats_a_name_match(app, setup):
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        inst = finanzas(app)
        plan = institutions.plan_import(
            (HEADER + f"{inst.key},Secretaría de Planeación y Finanzas,Querétaro,estatal,ejecutivo,,\n").encode(),
            "renombre.csv", campaign=campaign)
        assert [(s.action, s.institution_id) for s in plan.rows] == [("update", inst.id)]
        assert [(c.field, c.new) for c in plan.rows[0].changes] == [("name", "Secretaría de Planeación y Finanzas")]
        institutions.apply_import(plan, campaign=campaign)
        assert db.session.get(Institution, inst.id).name == "Secretaría de Planeación y Finanzas"
        # The key names one institution, the name another of the same state: a bad row, not a guess.
        clash = institutions.plan_import(
            (HEADER + f"{inst.key},Municipio de Corregidora,Querétaro,estatal,ejecutivo,,\n").encode(),
            "choque.csv", campaign=campaign)
        assert [(e.row, e.column) for e in clash.errors] == [(2, "name")]


def test_a_contact_change_is_audited_with_its_old_and_new_value(app, setup):
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        inst = finanzas(app)
        data = (HEADER + f"{inst.key},Secretaría de Finanzas,Querétaro,estatal,ejecutivo,Ana Ruiz,ana@finanzas.example\n")
        institutions.import_file(data.encode(), "contactos.csv", campaign=campaign)
        events = {e.field: (e.old_value, e.new_value) for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.entity == "institution", AuditEvent.entity_id == inst.id))}
        assert events["contact_email"] == ("ut@finanzas.example", "ana@finanzas.example")
        assert events["contact_name"] == (None, "Ana Ruiz")


# ------------------------------------------------------------------ preview, then confirm (web)
def test_the_preview_writes_nothing_and_the_confirmation_applies_it(admin, app, setup):
    with app.app_context():
        before = counts()
    data = (HEADER + "QRO-SF,Secretaría de Finanzas,Querétaro,estatal,ejecutivo,,nuevo@finanzas.example\n"
                     ",Congreso del Estado,Jalisco,estatal,legislativo,,\n").encode()
    preview = upload(admin, setup.slug, "lista.csv", data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Congreso del Estado" in html and "Poder Legislativo" in html and "legislativo</td>" not in html
    assert "ut@finanzas.example" in html and "nuevo@finanzas.example" in html  # old → new
    with app.app_context():
        assert counts() == before
    token = csrf_token(admin, "/admin/")
    done = admin.post(f"/admin/c/{setup.slug}/import/confirm", data={"csrf_token": token, **confirm_fields(html)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/admin/c/{setup.slug}/institutions")
    with app.app_context():
        assert finanzas(app).contact_email == "nuevo@finanzas.example"
        assert counts()[0] == before[0] + 1


def test_a_confirmation_is_refused_when_the_data_changed_since_the_preview(admin, app, setup):
    data = (HEADER + ",Secretaría de Finanzas,Querétaro,estatal,ejecutivo,,nuevo@finanzas.example\n").encode()
    html = upload(admin, setup.slug, "lista.csv", data).get_data(as_text=True)
    with app.app_context():  # someone edits the contact between the preview and the confirmation
        campaign = campaigns.get_by_slug(setup.slug)
        inst = finanzas(app)
        institutions.edit(campaign, inst.id, {"name": inst.name, "order": "estatal", "type": "ejecutivo",
                                              "contact_email": "tercero@finanzas.example"})
    token = csrf_token(admin, "/admin/")
    refused = admin.post(f"/admin/c/{setup.slug}/import/confirm", data={"csrf_token": token, **confirm_fields(html)})
    assert refused.status_code == 409
    assert "cambiaron desde la vista previa" in refused.get_data(as_text=True)
    assert "tercero@finanzas.example" in refused.get_data(as_text=True)  # the new preview shows the current value
    with app.app_context():
        assert finanzas(app).contact_email == "tercero@finanzas.example"


def test_a_bad_row_is_shown_with_its_number_and_the_columns_label(admin, app, setup):
    data = (HEADER + ",Congreso del Estado,Jalisco,estatal,legislativo,,\n"
                     ",Instituto X,Atlantis,estatal,autonomo,,\n"
                     ",Tribunal,Jalisco,estatal,judicial,,sin-arroba\n").encode()
    response = upload(admin, setup.slug, "lista.csv", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<td>3</td><td>Estado</td>" in html and "Atlantis" in html
    assert "<td>4</td><td>Correo</td>" in html
    assert "<td>state</td>" not in html and "contact_email" not in html
    assert 'name="fingerprint"' not in html  # nothing to confirm
    english = admin.get("/admin/?lang=en")
    assert english.status_code == 200
    assert "<td>3</td><td>State</td>" in upload(admin, setup.slug, "lista.csv", data).get_data(as_text=True)


def test_cli_import_shows_the_plan_and_dry_run_writes_nothing(runner, app, setup, tmp_path):
    path = tmp_path / "lista.csv"
    path.write_text(HEADER + ",Secretaría de Finanzas,Querétaro,estatal,ejecutivo,,cli@finanzas.example\n",
                    encoding="utf-8")
    result = runner.invoke(args=["institutions", "import", str(path), "--campaign", setup.slug, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Correo: ut@finanzas.example → cli@finanzas.example" in result.output
    assert "1 actualizadas" in result.output and "nothing was written" in result.output
    with app.app_context():
        assert finanzas(app).contact_email == "ut@finanzas.example"
    result = runner.invoke(args=["institutions", "import", str(path), "--campaign", setup.slug])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert finanzas(app).contact_email == "cli@finanzas.example"


# ------------------------------------------------------------------ the campaign's institutions page
def test_the_institutions_page_searches_and_filters_with_labels(admin, app, setup):
    campaign_page = admin.get(f"/admin/c/{setup.slug}").get_data(as_text=True)
    assert f'href="/admin/c/{setup.slug}/institutions"' in campaign_page
    page = admin.get(f"/admin/c/{setup.slug}/institutions")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Secretaría de Finanzas" in html and "Municipio de Corregidora" in html
    assert "Poder Ejecutivo" in html and "Querétaro" in html and ">Invitada<" in html and ">Sin invitar<" in html
    found = admin.get(f"/admin/c/{setup.slug}/institutions?q=secretaria").get_data(as_text=True)
    assert "Secretaría de Finanzas" in found and "Municipio de Corregidora" not in found
    by_type = admin.get(f"/admin/c/{setup.slug}/institutions?type=municipio").get_data(as_text=True)
    assert "Municipio de Corregidora" in by_type and "Secretaría de Finanzas" not in by_type
    by_state = admin.get(f"/admin/c/{setup.slug}/institutions?state=14").get_data(as_text=True)
    assert "Ninguna institución coincide" in by_state
    assert '<option value="municipio">Municipio</option>' in html  # codes posted, labels shown


def test_editing_an_institution_is_audited(admin, app, setup):
    token = csrf_token(admin, "/admin/")
    url = f"/admin/c/{setup.slug}/institutions/{setup.institution_id}"
    assert "ut@finanzas.example" in admin.get(url).get_data(as_text=True)
    response = admin.post(url, data={"csrf_token": token, "name": "Secretaría de Finanzas", "order": "estatal",
                                     "type": "ejecutivo", "contact_name": "Luz Gómez",
                                     "contact_email": "luz@finanzas.example"})
    assert response.status_code == 302
    bad = admin.post(url, data={"csrf_token": token, "name": "Secretaría de Finanzas", "order": "estatal",
                                "type": "ejecutivo", "contact_email": "no-es-correo"})
    assert bad.status_code == 400 and "Correo" in bad.get_data(as_text=True)
    with app.app_context():
        assert finanzas(app).contact_email == "luz@finanzas.example"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.field == "contact_email"))
        assert (event.old_value, event.new_value, event.entity_id) == (
            "ut@finanzas.example", "luz@finanzas.example", setup.institution_id)
        assert event.user_id is not None


def test_a_shared_institutions_identity_is_not_edited_from_one_campaign(app, setup):
    with app.app_context():
        other = campaigns.create("Otra", 2026, slug="otra")
        inst = finanzas(app)
        institutions.add_to_campaign(other, [inst])
        with pytest.raises(ServiceError) as refused:
            institutions.edit(other, inst.id, {"name": "Otro nombre", "order": "estatal", "type": "ejecutivo"})
        assert "Prueba" in refused.value.message
        institutions.edit(other, inst.id, {"name": inst.name, "order": "estatal", "type": "ejecutivo",
                                           "contact_email": "otra@finanzas.example"})
        db.session.expire_all()
        assert finanzas(app).contact_email == "ut@finanzas.example"


# ------------------------------------------------------------------ withdrawal
def test_withdrawing_leaves_an_institution_out_of_invitations_and_scoring(app, scored):
    from diagnostic.models import Response, ResponseStatus

    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        with pytest.raises(ServiceError) as refused:  # Q1 has submitted: its answer stays in the record
            institutions.withdraw(campaign, scored.ids["Q1"])
        assert refused.value.status == 409
        institutions.withdraw(campaign, scored.ids["C1"], reason="Se extinguió")
        institutions.withdraw(campaign, scored.ids["J2"])  # a draft and an invitation
        keys = {i.key for i in institutions.in_campaign(campaign)}
        assert "C1" not in keys and "J2" not in keys and "Q1" in keys
        issued = invitations.issue(campaign, institutions.in_campaign(campaign))
        assert {link.institution.key for link in issued} == {"Q2", "J1"}
        _answers, insts = scores.campaign_frames(campaign)
        assert set(insts["institution"]) == {"Q1", "Q2", "J1"}
        revoked = db.session.scalar(sa.select(Invitation.revoked_at).where(Invitation.institution_id == scored.ids["J2"]))
        assert revoked is not None
        assert db.session.scalar(sa.select(Response.status).where(Response.id == scored.responses["J2"])) \
            == ResponseStatus.DRAFT  # nothing deleted
        entry = institutions.roster_entry(campaign, scored.ids["C1"])
        assert entry.status == "withdrawn" and entry.participation.withdrawn_reason == "Se extinguió"


def test_withdraw_from_the_page(app, scored):
    client = app.test_client()
    sign_in(client, scored.users["admin"])
    token = csrf_token(client, f"/admin/c/{scored.slug}/institutions")
    page = client.get(f"/admin/c/{scored.slug}/institutions/{scored.ids['Q1']}").get_data(as_text=True)
    assert "no se puede retirar" in page
    refused = client.post(f"/admin/c/{scored.slug}/institutions/{scored.ids['Q1']}/withdraw", data={"csrf_token": token})
    assert refused.status_code == 409 and "ya envió su respuesta" in refused.get_data(as_text=True)
    done = client.post(f"/admin/c/{scored.slug}/institutions/{scored.ids['C1']}/withdraw", data={"csrf_token": token})
    assert done.status_code == 302
    listing = client.get(f"/admin/c/{scored.slug}/institutions?status=withdrawn").get_data(as_text=True)
    assert ">Retirada<" in listing and listing.count("<tr") == 2  # header + C1


def test_importing_a_withdrawn_institution_again_brings_it_back(app, setup):
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        institutions.withdraw(campaign, setup.other_institution_id)
        inst = db.session.get(Institution, setup.other_institution_id)
        assert inst not in institutions.in_campaign(campaign)
        plan = institutions.plan_import((HEADER + f"{inst.key},{inst.name},Querétaro,municipal,municipio,,\n").encode(),
                                        "vuelve.csv", campaign=campaign)
        assert [(c.label, c.old, c.new) for c in plan.rows[0].changes] == [("Retirada", "sí", "no")]
        institutions.apply_import(plan, campaign=campaign)
        assert inst in institutions.in_campaign(campaign)


def test_a_withdrawn_institutions_link_says_it_no_longer_takes_part(app, setup):
    with app.app_context():
        institutions.withdraw(campaigns.get_by_slug(setup.slug), setup.institution_id, reason="Duplicada")
    client = app.test_client()
    page = client.get(f"/r/{setup.token}")
    assert page.status_code == 410
    assert "ya no participa en esta campaña" in page.get_data(as_text=True)
    english = client.get(f"/r/{setup.token}", headers={"Accept-Language": "en"})
    assert "no longer takes part in this campaign" in english.get_data(as_text=True)


def test_opening_the_link_shows_as_opened_in_the_roster_and_changes_nothing_else(app, setup):
    from diagnostic.models import Response

    with app.app_context():
        assert institutions.roster_entry(campaigns.get_by_slug(setup.slug), setup.institution_id).status == "invited"
    assert app.test_client().get(f"/r/{setup.token}").status_code == 200
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        assert institutions.roster_entry(campaign, setup.institution_id).status == "opened"
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 0  # no draft was made
