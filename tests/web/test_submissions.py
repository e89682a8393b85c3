"""Offline submissions back in: KoboToolbox and ODK Central exports of the government
questionnaire, written here from Apertura's own XLSForm export, imported into a campaign.

One bad row is reported by row, column and question and nothing is written; the fixed file
imports; importing it again changes nothing. Repeats arrive from Kobo's repeat sheets, ODK
Central's repeat CSVs and its JSON."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

import surveys
from diagnostic.services import ServiceError
from surveys.xlsform_export import to_xlsform
from tests.web.conftest import closed_answers, csrf_token, open_answers, sign_in


# ------------------------------------------------------------------ files as the tools write them
def group_paths(definition) -> dict[str, list[str]]:
    """Each question's group path, read from the exported XLSForm's begin/end rows."""
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsform(definition)))
    rows = list(wb["survey"].iter_rows(values_only=True))
    header = rows[0]
    t, n = header.index("type"), header.index("name")
    stack, out = [], {}
    for row in rows[1:]:
        kind, name = row[t], row[n]
        if kind in ("begin_group", "begin_repeat"):
            stack.append(name)
        elif kind in ("end_group", "end_repeat"):
            stack.pop()
        elif name:
            out[name] = list(stack)
    return out


def _value(value) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)


def kobo_xlsx(definition, submissions: list[tuple[str, str, dict]]) -> bytes:
    """KoboToolbox's XLSX export: `group/question` headers, `_uuid`, `_submission_time`,
    `_index`, one column per select_multiple option, each repeat in its own sheet."""
    paths = group_paths(definition)
    main_fields = [f for f, q in definition.fields.items() if q.repeat is None and q.type != "note"]
    header = ["start", "end", "institution"]
    for name in main_fields:
        col = "/".join([*paths[name], name])
        header.append(col)
        q = definition.fields[name]
        if q.type == "select_multiple":
            header += [f"{col}/{c}" for c in definition.choice_list(q).names]
    header += ["_id", "_uuid", "_submission_time", "_validation_status", "_index"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = definition.settings.id
    ws.append(header)
    repeat_sheets = {}
    for index, (uuid, key, answers) in enumerate(submissions, start=1):
        row = {"start": "2026-03-01T10:00:00", "institution": key, "_id": 1000 + index, "_uuid": uuid,
               "_submission_time": "2026-03-02T11:00:00", "_index": index}
        for name in main_fields:
            col = "/".join([*paths[name], name])
            if name in answers:
                row[col] = _value(answers[name])
                q = definition.fields[name]
                if q.type == "select_multiple":
                    for c in definition.choice_list(q).names:
                        row[f"{col}/{c}"] = 1 if c in answers[name] else 0
        ws.append([row.get(h) for h in header])
        for repeat, rep in definition.repeats.items():
            sheet = repeat_sheets.get(repeat)
            children = [c.name for c in rep.children]
            if sheet is None:
                sheet = repeat_sheets[repeat] = wb.create_sheet(repeat)
                sheet.append(["/".join([*paths[c], c]) for c in children] + ["_index", "_parent_table_name", "_parent_index", "_submission__uuid"])
            for instance in answers.get(repeat, []):
                sheet.append([instance.get(c) for c in children] + [sheet.max_row, ws.title, index, uuid])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def central_zip(definition, submissions: list[tuple[str, str, dict]]) -> bytes:
    """ODK Central's CSV zip: `FORM.csv` with `group-question` headers, `KEY`,
    `meta-instanceID`, `SubmissionDate`; `FORM-REPEAT.csv` per repeat with `PARENT_KEY`."""
    paths = group_paths(definition)
    form = definition.settings.id
    main_fields = [f for f, q in definition.fields.items() if q.repeat is None and q.type != "note"]
    header = ["SubmissionDate", "start", "institution", *["-".join([*paths[f], f]) for f in main_fields],
              "meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "Status", "ReviewState"]
    files = {}
    main = io.StringIO()
    writer = csv.writer(main)
    writer.writerow(header)
    repeat_files = {r: [["-".join([*paths[c.name], c.name]) for c in rep.children] + ["PARENT_KEY", "KEY"]]
                    for r, rep in definition.repeats.items()}
    for uuid, key, answers in submissions:
        row = ["2026-03-02T11:00:00.000Z", "2026-03-01T10:00:00.000Z", key]
        row += [_value(answers[f]) if f in answers else "" for f in main_fields]
        row += [f"uuid:{uuid}", f"uuid:{uuid}", "7", "brigada", "0", "", "approved"]
        writer.writerow(row)
        for repeat, rep in definition.repeats.items():
            for i, instance in enumerate(answers.get(repeat, []), start=1):
                repeat_files[repeat].append([instance.get(c.name, "") for c in rep.children]
                                            + [f"uuid:{uuid}", f"uuid:{uuid}/{repeat}[{i}]"])
    files[f"{form}.csv"] = main.getvalue()
    for repeat, rows in repeat_files.items():
        text = io.StringIO()
        csv.writer(text).writerows(rows)
        files[f"{form}-{repeat}.csv"] = text.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def central_json(definition, submissions: list[tuple[str, str, dict]]) -> bytes:
    """ODK Central's OData feed: groups as objects, repeats as lists, `__id`, `__system`."""
    paths = group_paths(definition)
    value = []
    for uuid, key, answers in submissions:
        item = {"__id": f"uuid:{uuid}", "__system": {"submissionDate": "2026-03-02T11:00:00.000Z", "submitterName": "brigada"},
                "institution": key, "meta": {"instanceID": f"uuid:{uuid}"}}
        for name, answer in answers.items():
            target = item
            for group in paths.get(name, []):
                target = target.setdefault(group, {})
            if name in definition.repeats:
                target[name] = [dict(i, __id=f"r{n}") for n, i in enumerate(answer)]
            else:
                target[name] = _value(answer)
        value.append(item)
    return json.dumps({"@odata.context": "…/Submissions", "value": value}).encode()


