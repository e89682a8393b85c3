"""Index model loading and checks: located, bilingual issues."""
from __future__ import annotations

import pytest

from scoring.model import IndexModel, ModelError, ModelIssueCode, check

from .conftest import METRICA_YAML, SMALL_YAML


def codes(exc: ModelError) -> set[ModelIssueCode]:
    return {i.code for i in exc.issues}


def test_small_model_loads_with_defaults(small_model):
    assert small_model.tree.code == "GA"
    assert small_model.levels() == ["index", "dimension", "component", "item"]
    assert small_model.codes("component") == ["AI", "TA", "PG"]
    ai = small_model.node("ai_unit")
    assert ai.rule.family == "options" and ai.rule.params["options"] == {"yes": 1.0, "no": 0.0}
    assert small_model.node("cel").repeat == "mean"
    assert small_model.node("cel").source_field == "requests.days"
    assert small_model.node("sex").rule.not_applicable == ("na",)
    assert small_model.defaults["aggregation"] == "arithmetic"


def test_weights_default_equal_and_renormalise(small_model):
    t = small_model.node("T")
    assert small_model.normalised_weights(t) == [0.75, 0.25]
    assert small_model.normalised_weights(small_model.tree) == [0.5, 0.5]
    eff = small_model.effective_weights("component")
    assert eff == pytest.approx({"AI": 0.375, "TA": 0.125, "PG": 0.5})
    assert sum(eff.values()) == pytest.approx(1.0)


def test_metrica_tree(metrica_model):
    assert metrica_model.codes("subindex") == ["TG", "TC", "PG", "PC"]
    assert metrica_model.effective_weights("subindex") == pytest.approx(dict.fromkeys(["TG", "TC", "PG", "PC"], 0.25))


def test_line_numbers_and_bilingual_messages():
    text = METRICA_YAML.replace("level: subindex, weight: 0.5}\n        - {code: TC", "level: subindx, weight: 0.5}\n        - {code: TC", 1)
    with pytest.raises(ModelError) as info:
        IndexModel.from_text(text, filename="m.model.yaml")
    issue = info.value.issues[0]
    assert issue.code is ModelIssueCode.UNKNOWN_LEVEL and issue.node == "TG" and issue.line == 15
    assert issue.file == "m.model.yaml"
    assert "Nivel desconocido" in issue.message_es and "Unknown level" in issue.message_en
    assert "m.model.yaml:15" in str(issue)


@pytest.mark.parametrize("change, code", [
    (("code: TC", "code: TG"), ModelIssueCode.DUPLICATE_CODE),
    (("code: TC, level: subindex, weight: 0.5", "code: TC, level: subindex, weight: 0"), ModelIssueCode.BAD_WEIGHT),
    (("code: TC, level: subindex, weight: 0.5", "code: TC, level: subindex, weight: -1"), ModelIssueCode.BAD_WEIGHT),
    (("missing: zero", "missing: drop"), ModelIssueCode.BAD_DEFAULT),
    (("aggregation: arithmetic", "aggregation: median"), ModelIssueCode.BAD_DEFAULT),
    (("code: TC, level: subindex, weight: 0.5", "code: TC, level: subindex, weight: 0.5, missing: drop"),
     ModelIssueCode.BAD_MISSING),
    (("code: TC, level: subindex, weight: 0.5", "code: TC, level: subindex, weight: 0.5, aggregation: median"),
     ModelIssueCode.BAD_AGGREGATION),
    (("code: TC, level: subindex, weight: 0.5", "code: TC, level: subindex, weight: 0.5, repeat: median"),
     ModelIssueCode.BAD_REPEAT),
    (("code: TC, level: subindex, weight: 0.5", "code: TC, level: subindex, weight: 0.5, min_coverage: 2"),
     ModelIssueCode.BAD_MIN_COVERAGE),
    (("code: TC, level: subindex, weight: 0.5", "code: TC, level: subindex, weight_range: [2, 1]"),
     ModelIssueCode.BAD_WEIGHT_RANGE),
    (("code: TG, level: subindex, weight: 0.5}", "code: TG, level: subindex, weight: 0.5, children: []}"), ModelIssueCode.EMPTY_CHILDREN),
    (("code: TG, level: subindex, weight: 0.5}", "code: TG, level: dimension, weight: 0.5}"), ModelIssueCode.LEVEL_ORDER),
])
def test_model_errors(change, code):
    with pytest.raises(ModelError) as info:
        IndexModel.from_text(METRICA_YAML.replace(*change, 1))
    assert code in codes(info.value)


