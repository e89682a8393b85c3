"""Per-state reports (HTML and PDF) and the public results portal with open data."""
from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess

from tests.web.conftest import sign_in


def _inflate(data: bytes) -> bytes:
    import zlib

    try:
        return zlib.decompress(data)
    except zlib.error:
        return data


def _publish(app, slug):
    from diagnostic.services import campaigns

    with app.app_context():
        campaign = campaigns.get_by_slug(slug)
        campaigns.set_status(campaign, "closed")
        campaign.reply_days = 0  # no right-of-reply window to wait for (methodology §9.5)
        campaigns.set_status(campaign, "in_review")
        campaigns.set_status(campaign, "published")


def test_unpublished_results_are_hidden_from_the_public_but_shown_to_analysts(client, scored):
    assert client.get(f"/resultados/{scored.slug}/").status_code == 404
    assert client.get(f"/resultados/{scored.slug}/22").status_code == 404
    sign_in(client, scored.users["evaluator"])
    assert client.get(f"/resultados/{scored.slug}/22").status_code == 404
    sign_in(client, scored.users["analyst"])
    page = client.get(f"/resultados/{scored.slug}/22")
    assert page.status_code == 200
    assert "Querétaro" in page.get_data(as_text=True)


def test_state_report_answers_the_methodology_questions(app, client, scored):
    _publish(app, scored.slug)
    html = client.get(f"/resultados/{scored.slug}/Queretaro").get_data(as_text=True)
    for heading in ("¿Dónde está la entidad?", "¿La diferencia es real?", "¿Dónde están las brechas?",
                    "¿Quién está rezagado?", "Condiciones para la apertura", "Inclusión", "Anexo metodológico"):
        assert heading in html
    # the plain-sentence verdict names the state, the gap to the rest of the nation and the rank interval
    verdict = re.search(r'<p class="verdict">(.*?)</p>', html, re.S).group(1)
    assert "Querétaro" in verdict and "resto del país" in verdict and "entidades está entre" in verdict
    # the published 2017 figures sit beside the campaign's (Querétaro GA 0.27; T = (0.32 + 0.32) / 2)
    # (columns: state, CI, adjusted, rest, nation, the state's MGA 2017 value, then the national editions)
    assert "Querétaro en la MGA 2017" in html and "Nacional MGA 2023" in html
    row = re.search(r"<th scope=\"row\">GA ·.*?</tr>", html, re.S).group(0)
    assert re.findall(r'<td class="n">([^<]*)</td>', row)[5:] == ["0.27", "0.39", "0.52", "0.48", "0.46"]
    t_row = re.search(r"<th scope=\"row\">T ·.*?</tr>", html, re.S).group(0)
    assert re.findall(r'<td class="n">([^<]*)</td>', t_row)[5] == "0.32"
    # every institution of the state is listed, the one without a response flagged
    assert "Secretaría de Finanzas de Querétaro" in html and "Congreso de Querétaro" in html
    assert "<svg" in html  # the interval chart
    assert "sha256:" in html  # data fingerprint in the annex
    english = client.get(f"/resultados/{scored.slug}/22?lang=en").get_data(as_text=True)
    verdict_en = re.search(r'<p class="verdict">(.*?)</p>', english, re.S).group(1)
    assert re.match(r"With an index of \d\.\d\d.*, Querétaro is \d\.\d\d (above|below) the rest of the nation "
                    r"\(\d\.\d\d\); the difference is (statistically significant|not conclusive)", verdict_en), verdict_en
    assert "Its place among the" in verdict_en and "resto del país" not in verdict_en


def test_unknown_state_is_a_clear_404(app, client, scored):
    _publish(app, scored.slug)
    assert client.get(f"/resultados/{scored.slug}/Atlantida").status_code == 404
    assert client.get(f"/resultados/{scored.slug}/Sonora").status_code == 404  # no institutions there


def test_pdf_report_is_a_real_pdf_with_the_state_name(app, client, scored, tmp_path):
    _publish(app, scored.slug)
    response = client.get(f"/resultados/{scored.slug}/22.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF")
    # a tagged PDF/UA-1: structure tree, marked content, document language, PDF/UA identification
    streams = b"".join(_inflate(m) for m in re.findall(rb"stream\r?\n(.*?)endstream", body, re.S))
    for marker in (b"StructTreeRoot", b"MarkInfo", b"/Lang", b"pdfuaid"):
        assert marker in body or marker in streams, marker
    assert shutil.which("pdftotext"), "pdftotext is missing: `make test` installs it (poppler-utils)"
    path = tmp_path / "r.pdf"
    path.write_bytes(body)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Querétaro" in text and "Anexo metodológico" in text
    html = client.get(f"/resultados/{scored.slug}/22").get_data(as_text=True)
    index = re.search(r'<span class="big">(\d\.\d\d)</span>', html).group(1)
    assert index in text  # the index, on the cover and in the summary


def test_portal_lists_states_and_serves_open_data(app, client, scored):
    _publish(app, scored.slug)
    html = client.get(f"/resultados/{scored.slug}/").get_data(as_text=True)
    assert "Querétaro" in html and "Jalisco" in html
    data = client.get(f"/resultados/{scored.slug}/datos-state.csv")
    assert data.status_code == 200 and data.mimetype == "text/csv"
    raw = data.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark: Excel reads the accents right
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {r["cve_ent"] for r in rows} >= {"22", "14"}
    assert "Querétaro" in {r["entidad"] for r in rows}
    assert client.get(f"/resultados/{scored.slug}/datos-secret.csv").status_code == 404


def test_home_page_lists_the_results_each_visitor_may_read(app, client, scored):
    assert "Métrica de prueba" not in client.get("/").get_data(as_text=True)
    sign_in(client, scored.users["analyst"])
    staff = client.get("/").get_data(as_text=True)
    assert f'href="/resultados/{scored.slug}/"' in staff and "sin publicar" in staff
    client.post("/auth/logout")
    with client.session_transaction() as session:
        session.clear()
    _publish(app, scored.slug)
    public = client.get("/?lang=en").get_data(as_text=True)
    assert f'href="/resultados/{scored.slug}/"' in public and "not published" not in public
