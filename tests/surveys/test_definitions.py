"""Native YAML definitions: located issues for bad input, the model, hashing."""
from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import surveys
from surveys import IssueCode

HEAD = """\
settings:
  id: demo
  version: "1"
  languages: [es, en]
choices:
  channels:
    - {name: pnt, label: {es: PNT, en: PNT}}
    - {name: email, label: {es: Correo, en: E-mail}}
survey:
"""


def codes(text: str) -> list[tuple[str, int | None, str | None]]:
    """(code, line, field) of every issue, for a definition given as YAML text."""
    report = surveys.check_text(textwrap.dedent(text), filename="demo.yaml")
    return [(i.code.name, i.line, i.field) for i in report.issues]


# (survey items appended to HEAD at line 10, expected (code, line, field) issues)
CASES = [
    (
        "  - {type: integer, name: a, label: A, relevant: '${b} >'}\n",
        [("EXPRESSION_SYNTAX", 10, "a")],
    ),
    (
        "  - {type: integer, name: a, label: A}\n  - {type: text, name: a, label: B}\n",
        [("DUPLICATE_NAME", 11, "a")],
    ),
    ("  - {type: geopoint, name: g, label: G}\n", [("UNSUPPORTED_TYPE", 10, "g")]),
    ("  - {type: number, name: g, label: G}\n", [("UNKNOWN_TYPE", 10, "g")]),
    ("  - {type: select_one, name: s, label: S}\n", [("MISSING_LIST", 10, "s")]),
    ("  - {type: select_one colours, name: s, label: S}\n", [("UNKNOWN_LIST", 10, "s")]),
    (
        "  - {type: integer, name: a, label: A, relevant: '${nope} = 1'}\n",
        [("UNKNOWN_REFERENCE", 10, "a")],
    ),
    (
        "  - type: calculate\n    name: x\n    calculation: ${y} + 1\n"
        "  - type: calculate\n    name: y\n    calculation: ${x} * 2\n",
        [("CYCLE", 10, "x")],
    ),
    (
        "  - {type: integer, name: a, label: A, relevent: '${a} > 1'}\n",
        [("UNKNOWN_KEY", 10, "a")],
    ),
    ("  - {type: integer, name: 1a, label: A}\n", [("INVALID_NAME", 10, None)]),
    ("  - {type: integer, name: a, label: A, default: many}\n", [("INVALID_DEFAULT", 10, "a")]),
    ("  - {type: select_one channels, name: a, label: A, default: fax}\n", [("INVALID_DEFAULT", 10, "a")]),
    ("  - {type: date, name: a, label: A, default: '2025-02-30'}\n", [("INVALID_DEFAULT", 10, "a")]),
    ("  - {type: range, name: a, label: A, parameters: 'start=10 end=1'}\n", [("INVALID_PARAMETERS", 10, "a")]),
    ("  - {type: range, name: a, label: A, parameters: 'from=1'}\n", [("INVALID_PARAMETERS", 10, "a")]),
    ("  - {type: calculate, name: c}\n", [("MISSING_CALCULATION", 10, "c")]),
    ("  - {type: integer, name: a, label: A, relevant: '. > 1'}\n", [("CURRENT_NOT_ALLOWED", 10, "a")]),
    ("  - {type: integer, name: a, label: A, relevant: 'a > 1'}\n", [("BARE_NAME", 10, "a")]),
    (
        "  - {type: select_one channels, name: a, label: A, choice_filter: 'region = 1'}\n",
        [("UNKNOWN_CHOICE_COLUMN", 10, "a")],
    ),
    ("  - {type: integer, name: a}\n", [("MISSING_LABEL", 10, "a")]),
    ("  - {type: integer, name: a, label: {es: A}}\n", [("MISSING_TRANSLATION", 10, "a")]),
    ("  - {type: integer, name: a, label: {es: A, en: A, fr: A}}\n", [("UNKNOWN_LANGUAGE", 10, "a")]),
    (
        "  - type: group\n    name: g\n    label: G\n    children:\n"
        "      - {type: integer, name: a, label: A}\n"
        "  - {type: integer, name: b, label: B, relevant: '${g} = 1'}\n",
        [("GROUP_REFERENCE", 15, "b")],
    ),
    (
        "  - type: repeat\n    name: r\n    label: R\n    children:\n"
        "      - {type: integer, name: n, label: N}\n"
        "      - type: repeat\n        name: inner\n        label: I\n        children: []\n",
        [("NESTED_REPEAT", 15, "inner")],
    ),
    (
        "  - type: repeat\n    name: r\n    label: R\n    children:\n"
        "      - {type: integer, name: n, label: N}\n"
        "  - {type: integer, name: b, label: B, relevant: '${n} > 1'}\n"
        "  - {type: calculate, name: total, calculation: 'sum(${n}) + count(${r})'}\n",
        [("REPEAT_REFERENCE", 15, "b")],
    ),
    (
        "  - type: repeat\n    name: r\n    label: R\n    min_count: 3\n    max_count: 1\n    children:\n"
        "      - {type: integer, name: n, label: N}\n",
        [("INVALID_COUNT", 13, "r")],
    ),
    (
        "  - {type: integer, name: a, label: A}\n"
        "  - type: repeat\n    name: r\n    label: R\n    repeat_count: '${a} +'\n    children:\n"
        "      - {type: integer, name: n, label: N}\n",
        [("EXPRESSION_SYNTAX", 14, "r")],
    ),
]


