"""Campaign set-up from scratch (issue 9 §1, §4): index models chosen in the web, the CLI and
the API and checked against the campaign's questionnaires, a preview of the model at work, the
checklist before opening, confirmations that say what a status change does, editing and
deleting a draft, and labels instead of codes."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from diagnostic.extensions import db
from diagnostic.models import (
    Campaign,
    CampaignStatus,
    IndexModelVersion,
    Institution,
    InstrumentPurpose,
    Order,
)
from tests.web.conftest import csrf_token, login

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_MODEL = (ROOT / "surveys" / "definitions" / "apertura.model.yaml").read_text(encoding="utf-8")
# The shipped model with one leaf reading a field no questionnaire has (line 66 of the file).
BAD_MODEL = SHIPPED_MODEL.replace("- code: ai_unit\n", "- code: ai_unitx\n", 1)


def text_of(response) -> str:
    """A page's visible text, whitespace collapsed."""
    import html

    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def new_campaign(app, slug="nueva", *, gobierno=True, institutions=True, model=None):
    """A draft campaign built through the services: the government questionnaire, two institutions."""
    from diagnostic.services import campaigns, index_models, instruments
    from diagnostic.services import institutions as institutions_service

    with app.app_context():
        campaign = campaigns.create("Nueva", 2026, slug=slug)
        if gobierno:
            campaigns.set_instrument(campaign, InstrumentPurpose.INSTITUTION, instruments.store_shipped("gobierno"))
        if institutions:
            insts = [Institution(key=f"{slug}-1", name=f"Secretaría {slug}", state_code="14", order=Order.ESTATAL,
                                 type="ejecutivo"),
                     Institution(key=f"{slug}-2", name=f"Congreso {slug}", state_code="22", order=Order.ESTATAL,
                                 type="legislativo")]
            db.session.add_all(insts)
            db.session.commit()
            institutions_service.add_to_campaign(campaign, insts)
        if model:
            index_models.choose(campaign, shipped=model)
        return campaign.slug


def get(app, slug):
    from diagnostic.services import campaigns

    return campaigns.get_by_slug(slug)


# ------------------------------------------------------------------ index models (services)
def test_a_shipped_model_is_checked_against_the_campaigns_questionnaires(app):
    from diagnostic.services import index_models

    slug = new_campaign(app)
    with app.app_context():
        campaign = get(app, slug)
        stored, checked = index_models.choose(campaign, shipped="apertura")
        assert campaign.index_model.model_id == "apertura" and stored.content_hash.startswith("sha256:")
        assert not stored.locked  # fixed only when the campaign opens
        # the model also scores the evaluators' questionnaire, which this campaign does not have
        assert any("ciudadana" in w.es and "ciudadana" in w.en for w in checked.warnings)


def test_a_model_that_does_not_fit_is_refused_with_model_checks_located_messages(app):
    from diagnostic.services import ServiceError, index_models
    from scoring.cli import check_models

    slug = new_campaign(app)
    with app.app_context():
        campaign = get(app, slug)
        with pytest.raises(ServiceError) as refused:
            index_models.choose(campaign, source=BAD_MODEL.encode(), filename="mio.model.yaml")
        assert refused.value.status == 422
        es, en = refused.value.details_for("es"), refused.value.details_for("en")
        assert es == ["mio.model.yaml:66: ai_unitx: Campo desconocido en los instrumentos: ai_unitx"]
        assert en == ["mio.model.yaml:66: ai_unitx: Unknown field in the instruments: ai_unitx"]
        assert campaign.index_model is None
        assert db.session.scalar(sa.select(sa.func.count(IndexModelVersion.id))) == 0
        # a model built for imported scores reads no questionnaire field: refused, each leaf located
        with pytest.raises(ServiceError) as imported:
            index_models.choose(campaign, shipped="metrica-2017")
        assert {d.split(": ")[1] for d in imported.value.details_for("es")} == {"TG", "TC", "PG", "PC"}
    # the same wording `apertura model check` prints for that file
    lines, failed = check_models([str(ROOT / "surveys" / "definitions" / "apertura.model.yaml")])
    assert not failed


