"""Answer validation: coercion, skip logic, required, constraints, repeats, drafts, forged fields."""
from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import surveys
from surveys.sample import sample_answers

FORM = """\
settings: {id: demo, version: "1", languages: [es, en]}
choices:
  channels:
    - {name: pnt, label: PNT}
    - {name: email, label: Correo}
    - {name: none, label: Ninguno}
  states:
    - {name: jal, label: Jalisco, region: west}
    - {name: son, label: Sonora, region: north}
  regions:
    - {name: west, label: Occidente}
    - {name: north, label: Norte}
survey:
  - type: group
    name: ai
    label: Acceso
    children:
      - {type: yes_no, name: ai_unit, label: U, required: true}
      - {type: url, name: ai_url, label: URL, required: true, relevant: "${ai_unit} = 'yes'"}
      - {type: select_multiple channels, name: ai_channels, label: C,
         constraint: "not(selected(., 'none') and count-selected(.) > 1)",
         constraint_message: {es: "'Ninguno' va solo", en: "'None' goes alone"}}
      - {type: integer, name: received, label: R, required: true, constraint: ". >= 0"}
      - {type: integer, name: answered, label: A, required: "${received} > 0", constraint: ". <= ${received}"}
      - type: calculate
        name: share
        calculation: "if(${received} > 0, ${answered} div ${received}, '')"
  - type: group
    name: extra
    label: Extra
    relevant: "${ai_unit} = 'yes'"
    children:
      - {type: text, name: notes, label: N, required: true}
      - {type: range, name: score, label: S, parameters: "start=0 end=10 step=2"}
      - {type: select_one regions, name: region, label: Reg}
      - {type: select_one states, name: state, label: St, choice_filter: "region = ${region}"}
      - {type: decimal, name: ratio, label: Ra, default: 0.5}
  - type: repeat
    name: requests
    label: Solicitudes
    min_count: 2
    max_count: 3
    children:
      - {type: date, name: sent, label: Enviada, required: true}
      - {type: yes_no, name: got, label: Respondida, required: true}
      - {type: date, name: reply, label: Respuesta, required: true, relevant: "${got} = 'yes'",
         constraint: ". >= ${sent}"}
      - {type: calculate, name: days, calculation: "business-days(${sent}, ${reply})"}
  - {type: calculate, name: fast, calculation: "count(${requests})"}
  - {type: calculate, name: total_days, calculation: "sum(${days})"}
"""

REQUESTS = [
    {"sent": "2025-03-14", "got": "yes", "reply": "2025-03-24"},
    {"sent": "2025-03-03", "got": "no"},
]


@pytest.fixture(scope="module")
def form():
    return surveys.load_text(FORM, filename="demo.yaml")


def complete(**changes):
    answers = {
        "ai_unit": "yes", "ai_url": "https://inai.org.mx/x", "ai_channels": "pnt email",
        "received": "10", "answered": "7", "notes": "ok", "score": "4", "region": "west",
        "state": "jal", "requests": [dict(r) for r in REQUESTS],
    }
    answers.update(changes)
    return {k: v for k, v in answers.items() if v is not None}


def errors(result):
    return [(e.path, e.code) for e in result.errors]


def test_complete_answers_pass_with_typed_and_calculated_values(form):
    result = surveys.validate(form, complete())
    assert result.ok, result.errors
    v = result.values
    assert v["received"] == 10 and v["answered"] == 7 and v["share"] == 0.7
    assert v["ai_channels"] == ["pnt", "email"]
    assert v["ratio"] == 0.5  # default for an absent question
    assert v["requests"][0] == {"sent": dt.date(2025, 3, 14), "got": "yes", "reply": dt.date(2025, 3, 24), "days": 5}
    assert v["requests"][1] == {"sent": dt.date(2025, 3, 3), "got": "no"}
    assert v["fast"] == 2
    assert "total_days" not in v  # sum() over an instance with no reply is empty, as in ODK
    assert result.relevant["requests[1].reply"] is False and result.relevant["extra"] is True


def test_typed_json_values_are_accepted(form):
    result = surveys.validate(form, complete(received=10, answered=7.0, ai_channels=["pnt"], score=4,
                                             requests=[{"sent": dt.date(2025, 1, 2), "got": "no"}] * 2))
    assert result.ok, result.errors


def test_skip_logic_drops_irrelevant_answers_and_their_errors(form):
    result = surveys.validate(form, complete(ai_unit="no", ai_url="not a url", notes="", score="99"))
    assert result.ok, result.errors
    assert "ai_url" not in result.values and "notes" not in result.values
    assert result.relevant["ai_url"] is False and result.relevant["notes"] is False


def test_required_plain_and_conditional(form):
    result = surveys.validate(form, complete(ai_url="", answered=""))
    assert errors(result) == [("ai_url", "required"), ("answered", "required")]
    assert result.errors[0].message_es == "esta respuesta es obligatoria"
    assert surveys.validate(form, complete(received="0", answered="")).ok


def test_constraint_messages_and_current_value(form):
    result = surveys.validate(form, complete(answered="11", ai_channels=["none", "pnt"]))
    assert errors(result) == [("ai_channels", "constraint"), ("answered", "constraint")]
    assert result.errors[0].message_es == "'Ninguno' va solo"
    assert result.errors[0].message_en == "'None' goes alone"
    assert "${received}" in result.errors[1].message_en


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("received", "diez", "integer"),
        ("received", "2.5", "integer"),
        ("received", True, "integer"),
        ("ai_url", "ftp://x.mx", "url"),
        ("ai_url", "www.x.mx", "url"),
        ("ai_unit", "maybe", "not_in_list"),
        ("ai_channels", "pnt fax", "not_in_list"),
        ("score", "11", "range"),
        ("score", "3", "step"),
        ("score", "x", "decimal"),
        ("state", "son", "choice_filter"),
    ],
)
def test_type_errors_name_the_field(form, field, value, code):
    result = surveys.validate(form, complete(**{field: value}))
    assert errors(result)[0] == (field, code)
    assert result.errors[0].message_es and result.errors[0].message_en


