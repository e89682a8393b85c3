"""Verification an analyst can do at scale (issue 9 §4): labels not codes, corrections from the
question's own control, refusals on the same page with what was typed, accept all remaining,
mark verified asks first with the count."""
from __future__ import annotations

import re

import sqlalchemy as sa

from tests.web.conftest import SITE, csrf_token, sign_in


def _page(scored) -> str:
    return f"/analyst/{scored.slug}/responses/{scored.responses['Q1']}"


def _row(html: str, path: str) -> str:
    match = re.search(rf'<tr id="a-{re.escape(path)}" data-path="{re.escape(path)}".*?</tr>', html, re.S)
    assert match, f"no row {path}"
    return match.group(0)


def _answer_cell(row: str) -> str:
    return re.search(r'<td class="answer">(.*?)</td>', row, re.S).group(1)


# ------------------------------------------------------------------ service


def test_review_rows_carry_labels_and_the_questions_own_control(app, scored):
    from diagnostic.services import responses, review

    with app.test_request_context("/?lang=es"):
        rows = {r.path: r for r in review.review(responses.get(scored.responses["Q1"])).rows}
        assert rows["ai_unit"].display == "Sí" and rows["ai_unit"].widget == "radio"
        assert [o.label for o in rows["ai_unit"].options] == ["Sí", "No"]
        assert rows["ai_channels"].display == ("Plataforma Nacional de Transparencia, Correo electrónico, "
                                               "En persona (ventanilla de la Unidad de Transparencia)")
        assert rows["ai_channels"].widget == "checkbox" and rows["ai_channels"].selected == {"pnt", "email", "in_person"}
        assert rows["ai_requests_received"].widget == "number"
        assert rows["tp_sex_disaggregated"].display == "No aplica"
        share = rows["ai_answered_share"]  # calculated: shown rounded, not corrected by hand
        assert share.widget == "none" and share.display == "0.75"


def test_numbers_and_dates_are_written_out_in_the_readers_language(app):
    from diagnostic.services import review
    from surveys.model import Question

    number = Question(name="n", type="integer", path="n")
    day = Question(name="d", type="date", path="d")
    with app.test_request_context("/?lang=es"):
        assert review.display_value(number, [], "1250000") == "1,250,000"
        assert review.display_value(day, [], "2025-03-07") == "7 de marzo de 2025"
        assert review.display_value(day, [], "no es fecha") == "no es fecha"
    with app.test_request_context("/?lang=en"):
        assert review.display_value(day, [], "2025-03-07") == "March 7, 2025"


def test_a_correction_from_checkboxes_is_stored_as_option_names(app, scored):
    from diagnostic.services import responses, review

    with app.app_context():
        from diagnostic.extensions import db
        from diagnostic.models import User

        analyst = db.session.get(User, scored.users["analyst"])
        response = responses.get(scored.responses["Q1"])
        review.verify(response, {"field": "ai_channels", "decision": "correct", "value": ["pnt", "phone"],
                                 "reason": "La página solo muestra la PNT y un teléfono"}, analyst)
        answer = next(a for a in response.answers if a.field == "ai_channels")
        assert (answer.value, answer.verified_value) == ("pnt email in_person", "pnt phone")


def test_accept_remaining_accepts_only_answers_nobody_reviewed(app, scored):
    from diagnostic.extensions import db
    from diagnostic.models import AuditEvent, User
    from diagnostic.services import ServiceError, responses, review

    with app.app_context():
        analyst = db.session.get(User, scored.users["analyst"])
        response = responses.get(scored.responses["Q1"])
        review.verify(response, {"field": "ai_unit", "decision": "correct", "value": "no",
                                 "reason": "Sin datos de contacto"}, analyst)
        before = len(review.unreviewed(response))
        assert before == len(review.reviewable(response)) - 1 and before > 20
        assert review.accept_remaining(response, analyst) == before
        assert review.unreviewed(response) == []
        unit = next(a for a in response.answers if a.field == "ai_unit")
        assert (unit.verification, unit.verified_value) == ("corrected", "no")  # the correction stays
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.response_id == response.id,
                                                                AuditEvent.action == "answer.verify")).all()
        assert len(events) == before + 1 and {e.user_id for e in events} == {analyst.id}
        assert review.accept_remaining(response, analyst) == 0
        draft = responses.get(scored.responses["J2"])
        try:
            review.accept_remaining(draft, analyst)
        except ServiceError as exc:
            assert exc.code == "verify_only_submitted"
        else:
            raise AssertionError("a draft was accepted")


