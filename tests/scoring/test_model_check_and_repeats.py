"""`apertura model check`, and repeat instances without an answer under each missing policy."""
from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

import scoring
from scoring.cli import model_group
from surveys import DEFINITIONS_DIR


def test_model_check_passes_on_shipped_models_and_locates_errors(tmp_path):
    shipped = sorted(str(p) for p in DEFINITIONS_DIR.glob("*.model.yaml"))
    ok = CliRunner().invoke(model_group, ["check", *shipped])
    assert ok.exit_code == 0, ok.output
    assert "apertura.model.yaml: correcto" in ok.output
    bad = tmp_path / "bad.model.yaml"
    bad.write_text("model: {id: x}\ntree:\n  code: GA\n  level: index\n  children:\n"
                   "    - {code: T, level: dimension, weight: -1}\n", encoding="utf-8")
    failed = CliRunner().invoke(model_group, ["check", "--lang", "en", str(bad)])
    assert failed.exit_code == 1
    assert f"{bad}:6: T:" in failed.output


REPEAT_MODEL = """
model: {{id: rep, defaults: {{missing: {policy}}}}}
tree:
  code: GA
  level: index
  children:
    - code: C
      level: component
      children:
        - code: answered
          level: item
          field: requests.answered
          repeat: mean
          rule: {{options: {{"yes": 1, "no": 0}}}}
"""


@pytest.mark.parametrize(("policy", "expected"), [("zero", 0.5), ("reweight", 1.0)])
def test_a_request_left_unanswered_counts_under_the_parent_policy(policy, expected):
    model = scoring.IndexModel.from_text(REPEAT_MODEL.format(policy=policy), check_instruments=False)
    answers = pd.DataFrame({
        "institution": ["a", "a", "a"],
        "field": ["requests.answered", "requests.sent", "requests.sent"],
        "repeat_index": [0, 0, 1],
        "value": ["yes", "2025-03-03", "2025-03-04"],
    })
    institutions = pd.DataFrame({"institution": ["a"], "state": ["01"], "type": ["ejecutivo"]})
    result = scoring.score(answers, institutions, model)
    assert result.wide("index").loc["a", "GA"] == pytest.approx(expected)