def test_the_model_is_fixed_once_the_campaign_opens(app):
    from diagnostic.services import Conflict, campaigns, index_models

    slug = new_campaign(app, model="apertura")
    with app.app_context():
        campaign = get(app, slug)
        campaigns.set_status(campaign, "open")
        assert campaign.index_model.locked and campaign.opens_at is not None
        with pytest.raises(Conflict) as refused:
            index_models.choose(campaign, shipped="conditions")
        assert refused.value.refusal.name == "MODEL_FIXED_WHEN_OPEN"
        assert campaign.index_model.model_id == "apertura"


def test_preview_scores_sample_answers_before_anyone_answers(app):
    from diagnostic.services import index_models

    slug = new_campaign(app, model="apertura")
    with app.app_context():
        preview = index_models.preview(get(app, slug))
        assert preview.source == "sample" and preview.count == index_models.SAMPLE_INSTITUTIONS
        root = preview.nodes[0]
        assert root.code == "GA" and root.weight is None and root.effective == 1.0
        assert 0 < root.mean < 1 and 0 <= root.low <= root.mean <= root.high <= 1
        by_code = {n.code: n for n in preview.nodes}
        assert by_code["T"].weight == pytest.approx(0.5) and by_code["TG"].effective == pytest.approx(0.25)
        children = [n for n in preview.nodes if n.depth == 1]
        assert sum(n.weight for n in children) == pytest.approx(1.0)
        assert index_models.preview(get(app, slug)).nodes[0].mean == root.mean  # seeded: the same every time


def test_preview_scores_the_answers_so_far_with_the_campaigns_numbers(app, scored):
    from diagnostic.services import campaigns, index_models, scores

    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        preview = index_models.preview(campaign)
        assert preview.source == "answers" and preview.count == 4  # three submitted and one draft
        shown = {i["key"]: i["value"] for i in preview.institutions}
        table = scores.compute(campaign).table("institution", "index").set_index("institution")
        for key in ("Q1", "Q2", "J1"):
            assert shown[key] == pytest.approx(table.loc[key, "GA"])
        assert shown["Q1"] > shown["Q2"]


# ------------------------------------------------------------------ checklist
def test_checklist_blocks_opening_until_the_essentials_are_there(app):
    from diagnostic.services import Conflict, campaigns

    slug = new_campaign(app, gobierno=False, institutions=False)
    with app.app_context():
        campaign = get(app, slug)
        items = {i.key: i for i in campaigns.checklist(campaign)}
        assert {k for k, i in items.items() if i.blocks} == {"institution_instrument", "institutions"}
        assert not items["index_model"].ok and not items["index_model"].blocking  # a warning
        with pytest.raises(Conflict) as refused:
            campaigns.set_status(campaign, "open")
        assert refused.value.refusal.name == "CAMPAIGN_NOT_READY"
        assert any("cuestionario institucional" in d for d in refused.value.details_for("es"))
        assert any("no institutions" in d for d in refused.value.details_for("en"))
        assert campaign.status == CampaignStatus.DRAFT


def test_checklist_names_who_answers_each_questionnaire(app):
    from diagnostic.services import campaigns, instruments, users

    slug = new_campaign(app, model="apertura")
    with app.app_context():
        campaign = get(app, slug)
        campaigns.set_instrument(campaign, "evaluator", instruments.store_shipped("ciudadana"))
        campaigns.set_instrument(campaign, "state", instruments.store_shipped("condiciones"))
        items = {i.key: i for i in campaigns.checklist(campaign)}
        assert items["evaluators"].text.es == "Instituciones sin evaluador asignado: 2 de 2."
        assert "Jalisco" in items["state_respondents"].text.es and "Querétaro" in items["state_respondents"].text.es
        assert not any(i.blocks for i in items.values())
        from diagnostic.services import assignments

        evaluator = users.create("eva@example.org", "Eva", "evaluator", "correct horse")
        assignments.assign(campaign, [i for i in campaign_institutions(campaign)], evaluator)
        assert {i.key: i for i in campaigns.checklist(campaign)}["evaluators"].ok


