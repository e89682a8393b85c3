"""Invitations and reminders by e-mail, against a real SMTP server on loopback (aiosmtpd):
what arrives, the link in it, refusals with the server's reason, the outbox, the send log,
reminders that never reach a submitted institution, the wording, exports and the CLI."""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from diagnostic.extensions import db
from diagnostic.models import Institution, InvitationEvent, Order
from diagnostic.services import ServiceError, campaigns, institutions, mail, mailings, responses
from diagnostic.services.audit import Actor
from tests.web.conftest import csrf_token, login
from tests.web.smtp import SmtpServer

LINK = re.compile(r"http://apertura\.test(/r/[A-Za-z0-9_-]+)")

# Institutions added to the test campaign: key, name, state, order, type, contact, e-mail.
MORE = [
    ("JAL-CON", "Congreso de Jalisco", "14", "estatal", "legislativo", "Ana Ruiz", "enlace@congreso.example"),
    ("QRO-UNI", "=HYPERLINK(\"http://evil.example\",\"clic\")", "22", "estatal", "universidad", "", "ut@uni.example"),
]


@pytest.fixture
def mail_setup(app, setup):
    """The open test campaign with four institutions: three with an e-mail address (two in
    Querétaro, one in Jalisco) and one without (Corregidora)."""
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        added = [Institution(key=key, name=name, state_code=state, order=Order(order), type=kind,
                             contact_name=contact or None, contact_email=email)
                 for key, name, state, order, kind, contact, email in MORE]
        db.session.add_all(added)
        db.session.commit()
        institutions.add_to_campaign(campaign, added)
    return setup


@pytest.fixture
def smtp(app):
    """A real SMTP server on 127.0.0.1 the app sends through."""
    with SmtpServer() as server:
        app.config.update(server.config())
        yield server


def _send(app, slug, kind="invitation", **filters):
    with app.app_context():
        return mailings.send(campaigns.get_by_slug(slug), kind, actor=Actor("test"), **filters)


def _roster(app, slug, **filters):
    with app.app_context():
        return {r.institution.contact_email or r.institution.name: (r.status, r.reminders, r.failed_reason)
                for r in mailings.roster(campaigns.get_by_slug(slug), **filters)}


def _answer_and_submit(app, slug, email):
    with app.app_context():
        campaign = campaigns.get_by_slug(slug)
        institution = db.session.scalar(sa.select(Institution).where(Institution.contact_email == email))
        response = responses.get_or_create(campaign, "institution", institution)
        responses.save_page(response, {"has_unit": "no", "received": "4", "answered": "4",
                                       "examples[0].topic": "Agua"}, Actor("test"))
        responses.submit(response, Actor("test"))


def test_invitations_arrive_over_one_connection_and_the_link_opens_the_questionnaire(app, client, mail_setup, smtp):
    report = _send(app, mail_setup.slug)
    assert (report.sent, report.failed, report.skipped) == (3, [], 1)  # Corregidora has no address
    arrived = {r.rcpt_tos[0]: r for r in smtp.received}
    assert set(arrived) == {"ut@finanzas.example", "enlace@congreso.example", "ut@uni.example"}
    assert len({r.peer for r in smtp.received}) == 1  # one SMTP connection for the batch
    congreso = arrived["enlace@congreso.example"]
    assert congreso.message["Subject"] == "Invitación a responder el cuestionario Prueba"
    assert congreso.message["From"] == "Apertura <invitaciones@apertura.test>"
    assert "Estimado(a) Ana Ruiz" in congreso.body and "Congreso de Jalisco (Jalisco)" in congreso.body
    assert "Estimado(a) Titular de la Unidad de Transparencia:" in arrived["ut@uni.example"].body  # no contact name

    path = LINK.search(congreso.body).group(1)
    landing = client.get(path)
    assert landing.status_code == 200
    assert "Cuestionario de prueba" in landing.get_data(as_text=True)
    assert "Congreso de Jalisco" in landing.get_data(as_text=True)
    first_page = client.get(path + "/p/0")
    assert first_page.status_code == 200 and "Unidad de transparencia" in first_page.get_data(as_text=True)

    # The link the setup handed out before (as a CSV would) was replaced by the e-mailed one.
    assert client.get(f"/r/{mail_setup.token}").status_code == 404
    statuses = _roster(app, mail_setup.slug)
    assert statuses["enlace@congreso.example"][0] == "opened"
    assert statuses["ut@finanzas.example"][0] == "sent"
    assert statuses["Municipio de Corregidora"][0] == "not_sent"

    # Sending invitations again reaches nobody: each institution gets one invitation.
    again = _send(app, mail_setup.slug)
    assert again.sent == 0 and len(smtp.received) == 3


