"""Authorisation matrix: every route × every role and anonymous — allowed or refused, never a 500."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from diagnostic.extensions import db
from diagnostic.models import Response
from tests.web.conftest import csrf_token, login

ROLES = ("anonymous", "admin", "analyst", "evaluator")
# Who may use each of this area's blueprints (the analyst and API areas are only held to "never a 500").
ALLOWED = {
    "admin": {"admin"},
    "evaluate": {"admin", "evaluator"},
    "respond": set(ROLES),
    "main": set(ROLES),
    "auth": set(ROLES),
}
SKIP = {"static", "auth.logout"}


def url_for_rule(rule, setup, response_id: int) -> str:
    """A concrete URL for a rule, filling its arguments with the fixture's real objects."""
    values = {"token": setup.token, "slug": setup.slug, "institution_id": setup.institution_id, "n": 0,
              "response_id": response_id, "id": response_id, "code": "22", "state": "22", "level": "index",
              "fmt": "csv", "format": "csv", "user_id": 1, "answer_id": 1, "field": "has_unit", "name": "x"}
    url = rule.rule
    for argument in rule.arguments:
        value = values.get(argument, 1 if isinstance(rule._converters[argument], IntegerConverter) else "x")
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(argument) + r">", str(value), url)
    return url


@pytest.fixture
def clients(app, setup):
    """A signed-in client per role, plus an anonymous one."""
    out = {"anonymous": app.test_client()}
    for role, email in (("admin", setup.admin), ("analyst", setup.analyst), ("evaluator", setup.evaluator)):
        client = app.test_client()
        login(client, email)
        out[role] = client
    return out


def test_every_route_for_every_role(app, setup, clients):
    # the respondent's first save creates the draft response (opening the link stores nothing)
    clients["anonymous"].post(f"/r/{setup.token}/autosave", json={"answers": {"received": "1"}})
    with app.app_context():
        response_id = db.session.scalar(sa.select(Response.id))
    tokens = {role: csrf_token(client, "/" if role != "anonymous" else "/auth/login") for role, client in clients.items()}
    checked = 0
    failures = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIP:
            continue
        area = rule.endpoint.split(".")[0]
        url = url_for_rule(rule, setup, response_id)
        for method in sorted(rule.methods & {"GET", "POST"}):
            for role in ROLES:
                client = clients[role]
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.post(url, data={"csrf_token": tokens[role]},
                                           headers={"X-CSRFToken": tokens[role]})
                checked += 1
                status = response.status_code
                if status >= 500:
                    failures.append(f"{method} {url} as {role}: {status}")
                    continue
                if area not in ALLOWED:
                    continue
                refused = status in (401, 403) or (status == 302 and "/auth/login" in response.headers["Location"])
                allowed = role in ALLOWED[area]
                if allowed and refused:
                    failures.append(f"{method} {url} as {role}: refused ({status}) but should be allowed")
                if not allowed and not refused:
                    failures.append(f"{method} {url} as {role}: allowed ({status}) but should be refused")
                if not allowed and role != "anonymous" and status != 403:
                    failures.append(f"{method} {url} as {role}: {status}, expected 403")
    assert checked > 100
    assert not failures, "\n".join(failures)


def test_logout_needs_a_post_with_a_csrf_token(app, setup, clients):
    client = clients["admin"]
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    assert client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/admin/")}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_login_redirect_refuses_other_sites(app, setup):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/auth/login?next=https://evil.example/", data={"email": setup.admin,
                                                                          "password": setup.password,
                                                                          "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
