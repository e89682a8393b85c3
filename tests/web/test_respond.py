"""Respondent flow through the test client: what an institution answering its link sees."""
from __future__ import annotations

import re

import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import Answer, AuditEvent, Response, ResponseStatus
from tests.web.conftest import csrf_token, login


def page_url(setup, n: int) -> str:
    return f"/r/{setup.token}/p/{n}"


def post_page(client, setup, n: int, data: dict, action: str = "next"):
    """What the page's form posts: the link is the respondent's only credential (no CSRF token)."""
    return client.post(page_url(setup, n), data={**data, "action": action})


def stored(app) -> dict:
    with app.app_context():
        rows = db.session.execute(sa.select(Answer.field, Answer.repeat_index, Answer.value)).all()
    return {(f if i is None else f"{f}[{i}]"): v for f, i, v in rows}


def response_status(app) -> ResponseStatus:
    with app.app_context():
        return db.session.scalar(sa.select(Response.status))


def complete(client, setup):
    """Answer every page validly."""
    post_page(client, setup, 0, {"has_unit": "yes", "unit_url": "https://ut.example/", "channels": ["pnt", "email"],
                                 "_shown": "has_unit unit_url channels"})
    post_page(client, setup, 1, {"received": "10", "answered": "8"})
    post_page(client, setup, 2, {"examples[0].topic": "Presupuesto", "examples[0].sent": "2025-03-03"})


def test_landing_shows_institution_campaign_deadline_and_progress(client, setup):
    html = client.get(f"/r/{setup.token}").get_data(as_text=True)
    assert "Secretaría de Finanzas" in html
    assert "Querétaro" in html
    assert "Prueba" in html
    assert "Fecha límite" in html
    assert "Comenzar" in html
    assert 'href="#main"' in html  # skip link


def test_respondent_pages_are_private(client, setup):
    response = client.get(f"/r/{setup.token}/p/0")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_page_labels_fieldsets_and_hidden_skip_logic(client, setup):
    html = client.get(page_url(setup, 0)).get_data(as_text=True)
    assert '<legend id="f-has_unit">' in html
    assert '<label for="f-unit_url">' in html
    wrap = re.search(r'<div class="field" id="f-unit_url-wrap"[^>]*>', html, re.S).group(0)
    assert "hidden" in wrap and "data-relevant" in wrap
    assert "respond.js" in html


def test_saving_a_page_moves_on_and_a_reload_shows_the_draft(client, app, setup):
    response = post_page(client, setup, 0, {"has_unit": "no", "channels": ["pnt", "phone"], "_shown": "has_unit channels"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/p/1")
    assert stored(app) == {"has_unit": "no", "channels": "pnt phone"}
    html = client.get(page_url(setup, 0)).get_data(as_text=True)
    assert re.search(r'value="no"\s+checked', html)
    assert re.search(r'value="phone"\s+checked', html)
    assert response_status(app) == ResponseStatus.DRAFT


def test_skip_logic_without_javascript_shows_the_new_question_before_moving_on(client, app, setup):
    response = post_page(client, setup, 0, {"has_unit": "yes", "_shown": "has_unit channels"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Se mostraron preguntas nuevas" in html
    wrap = re.search(r'<div class="field" id="f-unit_url-wrap"[^>]*>', html, re.S).group(0)
    assert "hidden" not in wrap
    assert stored(app) == {"has_unit": "yes"}


def test_skip_logic_hidden_question_is_not_required_and_not_submitted(client, app, setup):
    post_page(client, setup, 0, {"has_unit": "no", "unit_url": "https://leftover.example", "_shown": "has_unit channels"})
    post_page(client, setup, 1, {"received": "3", "answered": "3"})
    post_page(client, setup, 2, {"examples[0].topic": "Obras"})
    review = client.get(f"/r/{setup.token}/review").get_data(as_text=True)
    assert "Enviar respuesta" in review
    assert client.post(f"/r/{setup.token}/submit").status_code == 302
    assert "unit_url" not in stored(app)  # not relevant: dropped at submission (audited)
    with app.app_context():
        dropped = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.field == "unit_url",
                                                                AuditEvent.new_value.is_(None)))
        assert dropped is not None and dropped.old_value == "https://leftover.example"


def test_constraint_error_keeps_the_value_and_ties_the_message_to_the_field(client, app, setup):
    response = post_page(client, setup, 1, {"received": "5", "answered": "9"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html and 'href="#f-answered"' in html
    assert "No puede exceder las recibidas" in html
    assert re.search(r'id="f-answered"[^>]*aria-describedby="[^"]*f-answered-error"', html, re.S)
    assert 'aria-invalid="true"' in html
    assert stored(app) == {"received": "5", "answered": "9"}  # nothing typed is lost


def test_type_errors_are_stored_as_drafts_and_reported(client, app, setup):
    response = post_page(client, setup, 1, {"received": "muchas", "answered": ""})
    assert response.status_code == 422
    assert stored(app)["received"] == "muchas"


def test_autosave_stores_fields_and_returns_errors_and_relevance(client, app, setup):
    response = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "4", "answered": "6"}})
    assert response.status_code == 200
    body = response.get_json()
    assert body["saved"] == 2
    assert "answered" in body["errors"]
    assert body["relevant"]["unit_url"] is False
    assert stored(app) == {"received": "4", "answered": "6"}
    again = client.post(f"/r/{setup.token}/autosave", json={"answers": {"answered": "4"}})
    assert again.get_json()["errors"] == {}
    cleared = client.post(f"/r/{setup.token}/autosave", json={"answers": {"answered": ""}})
    assert cleared.get_json()["saved"] == 1 and "answered" not in stored(app)


def test_respondents_never_get_a_session_so_nothing_can_expire(app, setup):
    client = app.test_client()
    for url in (f"/r/{setup.token}", page_url(setup, 0), page_url(setup, 1), f"/r/{setup.token}/review"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, url
        assert 'name="csrf_token"' not in response.get_data(as_text=True)
    assert client.get_cookie("session") is None


def test_autosave_from_a_new_browser_saves_without_any_token(app, setup):
    app.test_client().get(page_url(setup, 1))
    fresh_client = app.test_client()  # cookies cleared, another computer, days later
    saved = fresh_client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "7"}})
    assert saved.status_code == 200 and saved.get_json()["saved"] == 1
    assert stored(app) == {"received": "7"}