def test_a_refused_recipient_is_logged_with_the_servers_reason_and_the_rest_go_on(app, client, mail_setup):
    reply = "550 5.1.1 <enlace@congreso.example>: Recipient address rejected: User unknown"
    with SmtpServer(refuse={"enlace@congreso.example": reply}) as server:
        app.config.update(server.config())
        report = _send(app, mail_setup.slug)
    assert report.sent == 2 and len(server.received) == 2
    (failure,) = report.failed
    assert failure.recipient == "enlace@congreso.example"
    assert failure.reason.startswith("550") and "User unknown" in failure.reason
    status, _reminders, reason = _roster(app, mail_setup.slug)["enlace@congreso.example"]
    assert status == "failed" and "Recipient address rejected" in reason
    with app.app_context():
        campaign = campaigns.get_by_slug(mail_setup.slug)
        congreso = db.session.scalar(sa.select(Institution).where(Institution.key == "JAL-CON"))
        (entry,) = mailings.log_of(campaign, congreso)
        assert (entry.kind, entry.recipient, entry.actor) == ("failed", "enlace@congreso.example", "test")
        assert mailings.actor_label("system") == "Sistema"
        assert "550 5.1.1" in entry.detail
    login(client, mail_setup.admin)
    page = client.get(f"/correo/c/{mail_setup.slug}/i/{congreso.id}").get_data(as_text=True)
    assert "Envío fallido" in page and "Recipient address rejected" in page

    # A failed invitation is tried again by the next invitation send, and then goes through.
    with SmtpServer() as server:
        app.config.update(server.config())
        retry = _send(app, mail_setup.slug)
    assert retry.sent == 1 and server.received[0].rcpt_tos == ["enlace@congreso.example"]


def test_an_unreachable_server_is_refused_before_anything_is_logged(app, mail_setup):
    with SmtpServer() as server:
        port = server.port
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SECURITY="none", MAIL_TIMEOUT=5)
    with pytest.raises(ServiceError) as refused:
        _send(app, mail_setup.slug)
    assert refused.value.code == "mail_server_unreachable" and f"127.0.0.1:{port}" in refused.value.message
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(InvitationEvent.id))) == 0


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # loopback only
def test_the_configured_login_is_used_and_a_wrong_password_refused_with_the_servers_words(app, mail_setup):
    with SmtpServer(login=("apertura", "s3creto")) as server:
        app.config.update(server.config(), MAIL_USERNAME="apertura", MAIL_PASSWORD="equivocada")
        with pytest.raises(ServiceError) as refused:
            _send(app, mail_setup.slug)
        assert refused.value.code == "mail_server_unreachable" and "535" in refused.value.message
        assert server.received == []
        app.config.update(MAIL_PASSWORD="s3creto")
        assert _send(app, mail_setup.slug).sent == 3
        assert server.logins == ["apertura"] and len(server.received) == 3


def test_starttls_is_the_default_and_the_server_certificate_is_checked(app, mail_setup, tmp_path, monkeypatch):
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl (the command) makes the test's certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with SmtpServer(tls_context=context, login=("apertura", "s3creto")) as server:
        settings = {**server.config(), "MAIL_USERNAME": "apertura", "MAIL_PASSWORD": "s3creto"}
        del settings["MAIL_SECURITY"]  # the default: STARTTLS
        app.config.update(settings)
        assert app.config["MAIL_SECURITY"] == "starttls"
        with pytest.raises(ServiceError) as refused:  # a certificate nobody vouches for is refused
            _send(app, mail_setup.slug)
        assert "CERTIFICATE_VERIFY_FAILED" in refused.value.message and server.received == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the system trusts it
        assert _send(app, mail_setup.slug).sent == 3
        assert [r.encrypted for r in server.received] == [True, True, True] and server.logins == ["apertura"]