# ------------------------------------------------------------------ the government questionnaire
def _state(app, scored):
    from diagnostic.extensions import db
    from diagnostic.models import AuditEvent, ImportedSubmission, Response

    with app.app_context():
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Response)),
                db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
                db.session.scalar(sa.select(sa.func.count()).select_from(ImportedSubmission)))


def _gobierno():
    return surveys.load(surveys.shipped("gobierno"))


def bad_answers() -> dict:
    answers = closed_answers()
    answers["ai_requests_received"], answers["ai_requests_answered"] = "5", "9"  # more answered than received
    answers["ai_requests_evidence"] = "https://congreso.example.org/estadistica.xlsx"
    return answers


@pytest.mark.parametrize("style", ["kobo-xlsx", "odk-central-csv-zip", "odk-central-json"])
def test_bad_row_then_fixed_then_reimported(app, scored, style):
    from diagnostic.extensions import db
    from diagnostic.models import Response, ResponseStatus
    from diagnostic.services import campaigns, responses, submissions
    from diagnostic.services.audit import SYSTEM

    writer, filename = {"kobo-xlsx": (kobo_xlsx, "gobierno_kobo.xlsx"),
                        "odk-central-csv-zip": (central_zip, "gobierno.zip"),
                        "odk-central-json": (central_json, "gobierno.json")}[style]
    definition = _gobierno()
    bad = writer(definition, [("u-c1", "C1", open_answers()), ("u-j2", "J2", bad_answers())])
    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        preview = submissions.preview(campaign, bad, filename)
        assert preview.source_format == style
        assert [p.action for p in preview.plans] == ["create", "error"]
        (error,) = preview.errors
        assert error.question == "ai_requests_answered" and error.row == {"odk-central-json": 2}.get(style, 3)
        assert error.column == {"kobo-xlsx": "ai/ai_requests_answered", "odk-central-csv-zip": "ai-ai_requests_answered",
                                "odk-central-json": "ai/ai_requests_answered"}[style]
        assert error.message_es == surveys.validate(definition, bad_answers()).by_path()["ai_requests_answered"][0].message_es
        before = _state(app, scored)
        with pytest.raises(ServiceError) as refused:
            submissions.apply(campaign, bad, filename, SYSTEM)
        assert refused.value.status == 422 and refused.value.code == "submissions_rejected"
        assert any("ai_requests_answered" in line for line in refused.value.details_for("es"))
    assert _state(app, scored) == before  # nothing written

    good = writer(definition, [("u-c1", "C1", open_answers()), ("u-j2", "J2", closed_answers())])
    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        applied = submissions.apply(campaign, good, filename, SYSTEM)
        assert (applied.created, applied.updated, applied.unchanged) == (1, 1, 0)
        for key, answers in (("C1", open_answers()), ("J2", closed_answers())):
            response = db.session.get(Response, db.session.scalar(
                sa.select(Response.id).join(Response.institution).where(sa.text("institutions.key = :k")).params(k=key)))
            assert response.status == ResponseStatus.SUBMITTED
            expected = surveys.validate(definition, answers, partial=False).values
            assert responses.answers_of(response) == surveys.unflatten(surveys.flatten(expected)) or \
                responses.rows_of(response) == responses._to_rows(expected)
            assert response.fingerprint == responses.fingerprint(responses._to_rows(expected))
    after = _state(app, scored)
    assert after[0] == before[0] + 1 and after[2] == before[2] + 2

    with app.app_context():
        again = submissions.apply(campaigns.get_by_slug(scored.slug), good, filename, SYSTEM)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert _state(app, scored) == after  # idempotent: no response, audit row or link added