@pytest.mark.parametrize(("rule", "code"), [
    ("{options: {}}", ModelIssueCode.RULE_OPTIONS),
    ("{options: {'yes': 2}}", ModelIssueCode.RULE_OPTION_SCORE),
    ("{share: pnt}", ModelIssueCode.RULE_SHARE),
    ("{ratio: [a]}", ModelIssueCode.RULE_RATIO),
    ("{scale: [1, 1]}", ModelIssueCode.RULE_SCALE),
    ("{thresholds: [{min: 1}]}", ModelIssueCode.RULE_THRESHOLD),
    ("{thresholds: [{min: 1, max: 2, score: 1}]}", ModelIssueCode.RULE_THRESHOLD),
    ("{thresholds: [{min: x, score: 1}]}", ModelIssueCode.RULE_THRESHOLD_VALUE),
    ("{options: {'yes': 1}, share: [a]}", ModelIssueCode.RULE_FAMILY_COUNT),
    ("{median: 1}", ModelIssueCode.RULE_FAMILY_COUNT),
    ("{thresholds: [{min: 1, score: 1}], else: 3}", ModelIssueCode.RULE_ELSE),
    ("{expression: 3}", ModelIssueCode.RULE_EXPRESSION_TEXT),
    ("{expression: '${a} +'}", ModelIssueCode.RULE_EXPRESSION),
    ("[options]", ModelIssueCode.RULE_NOT_MAPPING),
])
def test_bad_rule_shapes(rule, code):
    text = SMALL_YAML.replace('{code: pg_has, rule: {options: {"yes": 1, "no": 0}}}', "{code: pg_has, rule: " + rule + "}")
    with pytest.raises(ModelError) as info:
        IndexModel.from_text(text)
    assert code in codes(info.value)
    assert all(i.node == "pg_has" for i in info.value.issues)


def test_item_without_rule_and_invalid_yaml():
    with pytest.raises(ModelError) as info:
        IndexModel.from_text(SMALL_YAML.replace('{code: pg_has, rule: {options: {"yes": 1, "no": 0}}}', "{code: pg_has, level: item}"))
    assert ModelIssueCode.NO_RULE in codes(info.value)
    with pytest.raises(ModelError) as info:
        IndexModel.from_text("tree: [unclosed")
    assert ModelIssueCode.YAML_SYNTAX in codes(info.value)


def test_unknown_shipped_id_and_missing_path(tmp_path):
    with pytest.raises(ModelError) as info:
        IndexModel.load("no-such-model")
    assert ModelIssueCode.UNKNOWN_MODEL in codes(info.value)
    with pytest.raises(ModelError):
        IndexModel.load(tmp_path / "nothing.model.yaml")


def test_fields_checked_against_instrument_definitions(small_model):
    class Q:
        def __init__(self, name, type_, list_name=None):
            self.name, self.type, self.list_name = name, type_, list_name

    class Definition:
        fields = {"ai_unit": Q("ai_unit", "yes_no"), "ai_channels": Q("ai_channels", "select_multiple ch", "ch"),
                  "answered": Q("answered", "integer"), "received": Q("received", "integer"),
                  "ta_share": Q("ta_share", "integer"), "da": Q("da", "integer"),
                  "days": Q("days", "integer"), "sex": Q("sex", "yes_no_na")}
        choices = {"ch": [{"name": "pnt"}, {"name": "email"}, {"name": "in_person"}]}

    class Other:
        fields = {"sex": Q("sex", "yes_no")}
        choices = {}

    issues = check(small_model, {"gobierno": Definition(), "ciudadana": Other()})
    found = {(i.code, i.node) for i in issues}
    assert (ModelIssueCode.UNKNOWN_FIELD, "pg_has") in found
    assert (ModelIssueCode.UNKNOWN_OPTION, "ai_channels") in found  # `phone` is not in the list
    assert any(i.code is ModelIssueCode.FIELD_COLLISION and "sex" in i.message_en for i in issues)
    assert all(i.message_es and i.message_en for i in issues)


def test_overrides_copy_and_validate(metrica_model):
    changed = metrica_model.with_overrides(weights={"T": 3, "P": 1}, missing="reweight", aggregation={"T": "geometric"})
    assert changed.normalised_weights(changed.tree) == [0.75, 0.25]
    assert changed.setting(changed.node("T"), "aggregation") == "geometric"
    assert changed.setting(changed.node("P"), "aggregation") == "arithmetic"
    assert changed.setting(changed.node("P"), "missing") == "reweight"
    assert metrica_model.normalised_weights(metrica_model.tree) == [0.5, 0.5]
    with pytest.raises(ModelError):
        metrica_model.with_overrides(weights={"NOPE": 1})
    with pytest.raises(ModelError):
        metrica_model.with_overrides(weights={"T": -1})


def test_shipped_models_check_against_real_instruments():
    from scoring.model import DEFINITIONS_DIR

    for shipped in ("apertura", "conditions", "metrica-2017"):
        IndexModel.load(shipped)
    path = DEFINITIONS_DIR / "apertura.model.yaml"
    text = path.read_text(encoding="utf-8")
    assert "code: pg_has_mechanism" in text
    broken = text.replace("code: pg_has_mechanism", "code: pg_has_mechanism_typo", 1)
    with pytest.raises(ModelError) as info:
        IndexModel.from_text(broken, filename=str(path))
    issue = next(i for i in info.value.issues if i.code is ModelIssueCode.UNKNOWN_FIELD)
    assert issue.node == "pg_has_mechanism_typo" and issue.line and "Campo desconocido" in issue.message_es