def test_reminders_reuse_the_link_and_never_reach_a_submitted_institution(app, client, mail_setup, smtp):
    _send(app, mail_setup.slug)
    links = {r.rcpt_tos[0]: LINK.search(r.body).group(1) for r in smtp.received}
    _answer_and_submit(app, mail_setup.slug, "ut@finanzas.example")
    smtp.received.clear()

    with app.app_context():
        plan = mailings.plan(campaigns.get_by_slug(mail_setup.slug), "reminder")
        assert sorted(r.email for r in plan.targets) == ["enlace@congreso.example", "ut@uni.example"]
    report = _send(app, mail_setup.slug, "reminder")
    assert report.sent == 2
    reminded = {r.rcpt_tos[0]: r for r in smtp.received}
    assert "ut@finanzas.example" not in reminded
    assert reminded["ut@uni.example"].message["Subject"] == "Recordatorio: cuestionario Prueba pendiente"
    for address, received in reminded.items():  # the same link as the invitation: it still works
        assert LINK.search(received.body).group(1) == links[address]
        assert client.get(links[address]).status_code == 200

    # By state: a reminder to Jalisco only; the submitted one stays out even when asked by status.
    smtp.received.clear()
    assert _send(app, mail_setup.slug, "reminder", state="14").sent == 1
    assert [r.rcpt_tos for r in smtp.received] == [["enlace@congreso.example"]]
    assert _send(app, mail_setup.slug, "reminder", status="submitted").sent == 0
    statuses = _roster(app, mail_setup.slug)
    assert statuses["ut@finanzas.example"][0] == "submitted"
    assert statuses["enlace@congreso.example"][1] == 2  # two reminders


def test_opened_and_started_come_from_the_link_and_the_first_saved_answer(app, client, mail_setup, smtp):
    _send(app, mail_setup.slug, state="14")
    path = LINK.search(smtp.received[0].body).group(1)
    client.get(path + "/p/0")  # a page other than the landing is not "opened"
    assert _roster(app, mail_setup.slug, state="14")["enlace@congreso.example"][0] == "sent"
    client.get(path)
    client.get(path)  # a reload within the hour adds nothing
    with app.app_context():
        kinds = [e.kind for e in db.session.scalars(sa.select(InvitationEvent).order_by(InvitationEvent.id))]
    assert kinds == ["sent", "opened"]
    assert _roster(app, mail_setup.slug, state="14")["enlace@congreso.example"][0] == "opened"
    client.post(path + "/p/1", data={"received": "3"})
    assert _roster(app, mail_setup.slug, state="14")["enlace@congreso.example"][0] == "started"
    with app.app_context():
        campaign = campaigns.get_by_slug(mail_setup.slug)
        congreso = db.session.scalar(sa.select(Institution).where(Institution.key == "JAL-CON"))
        assert [e.kind for e in mailings.log_of(campaign, congreso)] == ["sent", "opened", "started"]


def test_without_a_server_messages_go_to_the_outbox_that_an_admin_reads(app, client, mail_setup, tmp_path):
    assert not app.config["MAIL_SERVER"]
    report = _send(app, mail_setup.slug, state="22")
    assert report.sent == 2 and report.delivery == "outbox"
    files = sorted((tmp_path / "instance" / "outbox").glob("*.eml"))
    assert len(files) == 2
    with app.app_context():
        messages, total = mail.outbox_messages()
    assert total == 2 and {m.to for m in messages} == {"ut@finanzas.example", "ut@uni.example"}

    login(client, mail_setup.analyst)
    assert client.get("/correo/salida").status_code == 403  # the links are secrets: admins only
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, f"/correo/c/{mail_setup.slug}")})
    login(client, mail_setup.admin)
    listing = client.get("/correo/salida").get_data(as_text=True)
    assert "Bandeja de salida" in listing and "ut@uni.example" in listing
    name = files[0].name
    page = client.get(f"/correo/salida/{name}").get_data(as_text=True)
    assert "Invitación a responder el cuestionario Prueba" in page
    path = LINK.search(page).group(1)
    assert client.get(path).status_code == 200
    raw = client.get(f"/correo/salida/{name}/eml")
    assert raw.status_code == 200 and raw.mimetype == "message/rfc822" and b"Subject:" in raw.data
    assert client.get("/correo/salida/..%2Fapertura.sqlite3").status_code == 404


