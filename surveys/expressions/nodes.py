"""AST of the expression language; each node prints itself back in canonical form."""
from __future__ import annotations

from dataclasses import dataclass

# Functions whose direct arguments may name a repeat (or a field inside one) from outside it.
AGGREGATE_FUNCTIONS = frozenset({"sum", "count", "min", "max", "join"})


@dataclass(frozen=True, slots=True)
class Literal:
    """A number or string constant."""

    value: object
    column: int

    def unparse(self) -> str:
        """Canonical text."""
        if isinstance(self.value, str):
            quote = '"' if "'" in self.value else "'"
            return f"{quote}{self.value}{quote}"
        return repr(self.value)


@dataclass(frozen=True, slots=True)
class Ref:
    """`${name}`."""

    name: str
    column: int

    def unparse(self) -> str:
        """Canonical text."""
        return "${" + self.name + "}"


@dataclass(frozen=True, slots=True)
class Current:
    """`.`: the value of the question being checked."""

    column: int

    def unparse(self) -> str:
        """Canonical text."""
        return "."


@dataclass(frozen=True, slots=True)
class Parent:
    """`..`: the enclosing repeat instance (only meaningful in `position(..)`)."""

    column: int

    def unparse(self) -> str:
        """Canonical text."""
        return ".."


@dataclass(frozen=True, slots=True)
class Column:
    """A bare name: a column of the choice list (only in `choice_filter`)."""

    name: str
    column: int

    def unparse(self) -> str:
        """Canonical text."""
        return self.name


@dataclass(frozen=True, slots=True)
class Unary:
    """Unary minus."""

    operand: Node
    column: int

    def unparse(self) -> str:
        """Canonical text."""
        return f"-{self.operand.unparse()}"


@dataclass(frozen=True, slots=True)
class Binary:
    """A binary operator: arithmetic, comparison, `and`, `or`."""

    op: str
    left: Node
    right: Node
    column: int

    def unparse(self) -> str:
        """Canonical text."""
        return f"({self.left.unparse()} {self.op} {self.right.unparse()})"


@dataclass(frozen=True, slots=True)
class Call:
    """A function call."""

    name: str
    args: tuple[Node, ...]
    column: int

    def unparse(self) -> str:
        """Canonical text."""
        return f"{self.name}({', '.join(a.unparse() for a in self.args)})"


Node = Literal | Ref | Current | Parent | Column | Unary | Binary | Call


def walk(node: Node):
    """Every node of a tree, depth first."""
    yield node
    if isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)


def aggregated_refs(node: Node) -> set[str]:
    """Names referenced directly as arguments of sum/count/min/max/join."""
    found: set[str] = set()
    for n in walk(node):
        if isinstance(n, Call) and n.name in AGGREGATE_FUNCTIONS:
            found.update(a.name for a in n.args if isinstance(a, Ref))
    return found


def scalar_refs(node: Node) -> set[str]:
    """Names referenced anywhere except directly inside an aggregate function."""
    found: set[str] = set()

    def visit(n: Node, aggregated: bool) -> None:
        if isinstance(n, Ref):
            if not aggregated:
                found.add(n.name)
        elif isinstance(n, Unary):
            visit(n.operand, False)
        elif isinstance(n, Binary):
            visit(n.left, False)
            visit(n.right, False)
        elif isinstance(n, Call):
            for a in n.args:
                visit(a, n.name in AGGREGATE_FUNCTIONS)

    visit(node, False)
    return found
