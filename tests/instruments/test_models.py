"""The shipped index models load, check clean against their questionnaires and carry the
MGA 2017 structure and weights (methodology.md §3, §6)."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

import surveys
from scoring.model import IndexModel, check, check_instruments_fields

MODELS = ("apertura", "metrica-2017", "conditions")
BENCHMARKS = Path(__file__).resolve().parents[2] / "scoring" / "data" / "benchmarks"

MGA_2017_COMPONENT_WEIGHTS = {
    "TG": {"AI": 0.5, "TA": 0.2, "TP": 0.2, "DA": 0.1},
    "TC": {"TC_AVAILABILITY": 0.25, "TC_CLARITY": 0.25, "TC_COMPLETENESS": 0.25, "TC_TIMELINESS": 0.25},
    "PG": {"PG_MECHANISMS": 0.2, "PG_ACTORS": 0.1, "PG_OPERATION": 0.3, "PG_FORMAT": 0.1,
           "PG_FOLLOW_UP": 0.3},
    "PC": {"PC_CONTACT": 0.2, "PC_RECEIPT": 0.3, "PC_ACTIVATION": 0.3, "PC_TIMELINESS": 0.2},
}

# Item → component of the apertura model (the mapping the report's gap analysis relies on).
APERTURA_ITEMS = {
    "AI": {"ai_unit", "ai_channels", "ai_guide", "ai_term", "ai_disability_assistance",
           "ai_indigenous_assistance", "ai_free_electronic"},
    "TA": {"ta_share", "ta_site_links", "ta_updated_quarter", "ta_reusable_formats"},
    "TP": {"tp_beyond_obligations", "tp_demand_based", "tp_plain_language", "tp_sex_disaggregated",
           "tp_impact_evaluated"},
    "DA": {"da_datasets", "da_open_license", "da_metadata", "da_machine_readable",
           "da_update_schedule", "da_portal_listed"},
    "TC_AVAILABILITY": {"tc_availability"},
    "TC_CLARITY": {"tc_clarity"},
    "TC_COMPLETENESS": {"tc_completeness"},
    "TC_TIMELINESS": {"tc_days"},
    "PG_MECHANISMS": {"pg_has_mechanism", "pg_mechanism_kinds"},
    "PG_ACTORS": {"pg_participants", "inc_parity_rules"},
    "PG_OPERATION": {"pg_operated", "pg_sessions"},
    "PG_FORMAT": {"pg_participation_format"},
    "PG_FOLLOW_UP": {"pg_outcomes_published", "pg_proposals_answered"},
    "PC_CONTACT": {"pc_contact_methods"},
    "PC_RECEIPT": {"pc_receipt"},
    "PC_ACTIVATION": {"pc_activated"},
    "PC_TIMELINESS": {"pc_days"},
}

CONDITIONS_ITEMS = {
    "FRAMEWORK": {"cd_law_open_government", "cd_participation_law", "cd_development_plan",
                  "cd_open_data_policy"},
    "COCREATION": {"cd_cocreation_joined", "cd_secretariat_installed", "cd_secretariat_sessions",
                   "cd_action_plans", "cd_commitments_fulfilled"},
    "ARTICULATION": {"cd_commitments_aligned", "cd_national_space", "cd_sdg_targets"},
    "INCLUSION": {"cd_gender_perspective", "cd_sex_disaggregated", "cd_indigenous"},
}


def definitions_of(model: IndexModel) -> dict:
    return {name: surveys.load(surveys.shipped(name)) for name in model.instruments}


def children(model: IndexModel, code: str) -> list[str]:
    return [c.code for c in model.node(code).children]


def weights(model: IndexModel, code: str) -> dict[str, float]:
    node = model.node(code)
    return dict(zip([c.code for c in node.children], model.normalised_weights(node), strict=True))


@pytest.mark.parametrize("model_id", MODELS)
def test_model_loads_and_checks_clean(model_id):
    model = IndexModel.load(model_id)
    assert model.id == model_id
    assert check(model) == []
    assert [str(i) for i in check_instruments_fields(model)] == []
    assert [str(i) for i in check(model, definitions_of(model))] == []


@pytest.mark.parametrize("model_id", MODELS)
def test_every_node_is_labelled_in_both_languages(model_id):
    model = IndexModel.load(model_id)
    assert model.label.get("es") and model.label.get("en")
    for node in model.nodes():
        assert node.label.get("es", "").strip() and node.label.get("en", "").strip(), node.code


@pytest.mark.parametrize("model_id", MODELS)
def test_uncertainty_ranges(model_id):
    model = IndexModel.load(model_id)
    assert model.defaults["missing"] == "zero"
    assert model.defaults["aggregation"] == "arithmetic"
    assert model.defaults["missing"] in model.uncertainty["missing"]
    assert model.defaults["aggregation"] in model.uncertainty["aggregation"]
    assert 0 < model.uncertainty["weight_spread"] < 1
    for node in model.nodes():
        if node.weight_range is not None:
            lo, hi = node.weight_range
            assert lo <= node.weight <= hi, node.code


def test_apertura_tree_is_the_mga_tree():
    model = IndexModel.load("apertura")
    assert model.instruments == ("gobierno", "ciudadana")
    assert model.tree.code == "GA" and model.tree.level == "index"
    assert children(model, "GA") == ["T", "P"]
    assert children(model, "T") == ["TG", "TC"]
    assert children(model, "P") == ["PG", "PC"]
    assert weights(model, "GA") == {"T": 0.5, "P": 0.5}
    assert weights(model, "T") == {"TG": 0.5, "TC": 0.5}
    assert weights(model, "P") == {"PG": 0.5, "PC": 0.5}
    for subindex, expected in MGA_2017_COMPONENT_WEIGHTS.items():
        assert model.node(subindex).level == "subindex"
        got = weights(model, subindex)
        assert got.keys() == expected.keys(), subindex
        for code, weight in expected.items():
            assert got[code] == pytest.approx(weight), code
            assert model.node(code).level == "component"
    assert sum(model.effective_weights("item").values()) == pytest.approx(1.0)


def test_apertura_item_to_component_mapping():
    model = IndexModel.load("apertura")
    got = {c: set(children(model, c)) for c in APERTURA_ITEMS}
    assert got == APERTURA_ITEMS
    assert {n.code for n in model.leaves()} == set().union(*APERTURA_ITEMS.values())


def test_apertura_item_rules():
    model = IndexModel.load("apertura")
    rule = {leaf.code: leaf.rule for leaf in model.leaves()}
    assert rule["ai_channels"].family == "share"
    assert set(rule["ai_channels"].params["share"]) == {"pnt", "email", "in_person", "phone", "post"}
    assert rule["ai_term"].family == "ratio"
    assert list(rule["ai_term"].params["ratio"]) == ["ai_requests_answered", "ai_requests_received"]
    assert rule["ta_share"].family == "scale" and list(rule["ta_share"].params["scale"]) == [0, 100]
    assert rule["da_datasets"].family == "thresholds"
    assert rule["tp_sex_disaggregated"].not_applicable == ("na",)
    assert rule["pc_contact_methods"].family == "share"
    assert set(rule["pc_contact_methods"].params["share"]) == {"phone", "email", "web_form"}
    for code in ("tc_availability", "tc_clarity", "tc_completeness", "tc_days"):
        leaf = model.node(code)
        assert leaf.repeat == "mean", code
        assert "tc_answered" in rule[code].fields, code


def test_apertura_does_not_score_respondent_or_descriptive_fields():
    model = IndexModel.load("apertura")
    read = set()
    for leaf in model.leaves():
        read.add(leaf.source_field.split(".")[-1])
        read.update(leaf.rule.fields)
    assert not {f for f in read if f.startswith("resp_")}
    assert not read & {"inc_measures", "pg_main_mechanism", "pg_main_mechanism_name", "tc_notes",
                       "pc_notes", "pc_proposal_summary", "pc_channel_used"}
    assert not {f for f in read if f.endswith("_evidence")}


def test_metrica_2017_tree():
    model = IndexModel.load("metrica-2017")
    assert model.instruments == ()
    assert children(model, "GA") == ["T", "P"]
    assert children(model, "T") == ["TG", "TC"]
    assert children(model, "P") == ["PG", "PC"]
    assert [(leaf.code, leaf.level) for leaf in model.leaves()] == [
        ("TG", "subindex"), ("TC", "subindex"), ("PG", "subindex"), ("PC", "subindex")]
    for node in model.nodes()[1:]:
        assert node.weight == 0.5, node.code
    assert model.effective_weights("subindex") == {"TG": 0.25, "TC": 0.25, "PG": 0.25, "PC": 0.25}


def test_metrica_2017_reproduces_the_published_state_table():
    """The published 2017 state index is the model's weighted sum of the four published
    sub-indices, to the rounding of the table (each figure to two decimals: ±0.005 on the
    index plus ±0.005 on the mean of the four sub-indices)."""
    model = IndexModel.load("metrica-2017")
    effective = model.effective_weights("subindex")
    with open(BENCHMARKS / "metrica_2017_by_state.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 33
    for row in rows:
        rolled = sum(effective[code] * float(row[code.lower()]) for code in effective)
        assert math.isclose(rolled, float(row["ga"]), abs_tol=0.01 + 1e-9), row["entidad"]


def test_conditions_model():
    model = IndexModel.load("conditions")
    assert model.instruments == ("condiciones",)
    assert model.tree.level == "index"
    assert children(model, model.tree.code) == ["FRAMEWORK", "COCREATION", "ARTICULATION", "INCLUSION"]
    assert set(weights(model, model.tree.code).values()) == {0.25}
    assert {c: set(children(model, c)) for c in CONDITIONS_ITEMS} == CONDITIONS_ITEMS
    read = set()
    for leaf in model.leaves():
        read.add(leaf.source_field)
        read.update(leaf.rule.fields)
    assert not {f for f in read if f.startswith("cd_risks")}, "risks are kept, not scored"
    assert model.node("cd_sex_disaggregated").rule.not_applicable == ("na",)