def test_the_web_asks_for_confirmation_with_the_count_then_reports_sent_and_failed(app, client, mail_setup):
    reply = "550 5.7.1 Mailbox disabled"
    with SmtpServer(refuse={"ut@uni.example": reply}) as server:
        app.config.update(server.config())
        login(client, mail_setup.admin)
        campaign_page = client.get(f"/admin/c/{mail_setup.slug}").get_data(as_text=True)
        assert f"/correo/c/{mail_setup.slug}" in campaign_page
        token = csrf_token(client, f"/correo/c/{mail_setup.slug}")
        confirm = client.post(f"/correo/c/{mail_setup.slug}/confirmar",
                              data={"csrf_token": token, "kind": "invitation", "idioma": ""})
        text = confirm.get_data(as_text=True)
        assert confirm.status_code == 200 and "Se enviarán 3 invitaciones." in text
        assert "1 institución no tiene correo de contacto y se omite." in text
        assert "1 enlace entregado antes por CSV se reemplaza" in text  # the setup's link to Finanzas
        assert server.received == []  # nothing is sent by the confirmation
        result = client.post(f"/correo/c/{mail_setup.slug}/enviar",
                             data={"csrf_token": token, "kind": "invitation", "idioma": ""})
        html = result.get_data(as_text=True)
        assert result.status_code == 200
        assert re.search(r'data-col="sent">2<', html) and re.search(r'data-col="failed">1<', html)
        assert "Mailbox disabled" in html
        assert len(server.received) == 2
        remind = client.post(f"/correo/c/{mail_setup.slug}/confirmar",
                             data={"csrf_token": token, "kind": "reminder", "estado": "22", "idioma": ""})
        assert "Se enviará 1 recordatorio." in remind.get_data(as_text=True)
        listing = client.get(f"/correo/c/{mail_setup.slug}?estatus=failed").get_data(as_text=True)
        assert "Envío fallido" in listing and "Congreso de Jalisco" not in listing
        with app.app_context():
            uni = db.session.scalar(sa.select(Institution).where(Institution.key == "QRO-UNI"))
        log = client.get(f"/correo/c/{mail_setup.slug}/i/{uni.id}").get_data(as_text=True)
        assert "Envío fallido" in log and "Mailbox disabled" in log
        assert mail_setup.admin in log and "user:" not in log  # who sent it, by e-mail, not a code


