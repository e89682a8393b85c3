"""Analyst area: progress numbers, review (accept, correct, reopen, mark verified)."""
from __future__ import annotations

import re

from tests.web.conftest import SITE, csrf_token, sign_in


def _cells(html: str, key: str) -> dict[str, str]:
    row = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert row, f"no row {key}"
    return dict(re.findall(r'data-col="(\w+)">([^<]*)<', row.group(1)))


def test_progress_counts_by_state_type_and_pending(client, scored):
    sign_in(client, scored.users["analyst"])
    html = client.get(f"/analyst/{scored.slug}/progress").get_data(as_text=True)
    assert _cells(html, "22") == {"institutions": "2", "verified": "0", "submitted": "2", "draft": "0",
                                  "not_started": "0", "rate": "100 %"}
    assert _cells(html, "14") == {"institutions": "2", "verified": "0", "submitted": "1", "draft": "1",
                                  "not_started": "0", "rate": "50 %"}
    assert _cells(html, "09")["not_started"] == "1" and _cells(html, "09")["rate"] == "0 %"
    assert _cells(html, "ejecutivo") == {"institutions": "3", "verified": "0", "submitted": "2", "draft": "0",
                                         "not_started": "1", "rate": "67 %"}
    # the tile map: every state has a tile with a text label, coloured by band
    assert html.count('role="listitem" class="tile') == 32
    assert re.search(r'class="tile band-4"[^>]*data-state="22">\s*<b>QRO</b><span>100 %</span>', html)
    assert re.search(r'class="tile band-n"[^>]*data-state="01">\s*<b>AGS</b><span>—</span>', html)
    # pending: J2 (draft, invitation sent) and C1 (not started, no invitation)
    assert _cells(html, "J2") == {"response": "borrador", "invitation": "enviada, sin abrir"}
    assert _cells(html, "C1") == {"response": "sin iniciar", "invitation": "sin invitación"}
    assert "Q1" not in re.findall(r'<tr data-key="(\w+)">', html.split('id="pending"')[1])


def test_progress_totals_match_campaign_service(app, client, scored):
    from diagnostic.services import campaigns, review

    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        data = review.progress(campaign)
        counts = campaigns.progress(campaign)["responses"]["institution"]
    assert (data.total.institutions, data.total.submitted, data.total.draft, data.total.not_started) == (5, 3, 1, 1)
    assert counts["submitted"] == data.total.submitted and counts["draft"] == data.total.draft
    sign_in(client, scored.users["admin"])
    assert client.get(f"/analyst/{scored.slug}/progress?purpose=nope").status_code == 400


def _score(app, slug: str, key: str, code: str = "GA") -> float:
    from diagnostic.services import campaigns, scores

    with app.app_context():
        table = scores.compute(campaigns.get_by_slug(slug)).table("institution")
        return float(table.set_index("institution").loc[key, code])


def _post(client, url: str, data: dict, page: str):
    data = {"csrf_token": csrf_token(client, page), **data}
    return client.post(url, data=data)


def test_review_accept_and_correct_write_audit_rows_and_change_the_score(app, client, scored):
    import sqlalchemy as sa

    from diagnostic.extensions import db
    from diagnostic.models import Answer, AuditEvent

    sign_in(client, scored.users["analyst"])
    rid = scored.responses["Q1"]
    page = f"/analyst/{scored.slug}/responses/{rid}"
    html = client.get(page).get_data(as_text=True)
    assert 'data-path="ai_unit"' in html and f'href="{SITE}/unidad"' in html
    assert re.search(r'data-item="ai_unit"><code>ai_unit</code>: 1\.000', html)
    before = _score(app, scored.slug, "Q1")

    response = _post(client, f"{page}/verify", {"field": "ai_guide", "decision": "accept"}, page)
    assert response.status_code == 302
    assert _score(app, scored.slug, "Q1") == before

    refused = _post(client, f"{page}/verify", {"field": "ai_unit", "decision": "correct", "value": "no"}, page)
    assert refused.status_code == 400  # a correction needs a reason
    response = _post(client, f"{page}/verify", {"field": "ai_unit", "decision": "correct", "value": "no",
                                               "reason": "El enlace no muestra datos de contacto"}, page)
    assert response.status_code == 302
    after = _score(app, scored.slug, "Q1")
    assert after < before

    with app.app_context():
        answer = db.session.scalar(sa.select(Answer).where(Answer.response_id == rid, Answer.field == "ai_unit"))
        assert (answer.value, answer.verified_value, answer.verification) == ("yes", "no", "corrected")
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.response_id == rid,
                                                                AuditEvent.action == "answer.verify")).all()
        assert [(e.field, e.new_value, e.user_id) for e in events] == [
            ("ai_guide", "yes", scored.users["analyst"]), ("ai_unit", "no", scored.users["analyst"])]
        assert events[1].reason == "El enlace no muestra datos de contacto"
    html = client.get(page).get_data(as_text=True)
    assert 'class="verified-value">No</span>' in html and "original: Sí" in html
    assert re.search(r'data-item="ai_unit"><code>ai_unit</code>: 0\.000', html)

    response = _post(client, f"{page}/verified", {"confirm": "1"}, page)
    assert response.status_code == 302
    assert 'data-status="verified"' in client.get(page).get_data(as_text=True)


def test_reopen_lets_the_respondent_edit_again(app, client, scored):
    from diagnostic.models import ResponseStatus
    from diagnostic.services import campaigns, invitations, responses

    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        token = invitations.create(campaign, responses.get(scored.responses["Q1"]).institution)
    respondent = app.test_client()
    autosave = f"/r/{token}/autosave"

    def save(value: str):
        return respondent.post(autosave, json={"answers": {"ta_share": value}})

    assert save("90").status_code == 409  # submitted: read-only for the respondent

    sign_in(client, scored.users["analyst"])
    rid = scored.responses["Q1"]
    page = f"/analyst/{scored.slug}/responses/{rid}"
    assert _post(client, f"{page}/reopen", {"reason": ""}, page).status_code == 400
    assert _post(client, f"{page}/reopen", {"reason": "Falta evidencia de datos abiertos"}, page).status_code == 302
    assert 'data-status="draft"' in client.get(page).get_data(as_text=True)

    saved = save("90")
    assert saved.status_code == 200 and saved.get_json()["saved"] == 1
    with app.app_context():
        response = responses.get(rid)
        assert response.status == ResponseStatus.DRAFT
        assert {(a.field, a.value) for a in response.answers} >= {("ta_share", "90")}
        reopened = [e for e in audit_events(rid) if e.action == "response.status"][-1]
        assert (reopened.old_value, reopened.new_value, reopened.reason) == (
            "submitted", "draft", "Falta evidencia de datos abiertos")


def audit_events(response_id: int) -> list:
    """The audit rows of a response (inside an app context)."""
    from diagnostic.services import audit

    return audit.for_response(response_id)


def test_review_of_another_campaigns_response_is_404(app, client, scored):
    from diagnostic.services import campaigns

    with app.app_context():
        campaigns.create("Otra", 2024, slug="otra")
    sign_in(client, scored.users["analyst"])
    assert client.get(f"/analyst/otra/responses/{scored.responses['Q1']}").status_code == 404
    assert client.get(f"/analyst/{scored.slug}/responses/999999").status_code == 404
    html = client.get(f"/analyst/{scored.slug}/responses?status=submitted").get_data(as_text=True)
    assert html.count("/responses/") >= 3
    assert client.get(f"/analyst/{scored.slug}/responses?status=bogus").status_code == 400
