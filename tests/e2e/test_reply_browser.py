"""The right of reply in a real browser (Debian's Chromium, issue 12 "What it must show"): an
institution opens its link while the campaign is in review, on a 390 px phone, sees the
verifier's correction with its reason, contests the item with a comment; an analyst accepts
the contest on /analyst/<slug>/contests; the institution sees the outcome and the new score."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.test_browser import ARGS, CHROMIUM, server  # noqa: F401  (fixtures)
from tests.web.conftest import Setup, scored  # noqa: F401

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("REPLY_SHOTS")  # a folder to keep the screenshots in (else the test's tmp_path)


def test_an_institution_contests_an_item_and_sees_the_outcome(app, scored, server, tmp_path):  # noqa: F811
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed; `make test` installs it")
    from playwright.sync_api import expect, sync_playwright

    from diagnostic.extensions import db
    from diagnostic.models import Institution, User
    from diagnostic.services import campaigns, invitations, responses, scores
    from diagnostic.services.audit import Actor

    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        analyst = db.session.get(User, scored.users["analyst"])
        responses.verify_answer(responses.get(scored.responses["Q1"]), "ai_guide", None, Actor.for_user(analyst),
                                corrected="no", reason="La guía enlazada no abre")
        campaigns.set_status(campaign, "closed")
        campaigns.set_status(campaign, "in_review")
        token = invitations.create(campaign, db.session.get(Institution, scored.ids["Q1"]))
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        phone = browser.new_context(locale="es-MX", viewport={"width": 390, "height": 844}).new_page()
        phone.set_default_timeout(20000)
        phone.goto(f"{server}/r/{token}")  # the link itself leads to the scores while in review
        expect(phone.get_by_role("heading", level=1)).to_have_text("Sus puntajes antes de la publicación")
        item = phone.locator("#i-ai_guide")
        expect(item.locator(".item-score")).to_have_text("Puntaje 0.00")
        expect(item.locator(".correction")).to_contain_text("La guía enlazada no abre")
        expect(item.get_by_role("link", name="https://finanzas.example.org/guia.pdf")).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
        phone.screenshot(path=str(shots / "reply-01-phone.png"), full_page=False)
        item.get_by_text("Impugnar este reactivo").click()
        item.get_by_label("Comentario (obligatorio)").fill("La guía está publicada en el portal desde marzo.")
        item.get_by_label("Nueva evidencia: dirección web (opcional)").fill("https://finanzas.example.org/guia-2025.pdf")
        item.screenshot(path=str(shots / "reply-02-form.png"))
        item.get_by_role("button", name="Enviar impugnación").click()
        expect(phone.locator("#contest-sent")).to_be_visible()
        expect(phone.locator("#i-ai_guide .contest-box")).to_contain_text("En espera de decisión")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.locator("#i-ai_guide").screenshot(path=str(shots / "reply-03-sent.png"))

        staff = browser.new_context(locale="es-MX", viewport={"width": 1280, "height": 900}).new_page()
        staff.set_default_timeout(20000)
        staff.goto(f"{server}/auth/login")
        staff.get_by_label("Correo electrónico").fill("analyst@example.org")
        staff.get_by_label("Contraseña").fill(Setup.password)
        staff.get_by_role("button", name="Entrar").click()
        staff.goto(f"{server}/analyst/{scored.slug}/progress")
        staff.get_by_role("link", name="Réplica").click()
        contest = staff.locator("article.contest").first
        expect(contest).to_contain_text("La guía está publicada en el portal desde marzo.")
        staff.screenshot(path=str(shots / "reply-04-analyst.png"), full_page=True)
        contest.locator("input[type=radio][value=yes]").check()
        contest.get_by_label("Motivo de la decisión").fill("La guía existe en la nueva dirección")
        contest.get_by_role("button", name="Aceptar: el reactivo cambia").click()
        expect(staff.locator("#no-contests")).to_be_visible()
        expect(staff.locator("#totals")).to_contain_text("Reactivos impugnados: 1 · cambiaron: 1 · en espera de decisión: 0")

        phone.reload()
        box = phone.locator("#i-ai_guide .contest-box")
        expect(box).to_contain_text("Aceptada: el reactivo cambió")
        expect(box).to_contain_text("La guía existe en la nueva dirección")
        expect(phone.locator("#i-ai_guide .item-score")).to_have_text("Puntaje 1.00")
        phone.locator("#i-ai_guide").screenshot(path=str(shots / "reply-05-outcome.png"))
        browser.close()

    with app.app_context():
        assert scores.compute(campaigns.get_by_slug(scored.slug)).item_scores("Q1")["ai_guide"]["score"] == 1.0
