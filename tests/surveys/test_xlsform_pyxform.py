"""XLSForm in, through pyxform: pyxform's own example forms, forms written the way Kobo's
builder and ODK users write them, every language-column spelling, and random sheets."""
from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import surveys
from surveys.xlsform import language_code

PYXFORM_FORMS = Path(__file__).parent / "data" / "pyxform"
EXAMPLES = sorted(p for p in PYXFORM_FORMS.iterdir() if p.suffix in (".xls", ".xlsx", ".csv", ".md") and p.name != "README.md")

# pyxform's examples Apertura loads (the others need media questions, geopoints, time,
# external data, OSM, `include`, or repeat a choice name in a list).
LOADS = {
    "allow_comment_rows_test.xls", "calculate.xls", "cascading_select_test_equivalent.xls",
    "choice_name_same_as_select_name.xls", "extra_columns.xlsx", "extra_sheet_names.xlsx", "field-list.xlsx",
    "group.csv", "group.md", "group.xls", "group.xlsx", "loop.csv", "loop.md", "loop.xls", "loop.xlsx",
    "simple_loop.csv", "simple_loop.xls", "specify_other.csv", "specify_other.md", "specify_other.xls",
    "specify_other.xlsx", "style_settings.xls", "survey_no_name.xlsx", "text_and_integer.csv",
    "text_and_integer.md", "text_and_integer.xls", "text_and_integer.xlsx", "tutorial.xls", "utf_csv.csv",
    "yes_or_no_question.csv", "yes_or_no_question.md", "yes_or_no_question.xls", "yes_or_no_question.xlsx",
    "repeat_date_test.xls", "table-list.xls", "xml_escaping.xls",
}


def located(report, *, skip=("PYXFORM_WARNING",)):
    return [(i.code.name, i.sheet, i.row, i.field) for i in report.issues if i.code.name not in skip]


def test_the_copied_examples_are_pyxforms():
    assert len(EXAMPLES) >= 60
    assert "BSD" in (PYXFORM_FORMS / "LICENSE").read_text() or "Redistribution" in (PYXFORM_FORMS / "LICENSE").read_text()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_pyxform_example_loads_or_fails_located(tmp_path, path):
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    report = surveys.check(copy)
    for issue in report.issues:
        assert issue.sheet is not None and issue.row is not None or issue.code.name in ("EMPTY_SURVEY", "BINARY_FILE"), str(issue)
        assert issue.message_es and issue.message_en
    if path.name in LOADS:
        assert report.ok and report.definition is not None, [str(i) for i in report.errors]
        assert report.definition.fields
    else:
        assert report.errors and report.definition is None


def test_most_of_pyxforms_examples_load():
    assert len(LOADS) >= len(EXAMPLES) / 2


def test_pyxform_normalisations_arrive_in_the_model(tmp_path):
    loop = surveys.load(PYXFORM_FORMS / "loop.xls")  # label:english, `begin loop over`, `or specify other`
    assert loop.settings.languages == ("en",)
    assert list(loop.fields)[:3] == ["available_toilet_types", "available_toilet_types_other", "number_pit_latrine_with_slab"]
    assert loop.fields["number_bucket_system"].label == {"en": "How many Bucket system are on the premises?"}
    assert loop.fields["available_toilet_types_other"].relevant.canonical == "selected(${available_toilet_types}, 'other')"
    assert loop.choices["toilet_type"].names[-1] == "other"
    other = surveys.load(PYXFORM_FORMS / "specify_other.xls")
    assert any(name.endswith("_other") for name in other.fields)
    yes_no = surveys.load(PYXFORM_FORMS / "yes_or_no_question.xlsx")
    assert yes_no.fields["good_day"].type == "select_one"


@pytest.mark.parametrize(("name", "expected"), [
    ("style_settings.xls", [("IGNORED_SETTING", "settings", 2, None, "setting 'style' ignored: Apertura does not use it")]),
    ("tutorial.xls", [("IGNORED_COLUMN", "survey", 2, None, "column 'tutorial notes' ignored: Apertura does not use it")]),
    ("loop.xls", [("LOOP_EXPANDED", "survey", 3, "loop_toilet_types",
                   "loop 'loop_toilet_types' becomes one group per choice (4 groups)")]),
    ("yes_or_no_question.xls", []),
])
def test_xls_forms_load_with_their_warnings(name, expected):
    report = surveys.check(PYXFORM_FORMS / name)
    assert report.ok
    assert [(i.code.name, i.sheet, i.row, i.field, i.message_en) for i in report.warnings
            if i.code.name != "PYXFORM_WARNING"] == expected