def test_mark_verified_with_answers_not_reviewed_needs_confirmation(app, scored):
    from diagnostic.extensions import db
    from diagnostic.models import ResponseStatus, User
    from diagnostic.services import ServiceError, responses, review

    with app.app_context():
        analyst = db.session.get(User, scored.users["analyst"])
        response = responses.get(scored.responses["Q2"])
        pending = len(review.unreviewed(response))
        try:
            review.mark_verified(response, analyst)
        except ServiceError as exc:
            assert exc.code == "answers_not_reviewed" and exc.params["count"] == pending
            assert str(pending) in exc.message
        else:
            raise AssertionError("verified without asking")
        assert response.status == ResponseStatus.SUBMITTED
        review.mark_verified(response, analyst, confirmed=True)
        assert response.status == ResponseStatus.VERIFIED
        other = responses.get(scored.responses["J1"])
        review.accept_remaining(other, analyst)
        review.mark_verified(other, analyst)  # nothing left to review: no question asked
        assert other.status == ResponseStatus.VERIFIED


# ------------------------------------------------------------------ web


def test_review_page_shows_labels_controls_and_evidence_beside_the_answer(client, scored):
    sign_in(client, scored.users["analyst"])
    html = client.get(_page(scored)).get_data(as_text=True)
    unit = _row(html, "ai_unit")
    assert ">Sí</span>" in _answer_cell(unit) and "yes" not in _answer_cell(unit)
    assert re.search(r'<a class="evidence" href="https://finanzas\.example\.org/unidad" rel="noopener[^"]*" target="_blank"',
                     _answer_cell(unit))
    # the correction is chosen with the question's own options, visible without expanding anything
    assert '<input type="radio" name="value:ai_unit" value="yes" checked> Sí' in unit
    assert '<input type="radio" name="value:ai_unit" value="no"> No' in unit
    assert "<details" not in html
    channels = _row(html, "ai_channels")
    assert '<input type="checkbox" name="value:ai_channels" value="phone"> Teléfono' in channels
    assert "Plataforma Nacional de Transparencia, Correo electrónico" in _answer_cell(channels)
    received = _row(html, "ai_requests_received")
    assert re.search(r'<input id="r\d+-value" name="value:ai_requests_received" type="number" step="1"', received)
    assert 'type="radio" name="value:tp_sex_disaggregated" value="na" checked> No aplica' in html
    assert 'name="value:ai_answered_share"' not in html and "Valor calculado" in _row(html, "ai_answered_share")
    assert ">Poder Ejecutivo</dd>" in html and ">ejecutivo</dd>" not in html
    assert '<script src="/static/review.js" defer></script>' in html and "<script>" not in html
    assert re.search(r'id="accept-remaining">Aceptar las \d+ restantes<', html)


def _form(html: str) -> dict:
    """Every value the review form would post as the page shows it (checked options, typed inputs)."""
    form = re.search(r'<form method="post" action="[^"]+/verify" id="review-form".*?</form>', html, re.S).group(0)
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = (re.search(r'type="([^"]+)"', tag) or [None, "text"])[1]
        if kind in ("radio", "checkbox") and " checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data.setdefault(name.group(1), []).append(value.group(1) if value else "")
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.findall(r'<option value="([^"]*)" selected>', body)
        data[name] = chosen[:1] or [""]
    return data


