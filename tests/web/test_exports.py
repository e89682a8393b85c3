"""Exports: CSV wide and long, codebook, XLSX sheets, and formula-injection safety."""
from __future__ import annotations

import csv
import io
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from diagnostic.services.exports import safe_cell
from tests.web.conftest import sign_in

EVIL = '=HYPERLINK("http://evil.example","clic")'



def _csv(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+52 55", "'+52 55"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-0.25", "-0.25"), ("-3", "-3"), (-0.25, -0.25), ("Texto", "Texto"),
    ("", ""), (None, None),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_csv_wide_and_long_and_injection(client, scored):
    sign_in(client, scored.users["analyst"])
    wide = _csv(client, f"/analyst/{scored.slug}/export/scores-institution-wide.csv")
    by_key = {r["institution"]: r for r in wide}
    assert set(by_key) == {"Q1", "Q2", "J1", "J2", "C1"}
    assert by_key["C1"]["name"] == "'" + EVIL  # made inert
    assert float(by_key["C1"]["GA"]) == 0.0 and by_key["C1"]["GA_coverage"] != ""
    assert float(by_key["Q1"]["GA"]) > float(by_key["Q2"]["GA"])

    long = _csv(client, f"/analyst/{scored.slug}/export/scores-institution-long.csv")
    assert {"institution", "name", "code", "measure", "value"} <= set(long[0])
    ga = {r["institution"]: float(r["value"]) for r in long if r["code"] == "GA" and r["measure"] == "score"}
    assert ga == {k: float(r["GA"]) for k, r in by_key.items()}
    assert {r["measure"] for r in long} == {"score", "coverage", "rank", "rank_low", "rank_high"}

    states = _csv(client, f"/analyst/{scored.slug}/export/scores-state-long.csv")
    assert {r["measure"] for r in states} == {"score", "low", "high", "adjusted", "rest", "gap", "gap_low", "gap_high",
                                              "welch_p", "perm_p", "g", "q", "rank", "rank_low", "rank_high"}
    assert {r["code"] for r in states} == {"GA", "T", "TG", "TC", "P", "PG", "PC"}
    gaps = [float(r["value"]) for r in states if r["measure"] == "gap"]
    assert any(g < 0 for g in gaps)  # genuine negative numbers stay numbers, not '-0.1
    assert client.get(f"/analyst/{scored.slug}/export/scores-state-tall.csv").status_code == 400
    assert client.get(f"/analyst/{scored.slug}/export/scores-planet-wide.csv").status_code == 400


def test_codebook_describes_every_column_and_node(client, scored):
    sign_in(client, scored.users["analyst"])
    rows = _csv(client, f"/analyst/{scored.slug}/export/codebook.csv?by=state")
    columns = [r for r in rows if r["kind"] == "column"]
    nodes = {r["code"]: r for r in rows if r["kind"] == "node"}
    wide = _csv(client, f"/analyst/{scored.slug}/export/scores-state-wide.csv")
    assert [r["column"] for r in columns] == list(wide[0])
    assert nodes["GA"]["level"] == "index" and nodes["GA"]["parent"] == ""
    assert nodes["T"]["label_es"] == "Transparencia" and nodes["T"]["label_en"] == "Transparency"
    assert float(nodes["T"]["weight"]) == pytest.approx(0.5)
    assert nodes["ai_unit"]["level"] == "item" and '"options"' in nodes["ai_unit"]["rule"]
    assert nodes["AI"]["missing"] == "reweight"
    assert sum(float(r["index_weight"]) for r in nodes.values() if r["level"] == "item") == pytest.approx(1.0)


def test_xlsx_sheets_and_injection(client, scored):
    sign_in(client, scored.users["analyst"])
    response = client.get(f"/analyst/{scored.slug}/export/scores-institution.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["scores", "codebook", "metadata"]
    sheet = book["scores"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(min_row=2)]
    evil = next(r for r in rows if r["institution"] == "C1")
    assert evil["name"] == "'" + EVIL
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert isinstance(evil["GA"], (int, float)) and not isinstance(evil["GA"], bool)
    meta = {r[0].value: r[1].value for r in book["metadata"].iter_rows(min_row=2)}
    assert meta["campaign"] == scored.slug and meta["model"] == "apertura"
    assert meta["data_fingerprint"].startswith("sha256:")
    states = load_workbook(io.BytesIO(client.get(f"/analyst/{scored.slug}/export/scores-state.xlsx").data))["scores"]
    header = [c.value for c in states[1]]
    gaps = [row[header.index("GA_gap")].value for row in states.iter_rows(min_row=2)]
    assert any(isinstance(g, float) and g < 0 for g in gaps)


@settings(max_examples=300)
@given(st.one_of(st.text(), st.floats(allow_nan=False), st.integers()))
def test_safe_cell_never_leaves_a_formula(value):
    cell = safe_cell(value)
    if isinstance(value, str):
        assert cell == value or cell == "'" + value
        text = str(cell)
        if text.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert math.isfinite(float(text.strip()))  # only genuine numbers keep a leading sign
    else:
        assert cell == value
