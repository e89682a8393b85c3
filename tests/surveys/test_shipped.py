"""The shipped instruments load cleanly, accept complete answers and reject targeted mistakes."""
from __future__ import annotations

import random

import pytest

import surveys
from surveys.sample import sample_answers

NAMES = ["gobierno", "ciudadana", "condiciones"]


def load(name):
    path = surveys.shipped(name)
    if not path.exists():
        pytest.skip(f"{path} is not written yet")
    return surveys.load(path)


@pytest.mark.parametrize("name", NAMES)
def test_shipped_definitions_have_no_issues(name):
    path = surveys.shipped(name)
    if not path.exists():
        pytest.skip(f"{path} is not written yet")
    report = surveys.check(path)
    assert [str(i) for i in report.issues] == []
    assert report.definition.settings.id == name
    assert report.definition.settings.languages == ("es", "en")


@pytest.mark.parametrize("name", NAMES)
def test_complete_sample_answers_pass(name):
    definition = load(name)
    rng = random.Random(name)
    for _ in range(100):
        result = surveys.validate(definition, sample_answers(definition, rng))
        assert result.ok, result.errors


def answers_with(definition, field, seed=0):
    """A complete valid answer set in which `field` is relevant and answered."""
    rng = random.Random(seed)
    for _ in range(500):
        answers = sample_answers(definition, rng)
        if field in answers:
            return answers
    raise AssertionError(f"no sample answers {field}")


def paths(result):
    return [(e.path, e.code) for e in result.errors]


def test_gobierno_targeted_mistakes():
    d = load("gobierno")
    answers = answers_with(d, "ai_requests_answered")
    answers["ai_requests_received"] = 5
    answers["ai_requests_answered"] = 9
    assert ("ai_requests_answered", "constraint") in paths(surveys.validate(d, answers))
    answers = answers_with(d, "resp_email")
    answers["resp_email"] = "no-es-un-correo"
    assert paths(surveys.validate(d, answers)) == [("resp_email", "constraint")]
    answers = answers_with(d, "ai_unit_evidence")
    answers["ai_unit_evidence"] = "sin liga"
    assert paths(surveys.validate(d, answers)) == [("ai_unit_evidence", "url")]
    del answers["ai_unit_evidence"]
    assert paths(surveys.validate(d, answers)) == [("ai_unit_evidence", "required")]
    answers["ai_channels"] = ["pnt", "fax"]
    assert ("ai_channels", "not_in_list") in paths(surveys.validate(d, answers))
    assert ("hacked", "unknown_field") in paths(surveys.validate(d, {**answers, "hacked": "1"}))


def test_ciudadana_targeted_mistakes():
    d = load("ciudadana")
    repeat = next(iter(d.repeats))
    answers = answers_with(d, repeat)
    one = {**answers, repeat: answers[repeat][:1]}
    assert (repeat, "min_count") in paths(surveys.validate(d, one))
    assert surveys.validate(d, one, partial=True).ok
    answers = answers_with(d, repeat, seed=3)
    instances = answers[repeat]
    i = next(i for i, inst in enumerate(instances) if "tc_answer_date" in inst)
    instances[i]["tc_answer_date"] = "2000-01-01"
    assert paths(surveys.validate(d, answers)) == [(f"{repeat}[{i}].tc_answer_date", "constraint")]


def test_condiciones_targeted_mistakes():
    d = load("condiciones")
    field = "cd_cocreation_year" if "cd_cocreation_year" in d.fields else None
    if field is None:
        pytest.skip("no co-creation year question")
    answers = answers_with(d, field)
    answers[field] = 2010
    assert paths(surveys.validate(d, answers)) == [(field, "constraint")]
    answers[field] = "dos mil"
    assert paths(surveys.validate(d, answers)) == [(field, "integer")]
