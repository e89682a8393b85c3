"""XLSForm import (markdown, csv, xlsx) into the same model, with located issues."""
from __future__ import annotations

import textwrap

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import surveys

FORM_MD = """\
| survey |
|        | type                | name     | label::Español (es) | label::English (en) | hint::Español (es) | required | relevant        | constraint | constraint_message::Español (es) | calculation                  | default | choice_filter   | appearance | parameters          | repeat_count |
|        | begin group         | ai       | Acceso              | Access              |                    |          |                 |            |                                  |                              |         |                 | field-list |                     |              |
|        | yes_no              | ai_unit  | ¿Unidad?            | Unit?               | Con datos          | yes      |                 |            |                                  |                              |         |                 |            |                     |              |
|        | integer             | received | Recibidas           | Received            |                    | true     | ${ai_unit}='yes'| . >= 0     | No negativo                      |                              | 0       |                 |            |                     |              |
|        | select_one states   | state    | Estado              | State               |                    |          |                 |            |                                  |                              |         | region = 'west' |            |                     |              |
|        | range               | score    | Puntaje             | Score               |                    |          |                 |            |                                  |                              |         |                 |            | start=0 end=10 step=1 |            |
|        | end group           |          |                     |                     |                    |          |                 |            |                                  |                              |         |                 |            |                     |              |
|        | begin repeat        | reqs     | Solicitudes         | Requests            |                    |          |                 |            |                                  |                              |         |                 |            |                     | 2            |
|        | date                | sent     | Enviada             | Sent                |                    | yes      |                 |            |                                  |                              |         |                 |            |                     |              |
|        | end repeat          |          |                     |                     |                    |          |                 |            |                                  |                              |         |                 |            |                     |              |
|        | calculate           | n        |                     |                     |                    |          |                 |            |                                  | count(${reqs})               |         |                 |            |                     |              |
| choices |
|         | list_name | name | label::Español (es) | label::English (en) | region |
|         | states    | jal  | Jalisco             | Jalisco             | west   |
|         | states    | son  | Sonora              | Sonora              | north  |
| settings |
|          | form_id | version | form_title | default_language |
|          | demo_md | 2025.1  | Demo       | Español (es)     |
"""


