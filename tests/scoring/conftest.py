"""Shared fixtures for the scoring tests: inline models written as YAML text."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from scoring.model import IndexModel

DATA = Path(__file__).parent / "data"
SHIPPED_METRICA = Path(__file__).resolve().parents[2] / "surveys" / "definitions" / "metrica-2017.model.yaml"

METRICA_YAML = """\
model:
  id: metrica-2017
  version: "2017"
  label: {es: Métrica de Gobierno Abierto 2017, en: Open Government Metric 2017}
  defaults: {aggregation: arithmetic, missing: zero, min_coverage: 0.0}
  uncertainty: {aggregation: [arithmetic, geometric], missing: [zero, reweight], weight_spread: 0.25}
tree:
  code: GA
  level: index
  children:
    - code: T
      level: dimension
      weight: 0.5
      children:
        - {code: TG, level: subindex, weight: 0.5}
        - {code: TC, level: subindex, weight: 0.5}
    - code: P
      level: dimension
      weight: 0.5
      children:
        - {code: PG, level: subindex, weight: 0.5}
        - {code: PC, level: subindex, weight: 0.5}
"""

SMALL_YAML = """\
model:
  id: small
  defaults: {missing: zero}
tree:
  code: GA
  level: index
  children:
    - code: T
      level: dimension
      children:
        - code: AI
          level: component
          weight: 3
          children:
            - {code: ai_unit, rule: {options: {"yes": 1, "no": 0}}}
            - {code: ai_channels, rule: {share: [pnt, email, in_person, phone]}}
            - {code: ai_term, rule: {ratio: [answered, received]}}
        - code: TA
          level: component
          weight: 1
          children:
            - {code: ta_share, rule: {scale: [0, 100]}}
            - {code: da, rule: {thresholds: [{min: 10, score: 1}, {min: 3, score: 0.5}], else: 0}}
            - {code: cel, field: requests.days, repeat: mean, rule: {thresholds: [{max: 5, score: 1}, {max: 10, score: 0.5}], else: 0}}
            - {code: sex, rule: {options: {"yes": 1, "no": 0}, not_applicable: [na]}}
    - code: P
      level: dimension
      children:
        - code: PG
          level: component
          children:
            - {code: pg_has, rule: {options: {"yes": 1, "no": 0}}}
"""


@pytest.fixture
def metrica_model(tmp_path) -> IndexModel:
    """The MGA 2017 tree (the shipped file when it exists, else the same tree inline)."""
    if SHIPPED_METRICA.exists():
        return IndexModel.load("metrica-2017")
    path = tmp_path / "metrica-2017.model.yaml"
    path.write_text(METRICA_YAML, encoding="utf-8")
    return IndexModel.load(path)


@pytest.fixture
def metrica_path(tmp_path) -> str:
    """Path (or shipped id) of the MGA 2017 model."""
    if SHIPPED_METRICA.exists():
        return "metrica-2017"
    path = tmp_path / "metrica-2017.model.yaml"
    path.write_text(METRICA_YAML, encoding="utf-8")
    return str(path)


@pytest.fixture
def small_model() -> IndexModel:
    """A small tree using every rule family except expressions."""
    return IndexModel.from_text(SMALL_YAML)


@pytest.fixture
def mga_fixture_path() -> Path:
    """The synthetic MGA 2017 per-institution file."""
    return DATA / "mga2017_fixture.csv"


def long_answers(rows: list[tuple]) -> pd.DataFrame:
    """Long-form answers from (institution, field, repeat_index, value) tuples."""
    return pd.DataFrame(rows, columns=["institution", "field", "repeat_index", "value"])
