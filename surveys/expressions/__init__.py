"""The XLSForm/ODK expression subset: `parse(text)` to an `Expression`, then `.evaluate(values)`.

`${field}`, `.`, numbers, strings, `+ - * div mod`, unary minus, comparisons, `and`, `or`,
and the functions in `parser.ARITY`. Expressions are parsed to an AST and compiled once to
Python closures. See `runtime` for the treatment of empty values, numbers and dates.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surveys.expressions.compiler import POSITION_KEY, compile_node
from surveys.expressions.errors import ExpressionError
from surveys.expressions.nodes import (
    Call,
    Column,
    Current,
    Node,
    Ref,
    aggregated_refs,
    scalar_refs,
    walk,
)
from surveys.expressions.parser import ARITY, parse_tree
from surveys.expressions.runtime import business_days, finish, holidays, set_today

__all__ = [
    "ARITY",
    "POSITION_KEY",
    "Expression",
    "ExpressionError",
    "business_days",
    "holidays",
    "parse",
    "set_today",
]


class Expression:
    """A parsed and compiled expression."""

    __slots__ = (
        "text",
        "tree",
        "references",
        "scalar_references",
        "aggregated_references",
        "columns",
        "uses_current",
        "functions",
        "canonical",
        "_fn",
    )

    def __init__(self, text: str, tree: Node) -> None:
        self.text = text
        self.tree = tree
        nodes = list(walk(tree))
        self.references: frozenset[str] = frozenset(n.name for n in nodes if isinstance(n, Ref))
        self.scalar_references: frozenset[str] = frozenset(scalar_refs(tree))
        self.aggregated_references: frozenset[str] = frozenset(aggregated_refs(tree))
        self.columns: frozenset[str] = frozenset(n.name for n in nodes if isinstance(n, Column))
        self.uses_current = any(isinstance(n, Current) for n in nodes)
        self.functions: frozenset[str] = frozenset(n.name for n in nodes if isinstance(n, Call))
        self.canonical = tree.unparse()
        self._fn = compile_node(tree)

    def evaluate(self, values: Mapping[str, Any], current: Any = None) -> Any:
        """The value of the expression for `values` (field name -> typed value); NaN is ''."""
        return finish(self._fn(values, current))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other.canonical == self.canonical

    def __hash__(self) -> int:
        return hash(self.canonical)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __str__(self) -> str:
        return self.text


def parse(text: str) -> Expression:
    """Parse and compile an expression; raises `ExpressionError(message_es, message_en, column)`."""
    return Expression(text, parse_tree(text))
