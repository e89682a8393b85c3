"""Validation throughput: 10,000 complete answer sets of the government questionnaire."""
from __future__ import annotations

import random

import surveys
from benchmarks import Measurement, best_of
from surveys.sample import sample_answers

# A representative stand-in (~60 fields) used only if the shipped definition does not load.
_FALLBACK_ITEMS = 14


def _fallback_definition() -> surveys.Definition:
    lines = ["settings: {id: bench, version: '1', languages: [es, en]}", "choices:",
             "  channels: [{name: a, label: A}, {name: b, label: B}, {name: c, label: C}]", "survey:"]
    for i in range(_FALLBACK_ITEMS):
        lines += [
            f"  - type: group\n    name: g{i}\n    label: G{i}\n    children:",
            f"      - {{type: yes_no, name: q{i}, label: Q, required: true}}",
            f"      - {{type: url, name: q{i}_url, label: U, required: true, relevant: \"${{q{i}}} = 'yes'\"}}",
            f"      - {{type: integer, name: n{i}, label: N, constraint: '. >= 0'}}",
            f"      - {{type: select_multiple channels, name: m{i}, label: M}}",
        ]
    return surveys.load_text("\n".join(lines) + "\n", filename="<bench>")


def _definition() -> surveys.Definition:
    try:
        return surveys.load(surveys.shipped("gobierno"))
    except (surveys.DefinitionError, OSError):
        return _fallback_definition()


def run(quick: bool = False) -> list[Measurement]:
    """Time `surveys.validate` on complete answer sets against merely touching the same dicts."""
    n = 1_000 if quick else 10_000
    definition = _definition()
    rng = random.Random(2025)
    answer_sets = [sample_answers(definition, rng) for _ in range(n)]
    surveys.validate(definition, answer_sets[0])  # compile once, outside the timing

    def validate_all() -> None:
        for answers in answer_sets:
            surveys.validate(definition, answers)

    def touch_all() -> None:
        total = 0
        for answers in answer_sets:
            for key, value in answers.items():
                total += len(key)
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, dict):
                            for k, v in item.items():
                                total += len(k) + (v is None)
                else:
                    total += value is None

    seconds = best_of(validate_all, repeat=3)
    baseline = best_of(touch_all, repeat=3)
    return [
        Measurement(
            name=f"surveys.validate: {n:,} answer sets ({definition.settings.id}, {len(definition.fields)} fields)",
            seconds=seconds,
            baseline_name="iterate over the same dicts (touch every key/value)",
            baseline_seconds=baseline,
            target="≤ 2 s for 10,000" if not quick else "quick run",
        )
    ]
