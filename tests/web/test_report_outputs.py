"""What the reports must show (issue 10): numbers and sentences, text alternatives equal to the
tables, byte-identical builds served from storage per fingerprint, plain answers for edge
cases, open data that opens in Excel and validates as a Frictionless data package."""
from __future__ import annotations

import csv
import html as htmllib
import io
import json
import re

import numpy as np
import pytest

from diagnostic.services import report_cache
from diagnostic.services.report import gap_interval, gap_intervals
from tests.web.conftest import sign_in


def _publish(app, slug):
    from diagnostic.services import campaigns

    with app.app_context():
        campaign = campaigns.get_by_slug(slug)
        campaigns.set_status(campaign, "closed")
        campaign.reply_days = 0  # no right-of-reply window to wait for (methodology §9.5)
        campaigns.set_status(campaign, "in_review")
        campaigns.set_status(campaign, "published")


def _descs(html: str) -> list[str]:
    return [htmllib.unescape(d) for d in re.findall(r"<desc>(.*?)</desc>", html, re.S)]


def test_gap_interval_by_hand():
    # state 0.2, 0.4 (mean 0.3); rest 0.6, 0.6 → nation 0.45, gap 0.15. Every resample of the rest
    # is 0.6, so the interval only reflects the state's two institutions: resamples
    # (0.2, 0.2), (0.2, 0.4), (0.4, 0.4) give nation (sum + 1.2) / 4 = 0.40, 0.45, 0.50 and
    # gaps 0.20, 0.15, 0.10 with probabilities 1/4, 1/2, 1/4: the 95 % interval is 0.10–0.20.
    low, high = gap_interval(np.array([0.2, 0.4]), np.array([0.6, 0.6]), 2000, 1)
    assert low == pytest.approx(0.10) and high == pytest.approx(0.20)
    # one institution: no interval can be estimated
    assert gap_interval(np.array([0.2, np.nan]), np.array([0.6, 0.5]), 100, 1) == (None, None)


def test_gap_intervals_of_several_nodes_are_each_nodes_interval():
    rng = np.random.default_rng(3)
    state, rest = rng.uniform(0, 1, (9, 3)), rng.uniform(0, 1, (40, 3))
    state[[0, 1, 2, 3, 4, 5, 6, 7], 2] = np.nan  # one value left in the state: no interval
    intervals = gap_intervals(state, rest, 1000, 5)
    # nodes with values on the same institutions share the draws: each is its own interval
    for j in (0, 1):
        assert intervals[j] == pytest.approx(gap_interval(state[:, j], rest[:, j], 1000, 5))
        nation = np.concatenate([state[:, j], rest[:, j]]).mean()
        assert intervals[j][0] < nation - state[:, j].mean() < intervals[j][1]
    assert intervals[2] == (None, None)


def test_state_report_first_page_names_labels_and_annex(app, client, scored):
    _publish(app, scored.slug)
    html = client.get(f"/resultados/{scored.slug}/22").get_data(as_text=True)
    # landmarks and site header; no inline script (CSP)
    assert '<header class="site" role="banner">' in html and '<main id="contenido">' in html
    assert "<script" not in html
    # plain summary first, then the detail
    assert html.index('id="resumen"') < html.index('id="posicion"') < html.index('id="brecha-real"')
    summary = re.search(r'<div class="summary">(.*?)</div>', html, re.S).group(1)
    assert "Querétaro" in summary and ("Lo primero que conviene atender" in summary or "ruido" in summary
                                       or "no está por debajo" in summary)
    # every statistic column of "¿La diferencia es real?" is explained in one line
    for term in ("p (Welch) y p (permutación)", "q (BH)", "g de Hedges"):
        assert f"<dt>{term}</dt>" in html
    # institutions by name, with the T column filled, types by label with accents
    row = re.search(r'<th scope="row">Secretaría de Finanzas de Querétaro.*?</tr>', html, re.S).group(0)
    cells = re.findall(r'<td class="n">([^<]*)</td>', row)
    assert all(re.fullmatch(r"\d\.\d\d", c) for c in cells), cells  # GA, T, P and coverage: no "—"
    assert "Poder Ejecutivo" in row and "Q1" not in row
    # a type the state lacks says so; accents in labels; no configuration text in the annex
    assert "no hay en la entidad" in html  # municipio: Querétaro has none in this campaign
    annex = html[html.index('id="anexo"'):]
    for english in ("draft", "submitted", "aggregation:", "arithmetic", "institution ("):
        assert english not in annex
    assert "media aritmética" in annex and "Cuestionario institucional" in annex
    # title has the year once; times are Mexico City's
    assert "(2025) (2025)" not in html
    assert "hora del centro de México" in html and "UTC" not in html


