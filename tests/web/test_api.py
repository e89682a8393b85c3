"""JSON API v1: token authentication, roles, pagination, reads, bulk submission, JSON errors,
and the OpenAPI document covering exactly the blueprint's routes."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.web.conftest import open_answers, sign_in

API = "/api/v1"



@pytest.fixture
def tokens(app, scored) -> dict[str, str]:
    """A token per role (issued through the CLI command's service)."""
    from diagnostic.services import tokens as service

    with app.app_context():
        return {role: service.issue_for_email(f"{role}@example.org") for role in ("admin", "analyst", "evaluator")}


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def test_missing_and_bad_tokens_are_401_wrong_role_403(client, tokens):
    for headers in ({}, {"Authorization": "Basic abc"}, bearer("apt_nope"), bearer("x" * 500), {"Authorization": "Bearer "}):
        response = client.get(f"{API}/campaigns", headers=headers)
        assert response.status_code == 401 and response.is_json
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["error"] == 401
    response = client.get(f"{API}/campaigns", headers=bearer(tokens["evaluator"]))
    assert response.status_code == 403 and response.is_json
    me = client.get(f"{API}/me", headers=bearer(tokens["analyst"])).get_json()
    assert me == {"email": "analyst@example.org", "name": "Analyst", "role": "analyst"}


def test_token_is_stored_hashed_and_replaced(app, client, tokens, runner):
    from diagnostic.extensions import db
    from diagnostic.models import ApiToken

    with app.app_context():
        stored = [t.token_hash for t in db.session.query(ApiToken).all()]
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in stored) and tokens["admin"] not in stored
    result = runner.invoke(args=["api", "token", "admin@example.org"])
    assert result.exit_code == 0 and result.output.strip().startswith("apt_")
    assert client.get(f"{API}/me", headers=bearer(tokens["admin"])).status_code == 401
    assert client.get(f"{API}/me", headers=bearer(result.output.strip())).status_code == 200
    assert runner.invoke(args=["api", "token", "nadie@example.org"]).exit_code == 1


def test_token_page_creates_shows_once_and_revokes(client, scored):
    from tests.web.conftest import csrf_token

    sign_in(client, scored.users["analyst"])
    html = client.post("/analyst/token", data={"csrf_token": csrf_token(client, "/analyst/token"),
                                               "action": "issue"}).get_data(as_text=True)
    token = re.search(r'<code id="token" class="fingerprint">(apt_[^<]+)</code>', html).group(1)
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 200
    assert token not in client.get("/analyst/token").get_data(as_text=True)
    client.post("/analyst/token", data={"csrf_token": csrf_token(client, "/analyst/token"), "action": "revoke"})
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 401


def test_reads_and_pagination(client, scored, tokens):
    headers = bearer(tokens["analyst"])
    campaigns = client.get(f"{API}/campaigns", headers=headers).get_json()
    assert campaigns["total"] == 1 and campaigns["items"][0]["slug"] == scored.slug
    assert campaigns["items"][0]["index_model"]["id"] == "apertura"
    detail = client.get(f"{API}/campaigns/{scored.slug}", headers=headers).get_json()
    assert detail["progress"]["responses"]["institution"]["submitted"] == 3

    seen = []
    for page in (1, 2, 3):
        body = client.get(f"{API}/campaigns/{scored.slug}/institutions?per_page=2&page={page}", headers=headers).get_json()
        assert body["total"] == 5 and body["pages"] == 3 and body["page"] == page
        seen += [i["key"] for i in body["items"]]
    assert sorted(seen) == ["C1", "J1", "J2", "Q1", "Q2"] and len(set(seen)) == 5
    assert client.get(f"{API}/campaigns/{scored.slug}/institutions?page=9", headers=headers).get_json()["items"] == []
    only = client.get(f"{API}/campaigns/{scored.slug}/institutions?state=22", headers=headers).get_json()
    assert {i["key"] for i in only["items"]} == {"Q1", "Q2"}
    for bad in ("page=0", "per_page=1000", "page=x"):
        response = client.get(f"{API}/campaigns?{bad}", headers=headers)
        assert response.status_code == 400 and response.is_json

    listed = client.get(f"{API}/campaigns/{scored.slug}/responses?status=submitted", headers=headers).get_json()
    assert {r["institution"] for r in listed["items"]} == {"Q1", "Q2", "J1"}
    assert "answers" not in listed["items"][0]
    one = client.get(f"{API}/campaigns/{scored.slug}/responses/{scored.responses['Q1']}", headers=headers).get_json()
    assert {"field": "ai_unit", "repeat_index": None, "value": "yes", "verified_value": None,
            "verification": None, "reason": None} in one["answers"]
    assert client.get(f"{API}/campaigns/{scored.slug}/responses?status=x", headers=headers).status_code == 400