def test_page_post_from_a_new_browser_saves_what_was_typed(app, setup):
    app.test_client().get(page_url(setup, 1))
    other = app.test_client()
    saved = other.post(page_url(setup, 1), data={"received": "12", "answered": "11", "action": "next"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/p/2")
    assert stored(app) == {"received": "12", "answered": "11"}


def test_posts_a_browser_marks_as_cross_site_are_refused_and_change_nothing(app, setup):
    client = app.test_client()
    client.post(f"/r/{setup.token}/autosave", json={"answers": {}})  # the draft exists
    cross = {"Sec-Fetch-Site": "cross-site"}
    page = client.post(page_url(setup, 1), data={"received": "5", "action": "next"}, headers=cross)
    assert page.status_code == 403 and "solo puede enviarse desde Apertura" in page.get_data(as_text=True)
    autosave = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "5"}}, headers=cross)
    assert autosave.status_code == 403 and autosave.get_json()["error"] == "cross_site"
    assert client.post(f"/r/{setup.token}/submit", headers=cross).status_code == 403
    assert stored(app) == {} and response_status(app) == ResponseStatus.DRAFT
    same = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "5"}},
                       headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200 and stored(app) == {"received": "5"}


def test_coming_back_with_the_link_resumes_where_they_left_off(app, setup):
    client = app.test_client()
    post_page(client, setup, 0, {"has_unit": "no", "_shown": "has_unit channels"})  # saved, went on to page 1
    other = app.test_client()  # another day, another browser
    landing = other.get(f"/r/{setup.token}").get_data(as_text=True)
    assert "Continuar" in landing
    resume = other.get(f"/r/{setup.token}/resume")
    assert resume.status_code == 302 and resume.headers["Location"].endswith("/p/1")


def test_review_lists_unanswered_required_questions_with_links(client, setup):
    post_page(client, setup, 0, {"has_unit": "yes", "_shown": "has_unit unit_url channels"})
    html = client.get(f"/r/{setup.token}/review").get_data(as_text=True)
    assert f'href="/r/{setup.token}/p/0#f-unit_url"' in html
    assert f'href="/r/{setup.token}/p/1#f-received"' in html
    assert "Enviar respuesta" not in html


def test_incomplete_submission_is_refused(client, app, setup):
    response = client.post(f"/r/{setup.token}/submit")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")
    assert response_status(app) == ResponseStatus.DRAFT


