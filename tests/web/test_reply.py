"""Right of reply before publication (methodology §9.5): the window in business days, contests
through an institution's link, verifiers' decisions, publication waiting for them, and the
state report counting what was contested and what changed."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import AuditEvent, CampaignStatus, Contest, Institution, User
from tests.web.conftest import sign_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# ------------------------------------------------------------------ window arithmetic
def test_business_days_skip_weekends_and_federal_holidays():
    from diagnostic.services.reply import add_business_days

    assert add_business_days(date(2026, 12, 2), 10) == date(2026, 12, 16)  # Wed + 10: two weekends
    assert add_business_days(date(2026, 12, 22), 3) == date(2026, 12, 28)  # Christmas is skipped
    assert add_business_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Friday → Monday
    assert add_business_days(date(2026, 12, 4), 0) == date(2026, 12, 4)


def test_the_window_closes_at_the_end_of_its_last_day_in_mexico_city():
    from diagnostic.services.reply import window_for

    # 21:00 on 2 December in Mexico City is already 3 December in UTC: the count starts from the 2nd.
    opened = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    w = window_for(10, opened)
    assert w.last_day == date(2026, 12, 16)
    assert w.closes_at == datetime(2026, 12, 17, 6, 0, tzinfo=UTC)  # midnight in Mexico City (UTC-6)
    assert w.is_open(datetime(2026, 12, 17, 5, 59, tzinfo=UTC))
    assert not w.is_open(datetime(2026, 12, 17, 6, 0, tzinfo=UTC))
    assert "16 de diciembre de 2026, 23:59 (hora de la Ciudad de México)" in w.text("es")
    assert "December 16, 2026, 23:59 (Mexico City time)" in w.text("en")
    closed = window_for(0, opened)
    assert closed.closes_at == opened and not closed.is_open(opened)


# ------------------------------------------------------------------ helpers
def _campaign(app, slug):
    from diagnostic.services import campaigns

    return campaigns.get_by_slug(slug)


def _in_review(app, scored, days: int = 10):
    """Close the scored campaign and start its review; a fresh link for Q1 and for J1."""
    from diagnostic.services import campaigns, invitations

    with app.app_context():
        campaign = _campaign(app, scored.slug)
        campaign.reply_days = days
        campaigns.set_status(campaign, "closed")
        campaigns.set_status(campaign, "in_review")
        q1 = db.session.get(Institution, scored.ids["Q1"])
        j1 = db.session.get(Institution, scored.ids["J1"])
        return invitations.create(campaign, q1), invitations.create(campaign, j1)


def _invitation(token):
    from diagnostic.services import reply

    return reply.resolve(token)


def _correct_guide_to_no(app, scored):
    """A verifier corrects Q1's guide to «no», with a reason (score 1 → 0)."""
    from diagnostic.services import responses
    from diagnostic.services.audit import Actor

    with app.app_context():
        analyst = db.session.get(User, scored.users["analyst"])
        response = responses.get(scored.responses["Q1"])
        responses.verify_answer(response, "ai_guide", None, Actor.for_user(analyst), corrected="no",
                                reason="La guía enlazada no existe")


def _item_score(app, scored, key="Q1", code="ai_guide"):
    from diagnostic.services import scores

    with app.app_context():
        return scores.compute(_campaign(app, scored.slug)).item_scores(key)[code]["score"]


