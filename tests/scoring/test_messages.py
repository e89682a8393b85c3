"""Every scoring message exists in Spanish and English with the same parameters."""
from __future__ import annotations

import string

import pytest

from scoring.messages import ERROR, WARNING
from scoring.model import IndexModel, ModelError, ModelIssueCode
from scoring.pipeline import InputIssueCode

MEMBERS = [*ModelIssueCode, *InputIssueCode]


def placeholders(template: str) -> set[str]:
    """Placeholder names of a template; `x_en` counts as `x` (the English form of a parameter)."""
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return {name.removesuffix("_en") for name in names}


@pytest.mark.parametrize("code", MEMBERS, ids=lambda c: f"{type(c).__name__}.{c.name}")
def test_every_message_has_spanish_and_english_with_the_same_placeholders(code):
    _, es, en = code.value
    assert es.strip() and en.strip() and es != en
    assert code.severity in (ERROR, WARNING)
    assert placeholders(es) == placeholders(en)
    filled_es, filled_en = code.messages(**dict.fromkeys(placeholders(es), 0.5))
    assert "{" not in filled_es.replace("{min", "") and "{" not in filled_en.replace("{min", "")


def test_model_issue_prints_located_in_either_language():
    with pytest.raises(ModelError) as info:
        IndexModel.from_text("tree:\n  code: GA\n  level: indice\n", filename="x.model.yaml")
    issue = next(i for i in info.value.issues if i.code is ModelIssueCode.UNKNOWN_LEVEL)
    assert issue.format("es") == "x.model.yaml:3: GA: Nivel desconocido 'indice' (use index, dimension, subindex, component, item)"
    assert issue.format("en") == "x.model.yaml:3: GA: Unknown level 'indice' (use index, dimension, subindex, component, item)"