def test_a_refused_correction_comes_back_on_the_same_page_with_everything_typed(app, client, scored):
    from diagnostic.services import responses

    sign_in(client, scored.users["analyst"])
    page = _page(scored)
    data = _form(client.get(page).get_data(as_text=True))
    data["value:ai_unit"] = ["no"]                      # chosen with the radio, no reason given
    data["reason:ai_guide"] = ["La guía no abre"]       # typed in another row, not yet saved
    data["value:ai_requests_received"] = ["180"]
    data["act"] = ["correct:ai_unit"]
    refused = client.post(f"{page}/verify", data=data)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    unit = _row(html, "ai_unit")
    assert "has-error" in unit and "Una corrección necesita un motivo" in unit
    assert '<input type="radio" name="value:ai_unit" value="no" checked>' in unit     # kept
    assert 'value="La guía no abre"' in _row(html, "ai_guide")                        # other rows kept
    assert 'value="180"' in _row(html, "ai_requests_received")
    assert 'href="#a-ai_unit"' in html
    with app.app_context():
        unit_answer = next(a for a in responses.get(scored.responses["Q1"]).answers if a.field == "ai_unit")
        assert unit_answer.verification is None                                          # nothing saved

    # a bad value: a negative count (the question's constraint)
    data["act"] = ["correct:ai_requests_received"]
    data["reason:ai_requests_received"] = ["Las estadísticas dicen 100"]
    data["value:ai_requests_received"] = ["-100"]
    refused = client.post(f"{page}/verify", data=data)
    assert refused.status_code == 400
    row = _row(refused.get_data(as_text=True), "ai_requests_received")
    assert "no puede ser negativo" in row and 'value="-100"' in row and 'value="Las estadísticas dicen 100"' in row

    # saved: the row is corrected, the other rows' typing is still there
    data["act"] = ["correct:ai_unit"]
    data["reason:ai_unit"] = ["El enlace no muestra datos de contacto"]
    data["value:ai_requests_received"] = ["200"]
    data["reason:ai_requests_received"] = [""]
    saved = client.post(f"{page}/verify", data=data)
    assert saved.status_code == 200
    html = saved.get_data(as_text=True)
    assert 'class="verified-value">No</span>' in _row(html, "ai_unit")
    assert 'value="La guía no abre"' in _row(html, "ai_guide")
    # nothing else typed: back to the page
    data = _form(client.get(page).get_data(as_text=True))
    data["act"] = ["accept:ai_guide"]
    assert client.post(f"{page}/verify", data=data).status_code == 302


def test_accept_remaining_and_mark_verified_ask_first_without_javascript(app, client, scored):
    from diagnostic.models import ResponseStatus
    from diagnostic.services import responses, review

    sign_in(client, scored.users["analyst"])
    page = _page(scored)
    with app.app_context():
        pending = len(review.unreviewed(responses.get(scored.responses["Q1"])))
    asked = client.post(f"{page}/verified", data={"csrf_token": csrf_token(client, page)})
    assert asked.status_code == 200
    html = asked.get_data(as_text=True)
    assert f'data-pending="{pending}"' in html and f"Quedan {pending} respuestas sin revisar" in html
    assert f"Aceptar las {pending} restantes y marcar como verificada" in html
    with app.app_context():
        assert responses.get(scored.responses["Q1"]).status == ResponseStatus.SUBMITTED

    other = f"/analyst/{scored.slug}/responses/{scored.responses['J1']}"
    done = client.post(f"{other}/accept-remaining", data={"csrf_token": csrf_token(client, other)})
    assert done.status_code == 302
    assert "Se aceptaron" in client.get(other).get_data(as_text=True)

    confirmed = client.post(f"{page}/verified", data={"csrf_token": csrf_token(client, page), "confirm": "1",
                                                      "accept_remaining": "1"})
    assert confirmed.status_code == 302
    with app.app_context():
        response = responses.get(scored.responses["Q1"])
        assert response.status == ResponseStatus.VERIFIED and review.unreviewed(response) == []
    html = client.get(page).get_data(as_text=True)
    assert 'data-status="verified"' in html and "Verificó una respuesta" in html and "answer.verify" not in html
    assert SITE in html


# ------------------------------------------------------------------ the submissions table