# ------------------------------------------------------------------ status life cycle
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_publishing_goes_through_the_review_and_waits_for_the_window(app, scored):
    from diagnostic.services import Conflict, campaigns, reply

    with app.app_context():
        campaign = _campaign(app, scored.slug)
        campaigns.set_status(campaign, "closed")
        with pytest.raises(Conflict) as straight:
            campaigns.set_status(campaign, "published")
        assert straight.value.message_for("es") == "No se puede pasar de Cerrada a Publicada"
        campaigns.set_status(campaign, "in_review")
        assert campaign.reply_opened_at is not None
        with pytest.raises(Conflict) as running:
            campaigns.set_status(campaign, "published")
        assert running.value.refusal.name == "REPLY_WINDOW_RUNNING"
        assert "hora de la Ciudad de México" in running.value.message_for("es")
        assert "Mexico City time" in running.value.message_for("en")
        # The admin shortens the window to 0 days: it closes at once and publishing goes ahead.
        assert reply.set_days(campaign, 0, campaigns.SYSTEM)
        campaigns.set_status(campaign, "published")
        assert campaign.status == CampaignStatus.PUBLISHED
        with pytest.raises(Conflict):
            reply.set_days(campaign, 5, campaigns.SYSTEM)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_back_to_closed_stops_the_window_and_a_new_review_starts_a_new_one(app, scored):
    from diagnostic.services import ServiceError, campaigns, reply

    q1, _j1 = _in_review(app, scored)
    with app.app_context():
        campaign = _campaign(app, scored.slug)
        first = campaign.reply_opened_at
        campaigns.set_status(campaign, "closed")
        with pytest.raises(ServiceError) as refused:  # the link no longer shows the reply page
            reply.contest(_invitation(q1), "ai_guide", "Sí tenemos guía")
        assert refused.value.refusal.name == "REPLY_NOT_IN_REVIEW" and refused.value.status == 410
        campaigns.set_status(campaign, "in_review")
        assert campaign.reply_opened_at >= first and reply.window(campaign).is_open()


