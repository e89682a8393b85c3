"""Imported scores: robust CSV reading, row-level reports, states, rollup and the CLI
reproducing the published MGA 2017 state and national figures."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from scoring import benchmarks, states
from scoring.cli import rollup as rollup_command
from scoring.cli import run_rollup
from scoring.io import read_csv
from scoring.pipeline import InputError, InputIssueCode
from scoring.rollup import rollup


@pytest.mark.parametrize("spelling, code", [
    ("México", "15"), ("Mexico", "15"), ("Edo. de México", "15"), ("Estado de Mexico", "15"),
    ("NuevoLeon", "19"), ("nuevo  león", "19"), ("Ciudad de Mexico", "09"), ("CDMX", "09"),
    ("Distrito Federal", "09"), ("Veracruz de Ignacio de la Llave", "30"), ("Michoacan de Ocampo", "16"),
    ("Coahuila de Zaragoza", "05"), ("QROO", "23"), ("Quintana Roo", "23"), ("BCS", "03"),
    ("1", "01"), ("01", "01"), ("32", "32"), ("00", "00"), ("Federal", "00"), (9, "09"),
])
def test_state_spellings(spelling, code):
    assert states.resolve(spelling) == code


@pytest.mark.parametrize("bad", ["Narnia", "", None, "33", "Nuevo"])
def test_unresolvable_states(bad):
    assert states.resolve(bad) is None


def test_states_table_and_prefixed_names():
    assert len(states.all_states()) == 33
    assert states.by_code("19").name == "Nuevo León" and states.by_code("09").abbr == "CDMX"
    assert states.split_prefixed_name("NuevoLeon_Congreso del Estado") == ("19", "Congreso del Estado")
    assert states.split_prefixed_name("Baja California Sur - Poder Judicial") == ("03", "Poder Judicial")
    assert states.split_prefixed_name("Mexico_Secretaría", "15") == ("15", "Secretaría")
    assert states.split_prefixed_name("Instituto Sonorense", "26") == (None, "Instituto Sonorense")


def test_benchmarks_loaders():
    assert benchmarks.national().loc[0, ["ga", "t", "p"]].tolist() == [0.39, 0.50, 0.28]
    by_state = benchmarks.by_state()
    assert len(by_state) == 33 and by_state.loc[0, "state"] == "00"
    assert benchmarks.by_type()["n"].sum() == 908


def test_rollup_reproduces_published_state_means(metrica_model, mga_fixture_path):
    read = read_csv(mga_fixture_path)
    result = rollup(read.frame, metrica_model, lines=read.line_of_row)
    assert not [i for i in result.issues if i.severity == "error"]
    assert result.disagreements.empty
    table = result.by("state").set_index("state")
    published = benchmarks.by_state().set_index("state")
    assert list(table.index) == list(published.index) and table["n"].sum() == 908
    for code in ("TG", "TC", "PG", "PC"):
        assert (table[code].round(2) - published[code.lower()]).abs().max() < 1e-9, code
    # The annex's GA is the mean of institution GA, rounded: agree to two decimals.
    assert (table["GA"] - published["ga"]).abs().max() <= 0.005 + 1e-9
    nation = result.by("nation").iloc[0]
    assert (round(nation["GA"], 2), round(nation["T"], 2), round(nation["P"], 2)) == (0.39, 0.50, 0.28)


def test_latin1_crlf_bom_versions_give_identical_results(metrica_path, mga_fixture_path, tmp_path):
    text = mga_fixture_path.read_text(encoding="utf-8")
    base, _ = run_rollup(metrica_path, mga_fixture_path, by="state")
    variants = {
        "bom_crlf.csv": b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"),
        "latin1.csv": text.replace("\n", "\r\n").encode("latin-1"),
        "cp1252.csv": text.encode("cp1252"),
    }
    lines = text.splitlines()
    lines[5] = lines[5].encode("utf-8").decode("utf-8")
    mixed = "\n".join(lines[:5]).encode("utf-8") + b"\n" + lines[5].encode("cp1252") + b"\n" + "\n".join(lines[6:]).encode("utf-8") + b"\n"
    variants["mixed.csv"] = mixed
    for name, data in variants.items():
        path = tmp_path / name
        path.write_bytes(data)
        table, result = run_rollup(metrica_path, path, by="state")
        pd.testing.assert_frame_equal(table, base, check_exact=False, rtol=0, atol=1e-12)
        names = set(result.institutions["name"])
        assert any("Secretaría" in n for n in names), name
    assert read_csv(tmp_path / "bom_crlf.csv").had_bom
    assert read_csv(tmp_path / "latin1.csv").encoding == "cp1252"
    mixed_read = read_csv(tmp_path / "mixed.csv")
    assert [r.line for r in mixed_read.repairs] == [6]
    assert "Secretaría" in mixed_read.frame.iloc[4]["SO"] or "Ã" not in mixed_read.frame.iloc[4]["SO"]


def test_mojibake_is_repaired_and_reported():
    data = "SO,edo,TG,TC,PG,PC\nMÃ©xico_Congreso,MÃ©xico,0.5,0.5,0.5,0.5\n".encode()
    read = read_csv(data)
    assert read.frame.loc[0, "edo"] == "México" and [r.line for r in read.repairs] == [2]


def test_row_level_reports(metrica_model):
    frame = pd.DataFrame({
        "SO": ["Mexico_A", "Mexico_B", "Narnia_C", "Mexico_A", "Mexico_D", "Jalisco_E"],
        "edo": ["Mexico", "Edo. de México", "Narnia", "Mexico", "Mexico", "Jalisco"],
        "TG": ["0.5", "abc", "0.5", "0.5", "1.7", "0,25"],
        "TC": ["0.5", "0.5", "0.5", "0.5", "0.5", "0.25"],
        "PG": ["0.5", "0.5", "0.5", "0.5", "0.5", "0.25"],
        "PC": ["0.5", "0.5", "0.5", "0.5", "0.5", "0.25"],
        "GA": ["0.5", "0.5", "0.5", "0.5", "0.5", "0.90"],
    })
    result = rollup(frame, metrica_model)
    by_code = {(i.code, i.row) for i in result.issues}
    assert (InputIssueCode.NON_NUMERIC, 3) in by_code
    assert (InputIssueCode.UNKNOWN_STATE_ROW, 4) in by_code
    assert (InputIssueCode.DUPLICATE_ROW, 5) in by_code
    assert (InputIssueCode.OUT_OF_RANGE, 6) in by_code
    assert (InputIssueCode.DISAGREEMENT, 7) in by_code
    assert all(i.message_es and i.message_en for i in result.issues)
    assert list(result.institutions.index) == ["Mexico_A", "Mexico_B", "Mexico_D", "Jalisco_E"]
    wide = result.wide()
    assert wide.loc["Jalisco_E", "TG"] == 0.25  # decimal comma accepted
    assert wide.loc["Mexico_B", "T"] == pytest.approx(0.25)  # TG missing → 0 under `zero`, never a guess
    row = result.disagreements.set_index("institution").loc["Jalisco_E"]
    assert row["given"] == 0.9 and row["computed"] == 0.25 and row["line"] == 7
    assert "Mexico_A" not in set(result.disagreements["institution"])
    assert result.institutions.loc["Mexico_A", "name"] == "A"


def test_missing_columns_is_one_clear_error(metrica_model):
    with pytest.raises(InputError) as info:
        rollup(pd.DataFrame({"SO": ["x"], "TG": ["0.1"]}), metrica_model, state_column="entidad")
    assert len(info.value.issues) == 1 and "entidad" in info.value.issues[0].message_en
    with pytest.raises(InputError) as info:
        rollup(pd.DataFrame({"SO": ["Mexico_x"], "foo": ["0.1"]}), metrica_model)
    assert info.value.issues[0].code is InputIssueCode.NO_SCORES


def test_column_map_and_lower_level_only(metrica_model):
    frame = pd.DataFrame({"inst": ["a", "b"], "estado": ["CDMX", "Jalisco"], "trans": ["0.6", "0.2"],
                          "part": ["0.2", "0.4"]})
    result = rollup(frame, metrica_model, id_column="inst", column_map={"trans": "T", "part": "P"})
    assert result.wide("index")["GA"].tolist() == pytest.approx([0.4, 0.3])
    assert "TG" not in result.wide().columns


def test_cli_by_state_and_nation(metrica_path, mga_fixture_path, tmp_path):
    runner = CliRunner()
    res = runner.invoke(rollup_command, ["--model", metrica_path, "--input", str(mga_fixture_path), "--by", "nation",
                                         "--format", "json"])
    assert res.exit_code == 0, res.output
    nation = json.loads(res.stdout)[0]
    assert nation["n"] == 908 and round(nation["GA"], 2) == 0.39 and round(nation["T"], 2) == 0.50
    out = tmp_path / "states.csv"
    res = runner.invoke(rollup_command, ["--model", metrica_path, "--input", str(mga_fixture_path), "--by", "state",
                                         "--out", str(out)])
    assert res.exit_code == 0
    table = pd.read_csv(out, dtype={"state": str})
    assert len(table) == 33 and list(table.columns[:4]) == ["state", "abbr", "entidad", "n"]
    assert table.set_index("state").loc["09", "TG"] == pytest.approx(0.56)


def test_cli_reports_rows_and_fatal_errors(metrica_path, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("SO,edo,TG,TC,PG,PC\nMexico_A,Mexico,0.5,0.5,0.5,0.5\nX_B,Atlantis,0.5,0.5,0.5,0.5\n", encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(rollup_command, ["--model", metrica_path, "--input", str(bad), "--by", "state"])
    assert res.exit_code == 0
    assert "bad.csv:3:" in res.stderr and "Atlantis" in res.stderr
    res = runner.invoke(rollup_command, ["--model", metrica_path, "--input", str(bad), "--strict"])
    assert res.exit_code == 1
    res = runner.invoke(rollup_command, ["--model", metrica_path, "--input", str(bad), "--state-column", "nope"])
    assert res.exit_code == 1 and "nope" in res.output
    res = runner.invoke(rollup_command, ["--model", "no-such-model", "--input", str(bad)])
    assert res.exit_code == 1 and "no-such-model" in res.output