def test_submission_gives_a_receipt_with_the_fingerprint_and_locks_the_response(client, app, setup):
    complete(client, setup)
    response = client.post(f"/r/{setup.token}/submit")
    assert response.status_code == 302 and response.headers["Location"].endswith("/receipt")
    receipt = client.get(f"/r/{setup.token}/receipt").get_data(as_text=True)
    from diagnostic.services import responses

    with app.app_context():
        resp = db.session.scalar(sa.select(Response))
        assert resp.status == ResponseStatus.SUBMITTED
        assert resp.fingerprint == responses.fingerprint(responses.rows_of(resp))
    assert resp.fingerprint in receipt
    assert "Presupuesto" in receipt and "data-print" in receipt and "/static/print.js" in receipt
    before = stored(app)
    assert post_page(client, setup, 1, {"received": "99"}).status_code == 409
    late = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "99"}})
    assert late.status_code == 409 and late.get_json()["error"] == "readonly"
    assert stored(app) == before
    readonly = client.get(page_url(setup, 1)).get_data(as_text=True)
    assert "solo lectura" in readonly and 'name="received"' not in readonly


def test_reopened_response_can_be_edited_again(client, app, setup):
    complete(client, setup)
    client.post(f"/r/{setup.token}/submit")
    admin = app.test_client()
    login(admin, setup.admin)
    with app.app_context():
        response_id = db.session.scalar(sa.select(Response.id))
    token = csrf_token(admin, f"/admin/c/{setup.slug}")
    reopened = admin.post(f"/analyst/{setup.slug}/responses/{response_id}/reopen",
                          data={"reason": "Falta evidencia", "csrf_token": token})
    assert reopened.status_code == 302
    assert response_status(app) == ResponseStatus.DRAFT
    assert post_page(client, setup, 1, {"received": "10", "answered": "9"}).status_code == 302
    assert stored(app)["answered"] == "9"
    with app.app_context():
        reasons = db.session.scalars(sa.select(AuditEvent.reason).where(AuditEvent.action == "response.status")).all()
    assert "Falta evidencia" in reasons


def test_every_change_appends_an_audit_row_with_old_and_new_values(client, app, setup):
    post_page(client, setup, 1, {"received": "5", "answered": "2"})
    post_page(client, setup, 1, {"received": "6", "answered": "2"})
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent.field, AuditEvent.old_value, AuditEvent.new_value,
                                            AuditEvent.actor).where(AuditEvent.action == "answer.set")
                                  .order_by(AuditEvent.id)).all()
    assert [(f, o, n) for f, o, n, _ in rows] == [("answered", None, "2"), ("received", None, "5"), ("received", "5", "6")]
    assert all(actor.startswith("invitation:") for *_, actor in rows)


def test_repeat_instances_can_be_added_and_removed(client, app, setup):
    response = post_page(client, setup, 2, {"examples[0].topic": "Agua"}, action="add:examples")
    html = response.get_data(as_text=True)
    assert 'name="examples[1].topic"' in html
    post_page(client, setup, 2, {"examples[0].topic": "Agua", "examples[1].topic": "Obras"}, action="save")
    assert stored(app) == {"examples.topic[0]": "Agua", "examples.topic[1]": "Obras"}
    post_page(client, setup, 2, {"examples[0].topic": "Agua", "examples[1].topic": "Obras"}, action="remove:examples:1")
    assert stored(app) == {"examples.topic[0]": "Agua"}


def test_forged_fields_are_ignored_and_bad_choices_rejected(client, app, setup):
    response = post_page(client, setup, 0, {"has_unit": "maybe", "is_admin": "1", "responses.status": "verified",
                                            "_shown": "has_unit channels"})
    assert response.status_code == 422
    assert "is_admin" not in stored(app)
    assert response_status(app) == ResponseStatus.DRAFT
    forged = client.post(f"/r/{setup.token}/autosave", json={"answers": {"x]; DROP": "1"}})
    assert forged.status_code == 400 and forged.is_json
    assert client.post(f"/r/{setup.token}/autosave", data="not json",
                       headers={"Content-Type": "application/json"}).status_code == 400


def test_tampered_token_gives_a_clear_404_page(client, setup):
    response = client.get(f"/r/{setup.token[:-2]}xx")
    assert response.status_code == 404
    assert "Enlace no disponible" in response.get_data(as_text=True)
    api = client.post(f"/r/{setup.token[:-2]}xx/autosave", json={"answers": {}})
    assert api.status_code == 404 and api.is_json


