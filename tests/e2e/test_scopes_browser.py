"""A state guarantor body in a real browser (issue 12 §1): a Jalisco analyst signs in and finds no
trace of an Oaxaca institution anywhere (progress and its tile map, submissions, scores, audit log,
mail, exports, the reports of the unpublished campaign; an Oaxaca response's own address is a 404),
while a national analyst sees both states."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.test_browser import page, server  # noqa: F401  (fixtures)
from tests.web.scoped import JALISCO_MARKERS, PASSWORD, leaked, seed_scoped

pytestmark = pytest.mark.browser


def sign_in(browser_page, base: str, email: str) -> None:
    browser_page.goto(f"{base}/auth/login")
    browser_page.fill("input[name=email]", email)
    browser_page.fill("input[name=password]", PASSWORD)
    browser_page.click("form button[type=submit]")
    browser_page.wait_for_load_state()


def test_a_jalisco_analyst_never_sees_oaxaca_and_a_national_one_sees_both(page, server, app, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    data = seed_scoped(app)
    shots = Path(os.environ.get("APERTURA_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    base = f"{server}/analyst/{data.slug}"
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, server, data.email("jalisco"))

    page.goto(f"{server}/analyst/")
    expect(page.locator("p.scope-note")).to_contain_text("Jalisco")
    page.get_by_role("link", name="Reporte de Jalisco").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jalisco")
    assert leaked(page.content().encode()) == []
    page.screenshot(path=str(shots / "scope-1-state-report.png"), full_page=True)

    pages = {"progress": f"{base}/progress", "responses": f"{base}/responses",
             "scores-institution": f"{base}/scores?by=institution", "scores-state": f"{base}/scores?by=state",
             "audit": f"{base}/audit", "mail": f"{server}/correo/c/{data.slug}"}
    for name, url in pages.items():
        answer = page.goto(url)
        assert answer.status == 200, (name, answer.status)
        html = page.content()
        assert leaked(html.encode()) == [], name
        page.screenshot(path=str(shots / f"scope-2-{name}.png"), full_page=True)
    page.goto(f"{base}/responses")
    expect(page.locator("main")).to_contain_text("Secretaría de Hacienda de Jalisco")
    expect(page.locator("p.eyebrow")).to_contain_text("Su cuenta ve solo: Jalisco")
    page.goto(f"{base}/progress")
    expect(page.locator('[data-state="20"]')).not_to_contain_text("%")  # Oaxaca's tile stays blank
    expect(page.locator("main")).to_contain_text("Municipio de Zapopan")  # own pending institution

    # exports, downloaded with the analyst's session
    for path in ("export/submissions.csv", "export/submissions.xlsx", "export/scores-institution-wide.csv",
                 "export/scores-institution-long.csv", "export/scores-institution.xlsx", "export/scores-state.xlsx"):
        download = page.request.get(f"{base}/{path}")
        assert download.status == 200, path
        assert leaked(download.body()) == [], path
    assert leaked(page.request.get(f"{base}/export/submissions.csv").body(), JALISCO_MARKERS)

    # another state's response, report and the campaign-wide results: not found
    for url in (f"{base}/responses/{data.responses['OAX-TLACO-77']}", f"{server}/resultados/{data.slug}/oaxaca",
                f"{server}/resultados/{data.slug}/", f"{server}/resultados/{data.slug}/nacional",
                f"{server}/resultados/{data.slug}/datos.xlsx", f"{server}/correo/c/{data.slug}/i/"
                f"{data.institutions['OAX-MITLA-78']}"):
        answer = page.goto(url)
        assert answer.status == 404, url
        assert leaked(page.content().encode()) == [], url
    page.goto(f"{base}/responses/{data.responses['OAX-TLACO-77']}")
    page.screenshot(path=str(shots / "scope-3-oaxaca-response-404.png"), full_page=True)

    # the national analyst, in a browser of their own, sees both states
    national = page.context.browser.new_context(locale="es-MX", viewport={"width": 1366, "height": 900})
    other = national.new_page()
    sign_in(other, server, data.email("national"))
    other.goto(f"{base}/responses")
    for name in ("Secretaría de Hacienda de Jalisco", "Consejo Tlacolula de Transparencia"):
        expect(other.locator("main")).to_contain_text(name)
    assert set(leaked(other.content().encode())) >= {"Tlacolula", "OAX-TLACO-77"}
    other.screenshot(path=str(shots / "scope-4-national-responses.png"), full_page=True)
    assert other.goto(f"{base}/responses/{data.responses['OAX-TLACO-77']}").status == 200
    assert other.goto(f"{server}/resultados/{data.slug}/nacional").status == 200
    assert {"Tlacolula", "OAX-TLACO-77"} <= set(leaked(other.request.get(f"{base}/export/submissions.xlsx").body()))
    national.close()
