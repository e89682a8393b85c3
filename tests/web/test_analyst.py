"""Analyst area: progress numbers, review (accept, correct, reopen, mark verified), and the
helpers the other analyst/API/score/export tests share (a small scored campaign)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.web.conftest import csrf_token

PASSWORD = "correct horse"

# Complete answers of the shipped government questionnaire: an open institution and a closed one.
_SITE = "https://finanzas.example.org"
OPEN = {
    "resp_name": "María López", "resp_position": "Titular de la Unidad", "resp_email": "ml@finanzas.example.org",
    "ai_unit": "yes", "ai_unit_evidence": f"{_SITE}/unidad", "ai_channels": ["pnt", "email", "in_person"],
    "ai_channels_evidence": f"{_SITE}/solicitudes", "ai_guide": "yes", "ai_guide_evidence": f"{_SITE}/guia.pdf",
    "ai_requests_received": "200", "ai_requests_answered": "150", "ai_requests_evidence": f"{_SITE}/est.xlsx",
    "ai_disability_assistance": "yes", "ai_disability_assistance_evidence": f"{_SITE}/accesible",
    "ai_indigenous_assistance": "no", "ai_free_electronic": "yes", "ai_free_electronic_evidence": f"{_SITE}/costos",
    "ta_share": "80", "ta_share_evidence": f"{_SITE}/sipot", "ta_site_links": "yes", "ta_site_links_evidence": f"{_SITE}/",
    "ta_updated_quarter": "no", "ta_reusable_formats": "yes", "ta_reusable_formats_evidence": f"{_SITE}/f21.csv",
    "tp_beyond_obligations": "yes", "tp_beyond_obligations_evidence": f"{_SITE}/pc", "tp_demand_based": "no",
    "tp_plain_language": "yes", "tp_plain_language_evidence": f"{_SITE}/pc/guia", "tp_sex_disaggregated": "na",
    "tp_impact_evaluated": "no", "da_datasets": "4", "da_datasets_evidence": "https://www.datos.gob.mx/",
    "da_open_license": "yes", "da_open_license_evidence": f"{_SITE}/licencia", "da_metadata": "no",
    "da_machine_readable": "yes", "da_machine_readable_evidence": f"{_SITE}/ingresos.csv",
    "da_update_schedule": "no", "da_portal_listed": "yes", "da_portal_listed_evidence": "https://www.datos.gob.mx/",
    "pg_has_mechanism": "yes", "pg_mechanism_kinds": ["advisory_council", "public_consultation"],
    "pg_mechanism_evidence": f"{_SITE}/acuerdo.pdf", "pg_main_mechanism": "advisory_council",
    "pg_main_mechanism_name": "Consejo Consultivo", "pg_participants": "organised_civil_society",
    "pg_participants_evidence": f"{_SITE}/convocatoria", "pg_operated": "yes", "pg_operated_evidence": f"{_SITE}/actas",
    "pg_sessions": "3", "pg_participation_format": "consultative", "pg_participation_format_evidence": f"{_SITE}/reglas",
    "pg_outcomes_published": "yes", "pg_outcomes_published_evidence": f"{_SITE}/resultados",
    "pg_proposals_answered": "no", "inc_parity_rules": "no", "inc_measures": ["accessible_venue", "remote_participation"],
}

# Institutions of the small campaign: key, name, state, order, type.
INSTITUTIONS = [
    ("Q1", "Secretaría de Finanzas de Querétaro", "22", "estatal", "ejecutivo"),
    ("Q2", "Congreso de Querétaro", "22", "estatal", "legislativo"),
    ("J1", "Secretaría de Hacienda de Jalisco", "14", "estatal", "ejecutivo"),
    ("J2", "Municipio de Zapopan", "14", "municipal", "municipio"),
    ("C1", '=HYPERLINK("http://evil.example","clic")', "09", "estatal", "ejecutivo"),
]


@dataclass
class Scored:
    """A small open campaign scored by the shipped `apertura` model."""

    slug: str
    ids: dict[str, int]
    responses: dict[str, int]
    users: dict[str, int]


def open_answers() -> dict:
    """A fresh copy of the open institution's answers."""
    return {k: (list(v) if isinstance(v, list) else v) for k, v in OPEN.items()}


def closed_answers() -> dict:
    """An institution with no openness practices (no requests, no participation mechanism)."""
    return {
        "resp_name": "José Pérez", "resp_position": "Enlace", "resp_email": "jp@congreso.example.org",
        "ai_unit": "no", "ai_channels": ["pnt"], "ai_channels_evidence": "https://www.plataformadetransparencia.org.mx/",
        "ai_guide": "no", "ai_requests_received": "0", "ai_requests_answered": "0", "ai_disability_assistance": "no",
        "ai_indigenous_assistance": "no", "ai_free_electronic": "yes",
        "ai_free_electronic_evidence": "https://congreso.example.org/transparencia", "ta_share": "0",
        "ta_site_links": "no", "ta_updated_quarter": "no", "ta_reusable_formats": "no",
        "tp_beyond_obligations": "no", "da_datasets": "0", "pg_has_mechanism": "no",
    }


def seed_scored(app) -> Scored:
    """Campaign `metrica-prueba`: 5 institutions in 3 states; Q1 and J1 open, Q2 closed (all
    submitted), J2 a draft, C1 not started; invitations for Q1 and J2; one user per role."""
    from diagnostic.extensions import db
    from diagnostic.models import Institution, Order
    from diagnostic.services import (
        campaigns,
        institutions,
        instruments,
        invitations,
        responses,
        users,
    )
    from diagnostic.services.audit import SYSTEM

    with app.app_context():
        ids = {role: users.create(f"{role}@example.org", role.title(), role, PASSWORD).id
               for role in ("admin", "analyst", "evaluator")}
        campaign = campaigns.create("Métrica de prueba", 2025, slug="metrica-prueba")
        campaigns.set_instrument(campaign, "institution", instruments.store_shipped("gobierno"))
        campaigns.set_index_model(campaign, instruments.store_shipped_index_model("apertura"))
        created = []
        for key, name, state, order, kind in INSTITUTIONS:
            inst = Institution(key=key, name=name, state_code=state, order=Order(order), type=kind)
            db.session.add(inst)
            created.append(inst)
        db.session.commit()
        institutions.add_to_campaign(campaign, created)
        campaigns.set_status(campaign, "open")
        by_key = {i.key: i for i in created}
        invitations.issue(campaign, [by_key["Q1"], by_key["J2"]])
        response_ids = {}
        for key, answers, submit in (("Q1", open_answers(), True), ("Q2", closed_answers(), True),
                                     ("J1", open_answers(), True), ("J2", {"ai_unit": "yes"}, False)):
            response = responses.get_or_create(campaign, "institution", by_key[key])
            responses.save_page(response, answers, SYSTEM)
            if submit:
                responses.submit(response, SYSTEM)
            response_ids[key] = response.id
        return Scored("metrica-prueba", {k: i.id for k, i in by_key.items()}, response_ids, ids)


def sign_in(client, user_id: int) -> None:
    """Sign a test client in as a user (session cookie, as Flask-Login sets it)."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True


@pytest.fixture
def scored(app) -> Scored:
    """The small scored campaign."""
    return seed_scored(app)


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
    assert 'data-path="ai_unit"' in html and f'href="{_SITE}/unidad"' in html
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
    assert 'class="verified-value">no</span>' in html and "original: yes" in html
    assert re.search(r'data-item="ai_unit"><code>ai_unit</code>: 0\.000', html)

    response = _post(client, f"{page}/verified", {}, page)
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
