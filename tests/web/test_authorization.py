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


# ------------------------------------------------------------------ the state dimension
# Every route and API endpoint × role × scope: an analyst of the state that owns the object in
# the URL (Oaxaca), an analyst of another state (Jalisco), a national analyst, an admin, an
# evaluator and anonymous. Outside one's states is a 404 (the object is not even named); never a
# 500; and no body or export a Jalisco analyst receives holds an Oaxaca institution's name, key
# or e-mail. The routes come from app.url_map, so routes added later are covered too.
from tests.web.scoped import USERS, leaked, seed_scoped  # noqa: E402

SCOPE_ROLES = ("anonymous", "admin", "national", "oaxaca", "jalisco", "evaluator")
ANALYSTS = {"admin", "national", "oaxaca", "jalisco"}
STAFF_ONLY = {  # who may use an area (area → roles); areas not listed are held to 404 / no leak / no 500
    "admin": {"admin"},
    "evaluate": {"admin", "evaluator"},
    "analyst": ANALYSTS,
    "mailing": ANALYSTS,
}
ADMIN_ONLY_ENDPOINTS = {"mailing.outbox", "mailing.outbox_message", "mailing.outbox_raw"}
PUBLIC_AREAS = {"respond", "main", "auth"}
# Pages of the whole campaign (not of one state) before publishing: national staff only.
NATIONAL_RESULTS = {"reports.portal", "reports.national", "reports.national_pdf", "reports.open_data",
                    "reports.open_resource", "reports.open_xlsx", "reports.datapackage"}
STATE_RESULTS = {"reports.state_html", "reports.state_pdf"}
# The respondent's link is its own credential (whoever holds it answers for that institution),
# so the respondent area is left out of the "no Oaxaca data" check.
LEAK_EXEMPT_AREAS = {"respond"}


# URL arguments the fixture fills with real objects; any other argument (a contest, an evidence
# file added by another area) gets a placeholder, so only refusals, 500s and leaks are judged there.
KNOWN_ARGUMENTS = {"token", "slug", "institution_id", "response_id", "id", "code", "state", "by", "shape", "ext",
                   "level", "fmt", "format"}
OBJECT_ARGUMENTS = {"response_id", "id", "institution_id", "token"}
# Posts naming their object in the form (an empty post names none: 404 is the right answer).
FORM_OBJECT_ENDPOINTS = {"analyst.second_resolve"}
# Civil-society co-assessors (evaluator accounts) double-code the citizen evaluations shared with
# them on these analyst-area pages: their own list is theirs; anyone else's sample member is a 404.
COASSESSOR_LIST = {"analyst.coassessment"}
COASSESSOR_PAGES = {"analyst.second_review", "analyst.second_verdict", "analyst.second_accept_remaining"}


def scoped_url(rule, data, who: str = "OAX-TLACO-77") -> str:
    """A concrete URL for a rule, every object in it belonging to one institution (Oaxaca's by default)."""
    values = {"token": data.tokens[who], "slug": data.slug, "institution_id": data.institutions[who],
              "response_id": data.responses[who], "id": data.responses[who], "code": "20", "state": "20",
              "by": "institution", "shape": "wide", "ext": "csv", "level": "index", "fmt": "csv",
              "format": "csv", "name": "respuestas", "n": 0, "user_id": 1, "answer_id": 1, "field": "ai_unit"}
    url = rule.rule
    for argument in rule.arguments:
        value = values.get(argument, 1 if isinstance(rule._converters[argument], IntegerConverter) else "x")
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(argument) + r">", str(value), url)
    return url


def expected(rule, role: str) -> str:
    """`allow`, `refuse` (401/403 or the sign-in page), `hidden` (404) or `any` (only: no 500, no leak)."""
    area, endpoint = rule.endpoint.split(".")[0], rule.endpoint
    targets_object = bool(OBJECT_ARGUMENTS & set(rule.arguments))
    if endpoint in NATIONAL_RESULTS:
        return "allow" if role in ("admin", "national") else "hidden"
    if endpoint in STATE_RESULTS:
        return "allow" if role in ("admin", "national", "oaxaca") else "hidden"
    if area in PUBLIC_AREAS:
        return "any"
    if endpoint in COASSESSOR_LIST:
        return "refuse" if role == "anonymous" else "any"
    if endpoint in COASSESSOR_PAGES and role == "evaluator":
        return "hidden"
    allowed = {"admin"} if endpoint in ADMIN_ONLY_ENDPOINTS else STAFF_ONLY.get(area)
    if area == "api":
        if endpoint == "api.openapi":
            return "any"
        allowed = ANALYSTS
    if allowed is None:
        return "hidden" if role == "jalisco" and targets_object else "any"
    if role not in allowed:
        return "refuse"
    if set(rule.arguments) - KNOWN_ARGUMENTS or endpoint in FORM_OBJECT_ENDPOINTS:  # placeholder object: may not exist
        return "any"
    if role == "jalisco" and targets_object:
        return "hidden"
    return "allow"