KOBO_HEADER = ["type", "name", "label:English (en)", "label:Español (es)", "hint:English (en)", "required",
               "relevant", "appearance", "$kuid", "$autoname", "$xpath"]
KOBO_ROWS = [
    ["start", "start", None, None, None, None, None, None, "k1", "start", None],
    ["end", "end", None, None, None, None, None, None, "k2", "end", None],
    ["today", "today", None, None, None, None, None, None, "k3", "today", None],
    ["deviceid", "deviceid", None, None, None, None, None, None, "k4", "deviceid", None],
    ["username", "username", None, None, None, None, None, None, "k5", "username", None],
    ["begin_group", "unit", "Transparency unit", "Unidad de transparencia", None, None, None, "field-list", "k6", "unit", "unit"],
    ["select_one yn or_other", "has_unit", "Is there a unit?", "¿Hay unidad?", "As of today", "true", None, "horizontal", "k7", "has_unit", "unit/has_unit"],
    ["phone number", "phone", "Phone", "Teléfono", None, None, None, None, "k8", "phone", "unit/phone"],
    ["integer", "staff", "Staff", "Personal", None, "false", "${has_unit} = 'yes'", None, "k9", "staff", "unit/staff"],
    ["end_group", None, None, None, None, None, None, None, "k10", None, None],
]