def check_md(tmp_path, text: str, name: str = "form.md"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return surveys.check(path)


def located(report):
    return [(i.code.name, i.sheet, i.row, i.field) for i in report.issues]


def test_markdown_xlsform_builds_the_same_model(tmp_path):
    report = check_md(tmp_path, FORM_MD)
    assert report.ok, [str(i) for i in report.issues]
    d = report.definition
    assert d.settings.id == "demo_md" and d.settings.version == "2025.1"
    assert d.settings.languages == ("es", "en") and d.settings.title == {"es": "Demo", "en": "Demo"}
    assert list(d.fields) == ["ai_unit", "received", "state", "score", "sent", "n"]
    q = d.fields["received"]
    assert q.label == {"es": "Recibidas", "en": "Received"} and q.required is True
    assert q.relevant.references == frozenset({"ai_unit"}) and q.constraint_message == {"es": "No negativo"}
    assert q.source.sheet == "survey" and q.source.row == 4
    assert d.fields["ai_unit"].hint == {"es": "Con datos"}
    assert d.repeats["reqs"].repeat_count == 2
    assert d.choices["states"].choices[0].properties == {"region": "west"}
    assert d.fields["score"].parameters == {"start": 0.0, "end": 10.0, "step": 1.0}
    result = surveys.validate(d, {"ai_unit": "yes", "received": "3", "state": "jal", "reqs": [{"sent": "2025-01-02"}] * 2})
    assert result.ok, result.errors
    assert result.values["n"] == 2
    bad = surveys.validate(d, {"ai_unit": "yes", "received": "-3", "state": "son", "reqs": [{"sent": "2025-01-02"}] * 2})
    assert [(e.path, e.code, e.message_es) for e in bad.errors][:2] == [
        ("received", "constraint", "No negativo"),
        ("state", "choice_filter", "la opción 'son' no está disponible con las respuestas dadas"),
    ]


# (markdown survey rows after the header, expected (code, sheet, row, field))
BAD_FORMS = [
    ("|  | geopoint | where | Dónde |\n|  | text | t | T |\n", [("UNSUPPORTED_TYPE", "survey", 2, "where")]),
    ("|  | select_one_from_file states.csv | s | S |\n|  | text | t | T |\n", [("UNSUPPORTED_TYPE", "survey", 2, "s")]),
    ("|  | barcode | b | B |\n|  | text | t | T |\n", [("UNSUPPORTED_TYPE", "survey", 2, "b")]),
    ("|  | geotrace | g | G |\n", [("UNSUPPORTED_TYPE", "survey", 2, "g")]),
    ("|  | text | a | A |\n|  | end group | | |\n", [("PYXFORM_ERROR", "survey", 3, None)]),
    ("|  | begin group | g | G |\n|  | text | a | A |\n", [("PYXFORM_ERROR", "survey", 2, None)]),
    (
        "|  | begin repeat | r | R |\n|  | begin repeat | r2 | R2 |\n|  | text | a | A |\n"
        "|  | end repeat | | |\n|  | end repeat | | |\n",
        [("NESTED_REPEAT", "survey", 3, "r2")],
    ),
    ("|  | integer | a | A |\n|  | integer | a | B |\n", [("PYXFORM_ERROR", "survey", 3, None)]),
    (  # pyxform allows the same name in two groups; Apertura's answers are keyed by name alone
        "|  | begin group | g1 | G |\n|  | integer | a | A |\n|  | end group | | |\n"
        "|  | begin group | g2 | G |\n|  | integer | a | B |\n|  | end group | | |\n",
        [("DUPLICATE_NAME", "survey", 6, "a")],
    ),
    ("|  | select_one nolist | a | A |\n", [("PYXFORM_ERROR", "choices", 1, None)]),
]


@pytest.mark.parametrize(("rows", "expected"), BAD_FORMS)
def test_unsupported_and_broken_forms_are_located(tmp_path, rows, expected):
    text = "| survey |\n|  | type | name | label |\n" + rows
    report = check_md(tmp_path, text)
    assert [x for x in located(report) if x[0] != "PYXFORM_WARNING"] == expected
    assert report.definition is None


def test_pyxform_errors_keep_pyxform_message_and_row(tmp_path):
    report = check_md(tmp_path, "| survey |\n|  | type | name | label |\n|  | text | a | A |\n|  | end group | | |\n")
    assert str(report.issues[0]) == (f"{tmp_path / 'form.md'}:survey:3: pyxform no pudo leer el formulario: [row : 3] "
                                     "Unmatched 'end_group'. No matching 'begin_group' was found for the name 'unknown'.")


def test_ignored_columns_warn_and_external_functions_fail(tmp_path):
    text = (
        "| survey |\n"
        "|  | type | name | label | media::image | guidance_hint | calculation |\n"
        "|  | text | a | A | a.png | | |\n"
        "|  | text | b | B | | ayuda | |\n"
        "|  | calculate | c | | | | pulldata('x', 'y', 'z', 'w') |\n"
        "| external_choices |\n|  | list_name | name |\n|  | l | x |\n"
    )
    report = check_md(tmp_path, text)
    assert located(report) == [
        ("UNSUPPORTED_SHEET", "external_choices", 1, None),
        ("UNSUPPORTED_FEATURE", "survey", 4, "c"),
        ("IGNORED_COLUMN", "survey", 2, None),
        ("IGNORED_COLUMN", "survey", 3, None),
    ]
    assert [i.severity for i in report.issues] == ["error", "error", "warning", "warning"]
    assert str(report.issues[3]) == f"{tmp_path / 'form.md'}:survey:3: aviso: columna 'guidance_hint' ignorada: Apertura no la usa"
    assert "pulldata() (external instances)" in report.issues[1].message_en


def test_xlsx_with_builder_columns(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label::Spanish (es)", "label::English (en)", "body::accuracyThreshold"])
    ws.append(["integer", "age", "Edad", "Age", None])
    ws.append(["geopoint", "where", "Dónde", "Where", "5"])
    ws.append(["text", "name", "Nombre", None, None])
    settings = wb.create_sheet("settings")
    settings.append(["form_id", "version"])
    settings.append(["xl", "3"])
    path = tmp_path / "form.xlsx"
    wb.save(path)
    report = surveys.check(path)
    assert [x for x in located(report) if x[0] != "PYXFORM_WARNING"] == [
        ("UNSUPPORTED_TYPE", "survey", 3, "where"),
        ("MISSING_TRANSLATION", "survey", 4, "name"),
    ]
    assert report.issues[-1].severity == "warning"


def test_valid_xlsx_and_csv_load(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label", "relevant"])
    ws.append(["integer", "age", "Edad", None])
    ws.append(["text", "why", "¿Por qué?", "${age} > 17"])
    wb.save(tmp_path / "f.xlsx")
    d = surveys.load(tmp_path / "f.xlsx")
    assert d.settings.id == "f" and list(d.fields) == ["age", "why"]
    csv_path = tmp_path / "f.csv"
    csv_path.write_text("survey,,,\n,type,name,label\n,integer,age,Edad\n,text,why,Por qué\n", encoding="utf-8")
    assert list(surveys.load(csv_path).fields) == ["age", "why"]


def test_unreadable_xlsform_files(tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert [i.code.name for i in surveys.check(broken).issues] == ["XLSFORM_READ"]
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\x00\x01\x02")
    assert [i.code.name for i in surveys.check(binary).issues] == ["BINARY_FILE"]
    plain = tmp_path / "plain.md"
    plain.write_text("no tables here")
    assert [i.code.name for i in surveys.check(plain).issues] == ["XLSFORM_READ"]


def test_yaml_and_markdown_forms_hash_alike(tmp_path):
    md = (
        "| survey |\n|  | type | name | label::Español (es) | relevant |\n"
        "|  | integer | a | A | |\n|  | text | b | B | ${a} > 1 |\n"
        "| settings |\n|  | form_id | version | default_language |\n|  | same | 1 | es |\n"
    )
    yml = (
        "settings: {id: same, version: '1', languages: [es], default_language: es}\n"
        "survey:\n  - {type: integer, name: a, label: A}\n  - {type: text, name: b, label: B, relevant: '${a}>1'}\n"
    )
    from_md = check_md(tmp_path, md).definition
    from_yaml = surveys.load_text(yml)
    assert surveys.to_dict(from_md) == surveys.to_dict(from_yaml)
    assert surveys.content_hash(from_md) == surveys.content_hash(from_yaml)


_CELLS = st.sampled_from(["type", "name", "label", "text", "integer", "begin group", "end group", "begin repeat",
                          "end repeat", "select_one l", "list_name", "l", "a", "b", "${a} > 1", "geopoint",
                          "relevant", "label::Klingon", "choices", "survey", "settings", "", "x"])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_CELLS, min_size=1, max_size=5), min_size=1, max_size=8))
def test_random_markdown_forms_give_issues_not_tracebacks(tmp_path, rows):
    text = "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"
    report = check_md(tmp_path, text, "random.md")
    for issue in report.issues:
        assert issue.message_es and issue.message_en
    assert report.definition is None or report.ok


def test_missing_pyxform_is_a_clear_issue(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyxform.xls2json_backends", None)
    report = check_md(tmp_path, FORM_MD)
    assert [i.code.name for i in report.issues] == ["PYXFORM_MISSING"]
    assert "pip install" in report.issues[0].message_es