def test_kobo_csv_with_semicolons(app, scored):
    from diagnostic.services import campaigns, submissions

    definition = _gobierno()
    wb = openpyxl.load_workbook(io.BytesIO(kobo_xlsx(definition, [("u-1", "C1", open_answers())])))
    ws = wb.active
    text = io.StringIO()
    csv.writer(text, delimiter=";").writerows([["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)])
    with app.app_context():
        preview = submissions.preview(campaigns.get_by_slug(scored.slug), text.getvalue().encode(), "export.csv")
        assert preview.source_format == "kobo-csv" and [p.action for p in preview.plans] == ["create"]
        assert preview.ignored_columns == []


def test_unmatched_rows_and_files_are_refused_clearly(app, scored):
    from diagnostic.services import campaigns, submissions

    definition = _gobierno()
    data = kobo_xlsx(definition, [("u-1", "NOPE", open_answers()), ("u-1", "C1", open_answers()),
                                  ("u-3", "C1", open_answers()), ("", "J2", open_answers())])
    with app.app_context():
        campaign = campaigns.get_by_slug(scored.slug)
        preview = submissions.preview(campaign, data, "k.xlsx")
        lines = [e.format("en") for e in preview.errors]
        assert lines == [
            "gobierno:2:institution: institution not in the campaign: NOPE",
            "gobierno:3: repeated submission (row 2)",
            "gobierno:4:institution: institution repeated in the file (row 3)",
            "gobierno:5: no submission id (_uuid, meta/instanceID, KEY or __id)",
        ]
        with pytest.raises(ServiceError) as missing:
            submissions.preview(campaign, data, "k.xlsx", key_column="clave")
        assert missing.value.code == "submissions_key_column_missing"
        for payload, name, code in ((b"x", "a.txt", "submissions_unsupported_file"),
                                    (b"not a zip", "a.xlsx", "submissions_unreadable"),
                                    (b"{", "a.json", "submissions_unreadable"),
                                    (b"PK\x03\x04", "a.zip", "submissions_unreadable")):
            with pytest.raises(ServiceError) as refused:
                submissions.preview(campaign, payload, name)
            assert refused.value.code == code, name
        with pytest.raises(ServiceError) as refused:
            submissions.preview(campaign, data, "k.xlsx", purpose="nobody")
        assert refused.value.code == "submissions_unknown_purpose"
        campaigns.set_status(campaign, "closed")
        with pytest.raises(ServiceError) as closed:
            submissions.preview(campaign, data, "k.xlsx")
        assert closed.value.code == "campaign_not_open" and closed.value.status == 409


# ------------------------------------------------------------------ repeats (the small test instrument)
def _setup_keys(app, setup):
    from diagnostic.extensions import db
    from diagnostic.models import Institution

    with app.app_context():
        return [db.session.get(Institution, i).key for i in (setup.institution_id, setup.other_institution_id)]


REPEAT_ANSWERS = {"has_unit": "yes", "unit_url": "https://ut.example.org", "channels": ["pnt", "email"],
                  "received": "4", "answered": "3",
                  "examples": [{"topic": "Presupuesto", "sent": "2025-02-03"}, {"topic": "Obras", "sent": "2025-02-10"}]}


@pytest.mark.parametrize("writer", [kobo_xlsx, central_zip, central_json], ids=["kobo", "central-zip", "central-json"])
def test_repeats_arrive_from_every_format(app, setup, writer):
    from diagnostic.models import Response
    from diagnostic.services import campaigns, instruments, responses, submissions
    from diagnostic.services.audit import SYSTEM

    key, other = _setup_keys(app, setup)
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        definition = instruments.definition(campaigns.instrument(campaign, "institution"))
        missing = dict(REPEAT_ANSWERS, examples=[{"topic": "", "sent": "2025-02-03"}])
        name = {kobo_xlsx: "f.xlsx", central_zip: "f.zip", central_json: "f.json"}[writer]
        preview = submissions.preview(campaign, writer(definition, [("a", key, REPEAT_ANSWERS), ("b", other, missing)]), name)
        assert [p.action for p in preview.plans] == ["create", "error"]
        (error,) = preview.errors
        assert error.question == "topic"
        if writer is kobo_xlsx:
            assert (error.sheet, error.row) == ("examples", 4)
        if writer is central_zip:
            assert (error.sheet, error.row) == ("prueba-examples.csv", 4)
        applied = submissions.apply(campaign, writer(definition, [("a", key, REPEAT_ANSWERS)]), name, SYSTEM)
        assert applied.created == 1
        response = responses.find(campaign, "institution", applied.preview.plans[0].institution)
        assert isinstance(response, Response)
        assert responses.answers_of(response)["examples"] == REPEAT_ANSWERS["examples"]


def test_draft_typed_on_the_web_is_updated_and_submitted(app, setup):
    from diagnostic.models import AuditEvent, ResponseStatus
    from diagnostic.services import audit, campaigns, instruments, responses, submissions
    from diagnostic.services.audit import SYSTEM

    key, _other = _setup_keys(app, setup)
    with app.app_context():
        campaign = campaigns.get_by_slug(setup.slug)
        institution = campaigns_institution(campaign, key)
        draft = responses.get_or_create(campaign, "institution", institution)
        responses.save_page(draft, {"has_unit": "no", "received": "1"}, SYSTEM)
        definition = instruments.definition(campaigns.instrument(campaign, "institution"))
        applied = submissions.apply(campaign, kobo_xlsx(definition, [("a", key, REPEAT_ANSWERS)]), "k.xlsx", SYSTEM)
        assert applied.updated == 1
        assert draft.status == ResponseStatus.SUBMITTED
        events = audit.for_response(draft.id)
        assert any(e.action == "answer.import" and e.field == "has_unit" and e.old_value == "no" and e.new_value == "yes"
                   for e in events)
        assert isinstance(events[-1], AuditEvent)


def campaigns_institution(campaign, key):
    from diagnostic.services import institutions

    return next(i for i in institutions.in_campaign(campaign) if i.key == key)


# ------------------------------------------------------------------ CLI, API and pages
def test_cli_previews_then_applies(app, scored, runner, tmp_path):
    path = tmp_path / "gobierno_kobo.xlsx"
    path.write_bytes(kobo_xlsx(_gobierno(), [("u-c1", "C1", open_answers()), ("u-j2", "J2", bad_answers())]))
    result = runner.invoke(args=["responses", "import", str(path), "--campaign", scored.slug])
    assert result.exit_code == 1
    assert "gobierno:3:ai/ai_requests_answered: ai_requests_answered:" in result.output
    path.write_bytes(kobo_xlsx(_gobierno(), [("u-c1", "C1", open_answers()), ("u-j2", "J2", closed_answers())]))
    dry = runner.invoke(args=["responses", "import", str(path), "--campaign", scored.slug, "--dry-run"])
    assert dry.exit_code == 0 and "crear: 1, actualizar: 1, sin cambios: 0" in dry.output
    done = runner.invoke(args=["responses", "import", str(path), "--campaign", scored.slug])
    assert done.exit_code == 0 and "importados: 1 creados, 1 actualizados, 0 sin cambios" in done.output
    again = runner.invoke(args=["responses", "import", str(path), "--campaign", scored.slug, "--lang", "en"])
    assert again.exit_code == 0 and "imported: 0 created, 0 updated, 2 unchanged" in again.output


def test_api_imports_all_or_nothing(client, scored, app):
    from diagnostic.services import tokens

    with app.app_context():
        token = tokens.issue_for_email("analyst@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/campaigns/{scored.slug}/submissions"
    bad = kobo_xlsx(_gobierno(), [("u-c1", "C1", open_answers()), ("u-j2", "J2", bad_answers())])
    refused = client.post(url, headers=headers, data={"file": (io.BytesIO(bad), "k.xlsx")})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["code"] == "submissions_rejected"
    assert body["details"][0]["question"] == "ai_requests_answered" and body["details"][0]["row"] == 3
    good = kobo_xlsx(_gobierno(), [("u-c1", "C1", open_answers()), ("u-j2", "J2", closed_answers())])
    dry = client.post(url + "?dry_run=1", headers=headers, data={"file": (io.BytesIO(good), "k.xlsx")})
    assert dry.status_code == 200 and dry.get_json()["counts"] == {"create": 1, "update": 1, "unchanged": 0, "error": 0}
    done = client.post(url, headers=headers, data={"file": (io.BytesIO(good), "k.xlsx")})
    assert done.status_code == 201 and done.get_json()["created"] == 1
    missing = client.post(url, headers=headers, data={})
    assert missing.status_code == 422 and missing.get_json()["code"] == "submissions_file_missing"


def test_admin_page_previews_and_confirms(client, scored, app):
    sign_in(client, scored.users["admin"])
    page = f"/admin/c/{scored.slug}/submissions"
    assert "KoboToolbox" in client.get(page).get_data(as_text=True)
    campaign_page = client.get(f"/admin/c/{scored.slug}").get_data(as_text=True)
    assert page in campaign_page
    bad = kobo_xlsx(_gobierno(), [("u-c1", "C1", open_answers()), ("u-j2", "J2", bad_answers())])
    html = client.post(page, data={"csrf_token": csrf_token(client, page), "key_column": "institution",
                                   "file": (io.BytesIO(bad), "k.xlsx")}).get_data(as_text=True)
    assert "ai_requests_answered" in html and "gobierno:3" in html and 'name="confirm"' not in html
    good = kobo_xlsx(_gobierno(), [("u-c1", "C1", open_answers()), ("u-j2", "J2", closed_answers())])
    html = client.post(page, data={"csrf_token": csrf_token(client, page), "key_column": "institution",
                                   "file": (io.BytesIO(good), "k.xlsx")}).get_data(as_text=True)
    assert 'name="confirm"' in html
    token = re.search(r'name="staged"[^>]*value="([0-9a-f]{64})"', html).group(1)
    before = _state(app, scored)
    done = client.post(f"{page}/apply", data={"csrf_token": csrf_token(client, page), "staged": token,
                                              "key_column": "institution", "purpose": "institution", "confirm": "1"})
    assert done.status_code == 302
    assert _state(app, scored)[0] == before[0] + 1


def test_instrument_xlsform_download(client, scored, app):
    from diagnostic.services import campaigns

    sign_in(client, scored.users["admin"])
    with app.app_context():
        version = campaigns.instrument(campaigns.get_by_slug(scored.slug), "institution")
        version_id, content_hash = version.id, version.content_hash
    response = client.get(f"/admin/instruments/{version_id}/xlsform")
    assert response.status_code == 200 and response.headers["Content-Disposition"].endswith('.xlsx"')
    assert f"/admin/instruments/{version_id}/xlsform" in client.get(f"/admin/c/{scored.slug}").get_data(as_text=True)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gobierno.xlsx"
        path.write_bytes(response.data)
        assert surveys.content_hash(surveys.load(path)) == content_hash
