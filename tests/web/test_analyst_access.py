"""Authorisation matrix of the analyst area and the API: every route × anonymous, evaluator,
analyst and admin is allowed or refused as expected, and never a 500."""
from __future__ import annotations

import pytest

from tests.web.conftest import csrf_token, sign_in
from tests.web.test_second_verification import second_cases

ROLES = ("anonymous", "evaluator", "analyst", "admin")
SLUG = "metrica-prueba"


def web_cases(response_id: int) -> list[tuple[str, str, dict | None]]:
    """(method, url, form) of every analyst route."""
    base = f"/analyst/{SLUG}"
    rid = f"{base}/responses/{response_id}"
    return [
        ("GET", "/analyst/", None),
        ("GET", f"{base}/progress", None),
        ("GET", f"{base}/responses", None),
        ("GET", rid, None),
        ("POST", f"{rid}/verify", {"field": "ai_guide", "decision": "accept"}),
        ("POST", f"{rid}/verified", {}),
        ("POST", f"{rid}/accept-remaining", {}),
        ("POST", f"{base}/responses/bulk-accept", {"ids": str(response_id)}),
        ("GET", f"{base}/export/submissions.csv", None),
        ("GET", f"{base}/export/submissions.xlsx", None),
        ("GET", f"{base}/audit", None),
        ("POST", f"{rid}/reopen", {"reason": "prueba"}),
        ("POST", f"{rid}/evidence-check", {}),
        ("GET", f"{base}/scores", None),
        ("GET", f"{base}/export/scores-state-wide.csv", None),
        ("GET", f"{base}/export/codebook.csv", None),
        ("GET", f"{base}/export/scores-state.xlsx", None),
        ("GET", "/analyst/token", None),
        ("POST", "/analyst/token", {"action": "issue"}),
        ("GET", f"{base}/contests", None),
        ("POST", f"{base}/contests/999999", {"decision": "reject", "reason": "prueba"}),
    ]


# Staff answers other than 200 (GET) or a redirect (POST): a contest that does not exist.
STAFF_EXPECTED = {f"/analyst/{SLUG}/contests/999999": 404}


def api_cases(response_id: int) -> list[tuple[str, str, dict | None]]:
    """(method, url, json) of every API route that needs a token."""
    base = f"/api/v1/campaigns/{SLUG}"
    return [
        ("GET", "/api/v1/me", None),
        ("GET", "/api/v1/campaigns", None),
        ("GET", base, None),
        ("GET", f"{base}/institutions", None),
        ("GET", f"{base}/responses", None),
        ("POST", f"{base}/responses", {"responses": [{"institution": "ZZ", "answers": {}}]}),
        ("GET", f"{base}/responses/{response_id}", None),
        ("GET", f"{base}/scores", None),
        ("PUT", f"{base}/index-model", {"shipped": "apertura"}),
        ("POST", f"{base}/submissions", None),
    ]


# Routes for admins only, and what admins get (the scored campaign is open with its model fixed).
ADMIN_ONLY = {"PUT": 409}


@pytest.fixture
def world(app, scored):
    """The scored campaign and an API token per staff role."""
    from diagnostic.services import tokens

    with app.app_context():
        issued = {role: tokens.issue_for_email(f"{role}@example.org") for role in ("admin", "analyst", "evaluator")}
    return scored, issued


def _rule_of(app, method: str, url: str) -> str:
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(url.split("?")[0], method=method)
    return endpoint


def test_matrix_covers_every_route(app):
    covered = {_rule_of(app, m, u) for m, u, _ in web_cases(1) + api_cases(1)}
    covered.add("api.openapi")
    covered |= {_rule_of(app, m, u) for m, u, _f, _e in second_cases(1, 1)}  # their own matrix
    mine = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in ("analyst", "api")}
    assert mine == covered


@pytest.mark.parametrize("role", ROLES)
def test_web_routes(app, world, role):
    scored, _tokens = world
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, scored.users[role])
    token = csrf_token(client, "/" if role != "anonymous" else "/auth/login")
    for method, url, form in web_cases(scored.responses["Q1"]):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, **form})
        assert response.status_code != 500, (role, url)
        if role == "anonymous":
            assert response.status_code in (302, 401), (role, url, response.status_code)
            if response.status_code == 302:
                assert "/auth/login" in response.headers["Location"]
        elif role == "evaluator":
            assert response.status_code == 403, (role, url, response.status_code)
        else:
            expected = STAFF_EXPECTED.get(url, 200 if method == "GET" else (302, 200))
            assert response.status_code in ((expected,) if isinstance(expected, int) else expected), (
                role, url, response.status_code, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("role", ROLES)
def test_api_routes(app, world, role):
    scored, issued = world
    client = app.test_client()
    headers = {"Authorization": f"Bearer {issued[role]}"} if role != "anonymous" else {}
    for method, url, body in api_cases(scored.responses["Q1"]):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code != 500 and response.is_json, (role, url)
        expected = {"anonymous": 401, "evaluator": 403}.get(role, 422 if method == "POST" else 200)
        if method in ADMIN_ONLY and role in ("analyst", "admin"):
            expected = 403 if role == "analyst" else ADMIN_ONLY[method]
        assert response.status_code == expected, (role, url, response.status_code, response.get_json())
    assert client.get("/api/v1/openapi.json").status_code == 200


@pytest.mark.parametrize("role", ("analyst", "admin"))
def test_session_cookie_does_not_open_the_api(app, world, role):
    scored, _tokens = world
    client = app.test_client()
    sign_in(client, scored.users[role])
    assert client.get("/api/v1/campaigns").status_code == 401


def test_analyst_signs_in_to_the_analyst_area_and_finds_it_in_the_menu(client, app):
    from diagnostic.services import users
    from tests.web.conftest import login

    with app.app_context():
        users.create("analista@example.org", "Analista", "analyst", "contrasena-segura")
    landed = login(client, "analista@example.org", "contrasena-segura")
    assert landed.headers["Location"].endswith("/analyst/")
    page = client.get("/analyst/").get_data(as_text=True)
    assert 'href="/analyst/"' in page