def judge(rule, method: str, url: str, answers: dict[str, tuple[int, str]]) -> list[str]:
    """What is wrong with the answers of every role to one request (empty: as expected).

    A page for national staff only (a state account of either state refused with 403 while the
    national analyst is let in) is accepted: it cannot show another state's data."""
    national_only = (answers["oaxaca"][0] == answers["jalisco"][0] == 403
                     and answers["national"][0] not in (401, 403, 404))
    out = []
    for role, (status, location) in answers.items():
        want = expected(rule, role)
        where = f"{method} {url} as {role}: {status}"
        refused = status in (401, 403) or (status == 302 and "/auth/login" in location)
        if role in ("oaxaca", "jalisco") and national_only and want in ("allow", "hidden"):
            continue
        if want == "refuse" and not refused:
            out.append(f"{where}, expected a refusal")
        elif want == "refuse" and role != "anonymous" and status != 403:
            out.append(f"{where}, expected 403")
        elif want == "hidden" and status != 404:
            out.append(f"{where}, expected 404 (outside the account's states)")
        elif want == "allow" and (refused or status == 404):
            out.append(f"{where}, expected to be allowed")
    return out


@pytest.fixture
def scoped_clients(app):
    """The campaign and, per role, a signed-in client (anonymous: none) and an API token."""
    from diagnostic.services import tokens

    data = seed_scoped(app)
    clients, bearer = {"anonymous": app.test_client()}, {"anonymous": None}
    with app.app_context():
        for who, (email, _role, _states) in USERS.items():
            bearer[who] = tokens.issue_for_email(email)
    for who in USERS:
        client = app.test_client()
        login(client, USERS[who][0])
        clients[who] = client
    return data, clients, bearer


def test_every_route_for_every_role_and_state_scope(app, scoped_clients):
    data, clients, bearer = scoped_clients
    csrf = {role: csrf_token(client, "/" if role != "anonymous" else "/auth/login") for role, client in clients.items()}
    failures, checked, national_saw_oaxaca = [], 0, set()
    # the API first: POST /analyst/token later replaces each account's token
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (not r.rule.startswith("/api/"), r.rule)):
        if rule.endpoint in SKIP:
            continue
        area = rule.endpoint.split(".")[0]
        url = scoped_url(rule, data)
        for method in sorted(rule.methods & {"GET", "POST"}):
            answers = {}
            for role in SCOPE_ROLES:
                client = clients[role]
                headers = {"X-CSRFToken": csrf[role]}
                if area == "api" and bearer.get(role):
                    headers["Authorization"] = f"Bearer {bearer[role]}"
                if method == "GET":
                    response = client.get(url, headers=headers)
                else:
                    response = client.post(url, data={"csrf_token": csrf[role]}, headers=headers)
                checked += 1
                status, body = response.status_code, response.get_data()
                answers[role] = (status, response.headers.get("Location", ""))
                if status >= 500:
                    failures.append(f"{method} {url} as {role}: {status}")
                if role == "jalisco" and area not in LEAK_EXEMPT_AREAS:
                    found = leaked(body) if not body.startswith(b"%PDF") else []
                    if found:
                        failures.append(f"{method} {url} as jalisco: {status} shows Oaxaca's {found}")
                if role == "national" and leaked(body):
                    national_saw_oaxaca.add(rule.endpoint)
            failures.extend(judge(rule, method, url, answers))
    assert checked > 300
    assert not failures, "\n".join(failures)
    # the check can fail: the national analyst does see Oaxaca on the same pages
    assert {"analyst.responses", "analyst.progress", "analyst.response", "api.institutions"} <= national_saw_oaxaca