def test_scores_match_the_service(app, client, scored, tokens):
    from diagnostic.services import campaigns, scores

    body = client.get(f"{API}/campaigns/{scored.slug}/scores?by=institution&per_page=2",
                      headers=bearer(tokens["admin"])).get_json()
    assert body["total"] == 5 and len(body["items"]) == 2 and body["metadata"]["by"] == "institution"
    assert any(c["key"] == "GA" and c["label_en"].startswith("GA ·") for c in body["columns"])
    with app.app_context():
        table = scores.compute(campaigns.get_by_slug(scored.slug)).table("institution").set_index("institution")
    for row in body["items"]:
        assert row["GA"] == pytest.approx(table.loc[row["institution"], "GA"])
    response = client.get(f"{API}/campaigns/{scored.slug}/scores?by=planet", headers=bearer(tokens["admin"]))
    assert response.status_code == 400 and response.is_json


def test_bulk_submit_valid(app, client, scored, tokens):
    from diagnostic.models import ResponseStatus
    from diagnostic.services import audit, campaigns, institutions, responses

    payload = {"responses": [{"institution": "J2", "answers": open_answers()},
                             {"institution": "C1", "purpose": "institution", "answers": open_answers()}]}
    response = client.post(f"{API}/campaigns/{scored.slug}/responses", json=payload, headers=bearer(tokens["analyst"]))
    assert response.status_code == 201, response.get_json()
    submitted = response.get_json()["submitted"]
    assert [s["institution"] for s in submitted] == ["J2", "C1"]
    assert all(s["fingerprint"].startswith("sha256:") for s in submitted)
    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        by_key = {i.key: i for i in institutions.in_campaign(campaign)}
        c1 = responses.find(campaign, "institution", by_key["C1"])
        assert c1.status == ResponseStatus.SUBMITTED
        assert c1.fingerprint == responses.find(campaign, "institution", by_key["Q1"]).fingerprint
        actors = {e.actor for e in audit.for_response(c1.id)}
    assert actors == {f"user:{scored.users['analyst']}:analyst"}
    again = client.post(f"{API}/campaigns/{scored.slug}/responses", json=payload, headers=bearer(tokens["analyst"]))
    assert again.status_code == 422
    assert again.get_json()["details"][0]["path"] == "responses[0].institution"


def test_bulk_submit_invalid_is_all_or_nothing(app, client, scored, tokens):
    from diagnostic.models import ResponseStatus
    from diagnostic.services import campaigns, institutions, responses

    bad = open_answers()
    bad["ai_requests_answered"] = "999"  # more answered than received
    del bad["ai_guide"]  # required (J2's draft has ai_unit already: answers are merged)
    payload = {"responses": [{"institution": "C1", "answers": open_answers()},
                             {"institution": "J2", "answers": bad},
                             {"institution": "ZZ", "answers": {}},
                             {"institution": "Q1", "purpose": "planet", "answers": []}]}
    response = client.post(f"{API}/campaigns/{scored.slug}/responses", json=payload, headers=bearer(tokens["admin"]))
    assert response.status_code == 422 and response.is_json
    details = response.get_json()["details"]
    paths = {d["path"] for d in details}
    assert "responses[1].answers.ai_guide" in paths and "responses[1].answers.ai_requests_answered" in paths
    assert "responses[2].institution" in paths and "responses[3].purpose" in paths
    assert all(d["message_es"] and d["message_en"] for d in details)
    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        by_key = {i.key: i for i in institutions.in_campaign(campaign)}
        assert responses.find(campaign, "institution", by_key["C1"]) is None  # nothing written
        assert responses.find(campaign, "institution", by_key["J2"]).status == ResponseStatus.DRAFT
    url = f"{API}/campaigns/{scored.slug}/responses"
    for body, status in ((b"not json", 400), (b"[]", 422), (b'{"responses": []}', 422), (b'{"responses": [1]}', 422)):
        got = client.post(url, data=body, content_type="application/json", headers=bearer(tokens["admin"]))
        assert got.status_code == status and got.is_json, (body, got.status_code)