def test_dates_in_repeats_and_instance_paths(form):
    bad = [{"sent": "2025-03-14", "got": "yes", "reply": "2025-03-01"}, {"sent": "2025-02-30", "got": "no"}]
    result = surveys.validate(form, complete(requests=bad))
    assert errors(result) == [("requests[1].sent", "date"), ("requests[0].reply", "constraint")] or sorted(
        errors(result)
    ) == [("requests[0].reply", "constraint"), ("requests[1].sent", "date")]


def test_repeat_counts(form):
    one = complete(requests=[REQUESTS[1]])
    assert errors(surveys.validate(form, one)) == [("requests", "min_count")]
    assert surveys.validate(form, one, partial=True).ok
    four = complete(requests=[REQUESTS[1]] * 4)
    assert errors(surveys.validate(form, four, partial=True)) == [("requests", "max_count")]
    assert errors(surveys.validate(form, complete(requests="x"))) == [("requests", "repeat_type"), ("requests", "min_count")]


def test_fixed_and_expression_repeat_counts():
    text = """\
settings: {id: r}
survey:
  - {type: integer, name: n, label: N}
  - type: repeat
    name: fixed
    label: F
    repeat_count: 2
    children: [{type: text, name: a, label: A}]
  - type: repeat
    name: dyn
    label: D
    repeat_count: "${n}"
    children: [{type: text, name: b, label: B, relevant: "position(..) > 1"}]
"""
    d = surveys.load_text(text)
    ok = surveys.validate(d, {"n": "3", "fixed": [{"a": "x"}, {"a": "y"}], "dyn": [{}, {"b": "q"}, {"b": "r"}]})
    assert ok.ok, ok.errors
    assert ok.relevant["dyn[0].b"] is False and ok.relevant["dyn[1].b"] is True
    bad = surveys.validate(d, {"n": "1", "fixed": [{"a": "x"}], "dyn": [{}, {}]})
    assert [(e.path, e.code) for e in bad.errors] == [("fixed", "repeat_count"), ("dyn", "repeat_count")]


def test_partial_mode_skips_required_and_checks_waiting_for_answers(form):
    draft = {"ai_unit": "yes", "received": "-1"}
    result = surveys.validate(form, draft, partial=True)
    assert errors(result) == [("received", "constraint")]
    assert ("ai_url", "required") in errors(surveys.validate(form, draft))
    waiting = {"answered": "5"}  # its constraint reads `received`, not answered yet
    assert surveys.validate(form, waiting, partial=True).ok
    assert ("answered", "constraint") in errors(surveys.validate(form, waiting))


def test_forged_fields_are_rejected(form):
    result = surveys.validate(form, complete(is_admin="1", requests=[{**REQUESTS[1], "x": "1"}, REQUESTS[1]]))
    assert ("is_admin", "unknown_field") in errors(result)
    assert ("requests[0].x", "unknown_field") in errors(result)
    assert ("ai", "unknown_field") in errors(surveys.validate(form, complete(ai="x")))


def test_calculated_values_cannot_be_forged(form):
    result = surveys.validate(form, complete(share="99"))
    assert result.ok and result.values["share"] == 0.7


def test_absent_default_applies_but_an_explicit_empty_answer_stays_empty(form):
    assert surveys.validate(form, complete()).values["ratio"] == 0.5
    assert "ratio" not in surveys.validate(form, complete(ratio="")).values


def test_answers_must_be_a_mapping(form):
    assert errors(surveys.validate(form, ["x"])) == [("", "answers_type")]


def test_flatten_and_unflatten_round_trip(form):
    values = surveys.validate(form, complete()).values
    rows = surveys.flatten(values)
    assert ("ai_channels", None, "pnt email") in rows
    assert ("share", None, "0.7") in rows
    assert ("requests.sent", 0, "2025-03-14") in rows
    again = surveys.validate(form, {k: v for k, v in surveys.unflatten(rows).items()})
    assert again.ok, again.errors
    assert again.values == values


def test_sample_answers_are_valid_and_respect_completeness(form):
    rng = random.Random(7)
    for _ in range(50):
        answers = sample_answers(form, rng)
        assert surveys.validate(form, answers).ok
    sparse = [sample_answers(form, rng, completeness=0.3) for _ in range(30)]
    assert any(not surveys.validate(form, a).ok for a in sparse)
    assert all(surveys.validate(form, a, partial=True).ok for a in sparse)


_FIELDS = ["ai_unit", "ai_url", "ai_channels", "received", "answered", "share", "notes", "score",
           "region", "state", "ratio", "requests", "fast", "forged", "ai"]
_ANSWER = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 20), st.floats(allow_nan=True, allow_infinity=True),
              st.dates(), st.text(max_size=12), st.sampled_from(["yes", "no", "pnt email", "2025-03-03", "jal"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["sent", "got", "reply", "x"]), inner, max_size=4)),
    max_leaves=8,
)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(_FIELDS), _ANSWER, max_size=8), st.booleans())
def test_random_answers_give_field_errors_not_tracebacks(answers, partial):
    form = surveys.load_text(FORM)
    result = surveys.validate(form, answers, partial=partial)
    for error in result.errors:
        assert error.code and error.message_es and error.message_en
    for name in result.values:
        assert name in form.fields or name in form.repeats
