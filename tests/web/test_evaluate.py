"""Evaluators: sign in, see their institutions, fill the citizen-side evaluation with the same guarantees."""
from __future__ import annotations

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import Response, ResponseStatus
from tests.web.conftest import csrf_token, login


def base(setup, institution_id=None) -> str:
    return f"/evaluate/{setup.slug}/{institution_id or setup.institution_id}"


def test_login_lands_on_the_assigned_institutions(app, setup):
    client = app.test_client()
    response = login(client, setup.evaluator)
    assert response.headers["Location"].endswith("/evaluate/")
    html = client.get("/evaluate/").get_data(as_text=True)
    assert "Secretaría de Finanzas" in html
    assert "Municipio de Corregidora" not in html
    assert "Sin iniciar" in html


def test_wrong_password_is_refused_without_detail(app, setup):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/auth/login", data={"email": setup.evaluator, "password": "nope nope", "csrf_token": token})
    assert response.status_code == 422
    assert "Correo o contraseña incorrectos" in response.get_data(as_text=True)


def test_evaluator_fills_submits_and_gets_a_receipt(app, setup):
    client = app.test_client()
    login(client, setup.evaluator)
    url = base(setup)
    assert "Comenzar" in client.get(url).get_data(as_text=True)
    token = csrf_token(client, f"{url}/p/0")
    data = {"csrf_token": token, "action": "next", "has_unit": "no", "_shown": "has_unit channels"}
    assert client.post(f"{url}/p/0", data=data).status_code == 302
    saved = client.post(f"{url}/autosave", json={"answers": {"received": "3", "answered": "1"}},
                        headers={"X-CSRFToken": token})
    assert saved.status_code == 200 and saved.get_json()["saved"] == 2
    client.post(f"{url}/p/2", data={"csrf_token": token, "action": "next", "examples[0].topic": "Compras"})
    submitted = client.post(f"{url}/submit", data={"csrf_token": token})
    assert submitted.status_code == 302 and submitted.headers["Location"].endswith("/receipt")
    assert "sha256:" in client.get(f"{url}/receipt").get_data(as_text=True)
    with app.app_context():
        response = db.session.scalar(sa.select(Response))
        assert response.status == ResponseStatus.SUBMITTED and response.evaluator_id is not None
    assert "Enviada" in client.get("/evaluate/").get_data(as_text=True)


def test_evaluation_draft_survives_signing_out_and_in(app, setup):
    client = app.test_client()
    login(client, setup.evaluator)
    token = csrf_token(client, f"{base(setup)}/p/1")
    client.post(f"{base(setup)}/autosave", json={"answers": {"received": "8"}}, headers={"X-CSRFToken": token})
    client.post("/auth/logout", data={"csrf_token": token})
    again = app.test_client()
    login(again, setup.evaluator)
    assert 'value="8"' in again.get(f"{base(setup)}/p/1").get_data(as_text=True)


def test_other_evaluators_cannot_open_an_assignment_that_is_not_theirs(app, setup):
    client = app.test_client()
    login(client, setup.other_evaluator)
    assert client.get(base(setup)).status_code == 404
    token = csrf_token(client, "/evaluate/")
    refused = client.post(f"{base(setup)}/autosave", json={"answers": {"received": "1"}}, headers={"X-CSRFToken": token})
    assert refused.status_code == 404 and refused.is_json
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 0


def test_anonymous_users_are_sent_to_the_login_page(client, setup):
    response = client.get(base(setup))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_autosave_after_the_evaluator_session_ends_is_a_json_401(app, setup):
    client = app.test_client()
    response = client.post(f"{base(setup)}/autosave", json={"answers": {"received": "1"}})
    assert response.status_code == 401 and response.get_json()["error"] == "login"


def test_a_page_posted_after_the_sign_in_expired_is_saved_after_signing_in_again(app, setup):
    import re

    def stored() -> dict:
        from diagnostic.models import Answer

        with app.app_context():
            return dict(db.session.execute(sa.select(Answer.field, Answer.value)).all())

    client = app.test_client()
    login(client, setup.evaluator)
    token = csrf_token(client, f"{base(setup)}/p/1")
    client.delete_cookie("session")  # the sign-in expired while the evaluator was typing (no JavaScript)
    typed = {"csrf_token": token, "action": "next", "received": "14", "answered": "9"}
    held = client.post(f"{base(setup)}/p/1", data=typed)
    assert held.status_code == 401
    html = held.get_data(as_text=True)
    assert "Su sesión expiró" in html and 'name="_carry-received" value="14"' in html
    assert 'name="_carry-csrf_token"' not in html  # the stale token is dropped
    assert stored() == {}  # nothing saved before signing in again
    action = re.search(r'<form method="post" novalidate action="([^"]+)"', html).group(1).replace("&amp;", "&")
    wrong = client.post(action, data={"email": setup.evaluator, "password": "nope nope", "csrf_token": csrf_token(client),
                                      "_carry-received": "14", "_carry-answered": "9", "_carry-action": "next"})
    assert wrong.status_code == 422 and 'name="_carry-received" value="14"' in wrong.get_data(as_text=True)
    signed_in = client.post(action, data={"email": setup.evaluator, "password": setup.password,
                                          "csrf_token": csrf_token(client), "_carry-received": "14",
                                          "_carry-answered": "9", "_carry-action": "next"})
    assert signed_in.status_code == 200
    page = signed_in.get_data(as_text=True)
    assert f'action="{base(setup)}/p/1"' in page and 'name="received" value="14"' in page
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    saved = client.post(f"{base(setup)}/p/1", data={"csrf_token": fresh, "action": "next", "received": "14", "answered": "9"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/p/2")
    assert stored() == {"received": "14", "answered": "9"}


def test_a_form_another_site_posts_is_never_carried_through_the_sign_in(app, setup):
    client = app.test_client()
    planted = client.post(f"{base(setup)}/p/1", data={"action": "next", "received": "99"},
                          headers={"Sec-Fetch-Site": "cross-site"})
    assert planted.status_code == 302 and "/auth/login" in planted.headers["Location"]
    assert "_carry-" not in client.get(planted.headers["Location"]).get_data(as_text=True)
