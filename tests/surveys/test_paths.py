"""Answer paths and blank answers: the grammar every writer and reader of answers shares."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.coerce import is_blank
from surveys.paths import PathError, get_path, parse_path, set_path

NAMES = st.from_regex(r"[A-Za-z_][\w.-]{0,12}", fullmatch=True).filter(lambda s: "[" not in s)


@pytest.mark.parametrize(("path", "parts"), [
    ("ai_unit", (None, None, "ai_unit")),
    ("requests[0].sent", ("requests", 0, "sent")),
    ("requests[12].sent", ("requests", 12, "sent")),
    ("grupo.sub-campo", (None, None, "grupo.sub-campo")),
])
def test_paths_name_a_field_or_a_field_of_one_repeat_instance(path, parts):
    assert parse_path(path) == parts


@pytest.mark.parametrize("path", ["", "1abc", "requests[].sent", "requests[1000].sent", "requests[0]",
                                  "requests[0].", "a b", "r[0].x[1].y", None, 3])
def test_anything_else_is_not_a_path(path):
    with pytest.raises(PathError):
        parse_path(path)


@given(repeat=NAMES, index=st.integers(0, 999), name=NAMES, value=st.text(min_size=1).filter(str.strip))
def test_a_value_set_at_a_path_is_read_back_at_that_path(repeat, index, name, value):
    answers: dict = {}
    set_path(answers, name, value)
    assert get_path(answers, name) == value
    if repeat != name:
        path = f"{repeat}[{index}].{name}"
        set_path(answers, path, value)
        assert parse_path(path) == (repeat, index, name)
        assert get_path(answers, path) == value
        assert len(answers[repeat]) == index + 1  # earlier instances exist, empty
        assert all(instance == {} for instance in answers[repeat][:index])


def test_a_blank_value_removes_what_was_there():
    answers = {"a": "x", "reps": [{"b": "y", "c": "z"}]}
    set_path(answers, "a", "  ")
    set_path(answers, "reps[0].b", [])
    set_path(answers, "reps[0].c", None)
    assert answers == {"reps": [{}]}
    assert get_path(answers, "a") is None and get_path(answers, "reps[3].b") is None


def test_a_repeat_stored_as_something_else_is_replaced_by_a_list():
    answers = {"reps": "broken"}
    set_path(answers, "reps[1].b", "y")
    assert answers == {"reps": [{}, {"b": "y"}]}
    assert get_path({"reps": ["broken"]}, "reps[0].b") is None


@pytest.mark.parametrize(("value", "blank"), [
    (None, True), ("", True), ("   \t\n", True), ([], True), ((), True), (["", " "], True), ([None], True),
    ("0", False), (0, False), (0.0, False), (False, False), ("no", False), (["", "pnt"], False),
    (" x ", False), (float("nan"), False),  # NaN is a typed value: empty only to expressions
])
def test_blank_means_no_answer_given(value, blank):
    assert is_blank(value) is blank