def test_expired_or_closed_links_give_410(client, app, setup):
    from datetime import timedelta

    from diagnostic.models import Invitation, utcnow
    from diagnostic.services import campaigns

    with app.app_context():
        invitation = db.session.scalar(sa.select(Invitation))
        invitation.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    response = client.get(f"/r/{setup.token}")
    assert response.status_code == 410 and "venció" in response.get_data(as_text=True)
    with app.app_context():
        invitation = db.session.scalar(sa.select(Invitation))
        invitation.expires_at = None
        campaigns.set_status(campaigns.get_by_slug(setup.slug), "closed")
    response = client.get(page_url(setup, 0))
    assert response.status_code == 410 and "cerrada" in response.get_data(as_text=True)


def test_english_interface_on_request(client, setup):
    html = client.get(f"/r/{setup.token}/p/0?lang=en").get_data(as_text=True)
    assert "Does it have a transparency unit?" in html
    assert '<html lang="en">' in html
    assert "Save and continue" in html and "Skip to content" in html
    later = client.get(f"/r/{setup.token}/review").get_data(as_text=True)  # the choice sticks (a `lang` cookie)
    assert "Review before submitting" in later
    assert "Revisión antes de enviar" in client.get(f"/r/{setup.token}/review?lang=es").get_data(as_text=True)


def test_a_save_shows_at_once_on_the_next_view_of_the_page(app, setup):
    client = app.test_client()
    assert 'value="3"' not in client.get(page_url(setup, 1)).get_data(as_text=True)
    saved = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "3"}})
    assert saved.status_code == 200
    assert 'value="3"' in client.get(page_url(setup, 1)).get_data(as_text=True)
    post_page(client, setup, 1, {"received": "4", "answered": ""}, action="stay")
    assert 'value="4"' in client.get(page_url(setup, 1)).get_data(as_text=True)
    admin = app.test_client()
    login(admin, setup.admin)
    assert setup.admin in admin.get(page_url(setup, 1)).get_data(as_text=True)
    assert setup.admin not in client.get(page_url(setup, 1)).get_data(as_text=True)  # never another user's page


def test_a_response_submitted_elsewhere_shows_read_only_at_once(app, setup):
    client = app.test_client()
    assert 'name="has_unit"' in client.get(page_url(setup, 0)).get_data(as_text=True)
    client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "1"}})
    with app.app_context():
        response = db.session.scalar(sa.select(Response))
        response.status = ResponseStatus.SUBMITTED  # as an API bulk submission would leave it
        db.session.commit()
    locked = client.get(page_url(setup, 0)).get_data(as_text=True)
    assert "solo lectura" in locked and 'name="has_unit"' not in locked


def test_a_renamed_or_moved_institution_shows_at_once(app, setup):
    from diagnostic.models import Institution

    client = app.test_client()
    html = client.get(page_url(setup, 1)).get_data(as_text=True)
    assert "Secretaría de Finanzas" in html and "Querétaro" in html
    with app.app_context():
        institution = db.session.get(Institution, setup.institution_id)
        institution.name = "Secretaría de Finanzas y Planeación"
        institution.state_code = "14"
        db.session.commit()
    html = client.get(page_url(setup, 1)).get_data(as_text=True)
    assert "Secretaría de Finanzas y Planeación" in html
    assert "Jalisco" in html and "Querétaro" not in html


def test_an_expired_revoked_or_closed_link_is_refused_at_once(app, setup):
    from datetime import timedelta

    from diagnostic.models import Invitation, utcnow
    from diagnostic.services import campaigns, invitations

    client = app.test_client()

    def change(**values):
        with app.app_context():
            invitation = db.session.scalar(sa.select(Invitation))
            for name, value in values.items():
                setattr(invitation, name, value)
            db.session.commit()

    assert client.get(page_url(setup, 1)).status_code == 200
    change(expires_at=utcnow() - timedelta(minutes=1))
    expired = client.get(page_url(setup, 1))
    assert expired.status_code == 410 and "venció" in expired.get_data(as_text=True)
    change(expires_at=utcnow() + timedelta(days=30))
    assert client.get(page_url(setup, 1)).status_code == 200
    with app.app_context():
        invitations.revoke(db.session.scalar(sa.select(Invitation)))
    revoked = client.get(page_url(setup, 1))
    assert revoked.status_code == 410 and "Enlace no disponible" in revoked.get_data(as_text=True)
    autosave = client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "5"}})
    assert autosave.status_code == 410 and autosave.is_json
    change(revoked_at=None)
    assert client.get(page_url(setup, 1)).status_code == 200
    with app.app_context():
        campaigns.set_status(campaigns.get_by_slug(setup.slug), "closed")
    closed = client.get(page_url(setup, 1))
    assert closed.status_code == 410 and "cerrada" in closed.get_data(as_text=True)