@pytest.mark.parametrize(("items", "expected"), CASES)
def test_definition_issues_are_located(items, expected):
    assert codes(HEAD + items) == expected


def test_valid_definition_builds_the_model():
    d = surveys.load_text(
        HEAD
        + textwrap.dedent(
            """\
              - {type: text, name: intro, label: Hola}
              - type: group
                name: ai
                label: {es: Acceso, en: Access}
                relevant: "${intro} != 'skip'"
                children:
                  - {type: yes_no, name: ai_unit, label: U, required: true}
                  - {type: url, name: ai_url, label: URL, required: "${ai_unit} = 'yes'"}
                  - {type: range, name: score, label: S, parameters: "start=0 end=100 step=5"}
              - type: repeat
                name: reqs
                label: R
                repeat_count: 2
                children:
                  - {type: date, name: sent, label: S}
            """
        ),
        filename="demo.yaml",
    )
    assert list(d.fields) == ["intro", "ai_unit", "ai_url", "score", "sent"]
    assert [p.name for p in d.pages] == ["_page_1", "ai", "reqs"]
    url = d.fields["ai_url"]
    assert url.path == "ai/ai_url" and url.source.line == 17
    assert url.required.references == frozenset({"ai_unit"})
    assert d.fields["score"].parameters == {"start": 0.0, "end": 100.0, "step": 5.0}
    assert d.fields["sent"].repeat == "reqs"
    assert d.fields["intro"].label == {"es": "Hola", "en": "Hola"}
    assert d.choices["yes_no"].names == ("yes", "no")


def test_issue_text_is_file_line_field_message_in_both_languages():
    report = surveys.check_text(HEAD + "  - {type: integer, name: a, label: A, relevant: '${zz} = 1'}\n", filename="f.yaml")
    (issue,) = report.issues
    assert str(issue) == "f.yaml:10: a: relevant: ${zz} no es una pregunta del cuestionario"
    assert issue.format("en") == "f.yaml:10: a: relevant: ${zz} is not a question of the questionnaire"
    assert issue.severity == "error" and issue.code is IssueCode.UNKNOWN_REFERENCE


def test_load_raises_with_all_issues():
    with pytest.raises(surveys.DefinitionError) as info:
        surveys.load_text(HEAD + "  - {type: integer, name: a}\n  - {type: integer, name: a}\n")
    assert [i.code for i in info.value.issues if i.is_error] == [IssueCode.DUPLICATE_NAME]


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("settings: {id: x\nsurvey: []\n", "YAML_SYNTAX", 2),
        ("- 1\n- 2\n", "NOT_MAPPING", 1),
        ("just text\n", "NOT_MAPPING", 1),
        ("", "NOT_MAPPING", 1),
        ("settings: {id: x}\nsettings: {id: y}\nsurvey: [{type: text, name: a, label: A}]\n", "DUPLICATE_KEY", 2),
        ("settings: [1]\nsurvey: [{type: text, name: a, label: A}]\n", "WRONG_TYPE", 1),
        ("settings: {id: x, version: 2025.1}\nsurvey: [{type: text, name: a, label: A}]\n", "WRONG_TYPE", 1),
        ("settings: {id: x, unit: city}\nsurvey: [{type: text, name: a, label: A}]\n", "INVALID_SETTING", 1),
        ("settings: {id: x}\nsurvey: {a: 1}\n", "WRONG_TYPE", 2),
        ("settings: {id: x}\nsurvey: [1, 2]\n", "WRONG_TYPE", 2),
        ("settings: {id: x}\nsurvey: []\n", "EMPTY_SURVEY", 1),
        ("settings: {id: x}\nchoices: {c: []}\nsurvey: [{type: text, name: a, label: A}]\n", "EMPTY_LIST", 2),
        ("settings: {id: x}\nsurvey: [{type: text, name: a, label: A}]\nextra: 1\n", "UNKNOWN_KEY", 3),
        ("&a [*a]\n", "YAML_SYNTAX", 1),
    ],
)
def test_broken_documents(text, code, line):
    report = surveys.check_text(text, filename="bad.yaml")
    assert report.definition is None
    assert (report.issues[0].code.name, report.issues[0].line) == (code, line)