def test_every_chart_text_alternative_carries_its_table_numbers(app, client, scored):
    _publish(app, scored.slug)
    html = client.get(f"/resultados/{scored.slug}/22").get_data(as_text=True)
    descs = _descs(html)
    assert len(descs) >= 4
    headline_desc = next(d for d in descs if d.startswith("GA "))
    table = html[html.index('id="cap-headline"'):]
    for row in re.findall(r'<th scope="row">([A-Z]+) ·.*?</th>(.*?)</tr>', table[:table.index("</table>")], re.S):
        code, cells = row
        value = re.findall(r'<td class="n">([^<]*)</td>', cells)[0]
        assert f"{code} " in headline_desc and value in headline_desc.split(f"{code} ", 1)[1][:80]
    by_type_desc = next(d for d in descs if "Poder Ejecutivo" in d)
    for label, n in re.findall(r'<tr><th scope="row">([^<]+)</th><td class="n">(\d+)</td>',
                               html[html.index('id="cap-types"'):html.index('id="cap-insts"')]):
        assert label in by_type_desc and f"n = {n}" in by_type_desc
    assert "NaN" not in html and "nan" not in " ".join(descs)


def test_reports_are_built_once_per_fingerprint_and_byte_identical(app, client, scored, tmp_path):
    _publish(app, scored.slug)
    app.config["REPORT_CACHE_DIR"] = str(tmp_path / "cache")
    first = client.get(f"/resultados/{scored.slug}/22").get_data()
    stored = list((tmp_path / "cache").rglob("state-22-es.*.html"))
    assert len(stored) == 1 and stored[0].read_bytes() == first
    # a rebuild from scratch gives the same bytes
    stored[0].unlink()
    assert client.get(f"/resultados/{scored.slug}/22").get_data() == first
    with app.app_context():
        from diagnostic.services import campaigns

        campaign = campaigns.get_by_slug(scored.slug)
        before = report_cache.fingerprint(campaign)
    # a sign-in (an audit event, not data) does not change the fingerprint
    sign_in(client, scored.users["analyst"])
    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        assert report_cache.fingerprint(campaign) == before
        # a verification (an analyst's correction) does
        from diagnostic.extensions import db
        from diagnostic.models import Answer, Response, User
        from diagnostic.services import review

        answer = db.session.query(Answer).filter(Answer.response_id == scored.responses["Q2"],
                                                 Answer.field == "ai_unit").one()
        review.verify(db.session.get(Response, scored.responses["Q2"]),
                      {"field": "ai_unit", "decision": "correct", "value": "no" if answer.value != "no" else "yes",
                       "reason": "la evidencia dice otra cosa"}, db.session.get(User, scored.users["analyst"]))
        db.session.commit()
        assert report_cache.fingerprint(campaign) != before


def test_edge_cases_are_plain_or_404(app, client, scored):
    _publish(app, scored.slug)
    assert client.get(f"/resultados/{scored.slug}/Atlantida").status_code == 404
    assert client.get(f"/resultados/{scored.slug}/Sonora").status_code == 404
    assert client.get(f"/resultados/{scored.slug}/datos/secreto.csv").status_code == 404
    # Ciudad de México: its only institution never answered
    html = client.get(f"/resultados/{scored.slug}/09").get_data(as_text=True)
    assert "Ninguna institución de la entidad respondió" in html and "NaN" not in html
    national = client.get(f"/resultados/{scored.slug}/nacional")
    assert national.status_code == 200
    page = national.get_data(as_text=True)
    assert "Querétaro" in page and "Análisis de sensibilidad" in page and "NaN" not in page


def test_unpublished_open_data_and_reports_are_unreachable(client, scored):
    for path in ("", "nacional", "nacional.pdf", "22", "datapackage.json", "datos.xlsx", "datos-state.csv",
                 "datos/respuestas.csv", "datos/diccionario.csv"):
        assert client.get(f"/resultados/{scored.slug}/{path}").status_code == 404, path