def test_submissions_filter_by_state_type_status_and_verifier(app, scored):
    from diagnostic.extensions import db
    from diagnostic.models import User
    from diagnostic.services import ServiceError, campaigns, responses, review

    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        analyst = db.session.get(User, scored.users["analyst"])
        review.accept_remaining(responses.get(scored.responses["Q1"]), analyst)
        view = review.submissions(campaign)
        keys = [r.institution.key for r in view.rows]
        assert sorted(keys) == ["J1", "J2", "Q1", "Q2"]
        assert view.states == [("14", "Jalisco"), ("22", "Querétaro")]
        assert view.types == ["ejecutivo", "legislativo", "municipio"] and [u.id for u in view.verifiers] == [analyst.id]
        q1 = next(r for r in view.rows if r.institution.key == "Q1")
        assert q1.reviewed == q1.total > 20 and q1.pending == 0 and q1.verifier.id == analyst.id

        def keys_of(**filters):
            return sorted(r.institution.key for r in review.submissions(campaign, review.SubmissionQuery(**filters)).rows)

        assert keys_of(state="22") == ["Q1", "Q2"]
        assert keys_of(type="ejecutivo") == ["J1", "Q1"]
        assert keys_of(status="draft") == ["J2"]
        assert keys_of(verifier=str(analyst.id)) == ["Q1"]
        assert keys_of(verifier="none", status="submitted") == ["J1", "Q2"]
        assert keys_of(purpose="institution") == ["J1", "J2", "Q1", "Q2"] and keys_of(purpose="evaluator") == []
        try:
            review.submissions(campaign, review.SubmissionQuery(status="enviada"))
        except ServiceError as exc:
            assert exc.code == "unknown_submission_filter" and exc.status == 400
        else:
            raise AssertionError("an unknown status was accepted")


def test_bulk_accept_only_touches_selected_submitted_responses(app, scored):
    from diagnostic.extensions import db
    from diagnostic.models import ResponseStatus, User
    from diagnostic.services import ServiceError, campaigns, responses, review

    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        analyst = db.session.get(User, scored.users["analyst"])
        ids = [scored.responses["Q1"], scored.responses["Q2"], scored.responses["J2"]]
        expected = sum(len(review.unreviewed(responses.get(i))) for i in ids[:2])
        plan = review.bulk_plan(campaign, ids)
        assert (len(plan.responses), plan.answers, plan.skipped) == (2, expected, 1)
        assert len(review.unreviewed(responses.get(ids[0]))) > 0  # a plan writes nothing
        done = review.bulk_accept(campaign, [str(i) for i in ids], analyst)
        assert done.answers == expected
        assert review.unreviewed(responses.get(ids[0])) == [] and review.unreviewed(responses.get(ids[1])) == []
        assert len(review.unreviewed(responses.get(scored.responses["J1"]))) > 0  # not selected
        assert responses.get(ids[2]).status == ResponseStatus.DRAFT
        try:
            review.bulk_plan(campaign, [])
        except ServiceError as exc:
            assert exc.code == "no_submissions_selected"
        else:
            raise AssertionError("an empty selection was accepted")


