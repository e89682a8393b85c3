"""An expression as a small JSON syntax tree, for the browser evaluator in `static/respond.js`.

Nodes: `{"k": "lit", "v": value}`, `{"k": "ref", "n": name}` (`${name}`), `{"k": "cur"}` (`.`),
`{"k": "neg", "a": node}`, `{"k": "bin", "op": op, "l": node, "r": node}`,
`{"k": "call", "f": name, "a": [node, ...]}`; anything else is `{"k": "unknown"}`, which
the browser leaves to the server (it always re-checks).
"""
from __future__ import annotations

from surveys.expressions import Expression, nodes


def json_tree(expression: Expression | bool | None) -> object | None:
    """The JSON-able tree of an expression (None and booleans pass through)."""
    if expression is None or isinstance(expression, bool):
        return expression
    return node_json(expression.tree)


def node_json(node: nodes.Node) -> dict:
    """The JSON-able tree of one syntax node."""
    if isinstance(node, nodes.Literal):
        return {"k": "lit", "v": node.value}
    if isinstance(node, nodes.Ref):
        return {"k": "ref", "n": node.name}
    if isinstance(node, nodes.Current):
        return {"k": "cur"}
    if isinstance(node, nodes.Unary):
        return {"k": "neg", "a": node_json(node.operand)}
    if isinstance(node, nodes.Binary):
        return {"k": "bin", "op": node.op, "l": node_json(node.left), "r": node_json(node.right)}
    if isinstance(node, nodes.Call):
        return {"k": "call", "f": node.name, "a": [node_json(a) for a in node.args]}
    return {"k": "unknown"}