def test_json_errors_never_html(client, scored, tokens):
    headers = bearer(tokens["admin"])
    cases = [
        client.get(f"{API}/campaigns/nope", headers=headers),
        client.get(f"{API}/campaigns/{scored.slug}/responses/99999", headers=headers),
        client.get(f"{API}/no-such-route", headers=headers),
        client.delete(f"{API}/campaigns", headers=headers),
        client.post(f"{API}/campaigns/{scored.slug}/responses", data=b"x" * (300 * 1024),
                    content_type="application/json", headers=headers),
    ]
    assert [c.status_code for c in cases] == [404, 404, 404, 405, 413]
    assert all(c.is_json and "error" in c.get_json() for c in cases)


def test_openapi_describes_exactly_the_routes(app, client):
    document = client.get(f"{API}/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    described = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)[len(API):]
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["operationId"] and operation["responses"]
            for param in operation.get("parameters", []):
                if "$ref" in param:  # a shared parameter
                    param = document["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
                assert param["in"] in ("path", "query")
    refs = set(re.findall(r'"#/components/(\w+)/(\w+)"', str(document).replace("'", '"')))
    assert refs and all(name in document["components"][kind] for kind, name in refs)


def test_bulk_submit_failing_half_way_writes_nothing(app, client, scored, tokens, database_url):
    """The second response fails while being written (a fault injected by a real trigger): the
    first, already written in the same request, is rolled back with it."""
    from diagnostic.extensions import db
    from diagnostic.services import campaigns, institutions, responses

    with app.app_context():
        if database_url.startswith("sqlite"):
            db.session.execute(sa.text(
                "CREATE TRIGGER fault BEFORE INSERT ON answers WHEN NEW.value = 'boom-fault' "
                "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"))
        else:
            db.session.execute(sa.text(
                "CREATE FUNCTION fault() RETURNS trigger AS $$ BEGIN IF NEW.value = 'boom-fault' THEN "
                "RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"))
            db.session.execute(sa.text("CREATE TRIGGER fault BEFORE INSERT ON answers FOR EACH ROW "
                                       "EXECUTE FUNCTION fault()"))
        db.session.commit()
    failing = open_answers()
    failing["resp_name"] = "boom-fault"
    payload = {"responses": [{"institution": "C1", "answers": open_answers()},
                             {"institution": "J2", "answers": failing}]}
    response = client.post(f"{API}/campaigns/{scored.slug}/responses", json=payload, headers=bearer(tokens["analyst"]))
    assert response.status_code == 500 and "No se guardó nada a medias" in response.get_json()["message"]
    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        by_key = {i.key: i for i in institutions.in_campaign(campaign)}
        assert responses.find(campaign, "institution", by_key["C1"]) is None  # the first was not kept
        j2 = responses.find(campaign, "institution", by_key["J2"])
        assert j2.status.value == "draft" and {a.field for a in j2.answers} == {"ai_unit"}


def test_bulk_submit_refuses_edge_values_by_path(client, scored, tokens):
    bad = open_answers()
    bad["resp_name"] = "María\x00"
    bad["x" * 130] = "1"
    payload = {"responses": [{"institution": "C1", "answers": bad}]}
    response = client.post(f"{API}/campaigns/{scored.slug}/responses", json=payload, headers=bearer(tokens["analyst"]))
    assert response.status_code == 422
    assert response.get_json()["details"][0]["path"] == "responses[0].answers"
