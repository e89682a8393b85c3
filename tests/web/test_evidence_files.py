"""Evidence files through the real web routes: respondents and evaluators attach a PDF or an
image to an item, hostile files are refused (or stored safely) without losing what was typed,
downloads are attachments with a checked type, and nobody reads another institution's files."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from .conftest import csrf_token, login, sign_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def files_app(app, tmp_path):
    app.config.update(EVIDENCE_DIR=str(tmp_path / "evidence"), EVIDENCE_MAX_MB=0.1)  # 100 KB
    return app


def page_post(client, url, *, files=None, action="save", **values):
    """A page form as a browser without JavaScript posts it (multipart)."""
    data = {"_fields": " ".join(values), "action": action, **values}
    for name, (payload, filename) in (files or {}).items():
        data[name] = (io.BytesIO(payload), filename)
    return client.post(url, data=data, content_type="multipart/form-data")


def stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def evidence_rows(app):
    from diagnostic.extensions import db
    from diagnostic.models import EvidenceFile

    with app.app_context():
        return [(r.id, r.field, r.repeat_index, r.filename, r.media_type, r.size)
                for r in db.session.scalars(sa.select(EvidenceFile).order_by(EvidenceFile.id))]


def test_a_respondent_attaches_a_pdf_sees_it_downloads_it_and_removes_it(files_app, client, setup, tmp_path):
    page = f"/r/{setup.token}/p/0"
    shown = client.get(page).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in shown and 'name="evidence_file:unit_url"' in shown
    posted = page_post(client, page, action="attach:unit_url", has_unit="yes", unit_url="https://finanzas.example/ut",
                       files={"evidence_file:unit_url": (PDF, "Acta de instalación.pdf")})
    assert posted.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Acta de instalación.pdf" in html and "(PDF, 45 B)" in html
    assert 'value="https://finanzas.example/ut"' in html  # the typed link was saved with the file
    [(file_id, field, index, name, media_type, size)] = evidence_rows(files_app)
    assert (field, index, name, media_type, size) == ("unit_url", None, "Acta de instalación.pdf", "application/pdf", len(PDF))

    download = client.get(f"/r/{setup.token}/evidencia/{file_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    assert f'value="detach:{file_id}"' in html
    removed = page_post(client, page, action=f"detach:{file_id}", has_unit="yes", unit_url="https://finanzas.example/ut")
    assert removed.status_code == 302
    assert evidence_rows(files_app) == [] and stored_files(tmp_path / "evidence") == []
    assert client.get(f"/r/{setup.token}/evidencia/{file_id}").status_code == 404


@pytest.mark.parametrize("filename,payload,reason", [
    ("informe.pdf", b"<html><script>alert(document.cookie)</script></html>", "debe ser un PDF o una imagen"),
    ("grande.pdf", PDF + b"0" * (150 * 1024), "pasa del límite de 0.1 MB"),
    ("bomba.pdf", None, "debe ser un PDF o una imagen"),
])
def test_hostile_files_are_refused_on_the_page_naming_the_question_and_nothing_typed_is_lost(
        files_app, client, setup, tmp_path, filename, payload, reason):
    if payload is None:  # a zip bomb: 40 MB of zeros in a few kilobytes
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("bomba.txt", b"\0" * (40 * 1024 * 1024))
        payload = buffer.getvalue()
    page = f"/r/{setup.token}/p/0"
    posted = page_post(client, page, action="next", has_unit="yes", unit_url="https://escrito.example/a-mano",
                       files={"evidence_file:unit_url": (payload, filename)})
    assert posted.status_code == 422
    html = posted.get_data(as_text=True)
    summary = html.split('id="error-summary"')[1].split("</div>")[0]
    assert "Enlace de evidencia" in summary and reason in summary and filename in summary
    assert "Lo que escribió quedó guardado" in html
    assert 'value="https://escrito.example/a-mano"' in html
    assert evidence_rows(files_app) == [] and stored_files(tmp_path / "evidence") == []
    # the typed value is stored, not only re-shown
    assert 'value="https://escrito.example/a-mano"' in client.get(page).get_data(as_text=True)


def test_refusals_read_in_english(files_app, client, setup):
    posted = client.post(f"/r/{setup.token}/p/0", data={
        "_fields": "has_unit", "has_unit": "yes", "action": "save",
        "evidence_file:unit_url": (io.BytesIO(b"GIF? no: plain text"), "notes.png")},
        content_type="multipart/form-data", headers={"Accept-Language": "en"})
    html = posted.get_data(as_text=True)
    assert posted.status_code == 422
    assert "Evidence link" in html and "must be a PDF or an image" in html and "notes.png" in html


def test_a_path_in_the_name_is_dropped_and_the_file_kept_by_its_hash(files_app, client, setup, tmp_path):
    posted = page_post(client, f"/r/{setup.token}/p/0", action="attach:unit_url", has_unit="yes",
                       files={"evidence_file:unit_url": (PDF, "../../etc/passwd.pdf")})
    assert posted.status_code == 302
    [(file_id, _f, _i, name, _t, _s)] = evidence_rows(files_app)
    assert name == "passwd.pdf"
    import hashlib

    digest = hashlib.sha256(PDF).hexdigest()
    assert stored_files(tmp_path / "evidence") == [tmp_path / "evidence" / digest[:2] / digest]
    download = client.get(f"/r/{setup.token}/evidencia/{file_id}")
    assert 'filename=passwd.pdf' in download.headers["Content-Disposition"]


def test_a_body_over_the_request_limit_is_refused_cleanly(files_app, client, setup):
    posted = page_post(client, f"/r/{setup.token}/p/0", action="attach:unit_url", has_unit="yes",
                       files={"evidence_file:unit_url": (PDF + b"0" * (300 * 1024), "enorme.pdf")})
    assert posted.status_code == 413
    assert "Archivo demasiado grande" in posted.get_data(as_text=True)
    assert evidence_rows(files_app) == []


def test_a_question_without_files_and_a_submitted_response_refuse_attachments(files_app, client, setup):
    page = f"/r/{setup.token}/p/1"
    html = client.get(page).get_data(as_text=True)
    assert "evidence_file:" not in html  # the requests page asks for numbers, not evidence
    posted = page_post(client, page, received="3", files={"evidence_file:received": (PDF, "x.pdf")})
    assert posted.status_code == 422 and "no admite archivos de evidencia" in posted.get_data(as_text=True)
    assert evidence_rows(files_app) == []


def test_files_are_read_only_once_submitted_and_still_downloadable(files_app, client, setup):
    from diagnostic.extensions import db
    from diagnostic.models import Response, ResponseStatus

    page_post(client, f"/r/{setup.token}/p/0", action="attach:unit_url", has_unit="yes",
              unit_url="https://finanzas.example/ut", files={"evidence_file:unit_url": (PNG, "foto.png")})
    [(file_id, *_rest)] = evidence_rows(files_app)
    with files_app.app_context():
        response = db.session.scalar(sa.select(Response))
        response.status = ResponseStatus.SUBMITTED
        db.session.commit()
    html = client.get(f"/r/{setup.token}/p/0").get_data(as_text=True)
    assert "foto.png" in html and "detach:" not in html and "evidence_file:" not in html
    with files_app.app_context():
        from diagnostic.services import attachments
        from diagnostic.services.audit import SYSTEM

        with pytest.raises(Exception) as refused:
            attachments.remove(db.session.scalar(sa.select(Response)), file_id, SYSTEM)
        assert getattr(refused.value, "code", None) == "evidence_locked"
    assert client.get(f"/r/{setup.token}/evidencia/{file_id}").status_code == 200


def test_an_evaluator_attaches_the_acknowledgement_of_a_request(files_app, client, setup):
    from diagnostic.extensions import db
    from diagnostic.models import User

    login(client, setup.evaluator)
    page = f"/evaluate/{setup.slug}/{setup.institution_id}/p/0"
    token = csrf_token(client, page)
    posted = client.post(page, data={"_fields": "has_unit", "has_unit": "yes", "action": "attach:unit_url",
                                     "csrf_token": token,
                                     "evidence_file:unit_url": (io.BytesIO(PDF), "acuse-solicitud.pdf")},
                         content_type="multipart/form-data")
    assert posted.status_code == 302, posted.get_data(as_text=True)[:400]
    [(file_id, *_rest)] = evidence_rows(files_app)
    assert "acuse-solicitud.pdf" in client.get(page).get_data(as_text=True)
    assert client.get(f"/evidencia/{file_id}").status_code == 200  # their own evaluation
    client.get("/auth/logout")
    with files_app.app_context():
        other = db.session.scalar(sa.select(User).where(User.email == setup.other_evaluator)).id
    sign_in(client, other)
    assert client.get(f"/evidencia/{file_id}").status_code == 404  # not theirs
    assert client.get(f"/r/{setup.token}/evidencia/{file_id}").status_code == 404  # not the institution's


def test_only_the_institution_and_staff_of_its_state_read_a_file(files_app, client, setup):
    from diagnostic.extensions import db
    from diagnostic.models import Campaign, Institution, User, UserState
    from diagnostic.services import invitations

    page_post(client, f"/r/{setup.token}/p/0", action="attach:unit_url", has_unit="yes",
              files={"evidence_file:unit_url": (PDF, "acta.pdf")})
    [(file_id, *_rest)] = evidence_rows(files_app)
    with files_app.app_context():
        campaign = db.session.scalar(sa.select(Campaign))
        other_token = invitations.create(campaign, db.session.get(Institution, setup.other_institution_id))
        state = db.session.get(Institution, setup.institution_id).state_code
        analyst = db.session.scalar(sa.select(User).where(User.email == setup.analyst))
        analyst_id = analyst.id
        db.session.add(UserState(user_id=analyst.id, state_code="14"))  # Jalisco only
        db.session.commit()
    assert state == "22"
    assert client.get(f"/r/{other_token}/evidencia/{file_id}").status_code == 404  # another institution
    anonymous = client.get(f"/evidencia/{file_id}")
    assert anonymous.status_code in (302, 401) and b"%PDF" not in anonymous.data
    sign_in(client, analyst_id)
    refused = client.get(f"/evidencia/{file_id}")
    assert refused.status_code == 404 and b"acta.pdf" not in refused.data  # another state's analyst
    with files_app.app_context():
        db.session.execute(sa.delete(UserState).where(UserState.user_id == analyst_id))
        db.session.add(UserState(user_id=analyst_id, state_code="22"))
        db.session.commit()
    allowed = client.get(f"/evidencia/{file_id}")
    assert allowed.status_code == 200 and allowed.data == PDF
    assert allowed.headers["Content-Disposition"] == "attachment; filename=acta.pdf"
    assert allowed.headers["X-Content-Type-Options"] == "nosniff"
    assert re.search(r"sandbox", allowed.headers["Content-Security-Policy"])


# ------------------------------------------------------------------ links checked at submission and verification
from .test_evidence import site  # noqa: E402,F401  (the loopback server: 200, 404, redirect loop, slow body)


def fill_and_submit(client, token, url):
    page_post(client, f"/r/{token}/p/0", has_unit="yes", unit_url=url)
    page_post(client, f"/r/{token}/p/1", received="3")
    page_post(client, f"/r/{token}/p/2", **{"examples[0].topic": "Presupuesto"})
    return client.post(f"/r/{token}/submit", data={"confirm": "1"})


def checks(app):
    from diagnostic.extensions import db
    from diagnostic.models import EvidenceCheck

    with app.app_context():
        return [(c.stage, c.url.rsplit("/", 1)[-1], c.status, c.error)
                for c in db.session.scalars(sa.select(EvidenceCheck).order_by(EvidenceCheck.id))]


def test_links_are_checked_after_the_receipt_is_sent_and_the_verifier_sees_a_dead_one(files_app, client, setup, site):  # noqa: F811 (site: the loopback server)
    from diagnostic.extensions import db
    from diagnostic.models import Response

    files_app.config.update(EVIDENCE_CHECK_BUDGET=5, LINKCHECK_ALLOW_PRIVATE=True, LINKCHECK_TIMEOUT=2)
    submitted = fill_and_submit(client, setup.token, f"{site}/gone")
    assert submitted.status_code == 302 and submitted.headers["Location"].endswith("/receipt")
    assert checks(files_app) == []  # the respondent has the answer; nothing was fetched before it
    submitted.close()  # the server finished sending: now the links are checked
    assert checks(files_app) == [("submitted", "gone", 404, None)]

    with files_app.app_context():
        response_id = db.session.scalar(sa.select(Response.id))
    login(client, setup.analyst)
    html = client.get(f"/analyst/{setup.slug}/responses/{response_id}").get_data(as_text=True)
    section = html.split('id="evidence"')[1]
    assert "No funciona (404)" in section and f"{site}/gone" in section

    token = csrf_token(client, f"/analyst/{setup.slug}/responses/{response_id}")
    verified = client.post(f"/analyst/{setup.slug}/responses/{response_id}/verified",
                           data={"csrf_token": token, "confirm": "1"})
    assert verified.status_code == 302
    verified.close()
    assert checks(files_app)[-1] == ("verified", "gone", 404, None)
    with files_app.app_context():
        from diagnostic.models import Campaign
        from diagnostic.services import evidence

        assert evidence.pending_checks(db.session.scalar(sa.select(Campaign))) == {
            "submitted": [], "verified": [], "published": []}


def test_a_slow_site_stays_pending_within_the_budget_and_the_cli_checks_it_later(files_app, client, setup, site, runner):  # noqa: F811 (site: the loopback server)
    files_app.config.update(EVIDENCE_CHECK_BUDGET=0, LINKCHECK_ALLOW_PRIVATE=True, LINKCHECK_TIMEOUT=1)
    fill_and_submit(client, setup.token, f"{site}/slow").close()
    assert checks(files_app) == []  # no budget: left pending
    listed = runner.invoke(args=["evidence", "pending", "--campaign", setup.slug, "--dry-run"])
    assert "submitted: 1" in listed.output
    done = runner.invoke(args=["evidence", "pending", "--campaign", setup.slug])
    assert done.exit_code == 0, done.output
    assert checks(files_app) == [("submitted", "slow", 200, "timeout")]  # bounded by LINKCHECK_TIMEOUT
    again = runner.invoke(args=["evidence", "pending", "--campaign", setup.slug, "--dry-run"])
    assert "submitted: 0" in again.output


def test_the_check_now_button_records_a_redirect_loop_as_dead(files_app, client, setup, site):  # noqa: F811 (site: the loopback server)
    from diagnostic.extensions import db
    from diagnostic.models import Response

    files_app.config.update(EVIDENCE_CHECK_BUDGET=0, LINKCHECK_ALLOW_PRIVATE=True, LINKCHECK_TIMEOUT=2,
                            LINKCHECK_MAX_REDIRECTS=3)
    fill_and_submit(client, setup.token, f"{site}/loop").close()
    files_app.config.update(EVIDENCE_CHECK_BUDGET=5)  # the button's bound
    with files_app.app_context():
        response_id = db.session.scalar(sa.select(Response.id))
    login(client, setup.analyst)
    page = f"/analyst/{setup.slug}/responses/{response_id}"
    assert "Sin comprobar aún" in client.get(page).get_data(as_text=True)
    posted = client.post(f"{page}/evidence-check", data={"csrf_token": csrf_token(client, page)})
    assert posted.status_code == 302
    html = client.get(page).get_data(as_text=True).split('id="evidence"')[1]
    assert "No funciona (302): demasiadas redirecciones" in html


# ------------------------------------------------------------------ the report's annex
def test_the_state_report_states_the_share_of_links_still_working_at_publication(app, client, scored, site, tmp_path):  # noqa: F811
    import subprocess

    from diagnostic.extensions import db
    from diagnostic.models import Campaign
    from diagnostic.services import evidence, report_cache
    from diagnostic.services.linkcheck import check

    from .conftest import closed_answers, open_answers
    from .test_reports import _publish

    app.config.update(LINKCHECK_ALLOW_PRIVATE=True, LINKCHECK_TIMEOUT=2, REPORT_CACHE_DIR=str(tmp_path / "cache"))
    _publish(app, scored.slug)
    html = client.get(f"/resultados/{scored.slug}/22").get_data(as_text=True)
    annex = html.split('id="evidence-annex"')[1].split("</table>")[0]
    assert "Los enlaces de evidencia aún no se han comprobado." in html and "—" in annex

    def finanzas_works(url, **bounds):  # the institution's own site answers; every other address is gone
        return check(f"{site}/ok" if "finanzas.example.org" in url else f"{site}/gone", **bounds)

    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == scored.slug))
        before = report_cache.fingerprint(campaign)
        evidence.check_campaign_links(campaign, stage="published", checker=finanzas_works)
        assert report_cache.fingerprint(campaign) != before  # stored reports are rebuilt
    # Querétaro cites the open institution's links (Q1) and the closed one's (Q2), by hand:
    cited = {v for answers in (open_answers(), closed_answers()) for k, v in answers.items() if k.endswith("_evidence")}
    working = {url for url in cited if "finanzas.example.org" in url}
    html = client.get(f"/resultados/{scored.slug}/22").get_data(as_text=True)
    annex = html.split('id="evidence-annex"')[1].split("</table>")[0]
    assert "al publicar" in html.split('id="cap-evidence"')[1][:200]
    state_row = re.search(r'<th scope="row">Querétaro</th>(.*?)</tr>', annex, re.S).group(1)
    share = f"{100 * len(working) / len(cited):.0f} %"
    assert re.findall(r'<td class="n">([^<]*)</td>', state_row)[:4] == [str(len(cited)), str(len(cited)),
                                                                        str(len(working)), share]
    pdf = client.get(f"/resultados/{scored.slug}/22.pdf")
    (tmp_path / "r.pdf").write_bytes(pdf.get_data())
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "Evidencia que perdura" in text and share in text


def test_the_evaluator_attaches_the_acknowledgement_of_each_request_of_the_shipped_instrument(files_app, client, setup):
    """`ciudadana`'s folio of each information request takes its acknowledgement (data/evidence.yaml),
    kept with its repeat instance; questions evidence.yaml does not name take no file."""
    from diagnostic.extensions import db
    from diagnostic.models import Institution, InstrumentPurpose, User
    from diagnostic.services import assignments, attachments, campaigns, instruments

    with files_app.app_context():
        campaign = campaigns.create("Ciudadana", 2025, slug="ciudadana-2025")
        prueba = campaigns.get_by_slug(setup.slug)
        campaigns.set_instrument(campaign, InstrumentPurpose.INSTITUTION,
                                 campaigns.instrument(prueba, InstrumentPurpose.INSTITUTION))
        ciudadana = instruments.store_shipped("ciudadana")
        campaigns.set_instrument(campaign, InstrumentPurpose.EVALUATOR, ciudadana)
        institution = db.session.get(Institution, setup.institution_id)
        from diagnostic.services import institutions

        institutions.add_to_campaign(campaign, [institution])
        campaigns.set_status(campaign, "open")
        evaluator = db.session.scalar(sa.select(User).where(User.email == setup.evaluator))
        assignments.assign(campaign, [institution], evaluator)
        definition = instruments.definition(ciudadana)
        fields = definition.fields
        assert attachments.takes_files(definition, fields["tc_folio"])
        assert attachments.takes_files(definition, fields["pc_contact_evidence"])
        assert not attachments.takes_files(definition, fields["tc_topic"])
    login(client, setup.evaluator)
    page = f"/evaluate/ciudadana-2025/{setup.institution_id}/p/1"
    html = client.get(page).get_data(as_text=True)
    assert 'name="evidence_file:tc_requests[0].tc_folio"' in html and 'name="evidence_file:tc_requests[1].tc_folio"' in html
    assert 'name="evidence_file:tc_requests[0].tc_topic"' not in html
    posted = client.post(page, data={
        "_fields": "tc_requests[0].tc_topic tc_requests[1].tc_topic", "tc_requests[0].tc_topic": "Presupuesto",
        "tc_requests[1].tc_topic": "Nómina", "action": "attach:tc_requests[1].tc_folio",
        "csrf_token": csrf_token(client, page),
        "evidence_file:tc_requests[1].tc_folio": (io.BytesIO(PNG), "acuse PNT 2.png")},
        content_type="multipart/form-data")
    assert posted.status_code == 302, posted.get_data(as_text=True)[:300]
    [(_id, field, index, name, media_type, _size)] = evidence_rows(files_app)
    assert (field, index, name, media_type) == ("tc_requests.tc_folio", 1, "acuse PNT 2.png", "image/png")
    html = client.get(page).get_data(as_text=True)
    second = html.split('id="f-tc_requests-1-tc_folio-files"')[1].split("</div>")[0]
    first = html.split('id="f-tc_requests-0-tc_folio-files"')[1].split("</div>")[0]
    assert "acuse PNT 2.png" in second and "acuse PNT 2.png" not in first
    assert 'value="Nómina"' in html


def test_a_file_for_a_question_of_another_page_or_instance_is_refused(files_app, client, setup):
    page = f"/r/{setup.token}/p/2"  # the repeat page: unit_url is on page 0
    posted = page_post(client, page, **{"examples[0].topic": "Presupuesto"},
                       files={"evidence_file:unit_url": (PDF, "a.pdf"),
                              "evidence_file:examples[7].topic": (PDF, "b.pdf")})
    assert posted.status_code == 422
    assert evidence_rows(files_app) == []
    assert 'value="Presupuesto"' in client.get(page).get_data(as_text=True)