def campaign_institutions(campaign):
    from diagnostic.services import institutions

    return institutions.in_campaign(campaign)


def test_a_deadline_already_past_blocks_opening(app):
    from datetime import UTC, datetime

    from diagnostic.services import campaigns

    slug = new_campaign(app)
    with app.app_context():
        campaign = get(app, slug)
        campaigns.update(campaign, closes_at=datetime(2020, 1, 31, tzinfo=UTC))
        deadline = {i.key: i for i in campaigns.checklist(campaign)}["deadline"]
        assert deadline.blocks and "2020-01-31" in deadline.text.es


# ------------------------------------------------------------------ edit, delete
def test_a_draft_is_edited_and_an_open_campaign_is_not(app):
    from diagnostic.models import AuditEvent
    from diagnostic.services import Conflict, campaigns

    slug = new_campaign(app)
    with app.app_context():
        campaign = get(app, slug)
        assert campaigns.update(campaign, name="Diagnóstico Jalisco", year=2027, instructions="Hola") == [
            "name", "year", "instructions"]
        assert (campaign.name, campaign.year, campaign.slug) == ("Diagnóstico Jalisco", 2027, slug)
        edits = db.session.scalars(sa.select(AuditEvent.field).where(AuditEvent.action == "campaign.edit")).all()
        assert sorted(edits) == ["instructions", "name", "year"]
        campaigns.set_status(campaign, "open")
        with pytest.raises(Conflict):
            campaigns.update(campaign, name="Otro")


def test_only_a_campaign_nobody_answered_is_deleted(app, scored):
    from diagnostic.services import Conflict, campaigns, invitations

    slug = new_campaign(app, model="apertura")
    with app.app_context():
        campaign = get(app, slug)
        campaigns.set_status(campaign, "open")
        invitations.issue(campaign, campaign_institutions(campaign))
        campaigns.delete(campaign)
        assert campaigns.get_by_slug(slug, missing_ok=True) is None
        assert db.session.scalar(sa.select(sa.func.count(Institution.id)).where(Institution.key.like(f"{slug}-%"))) == 2
        with pytest.raises(Conflict) as refused:
            campaigns.delete(campaigns.get_by_slug(scored.slug))
        assert refused.value.refusal.name == "CAMPAIGN_HAS_RESPONSES"


# ------------------------------------------------------------------ labels
def test_every_stored_code_has_a_label_in_both_languages():
    from diagnostic import labels
    from diagnostic.models import ResponseStatus, Role
    from diagnostic.services.institutions import TYPES
    from scoring.model import LEVELS

    for enum in (CampaignStatus, ResponseStatus, InstrumentPurpose, Order, Role):
        for member in enum:
            both = labels.both(member)
            assert both.es != member.value or member.value in ("federal",), member
            assert both.en and both.es
    for code in TYPES:
        assert labels.label(code, "type", "es") != code
    for level in LEVELS:
        assert labels.label(level, "level", "en") != level
    assert labels.label(CampaignStatus.OPEN, lang="es") == "Abierta"
    assert labels.label(CampaignStatus.OPEN, lang="en") == "Open"


# ------------------------------------------------------------------ the web
@pytest.fixture
def admin(app, setup):
    client = app.test_client()
    login(client, setup.admin)
    return client


def post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/"), **data})


def test_opening_with_something_missing_lists_what_is_missing(admin, app):
    post(admin, "/admin/campaigns", name="Diagnóstico Jalisco", year="2026")
    refused = post(admin, "/admin/c/diagnostico-jalisco-2026/status", status="open")
    assert refused.status_code == 409
    page = text_of(refused)
    assert "La campaña aún no se puede abrir" in page and "Conflicto" not in page
    assert "Falta (impide abrir): Elija el cuestionario institucional" in page
    assert "Falta (impide abrir): La campaña no tiene instituciones" in page
    assert "Aviso: Sin modelo de índice" in page
    admin.get("/?lang=en")
    english = text_of(post(admin, "/admin/c/diagnostico-jalisco-2026/status", status="open"))
    assert "The campaign cannot open yet" in english and "Missing (blocks opening):" in english
    with app.app_context():
        assert get(app, "diagnostico-jalisco-2026").status == CampaignStatus.DRAFT


