"""Accounts, sessions, limits and input at the edge, as an attacker would probe them."""
from __future__ import annotations

import logging
import re
import statistics
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from diagnostic import create_app, database
from diagnostic.config import SHIPPED_SECRET_KEY, ConfigError
from diagnostic.extensions import db
from tests.web.conftest import csrf_token, login

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _app(tmp_path, **config):
    """An app on its own SQLite file with rate limits on, counted in a file under tmp_path."""
    url = f"sqlite:///{tmp_path / 'sec.sqlite3'}"
    database.upgrade(url)
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url,
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "RATELIMIT_STORAGE_URI": f"db+sqlite:///{tmp_path / 'limits.sqlite3'}", **config},
                      instance_path=str(tmp_path / "instance"))


def _user(app, email="admin@example.org", role="admin", password="correct horse"):
    from diagnostic.services import users

    with app.app_context():
        users.create(email, "Persona", role, password)


def _post_login(client, email, password):
    return client.post("/auth/login", data={"email": email, "password": password,
                                            "csrf_token": csrf_token(client)})


# ------------------------------------------------------------------ SECRET_KEY
def test_shipped_secret_key_refused_on_a_server_install(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": "postgresql://apertura@/apertura"}, instance_path=str(tmp_path))
    with pytest.raises(ConfigError):
        create_app({"DATABASE_URL": "postgresql://apertura@/apertura", "SECRET_KEY": ""},
                   instance_path=str(tmp_path))


def test_embedded_install_generates_a_random_key_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    first = create_app({"DATABASE_URL": url}, instance_path=str(tmp_path / "inst"))
    second = create_app({"DATABASE_URL": url}, instance_path=str(tmp_path / "inst"))
    key = first.config["SECRET_KEY"]
    assert key != SHIPPED_SECRET_KEY and len(key) >= 64
    assert second.config["SECRET_KEY"] == key  # every worker and restart signs with the same key
    assert (tmp_path / "inst" / "secret_key").stat().st_mode & 0o077 == 0


def test_cookie_forged_with_the_shipped_key_opens_nothing(tmp_path):
    from flask.sessions import SecureCookieSessionInterface

    app = _app(tmp_path, TESTING=False, DATABASE_URL=f"sqlite:///{tmp_path / 'f.sqlite3'}", SECRET_KEY="")
    database.upgrade(app.config["DATABASE_URL"])
    _user(app)
    forger = create_app({"TESTING": True, "SECRET_KEY": SHIPPED_SECRET_KEY,
                         "DATABASE_URL": app.config["DATABASE_URL"]}, instance_path=str(tmp_path / "x"))
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    client = app.test_client()
    client.set_cookie("session", serializer.dumps({"_user_id": "1.0.x", "_fresh": True}))
    assert client.get("/admin/").status_code == 302  # to the sign-in page


# ------------------------------------------------------------------ sessions
def test_logout_revokes_a_copied_session_cookie(app, setup):
    client = app.test_client()
    login(client, setup.admin)
    stolen = client.get_cookie("session").value
    assert client.get("/admin/").status_code == 200
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/admin/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_remember_cookie_is_new_at_every_sign_in_and_dies_at_logout(app, setup):
    cookies = []
    for _ in range(2):
        client = app.test_client()
        client.post("/auth/login", data={"email": setup.admin, "password": setup.password, "remember": "y",
                                         "csrf_token": csrf_token(client)})
        cookies.append(client.get_cookie("remember_token").value)
    assert cookies[0] != cookies[1]
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    for cookie in cookies:
        other = app.test_client()
        other.set_cookie("remember_token", cookie)
        assert other.get("/admin/").status_code == 302


def test_session_cookie_flags_and_lifetime(tmp_path):
    app = _app(tmp_path, PUBLIC_URL="https://apertura.example.org", SESSION_LIFETIME_MINUTES=30)
    _user(app)
    client = app.test_client()
    response = _post_login(client, "admin@example.org", "correct horse")
    header = response.headers.get("Set-Cookie")
    assert "Secure" in header and "SameSite=Lax" in header and "HttpOnly" in header
    assert app.permanent_session_lifetime.total_seconds() == 1800
    assert "max-age=" in client.get("/").headers["Strict-Transport-Security"]


def test_deactivated_account_loses_its_open_session(app, setup, runner):
    client = app.test_client()
    login(client, setup.analyst)
    assert client.get("/analyst/").status_code == 200
    result = runner.invoke(args=["users", "deactivate", setup.analyst])
    assert result.exit_code == 0, result.output
    assert client.get("/analyst/").status_code == 302
    assert _post_login(app.test_client(), setup.analyst, setup.password).status_code == 422


# ------------------------------------------------------------------ sign-in
def test_unknown_email_costs_a_password_hash_like_a_known_one(tmp_path):
    """Timing of the two paths over a bounded number of tries, with generous tolerance: before,
    an unknown e-mail answered ~15x faster than a known one (the account list leaked)."""
    app = _app(tmp_path, PASSWORD_HASH_METHOD="pbkdf2:sha256:150000", RATELIMIT_ENABLED=False)
    _user(app)
    client = app.test_client()
    token = csrf_token(client)

    def timed(email: str) -> float:
        start = time.perf_counter()
        response = client.post("/auth/login", data={"email": email, "password": "wrong password",
                                                    "csrf_token": token})
        assert response.status_code == 422
        return time.perf_counter() - start

    timed("admin@example.org")
    timed("nobody@example.org")  # warm: the dummy hash is made once per process
    known = statistics.median(timed("admin@example.org") for _ in range(7))
    unknown = statistics.median(timed("nobody@example.org") for _ in range(7))
    assert unknown > 0.5 * known, (known, unknown)


def test_sign_in_failures_are_limited_per_account_and_per_address(tmp_path):
    app = _app(tmp_path, RATELIMIT_LOGIN_ACCOUNT="3 per hour", RATELIMIT_LOGIN_ADDRESS="5 per hour")
    _user(app)
    _user(app, "other@example.org")
    client = app.test_client()
    for _ in range(3):
        assert _post_login(client, "admin@example.org", "wrong").status_code == 422
    blocked = _post_login(client, "admin@example.org", "correct horse")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    # another account from the same address still gets its tries, until the address is spent
    assert _post_login(client, "other@example.org", "wrong").status_code == 422
    assert _post_login(client, "nobody@example.org", "wrong").status_code == 422
    assert _post_login(client, "other@example.org", "correct horse").status_code == 429
    # successes never count: a fresh address signs in as often as it likes
    fresh = app.test_client()
    for _ in range(4):
        response = fresh.post("/auth/login", environ_base={"REMOTE_ADDR": "10.0.0.9"}, data={
            "email": "other@example.org", "password": "correct horse", "csrf_token": csrf_token(fresh)})
        assert response.status_code == 302
        fresh.post("/auth/logout", data={"csrf_token": csrf_token(fresh, "/admin/")})


def test_invitation_link_failures_are_limited_per_address(tmp_path):
    app = _app(tmp_path, RATELIMIT_INVITATION_FAILURES="4 per hour")
    client = app.test_client()
    for i in range(4):
        assert client.get(f"/r/not-a-token-{i:04d}").status_code == 404
    assert client.get("/r/not-a-token-9999").status_code == 429
    assert app.test_client().get("/r/not-a-token-0000", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 404


def test_respondents_correcting_answers_are_never_limited(tmp_path):
    from diagnostic.models import InstrumentPurpose
    from diagnostic.services import campaigns, institutions, instruments, invitations
    from tests.web.conftest import INSTRUMENT

    app = _app(tmp_path, RATELIMIT_INVITATION_FAILURES="3 per hour")
    with app.app_context():
        campaign = campaigns.create("Prueba", 2025, slug="prueba")
        campaigns.set_instrument(campaign, InstrumentPurpose.INSTITUTION,
                                 instruments.store(INSTRUMENT.encode(), "prueba.yaml"))
        report = institutions.import_file("nombre,estado,orden,tipo\nSecretaría,22,estatal,ejecutivo\n".encode(),
                                          "i.csv", campaign=campaign)
        campaigns.set_status(campaign, "open")
        token = invitations.create(campaign, report.institutions[0])
    client = app.test_client()
    statuses = {client.post(f"/r/{token}/p/1", data={"_shown": "received answered", "received": "5",
                                                       "answered": "9", "action": "next"}).status_code
                for _ in range(6)}
    assert 429 not in statuses and statuses <= {200, 422}, statuses
    assert client.get(f"/r/{token}/p/0").status_code == 200


def test_rate_limit_storage_is_shared_by_processes(tmp_path):
    """Two processes (like two gunicorn workers) hitting one key lose no hit."""
    import multiprocessing

    from diagnostic.ratelimit import SQLStorage

    uri = f"db+sqlite:///{tmp_path / 'shared.sqlite3'}"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_hit, args=(uri, 150)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    storage = SQLStorage(uri)
    assert storage.get("shared-key") == 450
    assert storage.get_expiry("shared-key") > time.time()
    storage.clear("shared-key")
    assert storage.get("shared-key") == 0
    storage.incr("ended", 0)  # a window that is already over: not counted, and purged
    assert storage.get("ended") == 0 and storage.purge_expired() == 1


def _hit(uri: str, n: int) -> None:
    from diagnostic.ratelimit import SQLStorage

    storage = SQLStorage(uri)
    for _ in range(n):
        storage.incr("shared-key", 3600)


def test_pdf_requests_are_limited_per_address(tmp_path):
    app = _app(tmp_path, RATELIMIT_PDF="2 per minute")
    client = app.test_client()
    codes = [client.get("/resultados/no-such/09.pdf").status_code for _ in range(3)]
    assert codes == [404, 404, 429]


# ------------------------------------------------------------------ headers and templates
def test_content_security_policy_forbids_inline_script(app, setup):
    response = app.test_client().get(f"/r/{setup.token}/p/0")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy


def test_no_template_has_inline_script():
    """Every <script> loads a file or is a JSON data block (not executed); no on* handlers."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path.name}: {tag}")
        offenders += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=\s*[\"']", text)]
    assert offenders == []


# ------------------------------------------------------------------ tokens in logs
def test_respondent_token_never_reaches_the_log(app, setup, caplog):
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        client.get(f"/r/{setup.token}/p/99")  # a refusal: logged with its path
        client.get(f"/r/{setup.token}/nowhere")
        logging.getLogger("test").warning("GET /r/%s/p/0 took long", setup.token)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/r/[token]" in text
    assert setup.token not in text


# ------------------------------------------------------------------ bad input at the edge
def test_nul_byte_in_login_is_a_clear_400_naming_the_field(app, setup):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": "admin@example.org\x00", "password": "x",
                                                 "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert "email" in response.get_data(as_text=True)


def test_over_long_login_values_are_refused_with_the_field(app, setup):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": "a" * 5000 + "@example.org", "password": "x",
                                                 "csrf_token": csrf_token(client)})
    assert response.status_code == 422
    assert "200" in response.get_data(as_text=True)


def test_nul_byte_in_the_api_is_a_clear_400_naming_the_path(app, setup, runner):
    token = runner.invoke(args=["api", "token", setup.analyst]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    body = {"responses": [{"institution": "x", "answers": {"has_unit": "ye\x00s"}}]}
    response = client.post(f"/api/v1/campaigns/{setup.slug}/responses", json=body, headers=headers)
    assert response.status_code == 422  # the bulk submission lists every error, each with its path
    assert any(d["path"].startswith("responses[0]") for d in response.get_json()["details"])
    # (a NUL inside a real institution's answers is refused by path: test_api's edge-values test)
    response = client.put(f"/api/v1/campaigns/{setup.slug}/index-model", json={"shipped": "aper\x00tura"},
                          headers=headers)
    assert response.status_code == 400 and "shipped" in response.get_json()["message"]
    response = client.get(f"/api/v1/campaigns/{setup.slug}/institutions?state=0\x009", headers=headers)
    assert response.status_code == 400 and "state" in response.get_json()["message"]


def test_ids_beyond_the_integer_range_are_not_found(app, setup, runner):
    token = runner.invoke(args=["api", "token", setup.analyst]).output.strip()
    client = app.test_client()
    huge = "99999999999999999999"
    response = client.get(f"/api/v1/campaigns/{setup.slug}/responses/{huge}",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    assert client.get(f"/r/{setup.token}/p/{huge}").status_code == 404
    login(client, setup.analyst)
    assert client.get(f"/analyst/{setup.slug}/responses/{2**31}").status_code == 404
    response = client.get(f"/api/v1/campaigns?page={huge}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400


def test_nul_byte_in_a_csv_import_names_row_and_column(app, setup):
    from diagnostic.services import institutions

    good = "".join(f"Municipio número {i},Querétaro,municipal,municipio,\n" for i in range(120))
    csv = ("nombre,estado,orden,tipo,contacto\n" + good
           + "Secretar\x00ía de Salud,Querétaro,estatal,ejecutivo,\n"
           + "Secretaría de Cultura,Querétaro,estatal,ejecutivo," + "x" * 300 + "\n").encode()
    with app.app_context(), pytest.raises(institutions.ImportRejected) as exc:
        institutions.import_file(csv, "inst.csv")
    text = [str(e) for e in exc.value.errors]
    assert text == ["fila 122: Nombre: contiene un carácter no permitido (NUL)",
                    "fila 123: Contacto: más de 200 caracteres"]


# ------------------------------------------------------------------ exports and personal data
def test_admin_invitations_csv_is_formula_safe(app, setup):
    from diagnostic.models import Institution

    with app.app_context():
        institution = db.session.get(Institution, setup.other_institution_id)
        institution.name = '=HYPERLINK("http://evil.example","x")'
        db.session.commit()
    client = app.test_client()
    login(client, setup.admin)
    response = client.post(f"/admin/c/{setup.slug}/invitations",
                           data={"csrf_token": csrf_token(client, "/admin/")})
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:300]
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body


def test_contact_erased_on_request_keeps_that_in_the_audit_log(app, setup, runner):
    from diagnostic.models import AuditEvent, Institution

    with app.app_context():
        key = db.session.get(Institution, setup.institution_id).key
    result = runner.invoke(args=["privacy", "erase-contact", key, "--reason", "solicitud ARCO 12"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        institution = db.session.get(Institution, setup.institution_id)
        assert institution.contact_email is None and institution.contact_name is None
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "erase_personal_data"))
        assert event.entity_id == institution.id and event.reason == "solicitud ARCO 12"
        assert event.old_value is None and event.new_value is None
        values = " ".join(str(v) for e in db.session.scalars(sa.select(AuditEvent))
                          for v in (e.old_value, e.new_value, e.reason))
        assert "ut@finanzas.example" not in values


def test_retention_period_erases_contacts_after_the_campaign_closed(app, setup, runner):
    from datetime import timedelta

    from diagnostic.models import Campaign, Institution, utcnow

    assert runner.invoke(args=["privacy", "retention", "--campaign", setup.slug, "30"]).exit_code == 0
    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == setup.slug))
        campaign.closes_at = utcnow() - timedelta(days=10)
        db.session.commit()
    result = runner.invoke(args=["privacy", "apply"])
    assert "erased 0 contacts" in result.output
    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == setup.slug))
        campaign.closes_at = utcnow() - timedelta(days=31)
        db.session.commit()
    result = runner.invoke(args=["privacy", "apply"])
    assert "erased 1 contacts" in result.output, result.output
    with app.app_context():
        assert db.session.get(Institution, setup.institution_id).contact_email is None
