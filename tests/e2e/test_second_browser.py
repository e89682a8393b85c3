"""Two-stage verification in a real browser (issue 12 §2): the state verified three responses;
a national admin draws the sample, verifies one response blind (no first verdict on the page),
resolves the disagreement, reads the agreement page and the state report's annex."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.e2e.test_browser import page, server  # noqa: F401  (fixtures)
from tests.web.conftest import Setup, scored  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
FIRST_REASON = "Corrección de la entidad XYZ"


def _shot(tab, tmp_path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    if os.environ.get("APERTURA_SHOTS"):  # keep them for a person to look at
        shutil.copy(path, os.path.join(os.environ["APERTURA_SHOTS"], path.name))


def test_draw_blind_second_verification_resolution_and_annex(app, page, server, scored, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from diagnostic.extensions import db
    from diagnostic.models import User
    from diagnostic.services import responses, review

    with app.app_context():
        analyst = db.session.get(User, scored.users["analyst"])
        q1 = responses.get(scored.responses["Q1"])
        review.verify(q1, {"field": "ta_share", "decision": "correct", "value": "55", "reason": FIRST_REASON}, analyst)
        for key in ("Q1", "Q2", "J1"):
            response = responses.get(scored.responses[key])
            review.accept_remaining(response, analyst)
            review.mark_verified(response, analyst)

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{server}/auth/login")
    page.fill("input[name=email]", "admin@example.org")
    page.fill("input[name=password]", Setup.password)
    page.click("form button[type=submit]")

    page.goto(f"{server}/analyst/{scored.slug}/progress")
    page.get_by_role("link", name="Segunda verificación").click()
    page.locator("#draw").click()
    expect(page.locator(".flash-saved")).to_contain_text("Se sortearon 3 respuestas")
    expect(page.locator("#queue tbody tr")).to_have_count(3)
    _shot(page, tmp_path, "second-queue")

    page.get_by_role("link", name="Secretaría de Finanzas de Querétaro").click()
    expect(page.locator("#blind-note")).to_be_visible()
    body = page.content()
    assert FIRST_REASON not in body and "55" not in page.locator("#answers").inner_text()
    share = page.locator('tr[data-field="ta_share"]')
    expect(share.locator(".value")).to_have_text("80")
    _shot(page, tmp_path, "second-blind")
    share.locator('input[name="value"]').fill("80")
    share.locator('input[name="reason"]').fill("El SIPOT muestra 80 %")
    share.locator("button.correct").click()
    expect(page.locator('tr[data-field="ta_share"] .status')).to_have_text("corregida")
    page.locator("#accept-remaining").click()
    for name in ("Congreso de Querétaro", "Secretaría de Hacienda de Jalisco"):
        page.get_by_role("link", name=name).click()
        page.locator("#accept-remaining").click()
    expect(page.locator("#second-summary")).to_contain_text("Reactivos sin veredicto: 0")

    page.locator("#to-resolution").click()
    row = page.locator("#disagreements tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".first-value")).to_have_text("55")
    expect(row).to_contain_text(FIRST_REASON)
    expect(row).to_contain_text("El SIPOT muestra 80 %")
    _shot(page, tmp_path, "second-resolution")
    row.get_by_label("el de la segunda").check()
    row.get_by_label("Motivo").fill("Se consultó el SIPOT: 80 %")
    row.get_by_role("button", name="Resolver").click()
    expect(page.locator("#disagreements tbody tr")).to_have_attribute("data-resolved", "yes")
    expect(page.locator(".resolved-value")).to_have_text("80")

    page.get_by_role("link", name="Acuerdo entre verificadores").click()
    expect(page.locator("#agreement-institution")).to_contain_text("Todos los reactivos")
    _shot(page, tmp_path, "second-agreement")

    # The first-stage review shows the resolved value that scores use.
    page.goto(f"{server}/analyst/{scored.slug}/responses/{scored.responses['Q1']}")
    expect(page.locator('tr[data-path="ta_share"] td.answer')).to_contain_text("80")

    page.goto(f"{server}/resultados/{scored.slug}/22")
    annex = page.locator("section.agreement")
    expect(annex).to_contain_text("Segunda verificación y acuerdo entre verificadores")
    expect(annex.locator("#cap-kappa-institution")).to_be_visible()
    expect(annex).to_contain_text("Querétaro")
    annex.scroll_into_view_if_needed()
    _shot(page, tmp_path, "second-annex")
    pdf = page.request.get(f"{server}/resultados/{scored.slug}/22.pdf")
    assert pdf.status == 200 and pdf.body()[:4] == b"%PDF"