def kobo_xlsx(path: Path) -> Path:
    """A form as Kobo's form builder exports it (XLSX, single-colon language columns)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(KOBO_HEADER)
    for row in KOBO_ROWS:
        ws.append(row)
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", "label:English (en)", "label:Español (es)", "$kuid"])
    choices.append(["yn", "yes", "Yes", "Sí", "c1"])
    choices.append(["yn", "no", "No", "No", "c2"])
    st_ = wb.create_sheet("settings")
    st_.append(["form_title", "version", "default_language", "style", "public_key", "allow_choice_duplicates"])
    st_.append(["Kobo unit form", "vX1", "Español (es)", "pages", "MIIB", "no"])
    wb.save(path)
    return path


def test_a_kobo_builder_export_loads_with_its_warnings(tmp_path):
    report = surveys.check(kobo_xlsx(tmp_path / "kobo_unit.xlsx"))
    assert report.ok, [str(i) for i in report.errors]
    d = report.definition
    assert d.settings.id == "kobo_unit" and d.settings.version == "vX1"
    assert d.settings.languages == ("es", "en") and d.settings.default_language == "es"
    assert list(d.fields) == ["has_unit", "has_unit_other", "staff"]
    assert d.fields["has_unit"].label == {"en": "Is there a unit?", "es": "¿Hay unidad?"}
    assert d.fields["has_unit"].hint == {"en": "As of today"} and d.fields["has_unit"].required is True
    assert d.choices["yn"].names == ("yes", "no", "other")
    assert d.groups["unit"].appearance == "field-list"
    warnings = {(i.code.name, i.sheet, i.row, i.field, i.message_en) for i in report.warnings}
    expected = {
        ("IGNORED_QUESTION", "survey", 2, "start", "metadata question 'start' ignored: Apertura records dates and authorship itself"),
        ("IGNORED_QUESTION", "survey", 3, "end", "metadata question 'end' ignored: Apertura records dates and authorship itself"),
        ("IGNORED_QUESTION", "survey", 4, "today", "metadata question 'today' ignored: Apertura records dates and authorship itself"),
        ("IGNORED_QUESTION", "survey", 5, "deviceid", "metadata question 'deviceid' ignored: Apertura records dates and authorship itself"),
        ("IGNORED_QUESTION", "survey", 6, "username", "metadata question 'username' ignored: Apertura records dates and authorship itself"),
        ("IGNORED_QUESTION", "survey", 9, "phone", "metadata question 'phone number' ignored: Apertura records dates and authorship itself"),
        ("IGNORED_APPEARANCE", "survey", 8, "has_unit", "appearance 'horizontal' ignored: Apertura does not render it"),
        ("IGNORED_COLUMN", "survey", 7, None, "column '$kuid' ignored: Apertura does not use it"),
        ("IGNORED_COLUMN", "survey", 7, None, "column '$autoname' ignored: Apertura does not use it"),
        ("IGNORED_COLUMN", "survey", 7, None, "column '$xpath' ignored: Apertura does not use it"),
        ("IGNORED_COLUMN", "choices", 2, None, "column '$kuid' ignored: Apertura does not use it"),
        ("IGNORED_SETTING", "settings", 2, None, "setting 'style' ignored: Apertura does not use it"),
        ("IGNORED_SETTING", "settings", 2, None, "setting 'public_key' ignored: Apertura does not use it"),
        ("IGNORED_SETTING", "settings", 2, None, "setting 'allow_choice_duplicates' ignored: Apertura does not use it"),
    }
    assert expected <= warnings, expected - warnings
    assert {w[0] for w in warnings} - {e[0] for e in expected} <= {"PYXFORM_WARNING", "MISSING_TRANSLATION"}


ODK_MD = """\
| survey |
|  | type | name | label::English (en) | label::Español (es) | constraint | constraint_message::English (en) | constraint_message::Español (es) | repeat_count |
|  | begin_group | g | Group | Grupo | | | | |
|  | integer | n | N | N | . >= 0 | Not negative | No negativo | |
|  | select_multiple channels | ch | Channels | Canales | | | | |
|  | end_group | | | | | | | |
|  | begin_repeat | r | Requests | Solicitudes | | | | 2 |
|  | date | sent | Sent | Enviada | | | | |
|  | end_repeat | | | | | | | |
| choices |
|  | list_name | name | label::English (en) | label::Español (es) |
|  | channels | pnt | PNT | PNT |
|  | channels | mail | Mail | Correo |
| settings |
|  | form_id | form_title | version |
|  | odk_form | ODK form | 7 |
"""


def test_an_odk_style_markdown_form_loads(tmp_path):
    path = tmp_path / "odk.md"
    path.write_text(ODK_MD, encoding="utf-8")
    report = surveys.check(path)
    assert report.ok, [str(i) for i in report.errors]
    d = report.definition
    assert d.settings.id == "odk_form" and d.settings.languages == ("en", "es")
    assert d.fields["n"].constraint_message == {"en": "Not negative", "es": "No negativo"}
    assert d.repeats["r"].repeat_count == 2
    assert d.fields["ch"].type == "select_multiple" and d.fields["ch"].list_name == "channels"
    assert not surveys.validate(d, {"n": "-1", "r": [{"sent": "2025-01-01"}] * 2}).ok


@pytest.mark.parametrize(("header", "code"), [
    ("label:English", "en"), ("label:english", "en"), ("label::chinese", "zh"), ("label:English (en)", "en"),
    ("label::Español (es)", "es"), ("label::español", "es"), ("label::Spanish", "es"), ("label::French (fr)", "fr"),
    ("label::Náhuatl", "nah"), ("label::pt-BR", "pt-BR"), ("label::Portuguese (pt-BR)", "pt-BR"),
    ("label::Klingon", "Klingon"), ("label::Tlapaneco (tcf)", "tcf"),
])
def test_language_column_spellings(tmp_path, header, code):
    path = tmp_path / "lang.md"
    path.write_text(f"| survey |\n|  | type | name | {header} |\n|  | text | a | Hola |\n", encoding="utf-8")
    report = surveys.check(path)
    assert report.ok, [str(i) for i in report.issues]
    assert report.definition.fields["a"].label == {code: "Hola"}
    assert report.definition.settings.languages == (code,)


def test_language_names_table():
    assert [language_code(x) for x in ("English (en)", "ENGLISH", "inglés", "chinese", "es", "Maya")] == ["en", "en", "en", "zh", "es", "yua"]


_CELLS = st.sampled_from([
    "type", "name", "label", "label::English (en)", "label:Español", "hint::chinese", "$kuid", "required",
    "relevant", "constraint", "calculation", "repeat_count", "appearance", "choice_filter", "list_name",
    "text", "integer", "decimal", "date", "note", "calculate", "select_one l", "select_multiple l",
    "select_one l or_other", "begin_group", "end_group", "begin repeat", "end repeat", "begin loop over l",
    "end loop", "geopoint", "image", "start", "phone number", "yes_no", "url", "likert l", "range",
    "a", "b", "l", "${a} > 1", "pulldata('a','b','c','d')", ". >= 0", "yes", "true()", "field-list",
    "choices", "survey", "settings", "external_choices", "", "x", "0", "3", "form_id", "default_language",
    "Español (es)", "style",
])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_CELLS, min_size=1, max_size=6), min_size=1, max_size=10))
def test_random_sheets_give_a_definition_or_located_errors(tmp_path, rows):
    """Whatever the cells, the reader returns a definition or located errors; never a traceback."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    sheet = ws
    for row in rows:
        if row[0] in ("choices", "settings") and len(row) == 1:
            sheet = wb.create_sheet(row[0]) if row[0] not in wb.sheetnames else wb[row[0]]
            continue
        sheet.append(row)
    path = tmp_path / "random.xlsx"
    wb.save(path)
    report = surveys.check(path)
    for issue in report.issues:
        assert issue.message_es and issue.message_en
        assert issue.sheet is not None or issue.code.name == "EMPTY_SURVEY"
    assert (report.definition is not None) == report.ok or not report.ok
    if report.definition is not None:
        surveys.validate(report.definition, {})