# ------------------------------------------------------------------ contests
def test_contest_accept_changes_the_score_and_the_report_counts_it(app, scored):
    from diagnostic.services import Conflict, campaigns, reply, report

    _correct_guide_to_no(app, scored)
    assert _item_score(app, scored) == 0.0
    q1, _j1 = _in_review(app, scored)
    with app.app_context():
        view = reply.page(_campaign(app, scored.slug), db.session.get(Institution, scored.ids["Q1"]))
        item = view.item("ai_guide")
        assert item.score == 0.0 and item.corrected
        (answer,) = item.answers
        assert answer.reason == "La guía enlazada no existe" and answer.display == "Sí" and answer.verified_display == "No"
        assert answer.evidence_urls == ["https://finanzas.example.org/guia.pdf"]
        contest = reply.contest(_invitation(q1), "ai_guide", "La guía está publicada en el portal",
                                evidence_url="https://finanzas.example.org/guia-2025.pdf",
                                upload=io.BytesIO(PDF), upload_name="../../guia.pdf")
        assert contest.status == "open" and contest.score_before == 0.0
        assert contest.evidence_file.filename == "guia.pdf"  # no path
        with pytest.raises(Conflict) as refused:
            campaigns.set_status(_campaign(app, scored.slug), "published")
        assert refused.value.refusal.name == "CONTESTS_OPEN"
        assert "1 impugnaciones" in refused.value.message_for("es") and "1 institutions'" in refused.value.message_for("en")
        with pytest.raises(Conflict):  # one open contest per item
            reply.contest(_invitation(q1), "ai_guide", "Otra vez")
        analyst = db.session.get(User, scored.users["analyst"])
        changed = reply.accept(contest, {answer.key: "yes"}, "La guía existe en la nueva dirección", analyst)
        assert changed == ["ai_guide"]
        contest_id = contest.id
    assert _item_score(app, scored) == 1.0  # scores.compute reads the accepted value
    with app.app_context():
        campaign = _campaign(app, scored.slug)
        row = db.session.get(Contest, contest_id)
        assert row.status == "accepted" and row.old_value == "ai_guide=no" and row.new_value == "ai_guide=yes"
        actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity == "contest")))
        assert actions == {"contest.create", "contest.evidence", "contest.accept"}
        verify = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "answer.verify")
                                    .order_by(AuditEvent.id.desc())).first()
        assert verify.new_value == "yes" and "réplica" in verify.reason
        counts = report.build(campaign, "22").reply
        assert (counts["contested"], counts["changed"], counts["open"]) == (1, 1, 0)
        assert report.build(campaign, "14").reply["contested"] == 0
        assert reply.totals(campaign)["changed"] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_contest_refusals(app, scored):
    from diagnostic.services import NotFound, ServiceError, campaigns, reply

    q1, j1 = _in_review(app, scored)
    with app.app_context():
        with pytest.raises(ServiceError) as empty:
            reply.contest(_invitation(q1), "ai_guide", "   ")
        assert empty.value.refusal.name == "REPLY_COMMENT_REQUIRED"
        with pytest.raises(ServiceError) as bad_url:
            reply.contest(_invitation(q1), "ai_guide", "Ver", evidence_url="javascript:alert(1)")
        assert bad_url.value.refusal.name == "REPLY_EVIDENCE_URL_INVALID"
        with pytest.raises(NotFound):
            reply.contest(_invitation(q1), "no_such_item", "Ver")
        with pytest.raises(ServiceError) as html:
            reply.contest(_invitation(q1), "ai_guide", "Ver", upload=io.BytesIO(b"<html><script>x</script>"),
                          upload_name="guia.pdf")
        assert html.value.refusal.name == "EVIDENCE_TYPE"
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Contest.id))) == 0  # nothing half-stored
        # Another institution's link sees and files only its own contests and files.
        mine = reply.contest(_invitation(q1), "ai_guide", "Sí hay guía", upload=io.BytesIO(PDF), upload_name="g.pdf")
        other = _invitation(j1)
        assert reply.page(other.campaign, other.institution).contests == []
        with pytest.raises(NotFound):
            reply.own_file(other, mine.evidence_file_id)
        assert reply.own_file(_invitation(q1), mine.evidence_file_id).id == mine.evidence_file_id
        # After the window: refused with the close date, the page is read-only.
        campaign = _campaign(app, scored.slug)
        campaign.reply_opened_at = datetime.now(UTC) - timedelta(days=40)
        db.session.commit()
        with pytest.raises(ServiceError) as late:
            reply.contest(_invitation(q1), "ai_unit", "Tarde")
        assert late.value.refusal.name == "REPLY_WINDOW_CLOSED" and "hora de la Ciudad de México" in late.value.message
        assert not reply.page(campaign, db.session.get(Institution, scored.ids["Q1"])).can_contest
        # Still not publishable: one contest is open.
        with pytest.raises(ServiceError) as open_one:
            campaigns.set_status(campaign, "published")
        assert open_one.value.refusal.name == "CONTESTS_OPEN"
        analyst = db.session.get(User, scored.users["analyst"])
        with pytest.raises(ServiceError) as no_reason:
            reply.reject(mine, " ", analyst)
        assert no_reason.value.refusal.name == "REPLY_DECISION_REASON_REQUIRED"
        with pytest.raises(ServiceError) as unchanged:
            reply.accept(mine, {}, "Motivo", analyst)
        assert unchanged.value.refusal.name == "REPLY_ACCEPT_NEEDS_CHANGE"
        reply.reject(mine, "La guía no estaba publicada en el periodo evaluado", analyst)
        with pytest.raises(ServiceError) as twice:
            reply.reject(mine, "otra vez", analyst)
        assert twice.value.refusal.name == "REPLY_CONTEST_DECIDED"
        campaigns.set_status(campaign, "published")
        # Published: the link still shows the outcome and its reason, read-only.
        view = reply.page(campaign, db.session.get(Institution, scored.ids["Q1"]))
        assert not view.can_contest
        assert [(c.status, c.decision_reason) for c in view.contests] == [
            ("rejected", "La guía no estaba publicada en el periodo evaluado")]
        counts = reply.state_summary(campaign, "22")
        assert (counts["contested"], counts["changed"]) == (1, 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_set_days_checks_its_input(app, scored):
    from diagnostic.services import ServiceError, reply
    from diagnostic.services.audit import SYSTEM

    with app.app_context():
        campaign = _campaign(app, scored.slug)
        for bad in ("-1", "61", "diez", ""):
            with pytest.raises(ServiceError) as refused:
                reply.set_days(campaign, bad, SYSTEM)
            assert refused.value.refusal.name == "REPLY_DAYS_INVALID"
        assert reply.set_days(campaign, "15", SYSTEM) and campaign.reply_days == 15
        assert not reply.set_days(campaign, 15, SYSTEM)


# ------------------------------------------------------------------ the web
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_link_in_review_shows_scores_and_takes_a_contest(app, client, scored):
    q1, j1 = _in_review(app, scored)
    _correct_guide_to_no(app, scored)
    landing = client.get(f"/r/{q1}")
    assert landing.status_code == 302 and landing.headers["Location"].endswith(f"/r/{q1}/replica")
    page = client.get(f"/r/{q1}/replica")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Sus puntajes antes de la publicación" in html and "puede impugnar cualquier reactivo hasta el" in html
    assert "Corregida por el verificador" in html and "La guía enlazada no existe" in html
    assert 'data-item="ai_guide"' in html and "ai_guide" in html
    missing = client.post(f"/r/{q1}/replica/ai_guide", data={"comment": ""})
    assert missing.status_code == 400 and "Escriba un comentario" in missing.get_data(as_text=True)
    sent = client.post(f"/r/{q1}/replica/ai_guide", data={
        "comment": "La guía está en el portal", "evidence_url": "https://finanzas.example.org/g2.pdf",
        "file": (io.BytesIO(PDF), "guia.pdf")}, content_type="multipart/form-data")
    assert sent.status_code == 303
    after = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Impugnación recibida" in after and "En espera de decisión" in after
    with app.app_context():
        contest = db.session.scalar(sa.select(Contest))
        file_id = contest.evidence_file_id
    download = client.get(f"/r/{q1}/replica/archivo/{file_id}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff" and download.data == PDF
    download.close()
    assert client.get(f"/r/{j1}/replica/archivo/{file_id}").status_code == 404  # another institution's link
    assert client.get(f"/r/{j1}/replica").get_data(as_text=True).count("En espera de decisión") == 0
    english = client.get(f"/r/{q1}/replica?lang=en").get_data(as_text=True)
    assert "Your scores before publication" in english and "Awaiting a decision" in english


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_analysts_decide_contests_within_their_states(app, client, scored):
    from diagnostic.services import reply

    q1, _j1 = _in_review(app, scored)
    _correct_guide_to_no(app, scored)
    with app.app_context():
        contest = reply.contest(_invitation(q1), "ai_guide", "La guía está en el portal")
        contest_id = contest.id
        response_id = scored.responses["Q1"]
        jalisco = User(email="jal@example.org", name="Jalisco", role="analyst", password_hash="x")
        db.session.add(jalisco)
        db.session.flush()
        from diagnostic.models import UserState

        db.session.add(UserState(user_id=jalisco.id, state_code="14"))
        db.session.commit()
        jalisco_id = jalisco.id
    sign_in(client, jalisco_id)
    listing = client.get(f"/analyst/{scored.slug}/contests").get_data(as_text=True)
    assert "No hay impugnaciones" in listing and "Secretaría de Finanzas de Querétaro" not in listing
    from tests.web.conftest import csrf_token

    token = csrf_token(client, f"/analyst/{scored.slug}/contests")
    assert client.post(f"/analyst/{scored.slug}/contests/{contest_id}",
                       data={"decision": "reject", "reason": "no", "csrf_token": token}).status_code == 404
    sign_in(client, scored.users["analyst"])
    listing = client.get(f"/analyst/{scored.slug}/contests").get_data(as_text=True)
    assert "Secretaría de Finanzas de Querétaro" in listing and "La guía está en el portal" in listing
    assert 'href="/analyst/metrica-prueba/contests"' in listing  # the analyst nav links the page
    token = csrf_token(client, f"/analyst/{scored.slug}/contests")
    no_reason = client.post(f"/analyst/{scored.slug}/contests/{contest_id}",
                            data={"decision": "accept", f"value:{response_id}:ai_guide": "yes", "reason": "",
                                  "csrf_token": token})
    assert no_reason.status_code == 400 and "Escriba el motivo de la decisión" in no_reason.get_data(as_text=True)
    done = client.post(f"/analyst/{scored.slug}/contests/{contest_id}",
                       data={"decision": "accept", f"value:{response_id}:ai_guide": "yes",
                             "reason": "Guía verificada", "csrf_token": token})
    assert done.status_code == 302
    assert _item_score(app, scored) == 1.0
    audit = client.get(f"/analyst/{scored.slug}/audit").get_data(as_text=True)
    assert "Aceptó una impugnación" in audit and "Impugnó un reactivo (réplica)" in audit
    outcome = client.get(f"/r/{q1}/replica").get_data(as_text=True)
    assert "Aceptada: el reactivo cambió" in outcome and "Guía verificada" in outcome


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_status_page_says_what_review_does_and_the_admin_sets_the_window(app, client, scored):
    from tests.web.conftest import csrf_token

    with app.app_context():
        from diagnostic.services import campaigns

        campaigns.set_status(_campaign(app, scored.slug), "closed")
    sign_in(client, scored.users["admin"])
    page = client.get(f"/admin/c/{scored.slug}").get_data(as_text=True)
    assert "Pasar a revisión (réplica)" in page and "10 días hábiles" in page and ">Publicar<" not in page
    token = csrf_token(client, f"/admin/c/{scored.slug}")
    window = client.post(f"/admin/c/{scored.slug}/reply-window", data={"reply_days": "5", "csrf_token": token})
    assert window.status_code == 302
    bad = client.post(f"/admin/c/{scored.slug}/reply-window", data={"reply_days": "-3", "csrf_token": token})
    assert bad.status_code == 400 and "entre 0 y 60" in bad.get_data(as_text=True)
    asked = client.post(f"/admin/c/{scored.slug}/status", data={"status": "in_review", "csrf_token": token})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "¿Pasar la campaña a revisión?" in text
    assert "pueden impugnar reactivos" in text and "(5 días hábiles)" in text and "hora de la Ciudad de México" in text
    assert client.post(f"/admin/c/{scored.slug}/status", data={"status": "in_review", "confirm": "yes",
                                                              "csrf_token": token}).status_code == 302
    warned = client.post(f"/admin/c/{scored.slug}/status", data={"status": "published", "csrf_token": token})
    assert "Todavía no se puede publicar: el plazo de réplica corre hasta el" in warned.get_data(as_text=True)
    refused = client.post(f"/admin/c/{scored.slug}/status", data={"status": "published", "confirm": "yes",
                                                                 "csrf_token": token})
    assert refused.status_code == 409 and "el plazo de réplica de las instituciones corre hasta el" in \
        refused.get_data(as_text=True)
    page = client.get(f"/admin/c/{scored.slug}").get_data(as_text=True)
    assert "En revisión" in page and "Volver a cerrada" in page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_published_state_report_counts_contests_in_html_and_pdf(app, client, scored, tmp_path):
    import re
    import shutil
    import subprocess

    from diagnostic.services import campaigns, reply, report_cache

    q1, _j1 = _in_review(app, scored)
    _correct_guide_to_no(app, scored)
    with app.app_context():
        before = report_cache.fingerprint(_campaign(app, scored.slug))
        accepted = reply.contest(_invitation(q1), "ai_guide", "La guía existe")
        reply.contest(_invitation(q1), "ai_unit", "La unidad tiene datos de contacto")
        analyst = db.session.get(User, scored.users["analyst"])
        view = reply.page(_campaign(app, scored.slug), db.session.get(Institution, scored.ids["Q1"]))
        reply.accept(accepted, {view.item("ai_guide").answers[0].key: "yes"}, "Guía verificada", analyst)
        rejected = db.session.scalar(sa.select(Contest).where(Contest.item_code == "ai_unit"))
        reply.reject(rejected, "Los datos ya estaban bien calificados", analyst)
        campaign = _campaign(app, scored.slug)
        assert report_cache.fingerprint(campaign) != before  # a decision rebuilds stored reports
        campaign.reply_days = 0
        campaigns.set_status(campaign, "published")
    html = client.get(f"/resultados/{scored.slug}/22").get_data(as_text=True)
    assert 'id="reply-summary" data-contested="2" data-changed="1"' in html
    assert "Derecho de réplica de las instituciones" in html
    assert re.search(r"Reactivos impugnados</th><td class=\"n\">2<", html)
    assert re.search(r"Reactivos que cambiaron</th><td class=\"n\">1<", html)
    english = client.get(f"/resultados/{scored.slug}/22?lang=en").get_data(as_text=True)
    assert "Institutions&#39; right of reply" in english or "Institutions' right of reply" in english
    other = client.get(f"/resultados/{scored.slug}/14").get_data(as_text=True)
    assert 'data-contested="0" data-changed="0"' in other
    pdf = client.get(f"/resultados/{scored.slug}/22.pdf?lang=es")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert shutil.which("pdftotext"), "pdftotext is missing: `make test` installs it (poppler-utils)"
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Derecho de réplica de las instituciones" in text and "Reactivos que cambiaron" in text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_going_in_review_the_admin_e_mails_the_institutions_that_answered(app, client, scored):
    import re

    from tests.web.conftest import csrf_token
    from tests.web.smtp import SmtpServer

    _in_review(app, scored)
    with app.app_context():
        for key, email in (("Q1", "ut@finanzas.example.org"), ("J2", "ut@zapopan.example.org")):
            db.session.get(Institution, scored.ids[key]).contact_email = email  # J2 never submitted
        db.session.commit()
    sign_in(client, scored.users["admin"])
    page = client.get(f"/admin/c/{scored.slug}").get_data(as_text=True)
    assert "Avisar por correo a 1 institución" in page
    with SmtpServer() as smtp:
        app.config.update(smtp.config())
        token = csrf_token(client, f"/admin/c/{scored.slug}")
        assert client.post(f"/admin/c/{scored.slug}/reply-notice", data={"csrf_token": token}).status_code == 302
    (message,) = smtp.received
    assert message.rcpt_tos == ["ut@finanzas.example.org"]
    body = message.body
    assert "derecho de réplica hasta el" in body or "puede impugnarlo" in body
    assert "hora de la Ciudad de México" in body
    link = re.search(r"https?://\S+/r/\S+", body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    opened = client.get("/" + path)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/replica")
    log = client.get(f"/analyst/{scored.slug}/audit").get_data(as_text=True)
    assert "Avisó por correo del derecho de réplica" in log


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_answers_inside_a_repeat_are_shown_per_instance(app, setup):
    from diagnostic.services import reply, responses
    from diagnostic.services.audit import SYSTEM

    with app.app_context():
        campaign = _campaign(app, setup.slug)
        response = responses.get_or_create(campaign, "institution", db.session.get(Institution, setup.institution_id))
        responses.save_page(response, {"has_unit": "yes", "unit_url": "https://ut.example.org/", "received": "3",
                                       "answered": "2", "examples[0].topic": "Obras",
                                       "examples[1].topic": "Nómina"}, SYSTEM)
        responses.submit(response, SYSTEM)
        views = reply._answer_views([response], {"topic", "received", "channels"})
        assert [(a.field, a.repeat_index, a.display) for a in views["topic"]] == [
            ("examples.topic", 0, "Obras"), ("examples.topic", 1, "Nómina")]
        assert [(a.field, a.display) for a in views["received"]] == [("received", "3")]
        assert [(a.field, a.display) for a in views["channels"]] == [("channels", "")]  # unanswered, still listed
