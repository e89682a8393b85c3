"""XLSForm out: every shipped instrument exported, converted by pyxform, and read back
with the same content hash; Apertura's own types and repeat counts survive the trip."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from pyxform.xls2xform import convert

import surveys
from surveys.cli import survey
from surveys.xlsform_export import language_header, to_xlsform

SHIPPED = sorted(p for p in surveys.DEFINITIONS_DIR.glob("*.yaml") if not p.name.endswith(".model.yaml"))


def export(definition, tmp_path: Path, name: str = "form.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(to_xlsform(definition))
    return path


def test_every_shipped_instrument_is_tested():
    assert {p.stem for p in SHIPPED} >= {"gobierno", "ciudadana", "condiciones"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_instruments_round_trip_with_the_same_hash(tmp_path, path):
    original = surveys.load(path)
    exported = export(original, tmp_path, f"{path.stem}.xlsx")
    report = surveys.check(exported)
    assert report.ok and not report.warnings, [str(i) for i in report.issues]
    assert surveys.to_dict(report.definition) == surveys.to_dict(original)
    assert surveys.content_hash(report.definition) == surveys.content_hash(original)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_pyxform_converts_every_export_to_an_xform(tmp_path, path):
    exported = export(surveys.load(path), tmp_path, f"{path.stem}.xlsx")
    result = convert(xlsform=str(exported), validate=False, pretty_print=False)
    xform = result.xform
    assert "<h:html" in xform and 'lang="Spanish (es)"' in xform and 'lang="English (en)"' in xform
    definition = surveys.load(path)
    first_relevant = next(q for q in definition.fields.values() if q.relevant is not None)
    assert f'nodeset="/{definition.settings.id}/' in xform or "nodeset=" in xform
    assert "relevant=" in xform and first_relevant.name in xform
    if definition.repeats:
        assert "<repeat " in xform
    assert "calculate=" in xform and "constraint=" in xform or "calculate=" in xform


def test_the_export_sheets_read_like_an_xlsform(tmp_path):
    path = export(surveys.load(surveys.shipped("gobierno")), tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["survey", "choices", "settings"]
    header = [c.value for c in wb["survey"][1]]
    assert header[:4] == ["type", "name", "label::Spanish (es)", "label::English (en)"]
    types = [row[0] for row in wb["survey"].iter_rows(min_row=2, values_only=True)]
    assert "select_one yes_no" in types and "begin_group" in types and "end_group" in types
    settings = dict(zip([c.value for c in wb["settings"][1]], [c.value for c in wb["settings"][2]], strict=True))
    assert settings["form_id"] == "gobierno" and settings["default_language"] == "Spanish (es)"
    assert settings["apertura_title::English (en)"].startswith("Institutional openness")
    lists = {row[0] for row in wb["choices"].iter_rows(min_row=2, values_only=True)}
    assert {"yes_no", "yes_no_na", "filing_channels"} <= lists


EVERYTHING = """
settings: {id: all_kinds, version: "3", title: {es: Todo, en: All}, languages: [es, en, Klingon], default_language: es, unit: state}
choices:
  scale:
    - {name: "1", label: {es: Malo, en: Bad, Klingon: bIHeghbe'}}
    - {name: "2", label: {es: Bueno, en: Good, Klingon: QaQ}, region: north}
survey:
  - type: group
    name: g
    label: {es: Grupo, en: Group, Klingon: ghom}
    appearance: field-list
    children:
      - {type: likert scale, name: mood, label: {es: Ánimo, en: Mood, Klingon: mood}, required: true}
      - {type: range, name: score, label: Puntaje, parameters: "start=0 end=10 step=0.5", read_only: true}
      - {type: url, name: link, label: Enlace, relevant: "${mood} = '2'"}
      - {type: yes_no_na, name: yn, label: Sí o no, required: "${mood} = '1'"}
      - {type: text, name: multi, label: "Dos  espacios\\ny una línea", appearance: multiline, default: "hola"}
  - type: repeat
    name: reqs
    label: Solicitudes
    min_count: 1
    max_count: 4
    children:
      - {type: date, name: sent, label: Enviada, constraint: ". <= today()", constraint_message: {es: No futura, en: Not in the future}}
  - type: repeat
    name: fixed
    label: Fijas
    repeat_count: 2
    children:
      - {type: integer, name: k, label: K}
  - type: repeat
    name: counted
    label: Contadas
    repeat_count: "${n}"
    children:
      - {type: decimal, name: v, label: V}
  - {type: integer, name: n, label: N}
  - {type: calculate, name: total, calculation: "sum(${v})"}
  - {type: note, name: bye, label: Gracias}
"""


def test_every_kind_of_element_survives_the_round_trip(tmp_path):
    original = surveys.load_text(EVERYTHING)
    back = surveys.check(export(original, tmp_path))
    assert back.ok, [str(i) for i in back.issues]
    assert json.dumps(surveys.to_dict(back.definition), sort_keys=True) == json.dumps(surveys.to_dict(original), sort_keys=True)
    d = back.definition
    assert d.fields["mood"].type == "likert" and d.fields["link"].type == "url" and d.fields["yn"].type == "yes_no_na"
    assert d.repeats["reqs"].min_count == 1 and d.repeats["reqs"].max_count == 4
    assert d.repeats["fixed"].repeat_count == 2 and d.repeats["counted"].repeat_count.canonical == "${n}"
    assert d.fields["multi"].label["es"] == "Dos  espacios\ny una línea"
    assert d.settings.languages == ("es", "en", "Klingon") and d.settings.unit == "state"
    convert(xlsform=str(export(original, tmp_path, "again.xlsx")), validate=False)


def test_language_headers():
    assert [language_header(c) for c in ("es", "en", "zh", "nah", "Klingon", "xx")] == [
        "Spanish (es)", "English (en)", "Chinese (zh)", "Nahuatl (nah)", "Klingon", "xx"]


def test_survey_export_command(tmp_path):
    out = tmp_path / "gobierno.xlsx"
    result = CliRunner().invoke(survey, ["export", str(surveys.shipped("gobierno")), "--format", "xlsform", "--out", str(out)])
    assert result.exit_code == 0, result.output
    original = surveys.load(surveys.shipped("gobierno"))
    assert result.output.strip() == f"{out}: escrito — {surveys.content_hash(original)}"
    assert surveys.content_hash(surveys.load(out)) == surveys.content_hash(original)


def test_survey_export_of_a_broken_definition_prints_its_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("settings: {id: bad}\nsurvey:\n  - {type: integer, name: a, relevant: '${b} = 1'}\n", encoding="utf-8")
    result = CliRunner().invoke(survey, ["export", str(bad), "--out", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "${b} no es una pregunta" in result.output
    assert not (tmp_path / "x.xlsx").exists()