def test_the_last_change_time_follows_every_save_but_not_page_views(app, setup):
    client = app.test_client()

    def updated_at():
        with app.app_context():
            return db.session.scalar(sa.select(Response.updated_at))

    client.post(f"/r/{setup.token}/autosave", json={"answers": {"has_unit": "no"}, "page": 0})
    opened = updated_at()
    client.get(page_url(setup, 2))  # reading a page writes nothing at all
    assert updated_at() == opened
    assert client.get(f"/r/{setup.token}/resume").headers["Location"].endswith("/p/0")
    assert client.post(f"/r/{setup.token}/autosave", json={"answers": {"received": "5"}, "page": 1}).status_code == 200
    assert updated_at() > opened
    assert client.get(f"/r/{setup.token}/resume").headers["Location"].endswith("/p/1")  # where they last typed


def test_a_reissued_link_shows_pages_with_its_own_urls_and_the_old_one_is_gone(app, setup):
    from diagnostic.models import Institution
    from diagnostic.services import campaigns, invitations

    old = app.test_client()
    assert old.get(page_url(setup, 1)).status_code == 200
    with app.app_context():
        new_token = invitations.create(campaigns.get_by_slug(setup.slug),
                                       db.session.get(Institution, setup.institution_id))
    html = app.test_client().get(f"/r/{new_token}/p/1").get_data(as_text=True)
    assert f"/r/{new_token}/p/" in html and setup.token not in html
    assert old.get(page_url(setup, 1)).status_code in (404, 410)


def test_the_designated_institution_also_answers_the_state_questionnaire(app, setup):
    from diagnostic.models import Institution, InstrumentPurpose
    from diagnostic.services import campaigns, institutions

    client = app.test_client()
    assert client.get(f"/r/{setup.token}/estado").status_code == 404  # no state instrument yet
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        campaigns.set_status(campaign, "closed")
        campaign.status = campaign.status.DRAFT  # back to draft only to add an instrument in this test
        db.session.commit()
        version = db.session.scalar(sa.select(sa.text("id")).select_from(sa.table("instrument_versions")))
        from diagnostic.services import instruments

        campaigns.set_instrument(campaign, InstrumentPurpose.STATE, instruments.get(version))
        campaigns.set_status(campaign, "open")
    assert client.get(f"/r/{setup.token}/estado").status_code == 404  # not designated
    admin = app.test_client()
    login(admin, setup.admin)
    with app.app_context():
        key = db.session.scalar(sa.select(Institution.key).where(Institution.id == setup.institution_id))
    designated = admin.post(f"/admin/c/{setup.slug}/state-respondent",
                            data={"key": key, "csrf_token": csrf_token(admin, "/admin/")})
    assert designated.status_code == 302
    landing = client.get(f"/r/{setup.token}").get_data(as_text=True)
    assert f"/r/{setup.token}/estado" in landing
    saved = client.post(f"/r/{setup.token}/estado/p/1", data={"received": "2", "answered": "1", "action": "next"})
    assert saved.status_code == 302 and "/estado/p/2" in saved.headers["Location"]
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        assert institutions.is_state_respondent(campaign, db.session.get(Institution, setup.institution_id))
        kinds = {r.instrument_version_id for r in db.session.scalars(sa.select(Response))}
        state_rows = responses_of(campaign, InstrumentPurpose.STATE)
    assert len(kinds) == 1 and state_rows == {"received": "2", "answered": "1"}
    assert "received" not in stored_for_institution(app, setup)  # the two questionnaires stay apart


def responses_of(campaign, purpose) -> dict:
    from diagnostic.services import responses

    (response,) = responses.for_campaign(campaign, purpose)
    return {a.field: a.value for a in response.answers}


def stored_for_institution(app, setup) -> dict:
    from diagnostic.models import InstrumentPurpose
    from diagnostic.services import campaigns, responses

    with app.app_context():
        found = responses.for_campaign(campaigns.get_by_slug(setup.slug), InstrumentPurpose.INSTITUTION)
        return {a.field: a.value for r in found for a in r.answers}
