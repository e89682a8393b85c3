"""Expressions exported as the JSON syntax tree that static/respond.js evaluates in the browser."""
from __future__ import annotations

import json

import pytest

from surveys.expressions import parse
from surveys.expressions.export import json_tree


@pytest.mark.parametrize(("text", "tree"), [
    ("'sí'", {"k": "lit", "v": "sí"}),
    ("2.5", {"k": "lit", "v": 2.5}),
    ("${received}", {"k": "ref", "n": "received"}),
    (".", {"k": "cur"}),
    ("-${a}", {"k": "neg", "a": {"k": "ref", "n": "a"}}),
    (". <= ${received}", {"k": "bin", "op": "<=", "l": {"k": "cur"}, "r": {"k": "ref", "n": "received"}}),
    ("${a} = 'yes' and ${b} != 1", {"k": "bin", "op": "and",
                                    "l": {"k": "bin", "op": "=", "l": {"k": "ref", "n": "a"}, "r": {"k": "lit", "v": "yes"}},
                                    "r": {"k": "bin", "op": "!=", "l": {"k": "ref", "n": "b"}, "r": {"k": "lit", "v": 1}}}),
    ("selected(${m}, 'pnt')", {"k": "call", "f": "selected", "a": [{"k": "ref", "n": "m"}, {"k": "lit", "v": "pnt"}]}),
    ("true()", {"k": "call", "f": "true", "a": []}),
    ("position(..)", {"k": "call", "f": "position", "a": [{"k": "unknown"}]}),  # left to the server
])
def test_each_node_kind_is_exported(text, tree):
    exported = json_tree(parse(text))
    assert exported == tree
    assert json.loads(json.dumps(exported)) == tree  # JSON as is


@pytest.mark.parametrize("value", [None, True, False])
def test_absent_and_constant_relevance_pass_through(value):
    assert json_tree(value) is value