def test_status_changes_ask_first_and_say_what_will_change(admin, app, setup):
    asked = post(admin, f"/admin/c/{setup.slug}/status", status="closed")
    assert asked.status_code == 200
    page = text_of(asked)
    assert "¿Cerrar la campaña?" in page and "Los enlaces de invitación dejan de funcionar" in page
    assert 'name="confirm" type="hidden" value="yes"' in asked.get_data(as_text=True)
    with app.app_context():
        assert get(app, setup.slug).status == CampaignStatus.OPEN  # nothing changed yet
    assert post(admin, f"/admin/c/{setup.slug}/status", status="closed", confirm="yes").status_code == 302
    reopen = text_of(post(admin, f"/admin/c/{setup.slug}/status", status="open"))
    assert "¿Reabrir la campaña?" in reopen and "vuelven a funcionar" in reopen
    # Publishing goes through the review (methodology §9.5): not straight from closed.
    assert post(admin, f"/admin/c/{setup.slug}/status", status="published").status_code == 409
    review = text_of(post(admin, f"/admin/c/{setup.slug}/status", status="in_review"))
    assert "¿Pasar la campaña a revisión?" in review and "pueden impugnar reactivos" in review
    with app.app_context():
        get(app, setup.slug).reply_days = 0  # no window to wait for
        db.session.commit()
    assert post(admin, f"/admin/c/{setup.slug}/status", status="in_review", confirm="yes").status_code == 302
    publish = text_of(post(admin, f"/admin/c/{setup.slug}/status", status="published"))
    assert "¿Publicar los resultados?" in publish
    assert f"http://localhost/resultados/{setup.slug}/" in publish and "No se puede deshacer" in publish
    assert "Derecho de réplica: reactivos impugnados, 0; reactivos que cambiaron, 0" in publish
    with app.app_context():
        assert get(app, setup.slug).status == CampaignStatus.IN_REVIEW
    assert post(admin, f"/admin/c/{setup.slug}/status", status="published", confirm="yes").status_code == 302
    with app.app_context():
        assert get(app, setup.slug).status == CampaignStatus.PUBLISHED


def test_admin_pages_show_labels_never_codes(admin, setup):
    page = admin.get(f"/admin/c/{setup.slug}").get_data(as_text=True)
    for code in ("open", "draft", "institution", "evaluator", "submitted"):
        assert f">{code}<" not in page and f"{code}:" not in page, code
    assert ">Abierta<" in page and "La institución (con su enlace de invitación)" in page
    assert "<td>Abierta</td>" in admin.get("/admin/").get_data(as_text=True)
    users_page = admin.get("/admin/users").get_data(as_text=True)
    assert "<td>Administración</td>" in users_page and '<option value="analyst">Analista</option>' in users_page
    admin.get("/?lang=en")
    assert ">Open<" in admin.get(f"/admin/c/{setup.slug}").get_data(as_text=True)


def test_choose_a_model_in_the_web_and_preview_it(admin, app):
    slug = new_campaign(app)
    token = csrf_token(admin, "/admin/")
    bad = admin.post(f"/admin/c/{slug}/model", content_type="multipart/form-data",
                     data={"csrf_token": token, "file": (io.BytesIO(BAD_MODEL.encode()), "mio.model.yaml")})
    assert bad.status_code == 422
    assert "mio.model.yaml:66: ai_unitx: Campo desconocido en los instrumentos: ai_unitx" in text_of(bad)
    chosen = admin.post(f"/admin/c/{slug}/model", content_type="multipart/form-data",
                        data={"csrf_token": token, "shipped": "apertura"})
    assert chosen.status_code == 302
    page = text_of(admin.get(f"/admin/c/{slug}"))
    assert "Modelo de índice elegido: apertura 2026.1" in page and "ciudadana" in page
    preview = admin.get(f"/admin/c/{slug}/model/preview")
    assert preview.status_code == 200
    shown = text_of(preview)
    assert "instituciones de ejemplo" in shown and "Índice de Gobierno Abierto GA" in shown
    assert "Transparencia T Dimensión 50 % 50.0 %" in shown


