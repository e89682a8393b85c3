"""An analyst verifies a response in a real browser at 1366 px (issue 9 §4): the verify column is
visible without expanding anything, a choice is corrected with its own control, a missing reason
comes back on the same page with everything typed, keyboard shortcuts, accept all remaining,
mark verified."""
from __future__ import annotations

import re

import pytest

from tests.e2e.test_browser import page, server  # noqa: F401  (fixtures)
from tests.web.conftest import Setup, scored  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_analyst_verifies_a_response_at_1366_px(page, server, scored, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{server}/auth/login")
    page.fill("input[name=email]", "analyst@example.org")
    page.fill("input[name=password]", Setup.password)
    page.click("form button[type=submit]")
    review = f"{server}/analyst/{scored.slug}/responses/{scored.responses['Q1']}"
    page.goto(review)

    unit = page.locator('tr[data-path="ai_unit"]')
    accept = unit.locator("button.accept")
    expect(accept).to_be_visible()
    unit.scroll_into_view_if_needed()
    box = unit.locator("button.correct").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366, box  # no horizontal scrolling needed
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    expect(unit.locator("td.answer")).to_contain_text("Sí")
    evidence = unit.locator("a.evidence")
    expect(evidence).to_have_attribute("target", "_blank")
    expect(evidence).to_have_attribute("rel", re.compile("noopener"))
    expect(page.locator("#shortcuts")).to_be_visible()  # the script ran (no inline script needed)
    page.screenshot(path=str(tmp_path / "review-1366.png"))

    # correct with the question's own control, forget the reason: refused on the same page
    unit.get_by_label("No", exact=True).check()
    guide = page.locator('tr[data-path="ai_guide"]')
    guide.locator('input[name="reason:ai_guide"]').fill("La guía no abre")
    unit.locator("button.correct").click()
    unit = page.locator('tr[data-path="ai_unit"]')
    expect(unit.locator("p.error")).to_contain_text("Una corrección necesita un motivo")
    expect(page.locator("#review-errors")).to_be_visible()
    expect(unit.get_by_label("No", exact=True)).to_be_checked()
    expect(page.locator('input[name="reason:ai_guide"]')).to_have_value("La guía no abre")
    page.screenshot(path=str(tmp_path / "review-error.png"))

    unit.locator('input[name="reason:ai_unit"]').fill("El enlace no muestra datos de contacto")
    unit.locator("button.correct").click()
    unit = page.locator('tr[data-path="ai_unit"]')
    expect(unit.locator(".verified-value")).to_have_text("No")
    expect(unit.locator(".status")).to_have_text("corregida")
    expect(page.locator('input[name="reason:ai_guide"]')).to_have_value("La guía no abre")  # still kept

    # keyboard: j goes to the first answer not reviewed, a accepts it
    page.goto(review)
    first_pending = page.locator('tr[data-verification="pending"]').first.get_attribute("data-path")
    page.locator("h1").click()
    page.keyboard.press("j")
    expect(page.locator("tr.current")).to_have_attribute("data-path", first_pending)
    page.keyboard.press("a")
    expect(page.locator(f'tr[data-path="{first_pending}"] .status')).to_have_text("aceptada")

    pending = int(page.locator("#pending-count").get_attribute("data-pending"))
    assert pending > 10
    page.locator("#accept-remaining").click()
    expect(page.locator(".flash-saved")).to_contain_text(f"Se aceptaron {pending} respuestas")
    expect(page.locator("#pending-count")).to_have_attribute("data-pending", "0")
    expect(page.locator('tr[data-verification="pending"]')).to_have_count(0)

    page.locator("#mark-verified").click()
    expect(page.locator("#status")).to_have_text("Verificada")
    page.screenshot(path=str(tmp_path / "review-verified.png"), full_page=True)