def test_submissions_page_bulk_accept_asks_with_the_count(app, client, scored):
    from diagnostic.services import responses, review

    sign_in(client, scored.users["analyst"])
    table = f"/analyst/{scored.slug}/responses"
    html = client.get(f"{table}?type=ejecutivo").get_data(as_text=True)
    assert ">Poder Ejecutivo</option>" in html and ">Poder Ejecutivo</td>" in html and ">ejecutivo<" not in html
    assert ">Enviada</span>" in html and 'data-key="Q2"' not in html
    assert re.search(r'<option value="submitted">Enviada</option>', html)
    with app.app_context():
        pending = sum(len(review.unreviewed(responses.get(scored.responses[k]))) for k in ("Q1", "J1"))
    ids = [str(scored.responses["Q1"]), str(scored.responses["J1"])]
    token = csrf_token(client, table)
    asked = client.post(f"{table}/bulk-accept", data={"csrf_token": token, "ids": ids, "type": "ejecutivo"})
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert f'data-responses="2" data-answers="{pending}"' in page
    assert f"Se aceptarán {pending} respuestas sin revisar de 2 envíos" in page
    with app.app_context():
        assert len(review.unreviewed(responses.get(scored.responses["Q1"]))) > 0
    done = client.post(f"{table}/bulk-accept", data={"csrf_token": token, "ids": ids, "type": "ejecutivo",
                                                     "confirm": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/responses?type=ejecutivo")
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Se aceptaron las respuestas pendientes de 2 envíos" in html
    assert "analyst@example.org" in html
    assert client.post(f"{table}/bulk-accept", data={"csrf_token": token}).status_code == 400


def test_submissions_export_with_labels_and_formula_guard(app, client, scored):
    import io

    from openpyxl import load_workbook

    from diagnostic.extensions import db
    from diagnostic.models import Institution

    with app.app_context():
        institution = db.session.get(Institution, scored.ids["Q2"])
        institution.name = "=HYPERLINK(\"http://evil.example\",\"x\")"
        db.session.commit()
    sign_in(client, scored.users["analyst"])
    response = client.get(f"/analyst/{scored.slug}/export/submissions.csv?state=22")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Institución,Clave,Entidad,Tipo,Instrumento,Estado,Enviada")
    assert "Secretaría de Finanzas de Querétaro,Q1,Querétaro,Poder Ejecutivo,Cuestionario institucional,Enviada," in text
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text
    assert len(lines) == 3 and ",submitted," not in text and ",ejecutivo," not in text
    book = load_workbook(io.BytesIO(client.get(f"/analyst/{scored.slug}/export/submissions.xlsx?lang=en").get_data()))
    sheet = book["submissions"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("Institution", "Key", "State", "Type", "Instrument", "Status")
    assert ("Congreso de Querétaro" not in {r[0] for r in rows}) and any(str(r[0]).startswith("'=") for r in rows)
    assert {r[5] for r in rows[1:]} == {"Submitted", "Draft"}
    assert client.get(f"/analyst/{scored.slug}/export/submissions.pdf").status_code == 404


# ------------------------------------------------------------------ the campaign audit view


def test_campaign_audit_view_filters_and_pages(app, client, scored):
    from datetime import UTC, datetime, timedelta

    from diagnostic.extensions import db
    from diagnostic.models import User
    from diagnostic.services import audit, campaigns, responses, review

    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        analyst = db.session.get(User, scored.users["analyst"])
        q1 = responses.get(scored.responses["Q1"])
        accepted = review.accept_remaining(q1, analyst)
        everything = audit.campaign_events(campaign)
        assert everything.total > accepted and everything.pages == -(-everything.total // audit.PER_PAGE)
        assert {"campaign.create", "campaign.status", "answer.verify", "response.status"} <= set(everything.actions)
        mine = audit.campaign_events(campaign, audit.AuditQuery(user=str(analyst.id)))
        assert mine.total == accepted and {e.user_id for e in mine.events} == {analyst.id}
        assert [u.id for u in mine.actors] == [analyst.id]
        verifying = audit.campaign_events(campaign, audit.AuditQuery(action="answer.verify"))
        assert verifying.total == accepted
        inst = audit.campaign_events(campaign, audit.AuditQuery(institution=str(scored.ids["Q2"])))
        assert inst.total > 0 and {e.response_id for e in inst.events} == {scored.responses["Q2"]}
        today = datetime.now(UTC).astimezone(audit.ZoneInfo(audit.ZONE)).date()
        assert audit.campaign_events(campaign, audit.AuditQuery(since=today.isoformat())).total == everything.total
        later = (today + timedelta(days=1)).isoformat()
        assert audit.campaign_events(campaign, audit.AuditQuery(since=later)).total == 0
        assert audit.campaign_events(campaign, audit.AuditQuery(until=(today - timedelta(days=1)).isoformat())).total == 0
        second = audit.campaign_events(campaign, audit.AuditQuery(page=2), per_page=10)
        first = audit.campaign_events(campaign, audit.AuditQuery(page=1), per_page=10)
        assert len(second.events) == 10 and not {e.id for e in first.events} & {e.id for e in second.events}
        assert first.events[0].id > second.events[0].id  # newest first
        other = campaigns.create("Otra", 2024, slug="otra")
        assert audit.campaign_events(other).total == 1  # only its own creation

    sign_in(client, scored.users["analyst"])
    base = f"/analyst/{scored.slug}/audit"
    html = client.get(f"{base}?action=answer.verify").get_data(as_text=True)
    assert f'data-total="{accepted}"' in html and "Verificó una respuesta" in html and ">answer.verify<" not in html
    assert "analyst@example.org" in html and "Secretaría de Finanzas de Querétaro" in html
    assert everything.total > audit.PER_PAGE
    html = client.get(base).get_data(as_text=True)
    assert 'rel="next"' in html and "page=2" in html and html.count("<tr data-event=") == audit.PER_PAGE
    page_two = client.get(f"{base}?page=2").get_data(as_text=True)
    assert 'rel="prev"' in page_two
    assert page_two.count("<tr data-event=") == min(audit.PER_PAGE, everything.total - audit.PER_PAGE)
    with app.app_context():
        review.verify(responses.get(scored.responses["J1"]), {
            "field": "ai_channels", "decision": "correct", "value": ["pnt", "phone"], "reason": "Solo PNT y teléfono"},
            db.session.get(User, scored.users["analyst"]))
    corrected = client.get(f"{base}?institution={scored.ids['J1']}&action=answer.verify").get_data(as_text=True)
    assert "<td>Plataforma Nacional de Transparencia, Teléfono</td>" in corrected and "pnt phone" not in corrected
    status = client.get(f"{base}?action=campaign.status").get_data(as_text=True)
    assert "Cambió el estado de la campaña" in status and ">Abierta<" in status and ">open<" not in status
    refused = client.get(f"{base}?since=ayer")
    assert refused.status_code == 400 and "AAAA-MM-DD" in refused.get_data(as_text=True)


def test_bulk_accept_everything_the_filters_show(app, client, scored):
    from diagnostic.services import responses, review

    sign_in(client, scored.users["analyst"])
    table = f"/analyst/{scored.slug}/responses"
    html = client.get(f"{table}?state=22").get_data(as_text=True)
    assert "Aceptar las pendientes de los 2 envíos que muestran los filtros" in html
    token = csrf_token(client, table)
    asked = client.post(f"{table}/bulk-accept", data={"csrf_token": token, "scope": "all", "state": "22"})
    assert 'data-responses="2"' in asked.get_data(as_text=True)
    assert '<input type="hidden" name="scope" value="all">' in asked.get_data(as_text=True)
    assert 'name="ids"' not in asked.get_data(as_text=True)
    done = client.post(f"{table}/bulk-accept", data={"csrf_token": token, "scope": "all", "state": "22",
                                                     "confirm": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/responses?state=22")
    with app.app_context():
        assert review.unreviewed(responses.get(scored.responses["Q2"])) == []
        assert review.unreviewed(responses.get(scored.responses["J1"]))  # another state: untouched


def test_review_page_links_the_next_submission_waiting(app, client, scored):
    from diagnostic.extensions import db
    from diagnostic.models import User
    from diagnostic.services import responses, review

    with app.app_context():
        q1, q2, j1 = (responses.get(scored.responses[k]) for k in ("Q1", "Q2", "J1"))
        # table order: Jalisco (14) before Querétaro (22); Congreso before Secretaría
        assert review.next_to_review(j1).id == q2.id and review.next_to_review(q2).id == q1.id
        assert review.next_to_review(q1).id == j1.id  # wraps to the first
        analyst = db.session.get(User, scored.users["analyst"])
        review.mark_verified(j1, analyst, confirmed=True)
        review.mark_verified(q2, analyst, confirmed=True)
        assert review.next_to_review(q1) is None
    sign_in(client, scored.users["analyst"])
    html = client.get(f"/analyst/{scored.slug}/responses/{scored.responses['J1']}").get_data(as_text=True)
    assert f'href="/analyst/{scored.slug}/responses/{scored.responses["Q1"]}">Siguiente envío por revisar: ' in html