def test_open_data_opens_in_excel_and_the_package_validates(app, client, scored, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    _publish(app, scored.slug)
    package = json.loads(client.get(f"/resultados/{scored.slug}/datapackage.json").get_data(as_text=True))
    assert package["licenses"][0]["name"] == "CC-BY-4.0" and package["sources"]
    names = {r["name"] for r in package["resources"]}
    assert {"institucion", "entidad", "nacional", "respuestas", "instrumentos", "modelo", "diccionario"} <= names
    for resource in package["resources"]:
        body = client.get(f"/resultados/{scored.slug}/{resource['path']}")
        assert body.status_code == 200, resource["path"]
        raw = body.get_data()
        assert raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig")
        assert not re.search(r"\d[eE]-\d", text) and ",True," not in text and ",False," not in text
        target = tmp_path / resource["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
    (tmp_path / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    institutions = list(csv.DictReader(io.StringIO((tmp_path / "datos-institution.csv").read_text("utf-8-sig"))))
    q1 = next(r for r in institutions if r["clave"] == "Q1")
    assert q1["tipo"] == "Poder Ejecutivo" and q1["respondio"] == "sí"
    assert re.fullmatch(r"\d+", q1["lugar"]) and re.fullmatch(r"\d\.\d{1,3}|0|1", q1["GA"])
    answers = (tmp_path / "datos" / "respuestas.csv").read_text("utf-8-sig")
    assert "ml@finanzas.example.org" not in answers and "María López" not in answers
    xlsx = client.get(f"/resultados/{scored.slug}/datos.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"


def test_portal_sorts_without_javascript_and_has_a_national_row(app, client, scored):
    _publish(app, scored.slug)
    page = client.get(f"/resultados/{scored.slug}/?orden=entidad&dir=asc").get_data(as_text=True)
    order = [m for m in re.findall(r'<th scope="row"><a href="/resultados/[^"]+/(\d\d)">', page)]
    assert order == sorted(order, key=lambda c: {"09": "ciudad", "14": "jalisco", "22": "queretaro"}[c])
    assert 'aria-sort="ascending"' in page and "Nacional" in page and "datapackage.json" in page


def test_cli_writes_reports_with_a_summary(app, runner, scored, tmp_path):
    _publish(app, scored.slug)
    app.config["REPORT_CACHE_DIR"] = str(tmp_path / "cache")
    result = runner.invoke(args=["report", "--campaign", scored.slug, "--all", "--national", "--format", "html",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert f"apertura-{scored.slug}-qro.html" in files and f"apertura-{scored.slug}-nacional.html" in files
    assert "reports (html, es) written" in result.output


def test_a_campaign_with_one_state_says_so_plainly(app, client, scored):
    from diagnostic.extensions import db
    from diagnostic.models import Institution, Participation

    with app.app_context():
        others = [i.id for i in db.session.query(Institution).filter(Institution.state_code != "22")]
        db.session.query(Participation).filter(Participation.institution_id.in_(others)).delete(
            synchronize_session=False)
        db.session.commit()
    _publish(app, scored.slug)
    state = client.get(f"/resultados/{scored.slug}/22")
    assert state.status_code == 200
    html = state.get_data(as_text=True)
    assert "Querétaro" in html and "NaN" not in html and "nan " not in html
    national = client.get(f"/resultados/{scored.slug}/nacional").get_data(as_text=True)
    assert "Con una sola entidad no hay lugares que comparar" in national and "NaN" not in national
    assert client.get(f"/resultados/{scored.slug}/14").status_code == 404


def test_report_numbers_follow_from_the_institutions(app, client, scored):
    """The small campaign by hand: the state index is the mean of its two institutions, the
    executive row compares Querétaro's executive with the mean of the three executives, and the
    municipality row says Querétaro has none."""
    _publish(app, scored.slug)
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/resultados/{scored.slug}/datos-institution.csv").get_data().decode("utf-8-sig"))))
    ga = {r["clave"]: float(r["GA"]) for r in rows}
    html = client.get(f"/resultados/{scored.slug}/22").get_data(as_text=True)
    index = float(re.search(r'<span class="big">(\d\.\d\d)</span>', html).group(1))
    assert index == pytest.approx((ga["Q1"] + ga["Q2"]) / 2, abs=0.006)
    types = html[html.index('id="cap-types"'):html.index('id="cap-insts"')]
    executive = re.search(r'Poder Ejecutivo</th><td class="n">1</td><td class="n">([\d.]+)</td>'
                          r'<td class="n">([\d.]+)</td>', types)
    assert float(executive.group(1)) == pytest.approx(ga["Q1"], abs=0.006)
    assert float(executive.group(2)) == pytest.approx((ga["Q1"] + ga["J1"] + ga["C1"]) / 3, abs=0.006)
    assert re.search(r'Municipio</th><td class="n">0</td><td class="n"><span class="noise">no hay en la entidad', types)
    # the verdict's sentence follows the q-value shown in the "is it real" table
    q = float(re.search(r'<th scope="row">GA ·[^<]*</th>(?:<td[^>]*>[^<]*</td>){5}<td class="n">([\d.]+)</td>',
                        html[html.index('id="cap-tests"'):]).group(1))
    verdict = re.search(r'<p class="verdict">(.*?)</p>', html, re.S).group(1)
    assert ("estadísticamente significativa" in verdict) == (q < 0.05)


def test_national_charts_carry_the_numbers_of_their_tables(app, client, scored):
    _publish(app, scored.slug)
    html = client.get(f"/resultados/{scored.slug}/nacional").get_data(as_text=True)
    descs = _descs(html)
    tiles = next(d for d in descs if d.startswith("Índice de cada entidad"))
    caterpillar = next(d for d in descs if "lugar" in d)
    table = html[html.index('id="cap-states"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r'<th scope="row"><a [^>]+>([^<]+)</a></th><td class="n">\d+</td><td class="n">([^<]+)</td>'
                      r'<td class="n">([^<]+)</td>', table)
    assert len(rows) == 3
    for name, value, interval in rows:
        assert f"{name} {value}" in tiles
        assert f"{name} {value} [{interval}]" in caterpillar
    assert "NaN" not in html
