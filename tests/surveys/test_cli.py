"""`apertura survey check/show` through click's CliRunner and the plain functions behind them."""
from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

import surveys
from surveys.cli import check_files, show_text, survey

GOOD = "settings: {id: ok, version: '1'}\nsurvey:\n  - {type: integer, name: a, label: A}\n"
BAD = "settings: {id: bad}\nsurvey:\n  - {type: integer, name: a, label: A, relevant: '${b} = 1'}\n  - {type: integer, name: c}\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_ok_prints_a_summary(tmp_path):
    path = write(tmp_path, "ok.yaml", GOOD)
    result = CliRunner().invoke(survey, ["check", path])
    assert result.exit_code == 0
    assert "1 preguntas, 1 páginas, 0 repeticiones, idiomas es, sha256:" in result.output
    english = CliRunner().invoke(survey, ["check", "--lang", "en", path])
    assert "1 questions, 1 pages" in english.output


def test_check_errors_print_located_lines_and_exit_1(tmp_path):
    good = write(tmp_path, "ok.yaml", GOOD)
    bad = write(tmp_path, "bad.yaml", BAD)
    result = CliRunner().invoke(survey, ["check", good, bad])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(good + ": correcto")
    assert f"{bad}:3: a: relevant: ${{b}} no es una pregunta del cuestionario" in lines
    assert f"{bad}:4: c: aviso: falta la etiqueta" in lines
    english = CliRunner().invoke(survey, ["check", "--lang", "en", bad])
    assert f"{bad}:4: c: warning: missing label" in english.output


def test_check_files_function_and_missing_file(tmp_path):
    lines, failed = check_files([str(tmp_path / "nope.yaml")])
    assert failed and lines == [f"{tmp_path / 'nope.yaml'}: no existe el archivo"]


def test_show_json_and_yaml(tmp_path):
    path = write(tmp_path, "ok.yaml", GOOD)
    result = CliRunner().invoke(survey, ["show", path, "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["settings"]["id"] == "ok" and data["survey"][0]["name"] == "a"
    assert yaml.safe_load(show_text(path, "yaml")) == data
    bad = write(tmp_path, "bad.yaml", BAD)
    failed = CliRunner().invoke(survey, ["show", bad])
    assert failed.exit_code == 1


def test_check_over_the_definitions_folder_passes_and_points_models_elsewhere():
    files = sorted(str(p) for p in surveys.DEFINITIONS_DIR.glob("*.yaml"))
    result = CliRunner().invoke(survey, ["check", *files])
    assert result.exit_code == 0, result.output
    assert "gobierno.yaml: correcto" in result.output
    assert "apertura.model.yaml: modelo de índice" in result.output
    assert "apertura model check" in result.output