def test_edit_and_delete_a_draft_in_the_web(admin, app):
    slug = new_campaign(app)
    form = admin.get(f"/admin/c/{slug}/edit").get_data(as_text=True)
    assert 'value="Nueva"' in form
    assert post(admin, f"/admin/c/{slug}/edit", name="Renombrada", year="2026", closes_at="2026-12-20",
                instructions="Nuevas").status_code == 302
    with app.app_context():
        campaign = get(app, slug)
        assert campaign.name == "Renombrada" and campaign.closes_at.strftime("%Y-%m-%d") == "2026-12-20"
    asked = text_of(admin.get(f"/admin/c/{slug}/delete"))
    assert "instituciones (2)" in asked
    assert post(admin, f"/admin/c/{slug}/delete", slug="otra").status_code == 400
    assert post(admin, f"/admin/c/{slug}/delete", slug=slug).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Campaign).where(Campaign.slug == slug)) is None


# ------------------------------------------------------------------ CLI and API
def test_cli_campaign_model_list_and_show(runner, app, tmp_path):
    slug = new_campaign(app)
    bad = tmp_path / "mio.model.yaml"
    bad.write_text(BAD_MODEL, encoding="utf-8")
    refused = runner.invoke(args=["campaign", "model", slug, str(bad)])
    assert refused.exit_code == 1 and "mio.model.yaml:66: ai_unitx: Campo desconocido" in refused.output
    done = runner.invoke(args=["campaign", "model", slug, "--shipped", "apertura"])
    assert done.exit_code == 0, done.output
    assert f"{slug}: index model apertura 2026.1" in done.output
    assert "apertura 2026.1" in runner.invoke(args=["campaign", "list"]).output
    shown = runner.invoke(args=["campaign", "show", slug]).output
    assert "Borrador" in shown and "[ok] Modelo de índice: apertura 2026.1" in shown
    assert runner.invoke(args=["campaign", "model", slug]).exit_code == 2  # neither --shipped nor FILE


def test_api_sets_the_index_model(app, client, setup):
    from diagnostic.services import tokens

    slug = new_campaign(app)
    with app.app_context():
        admin_token = tokens.issue_for_email(setup.admin)
        analyst_token = tokens.issue_for_email(setup.analyst)
    url = f"/api/v1/campaigns/{slug}/index-model"
    as_admin = {"Authorization": f"Bearer {admin_token}"}
    assert client.put(url, json={"shipped": "apertura"},
                      headers={"Authorization": f"Bearer {analyst_token}"}).status_code == 403
    bad = client.put(url, json={"filename": "mio.model.yaml", "source": BAD_MODEL}, headers=as_admin)
    assert bad.status_code == 422 and bad.get_json()["code"] == "index_model_rejected"
    assert bad.get_json()["details"] == ["mio.model.yaml:66: ai_unitx: Campo desconocido en los instrumentos: ai_unitx"]
    done = client.put(url, json={"shipped": "apertura"}, headers=as_admin)
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["index_model"]["id"] == "apertura" and any("ciudadana" in w["message_en"] for w in body["warnings"])
    assert client.put(url, json={}, headers=as_admin).status_code == 400
    opened = client.put(f"/api/v1/campaigns/{setup.slug}/index-model", json={"shipped": "apertura"}, headers=as_admin)
    assert opened.status_code == 200  # opened without a model: it may still get one, then it is fixed
    again = client.put(f"/api/v1/campaigns/{setup.slug}/index-model", json={"shipped": "conditions"}, headers=as_admin)
    assert again.status_code == 409 and json.dumps(again.get_json())


def test_a_refused_status_change_names_statuses_by_their_labels(app, setup):
    from diagnostic.services import Conflict, campaigns

    with app.app_context():
        with pytest.raises(Conflict) as refused:
            campaigns.set_status(campaigns.get_by_slug(setup.slug), "published")
        assert refused.value.message_for("es") == "No se puede pasar de Abierta a Publicada"
        assert refused.value.message_for("en") == "Cannot go from Open to Published"