@pytest.mark.parametrize("query", [
    "/analyst/{slug}/responses?state=20", "/analyst/{slug}/progress?purpose=institution",
    "/analyst/{slug}/audit?institution={oax}", "/analyst/{slug}/scores?by=institution",
    "/analyst/{slug}/scores?by=state", "/analyst/{slug}/scores?by=institution&q=Consejo",
    "/analyst/{slug}/export/submissions.csv", "/analyst/{slug}/export/submissions.xlsx",
    "/analyst/{slug}/export/submissions.xlsx?state=20",
    "/analyst/{slug}/export/scores-institution-wide.csv", "/analyst/{slug}/export/scores-institution-long.csv",
    "/analyst/{slug}/export/scores-state-wide.csv", "/analyst/{slug}/export/scores-institution.xlsx",
    "/analyst/{slug}/export/scores-state.xlsx", "/correo/c/{slug}", "/correo/c/{slug}?estado=20",
    "/correo/c/{slug}/pendientes.csv", "/correo/c/{slug}/pendientes.xlsx", "/correo/c/{slug}/mensajes",
    "/resultados/{slug}/jalisco", "/analyst/", "/",
])
def test_filters_and_exports_never_show_another_states_institutions(app, scoped_clients, query):
    data, clients, _bearer = scoped_clients
    url = query.format(slug=data.slug, oax=data.institutions["OAX-TLACO-77"])
    own = clients["jalisco"].get(url)
    assert own.status_code == 200, (url, own.status_code)
    assert leaked(own.get_data()) == [], url
    if "Consejo" in query or "state=20" in query or "estado=20" in query or "institution=" in query:
        return
    if url.startswith(("/analyst/" + data.slug, "/correo/c/" + data.slug + "?", "/correo/c/" + data.slug + "/p")) \
            and "scores-state" not in url and "by=state" not in url:
        assert leaked(own.get_data(), ("JAL-HAC-1", "Hacienda de Jalisco", "Zapopan")) or "progress" in url \
            or "audit" in url, f"{url}: the Jalisco analyst should see Jalisco's institutions"
        assert leaked(clients["national"].get(url).get_data()), f"{url}: the national analyst sees Oaxaca"


@pytest.mark.parametrize("path", [
    "/api/v1/campaigns/{slug}/institutions", "/api/v1/campaigns/{slug}/institutions?state=20",
    "/api/v1/campaigns/{slug}/responses", "/api/v1/campaigns/{slug}/scores?by=institution",
    "/api/v1/campaigns/{slug}/scores?by=state", "/api/v1/campaigns/{slug}",
])
def test_api_lists_only_the_tokens_states(app, scoped_clients, path):
    data, _clients, bearer = scoped_clients
    url = path.format(slug=data.slug)
    mine = app.test_client().get(url, headers={"Authorization": f"Bearer {bearer['jalisco']}"})
    assert mine.status_code == 200 and leaked(mine.get_data()) == []
    everyone = app.test_client().get(url, headers={"Authorization": f"Bearer {bearer['national']}"})
    assert everyone.status_code == 200
    if "institutions" in url or "responses" in url:
        assert everyone.get_json()["total"] > mine.get_json()["total"]
    if path.endswith("{slug}"):  # progress counts are the scope's
        assert mine.get_json()["progress"]["institutions"] == 2
        assert everyone.get_json()["progress"]["institutions"] == 4


def test_api_writes_refuse_another_states_institution(app, scoped_clients):
    data, _clients, bearer = scoped_clients
    headers = {"Authorization": f"Bearer {bearer['jalisco']}"}
    client = app.test_client()
    assert client.get(f"/api/v1/campaigns/{data.slug}/responses/{data.responses['OAX-TLACO-77']}",
                      headers=headers).status_code == 404
    assert client.get(f"/api/v1/campaigns/{data.slug}/responses/{data.responses['JAL-HAC-1']}",
                      headers=headers).status_code == 200
    body = {"responses": [{"institution": "OAX-MITLA-78", "answers": {"ai_unit": "no"}}]}
    refused = client.post(f"/api/v1/campaigns/{data.slug}/responses", json=body, headers=headers)
    assert refused.status_code == 422
    unknown = client.post(f"/api/v1/campaigns/{data.slug}/responses", headers=headers,
                          json={"responses": [{"institution": "NO-EXISTE", "answers": {"ai_unit": "no"}}]})
    assert [d["message_en"] for d in refused.get_json()["details"]] == ["Institution not in the campaign: OAX-MITLA-78"]
    assert unknown.get_json()["details"][0]["message_en"] == "Institution not in the campaign: NO-EXISTE"
    assert leaked(refused.get_data(), ("Mitla Abierta",)) == []
    import io

    kobo = b"institution,_uuid,ai_unit\nOAX-MITLA-78,uuid-1,no\n"
    preview = client.post(f"/api/v1/campaigns/{data.slug}/submissions?dry_run=1", headers=headers,
                          data={"file": (io.BytesIO(kobo), "kobo.csv")}, content_type="multipart/form-data")
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert "institution not in the campaign: OAX-MITLA-78" in preview.get_data(as_text=True)
    national = client.post(f"/api/v1/campaigns/{data.slug}/submissions?dry_run=1",
                           headers={"Authorization": f"Bearer {bearer['national']}"},
                           data={"file": (io.BytesIO(kobo), "kobo.csv")}, content_type="multipart/form-data")
    assert "not in the campaign" not in national.get_data(as_text=True)
    with app.app_context():
        from diagnostic.models import Response
        assert db.session.scalar(sa.select(sa.func.count(Response.id)).where(
            Response.institution_id == data.institutions["OAX-MITLA-78"])) == 0
