"""Compile an AST once into nested Python closures `f(values, current)` (no eval/exec)."""
from __future__ import annotations

import math
import operator
from collections.abc import Callable

from surveys.expressions import runtime as rt
from surveys.expressions.nodes import (
    Binary,
    Call,
    Column,
    Current,
    Literal,
    Node,
    Parent,
    Ref,
    Unary,
)

Fn = Callable[[object, object], object]

# Functions whose arguments are all evaluated before the call.
_EAGER: dict[str, Callable[..., object]] = {
    "selected": rt.selected,
    "selected-at": rt.selected_at,
    "count-selected": rt.count_selected,
    "concat": lambda *a: "".join(rt.to_str(rt.finish(x)) for x in a),
    "join": rt.join,
    "string-length": lambda s: len(rt.to_str(rt.finish(s))),
    "regex": rt.regex,
    "contains": lambda a, b: rt.to_str(b) in rt.to_str(a),
    "starts-with": lambda a, b: rt.to_str(a).startswith(rt.to_str(b)),
    "ends-with": lambda a, b: rt.to_str(a).endswith(rt.to_str(b)),
    "substr": rt.substr,
    "int": rt.to_int,
    "number": rt.to_number,
    "string": lambda x: rt.to_str(rt.finish(x)),
    "boolean": rt.to_bool,
    "not": lambda x: not rt.to_bool(x),
    "round": rt.round_half_up,
    "floor": rt.fn_floor,
    "ceiling": rt.fn_ceiling,
    "abs": rt.fn_abs,
    "pow": rt.fn_pow,
    "date": rt.to_date,
    "decimal-date-time": rt.decimal_date_time,
    "business-days": rt.business_days,
    "sum": rt.fn_sum,
    "count": rt.fn_count,
    "min": rt.fn_min,
    "max": rt.fn_max,
}

_ARITHMETIC = {"+": rt.add, "-": rt.sub, "*": rt.mul, "div": rt.div, "mod": rt.mod}
_RELATIONAL = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

POSITION_KEY = "@position"


def _is_plain_text(value: object) -> bool:
    """A non-empty string literal that is neither a number nor a date."""
    return isinstance(value, str) and value != "" and math.isnan(rt.to_number(value))


def compile_node(node: Node) -> Fn:
    """A closure computing `node` from (values, current)."""
    if isinstance(node, Literal):
        value = node.value
        return lambda v, c: value
    if isinstance(node, Ref):
        name = node.name

        def ref(v, c):
            x = v.get(name)
            return "" if x is None else x

        return ref
    if isinstance(node, Current):
        return lambda v, c: "" if c is None else c
    if isinstance(node, Parent):
        return lambda v, c: v.get(POSITION_KEY, "")
    if isinstance(node, Column):
        name = node.name

        def column(v, c):
            if isinstance(c, dict):
                x = c.get(name)
                return "" if x is None else x
            return ""

        return column
    if isinstance(node, Unary):
        operand = compile_node(node.operand)
        return lambda v, c: rt.neg(operand(v, c))
    if isinstance(node, Binary):
        return _compile_binary(node)
    if isinstance(node, Call):
        return _compile_call(node)
    raise TypeError(f"not an expression node: {node!r}")


def _compile_binary(node: Binary) -> Fn:
    op = node.op
    left, right = compile_node(node.left), compile_node(node.right)
    to_bool = rt.to_bool
    if op == "and":
        return lambda v, c: to_bool(left(v, c)) and to_bool(right(v, c))
    if op == "or":
        return lambda v, c: to_bool(left(v, c)) or to_bool(right(v, c))
    if op in ("=", "!="):
        equals = rt.equals
        negate = op == "!="
        if isinstance(node.right, Literal) and _is_plain_text(node.right.value):
            # Fast path for the common `${x} = 'yes'`: a str compares as text, the rest
            # follows the general rule.
            lit = node.right.value
            if negate:

                def not_equal_text(v, c):
                    a = left(v, c)
                    return a != lit if a.__class__ is str else not equals(a, lit)

                return not_equal_text

            def equal_text(v, c):
                a = left(v, c)
                return a == lit if a.__class__ is str else equals(a, lit)

            return equal_text
        if negate:
            return lambda v, c: not equals(left(v, c), right(v, c))
        return lambda v, c: equals(left(v, c), right(v, c))
    if op in _RELATIONAL:
        compare = rt.compare
        py_op = _RELATIONAL[op]
        if isinstance(node.right, Literal) and isinstance(node.right.value, int | float):
            lit = node.right.value

            def relational_number(v, c):
                a = left(v, c)
                cls = a.__class__
                if cls is int or cls is float:
                    return py_op(a, lit)
                return compare(a, lit, op)

            return relational_number

        def relational(v, c):
            a, b = left(v, c), right(v, c)
            if (a.__class__ is int or a.__class__ is float) and (
                b.__class__ is int or b.__class__ is float
            ):
                return py_op(a, b)
            return compare(a, b, op)

        return relational
    fn = _ARITHMETIC[op]
    return lambda v, c: fn(left(v, c), right(v, c))


def _compile_call(node: Call) -> Fn:
    name = node.name
    args = [compile_node(a) for a in node.args]
    if name == "if":
        cond, then, other = args
        to_bool = rt.to_bool
        return lambda v, c: then(v, c) if to_bool(cond(v, c)) else other(v, c)
    if name == "coalesce":
        first, second = args
        is_empty = rt.is_empty

        def coalesce(v, c):
            a = first(v, c)
            return second(v, c) if is_empty(a) else a

        return coalesce
    if name == "today":
        return lambda v, c: rt.today()
    if name == "true":
        return lambda v, c: True
    if name == "false":
        return lambda v, c: False
    if name == "position":
        return lambda v, c: v.get(POSITION_KEY, rt.NAN)
    fn = _EAGER[name]
    if len(args) == 1:
        (a0,) = args
        return lambda v, c: fn(a0(v, c))
    if len(args) == 2:
        a0, a1 = args
        return lambda v, c: fn(a0(v, c), a1(v, c))
    return lambda v, c: fn(*[a(v, c) for a in args])