def test_bad_files(tmp_path):
    binary = tmp_path / "photo.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("settings:\n  id: x\n  title: Diagnóstico\n".encode("latin-1"))
    other = tmp_path / "form.json"
    other.write_text("{}")
    report = surveys.check(binary)
    assert [i.code for i in report.issues] == [IssueCode.BINARY_FILE]
    report = surveys.check(latin)
    assert [(i.code, i.line) for i in report.issues] == [(IssueCode.NOT_UTF8, 3)]
    assert [i.code for i in surveys.check(other).issues] == [IssueCode.UNSUPPORTED_FILE]
    assert [i.code for i in surveys.check(tmp_path / "missing.yaml").issues] == [IssueCode.FILE_NOT_FOUND]
    with pytest.raises(surveys.DefinitionError):
        surveys.load(binary)


def test_content_hash_ignores_whitespace_comments_and_key_order():
    a = HEAD + "  - {type: integer, name: a, label: A, constraint: '. >= 0'}\n"
    b = (
        "# a comment\nsurvey:\n  - constraint: \".>=0\"\n    label: A\n    name: a\n    type: integer\n"
        "choices:\n  channels:\n    - {label: {en: PNT, es: PNT}, name: pnt}\n"
        "    - {name: email, label: {es: Correo, en: E-mail}}\n"
        "settings: {languages: [es, en], version: '1', id: demo}\n"
    )
    c = a.replace("'. >= 0'", "'. >= 1'")
    ha, hb, hc = (surveys.content_hash(surveys.load_text(t)) for t in (a, b, c))
    assert ha == hb != hc
    assert ha.startswith("sha256:") and len(ha) == 7 + 64


def test_to_dict_is_plain_and_normalised():
    d = surveys.load_text(HEAD + "  - {type: select_multiple channels, name: m, label: M, relevant: '${x}=1'}\n"
                          "  - {type: integer, name: x, label: X}\n")
    data = surveys.to_dict(d)
    assert data["survey"][0] == {"name": "m", "type": "select_multiple channels",
                                 "label": {"es": "M", "en": "M"}, "relevant": "(${x} = 1)"}
    assert "yes_no" not in data["choices"]


_KEYS = st.sampled_from(["type", "name", "label", "relevant", "required", "children", "calculation",
                         "constraint", "default", "parameters", "repeat_count", "choice_filter", "x"])
_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True),
        st.sampled_from(["text", "integer", "group", "repeat", "select_one channels", "calculate", "a", "b",
                         "${a} > 1", "${b}", "sum(${a})", ".", "start=1 end=5", "geopoint", "", "${"]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=12,
)


@settings(max_examples=200)
@given(st.lists(st.dictionaries(_KEYS, _VALUES, max_size=6), max_size=5))
def test_random_definitions_give_issues_not_tracebacks(items):
    import yaml

    text = yaml.safe_dump({"settings": {"id": "x"}, "survey": items})
    report = surveys.check_text(text)
    for issue in report.issues:
        assert issue.message_es and issue.message_en and str(issue).startswith("<string>:")
    if report.definition is not None:
        surveys.validate(report.definition, {})


@settings(max_examples=150)
@given(st.text(max_size=200))
def test_random_text_never_raises(text):
    report = surveys.check_text(text)
    assert report.definition is None or report.ok