def test_the_campaign_wording_is_checked_previewed_and_sent_in_the_chosen_language(app, client, mail_setup, smtp):
    login(client, mail_setup.analyst)
    url = f"/correo/c/{mail_setup.slug}/mensajes"
    token = csrf_token(client, url)
    bad = client.post(url, data={"csrf_token": token, "kind": "invitation", "lang": "es", "action": "save",
                                 "subject": "Hola {nombre}", "body": "Sin enlace para {institucion}"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "marcador desconocido {nombre}" in html and "falta {enlace}" in html
    assert "Sin enlace para {institucion}" in html  # what was typed is kept
    good = client.post(url, data={"csrf_token": token, "kind": "invitation", "lang": "es", "action": "save",
                                  "subject": "{campana}: cuestionario de {institucion}",
                                  "body": "Responda aquí: {enlace}\nPlazo: {fecha_limite}\n"})
    preview = good.get_data(as_text=True)
    assert good.status_code == 200 and "Esta campaña usa su propio texto." in preview
    assert "Prueba: cuestionario de Congreso de Jalisco" in preview  # the first institution
    english = client.get(url + "?mensaje=reminder&idioma=en").get_data(as_text=True)
    assert "Reminder: Prueba questionnaire pending" in english

    _send(app, mail_setup.slug, state="14", lang="es+en")
    (bilingual,) = smtp.received
    assert bilingual.message["Subject"] == ("Prueba: cuestionario de Congreso de Jalisco / "
                                            "Invitation to answer the Prueba questionnaire")
    assert "Plazo: sin fecha límite" in bilingual.body and "Deadline: no deadline" in bilingual.body
    assert bilingual.body.index("Responda aquí") < bilingual.body.index("Dear Ana Ruiz")


def test_the_pending_list_exports_labels_contacts_and_last_reminder(app, client, mail_setup, smtp):
    _send(app, mail_setup.slug)
    _answer_and_submit(app, mail_setup.slug, "ut@finanzas.example")
    _send(app, mail_setup.slug, "reminder")
    login(client, mail_setup.analyst)
    response = client.get(f"/correo/c/{mail_setup.slug}/pendientes.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:7] == ["Clave", "Institución", "Entidad", "Tipo", "Contacto", "Correo", "Estatus"]
    assert "Último recordatorio" in header
    by_email = {row[5]: dict(zip(header, row, strict=True)) for row in body}
    assert set(by_email) == {"enlace@congreso.example", "ut@uni.example", ""}  # the submitted one is not pending
    congreso = by_email["enlace@congreso.example"]
    assert (congreso["Entidad"], congreso["Tipo"], congreso["Contacto"]) == ("Jalisco", "Poder Legislativo", "Ana Ruiz")
    assert congreso["Estatus"] == "Invitación enviada" and congreso["Recordatorios"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", congreso["Último recordatorio"])
    assert by_email[""]["Estatus"] == "Sin enviar"
    assert by_email["ut@uni.example"]["Institución"].startswith("'=HYPERLINK")  # formula injection guard

    xlsx = client.get(f"/correo/c/{mail_setup.slug}/pendientes.xlsx?estado=14")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:7] == header[:7] and len(values) == 2
    assert values[1][1] == "Congreso de Jalisco" and values[1][6] == "Invitación enviada"

    english = client.get(f"/correo/c/{mail_setup.slug}/pendientes.csv?lang=en").get_data(as_text=True)
    assert english.lstrip("\ufeff").startswith("Key,Institution,State,Type,Contact,E-mail,Status")
    assert "Legislature" in english and "Invitation sent" in english


def test_the_cli_sends_invitations_then_reminders_by_state(app, runner, mail_setup, smtp):
    result = runner.invoke(args=["invitations", "send", "--campaign", mail_setup.slug, "--dry-run"])
    assert result.exit_code == 0 and "3 invitations would be sent, 1 skipped" in result.output
    result = runner.invoke(args=["invitations", "send", "--campaign", mail_setup.slug])
    assert result.exit_code == 0, result.output
    assert "3 sent via 127.0.0.1" in result.output and len(smtp.received) == 3
    link = urlsplit(LINK.search(smtp.received[0].body).group(0))
    assert link.netloc == "apertura.test"
    smtp.received.clear()
    result = runner.invoke(args=["invitations", "send", "--campaign", mail_setup.slug, "--remind", "--state", "14"])
    assert result.exit_code == 0, result.output
    assert [r.rcpt_tos for r in smtp.received] == [["enlace@congreso.example"]]
    assert smtp.received[0].message["Subject"].startswith("Recordatorio")
    result = runner.invoke(args=["invitations", "send", "--campaign", mail_setup.slug, "--remind", "--type", "nada"])
    assert result.exit_code == 0 and "0 sent" in result.output


def test_sending_is_refused_while_the_campaign_is_not_open(app, mail_setup, smtp):
    with app.app_context():
        campaigns.set_status(campaigns.get_by_slug(mail_setup.slug), "closed")
    with pytest.raises(ServiceError) as refused:
        _send(app, mail_setup.slug)
    assert refused.value.code == "campaign_not_open" and smtp.received == []


def test_a_contact_set_for_this_campaign_only_is_the_one_written_to(app, mail_setup, smtp):
    """An institution shared with another campaign keeps its own contact there; this campaign's
    roster entry carries the address to write to, and the greeting uses its contact name."""
    from diagnostic.models import Participation

    with app.app_context():
        campaign = campaigns.get_by_slug(mail_setup.slug)
        congreso = db.session.scalar(sa.select(Institution).where(Institution.key == "JAL-CON"))
        entry = db.session.scalar(sa.select(Participation).where(
            Participation.campaign_id == campaign.id, Participation.institution_id == congreso.id))
        entry.contact_name, entry.contact_email = "Luz Campos", "campana@congreso.example"
        db.session.commit()
    report = _send(app, mail_setup.slug, state="14")
    assert report.sent == 1
    (message,) = smtp.received
    assert message.rcpt_tos == ["campana@congreso.example"]  # not the institution's enlace@congreso.example
    assert "Estimado(a) Luz Campos" in message.body
    with app.app_context():
        (row,) = mailings.roster(campaigns.get_by_slug(mail_setup.slug), state="14")
        assert row.email == "campana@congreso.example"
